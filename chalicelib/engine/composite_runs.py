"""A composite operation at run time: its sub-graph queued, opened, closed and shown live."""
from __future__ import annotations

from collections import Counter
from typing import Any

from chalicelib.domain import graph
from chalicelib.domain.cache_key import key as cache_key
from chalicelib.domain.enums import BaseNodeNames, NodeRunningStatus, SpecialNodeId
from chalicelib.domain.graph import NODES_PARAMETER, cacheable, inner_nodes, strip_results, sub_graph_id
from chalicelib.domain.permissions import GRAPH, RunPrincipal, holder
from chalicelib.store import owners, storage
from chalicelib.store.graph_items import node_from_item, node_items, run_items
from chalicelib.store.models import GraphNodeModel

from . import cache, waits
from .inputs import input_resources
from .transitions import Moved, claim_node, finish_node, mark_failed_waiting, new_node, record_node, run_principal


def _status(node: dict, restored: bool) -> str:
    kind = node["base_node_name"]
    if kind in BaseNodeNames.SPECIAL:
        return new_node(NodeRunningStatus.SPECIAL)
    if kind == BaseNodeNames.FILE:
        return new_node(NodeRunningStatus.STATIC)
    return new_node(NodeRunningStatus.RESTORED if restored else NodeRunningStatus.IN_QUEUE)


def queue_inner(graph_id: str, composite: dict, run_id: str, stamp: str, restored: bool = False,
                principal: RunPrincipal | None = None) -> None:
    """Queue the sub-graph of a composite for a run (and of the composites inside it), in the run's new
    partition (before the run is flipped to, like its other nodes).

    A composite the cache restored as a whole does not run: its operations show RESTORED.
    """
    sub_id = sub_graph_id(graph_id, composite["_id"])
    inner = inner_nodes(composite)
    partition = run_items(sub_id, run_id)
    with GraphNodeModel.batch_write() as batch:
        for node in inner:
            batch.save(GraphNodeModel(partition, node["_id"], body=strip_results(node),
                                      node_running_status=_status(node, restored), run_id=run_id, update_date=stamp,
                                      run_author=principal.author if principal else None,
                                      run_sees_others=principal.sees_others if principal else None))
    for node in inner:
        if node["base_node_name"] == BaseNodeNames.GRAPH:
            queue_inner(sub_id, node, run_id, stamp, restored, principal)


def open_run(sub_id: str, parent_graph_id: str, node_id: str, run_id: str, execution_arn: str | None) -> dict:
    """The nested execution has begun: the composite RUNNING, its input resources handed to the Inputs node."""
    composite = claim_node(parent_graph_id, node_id, run_id)
    resolved = input_resources(run_items(parent_graph_id, run_id), composite)
    outputs = {name: ids[0] for name, ids in resolved.items() if ids}
    record_node(sub_id, SpecialNodeId.INPUT, run_id, outputs=outputs)
    if execution_arn:
        record_node(parent_graph_id, node_id, run_id, execution_arn=execution_arn)
    return {"node_id": node_id, "inputs": outputs}


def _summary(sub_id: str, run_id: str, error: Any) -> str:
    items = [item for item in node_items(run_items(sub_id, run_id))
             if item.run_id == run_id and item.body.get("base_node_name") not in BaseNodeNames.SPECIAL | {"file"}]
    counts = Counter(item.node_running_status for item in items)
    lines = [f"Composite operation: {len(items)} operation(s) inside: "
             + ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))]
    lines += [f"  {item.node_running_status:10s} {item.body.get('title', '')} ({item.node_id})" for item in items]
    if error:
        lines.append(f"Failed: {error.get('Error', '') if isinstance(error, dict) else ''} "
                     f"{(error.get('Cause', '') if isinstance(error, dict) else str(error))[:2000]}")
    return "\n".join(lines) + "\n"


def close_run(sub_id: str, parent_graph_id: str, node_id: str, run_id: str, status: str,
              notify: list[str] | None = None, error: Any = None) -> dict:
    """The nested execution ends: the Outputs node's inputs become the composite's outputs (SUCCESS),
    or the composite FAILED; either way a summary of the operations inside is its `worker` log."""
    inside, outside = run_items(sub_id, run_id), run_items(parent_graph_id, run_id)
    try:
        item: GraphNodeModel | None = GraphNodeModel.get(outside, node_id, consistent_read=True)
    except GraphNodeModel.DoesNotExist:
        item = None  # the run was replaced meanwhile: finish_node below finds it so
    principal = run_principal(parent_graph_id, item)
    logs = {"worker": storage.put_bytes(_summary(sub_id, run_id, error).encode())}
    owners.record(logs.values(), holder(GRAPH, principal.author))
    if status == NodeRunningStatus.SUCCESS:
        collector = node_from_item(GraphNodeModel.get(inside, SpecialNodeId.OUTPUT, consistent_read=True))
        resolved = input_resources(inside, collector)
        outputs = {name: ids[0] for name, ids in resolved.items() if ids}
        node = node_from_item(item) if item is not None else {}
        finish_node(parent_graph_id, node_id, run_id, NodeRunningStatus.SUCCESS, outputs, logs)
        if cacheable(node):  # the next run with these inputs restores the whole composite
            cache.put(cache_key(node, input_resources(outside, node)), node, outputs, logs,
                      parent_graph_id, run_id, principal.author)
        waits.notify(run_id, node_id, notify or [])
        return {"node_id": node_id, "status": NodeRunningStatus.SUCCESS}
    try:
        finish_node(parent_graph_id, node_id, run_id, NodeRunningStatus.FAILED, {}, logs)
    except Moved:
        pass  # canceled meanwhile, or closed by the run's own end
    mark_failed_waiting(parent_graph_id, run_id)
    return {"node_id": node_id, "status": NodeRunningStatus.FAILED}


def live_inner(partition: str, node: dict) -> None:
    """Fold the live statuses and results of a composite's operations into its `_nodes` (GET of a graph);
    `partition`: the one the composite's own item was read from."""
    parameter = graph.parameter(node, NODES_PARAMETER)
    if parameter is None or not isinstance(parameter.get("value"), list):
        return
    sub_id = sub_graph_id(partition, node["_id"])
    live = {item.node_id: item for item in node_items(sub_id)}
    merged = []
    for inner in parameter["value"]:
        item = live.get(inner.get("_id"))
        current = dict(inner)
        if item is not None:
            ran = node_from_item(item)
            current.update(node_running_status=ran["node_running_status"], outputs=ran["outputs"], logs=ran["logs"])
        if current.get("base_node_name") == BaseNodeNames.GRAPH:
            live_inner(sub_id, current)
        merged.append(current)
    node["parameters"] = [dict(p, value=merged) if p is parameter else p for p in node["parameters"]]


__all__ = ["close_run", "live_inner", "open_run", "queue_inner"]
