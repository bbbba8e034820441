"""Builders for graphs as a PLynx client would post them."""
from __future__ import annotations

import copy
import secrets
from typing import Any


def operation(base_node_name: str, title: str, cmd: str, inputs: list[dict] | None = None,
              outputs: list[str] | None = None, params: dict[str, Any] | None = None) -> dict:
    """An operation node body with `_cmd` and the given inputs, outputs and str/int/float params."""
    parameters = [{"name": "_cmd", "parameter_type": "code",
                   "value": {"mode": "python" if base_node_name == "python" else "sh", "value": cmd}}]
    for name, value in (params or {}).items():
        kind = {int: "int", float: "float"}.get(type(value), "str")
        parameters.append({"name": name, "parameter_type": kind, "value": value})
    return {
        "base_node_name": base_node_name,
        "title": title,
        "inputs": inputs or [],
        "outputs": [{"name": name, "file_type": "file"} for name in outputs or []],
        "parameters": parameters,
    }


def instance(node: dict, **links: list[tuple[dict, str]]) -> dict:
    """A copy of a stored node placed in a graph, its inputs linked to (node, output) pairs."""
    placed = copy.deepcopy(node)
    placed["parent_node_id"] = node["_id"]
    placed["_id"] = secrets.token_hex(12)
    for node_input in placed.get("inputs", []):
        node_input["values"] = [
            {"node_id": source["_id"], "output_id": output} for source, output in links.get(node_input["name"], [])
        ]
    return placed


def graph(title: str, nodes: list[dict]) -> dict:
    return {"title": title, "description": "", "nodes": nodes}


def output_id(node: dict, name: str) -> str:
    return next(o["resource_id"] for o in node["outputs"] if o["name"] == name)


def log_id(node: dict, name: str) -> str:
    return next(o["resource_id"] for o in node["logs"] if o["name"] == name)


def by_title(graph_data: dict, title: str) -> dict:
    return next(n for n in graph_data["nodes"] if n["title"] == title)


def shared_file(path: Any, content: str = "") -> str:
    """A file several operations may write (a journal): made here, writable by all, as each operation of a
    root runner has a uid of its own and creates its files private (umask 077)."""
    import os

    with open(path, "w", encoding="utf-8") as stream:
        stream.write(content)
    os.chmod(path, 0o666)
    return str(path)
