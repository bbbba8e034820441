"""Composite operations (the seed's "sub-graph"): a graph kept in the `_nodes` parameter, run as one operation.

Inside, a special Inputs node hands the composite's inputs to its operations and a special Outputs
node collects what becomes the composite's outputs, both with the seed's fixed ids so links survive
copies. At run time the sub-graph's nodes are items under `sub_graph_id(graph, node)`, so the runner
claims, restores and records them exactly like a graph's own; the composite runs as a nested
execution whose first state (`open_run`) passes the inputs in and whose last (`close_run`) passes
the outputs out, releases the outer dependents and ends the composite SUCCESS or FAILED.
"""
from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from chalicelib.store import storage
from chalicelib.store.models import GraphNodeModel
from stepfunctions.dag import sub_graph_id, top_graph_id

from .enums import FILE_KIND, BaseNodeNames, NodeRunningStatus, SpecialNodeId
from .errors import BadRequestError

NODES_PARAMETER = "_nodes"
MAX_DEPTH = 4  # composites inside composites, a bound on definitions created per APPROVE
SPECIAL_IDS = {SpecialNodeId.INPUT: BaseNodeNames.INPUT, SpecialNodeId.OUTPUT: BaseNodeNames.OUTPUT}

__all__ = ["NODES_PARAMETER", "clean_inner", "close_run", "default_inner", "drop_inner", "from_graph", "inner_nodes",
           "live_inner", "open_run", "queue_inner", "sub_graph_id"]


def _special(node_id: str, title: str, x: float, y: float) -> dict:
    return {"_id": node_id, "title": title, "description": "", "base_node_name": SPECIAL_IDS[node_id],
            "parent_node_id": None, "successor_node_id": None, "inputs": [], "outputs": [], "parameters": [],
            "logs": [], "node_running_status": NodeRunningStatus.SPECIAL, "node_status": "READY", "cache_url": "",
            "x": x, "y": y, "author": "", "starred": False}


def _input_port_type(node_input: dict) -> str:
    types = node_input.get("file_types") or [FILE_KIND]
    return types[0] if len(types) == 1 else FILE_KIND


def _specials(composite: dict, wiring: dict[str, list[dict]], places: dict[str, tuple[float, float]]) -> list[dict]:
    """The Inputs and Outputs nodes, their ports mirroring the composite's own inputs and outputs."""
    inputs = _special(SpecialNodeId.INPUT, "Inputs", *places.get(SpecialNodeId.INPUT, (0, 0)))
    inputs["outputs"] = [{"name": i["name"], "file_type": _input_port_type(i), "resource_id": None}
                         for i in composite.get("inputs", [])]
    outputs = _special(SpecialNodeId.OUTPUT, "Outputs", *places.get(SpecialNodeId.OUTPUT, (600, 0)))
    outputs["inputs"] = [{"name": o["name"], "file_types": [o["file_type"]], "values": wiring.get(o["name"], []),
                          "min_count": 1, "max_count": 1} for o in composite.get("outputs", [])]
    return [inputs, outputs]


def default_inner(composite: dict) -> list[dict]:
    """A new composite's sub-graph: just its Inputs and Outputs nodes."""
    return _specials(composite, {}, {})


def inner_nodes(node: dict) -> list[dict]:
    """The sub-graph of a composite (empty for any other node)."""
    if node.get("base_node_name") != BaseNodeNames.GRAPH:
        return []
    parameter = next((p for p in node.get("parameters", []) if p.get("name") == NODES_PARAMETER), None)
    value = parameter.get("value") if parameter else None
    return value if isinstance(value, list) else []


