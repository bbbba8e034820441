"""The seed's graph editing endpoints (`/graphs/{id}/nodes/...`), PATCH update and CLONE.

Each edit reads the stored graph, changes it and saves it from the version it read, so two
concurrent edits never silently drop one another (the later one gets a 409 and can retry).
"""
from __future__ import annotations

import copy
from typing import Any

from chalicelib.domain import permissions
from chalicelib.domain.enums import BaseNodeNames, GraphRunningStatus, NodeRunningStatus, NodeStatus
from chalicelib.domain.errors import BadRequestError, NotFoundError
from chalicelib.domain.graph import blocked_by_cycles, parameter
from chalicelib.domain.util import check_id, new_id
from chalicelib.domain.validation import link_problem

from . import graphs, library

_INSERTABLE = frozenset({NodeStatus.READY, NodeStatus.DEPRECATED})


def _field(body: Any, name: str, kind: type = str) -> Any:
    if not isinstance(body, dict):
        raise BadRequestError("The body must be a JSON object")
    value = body.get(name)
    if not isinstance(value, kind) or (kind is str and not value):
        raise BadRequestError(f"`{name}` is required and must be a {'non-empty string' if kind is str else kind.__name__}")
    return value


def _editable(graph_id: str, user: str) -> dict:
    graph = graphs.get_graph(graph_id, user)
    permissions.check_write(user, permissions.GRAPH, graph["author"], graph_id)
    return graph


def _node(graph: dict, node_id: str) -> dict:
    found = next((node for node in graph["nodes"] if node["_id"] == node_id), None)
    if found is None:
        raise NotFoundError(f"Graph `{graph['_id']}` has no node `{node_id}`")
    return found


def instance(library_node: dict, x: float = 0, y: float = 0) -> dict:
    """A library operation or file placed in a graph: a new id, `parent_node_id` pointing back."""
    node = copy.deepcopy(library_node)
    for field in ("_readonly", "_version", "insertion_date", "update_date"):
        node.pop(field, None)
    node.update(_id=new_id(), parent_node_id=library_node["_id"], x=x, y=y)
    node["node_running_status"] = (NodeRunningStatus.STATIC if node["base_node_name"] == BaseNodeNames.FILE
                                   else NodeRunningStatus.CREATED)
    for node_input in node.get("inputs", []):
        node_input["values"] = []
    return node


def _save(graph: dict, user: str) -> dict:
    return graphs.save_graph(graphs.clean_graph(graph, user), user)


def list_nodes(graph_id: str, user: str) -> list[dict]:
    """`GET .../nodes/list_nodes`: the graph's nodes with their live statuses."""
    return graphs.get_graph(graph_id, user)["nodes"]


def insert_node(graph_id: str, body: Any, user: str) -> dict:
    """`POST .../nodes/insert_node`: place an approved library node at (x, y)."""
    library_id = check_id(_field(body, "node_id"), "node_id")
    x, y = body.get("x", 0), body.get("y", 0)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (x, y)):
        raise BadRequestError("`x` and `y` must be numbers")
    graph = _editable(graph_id, user)
    library_node = library.get_node(library_id, user)
    if library_node["node_status"] not in _INSERTABLE:
        raise BadRequestError(f"Node `{library_id}` is {library_node['node_status']}; only approved, "
                              "non-mandatory-deprecated operations and files can be placed in a graph")
    node = instance(library_node, x, y)
    graph["nodes"].append(node)
    saved = _save(graph, user)
    return {"graph": saved, "node": _node(saved, node["_id"])}


def remove_node(graph_id: str, body: Any, user: str) -> dict:
    """`POST .../nodes/remove_node`: drop a node and every wire from it."""
    node_id = _field(body, "node_id")
    graph = _editable(graph_id, user)
    _node(graph, node_id)
    graph["nodes"] = [node for node in graph["nodes"] if node["_id"] != node_id]
    for node in graph["nodes"]:
        for node_input in node.get("inputs", []):
            node_input["values"] = [v for v in node_input["values"] if v["node_id"] != node_id]
    return {"graph": _save(graph, user)}


