"""The seed's `POST /graphs` and `POST /nodes` actions, applied in order, and their responses."""
from __future__ import annotations

import json

import jinja2

from chalicelib.domain import (
    codegen,
    composite,
    layout,
    nodes,
    permissions,
    run_parameters,
    scripts,
    upgrade,
    validation,
)
from chalicelib.domain.enums import (
    FILE_KIND,
    BaseNodeNames,
    NodeStatus,
    PostStatus,
    ValidationCode,
    ValidationTargetType,
)
from chalicelib.domain.errors import BadRequestError, NotFoundError
from chalicelib.domain.resource_kinds import RESOURCES_DICT, check_upload
from chalicelib.engine import quotas, runs
from chalicelib.store import storage
from chalicelib.store.graph_items import shown_items
from chalicelib.store.settings import SETTINGS

from . import graph_edit, graphs, library, lifecycle, resource_access, users

GRAPH_ACTIONS = ("SAVE", "APPROVE", "VALIDATE", "REARRANGE", "UPGRADE_NODES", "CLONE", "CANCEL", "GENERATE_CODE",
                 "CREATE_RUN", *lifecycle.ACTIONS)
NODE_ACTIONS = ("SAVE", "APPROVE", "VALIDATE", "DEPRECATE", "MANDATORY_DEPRECATE", "PREVIEW_CMD", "CLONE",
                *lifecycle.ACTIONS)
# Actions the seed documents that arrive with later issues: named, so the error is precise.
LATER_ACTIONS = ("CREATE_RUN_FROM_SCRATCH",)


def _action_list(body: dict, allowed: tuple[str, ...]) -> list[str]:
    raw = body.get("actions", body.get("action"))
    if raw is None:
        raise BadRequestError(f"`actions` is required: a list of {list(allowed)}")
    actions = [raw] if isinstance(raw, str) else raw
    if not isinstance(actions, list) or not actions or not all(isinstance(a, str) for a in actions):
        raise BadRequestError(f"`actions` must be a non-empty list of {list(allowed)}")
    for action in actions:
        if action in LATER_ACTIONS and action not in allowed:
            raise BadRequestError(f"Action `{action}` is not available yet; available: {list(allowed)}")
        if action not in allowed:
            raise BadRequestError(f"Unknown action `{action}`; available: {list(allowed)}")
    return actions


def _response(kind: str, obj: dict, message: str, error: dict | None = None, **extra: object) -> dict:
    """The seed's post response: status, message, the object under its kind, its UI url."""
    response = {
        "status": PostStatus.VALIDATION_FAILED if error else PostStatus.SUCCESS,
        "message": message,
        kind: obj,
        "url": f"{SETTINGS.ui_url}/{kind}s/{obj['_id']}",
        **extra,
    }
    if error:
        response["validation_error"] = error
    return response


def graph_response(graph: dict, message: str) -> dict:
    """A graph endpoint's response in the seed's shape."""
    return _response("graph", graph, message)


INVALID_GRAPH = "Graph did not pass validation"


def validate_graph(graph: dict, user: str) -> tuple[dict | None, str]:
    """The validation tree of a graph (nodes whose operation may no longer run, parameters over the caller's
    quotas among its errors) and the message saying so, which names each quota and value."""
    error = validation.validate_graph(graph, upgrade.mandatory_deprecated(graph, library.lookup_for(user)))
    over, notes = quotas.parameter_problems(graph, user)
    if over:
        error = validation.merge(error, validation.error(ValidationTargetType.GRAPH, graph["_id"],
                                                         ValidationCode.IN_DEPENDENTS, over))
    message = f"{INVALID_GRAPH}: {'; '.join(notes)}" if notes else INVALID_GRAPH
    return error, message


# A Lambda answers API Gateway with at most 6 MB (and API Gateway carries at most 10 MB): the answer of an APPROVE
# (CREATE_RUN) of a graph whose nodes are more than this leaves them out (about 4,000 trivial operations).
ANSWER_NODES_BYTES = 4 * 1024 * 1024


