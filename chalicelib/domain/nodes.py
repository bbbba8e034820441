"""Nodes (operations and files): defaults per base node, input sanitising, and the operations library."""
from __future__ import annotations

import copy
import json
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.store import search
from chalicelib.store.models import NodeModel

from . import composite, parameters, permissions
from .enums import FILE_KIND, BaseNodeNames, NodeRunningStatus, NodeStatus, ParameterTypes
from .errors import BadRequestError, ConflictError, NotFoundError
from .util import check_id, new_id, now

LISTING = "node"
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
        node["parameters"] = [_parameter(composite.NODES_PARAMETER, ParameterTypes.LIST_NODE, [])]
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
        index = next((i for i, p in enumerate(node["parameters"]) if p["name"] == composite.NODES_PARAMETER), None)
        if index is None:
            node["parameters"].insert(0, _parameter(composite.NODES_PARAMETER, ParameterTypes.LIST_NODE, []))
            index = 0
        parameter = node["parameters"][index]
        if parameter["parameter_type"] != ParameterTypes.LIST_NODE:
            raise BadRequestError(f"`{where}.parameters[{index}]` (`{composite.NODES_PARAMETER}`) must be a list_node")
        parameter["value"] = composite.clean_inner(node, parameter["value"], author,
                                                   f"{where}.parameters[{index}].value", depth)
    size = len(json.dumps(node))
    if size > MAX_NODE_BYTES:
        raise BadRequestError(f"`{where}` is {size} bytes; a node may have at most {MAX_NODE_BYTES}")
    return node


def get_parameter(node: dict, name: str) -> dict | None:
    """A node's parameter by name, or None."""
    return next((p for p in node.get("parameters", []) if p["name"] == name), None)


def command_text(node: dict) -> str:
    """The script of an operation: `_cmd` (current) or `cmd` (the seed's older examples)."""
    parameter = get_parameter(node, "_cmd") or get_parameter(node, "cmd")
    if parameter is None:
        return ""
    value = parameter["value"]
    if isinstance(value, dict):
        value = value.get("value", "")
    return value if isinstance(value, str) else ""


# --- the operations library -------------------------------------------------------------------


def _to_dict(model: NodeModel, user: str) -> dict:
    node = dict(model.body)
    node.update(
        {
            "_id": model.id,
            "author": model.author,
            "node_status": model.node_status,
            "insertion_date": model.insertion_date,
            "update_date": model.update_date,
            "_readonly": not permissions.may_write(user, permissions.NODE, model.author),
            "_version": int(model.version or 0),
        }
    )
    return node