def _endpoints(body: Any) -> tuple[str, str, str, str]:
    ends = []
    for side in ("from", "to"):
        end = _field(body, side, dict)
        ends.extend([_field(end, "node_id"), _field(end, "resource")])
    return ends[0], ends[1], ends[2], ends[3]


def create_link(graph_id: str, body: Any, user: str) -> dict:
    """`POST .../nodes/create_link`: wire an output to an input; wrong types and cycles are a 400."""
    from_id, output_name, to_id, input_name = _endpoints(body)
    graph = _editable(graph_id, user)
    source, target = _node(graph, from_id), _node(graph, to_id)
    problem = link_problem(source, output_name, target, input_name)
    if problem:
        raise BadRequestError(f"Cannot link: {problem}")
    node_input = next(i for i in target["inputs"] if i["name"] == input_name)
    value = {"node_id": from_id, "output_id": output_name, "resource_id": None}
    if any(v["node_id"] == from_id and v["output_id"] == output_name for v in node_input["values"]):
        raise BadRequestError(f"`{output_name}` of `{from_id}` is already linked to `{input_name}`")
    if 0 <= node_input["max_count"] <= len(node_input["values"]):
        raise BadRequestError(f"Input `{input_name}` takes at most {node_input['max_count']} value(s)")
    node_input["values"].append(value)
    if blocked_by_cycles(graph["nodes"]):
        raise BadRequestError(f"Cannot link: `{from_id}` → `{to_id}` would make a cycle")
    return {"graph": _save(graph, user)}


def remove_link(graph_id: str, body: Any, user: str) -> dict:
    """`POST .../nodes/remove_link`: unwire an output from an input."""
    from_id, output_name, to_id, input_name = _endpoints(body)
    graph = _editable(graph_id, user)
    target = _node(graph, to_id)
    node_input = next((i for i in target.get("inputs", []) if i["name"] == input_name), None)
    if node_input is None:
        raise NotFoundError(f"Node `{to_id}` has no input `{input_name}`")
    kept = [v for v in node_input["values"] if not (v["node_id"] == from_id and v["output_id"] == output_name)]
    if len(kept) == len(node_input["values"]):
        raise NotFoundError(f"No link from `{from_id}`.`{output_name}` to `{to_id}`.`{input_name}`")
    node_input["values"] = kept
    return {"graph": _save(graph, user)}


def change_parameter(graph_id: str, body: Any, user: str) -> dict:
    """`POST .../nodes/change_parameter`: set one parameter's value; validation judges the value."""
    node_id, name = _field(body, "node_id"), _field(body, "parameter_name")
    if "parameter_value" not in body:
        raise BadRequestError("`parameter_value` is required")
    graph = _editable(graph_id, user)
    node = _node(graph, node_id)
    found = parameter(node, name)
    if found is None:
        raise NotFoundError(f"Node `{node_id}` has no parameter `{name}`")
    found["value"] = body["parameter_value"]
    return {"graph": _save(graph, user)}


_PATCHABLE = ("title", "description", "_version")


def update(graph_id: str, body: Any, user: str) -> dict:
    """`PATCH /graphs/{id}/update`: change the title or description without sending the nodes."""
    if not isinstance(body, dict) or not body:
        raise BadRequestError(f"The body must be a JSON object with any of {list(_PATCHABLE[:2])}")
    unknown = sorted(set(body) - set(_PATCHABLE))
    if unknown:
        raise BadRequestError(f"Cannot update {unknown}; PATCH takes {list(_PATCHABLE)}")
    graph = _editable(graph_id, user)
    graph.update(body)
    return _save(graph, user)


def clone(graph: dict, user: str) -> dict:
    """CLONE: a copy owned by the caller, ready to edit and run, without the original's results."""
    permissions.check_write(user, permissions.GRAPH, str(user), graph["_id"])
    copied = copy.deepcopy(graph)
    copied.update(_id=new_id(), _version=None, graph_running_status=GraphRunningStatus.CREATED)
    return _save(copied, user)
