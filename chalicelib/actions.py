"""The seed's `POST /graphs` and `POST /nodes` actions, applied in order, and their responses."""
from __future__ import annotations


from . import graphs, nodes, runs, storage, validation
from .enums import BaseNodeNames, FILE_KIND, NodeStatus, PostStatus
from .errors import BadRequestError, ForbiddenError
from .resources import RESOURCES_DICT
from .settings import SETTINGS

GRAPH_ACTIONS = ("SAVE", "APPROVE", "VALIDATE")
NODE_ACTIONS = ("SAVE", "APPROVE", "VALIDATE")
# Actions the seed documents that arrive with later issues: named, so the error is precise.
LATER_ACTIONS = ("REARRANGE", "UPGRADE_NODES", "CANCEL", "GENERATE_CODE", "CLONE", "DEPRECATE",
                 "MANDATORY_DEPRECATE", "PREVIEW_CMD", "CREATE_RUN")


def _action_list(body: dict, allowed: tuple[str, ...]) -> list[str]:
    raw = body.get("actions", body.get("action"))
    if raw is None:
        raise BadRequestError(f"`actions` is required: a list of {list(allowed)}")
    actions = [raw] if isinstance(raw, str) else raw
    if not isinstance(actions, list) or not actions or not all(isinstance(a, str) for a in actions):
        raise BadRequestError(f"`actions` must be a non-empty list of {list(allowed)}")
    for action in actions:
        if action in LATER_ACTIONS:
            raise BadRequestError(f"Action `{action}` is not available yet; available: {list(allowed)}")
        if action not in allowed:
            raise BadRequestError(f"Unknown action `{action}`; available: {list(allowed)}")
    return actions


def _response(kind: str, obj: dict, message: str, error: dict | None = None) -> dict:
    """The seed's post response: status, message, the object under its kind, its UI url."""
    response = {
        "status": PostStatus.VALIDATION_FAILED if error else PostStatus.SUCCESS,
        "message": message,
        kind: obj,
        "url": f"{SETTINGS.ui_url}/{kind}s/{obj['_id']}",
    }
    if error:
        response["validation_error"] = error
    return response


def post_graph(body: dict, user: str) -> dict:
    """Apply SAVE / VALIDATE / APPROVE to the posted graph, stopping at the first validation failure."""
    actions = _action_list(body, GRAPH_ACTIONS)
    if "graph" not in body:
        raise BadRequestError("`graph` is required")
    graph = graphs.clean_graph(body["graph"], user)
    for action in actions:
        if action == "SAVE":
            graph = graphs.save_graph(graph, user)
        elif action == "VALIDATE":
            error = validation.validate_graph(graph)
            if error:
                return _response("graph", graph, "Graph did not pass validation", error)
        elif action == "APPROVE":
            graph = graphs.save_graph(graph, user)
            error = validation.validate_graph(graph)
            if error:
                return _response("graph", graph, "Graph did not pass validation", error)
            runs.start_run(graph)
            graph = graphs.get_graph(graph["_id"], user)
    return _response("graph", graph, f"Actions completed with Graph(_id=`{graph['_id']}`)")


def approve_graph(graph_id: str, user: str) -> dict:
    """`POST /graphs/{id}/approve`: run the stored graph if it passes validation."""
    graph = graphs.get_graph(graph_id, user)
    if graph["_readonly"]:
        raise ForbiddenError(f"Graph `{graph_id}` belongs to `{graph['author']}` and is read only")
    error = validation.validate_graph(graph)
    if error:
        return _response("graph", graph, "Graph did not pass validation", error)
    runs.start_run(graph)
    return _response("graph", graphs.get_graph(graph_id, user), f"Graph(_id=`{graph_id}`) is running")


def post_node(body: dict, user: str) -> dict:
    """Apply SAVE / VALIDATE / APPROVE to the posted operation."""
    actions = _action_list(body, NODE_ACTIONS)
    if "node" not in body:
        raise BadRequestError("`node` is required")
    node = nodes.clean_node(body["node"], user)
    for action in actions:
        if action == "SAVE":
            node = nodes.save_node(node, user)
        elif action in ("VALIDATE", "APPROVE"):
            error = validation.validate_node(node)
            if error:
                return _response("node", node, "Node did not pass validation", error)
            if action == "APPROVE":
                node = nodes.save_node(node, user, node_status=NodeStatus.READY)
    return _response("node", node, f"Actions completed with Node(_id=`{node['_id']}`)")


def upload_file(fields: dict[str, str], files: dict[str, bytes], user: str) -> dict:
    """Store an uploaded file and the `file` node that offers it to graphs."""
    if "data" not in files:
        raise BadRequestError("The form field `data` with the file's content is required")
    file_type = fields.get("file_type") or FILE_KIND
    if file_type not in RESOURCES_DICT:
        raise BadRequestError(f"Unknown file_type `{file_type}`; known: {sorted(RESOURCES_DICT)}")
    resource_id = storage.put_bytes(files["data"])
    node = nodes.default_node(BaseNodeNames.FILE, user)
    node["title"] = fields.get("title") or "File"
    node["description"] = fields.get("description") or ""
    node["outputs"][0].update(file_type=file_type, resource_id=resource_id)
    node = nodes.save_node(node, user, node_status=NodeStatus.READY)
    return {"status": PostStatus.SUCCESS, "message": "File uploaded", "resource_id": resource_id, "node": node}
