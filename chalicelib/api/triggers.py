"""Runs started from outside: a graph's webhook trigger (a secret URL) and its file triggers (a new version of
a file). Both start runs through run_graph, as APPROVE does, on behalf of the trigger's creator.

Who may see a graph's triggers (not the token: it is shown once): who may see the graph. Who may make,
rotate or revoke them: who may run the graph. A firing is refused when its creator may no longer run it.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

from chalicelib.domain import automation, permissions, upgrade
from chalicelib.domain.enums import BaseNodeNames, NodeStatus
from chalicelib.domain.errors import BadRequestError, ConflictError, NotFoundError, TooManyAttemptsError
from chalicelib.store import automation as store
from chalicelib.store import throttle
from chalicelib.store.models import AutomationModel

from . import actions, graphs, library, users

LOG = logging.getLogger(__name__)
# How a triggered run was started, as its record's `how` says (`started_by`: the trigger's creator).
WEBHOOK, FILE = "WEBHOOK", "FILE"
TRIGGER_PATH = "/plynx/api/v0/triggers/"


def _api_url() -> str:
    """Where the API is reached from outside: the UI's config names it; the URL shown is relative otherwise."""
    import os

    return os.environ.get("PLYNX_API_URL", "").rstrip("/")


def _webhook_view(record: AutomationModel | None, token: str | None = None) -> dict | None:
    if record is None:
        return None
    view = {"created": record.created, "created_by": record.username, "last": dict(record.data or {}) or None}
    if token is not None:  # shown once, at creation and rotation
        view.update(token=token, url=f"{_api_url()}{TRIGGER_PATH}{token}")
    return view


def _file_view(record: AutomationModel) -> dict:
    data = dict(record.data or {})
    return {"file_id": data.pop("file_id", record.item.split("#", 1)[1]), "created": record.created,
            "created_by": record.username, "last": data or None}


def show(graph_id: str, user: str) -> dict:
    """The graph's triggers (who may see the graph)."""
    graphs.get_graph(graph_id, user)  # 404/403 as the graph
    return {"webhook": _webhook_view(store.webhook_of(graph_id)),
            "files": [_file_view(r) for r in store.file_triggers(graph_id)]}


def _runnable(graph_id: str, user: str) -> dict:
    graph = graphs.get_graph(graph_id, user)
    permissions.check_run(user, graph["author"], graph_id)
    return graph


def create_webhook(graph_id: str, user: str, rotate: bool) -> dict:
    """Make the webhook trigger (409 if there is one) or rotate its token (404 if none); the token once."""
    _runnable(graph_id, user)
    previous = store.webhook_of(graph_id)
    if rotate and previous is None:
        raise NotFoundError(f"Graph `{graph_id}` has no webhook trigger to rotate")
    if not rotate and previous is not None:
        raise ConflictError(f"Graph `{graph_id}` has a webhook trigger already; rotate or revoke it")
    token = automation.new_token()
    record = store.put_webhook(graph_id, automation.token_hash(token), str(user), previous)
    return _webhook_view(record, token) or {}


def revoke_webhook(graph_id: str, user: str) -> None:
    _runnable(graph_id, user)
    previous = store.webhook_of(graph_id)
    if previous is None:
        raise NotFoundError(f"Graph `{graph_id}` has no webhook trigger")
    store.delete_webhook(graph_id, previous)


def _counters(address: str | None) -> list[str]:
    # Counted apart from sign-ins: a CI job calling a revoked URL must not lock its office out of signing in.
    return [f"trigger#{key}" for key in throttle.keys(None, address)]


def fire_webhook(token: str, body: dict, address: str | None) -> dict:
    """POST /triggers/{token}: a run of the stored graph with the body's `parameters`, for the creator.

    Unknown and revoked tokens are the same 404 (one lookup by the hash either way); each counts as a
    failure of the client's address, which is refused (429) after throttle.LIMIT of them a minute."""
    counters = _counters(address)
    wait, _ = throttle.blocked(counters)
    if wait:
        raise TooManyAttemptsError(f"Too many unknown trigger URLs; try again in {wait} s", wait)
    unknown = sorted(set(body) - {"parameters"})
    record = store.trigger_by_hash(automation.token_hash(token)) if len(token) <= 200 else None
    if record is None:
        throttle.failed(counters)
        raise NotFoundError("No such trigger")
    if unknown:
        raise BadRequestError(f"A trigger's body takes only `parameters`, not {unknown}")
    run_id = _start(record.graph_id, record.username, WEBHOOK, body.get("parameters"))
    store.note_fired(f"graph#{record.graph_id}", store.WEBHOOK, {"run_id": run_id, "at": _now()})
    return {"graph_id": record.graph_id, "run_id": run_id}


