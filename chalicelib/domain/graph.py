"""The graph model, once: links, order, composites' sub-graphs, reserved parameters and run results.

Validation, the compiler, the engine and the runner all read a graph through these functions, so they
cannot disagree on what a node depends on, which parameters it asked for, or what a run added to it.
"""
from __future__ import annotations

import copy
import math
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from .enums import BaseNodeNames

NODES_PARAMETER = "_nodes"  # a composite's sub-graph (the seed's list_node parameter)
NOT_RUN = frozenset({BaseNodeNames.FILE, BaseNodeNames.INPUT, BaseNodeNames.OUTPUT})
DEFAULT_TIMEOUT_SECONDS = 600
PLACEMENTS = ("lambda", "fargate")
# Reserved parameters that tune how an operation runs, not what it computes (the cache ignores them).
RUN_PARAMETERS = frozenset({"cacheable", "_cacheable", "_timeout", "_placement", "_retries"})

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "GraphShapeError", "NODES_PARAMETER", "NOT_RUN", "PLACEMENTS", "RUN_PARAMETERS",
           "blocked_by_cycles", "cacheable", "dependencies", "file_resource_ids", "inner_nodes", "input_types",
           "is_composite", "parameter", "parameter_value", "placement_choice", "resolve_inputs", "retries", "strip_results",
           "sub_graph_id", "timeout_seconds", "top_graph_id", "topological_order"]


class GraphShapeError(ValueError):
    """A graph that cannot be put in order: a cycle, or a link to a node that is not in it."""


# --- parameters --------------------------------------------------------------------------------


def parameter(node: dict, name: str) -> dict | None:
    """A node's parameter by name, or None."""
    return next((p for p in node.get("parameters", []) if p.get("name") == name), None)


def parameter_value(node: dict, name: str, default: Any = None) -> Any:
    """A parameter's value; `default` when the node has no such parameter."""
    found = parameter(node, name)
    return default if found is None else found.get("value")


def _number(value: Any) -> float | None:
    """A finite number, or None (a bool, text that is no number, NaN or infinity would crash int())."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def timeout_seconds(node: dict) -> int:
    """`_timeout`: whole seconds, at least 1; the default when absent or not a number."""
    value = _number(parameter_value(node, "_timeout"))
    return DEFAULT_TIMEOUT_SECONDS if value is None else max(1, int(value))


def retries(node: dict) -> int:
    """`_retries`: how often the operation's own failures are retried (0 when absent or not a number)."""
    value = _number(parameter_value(node, "_retries"))
    return 0 if value is None else max(0, int(value))


def placement_choice(node: dict) -> str | None:
    """`_placement` as the user chose it (`lambda` or `fargate`; a str or an enum parameter), else None."""
    chosen = parameter_value(node, "_placement")
    if isinstance(chosen, dict):  # an enum parameter
        values = chosen.get("values") or []
        index = _number(chosen.get("index", 0) or 0)
        chosen = values[int(index)] if index is not None and 0 <= index < len(values) else None
    chosen = str(chosen).lower() if chosen is not None else None
    return chosen if chosen in PLACEMENTS else None


def cacheable(node: dict) -> bool:
    """Operations are cached unless `cacheable`/`_cacheable` is false; a composite is cached as a whole
    when every operation inside it may be."""
    for name in ("cacheable", "_cacheable"):
        if parameter_value(node, name) in (False, "false", 0):
            return False
    if is_composite(node):
        inside = [n for n in inner_nodes(node) if n.get("base_node_name") in BaseNodeNames.RUNNABLE]
        return bool(inside) and all(cacheable(n) for n in inside)
    return node.get("base_node_name") in BaseNodeNames.OPERATIONS


# --- composites --------------------------------------------------------------------------------


def is_composite(node: dict) -> bool:
    """A composite operation: its sub-graph runs as a nested execution."""
    return node.get("base_node_name") == BaseNodeNames.GRAPH


def inner_nodes(node: dict) -> list[dict]:
    """The sub-graph of a composite (its `_nodes` parameter); empty for any other node."""
    if not is_composite(node):
        return []
    value = parameter_value(node, NODES_PARAMETER)
    return value if isinstance(value, list) else []


def sub_graph_id(graph_id: str, node_id: str) -> str:
    """Where a composite's nodes live at run time (`.` never appears in an id, so it cannot collide)."""
    return f"{graph_id}.{node_id}"


