"""Runs you can look back on: a graph's run history, one run as it ran, cancelling it and retrying it.

Who may see a run is exactly who may see its graph; who may cancel it, who may cancel the graph's run. A run
the caller may not see is a 404 worded as for an id nobody stored: run ids are no oracle of others' graphs.
"""
from __future__ import annotations

from typing import Any

import stepfunctions
from chalicelib.domain import cost, permissions, trials
from chalicelib.domain.graph import sub_graph_id
from chalicelib.domain.util import now
from chalicelib.domain.enums import BaseNodeNames, GraphRunningStatus, NodeRunningStatus
from chalicelib.domain.errors import BadRequestError, ConflictError, NotFoundError
from chalicelib.engine import composite_runs, preparation, runs
from chalicelib.store import run_records, search
from chalicelib.store.graph_items import load_model, node_from_item, node_items, run_items, saved_items
from chalicelib.store.models import GraphModel, RunModel

from . import actions, graphs

RETRIED = (GraphRunningStatus.FAILED, GraphRunningStatus.CANCELED)


def _run(record: RunModel, header: GraphModel) -> dict:
    """A run's record; while it is the graph's current run, its status and error as the header has them
    (the header moves first, chalicelib/engine/transitions.py)."""
    current = header.run_id == record.run_id
    return {
        "_id": record.run_id,
        "_type": "Run",
        "graph_id": record.graph,
        "graph_version": int(record.version or 0),
        "title": record.title,
        "node_count": int(record.node_count or 0),
        "started_by": record.started_by,
        "acting_for": record.acting_for,
        "how": record.how,
        "parameters": record.parameters or {},
        "start": record.start,
        "end": record.end,
        "run_status": header.graph_running_status if current else record.run_status,
        "error": header.error if current else record.error,
        "latest": (header.latest_run or header.run_id) == record.run_id,
        "retry_of": record.retry_of,
        "kind": "trial" if header.listing == trials.LISTING else "run",
        "schedule_id": record.schedule_id,
        "preparing": current and preparation.preparing(header),
    }


def _visible(record_or_id: RunModel | str, user: str) -> tuple[RunModel, GraphModel]:
    record = record_or_id if isinstance(record_or_id, RunModel) else run_records.find(record_or_id)
    try:
        header = load_model(record.graph)
    except NotFoundError as exc:
        raise NotFoundError(f"Run `{record.run_id}` not found") from exc
    if not permissions.may_view(user, permissions.GRAPH, header.author) \
            or trials.hidden(header.listing, header.author, user):
        raise NotFoundError(f"Run `{record.run_id}` not found")
    return record, preparation.reap(header)  # a run whose preparation died ends FAILED when next read


def list_runs(graph_id: str, query: dict[str, Any] | None, user: str) -> dict:
    """`GET /graphs/{graph_id}/runs`: the graph's kept runs, newest first, paged like the searches."""
    header = load_model(graph_id)
    if trials.hidden(header.listing, header.author, user):
        raise NotFoundError(f"Graph `{graph_id}` not found")
    permissions.check_view(user, permissions.GRAPH, header.author, graph_id)
    header = preparation.reap(header)
    request = search.parse_request({name: value for name, value in (query or {}).items()
                                    if name in ("offset", "per_page")})
    records, total = run_records.page(graph_id, request.offset, request.per_page)
    return {"items": [_run(record, header) for record in records], "total_count": total}


def get_run(run_id: str, user: str) -> dict:
    """`GET /runs/{run_id}`: the record, and the graph as it ran with that run's statuses, outputs and logs."""
    record, header = _visible(run_id, user)
    run = _run(record, header)
    partition = run_items(record.graph, record.run_id)
    if header.run_id == record.run_id and header.nodes_pending:  # being prepared: its version's nodes until
        partition = saved_items(header)  # the preparation has written the run's (chalicelib/engine/preparation.py)
    nodes = []
    for item in node_items(partition):
        node = node_from_item(item)
        node.update(_readonly=True, started=item.started, ended=item.ended, attempts=int(item.attempts or 0),
                    duration_seconds=cost.seconds(item.started, item.ended))
        if node["base_node_name"] in BaseNodeNames.OPERATIONS:
            node["placement"] = item.placement or stepfunctions.placement(node)
        if node["base_node_name"] == BaseNodeNames.GRAPH:
            composite_runs.live_inner(partition, node)
        nodes.append(node)
    run["cost"] = _cost(partition, nodes, run["run_status"])
    run["graph"] = {
        "_id": record.graph, "_version": run["graph_version"], "_readonly": True, "title": record.title,
        "author": header.author, "graph_running_status": run["run_status"], "run_id": record.run_id,
        "insertion_date": record.start, "update_date": record.end or record.start,
        "node_count": len(nodes), "nodes": nodes,
    }
    return run


