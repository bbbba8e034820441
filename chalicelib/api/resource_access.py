"""Who may read a resource: whoever may view a node or graph that holds it, or who stored it.

Owner records (chalicelib/store/owners.py) are written when content is stored: an upload for its
uploader, a run's outputs and logs for the graph's author, a graph's or library file's resources for
its author. An id the caller may not read is answered exactly like an id that does not exist, so ids
are no oracle of what others have stored.
"""
from __future__ import annotations

from collections.abc import Iterable

from chalicelib.domain import permissions
from chalicelib.domain.graph import file_resource_ids, top_graph_id
from chalicelib.domain.enums import IAMPolicies
from chalicelib.domain.errors import BadRequestError, NotFoundError
from chalicelib.store import owners, storage


def readable(resource_ids: Iterable[str], user: str) -> set[str]:
    """The ids among these that the caller may read."""
    ids = {resource_id for resource_id in resource_ids if storage.is_resource_id(resource_id)}
    if not ids:
        return set()
    if permissions.has(user, IAMPolicies.IS_ADMIN):
        return ids
    found = owners.held(ids, [permissions.holder(kind, str(user)) for kind in permissions.KINDS])
    for kind in permissions.KINDS:
        if not permissions.may_view_others(user, kind):
            continue
        for resource_id in sorted(ids - found):
            if any(permissions.may_read_held(user, held) for held in owners.holders(resource_id, f"{kind}:", 1)):
                found.add(resource_id)
    return found


def check_readable(resource_id: str, user: str) -> None:
    """404, worded as for a missing id, unless the caller may read it."""
    if not readable([resource_id], user):
        raise NotFoundError(f"Resource `{resource_id}` not found")


def check_files(nodes: list[dict], user: str, where: str) -> set[str]:
    """400 when a file node (in composites too) names a resource the caller may not read, worded as for a
    missing id; the ids named otherwise. A run hands these to operations, so naming one is reading it."""
    ids = file_resource_ids(nodes)
    if not ids or permissions.has(user, IAMPolicies.IS_ADMIN):
        return ids
    missing = sorted(ids - readable(ids, user))
    if missing:
        raise BadRequestError(f"{where}: a file node names resource `{missing[0]}`, which was not found; "
                              "upload the file instead")
    return ids


def hold_files(nodes: list[dict], kind: str, author: str) -> None:
    """The author of a graph or library node holds the resources its file nodes name."""
    ids = file_resource_ids(nodes)
    if ids:
        owners.record(ids, permissions.holder(kind, author))


def record_upload(resource_id: str, user: str) -> None:
    """The uploader holds what they uploaded (equal content: one more holder)."""
    owners.record([resource_id], permissions.holder(permissions.NODE, str(user)))


def backfill() -> int:
    """Record the holders of what was stored before owner records existed (an upgraded stage or a saved
    local stack): graphs' files and results for their authors, library files for theirs, and the author of
    cache entries that lack one. Idempotent; reads every graph node once. Returns the records written."""
    from chalicelib.store.graph_items import LISTING as GRAPHS
    from chalicelib.store.models import CacheModel, GraphModel, GraphNodeModel, NodeModel

    authors = {model.id: model.author for model in GraphModel.by_listing.query(GRAPHS)}
    held: dict[str, set[str]] = {}
    for item in GraphNodeModel.scan():
        author = authors.get(top_graph_id(item.graph_id))
        if author is None:
            continue
        ids = file_resource_ids([item.body]) | set((item.outputs or {}).values()) | set((item.logs or {}).values())
        held.setdefault(permissions.holder(permissions.GRAPH, author), set()).update(ids)
    for model in NodeModel.scan():
        held.setdefault(permissions.holder(permissions.NODE, model.author), set()).update(
            file_resource_ids([model.body]))
    for entry in CacheModel.scan():
        author = entry.author or authors.get(top_graph_id(entry.graph_id or ""))
        if author is None:
            continue
        if entry.author is None:
            entry.update(actions=[CacheModel.author.set(author)])
        held.setdefault(permissions.holder(permissions.GRAPH, author), set()).update(
            [*entry.outputs.values(), *entry.logs.values()])
    count = 0
    for holder, ids in held.items():
        ids = {resource_id for resource_id in ids if storage.is_resource_id(resource_id)}
        if ids:
            owners.record(ids, holder)
            count += len(ids)
    return count