def run_graph(graph: dict, user: str, files_checked: bool = False, how: str = runs.APPROVE,
              retry_of: str | None = None, parameters: object = None,
              schedule_id: str | None = None, shown: dict | None = None) -> tuple[dict | None, str, str | None]:
    """APPROVE: validate, then start; the validation tree and its message when it may not run.

    The run acts for the graph's author (their outputs, their cache view), whoever approves it; the
    approver must be able to read every file it hands to operations (a save checked that already), and
    the run counts against the approver's quotas. Who may run the graph may set its run `parameters`
    (`{"<node_id>.<name>": value}`, a 400 before anything starts when one is not a run parameter or does not
    fit its type); the graph is validated with them. Returns the new run's id too (None when invalid), and
    puts in `shown["graph"]`, if given, the graph as GET /graphs/{id} now shows it (for the answer, unread; its
    nodes left out past ANSWER_NODES_BYTES).
    """
    permissions.check_run(user, graph["author"], graph["_id"])
    values = run_parameters.check(graph, parameters)
    graph = run_parameters.apply(graph, values)
    error, message = validate_graph(graph, user)
    run_id = None
    if error is None:
        if not files_checked:
            resource_access.check_files(graph["nodes"], user, f"Graph `{graph['_id']}`")
        author = user if graph["author"] == str(user) else users.acting_for(graph["author"])
        queued: list = []
        run_id = runs.start_run(graph, permissions.RunPrincipal.of(author), user, how=how, retry_of=retry_of,
                                parameters=values, schedule_id=schedule_id, queued=queued)
        if shown is not None:
            header, items = queued[0]
            view = graphs.graph_view(header, shown_items(header), items, user)
            if len(json.dumps(view["nodes"], separators=(",", ":"))) > ANSWER_NODES_BYTES:
                view["nodes"] = []  # `node_count` says how many there are: GET /graphs/{id} has them
            shown["graph"] = view
    return error, message, run_id


def _cancel(graph_id: str, user: str) -> dict:
    """CANCEL: stop the stored graph's run (who may run it may stop it)."""
    stored = graphs.get_graph(graph_id, user)
    permissions.check_run(user, stored["author"], graph_id)
    runs.cancel_run(graph_id)
    return graphs.get_graph(graph_id, user)


def _lifecycle_only(raw: object, kind: str, actions: list[str], user: str) -> dict | None:
    """ARCHIVE, RESTORE, DELETE act on the stored object named by `<kind>._id` (nothing else of the posted
    object is read); DELETE comes last, as nothing is left to act on after it. None: other actions too."""
    chosen = [a for a in actions if a in lifecycle.ACTIONS]
    if not chosen:
        return None
    if "DELETE" in actions and actions.index("DELETE") != len(actions) - 1:
        raise BadRequestError("`DELETE` must be the last action")
    if len(chosen) != len(actions):
        raise BadRequestError(f"{chosen} act on the stored {kind}; post them without other actions")
    if not isinstance(raw, dict) or not raw.get("_id"):
        raise BadRequestError(f"`{kind}._id` is required")
    act = lifecycle.graph_action if kind == "graph" else lifecycle.node_action
    result: dict = {}
    for action in actions:
        result = act(raw["_id"], action, user)
    if result.get("deleted"):
        return {"status": PostStatus.SUCCESS, "message": f"{kind.capitalize()}(_id=`{raw['_id']}`) deleted",
                "deleted": result}
    return _response(kind, result, f"Actions completed with {kind.capitalize()}(_id=`{raw['_id']}`)")


def post_graph(body: dict, user: str) -> dict:
    """Apply the seed's graph actions in order, stopping at the first validation failure."""
    actions = _action_list(body, GRAPH_ACTIONS)
    if "graph" not in body:
        raise BadRequestError("`graph` is required")
    done = _lifecycle_only(body["graph"], "graph", actions, user)
    if done is not None:
        return done
    graph = graphs.clean_graph(body["graph"], user)
    parameters = body.get("parameters")
    if parameters is not None:
        if not {"APPROVE", "CREATE_RUN"} & set(actions):
            raise BadRequestError("`parameters` are a run's: they go with APPROVE or CREATE_RUN")
        order = {action: actions.index(action) for action in ("SAVE", "CREATE_RUN") if action in actions}
        saved_first = len(order) == 2 and order["SAVE"] < order["CREATE_RUN"]
        if "APPROVE" in actions or saved_first:  # refused before anything is saved (the run's graph is this one)
            run_parameters.check(graph, parameters)
    extra: dict = {}
    saved = False  # the stored graph is this one (SAVE just wrote it): APPROVE need not write it again
    for action in actions:
        if action == "SAVE":
            graph = graphs.save_graph(graph, user)
            saved = True
        elif action == "VALIDATE":
            error, message = validate_graph(graph, user)
            if error:
                return _response("graph", graph, message, error, **extra)
        elif action == "APPROVE":
            if not saved:
                graph = graphs.save_graph(graph, user)
            shown: dict = {}
            error, message, extra["run_id"] = run_graph(graph, user, files_checked=True, parameters=parameters,
                                                        shown=shown)
            if error:
                return _response("graph", graph, message, error, **extra)
            graph = shown["graph"]
        elif action == "CREATE_RUN":  # a run of the graph as stored (not as posted: SAVE it first to run that)
            graph = graphs.get_graph(graph["_id"], user)
            shown = {}
            error, message, extra["run_id"] = run_graph(graph, user, how=runs.CREATE_RUN, parameters=parameters,
                                                        shown=shown)
            if error:
                return _response("graph", graph, message, error, **extra)
            graph = shown["graph"]
        elif action == "REARRANGE":
            graph, saved = dict(graph, nodes=layout.rearrange(graph["nodes"])), False
        elif action == "UPGRADE_NODES":
            (graph, extra["upgraded_nodes_count"]), saved = upgrade.upgrade_nodes(graph, library.lookup_for(user)), False
        elif action == "CLONE":
            graph, saved = graph_edit.clone(graph, user), True
            extra["new_graph_id"] = graph["_id"]
        elif action == "CANCEL":
            graph, saved = _cancel(graph["_id"], user), False
        elif action == "GENERATE_CODE":
            extra["code"] = codegen.graph_to_code(graph)
    return _response("graph", graph, f"Actions completed with Graph(_id=`{graph['_id']}`)", **extra)


