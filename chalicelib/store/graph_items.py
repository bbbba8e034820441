"""A graph as stored: a header item and one item per node, which the runner updates one by one."""
from __future__ import annotations

from typing import Iterable

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.errors import NotFoundError

from .models import GraphModel, GraphNodeModel

LISTING = "graph"


def node_from_item(item: GraphNodeModel) -> dict:
    """A graph node with the runner's status and results folded in."""
    node = dict(item.body)
    node["node_running_status"] = item.node_running_status
    for field in ("outputs", "logs"):
        results = getattr(item, field) or {}
        node[field] = [dict(entry, resource_id=results.get(entry["name"], entry.get("resource_id")))
                       for entry in node.get(field, [])]
    return node


def load_model(graph_id: str) -> GraphModel:
    """A graph's header, or 404."""
    try:
        return GraphModel.get(graph_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFoundError(f"Graph `{graph_id}` not found") from exc


def node_items(graph_id: str) -> Iterable[GraphNodeModel]:
    """Every node item of a graph, paged by pynamodb under DynamoDB's 1 MB query pages."""
    return GraphNodeModel.query(graph_id, consistent_read=True)
