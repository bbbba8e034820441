"""Nodes (operations and files): defaults per base node and input sanitising, so bad input is a precise 400."""
from __future__ import annotations

import json
from typing import Any

from . import composite, parameters
from .enums import FILE_KIND, BaseNodeNames, NodeRunningStatus, NodeStatus, ParameterTypes, SpecialNodeId
from .errors import BadRequestError, NotFoundError
from .graph import NODES_PARAMETER, parameter
from .util import check_id, new_id

MAX_NODE_BYTES = 300_000  # one node is one DynamoDB item (400 KB), with room for its results
_LOGS = ("stderr", "stdout", "worker")
_DEFAULT_CMD = {
    BaseNodeNames.PYTHON: ("python", "# inputs, outputs and params are dicts; write your outputs' files\n"),
    BaseNodeNames.BASH_JINJA2: ("sh", "set -e\n\n"),
}
_TITLES = {
    BaseNodeNames.PYTHON: "New python operation",
    BaseNodeNames.BASH_JINJA2: "New bash operation",
    BaseNodeNames.FILE: "New file",
    BaseNodeNames.GRAPH: "New composite operation",
}


def _parameter(name: str, parameter_type: str, value: Any, publicable: bool = False) -> dict:
    return {
        "name": name,
        "parameter_type": parameter_type,
        "value": value,
        "mutable_type": False,
        "removable": False,
        "publicable": publicable,
        "widget": None,
    }


def default_node(base_node_name: str, author: str) -> dict:
    """The empty operation of a base node, as `GET /nodes/{python|bash_jinja2|file}` returns it."""
    if base_node_name not in BaseNodeNames.ALL:
        raise NotFoundError(f"Unknown base node `{base_node_name}`")
    node: dict[str, Any] = {
        "_id": new_id(),
        "title": _TITLES[base_node_name],
        "description": "",
        "base_node_name": base_node_name,
        "parent_node_id": None,
        "successor_node_id": None,
        "inputs": [],
        "outputs": [],
        "parameters": [],
        "logs": [],
        "node_running_status": NodeRunningStatus.CREATED,
        "node_status": NodeStatus.CREATED,
        "cache_url": "",
        "x": 0,
        "y": 0,
        "author": str(author),
        "starred": False,
        "_version": None,
    }
    if base_node_name == BaseNodeNames.FILE:
        node["outputs"] = [{"name": "out", "file_type": FILE_KIND, "resource_id": None}]
        node["node_running_status"] = NodeRunningStatus.STATIC
        return node
    if base_node_name == BaseNodeNames.GRAPH:
        # its operations are a sub-graph; each keeps its own cache, timeout and placement
        node["parameters"] = [_parameter(NODES_PARAMETER, ParameterTypes.LIST_NODE, [])]
        node["parameters"][0]["value"] = composite.default_inner(node)
        node["logs"] = [{"name": "worker", "file_type": FILE_KIND, "resource_id": None}]
        return node
    mode, cmd = _DEFAULT_CMD[base_node_name]
    node["parameters"] = [
        _parameter("_cmd", ParameterTypes.CODE, {"mode": mode, "value": cmd}),
        _parameter("_cacheable", ParameterTypes.BOOL, True),
        _parameter("_timeout", ParameterTypes.INT, 600, publicable=True),
    ]
    node["logs"] = [{"name": name, "file_type": FILE_KIND, "resource_id": None} for name in _LOGS]
    return node


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise BadRequestError(f"`{where}` must be of type {names}")
    return value


def _name(item: dict, where: str) -> str:
    name = _expect(item.get("name"), str, f"{where}.name")
    if not name:
        raise BadRequestError(f"`{where}.name` must not be empty")
    return name


def _unique(items: list[dict], where: str) -> None:
    names = [item["name"] for item in items]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise BadRequestError(f"`{where}` has duplicate names: {', '.join(duplicates)}")


