"""The operations library (the seed's `nodes` collection): stored operations and files, read and
changed within the caller's policies. An approved operation is immutable: editing it makes a new version."""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.domain import permissions
from chalicelib.domain.enums import BaseNodeNames, NodeStatus
from chalicelib.domain.errors import ConflictError, NotFoundError
from chalicelib.domain.nodes import default_node
from chalicelib.domain.util import new_id, now
from chalicelib.store import search
from chalicelib.store.conditions import condition_failed
from chalicelib.store.models import NodeModel

from . import resource_access

LISTING = "node"


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
            "archived": model.archived,
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


_STORED_ONLY = ("_id", "author", "node_status", "insertion_date", "update_date", "_readonly", "_version",
                "version_number", "first_version_id", "archived")


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
        if not condition_failed(exc):
            raise
        raise ConflictError(f"Node `{model.id}` was changed by someone else at the same time; reload it") from exc


def save_node(node: dict, user: str, node_status: str | None = None) -> dict:
    """Create or update an operation. An approved one is immutable: editing it saves a new version
    whose `parent_node_id` is the approved one (an unchanged approved node is returned as is)."""
    resource_access.check_files([node], user, f"Node `{node['_id']}`")
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
        archived=existing.archived if existing else None,  # a save is no restore
    )
    resource_access.hold_files([node], permissions.NODE, model.author)  # before a reader sees the ids
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


def approve_node(node: dict, user: str) -> tuple[dict, bool]:
    """APPROVE's save, and whether it approved something (False: an unchanged approved node, returned as is)."""
    try:
        before: str | None = NodeModel.get(node["_id"], consistent_read=True).node_status
    except DoesNotExist:
        before = None
    approved = save_node(node, user, node_status=NodeStatus.READY)
    return approved, approved["_id"] != node["_id"] or before in (None, NodeStatus.CREATED)


def replace_parent(node: dict, user: str) -> str | None:
    """Make a just-approved version the successor of the approved operation it came from, so UPGRADE_NODES
    moves graphs on at once; None when `parent_node_id` names no approved (READY) operation of the same
    author that the caller may change: someone else's operation is never deprecated by another user's APPROVE.
    """
    parent_id = node.get("parent_node_id")
    if not parent_id or parent_id == node["_id"] or node["node_status"] != NodeStatus.READY:
        return None
    try:
        parent = NodeModel.get(parent_id, consistent_read=True)
    except DoesNotExist:
        return None
    if (parent.author != node["author"] or parent.node_status != NodeStatus.READY
            or not permissions.may_write(user, permissions.NODE, parent.author)):
        return None
    version = int(parent.version or 0)
    unchanged = (NodeModel.node_status == NodeStatus.READY) & (NodeModel.author == node["author"]) & (
        (NodeModel.version == version) if version else (NodeModel.version.does_not_exist() | (NodeModel.version == 0)))
    try:
        parent.update(actions=[NodeModel.node_status.set(NodeStatus.DEPRECATED),
                               NodeModel.body.set(dict(parent.body, successor_node_id=node["_id"])),
                               NodeModel.version.set(version + 1), NodeModel.update_date.set(now())],
                      condition=unchanged)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return None  # changed at the same time (deprecated, or a newer version won): left as that writer left it
    return parent_id


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
    return _with_lineage([_to_dict(m, user) for m in models]), total


_MAX_LINEAGE = 50  # a lineage deeper than this is numbered from there (one BatchGet per generation)
# (parent, author) of approved operations this process has read: an approved body never changes, so a
# warm process walks a lineage without reading it again. Bounded; cleared whole when full.
_APPROVED_LINKS: dict[str, tuple[str | None, str]] = {}
_MAX_LINKS = 20_000


def _with_lineage(found: list[dict]) -> list[dict]:
    """Number each operation among the versions of its author it descends from (`version_number`, 1 for the
    first) and name that first version (`first_version_id`), so lists fold older versions under the newest.
    Only same-author ancestors count: someone who may view a node may view its author's other nodes."""
    links = {node["_id"]: (node.get("parent_node_id"), node["author"]) for node in found}
    for _ in range(_MAX_LINEAGE):
        wanted = {parent for parent, _ in links.values() if parent and parent not in links}
        if not wanted:
            break
        links.update({known: _APPROVED_LINKS[known] for known in wanted & _APPROVED_LINKS.keys()})
        wanted -= links.keys()
        if not wanted:
            continue  # all remembered: their parents next
        fetched = list(NodeModel.batch_get(sorted(wanted)))  # pynamodb pages BatchGet by 100, DynamoDB's limit
        links.update({m.id: (m.body.get("parent_node_id"), m.author) for m in fetched})
        links.update({missing: (None, "") for missing in wanted - {m.id for m in fetched}})
        if len(_APPROVED_LINKS) > _MAX_LINKS:
            _APPROVED_LINKS.clear()
        _APPROVED_LINKS.update({m.id: links[m.id] for m in fetched if m.node_status != NodeStatus.CREATED})
    for node in found:
        first, number, seen = node["_id"], 1, {node["_id"]}
        parent, author = links[first]
        while parent and parent in links and parent not in seen and links[parent][1] == author:
            first, number = parent, number + 1
            seen.add(parent)
            parent = links[parent][0]
        node.update(version_number=number, first_version_id=first)
    return found


def lookup_for(user: str) -> Callable[[Iterable[str]], dict[str, dict]]:
    """Stored operations by id as the domain reads them (upgrade), limited to those `user` may view."""

    def lookup(node_ids: Iterable[str]) -> dict[str, dict]:
        wanted = sorted({node_id for node_id in node_ids if node_id})
        found = NodeModel.batch_get(wanted) if wanted else []  # pynamodb pages BatchGet by 100, DynamoDB's limit
        return {model.id: dict(model.body, _id=model.id, author=model.author, node_status=model.node_status)
                for model in found if permissions.may_view(user, permissions.NODE, model.author)}

    return lookup