def _now() -> str:
    from chalicelib.domain.util import now

    return now()


def _start(graph_id: str, creator: str, how: str, parameters: Any, graph: dict | None = None) -> str:
    """A run through run_graph (APPROVE's path), acting as the creator with their current policies: a
    creator who may no longer run the graph (or see it, or is deactivated) is refused there."""
    acting = users.acting_for(creator)
    if graph is None:
        graph = graphs.get_graph(graph_id, acting)
    error, message, run_id = actions.run_graph(graph, acting, how=how, parameters=parameters)
    if error is not None or run_id is None:
        raise BadRequestError(f"Graph `{graph_id}` is not valid: {message}")
    return run_id


# --- file triggers ------------------------------------------------------------------------------------


def _file(file_id: str, user: str) -> dict:
    node = library.get_node(file_id, user)  # 404/403 as the file
    if node.get("base_node_name") != BaseNodeNames.FILE:
        raise BadRequestError(f"Node `{file_id}` is not a file")
    return node


def add_file_trigger(graph_id: str, body: dict, user: str) -> dict:
    """Watch a file (an uploaded file node the caller may see): its next version starts a run."""
    if not isinstance(body.get("file_id"), str) or set(body) - {"file_id"}:
        raise BadRequestError("The body is {\"file_id\": \"<the file node's id>\"}")
    _runnable(graph_id, user)
    node = _file(body["file_id"], user)
    if node.get("node_status") != NodeStatus.READY:
        raise BadRequestError(f"File `{node['_id']}` is {node.get('node_status')}: watch its newest version")
    return _file_view(store.put_file_trigger(graph_id, node["_id"], str(user)))


def remove_file_trigger(graph_id: str, file_id: str, user: str) -> None:
    _runnable(graph_id, user)
    if not any(r.item == f"file#{file_id}" for r in store.file_triggers(graph_id)):
        raise NotFoundError(f"Graph `{graph_id}` has no trigger on file `{file_id}`")
    store.delete_file_trigger(graph_id, file_id)


def _only(ids: set[str], lookup: Callable[[Iterable[str]], dict[str, dict]]) -> Callable[[Iterable[str]], dict]:
    return lambda wanted: lookup([i for i in wanted if i in ids])


def new_file_version(old_id: str, new_node: dict) -> list[dict]:
    """A new version of file `old_id` was approved (it is now `new_node`'s predecessor): each watching graph
    has its nodes of that file moved to the new version (saved, as Upgrade nodes would) and runs.

    A failure (the graph is running, invalid, its creator may no longer run it) is noted on the trigger and
    logged; it never fails the upload. The trigger then watches the new version."""
    fired: list[dict] = []
    if new_node.get("base_node_name") != BaseNodeNames.FILE:
        return fired
    for watch in store.watchers(old_id):
        graph_id, creator = watch.graph_id or watch.item, watch.username or ""
        note: dict[str, Any] = {"at": _now(), "version": new_node["_id"]}
        try:
            acting = users.acting_for(creator)
            graph = graphs.get_graph(graph_id, acting)
            permissions.check_run(acting, graph["author"], graph_id)
            lookup = _only({old_id, new_node["_id"]}, library.lookup_for(acting))
            moved, count = upgrade.upgrade_nodes(graph, lookup)
            if count:
                graph = graphs.save_graph(graphs.clean_graph(moved, acting), acting)
            note["run_id"] = _start(graph_id, creator, FILE, None)
        except Exception as exc:  # noqa: BLE001 - the upload stands; the trigger says why it did not run
            LOG.warning("file trigger of graph %s on %s: %s", graph_id, old_id, exc)
            note["error"] = str(exc)[:500]
        store.move_file_trigger(graph_id, old_id, new_node["_id"], creator, note)
        fired.append({"graph_id": graph_id, **note})
    return fired


def after_save(answer: dict) -> dict:
    """After an upload or a node APPROVE: when it made a new version of a file, fire that file's triggers
    (their outcome is in the answer's `triggered`)."""
    replaced, node = answer.get("replaced_node_id"), answer.get("node")
    if replaced and isinstance(node, dict):
        fired = new_file_version(replaced, node)
        if fired:
            answer["triggered"] = fired
    return answer