def _spent(partition: str, nodes: list[dict]) -> tuple[list[dict], set[str], int, int]:
    """What a run's graph (or a composite's sub-graph, read from its own partition) ran: its operations as
    run_cost takes them, those whose Wait state ran, how many composites opened a nested execution, and how
    many forks (the Parallel after an operation that others start from) were entered."""
    operations = [node for node in nodes if node["base_node_name"] in BaseNodeNames.OPERATIONS]
    skipped = frozenset(node["_id"] for node in operations if not node.get("started")
                        and node["node_running_status"] == NodeRunningStatus.RESTORED)
    dag = stepfunctions.plan({"nodes": nodes}, skip=skipped)
    waited = {f"{partition}/{node_id}" for node_id in dag.waits_for}
    ended = {node["_id"] for node in nodes if node.get("started") and node["node_running_status"] in (
        NodeRunningStatus.SUCCESS, NodeRunningStatus.RESTORED)}
    forked = len(set(dag.forks) & ended)  # a fork is entered when its operation has succeeded
    stamp = now()  # an operation still running has cost so far what it ran until now
    spent = [{"_id": f"{partition}/{node['_id']}", "status": node["node_running_status"],
              "started": node.get("started"), "attempts": node.get("attempts"), "placement": node.get("placement"),
              "ended": node.get("ended") or (stamp if node["node_running_status"] == NodeRunningStatus.RUNNING
                                             else None)}
             for node in operations]
    opened = 0
    for node in nodes:
        if node["base_node_name"] == BaseNodeNames.GRAPH and node.get("started"):  # its nested execution ran
            inner_partition = sub_graph_id(partition, node["_id"])
            inner = []
            for item in node_items(inner_partition):
                body = node_from_item(item)
                body.update(started=item.started, ended=item.ended, attempts=int(item.attempts or 0))
                if body["base_node_name"] in BaseNodeNames.OPERATIONS:
                    body["placement"] = item.placement or stepfunctions.placement(body)
                inner.append(body)
            more, more_waited, more_opened, more_forked = _spent(inner_partition, inner)
            spent += more
            waited |= more_waited
            opened += 1 + more_opened
            forked += more_forked
    return spent, waited, opened, forked


def _cost(partition: str, nodes: list[dict], status: str) -> dict:
    """The run's cost, computed when read from what the engine recorded (start, end, attempts, placement):
    all of it is fixed once the node ended, so the engine's end of run pays no extra read of every node;
    a changed price table re-prices old runs (the answer says which prices it used). A composite's
    operations count too (one more query per composite that ran)."""
    operations, waited, opened, forked = _spent(partition, nodes)
    table = cost.prices()
    # a run that succeeded with every operation restored before it started had no execution (preparation.py)
    executed = not (status == GraphRunningStatus.SUCCESS and not opened
                    and not any(operation.get("started") for operation in operations))
    estimate = cost.run_cost(operations, waited, status in RETRIED, table, nested=opened, forks=forked,
                             executed=executed)
    return dict(estimate, prices=dict(table.__dict__))


def cancel(run_id: str, user: str) -> dict:
    """`POST /runs/{run_id}/cancel`: who may cancel the graph's run may cancel this run while it runs."""
    record, header = _visible(run_id, user)
    permissions.check_run(user, header.author, record.graph)
    runs.cancel_run(record.graph, record.run_id)
    return get_run(run_id, user)


def retry(run_id: str, user: str) -> dict:
    """`POST /runs/{run_id}/retry`: a new run of the same graph version in which what succeeded in this run
    is restored (no runner) and the failed and canceled operations, and what depends on them, run again.

    The retry runs with the run's parameters. Who may run the graph may retry its runs; only a failed or canceled run, of the graph's current version
    (a graph changed since runs as changed: approve it)."""
    record, header = _visible(run_id, user)
    permissions.check_run(user, header.author, record.graph)
    status = _run(record, header)["run_status"]
    if status not in RETRIED:
        raise ConflictError(f"Run `{run_id}` is {status}: only a failed or canceled run is retried")
    graph = graphs.get_graph(record.graph, user)
    if graph["_version"] != int(record.version or 0):
        raise ConflictError(f"Graph `{record.graph}` has changed since run `{run_id}` (version {record.version}, now "
                            f"{graph['_version']}): approve it to run the new version")
    error, message, new_run = actions.run_graph(graph, user, how=runs.RETRY, retry_of=record.run_id,
                                                parameters=record.parameters or None)
    if error or new_run is None:
        raise BadRequestError(f"Run `{run_id}` cannot be retried: {message}")
    return get_run(new_run, user)
