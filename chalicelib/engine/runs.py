"""Running a graph: APPROVE queues a run and hands it to its preparation (preparation.py), which starts a named
execution; the runner reports node and graph statuses here."""
from __future__ import annotations

import secrets
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain import run_parameters
from chalicelib.domain.enums import GraphRunningStatus, NodeRunningStatus
from chalicelib.domain.errors import ConflictError
from chalicelib.domain.permissions import RunPrincipal
from chalicelib.domain.util import now
from chalicelib.store import run_records
from chalicelib.store.graph_items import load_model, saved_items, unchanged, whole_items
from chalicelib.store.models import CacheModel, GraphModel, GraphNodeModel
from stepfunctions.contract import ErrorName

from . import preparation, quotas, waits
from .settle import stop_executions
from .transitions import IDLE, Moved, end_nodes, move_graph, new_run

# How a run was started, as its record says.
APPROVE, CREATE_RUN, RETRY, SCHEDULE, API = "APPROVE", "CREATE_RUN", "RETRY", "SCHEDULE", "API"


def _run_id(graph_id: str) -> str:
    stamp = now().replace("-", "").replace(":", "").replace(" ", "T").replace(".", "")
    return f"{graph_id[:48]}-{stamp}-{secrets.token_hex(3)}"[:80]


def queue_run(graph_id: str, restored: dict[str, CacheModel] | None = None,
              principal: RunPrincipal | None = None, run_id: str | None = None, quota_user: str | None = None,
              started_by: str | None = None, how: str = API) -> str:
    """Give the stored graph a new run id and queue its operations; refused (409) while a run is active.

    Each queued item carries who the run acts for (`principal`; without one the runner takes the graph's
    author and restores only their own cache entries). `quota_user` holds a concurrent-runs slot for this
    run (quotas.acquire), freed when it ends."""
    model, replaced, _ = _queue(load_model(graph_id), restored or {}, principal=principal, run_id=run_id,
                                quota_user=quota_user, started_by=started_by, how=how)
    _let_go(model, replaced)
    return model.run_id


def _let_go(model: GraphModel, replaced: tuple[str, str] | None) -> None:
    """After a new run: the previous run's nodes if it has no record (queued before records existed), and
    the runs retention no longer keeps (never the new one)."""
    run_records.retain(model.id, model.run_id, replaced)


def _queue(model: GraphModel, restored: dict[str, CacheModel], version: int | None = None,
           principal: RunPrincipal | None = None, run_id: str | None = None,
           quota_user: str | None = None, started_by: str | None = None,
           how: str = API, retry_of: str | None = None, parameters: dict[str, Any] | None = None,
           on_fargate: frozenset[str] = frozenset(), schedule_id: str | None = None,
           prepare_by: str | None = None, nodes_later: bool = False
           ) -> tuple[GraphModel, tuple[str, str] | None, list[GraphNodeModel]]:
    """Queue a run of the header's version (of `version`, if given: the one validated) in a partition of its
    own, record it, then flip the header to it (`prepare_by`: a run whose preparation follows, preparation.py);
    returns the header as flipped, the partition and run id of the run it replaced, and the run's node items as
    written (the answer shows them without reading them back). `nodes_later`: the run's preparation writes
    them (a 10,000-node copy does not fit APPROVE's answer time); the header says so (`nodes_pending`).

    Operations in `restored` are RESTORED right away with the cached outputs and logs; the run's `parameters`
    (`<node_id>.<name>`: value, checked) are set in its nodes, not in the saved graph's.
    """
    graph_id = model.id
    if model.graph_running_status in GraphRunningStatus.ACTIVE:
        raise ConflictError(f"Graph `{graph_id}` is already running")
    if version is not None and version != int(model.version or 0):
        raise ConflictError(_changed(graph_id))
    run_id = run_id or _run_id(graph_id)
    stamp, written = now(), []
    if not nodes_later:
        written = preparation.write_nodes(graph_id, run_id, whole_items(saved_items(model), int(model.node_count or 0)),
                                          restored, principal, parameters, on_fargate, stamp)
    # Its record once its nodes are whole (or, `nodes_later`, shown from its version until they are).
    record = run_records.new_record(
        graph_id, run_id, version=int(model.version or 0), title=model.title, node_count=int(model.node_count or 0),
        started_by=str(started_by or (principal.author if principal else model.author)),
        acting_for=principal.author if principal else model.author, how=how, parameters=dict(parameters or {}), start=stamp,
        retry_of=retry_of, schedule_id=schedule_id)
    new_run(record)
    # The run's nodes are whole before anyone sees them: this one write makes them the graph's run, unless
    # a save (version) or another run (run_id, status) came between our read and now: then a 409.
    try:
        flipped = move_graph(graph_id, IDLE, GraphRunningStatus.READY, condition=unchanged(model), actions=[
            GraphModel.run_id.set(run_id), GraphModel.latest_run.set(run_id), GraphModel.error.remove(),
            GraphModel.nodes_key.set(saved_items(model)), GraphModel.execution_arn.remove(),
            GraphModel.prepare_by.set(prepare_by) if prepare_by else GraphModel.prepare_by.remove(),
            GraphModel.nodes_pending.set(True) if nodes_later else GraphModel.nodes_pending.remove(),
            GraphModel.quota_user.set(quota_user) if quota_user else GraphModel.quota_user.remove()],
            landed=lambda now_is: now_is.run_id == run_id)
    except Moved as exc:  # refused for sure (on any other error the write may have landed: nothing is dropped)
        run_records.delete([record])  # and its nodes
        now_active = load_model(graph_id).graph_running_status in GraphRunningStatus.ACTIVE
        raise ConflictError(f"Graph `{graph_id}` is already running" if now_active else _changed(graph_id)) from exc
    replaced = run_records.replaced_run(model)
    return flipped, replaced, written