def _clean_input(raw: Any, where: str) -> dict:
    _expect(raw, dict, where)
    values = []
    for j, value in enumerate(_expect(raw.get("values", []), list, f"{where}.values")):
        _expect(value, dict, f"{where}.values[{j}]")
        values.append(
            {
                "node_id": _expect(value.get("node_id"), str, f"{where}.values[{j}].node_id"),
                "output_id": _expect(value.get("output_id"), str, f"{where}.values[{j}].output_id"),
                "resource_id": value.get("resource_id"),
            }
        )
    file_types = _expect(raw.get("file_types", [FILE_KIND]), list, f"{where}.file_types")
    return {
        "name": _name(raw, where),
        "file_types": [_expect(t, str, f"{where}.file_types") for t in file_types],
        "values": values,
        "min_count": _expect(raw.get("min_count", 1), int, f"{where}.min_count"),
        "max_count": _expect(raw.get("max_count", 1), int, f"{where}.max_count"),
    }


def _clean_output(raw: Any, where: str) -> dict:
    _expect(raw, dict, where)
    resource_id = raw.get("resource_id")
    if resource_id is not None:
        _expect(resource_id, str, f"{where}.resource_id")
    return {
        "name": _name(raw, where),
        "file_type": _expect(raw.get("file_type", FILE_KIND), str, f"{where}.file_type"),
        "resource_id": resource_id,
    }


def _clean_parameter(raw: Any, where: str) -> dict:
    _expect(raw, dict, where)
    parameter_type = _expect(raw.get("parameter_type", ParameterTypes.STR), str, f"{where}.parameter_type")
    if parameter_type not in ParameterTypes.ALL:
        raise BadRequestError(f"`{where}.parameter_type` `{parameter_type}` is not one of {sorted(ParameterTypes.ALL)}")
    cleaned = _parameter(_name(raw, where), parameter_type, raw.get("value", parameters.default_value(parameter_type)))
    for flag in ("mutable_type", "removable", "publicable"):
        cleaned[flag] = bool(raw.get(flag, cleaned[flag]))
    cleaned["widget"] = raw.get("widget")
    return cleaned