def graph_action(graph_id: str, action: str, user: str, body: dict | None = None) -> dict:
    """The single-action endpoints `/graphs/{id}/{action}`: the action on the stored graph (approve takes the
    run's `parameters` from the body)."""
    body = body or {}
    unknown = sorted(set(body) - ({"parameters"} if action in ("approve", "create_run") else set()))
    if unknown:
        raise BadRequestError(f"`{action}` takes no body fields {unknown}"
                              + ("; only `parameters`" if action in ("approve", "create_run") else ""))
    if action in ("archive", "restore", "delete"):  # a deleted graph is not read back
        return _lifecycle_only({"_id": graph_id}, "graph", [action.upper()], user)  # type: ignore[return-value]
    graph = graphs.get_graph(graph_id, user)
    if action in ("rearrange", "upgrade_nodes"):  # these endpoints store their result
        permissions.check_write(user, permissions.GRAPH, graph["author"], graph_id)
    if action in ("approve", "create_run"):
        shown: dict = {}
        error, message, run_id = run_graph(graph, user, how=runs.APPROVE if action == "approve" else runs.CREATE_RUN,
                                           parameters=body.get("parameters"), shown=shown)
        if error:
            return _response("graph", graph, message, error)
        return _response("graph", shown["graph"], f"Graph(_id=`{graph_id}`) is running", run_id=run_id)
    if action == "cancel":
        return _response("graph", _cancel(graph_id, user), f"Graph(_id=`{graph_id}`) canceled")
    if action == "validate":
        error, message = validate_graph(graph, user)
        return _response("graph", graph, message if error else "Graph is valid", error)
    if action == "rearrange":
        graph = graphs.save_graph(graphs.clean_graph(dict(graph, nodes=layout.rearrange(graph["nodes"])), user), user)
        return _response("graph", graph, f"Graph(_id=`{graph_id}`) rearranged")
    if action == "upgrade_nodes":
        upgraded, count = upgrade.upgrade_nodes(graph, library.lookup_for(user))
        if count:
            graph = graphs.save_graph(graphs.clean_graph(upgraded, user), user)
        return _response("graph", graph, f"{count} node(s) upgraded", upgraded_nodes_count=count)
    if action == "generate_code":
        return _response("graph", graph, "Code generated", code=codegen.graph_to_code(graph))
    if action == "clone":
        copied = graph_edit.clone(graph, user)
        return _response("graph", copied, f"Graph(_id=`{graph_id}`) cloned", new_graph_id=copied["_id"])
    if action == "as_operation":
        node = library.save_node(nodes.clean_node(composite.from_graph(graph), user), user)
        return _response("node", node, f"Composite operation Node(_id=`{node['_id']}`) made of Graph(_id=`{graph_id}`)")
    raise NotFoundError(f"Unknown graph action `{action}`")