def _changed(graph_id: str) -> str:
    return f"Graph `{graph_id}` was changed by someone else while it was approved; reload it and approve it again"


def start_run(graph: dict, principal: RunPrincipal, approver: str, how: str = APPROVE,
              retry_of: str | None = None, parameters: dict[str, Any] | None = None,
              schedule_id: str | None = None, queued: list | None = None) -> str:
    """Queue a run of `graph` for `principal` and hand it to its preparation; returns the new run's id (and
    appends to `queued`, if given, the header as flipped and the run's node items as written).

    Only what must answer the request happens here (API Gateway ends it after 29 s): the approver's quotas
    (the graph's size: 400; a concurrent-runs slot: 400 when none is free, held by the run until it ends),
    the run's record and its queued operations (READY, preparing). The cache planning, compile, state machines
    and the start follow asynchronously (chalicelib/engine/preparation.py); a failure there ends the run FAILED.

    The run is of the stored version `graph` is (its `_version`): a save since is a 409, not a run of
    nodes other than the ones queued. `parameters` are the run's values (run_parameters.check'ed): the cache
    plans, and the runner runs, the nodes with them.
    """
    graph = run_parameters.apply(graph, parameters or {})
    quotas.check_size(graph, approver)
    run_id = _run_id(graph["_id"])
    holder = quotas.acquire(approver, graph["_id"], run_id)
    try:
        model, replaced, items = _queue(load_model(graph["_id"]), {}, graph.get("_version"), principal, run_id, holder,
                                 started_by=str(approver), how=how, retry_of=retry_of, parameters=parameters,
                                 prepare_by=preparation.deadline(), schedule_id=schedule_id, nodes_later=True)
    except Exception:
        quotas.release(holder, graph["_id"], run_id)  # not queued (running, or changed): no slot taken
        raise
    try:
        preparation.invoke(graph["_id"], run_id, principal, retry_of, replaced, model, parameters)
    except ClientError as exc:
        preparation.start_failed(graph["_id"], run_id, exc)
        _let_go(model, replaced)
        raise
    if queued is not None:  # the answer shows the version's nodes until the preparation has queued the run's
        queued.append((model, whole_items(saved_items(model), int(model.node_count or 0))))
    return model.run_id


def cancel_run(graph_id: str, run_id: str | None = None) -> dict:
    """CANCEL: stop the graph's execution (of run `run_id`, if given); operations not finished and the graph
    become CANCELED."""
    model = load_model(graph_id)
    if run_id is not None and model.run_id != run_id:
        raise ConflictError(f"Run `{run_id}` is not running (it has ended)")
    if model.graph_running_status not in GraphRunningStatus.ACTIVE or not model.run_id:
        raise ConflictError(f"Graph `{graph_id}` is not running (it is {model.graph_running_status})")
    run_id = model.run_id
    try:
        move_graph(graph_id, GraphRunningStatus.ACTIVE, GraphRunningStatus.CANCELED, run_id=run_id)
    except Moved as exc:
        raise ConflictError(f"Graph `{graph_id}` has just finished") from exc
    quotas.release(model.quota_user, graph_id, run_id)
    nested = end_nodes(graph_id, run_id, {NodeRunningStatus.IN_QUEUE: NodeRunningStatus.CANCELED,
                                           NodeRunningStatus.RUNNING: NodeRunningStatus.CANCELED})
    # A stopped parent does not stop the nested executions of its composites: stop them too.
    stop_executions([model.execution_arn, *nested], ErrorName.CANCELED, "CANCEL requested")
    waits.fail_parked(run_id, ErrorName.CANCELED, "CANCEL requested")  # parked branches end now, not at a timeout
    return {"graph_id": graph_id, "run_id": run_id, "graph_running_status": GraphRunningStatus.CANCELED}


# --- called by the runner ----------------------------------------------------------------------


