"""Composite operations (the seed's "sub-graph"): a graph kept in the `_nodes` parameter, run as one operation.

Inside, a special Inputs node hands the composite's inputs to its operations and a special Outputs
node collects what becomes the composite's outputs, both with the seed's fixed ids so links survive
copies. At run time the sub-graph's nodes are items under `sub_graph_id(graph, node)`, so the runner
claims, restores and records them exactly like a graph's own; the composite runs as a nested
execution whose first state (`open_run`) passes the inputs in and whose last (`close_run`) passes
the outputs out, releases the outer dependents and ends the composite SUCCESS or FAILED
(chalicelib/engine/composite_runs.py).
"""
from __future__ import annotations

from .enums import FILE_KIND, BaseNodeNames, NodeRunningStatus, SpecialNodeId
from .errors import BadRequestError
from .graph import NODES_PARAMETER, strip_results

MAX_DEPTH = 4  # composites inside composites, a bound on definitions created per APPROVE
SPECIAL_IDS = {SpecialNodeId.INPUT: BaseNodeNames.INPUT, SpecialNodeId.OUTPUT: BaseNodeNames.OUTPUT}

__all__ = ["MAX_DEPTH", "SPECIAL_IDS", "default_inner", "from_graph", "specials"]


def _special(node_id: str, title: str, x: float, y: float) -> dict:
    return {"_id": node_id, "title": title, "description": "", "base_node_name": SPECIAL_IDS[node_id],
            "parent_node_id": None, "successor_node_id": None, "inputs": [], "outputs": [], "parameters": [],
            "logs": [], "node_running_status": NodeRunningStatus.SPECIAL, "node_status": "READY", "cache_url": "",
            "x": x, "y": y, "author": "", "starred": False}


def _input_port_type(node_input: dict) -> str:
    types = node_input.get("file_types") or [FILE_KIND]
    return types[0] if len(types) == 1 else FILE_KIND


def specials(composite: dict, wiring: dict[str, list[dict]], places: dict[str, tuple[float, float]]) -> list[dict]:
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
    return specials(composite, {}, {})


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
    operations = [strip_results(n) for n in graph["nodes"] if n["base_node_name"] in BaseNodeNames.RUNNABLE]
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
        for node_input in node.get("inputs", []):
            node_input["values"] = [
                {"node_id": SpecialNodeId.INPUT, "output_id": sources[(v["node_id"], v["output_id"])], "resource_id": None}
                if (v["node_id"], v["output_id"]) in sources else v for v in node_input["values"]]
    xs = [float(n.get("x", 0)) for n in operations]
    ys = [float(n.get("y", 0)) for n in operations]
    composite = {"base_node_name": BaseNodeNames.GRAPH, "title": graph.get("title") or "Composite operation",
                 "description": graph.get("description", ""), "inputs": inputs, "outputs": outputs}
    places = {SpecialNodeId.INPUT: (min(xs) - 250, min(ys)), SpecialNodeId.OUTPUT: (max(xs) + 250, min(ys))}
    inner = specials(composite, wiring, places) + operations
    composite["parameters"] = [{"name": NODES_PARAMETER, "parameter_type": "list_node", "value": inner}]
    return composite