def post_node(body: dict, user: str) -> dict:
    """Apply the seed's node actions in order, stopping at the first validation failure."""
    actions = _action_list(body, NODE_ACTIONS)
    if "node" not in body:
        raise BadRequestError("`node` is required")
    done = _lifecycle_only(body["node"], "node", actions, user)
    if done is not None:
        return done
    node = nodes.clean_node(body["node"], user)
    make_successor = body.get("make_successor", True)
    if not isinstance(make_successor, bool):
        raise BadRequestError("`make_successor` must be true or false")
    extra: dict = {}
    for action in actions:
        if action == "SAVE":
            node = library.save_node(node, user)
        elif action in ("VALIDATE", "APPROVE"):
            error = validation.validate_node(node)
            if error:
                return _response("node", node, "Node did not pass validation", error, **extra)
            if action == "APPROVE":
                node, approved = library.approve_node(node, user)
                if approved and node.get("parent_node_id") and make_successor:
                    _succession(node, user, extra)
        elif action in ("DEPRECATE", "MANDATORY_DEPRECATE"):
            node, error = _deprecate(node, action, user)
            if error:
                return _response("node", node, "Node cannot be deprecated", error, **extra)
        elif action == "PREVIEW_CMD":
            try:
                extra["preview_text"] = scripts.preview(node)
            except (jinja2.TemplateError, ValueError) as exc:
                error = validation.error(ValidationTargetType.PARAMETER, "_cmd", ValidationCode.INVALID_VALUE)
                why = ("The command reaches past the template sandbox" if isinstance(exc, scripts.SecurityError)
                       else "The command does not render")
                return _response("node", node, f"{why}: {exc}", error, **extra)
        elif action == "CLONE":
            node = library.clone_node(node["_id"], user)
            extra["new_node_id"] = node["_id"]
    message = f"Actions completed with Node(_id=`{node['_id']}`)"
    if extra.get("replaced_node_id"):
        message += f"; it replaces Node(_id=`{extra['replaced_node_id']}`), now deprecated"
    return _response("node", node, message, **extra)


def _succession(node: dict, user: str, extra: dict) -> None:
    """APPROVE of a new version: replace the version it came from, or say why not (one reason for every
    case, so the answer does not tell whether someone else's operation exists)."""
    replaced = library.replace_parent(node, user)
    if replaced:
        extra["replaced_node_id"] = replaced
    else:
        extra["replace_skipped"] = (f"Node `{node['parent_node_id']}` is not an approved operation of this "
                                    "operation's author; it is left as it is")


def _deprecate(node: dict, action: str, user: str) -> tuple[dict, dict | None]:
    """DEPRECATE keeps the operation usable; MANDATORY_DEPRECATE needs an approved successor."""
    successor_id = node.get("successor_node_id")
    if successor_id:
        try:
            successor = library.get_node(successor_id, user)
        except NotFoundError:
            successor = None
        if successor is None or successor["node_status"] != NodeStatus.READY or successor_id == node["_id"]:
            return node, validation.error(ValidationTargetType.PROPERTY, "successor_node_id",
                                          ValidationCode.INVALID_VALUE)
    elif action == "MANDATORY_DEPRECATE":
        return node, validation.error(ValidationTargetType.PROPERTY, "successor_node_id",
                                      ValidationCode.MISSING_PARAMETER)
    status = NodeStatus.MANDATORY_DEPRECATED if action == "MANDATORY_DEPRECATE" else NodeStatus.DEPRECATED
    return library.set_status(node["_id"], user, status, successor_id), None


def upload_file(fields: dict[str, str], files: dict[str, bytes], user: str) -> dict:
    """Store an uploaded file and the `file` node that offers it to graphs."""
    if "data" not in files:
        raise BadRequestError("The form field `data` with the file's content is required")
    file_type = fields.get("file_type") or FILE_KIND
    if file_type not in RESOURCES_DICT:
        raise BadRequestError(f"Unknown file_type `{file_type}`; known: {sorted(RESOURCES_DICT)}")
    check_upload(file_type, files["data"])
    return file_node(storage.put_bytes(files["data"]), file_type, fields, user)


def file_node(resource_id: str, file_type: str, fields: dict[str, str], user: str) -> dict:
    """The `file` node of stored content (POST /upload_file and direct uploads alike); the uploader holds it."""
    resource_access.record_upload(resource_id, user)
    node = nodes.default_node(BaseNodeNames.FILE, user)
    node["title"] = fields.get("title") or "File"
    node["description"] = fields.get("description") or ""
    node["outputs"][0].update(file_type=file_type, resource_id=resource_id)
    replaces = fields.get("replaces")
    if replaces:  # a new version of an uploaded file: it replaces that one as an APPROVE of a new version does
        previous = library.get_node(replaces, user)
        if previous.get("base_node_name") != BaseNodeNames.FILE:
            raise BadRequestError(f"`replaces`: node `{replaces}` is not a file")
        permissions.check_write(user, permissions.NODE, previous["author"], replaces)
        node["parent_node_id"] = replaces
    node = library.save_node(node, user, node_status=NodeStatus.READY)
    extra: dict = {}
    if replaces:
        _succession(node, user, extra)
    return {"status": PostStatus.SUCCESS, "message": "File uploaded", "resource_id": resource_id, "node": node,
            **extra}
