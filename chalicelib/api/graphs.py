"""Graphs: a header item and one item per node, read and written as the seed's Graph object."""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.domain import permissions
from chalicelib.domain.enums import BaseNodeNames, GraphRunningStatus, NodeRunningStatus
from chalicelib.domain.errors import BadRequestError, ConflictError
from chalicelib.domain.graph import strip_results
from chalicelib.domain.nodes import check_title, clean_node, clean_version, reject_unknown
from chalicelib.domain.util import check_id, new_id, now
from chalicelib.engine import composite_runs, transitions
from chalicelib.store import search
from chalicelib.store.conditions import condition_failed
from chalicelib.store.graph_items import LISTING, load_model, node_from_item, node_items
from chalicelib.store.models import GraphModel, GraphNodeModel

_RUNTIME_FIELDS = ("node_running_status", "_readonly", "author", "insertion_date", "update_date")
# What `GET /graphs/{id}` returns (and a client may post back) plus the seed's `_type`.
GRAPH_FIELDS = frozenset({"_id", "_version", "_readonly", "_type", "title", "description", "author", "nodes",
                          "graph_running_status", "insertion_date", "update_date", "run_id", "node_count"})


def new_graph(user: str) -> dict:
    """The empty graph of `GET /graphs/new`; not stored until saved."""
    return {
        "_id": new_id(),
        "title": "New graph",
        "description": "",
        "author": str(user),
        "graph_running_status": GraphRunningStatus.CREATED,
        "insertion_date": None,
        "update_date": None,
        "nodes": [],
        "_readonly": False,
        "_version": None,
    }


def clean_graph(raw: Any, user: str) -> dict:
    """A client's graph JSON made well-formed, or a 400 that says what is wrong."""
    if not isinstance(raw, dict):
        raise BadRequestError("`graph` must be a JSON object")
    reject_unknown(raw, GRAPH_FIELDS, "graph")
    graph = new_graph(user)
    graph["_id"] = check_id(raw.get("_id") or graph["_id"], "graph._id")
    graph["_version"] = clean_version(raw.get("_version"), "graph._version")
    graph["title"] = check_title(raw, graph["title"], "graph")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise BadRequestError("`graph.description` must be a string")
    graph["description"] = description
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
        "node_count": int(model.node_count or 0),
        "_readonly": not permissions.may_write(user, permissions.GRAPH, model.author),
        "_version": int(model.version or 0),
    }


def get_graph(graph_id: str, user: str) -> dict:
    """The stored graph with live node statuses (403 if the caller may not see it)."""
    model = load_model(graph_id)
    permissions.check_view(user, permissions.GRAPH, model.author, graph_id)
    graph = _header(model, user)
    graph["nodes"] = [node_from_item(item) for item in node_items(graph_id)]
    for node in graph["nodes"]:
        node["_readonly"] = graph["_readonly"]
        if node["base_node_name"] == BaseNodeNames.GRAPH and graph["run_id"]:
            composite_runs.live_inner(graph_id, node)  # the operations inside, with their run's statuses
    return graph


def _claim(graph: dict, user: str) -> tuple[GraphModel | None, int]:
    """Check rights and state, then take the next version with one conditional write, so of two
    concurrent saves from the same version exactly one proceeds and the other gets a 409."""
    try:
        existing: GraphModel | None = GraphModel.get(graph["_id"], consistent_read=True)
    except DoesNotExist:
        existing = None
    if existing is None:
        permissions.check_write(user, permissions.GRAPH, str(user), graph["_id"])
        return None, 1
    permissions.check_write(user, permissions.GRAPH, existing.author, graph["_id"])
    if existing.graph_running_status in GraphRunningStatus.ACTIVE:
        raise ConflictError(
            f"Graph `{graph['_id']}` is {existing.graph_running_status}; cancel it or clone it to change it"
        )
    current = int(existing.version or 0)
    expected = graph.get("_version")
    if expected is not None and expected != current:
        raise ConflictError(_stale_message("Graph", graph["_id"], expected, current))
    try:
        same = (GraphModel.version == current) if existing.version is not None else GraphModel.version.does_not_exist()
        existing.update(actions=[GraphModel.version.set(current + 1)],
                        condition=same & ~GraphModel.graph_running_status.is_in(*GraphRunningStatus.ACTIVE))
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise ConflictError(f"Graph `{graph['_id']}` changed or started running while you saved it; "
                            "reload it and apply your change again") from exc
    return existing, current + 1


def _stale_message(kind: str, object_id: str, expected: int, current: int) -> str:
    return (f"{kind} `{object_id}` was changed by someone else (you have version {expected}, "
            f"the stored one is {current}); reload it and apply your change again")


def save_graph(graph: dict, user: str) -> dict:
    """Create or replace a graph that is not running; node results of an earlier run are dropped."""
    existing, version = _claim(graph, user)
    stamp = now()
    author = existing.author if existing else str(user)
    header = GraphModel(
        graph["_id"],
        listing=LISTING,
        author=author,
        title=graph["title"],
        description=graph["description"],
        graph_running_status=GraphRunningStatus.CREATED,
        insertion_date=existing.insertion_date if existing else stamp,
        update_date=stamp,
        node_count=len(graph["nodes"]),
        version=version,
    )
    keep = {node["_id"] for node in graph["nodes"]}
    stale = [item for item in node_items(graph["_id"]) if item.node_id not in keep] if existing else []
    with GraphNodeModel.batch_write() as batch:
        for node in graph["nodes"]:
            body = strip_results(node)  # an operation's outputs and logs are results of a run, not the graph
            for field in _RUNTIME_FIELDS:
                body.pop(field, None)
            status = transitions.new_node(NodeRunningStatus.STATIC if node["base_node_name"] == BaseNodeNames.FILE
                                          else NodeRunningStatus.CREATED)
            batch.save(GraphNodeModel(graph["_id"], node["_id"], body=body, node_running_status=status,
                                      update_date=stamp))
        for item in stale:
            batch.delete(item)
    for item in stale:
        if item.body.get("base_node_name") == BaseNodeNames.GRAPH:
            composite_runs.drop_inner(graph["_id"], item.node_id)  # its operations' run items go with it
    # The header goes last: a reader never sees a new graph's header before its nodes.
    try:
        header.save(condition=GraphModel.id.does_not_exist() if existing is None else GraphModel.version == version)
    except PutError as exc:
        if not condition_failed(exc):
            raise
        raise ConflictError(f"Graph `{graph['_id']}` was saved by someone else at the same time; reload it") from exc
    return get_graph(graph["_id"], user)


def search_graphs(query: dict, user: str) -> tuple[list[dict], int]:
    """Graphs matching the body of `POST /search_graphs`, newest first, and their total count."""
    request = search.parse_request(query)
    request.author, visible = permissions.search_scope(user, permissions.GRAPH, request.author)
    if not visible:
        return [], 0
    statuses = search.check_known(request.statuses, GraphRunningStatus.ALL, "graph status")
    source = search.mirror(GraphModel.by_change, LISTING, "graph_running_status")
    models, total = search.find(source, request, statuses, set(), search.batch_get(GraphModel))
    return [_header(m, user) for m in models], total
