"""What an operation reads: the nodes upstream of it, with their results, in one BatchGet.

`partition`: where the nodes of the operation's run are (store.graph_items.run_items).
"""
from __future__ import annotations

from collections.abc import Mapping

from chalicelib.domain.graph import dependencies, input_types, resolve_inputs
from chalicelib.store.graph_items import node_from_item
from chalicelib.store.models import GraphNodeModel


def upstream_nodes(partition: str, node: dict, known: Mapping[str, dict] | None = None) -> dict[str, dict]:
    """The nodes an operation reads, by id, with their results (one BatchGet for those not `known`: nodes of
    this run seen ended already, whose results never change)."""
    return upstream_read(partition, node, known)[0]


def upstream_read(partition: str, node: dict,
                  known: Mapping[str, dict] | None = None) -> tuple[dict[str, dict], frozenset[str]]:
    """upstream_nodes, and the ids of the outputs whose content the nodes read created in this run (their
    `created`: no earlier run had that content)."""
    found = {node_id: known[node_id] for node_id in dependencies(node) if known and node_id in known}
    wanted = [node_id for node_id in dependencies(node) if node_id not in found]
    created: set[str] = set()
    if wanted:
        for item in GraphNodeModel.batch_get([(partition, node_id) for node_id in wanted], consistent_read=True):
            found[item.node_id] = node_from_item(item)
            created.update(item.created or ())
    return found, frozenset(created)


def input_resources(partition: str, node: dict, upstream: dict[str, dict] | None = None) -> dict[str, list[str]]:
    """The resource ids behind each input of a node (`upstream`: the nodes it reads, if read already)."""
    return resolve_inputs(node, upstream_nodes(partition, node) if upstream is None else upstream)


def upstream_types(partition: str, node: dict, upstream: dict[str, dict] | None = None) -> dict[str, list[str]]:
    """The file_type of each output an operation's inputs read (`upstream`: as above)."""
    return input_types(node, upstream_nodes(partition, node) if upstream is None else upstream)
