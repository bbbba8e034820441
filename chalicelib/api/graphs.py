"""Graphs: a header item and one item per node, read and written as the seed's Graph object."""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import permissions, run_parameters, trials
from chalicelib.domain.enums import BaseNodeNames, GraphRunningStatus, NodeRunningStatus
from chalicelib.domain.errors import BadRequestError, ConflictError, NotFoundError
from chalicelib.domain.graph import strip_results
from chalicelib.domain.nodes import check_title, clean_node, clean_version, reject_unknown
from chalicelib.domain.util import check_id, new_id, now
from chalicelib.engine import composite_runs, preparation, transitions
from chalicelib.store import run_records, search
from chalicelib.store.graph_items import (
    LISTING, drop, load_model, node_from_item, remember, saved_items, shown_items, unchanged, version_items,
    whole_items)
from chalicelib.store.models import GraphModel, GraphNodeModel

from . import resource_access

_RUNTIME_FIELDS = ("node_running_status", "_readonly", "author", "insertion_date", "update_date")
# A saved graph has no run: a save clears what the last run recorded in its header.
_RUN_FIELDS_REMOVED = (GraphModel.run_id.remove(), GraphModel.execution_arn.remove(),
                       GraphModel.state_machine_arn.remove(), GraphModel.error.remove(),
                       GraphModel.prepare_by.remove())
# What `GET /graphs/{id}` returns (and a client may post back) plus the seed's `_type`.
GRAPH_FIELDS = frozenset({"_id", "_version", "_readonly", "_type", "title", "description", "author", "nodes",
                          "graph_running_status", "insertion_date", "update_date", "run_id", "node_count",
                          "latest_run_id", "archived", "preparing"})


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
        "latest_run_id": model.latest_run or model.run_id,  # a save clears `run_id`, not the runs kept
        "node_count": int(model.node_count or 0),
        "_readonly": not permissions.may_write(user, permissions.GRAPH, model.author),
        "_version": int(model.version or 0),
        "archived": model.archived,  # when it was archived (chalicelib/api/lifecycle.py), or None
        "preparing": preparation.preparing(model),
    }


READS = 3  # a reader whose partition was replaced and dropped under it reads the header again, this often


def get_graph(graph_id: str, user: str) -> dict:
    """The stored graph with live node statuses (403 if the caller may not see it)."""
    for _ in range(READS):
        model = load_model(graph_id)
        if trials.hidden(model.listing, model.author, user):  # someone else's trial: no such graph
            raise NotFoundError(f"Graph `{graph_id}` not found")
        permissions.check_view(user, permissions.GRAPH, model.author, graph_id)
        model = preparation.reap(model)  # a run whose preparation died ends FAILED when next read
        partition = shown_items(model)
        items = whole_items(partition, int(model.node_count or 0))
        # A flipped-to partition is whole and only loses items when dropped after the next flip.
        if len(items) == int(model.node_count or 0) or model.nodes_key is None:
            break
    return graph_view(model, partition, items, user)


def graph_view(model: GraphModel, partition: str, items: list[GraphNodeModel], user: str) -> dict:
    """The graph as GET /graphs/{id} shows it, from its header and the items of the partition it shows (APPROVE
    answers with the items it has just written: a 10,000-node graph is not read back for the answer)."""
    graph = _header(model, user)
    # a run's own parameter values are that run's: the graph shows its saved ones
    graph["nodes"] = [run_parameters.apply_to_node(node_from_item(item), item.saved_parameters or {})
                      for item in items]
    for node in graph["nodes"]:
        node["_readonly"] = graph["_readonly"]
        if node["base_node_name"] == BaseNodeNames.GRAPH and graph["run_id"]:
            composite_runs.live_inner(partition, node)  # the operations inside, with their run's statuses
    return graph


