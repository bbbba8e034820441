"""GENERATE_CODE: python code that recreates a graph through the PLynx python API (`plynx.api`)."""
from __future__ import annotations

import keyword
import pprint
import re
from typing import Any

from .enums import BaseNodeNames

_NODE_FIELDS = ("base_node_name", "title", "description", "parent_node_id", "successor_node_id", "x", "y")
_RESERVED = {"graph", "client", "plynx", "Graph", "Client", "print", "input", "output"}
_ADD_KEYWORDS = {"title", "node_id", "parent_node_id"}  # names Graph.add takes itself: such inputs are set after


def _variable(title: str, taken: set[str]) -> str:
    base = re.sub(r"\W+", "_", title.lower()).strip("_") or "node"
    if base[0].isdigit() or base in _RESERVED or not base.isidentifier() or keyword.iskeyword(base):
        base = f"n_{base}"
    name, i = base, 2
    while name in taken or name in _RESERVED:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name


def _node_literal(node: dict) -> dict:
    """The node as the API takes it: structure and settings, not run results."""
    literal: dict[str, Any] = {field: node.get(field) for field in _NODE_FIELDS}
    literal["inputs"] = [{"name": i["name"], "file_types": i["file_types"], "min_count": i["min_count"],
                          "max_count": i["max_count"]} for i in node.get("inputs", [])]
    is_file = node["base_node_name"] == BaseNodeNames.FILE
    literal["outputs"] = [{"name": o["name"], "file_type": o["file_type"],
                           "resource_id": o.get("resource_id") if is_file else None}
                          for o in node.get("outputs", [])]
    literal["parameters"] = [{key: p[key] for key in ("name", "parameter_type", "value", "mutable_type",
                                                      "removable", "publicable", "widget") if key in p}
                             for p in node.get("parameters", [])]
    return literal


def _order(nodes: list[dict]) -> list[dict]:
    """Sources before the nodes that read them, so links can be written inline; cycles go last."""
    by_id = {n["_id"]: n for n in nodes}
    placed: dict[str, dict] = {}
    progress = True
    while progress and len(placed) < len(nodes):
        progress = False
        for node in nodes:
            if node["_id"] in placed:
                continue
            sources = {v["node_id"] for i in node.get("inputs", []) for v in i["values"]} & set(by_id)
            if sources <= set(placed):
                placed[node["_id"]] = node
                progress = True
    return list(placed.values()) + [n for n in nodes if n["_id"] not in placed]


def _links(node_input: dict, names: dict[str, str]) -> str:
    refs = [f"{names[v['node_id']]}[{v['output_id']!r}]" for v in node_input["values"] if v["node_id"] in names]
    return f"[{', '.join(refs)}]"


def graph_to_code(graph: dict) -> str:
    """A python script that rebuilds the graph (same nodes, ids, links and parameters) and saves it."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    lines = [
        f'"""Recreates the PLynx graph {graph.get("title", "")!r} with the python API (GENERATE_CODE)."""',
        "from plynx.api import Client, Graph",
        "",
        f"graph = Graph(title={graph.get('title', '')!r}, description={graph.get('description', '')!r})",
        "",
    ]
    deferred: list[tuple[str, dict]] = []
    for node in _order(graph["nodes"]):
        variable = _variable(node.get("title") or node["base_node_name"], taken)
        body = pprint.pformat(_node_literal(node), indent=4, width=110, sort_dicts=False)
        args = [body, f"node_id={node['_id']!r}"]
        for node_input in node.get("inputs", []):
            if not node_input["values"]:
                continue
            name = node_input["name"]
            if all(v["node_id"] in names for v in node_input["values"]) and name not in _ADD_KEYWORDS:
                args.append(f"{name}={_links(node_input, names)}"
                            if name.isidentifier() and not keyword.iskeyword(name)
                            else f"**{{{name!r}: {_links(node_input, names)}}}")
            else:
                deferred.append((variable, node_input))
        names[node["_id"]] = variable
        lines.append(f"{variable} = graph.add(")
        lines.extend(f"    {line}" for line in ",\n".join(args).splitlines())
        lines.append(")")
    for variable, node_input in deferred:
        lines.append(f"graph.set({variable}, **{{{node_input['name']!r}: {_links(node_input, names)}}})")
    lines += [
        "",
        "",
        'if __name__ == "__main__":',
        "    client = Client()  # PLYNX_API_URL, PLYNX_USER and PLYNX_PASSWORD say where and as whom",
        "    print(client.save(graph))  # client.run(graph) would also run it, with a progress line",
        "",
    ]
    return "\n".join(lines)
