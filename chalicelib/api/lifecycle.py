"""Archive, restore and delete graphs, operations and files (the ARCHIVE, RESTORE and DELETE actions), and the
admin's garbage collection.

Archived objects are hidden from searches and hubs (the search mirror filters them, `archived: true` finds
only them), still read, run and used by id, and restorable by whoever may change them. Deleting is for the
author or an admin: an operation or file that the saved version of a non-archived graph uses is refused
(409 naming those graphs: titles of the ones the caller may see, a count of the others); a graph must not be
running. A delete then asks for a garbage collection pass (chalicelib/engine/gc.py) for what it freed.
"""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib.domain import permissions
from chalicelib.domain.enums import GraphRunningStatus, IAMPolicies
from chalicelib.domain.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from chalicelib.domain.util import check_id, now
from chalicelib.engine import gc
from chalicelib.store import aws, search
from chalicelib.store.conditions import condition_failed
from chalicelib.store.graph_items import load_model as load_graph
from chalicelib.store.graph_items import LISTING, saved_items
from chalicelib.store.models import GraphModel, NodeModel
from chalicelib.store.settings import SETTINGS

from . import graphs, library

ACTIONS = ("ARCHIVE", "RESTORE", "DELETE")
_NAMED = 20  # a refusal names at most this many graphs (and counts the rest)


def _set_archived(model: Any, model_class: Any, archived: bool, what: str) -> None:
    """One conditional write: the item still exists; `update_date` moves so every search mirror sees it."""
    stamp = now()
    value = model_class.archived.set(stamp) if archived else model_class.archived.remove()
    try:
        model.update(actions=[value, model_class.update_date.set(stamp)], condition=model_class.id.exists())
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise NotFoundError(f"{what} not found") from exc


def archive_node(node_id: str, user: str, archived: bool = True) -> dict:
    """ARCHIVE / RESTORE an operation or file: whoever may change it."""
    model = library.load_model(node_id)
    permissions.check_write(user, permissions.NODE, model.author, node_id)
    _set_archived(model, NodeModel, archived, f"Node `{node_id}`")
    return library.get_node(node_id, user)


def archive_graph(graph_id: str, user: str, archived: bool = True) -> dict:
    """ARCHIVE / RESTORE a graph: whoever may change it; a running graph keeps running."""
    model = load_graph(graph_id)
    permissions.check_write(user, permissions.GRAPH, model.author, graph_id)
    _set_archived(model, GraphModel, archived, f"Graph `{graph_id}`")
    return graphs.get_graph(graph_id, user)


def graphs_using(node_id: str) -> list[GraphModel]:
    """Non-archived graphs whose saved version has a node made from this one (its id in a node's body:
    `parent_node_id`, also inside composites). One Scan of the graph-nodes table with a filter: a delete's cost."""
    partitions: set[str] = set()
    paginator = aws.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=SETTINGS.graph_nodes_table, ProjectionExpression="graph_id",
                                   FilterExpression="contains(#body, :id)", ExpressionAttributeNames={"#body": "body"},
                                   ExpressionAttributeValues={":id": {"S": node_id}}, ConsistentRead=True):
        partitions.update(item["graph_id"]["S"] for item in page.get("Items", []))
    candidates = sorted({p.split("~", 1)[0] for p in partitions if not p.startswith(("run~", "runs~", "runid~"))})
    using = [model for model in GraphModel.batch_get(candidates, consistent_read=True)] if candidates else []
    return sorted((m for m in using if not m.archived and saved_items(m) in partitions),
                  key=lambda m: (m.title or "", m.id))


def _refuse_if_used(node_id: str, user: str) -> None:
    using = graphs_using(node_id)
    if not using:
        return
    seen = [m for m in using if permissions.may_view(user, permissions.GRAPH, m.author)]
    named = ", ".join(f"`{m.title}` ({m.id})" for m in seen[:_NAMED])
    hidden = len(using) - len(seen[:_NAMED])
    parts = [named] if named else []
    if hidden:
        parts.append(f"{hidden} graph(s) you may not see" if len(seen) <= _NAMED else f"{hidden} more")
    raise ConflictError(f"Node `{node_id}` is used by {len(using)} graph(s) that are not archived: "
                        f"{' and '.join(parts)}; archive them or remove it from them first")


def _forget(index: Any, listing: str, object_id: str) -> None:
    """This process's search mirror drops a deleted item at once (its count stays exact); other processes'
    drop it when a page of theirs misses it (chalicelib/store/search.py)."""
    source = search.mirror(index, listing, "node_status" if listing == library.LISTING else "graph_running_status",
                           "base_node_name" if listing == library.LISTING else None)
    with source._lock:
        source.forget([object_id])


def delete_node(node_id: str, user: str) -> dict:
    """DELETE an operation or file (author or admin) that no non-archived graph uses."""
    model = library.load_model(node_id)
    permissions.check_delete(user, permissions.NODE, model.author, node_id)
    _refuse_if_used(node_id, user)
    version = int(model.version or 0)
    try:
        model.delete(condition=(NodeModel.version == version) if model.version is not None else None)
    except DeleteError as exc:
        if not condition_failed(exc):
            raise
        raise ConflictError(f"Node `{node_id}` was changed while it was deleted; reload it") from exc
    _forget(NodeModel.by_change, library.LISTING, node_id)
    gc.request_pass()
    return {"_id": node_id, "deleted": True}


def delete_graph(graph_id: str, user: str) -> dict:
    """DELETE a graph (author or admin) that is not running: its runs, versions and state machines go."""
    model = load_graph(graph_id)
    permissions.check_delete(user, permissions.GRAPH, model.author, graph_id)
    if model.graph_running_status in GraphRunningStatus.ACTIVE:
        raise ConflictError(f"Graph `{graph_id}` is {model.graph_running_status}; cancel it first")
    dropped = gc.delete_graph(model)
    _forget(GraphModel.by_change, LISTING, graph_id)
    gc.request_pass()
    return {"_id": graph_id, "deleted": True, **dropped}


def node_action(node_id: Any, action: str, user: str) -> dict:
    """ARCHIVE / RESTORE / DELETE of a stored node by id."""
    node_id = check_id(node_id, "node._id")
    if action == "DELETE":
        return delete_node(node_id, user)
    return archive_node(node_id, user, archived=action == "ARCHIVE")


def graph_action(graph_id: Any, action: str, user: str) -> dict:
    """ARCHIVE / RESTORE / DELETE of a stored graph by id."""
    graph_id = check_id(graph_id, "graph._id")
    if action == "DELETE":
        return delete_graph(graph_id, user)
    return archive_graph(graph_id, user, archived=action == "ARCHIVE")


def collect(body: Any, user: str) -> dict:
    """`POST /gc`: admins run a garbage collection pass, or (`dry_run`) see what it would remove."""
    if not permissions.has(user, IAMPolicies.IS_ADMIN):
        raise ForbiddenError(f"`{user}` may not collect garbage (needs {IAMPolicies.IS_ADMIN})")
    body = body or {}
    if not isinstance(body, dict) or set(body) - {"dry_run"}:
        raise BadRequestError("The body is {\"dry_run\": true|false}")
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadRequestError("`dry_run` must be true or false")
    return gc.collect(dry_run=dry_run).as_dict()