def _check(graph: dict, user: str) -> GraphModel | None:
    """The stored header, if any, once the caller may write it, it is not running and `_version` is current."""
    try:
        existing: GraphModel | None = GraphModel.get(graph["_id"], consistent_read=True)
    except DoesNotExist:
        existing = None
    if existing is None:
        permissions.check_write(user, permissions.GRAPH, str(user), graph["_id"])
        return None
    if trials.hidden(existing.listing, existing.author, user):
        raise NotFoundError(f"Graph `{graph['_id']}` not found")
    permissions.check_write(user, permissions.GRAPH, existing.author, graph["_id"])
    if existing.graph_running_status in GraphRunningStatus.ACTIVE:
        raise ConflictError(
            f"Graph `{graph['_id']}` is {existing.graph_running_status}; cancel it or clone it to change it"
        )
    current = int(existing.version or 0)
    expected = graph.get("_version")
    if expected is not None and expected != current:
        raise ConflictError(_stale_message("Graph", graph["_id"], expected, current))
    return existing


def _stale_message(kind: str, object_id: str, expected: int, current: int) -> str:
    return (f"{kind} `{object_id}` was changed by someone else (you have version {expected}, "
            f"the stored one is {current}); reload it and apply your change again")


def _write_nodes(partition: str, nodes: list[dict], stamp: str) -> list[GraphNodeModel]:
    """A version's nodes, under a partition no reader knows yet (25 items a BatchWriteItem, cut by pynamodb);
    returns the items as written."""
    written = []
    with GraphNodeModel.batch_write() as batch:
        for node in nodes:
            body = strip_results(node)  # an operation's outputs and logs are results of a run, not the graph
            for field in _RUNTIME_FIELDS:
                body.pop(field, None)
            status = transitions.new_node(NodeRunningStatus.STATIC if node["base_node_name"] == BaseNodeNames.FILE
                                          else NodeRunningStatus.CREATED)
            written.append(GraphNodeModel(partition, node["_id"], body=body, node_running_status=status,
                                          update_date=stamp))
            batch.save(written[-1])
    written.sort(key=lambda item: item.node_id)  # as a query reads them
    remember(partition, written)
    return written


def save_graph(graph: dict, user: str, listing: str = LISTING) -> dict:
    """Create or replace a graph that is not running; node results of an earlier run are dropped. `listing`:
    `trial` for a trial's graph (domain/trials.py), which no search or list shows."""
    existing = _check(graph, user)
    resource_access.check_files(graph["nodes"], user, f"Graph `{graph['_id']}`")
    resource_access.hold_files(graph["nodes"], permissions.GRAPH, existing.author if existing else str(user))
    version = int(existing.version or 0) + 1 if existing else 1
    partition, stamp = version_items(graph["_id"], version), now()
    items = _write_nodes(partition, graph["nodes"], stamp)
    fields = [GraphModel.listing.set(listing), GraphModel.title.set(graph["title"]),
              GraphModel.description.set(graph["description"]), GraphModel.node_count.set(len(graph["nodes"])),
              GraphModel.version.set(version), GraphModel.nodes_key.set(partition)]
    ours = lambda now_is: now_is.nodes_key == partition  # the write was resent after it landed
    # The new nodes are whole and unseen: this one write makes them the graph, unless a run started (status,
    # run_id) or another save flipped (version) since we read the header; then a 409 and nothing changed.
    try:
        if existing is None:
            header = transitions.move_graph(
                graph["_id"], transitions.NEW, GraphRunningStatus.CREATED, at=stamp, landed=ours,
                actions=[*fields, GraphModel.author.set(str(user)), GraphModel.insertion_date.set(stamp)])
        else:
            header = transitions.move_graph(graph["_id"], transitions.IDLE, GraphRunningStatus.CREATED, at=stamp,
                                            landed=ours, condition=unchanged(existing),
                                            actions=[*fields, *_RUN_FIELDS_REMOVED])
    except transitions.Moved as exc:  # refused for sure; on any other error it may have landed: keep the nodes
        drop(partition)
        if existing is None:
            raise ConflictError(f"Graph `{graph['_id']}` was saved by someone else at the same time; reload it") from exc
        raise ConflictError(f"Graph `{graph['_id']}` changed or started running while you saved it; "
                            "reload it and apply your change again") from exc
    if existing is not None:  # the version and the run replaced (a reader of them reads the header again)
        for old in (saved_items(existing), run_records.unrecorded(existing)):  # a recorded run is kept
            if old:
                drop(old)
    return graph_view(header, partition, items, user)  # as GET /graphs/{id} reads it, without the read


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
