"""Build a graph in python: add operations and files, wire outputs to inputs, set parameters."""
from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from plynx.node import to_node

_KEEP = ("_id", "base_node_name", "title", "description", "parent_node_id", "successor_node_id", "inputs",
         "outputs", "parameters", "logs", "x", "y")


@dataclass(frozen=True)
class OutputRef:
    """One output of a node in a graph: what an input is wired to."""

    node: NodeRef
    name: str


class NodeRef:
    """A node placed in a graph; `ref["out"]` (or `ref.out("out")`) names one of its outputs."""

    def __init__(self, node: dict) -> None:
        self.node = node

    @property
    def id(self) -> str:
        return self.node["_id"]

    def out(self, name: str) -> OutputRef:
        names = [o["name"] for o in self.node.get("outputs", [])]
        if name not in names:
            raise KeyError(f"`{self.node.get('title')}` has no output `{name}`; it has {names}")
        return OutputRef(self, name)

    __getitem__ = out

    def param(self, name: str) -> str:
        """The run parameter's name for `Client.run(..., parameters=...)` and `Client.start`: `<node_id>.<name>`."""
        names = [p["name"] for p in self.node.get("parameters", [])]
        if name not in names:
            raise KeyError(f"`{self.node.get('title')}` has no parameter `{name}`; it has {names}")
        return f"{self.id}.{name}"

    def __repr__(self) -> str:
        return f"NodeRef({self.node.get('title')!r}, {self.id!r})"


def _node_dict(operation: Any) -> dict:
    if callable(operation) and hasattr(operation, "plynx_params"):
        return to_node(operation)
    if isinstance(operation, dict):
        return {key: copy.deepcopy(value) for key, value in operation.items() if key in _KEEP}
    raise TypeError("An operation is a function decorated with @operation or a node dict (stored or posted)")


def _links(value: Any) -> list[OutputRef] | None:
    if isinstance(value, OutputRef):
        return [value]
    if isinstance(value, NodeRef):
        outputs = value.node.get("outputs", [])
        if len(outputs) != 1:
            raise ValueError(f"{value!r} has {len(outputs)} outputs: pick one with ref['name']")
        return [value.out(outputs[0]["name"])]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (OutputRef, NodeRef)) for v in value):
        return [link for v in value for link in _links(v) or []]
    return None


class Graph:
    """A graph under construction; `Client.save(graph)` or `Client.run(graph)` sends it."""

    def __init__(self, title: str = "New graph", description: str = "", graph_id: str | None = None) -> None:
        self.title = title
        self.description = description
        self.graph_id = graph_id
        self.nodes: list[NodeRef] = []

    def add(self, operation: Any, /, *, title: str | None = None, node_id: str | None = None,
            parent_node_id: str | None = None, **bindings: Any) -> NodeRef:
        """Place an operation; keyword arguments wire inputs (to outputs) or set parameters (to values)."""
        node = _node_dict(operation)
        if operation is not None and isinstance(operation, dict) and operation.get("node_status") == "READY":
            node["parent_node_id"] = operation["_id"]  # a stored operation: the graph node derives from it
        node["_id"] = node_id or secrets.token_hex(12)
        if parent_node_id is not None:
            node["parent_node_id"] = parent_node_id
        if title is not None:
            node["title"] = title
        for node_input in node.get("inputs", []):
            node_input["values"] = []
        ref = NodeRef(node)
        self.set(ref, **bindings)
        self.nodes.append(ref)
        return ref

    def set(self, ref: NodeRef, /, **bindings: Any) -> None:
        """Wire inputs or set parameters of a placed node."""
        inputs = {i["name"]: i for i in ref.node.get("inputs", [])}
        parameters = {p["name"]: p for p in ref.node.get("parameters", [])}
        for name, value in bindings.items():
            links = _links(value)
            if name in inputs and links is not None:
                inputs[name]["values"].extend({"node_id": link.node.id, "output_id": link.name} for link in links)
            elif name in parameters and links is None:
                parameters[name]["value"] = value
            else:
                raise KeyError(f"`{ref.node.get('title')}` has no {'input' if links else 'parameter'} `{name}`; "
                               f"inputs {sorted(inputs)}, parameters {sorted(p for p in parameters if p[0] != '_')}")

    def file(self, resource_id: str, file_type: str = "file", title: str = "File",
             node_id: str | None = None) -> NodeRef:
        """A file node offering a stored resource (see `Client.upload`)."""
        return self.add({"base_node_name": "file", "title": title,
                         "outputs": [{"name": "out", "file_type": file_type, "resource_id": resource_id}]},
                        node_id=node_id)

    def targets(self, refs: Iterable[NodeRef]) -> Graph:
        """Keep only these nodes and what they depend on (the seed's graph of targets)."""
        by_id = {ref.id: ref for ref in self.nodes}
        keep: dict[str, NodeRef] = {}
        stack = list(refs)
        while stack:
            ref = stack.pop()
            if ref.id in keep:
                continue
            keep[ref.id] = ref
            stack.extend(by_id[v["node_id"]] for i in ref.node.get("inputs", []) for v in i["values"]
                         if v["node_id"] in by_id)
        self.nodes = [ref for ref in self.nodes if ref.id in keep]
        return self

    def to_dict(self) -> dict:
        """The graph as `POST /graphs` takes it."""
        graph = {"title": self.title, "description": self.description, "nodes": [ref.node for ref in self.nodes]}
        if self.graph_id:
            graph["_id"] = self.graph_id
        return graph


def variable_name(title: str, taken: set[str]) -> str:
    """A python identifier from a node title, unique among `taken` (for generated code)."""
    base = re.sub(r"\W+", "_", title.lower()).strip("_") or "node"
    if base[0].isdigit():
        base = f"n_{base}"
    name, i = base, 2
    while name in taken or name in ("graph", "client", "plynx", "Graph", "Client"):
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name