def clean_inner(composite: dict, raw_nodes: Any, author: str, where: str, depth: int) -> list[dict]:
    """The composite's `_nodes` made well-formed (each node as a graph's node), its special nodes in sync."""
    from .nodes import _clean_input, _expect, clean_node  # nodes imports this module for composites

    if depth >= MAX_DEPTH:
        raise BadRequestError(f"`{where}` nests composite operations deeper than {MAX_DEPTH} levels")
    for node_input in composite.get("inputs", []):
        if node_input["max_count"] != 1:
            raise BadRequestError(f"Input `{node_input['name']}` of a composite operation takes exactly one value "
                                  "(max_count 1): it is handed to the operations inside as one resource")
    wiring: dict[str, list[dict]] = {}
    places: dict[str, tuple[float, float]] = {}
    nodes = []
    for i, raw in enumerate(_expect(raw_nodes if raw_nodes is not None else [], list, where)):
        _expect(raw, dict, f"{where}[{i}]")
        special = str(raw.get("_id")) in SPECIAL_IDS or str(raw.get("base_node_name")) in BaseNodeNames.SPECIAL
        if special:
            node_id = str(raw.get("_id"))
            if SPECIAL_IDS.get(node_id) != raw.get("base_node_name"):
                raise BadRequestError(f"`{where}[{i}]`: the Inputs node has `_id` {SpecialNodeId.INPUT} and "
                                      f"base_node_name `{BaseNodeNames.INPUT}`, the Outputs node "
                                      f"{SpecialNodeId.OUTPUT} and `{BaseNodeNames.OUTPUT}`")
            places[node_id] = (_expect(raw.get("x", 0), (int, float), f"{where}[{i}].x"),
                               _expect(raw.get("y", 0), (int, float), f"{where}[{i}].y"))
            if node_id == SpecialNodeId.OUTPUT:
                for j, port in enumerate(_expect(raw.get("inputs", []), list, f"{where}[{i}].inputs")):
                    cleaned = _clean_input(port, f"{where}[{i}].inputs[{j}]")
                    wiring[cleaned["name"]] = cleaned["values"]
            continue
        nodes.append(clean_node(raw, author, f"{where}[{i}]", depth=depth + 1))
    unknown = sorted(set(wiring) - {o["name"] for o in composite.get("outputs", [])})
    if unknown:
        raise BadRequestError(f"`{where}`: the Outputs node wires {unknown}, which are not outputs of the composite")
    ids = [node["_id"] for node in nodes]
    if len(set(ids)) != len(ids) or set(ids) & set(SPECIAL_IDS):
        raise BadRequestError(f"`{where}` has duplicate `_id`s")
    return _specials(composite, wiring, places) + nodes


# --- at run time ---------------------------------------------------------------------------------


def _status(node: dict, restored: bool) -> str:
    kind = node["base_node_name"]
    if kind in BaseNodeNames.SPECIAL:
        return NodeRunningStatus.SPECIAL
    if kind == BaseNodeNames.FILE:
        return NodeRunningStatus.STATIC
    return NodeRunningStatus.RESTORED if restored else NodeRunningStatus.IN_QUEUE


def queue_inner(graph_id: str, composite: dict, run_id: str, stamp: str, restored: bool = False) -> None:
    """Queue the sub-graph of a composite for a run (and of the composites inside it); stale items go.

    A composite the cache restored as a whole does not run: its operations show RESTORED.
    """
    sub_id = sub_graph_id(graph_id, composite["_id"])
    inner = inner_nodes(composite)
    keep = {node["_id"] for node in inner}
    with GraphNodeModel.batch_write() as batch:
        for item in GraphNodeModel.query(sub_id, consistent_read=True):
            if item.node_id not in keep:
                batch.delete(item)
        for node in inner:
            body = copy.deepcopy(node)
            body.pop("node_running_status", None)
            if node["base_node_name"] != BaseNodeNames.FILE:
                for field in ("outputs", "logs"):
                    body[field] = [dict(entry, resource_id=None) for entry in body.get(field, [])]
            batch.save(GraphNodeModel(sub_id, node["_id"], body=body, node_running_status=_status(node, restored),
                                      run_id=run_id, update_date=stamp))
    for node in inner:
        if node["base_node_name"] == BaseNodeNames.GRAPH:
            queue_inner(sub_id, node, run_id, stamp, restored)


def drop_inner(graph_id: str, node_id: str) -> None:
    """Delete the run items of a composite removed from its graph (and of the composites inside it)."""
    sub_id = sub_graph_id(graph_id, node_id)
    items = list(GraphNodeModel.query(sub_id, consistent_read=True))
    with GraphNodeModel.batch_write() as batch:
        for item in items:
            batch.delete(item)
    for item in items:
        if item.body.get("base_node_name") == BaseNodeNames.GRAPH:
            drop_inner(sub_id, item.node_id)


def open_run(sub_id: str, parent_graph_id: str, node_id: str, run_id: str, execution_arn: str | None) -> dict:
    """The nested execution has begun: the composite RUNNING, its input resources handed to the Inputs node."""
    from chalicelib.engine import runs

    composite = runs.claim_node(parent_graph_id, node_id, run_id)
    resolved = runs.input_resources(parent_graph_id, composite)
    outputs = {name: ids[0] for name, ids in resolved.items() if ids}
    actions = [GraphNodeModel.outputs.set(outputs)]
    GraphNodeModel(sub_id, SpecialNodeId.INPUT).update(actions=actions, condition=GraphNodeModel.run_id == run_id)
    if execution_arn:
        GraphNodeModel(parent_graph_id, node_id).update(actions=[GraphNodeModel.execution_arn.set(execution_arn)])
    return {"node_id": node_id, "inputs": outputs}


