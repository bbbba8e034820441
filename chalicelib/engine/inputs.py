"""What an operation reads: the nodes upstream of it, with their results, in one BatchGet.

`partition`: where the nodes of the operation's run are (store.graph_items.run_items).
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import NamedTuple

from chalicelib.domain.graph import dependencies, input_types, resolve_inputs
from chalicelib.store.graph_items import node_from_item
from chalicelib.store.models import GraphNodeModel


class Upstream(NamedTuple):
    """What an operation reads of the nodes upstream of it."""

    nodes: dict[str, dict]  # by id, with their results
    created: frozenset[str]  # outputs whose content their upload created in this run (no earlier run had it)
    contents: dict[str, bytes]  # small outputs' bytes by id, as their runners wrote them (to check against their ids)


def upstream_nodes(partition: str, node: dict, known: Mapping[str, dict] | None = None) -> dict[str, dict]:
    """The nodes an operation reads, by id, with their results (one BatchGet for those not `known`: nodes of
    this run seen ended already, whose results never change)."""
    return upstream_read(partition, node, known).nodes


def upstream_read(partition: str, node: dict, known: Mapping[str, dict] | None = None) -> Upstream:
    """upstream_nodes, with what their ends say of their outputs (`created`, `inline`) for the nodes read."""
    found = {node_id: known[node_id] for node_id in dependencies(node) if known and node_id in known}
    wanted = [node_id for node_id in dependencies(node) if node_id not in found]
    created: set[str] = set()
    contents: dict[str, bytes] = {}
    if wanted:
        for item in GraphNodeModel.batch_get([(partition, node_id) for node_id in wanted], consistent_read=True):
            found[item.node_id] = node_from_item(item)
            created.update(item.created or ())
            contents.update(decoded(item.inline or {}))
    return Upstream(found, frozenset(created), contents)


def decoded(inline: Mapping[str, str]) -> dict[str, bytes]:
    """Small outputs' bytes from the base64 an end carries them in (`inline`), by id; what does not decode is
    not what a runner writes, and is read from S3 instead."""
    contents: dict[str, bytes] = {}
    for resource_id, text in inline.items():
        try:
            contents[resource_id] = base64.b64decode(text, validate=True)
        except (binascii.Error, TypeError, ValueError):
            continue
    return contents


def input_resources(partition: str, node: dict, upstream: dict[str, dict] | None = None) -> dict[str, list[str]]:
    """The resource ids behind each input of a node (`upstream`: the nodes it reads, if read already)."""
    return resolve_inputs(node, upstream_nodes(partition, node) if upstream is None else upstream)


def upstream_types(partition: str, node: dict, upstream: dict[str, dict] | None = None) -> dict[str, list[str]]:
    """The file_type of each output an operation's inputs read (`upstream`: as above)."""
    return input_types(node, upstream_nodes(partition, node) if upstream is None else upstream)
