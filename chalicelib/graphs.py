"""Graphs: a header item and one item per node, read and written as the seed's Graph object."""
from __future__ import annotations

import copy
from typing import Any, Iterable

from pynamodb.exceptions import DoesNotExist

from . import search
from .enums import BaseNodeNames, GraphRunningStatus, NodeRunningStatus
from .errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError
from .models import GraphModel, GraphNodeModel
from .nodes import clean_node
from .util import check_id, new_id, now

LISTING = "graph"
_RUNTIME_FIELDS = ("node_running_status", "_readonly", "author", "insertion_date", "update_date")


def new_graph(user: str) -> dict:
    """The empty graph of `GET /graphs/new`; not stored until saved."""
    return {
        "_id": new_id(),
        "title": "New graph",
        "description": "",
        "author": user,
        "graph_running_status": GraphRunningStatus.CREATED,
        "insertion_date": None,
        "update_date": None,
        "nodes": [],
        "_readonly": False,
    }


def clean_graph(raw: Any, user: str) -> dict:
    """A client's graph JSON made well-formed, or a 400 that says what is wrong."""
    if not isinstance(raw, dict):
        raise BadRequestError("`graph` must be a JSON object")
    graph = new_graph(user)
    graph["_id"] = check_id(raw.get("_id") or graph["_id"], "graph._id")
    for field in ("title", "description"):
        value = raw.get(field, graph[field])
        if not isinstance(value, str):
            raise BadRequestError(f"`graph.{field}` must be a string")
        graph[field] = value
    nodes = raw.get("nodes", [])
    if not isinstance(nodes, list):
        raise BadRequestError("`graph.nodes` must be a list")
    graph["nodes"] = [clean_node(node, user, f"graph.nodes[{i}]") for i, node in enumerate(nodes)]
    ids = [node["_id"] for node in graph["nodes"]]
    if len(set(ids)) != len(ids):
        raise BadRequestError("`graph.nodes` has duplicate `_id`s")
    return graph


def _header(model: GraphModel, user: str) -> dict:
    return {
        "_id": model.id,
        "title": model.title,
        "description": model.description,
        "author": model.author,
        "graph_running_status": model.graph_running_status,
        "insertion_date": model.insertion_date,
        "update_date": model.update_date,
        "run_id": model.run_id,
        "_readonly": model.author != user,
    }


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


def get_graph(graph_id: str, user: str) -> dict:
    """The stored graph with live node statuses."""
    model = load_model(graph_id)
    graph = _header(model, user)
    graph["nodes"] = [node_from_item(item) for item in node_items(graph_id)]
    for node in graph["nodes"]:
        node["_readonly"] = graph["_readonly"]
    return graph


def save_graph(graph: dict, user: str) -> dict:
    """Create or replace a graph that is not running; node results of an earlier run are dropped."""
    try:
        existing: GraphModel | None = GraphModel.get(graph["_id"], consistent_read=True)
    except DoesNotExist:
        existing = None
    if existing is not None:
        if existing.author != user:
            raise ForbiddenError(f"Graph `{graph['_id']}` belongs to `{existing.author}` and is read only")
        if existing.graph_running_status in GraphRunningStatus.ACTIVE:
            raise ConflictError(
                f"Graph `{graph['_id']}` is {existing.graph_running_status}; cancel it or clone it to change it"
            )
    stamp = now()
    header = GraphModel(
        graph["_id"],
        listing=LISTING,
        author=user,
        title=graph["title"],
        description=graph["description"],
        graph_running_status=GraphRunningStatus.CREATED,
        insertion_date=existing.insertion_date if existing else stamp,
        update_date=stamp,
        node_count=len(graph["nodes"]),
    )
    keep = {node["_id"] for node in graph["nodes"]}
    stale = [item for item in node_items(graph["_id"]) if item.node_id not in keep] if existing else []
    with GraphNodeModel.batch_write() as batch:
        for node in graph["nodes"]:
            body = copy.deepcopy(node)
            for field in _RUNTIME_FIELDS:
                body.pop(field, None)
            status = (NodeRunningStatus.STATIC if node["base_node_name"] == BaseNodeNames.FILE
                      else NodeRunningStatus.CREATED)
            batch.save(GraphNodeModel(graph["_id"], node["_id"], body=body, node_running_status=status,
                                      update_date=stamp))
        for item in stale:
            batch.delete(item)
    # The header goes last: a reader never sees a header whose nodes are not written yet.
    header.save()
    return get_graph(graph["_id"], user)


def search_graphs(query: dict, user: str) -> tuple[list[dict], int]:
    """Graphs matching the body of `POST /search_graphs`, newest first, and their total count."""
    request = search.parse_request(query)
    unknown = set(request.statuses) - GraphRunningStatus.ALL
    if unknown:
        raise BadRequestError(f"Unknown graph status {sorted(unknown)}")
    statuses = set(request.statuses)
    models = [
        m for m in search.query_listing(GraphModel, LISTING, request.author)
        if (not statuses or m.graph_running_status in statuses)
        and search.matches_text(request.text, m.title, m.description)
    ]
    return search.page(models, request, lambda m: _header(m, user))
