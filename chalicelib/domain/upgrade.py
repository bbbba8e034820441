"""Deprecation across graphs: which library operations a graph's nodes come from, and UPGRADE_NODES.

`lookup(ids)` reads stored operations by id (the library's, chalicelib/api/library.py): a dict per
operation, its body with `_id`, `author` and `node_status`.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

from .enums import NodeStatus, ParameterTypes
from .validation import types_compatible

DEPRECATED = frozenset({NodeStatus.DEPRECATED, NodeStatus.MANDATORY_DEPRECATED})
_MAX_CHAIN = 50  # successor chains longer than this are a loop or a mistake


Lookup = Callable[[Iterable[str]], dict[str, dict]]


def _parents(graph: dict, lookup: Lookup) -> dict[str, dict]:
    return lookup({node["parent_node_id"] for node in graph["nodes"] if node.get("parent_node_id")})


def mandatory_deprecated(graph: dict, lookup: Lookup) -> set[str]:
    """Library ids behind the graph's nodes that may no longer run (the seed's DEPRECATED_NODE)."""
    return {node_id for node_id, stored in _parents(graph, lookup).items()
            if stored["node_status"] == NodeStatus.MANDATORY_DEPRECATED}


def _latest(stored: dict, known: dict[str, dict], lookup: Lookup) -> dict:
    """Follow `successor_node_id` to the newest version that is not deprecated (or the last found); a chain
    that loops names no newest version, so the node keeps its own."""
    start, seen = stored, {stored["_id"]}
    while stored["node_status"] in DEPRECATED and stored.get("successor_node_id") and len(seen) < _MAX_CHAIN:
        successor_id = stored["successor_node_id"]
        if successor_id in seen:
            return start
        if successor_id not in known:
            known.update(lookup([successor_id]))
        if successor_id not in known:
            break
        stored = known[successor_id]
        seen.add(stored["_id"])
    return stored


def _replace(node: dict, successor: dict) -> dict:
    """The successor in the old node's place: same id, position, links and parameter values."""
    new = copy.deepcopy(successor)
    new.update(_id=node["_id"], parent_node_id=successor["_id"], x=node.get("x", 0), y=node.get("y", 0))
    old_inputs = {i["name"]: i for i in node.get("inputs", [])}
    for node_input in new.get("inputs", []):
        node_input["values"] = copy.deepcopy(old_inputs.get(node_input["name"], {}).get("values", []))
    old_values = {(p["name"], p["parameter_type"]): p["value"] for p in node.get("parameters", [])}
    for parameter in new.get("parameters", []):
        key = (parameter["name"], parameter["parameter_type"])
        if key in old_values and parameter["parameter_type"] != ParameterTypes.CODE:
            parameter["value"] = old_values[key]
    return new


def upgrade_nodes(graph: dict, lookup: Lookup) -> tuple[dict, int]:
    """Replace nodes whose operation was deprecated with its successor; links whose types no longer
    match are dropped (validation then names the input)."""
    known = _parents(graph, lookup)
    upgraded = 0
    nodes = []
    for node in graph["nodes"]:
        parent = known.get(node.get("parent_node_id") or "")
        latest = _latest(parent, known, lookup) if parent is not None else None
        if latest is None or latest["_id"] == parent["_id"]:
            nodes.append(node)
            continue
        nodes.append(_replace(node, latest))
        upgraded += 1
    by_id = {node["_id"]: node for node in nodes}
    return dict(graph, nodes=[_fitting_links(node, by_id) for node in nodes]), upgraded


def _fitting_links(node: dict, by_id: dict[str, dict]) -> dict:
    """A copy of the node without the links that no longer fit (the caller's graph stays as it was)."""
    if not node.get("inputs"):
        return node
    return dict(node, inputs=[dict(i, values=[v for v in i["values"] if _still_fits(by_id, v, i)])
                              for i in node["inputs"]])


def _still_fits(by_id: dict[str, dict], value: dict, node_input: dict) -> bool:
    source = by_id.get(value["node_id"])
    output = next((o for o in source.get("outputs", []) if o["name"] == value["output_id"]), None) if source else None
    return output is not None and types_compatible(node_input["file_types"], output["file_type"])