def load_model(node_id: str) -> NodeModel:
    """A stored node, or 404."""
    try:
        return NodeModel.get(node_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFoundError(f"Node `{node_id}` not found") from exc


def get_node(node_id: str, user: str) -> dict:
    """A stored node, or the default node of a base node name (the seed's special ids)."""
    if node_id in BaseNodeNames.ALL:
        return default_node(node_id, user)
    model = load_model(node_id)
    permissions.check_view(user, permissions.NODE, model.author, node_id)
    return _to_dict(model, user)


_STORED_ONLY = ("_id", "author", "node_status", "insertion_date", "update_date", "_readonly", "_version")


def _body(node: dict) -> dict:
    body = copy.deepcopy(node)
    for field in _STORED_ONLY:
        body.pop(field, None)
    return body


def _put(model: NodeModel, previous: int | None) -> None:
    """Write a node only if nobody else wrote it since `previous` (None: only if it is new)."""
    condition = NodeModel.id.does_not_exist() if previous is None else (
        (NodeModel.version == previous) if previous else (NodeModel.version.does_not_exist() | (NodeModel.version == 0)))
    try:
        model.save(condition=condition)
    except PutError as exc:
        raise ConflictError(f"Node `{model.id}` was changed by someone else at the same time; reload it") from exc


def save_node(node: dict, user: str, node_status: str | None = None) -> dict:
    """Create or update an operation. An approved one is immutable: editing it saves a new version
    whose `parent_node_id` is the approved one (an unchanged approved node is returned as is)."""
    try:
        existing: NodeModel | None = NodeModel.get(node["_id"], consistent_read=True)
    except DoesNotExist:
        existing = None
    if existing is None:
        permissions.check_write(user, permissions.NODE, str(user), node["_id"])
    else:
        permissions.check_write(user, permissions.NODE, existing.author, node["_id"])
        current = int(existing.version or 0)
        expected = node.get("_version")
        if expected is not None and expected != current:
            raise ConflictError(f"Node `{node['_id']}` was changed by someone else (you have version {expected}, "
                                f"the stored one is {current}); reload it and apply your change again")
        if existing.node_status != NodeStatus.CREATED:
            if _body(node) == existing.body:
                return _to_dict(existing, user)
            node = dict(node, _id=new_id(), parent_node_id=existing.id, successor_node_id=None, _version=None)
            existing = None
    stamp = now()
    model = NodeModel(
        node["_id"],
        listing=LISTING,
        author=existing.author if existing else str(user),
        title=node["title"],
        description=node["description"],
        base_node_name=node["base_node_name"],
        node_status=node_status or NodeStatus.CREATED,
        insertion_date=existing.insertion_date if existing else stamp,
        update_date=stamp,
        body=_body(node),
        version=int(existing.version or 0) + 1 if existing else 1,
    )
    _put(model, int(existing.version or 0) if existing else None)
    return _to_dict(model, user)


def set_status(node_id: str, user: str, node_status: str, successor_node_id: str | None = None) -> dict:
    """Deprecate an approved operation (optionally naming its successor); the body stays as approved."""
    model = load_model(node_id)
    permissions.check_write(user, permissions.NODE, model.author, node_id)
    if model.node_status == NodeStatus.CREATED:
        raise ConflictError(f"Node `{node_id}` is not approved yet; only approved operations can be deprecated")
    body = dict(model.body, successor_node_id=successor_node_id)
    version = int(model.version or 0)
    model.update(actions=[NodeModel.node_status.set(node_status), NodeModel.body.set(body),
                          NodeModel.version.set(version + 1), NodeModel.update_date.set(now())],
                 condition=(NodeModel.version == version) if model.version is not None else None)
    return _to_dict(model, user)


def clone_node(node_id: str, user: str) -> dict:
    """CLONE: an editable copy owned by the caller whose `parent_node_id` is the original."""
    original = get_node(node_id, user)
    copied = dict(original, _id=new_id(), parent_node_id=node_id, successor_node_id=None, _version=None)
    return save_node(copied, user)


def version_history(node_id: str, user: str, limit: int = 100) -> list[dict]:
    """The operation and its ancestors through `parent_node_id`, newest first."""
    history = [get_node(node_id, user)]
    seen = {node_id}
    while history[-1].get("parent_node_id") and len(history) < limit:
        parent = history[-1]["parent_node_id"]
        if parent in seen:
            break
        seen.add(parent)
        try:
            history.append(get_node(parent, user))
        except NotFoundError:
            break
    return history


def search_nodes(query: dict, user: str) -> tuple[list[dict], int]:
    """Nodes matching the search body of `POST /search_nodes`, newest first, and their total count."""
    request = search.parse_request(query, extra_lists=("base_node_names",))
    request.author, visible = permissions.search_scope(user, permissions.NODE, request.author)
    if not visible:
        return [], 0
    statuses = search.check_known(request.statuses, NodeStatus.ALL, "node status")
    kinds = search.check_known(request.lists["base_node_names"], BaseNodeNames.ALL, "base node name")
    source = search.mirror(NodeModel.by_change, LISTING, "node_status", "base_node_name")
    models, total = search.find(source, request, statuses, kinds, search.batch_get(NodeModel))
    return [_to_dict(m, user) for m in models], total
