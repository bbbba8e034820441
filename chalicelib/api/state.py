"""`GET /state` (the seed's `master_state`): what runs now and what ran lately, for dashboards."""
from __future__ import annotations

from chalicelib.domain import permissions
from chalicelib.domain.enums import GraphRunningStatus
from chalicelib.engine import preparation
from chalicelib.store import graph_items
from chalicelib.store.models import GraphModel

RECENT = 20


def _run(model: GraphModel) -> dict:
    return {"graph_id": model.id, "title": model.title, "author": model.author,
            "graph_running_status": model.graph_running_status, "run_id": model.run_id,
            "update_date": model.update_date, "node_count": int(model.node_count or 0),
            "preparing": preparation.preparing(model)}


def snapshot(user: str) -> dict:
    """Active runs, and the latest graphs that ran, that the caller may see."""
    others = permissions.may_view_others(user, permissions.GRAPH)
    query = (GraphModel.by_listing.query if others else GraphModel.by_author.query)
    key = graph_items.LISTING if others else str(user)
    graphs_only = GraphModel.listing == graph_items.LISTING  # the author index holds their trials too
    # a run whose preparation died ends FAILED when next seen (chalicelib/engine/preparation.py): here too
    active = [preparation.reap(m) for m in query(key, scan_index_forward=False, filter_condition=graphs_only
                                                 & GraphModel.graph_running_status.is_in(*GraphRunningStatus.ACTIVE))]
    active = [_run(m) for m in active if m.graph_running_status in GraphRunningStatus.ACTIVE]
    recent = [_run(m) for m in query(key, scan_index_forward=False, limit=RECENT, filter_condition=graphs_only
                                     & (GraphModel.graph_running_status != GraphRunningStatus.CREATED))]
    recent.sort(key=lambda run: run["update_date"] or "", reverse=True)
    return {"active_runs": active, "recent_runs": recent, "active_count": len(active)}