def top_graph_id(graph_id: str) -> str:
    """The graph a (possibly nested) sub-graph belongs to."""
    return graph_id.split(".", 1)[0]


# --- links and order ---------------------------------------------------------------------------


def dependencies(node: dict) -> set[str]:
    """Ids of the nodes whose outputs this node reads."""
    return {value["node_id"] for node_input in node.get("inputs", []) for value in node_input.get("values", [])}


def _kahn(nodes: Mapping[str, dict]) -> tuple[list[str], dict[str, int]]:
    """Kahn's algorithm over the links between `nodes` (links to other ids are ignored): the order it
    reaches, and what each node it could not reach still waits for. Iterative: a 10,000-chain is fine."""
    dependents: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    waiting: dict[str, int] = {}
    for node_id, node in nodes.items():
        deps = dependencies(node) & nodes.keys()
        waiting[node_id] = len(deps)
        for dep in deps:
            dependents[dep].append(node_id)
    ready = deque(sorted(node_id for node_id, count in waiting.items() if count == 0))
    order: list[str] = []
    while ready:
        node_id = ready.popleft()
        order.append(node_id)
        for dependent in dependents[node_id]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    return order, {node_id: count for node_id, count in waiting.items() if count > 0}


def topological_order(nodes: Mapping[str, dict]) -> list[str]:
    """Every node id after all its dependencies; GraphShapeError on a cycle or a link to a missing node."""
    for node_id, node in nodes.items():
        missing = dependencies(node) - nodes.keys()
        if missing:
            raise GraphShapeError(f"Node `{node_id}` depends on unknown nodes {sorted(missing)}")
    order, stuck = _kahn(nodes)
    if stuck:
        raise GraphShapeError(f"Graph has a cycle through nodes {sorted(stuck)}")
    return order


def blocked_by_cycles(nodes: Iterable[dict]) -> set[str]:
    """Ids of nodes on or behind a cycle (validation names them; links to missing nodes are its other check)."""
    _, stuck = _kahn({node["_id"]: node for node in nodes})
    return set(stuck)


# --- run results -------------------------------------------------------------------------------


def strip_results(node: dict) -> dict:
    """A copy of a node as part of a graph, without what a run added (status, outputs and logs of an
    operation; a file's outputs are its content and stay)."""
    body = copy.deepcopy(node)
    body.pop("node_running_status", None)
    if body.get("base_node_name") != BaseNodeNames.FILE:
        for field in ("outputs", "logs"):
            body[field] = [dict(entry, resource_id=None) for entry in body.get(field, [])]
    return body


def file_resource_ids(nodes: Iterable[dict]) -> set[str]:
    """The resource ids file nodes name, inside composites too: what a run hands to operations."""
    found: set[str] = set()
    for node in nodes:
        if not isinstance(node, dict):
            continue
        if node.get("base_node_name") == BaseNodeNames.FILE:
            found.update(o["resource_id"] for o in node.get("outputs", [])
                         if isinstance(o, dict) and isinstance(o.get("resource_id"), str) and o["resource_id"])
        found |= file_resource_ids(inner_nodes(node))
    return found


def resolve_inputs(node: dict, upstream: Mapping[str, dict]) -> dict[str, list[str]]:
    """The resource ids behind each input of a node, from the nodes it reads (by id, with their results).

    LookupError when an output read has no resource (yet)."""
    resolved: dict[str, list[str]] = {}
    for node_input in node.get("inputs", []):
        ids = []
        for value in node_input.get("values", []):
            source = upstream.get(value["node_id"])
            output = next((o for o in (source or {}).get("outputs", []) if o["name"] == value["output_id"]), None)
            if output is None or not output.get("resource_id"):
                raise LookupError(f"Input `{node_input['name']}`: output `{value['output_id']}` of node "
                                  f"`{value['node_id']}` has no resource")
            ids.append(output["resource_id"])
        resolved[node_input["name"]] = ids
    return resolved


def input_types(node: dict, upstream: Mapping[str, dict]) -> dict[str, list[str]]:
    """The file_type of each output an operation's inputs read, so each input is prepared as what it is."""
    types: dict[str, list[str]] = {}
    for node_input in node.get("inputs", []):
        for value in node_input.get("values", []):
            source = upstream.get(value["node_id"], {})
            output = next((o for o in source.get("outputs", []) if o["name"] == value["output_id"]), None)
            types.setdefault(node_input["name"], []).append(output["file_type"] if output else BaseNodeNames.FILE)
    return types