def _summary(sub_id: str, run_id: str, error: Any) -> str:
    items = [item for item in GraphNodeModel.query(sub_id, consistent_read=True)
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
    from chalicelib.engine import cache, runs, waits

    logs = {"worker": storage.put_bytes(_summary(sub_id, run_id, error).encode())}
    if status == NodeRunningStatus.SUCCESS:
        collector = runs.node_from_item(GraphNodeModel.get(sub_id, SpecialNodeId.OUTPUT, consistent_read=True))
        resolved = runs.input_resources(sub_id, collector)
        outputs = {name: ids[0] for name, ids in resolved.items() if ids}
        node = runs.node_from_item(GraphNodeModel.get(parent_graph_id, node_id, consistent_read=True))
        runs.finish_node(parent_graph_id, node_id, run_id, NodeRunningStatus.SUCCESS, outputs, logs)
        if cache.cacheable(node):  # the next run with these inputs restores the whole composite
            cache.put(cache.key(node, runs.input_resources(parent_graph_id, node)), node, outputs, logs,
                      parent_graph_id, run_id)
        waits.notify(run_id, node_id, notify or [])
        return {"node_id": node_id, "status": NodeRunningStatus.SUCCESS}
    try:
        runs.finish_node(parent_graph_id, node_id, run_id, NodeRunningStatus.FAILED, {}, logs)
    except runs.StaleRun:
        pass  # canceled meanwhile, or closed by the run's own end
    runs.mark_failed_waiting(top_graph_id(parent_graph_id), run_id)
    return {"node_id": node_id, "status": NodeRunningStatus.FAILED}


def live_inner(graph_id: str, node: dict) -> None:
    """Fold the live statuses and results of a composite's operations into its `_nodes` (GET of a graph)."""
    from chalicelib.api.graphs import node_from_item

    parameter = next((p for p in node.get("parameters", []) if p.get("name") == NODES_PARAMETER), None)
    if parameter is None or not isinstance(parameter.get("value"), list):
        return
    sub_id = sub_graph_id(graph_id, node["_id"])
    live = {item.node_id: item for item in GraphNodeModel.query(sub_id, consistent_read=True)}
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


# --- a graph saved as an operation ----------------------------------------------------------------


def _unique(name: str, taken: set[str]) -> str:
    candidate, i = name, 2
    while candidate in taken:
        candidate, i = f"{name} {i}", i + 1
    taken.add(candidate)
    return candidate


def from_graph(graph: dict) -> dict:
    """A composite operation made of a graph: its files become the composite's inputs, the outputs
    nothing in the graph reads become its outputs, and its operations its sub-graph."""
    files = [n for n in graph["nodes"] if n["base_node_name"] == BaseNodeNames.FILE]
    operations = [copy.deepcopy(n) for n in graph["nodes"] if n["base_node_name"] in BaseNodeNames.RUNNABLE]
    if not operations:
        raise BadRequestError(f"Graph `{graph['_id']}` has no operations to make an operation of")
    inputs, sources, taken = [], {}, set()
    for node in files:
        for output in node.get("outputs", []):
            label = node.get("title") or output["name"]
            name = _unique(label if len(node["outputs"]) == 1 else f"{label}.{output['name']}", taken)
            inputs.append({"name": name, "file_types": [output.get("file_type") or FILE_KIND], "values": [],
                           "min_count": 1, "max_count": 1})
            sources[(node["_id"], output["name"])] = name
    read = {(v["node_id"], v["output_id"]) for n in operations for i in n.get("inputs", []) for v in i["values"]}
    outputs, wiring, taken = [], {}, set()
    for node in operations:
        for output in node.get("outputs", []):
            if (node["_id"], output["name"]) in read:
                continue
            label = output["name"] if output["name"] not in taken else f"{node.get('title', node['_id'])}.{output['name']}"
            name = _unique(label, taken)
            outputs.append({"name": name, "file_type": output.get("file_type") or FILE_KIND, "resource_id": None})
            wiring[name] = [{"node_id": node["_id"], "output_id": output["name"], "resource_id": None}]
    for node in operations:
        node.pop("node_running_status", None)
        for field in ("outputs", "logs"):
            node[field] = [dict(entry, resource_id=None) for entry in node.get(field, [])]
        for node_input in node.get("inputs", []):
            node_input["values"] = [
                {"node_id": SpecialNodeId.INPUT, "output_id": sources[(v["node_id"], v["output_id"])], "resource_id": None}
                if (v["node_id"], v["output_id"]) in sources else v for v in node_input["values"]]
    xs = [float(n.get("x", 0)) for n in operations]
    ys = [float(n.get("y", 0)) for n in operations]
    composite = {"base_node_name": BaseNodeNames.GRAPH, "title": graph.get("title") or "Composite operation",
                 "description": graph.get("description", ""), "inputs": inputs, "outputs": outputs}
    places = {SpecialNodeId.INPUT: (min(xs) - 250, min(ys)), SpecialNodeId.OUTPUT: (max(xs) + 250, min(ys))}
    inner = _specials(composite, wiring, places) + operations
    composite["parameters"] = [{"name": NODES_PARAMETER, "parameter_type": "list_node", "value": inner}]
    return composite