def clean_version(value: Any, where: str) -> int | None:
    """The `_version` a client read (optimistic locking), or None when it does not say."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadRequestError(f"`{where}` must be the non-negative integer `_version` you read")
    return value


# Fields a node may carry: ours, the seed's REST chapter's, and the seed's `plynx.db.node.Node`
# (accepted and ignored, so a node exported from PLynx posts as is). Anything else is a typo: 400.
NODE_FIELDS = frozenset({
    "_id", "_version", "_readonly", "title", "description", "base_node_name", "parent_node_id", "parent_node",
    "successor_node_id", "successor_node", "inputs", "outputs", "parameters", "logs", "node_running_status",
    "node_status", "cache_url", "x", "y", "author", "starred", "insertion_date", "update_date",
    "_type", "_cached_node", "kind", "original_node_id", "template_node_id", "origin", "code_hash",
    "code_function_location", "auto_sync", "auto_run", "auto_run_enabled", "latest_run_id",
    "archived",  # when it was archived (chalicelib/api/lifecycle.py): read-only, ignored when posted back
    "version_number", "first_version_id",  # search_nodes' lineage: read-only, ignored when posted back
    "restored_from",  # a restored operation's source run: read-only, ignored when posted back
})


def reject_unknown(raw: dict, known: frozenset[str], where: str) -> None:
    """A 400 naming fields the API does not know, instead of silently dropping a misspelt one."""
    unknown = sorted(set(raw) - known)
    if unknown:
        raise BadRequestError(f"`{where}` has unknown fields {unknown}; known fields: {sorted(known)}")


def check_title(raw: dict, default: str, where: str) -> str:
    title = _expect(raw.get("title", default), str, f"{where}.title")
    if not title.strip():
        raise BadRequestError(f"`{where}.title` must not be empty")
    return title


def clean_node(raw: Any, author: str, where: str = "node", depth: int = 0) -> dict:
    """Turn a client's node JSON into a well-formed node, or say precisely what is wrong with it (400).

    `depth` counts the composite operations this node is inside.
    """
    _expect(raw, dict, where)
    reject_unknown(raw, NODE_FIELDS, where)
    base_node_name = raw.get("base_node_name")
    if not isinstance(base_node_name, str) or base_node_name not in BaseNodeNames.ALL:
        raise BadRequestError(f"`{where}.base_node_name` must be one of {sorted(BaseNodeNames.ALL)}")
    node = default_node(base_node_name, author)
    node["_id"] = check_id(raw.get("_id") or node["_id"], f"{where}._id")
    node["_version"] = clean_version(raw.get("_version"), f"{where}._version")
    node["title"] = check_title(raw, node["title"], where)
    node["description"] = _expect(raw.get("description", "") or "", str, f"{where}.description")
    for field in ("parent_node_id", "successor_node_id"):
        value = raw.get(field, raw.get(field[: -len("_id")]))
        node[field] = None if value is None else _expect(value, str, f"{where}.{field}")
    for field in ("x", "y"):
        node[field] = _expect(raw.get(field, 0), (int, float), f"{where}.{field}")
    node["starred"] = bool(raw.get("starred", False))
    node["node_status"] = raw.get("node_status") if raw.get("node_status") in NodeStatus.ALL else NodeStatus.CREATED
    for field, clean in (("inputs", _clean_input), ("outputs", _clean_output),
                         ("parameters", _clean_parameter), ("logs", _clean_output)):
        if field in raw:
            items = _expect(raw[field], list, f"{where}.{field}")
            node[field] = [clean(item, f"{where}.{field}[{i}]") for i, item in enumerate(items)]
            _unique(node[field], f"{where}.{field}")
    if base_node_name == BaseNodeNames.FILE:
        node["node_running_status"] = NodeRunningStatus.STATIC
    if base_node_name == BaseNodeNames.GRAPH:
        index = next((i for i, p in enumerate(node["parameters"]) if p["name"] == NODES_PARAMETER), None)
        if index is None:
            node["parameters"].insert(0, _parameter(NODES_PARAMETER, ParameterTypes.LIST_NODE, []))
            index = 0
        parameter = node["parameters"][index]
        if parameter["parameter_type"] != ParameterTypes.LIST_NODE:
            raise BadRequestError(f"`{where}.parameters[{index}]` (`{NODES_PARAMETER}`) must be a list_node")
        parameter["value"] = _clean_inner(node, parameter["value"], author,
                                                   f"{where}.parameters[{index}].value", depth)
    size = len(json.dumps(node))
    if size > MAX_NODE_BYTES:
        raise BadRequestError(f"`{where}` is {size} bytes; a node may have at most {MAX_NODE_BYTES}")
    return node


def _clean_inner(owner: dict, raw_nodes: Any, author: str, where: str, depth: int) -> list[dict]:
    """A composite's `_nodes` made well-formed (each node as a graph's node), its special nodes in sync."""
    if depth >= composite.MAX_DEPTH:
        raise BadRequestError(f"`{where}` nests composite operations deeper than {composite.MAX_DEPTH} levels")
    for node_input in owner.get("inputs", []):
        if node_input["max_count"] != 1:
            raise BadRequestError(f"Input `{node_input['name']}` of a composite operation takes exactly one value "
                                  "(max_count 1): it is handed to the operations inside as one resource")
    wiring: dict[str, list[dict]] = {}
    places: dict[str, tuple[float, float]] = {}
    inner = []
    for i, raw in enumerate(_expect(raw_nodes if raw_nodes is not None else [], list, where)):
        _expect(raw, dict, f"{where}[{i}]")
        special = str(raw.get("_id")) in composite.SPECIAL_IDS or str(raw.get("base_node_name")) in BaseNodeNames.SPECIAL
        if special:
            node_id = str(raw.get("_id"))
            if composite.SPECIAL_IDS.get(node_id) != raw.get("base_node_name"):
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
        inner.append(clean_node(raw, author, f"{where}[{i}]", depth=depth + 1))
    unknown = sorted(set(wiring) - {o["name"] for o in owner.get("outputs", [])})
    if unknown:
        raise BadRequestError(f"`{where}`: the Outputs node wires {unknown}, which are not outputs of the composite")
    ids = [node["_id"] for node in inner]
    if len(set(ids)) != len(ids) or set(ids) & set(composite.SPECIAL_IDS):
        raise BadRequestError(f"`{where}` has duplicate `_id`s")
    return composite.specials(owner, wiring, places) + inner


def command_text(node: dict) -> str:
    """The script of an operation: `_cmd` (current) or `cmd` (the seed's older examples)."""
    found = parameter(node, "_cmd") or parameter(node, "cmd")
    if found is None:
        return ""
    value = found["value"]
    if isinstance(value, dict):
        value = value.get("value", "")
    return value if isinstance(value, str) else ""
