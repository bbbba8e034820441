"""A graph as stored: a header item, and its nodes as items of one graph-nodes partition per saved
version and per run, which the runner updates one by one.

A save writes its nodes under a new partition (`version_items`) and then flips the header to it; APPROVE
copies them into the run's own partition (`run_items`) and then flips the header to the run. A reader
follows the header, so it sees one whole version, or one whole run, never a mix; the partition replaced
goes after the flip. A composite's operations at run time are under `<run partition>.<composite id>`.
"""
from __future__ import annotations

import collections
import json
import re
import secrets
import threading
from typing import Iterable

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from chalicelib.domain.enums import BaseNodeNames
from chalicelib.domain.errors import NotFoundError

from .models import GraphModel, GraphNodeModel

LISTING = "graph"
# `~` is never in an id (domain.util.check_id), so no partition below is a graph's id or another's.
RUN_PREFIX = "run~"


def node_from_item(item: GraphNodeModel) -> dict:
    """A graph node with the runner's status and results folded in."""
    node = dict(item.body)
    node["node_running_status"] = item.node_running_status
    for field in ("outputs", "logs"):
        results = getattr(item, field) or {}
        node[field] = [dict(entry, resource_id=results.get(entry["name"], entry.get("resource_id")))
                       for entry in node.get(field, [])]
    if item.restored_from:
        node["restored_from"] = dict(item.restored_from)
    return node


def load_model(graph_id: str) -> GraphModel:
    """A graph's header, or 404."""
    try:
        return GraphModel.get(graph_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFoundError(f"Graph `{graph_id}` not found") from exc


def version_items(graph_id: str, version: int) -> str:
    """A new partition for the nodes of a version; random, so two saves racing from one version never
    write into each other's (one of them will not be flipped to)."""
    return f"{graph_id}~{version}~{secrets.token_hex(4)}"


def run_items(graph_id: str, run_id: str) -> str:
    """The partition of a run's nodes; `graph_id` may be a composite's sub-graph (`top.node...`)."""
    _, dot, inner = graph_id.partition(".")
    return f"{RUN_PREFIX}{run_id}{dot}{inner}"


def saved_items(model: GraphModel) -> str:
    """The partition of the header's version."""
    return model.nodes_key or model.id


def shown_items(model: GraphModel) -> str:
    """The partition a reader shows: the current run's nodes (once written), else the saved version's.

    A graph saved before versions had partitions keeps its nodes and its last run in its id's partition.
    """
    if model.nodes_key is None:
        return model.id
    # a run being prepared has no nodes yet (chalicelib/engine/preparation.py): its version's are shown
    return run_items(model.id, model.run_id) if model.run_id and not model.nodes_pending else model.nodes_key


def replaced_items(model: GraphModel) -> str | None:
    """The run partition a new run or a save replaces (none before a run, or for a graph saved before
    versions had partitions: its run is in its version's partition)."""
    return run_items(model.id, model.run_id) if model.run_id and model.nodes_key else None


def unchanged(model: GraphModel) -> Condition:
    """The header still names the version and the run it had when `model` was read."""
    version = GraphModel.version.does_not_exist() if model.version is None else GraphModel.version == model.version
    run = GraphModel.run_id.does_not_exist() if model.run_id is None else GraphModel.run_id == model.run_id
    return version & run


def node_items(partition: str) -> Iterable[GraphNodeModel]:
    """Every node item of a partition, paged by pynamodb under DynamoDB's 1 MB query pages."""
    return GraphNodeModel.query(partition, consistent_read=True)


# A version's partition never changes once written (a save writes a new one, and it is only ever dropped whole,
# after the header no longer names it): the last few read whole or written are kept in memory (as JSON: each
# reader gets items of its own to change), so APPROVE does not read back the 10,000 nodes it has just read
# (validation) or saved.
_VERSION_PARTITION = re.compile(r"^[^~]+~[0-9]+~[0-9a-f]+$")
_VERSIONS: collections.OrderedDict[str, tuple[int, str]] = collections.OrderedDict()
_VERSIONS_KEEP = 2
_VERSIONS_LOCK = threading.Lock()


def remember(partition: str, items: list[GraphNodeModel]) -> None:
    """Keep a version's whole item list (read or written); other partitions change, and are not kept."""
    if not _VERSION_PARTITION.match(partition):
        return
    kept = (len(items), json.dumps([item.attribute_values for item in items], separators=(",", ":")))
    with _VERSIONS_LOCK:
        _VERSIONS[partition] = kept
        _VERSIONS.move_to_end(partition)
        while len(_VERSIONS) > _VERSIONS_KEEP:
            _VERSIONS.popitem(last=False)


def whole_items(partition: str, count: int) -> list[GraphNodeModel]:
    """The node items of a partition the header names (`count` of them: a whole version or run), in the order a
    query reads them; a version's from memory when it was read or written whole lately."""
    with _VERSIONS_LOCK:
        kept = _VERSIONS.get(partition)
    if kept is not None and kept[0] == count:
        return [GraphNodeModel(**values) for values in json.loads(kept[1])]
    items = list(node_items(partition))
    if len(items) == count:  # a read racing the drop of a partition no longer named is not kept
        remember(partition, items)
    return items


def drop(partition: str) -> int:
    """Delete a partition replaced by a flip, and the partitions of the composites in it; returns the count.

    BatchWriteItem takes 25 items a request: pynamodb's batch cuts them so and resends what is unprocessed.
    """
    items = list(node_items(partition))
    with GraphNodeModel.batch_write() as batch:
        for item in items:
            batch.delete(item)
    return len(items) + sum(drop(f"{partition}.{item.node_id}") for item in items
                            if item.body.get("base_node_name") == BaseNodeNames.GRAPH)
