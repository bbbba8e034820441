"""Nodes and graphs as a client posts them, made well-formed by the domain's own cleaning (nodes.clean_node)."""
from __future__ import annotations

from typing import Any

from chalicelib.domain import nodes
from chalicelib.domain.enums import SpecialNodeId

AUTHOR = "alice"
INPUTS, OUTPUTS = SpecialNodeId.INPUT, SpecialNodeId.OUTPUT


def link(node_id: str, output: str = "out") -> dict:
    """One value of an input: the output `output` of node `node_id`."""
    return {"node_id": node_id, "output_id": output}


def port(name: str, *values: dict, file_types: tuple[str, ...] = ("file",), min_count: int = 1,
         max_count: int = 1) -> dict:
    """An input named `name` reading `values`."""
    return {"name": name, "file_types": list(file_types), "values": list(values), "min_count": min_count,
            "max_count": max_count}


def operation(node_id: str, *inputs: dict, base: str = "python", cmd: str = "print('hi')",
              outputs: dict[str, str] | tuple[str, ...] = ("out",), params: list[dict] | None = None,
              **fields: Any) -> dict:
    """A python (or bash_jinja2) operation with `_cmd`, the given inputs, outputs (name or name: type) and parameters."""
    typed = outputs if isinstance(outputs, dict) else {name: "file" for name in outputs}
    raw = {
        "_id": node_id,
        "title": node_id,
        "base_node_name": base,
        "inputs": list(inputs),
        "outputs": [{"name": name, "file_type": kind} for name, kind in typed.items()],
        "parameters": [{"name": "_cmd", "parameter_type": "code",
                        "value": {"mode": "python" if base == "python" else "sh", "value": cmd}}] + (params or []),
        **fields,
    }
    return nodes.clean_node(raw, AUTHOR)


def param(name: str, value: Any, parameter_type: str = "str") -> dict:
    return {"name": name, "parameter_type": parameter_type, "value": value}


def file(node_id: str, resource_id: str | None = "res-1", file_type: str = "file", **fields: Any) -> dict:
    """An uploaded file: one output `out` holding `resource_id`."""
    raw = {"_id": node_id, "title": node_id, "base_node_name": "file",
           "outputs": [{"name": "out", "file_type": file_type, "resource_id": resource_id}], **fields}
    return nodes.clean_node(raw, AUTHOR)


def composite(node_id: str, inner: list[dict], *inputs: dict, outputs: dict[str, list[dict]] | None = None,
              output_types: dict[str, str] | None = None, **fields: Any) -> dict:
    """A composite operation: `inner` nodes, its `inputs`, and its outputs wired (name -> values) on the Outputs node."""
    wired = outputs or {}
    raw_inner = [{"_id": OUTPUTS, "base_node_name": "_output",
                  "inputs": [{"name": name, "values": values} for name, values in wired.items()]}] + inner
    raw = {
        "_id": node_id,
        "title": node_id,
        "base_node_name": "graph",
        "inputs": list(inputs),
        "outputs": [{"name": name, "file_type": (output_types or {}).get(name, "file")} for name in wired],
        "parameters": [{"name": "_nodes", "parameter_type": "list_node", "value": raw_inner}],
        **fields,
    }
    return nodes.clean_node(raw, AUTHOR)


def graph(*members: dict, graph_id: str = "g1") -> dict:
    return {"_id": graph_id, "title": "a graph", "nodes": list(members)}
