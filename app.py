"""PLynx REST API routes; each parses the request, calls chalicelib and returns a dict."""
from __future__ import annotations

from typing import Any

from chalice import Chalice, CORSConfig, Response
from chalice.app import CaseInsensitiveMapping, CloudWatchEvent, Rate, Request

from chalicelib import hubs
from chalicelib.api import (
    accounts,
    actions,
    graph_edit,
    graphs,
    library,
    lifecycle,
    notifications,
    observe,
    openapi,
    origin,
    resources,
    run_compare,
    runs,
    schedules,
    state,
    trials,
    triggers,
    uploads,
    users,
)
from chalicelib.api.bodies import form_data, json_body, json_object
from chalicelib.domain.enums import PostStatus
from chalicelib.domain.errors import TooManyAttemptsError
from chalicelib.engine import events, gc, preparation

app = Chalice(app_name="plynx")
# Browsers may read answers only from the stage's UI (chalicelib/api/origin.py); API Gateway's preflight
# answer is baked at package time, so infra/deploy.py points it at the stage's UI URL (`chalice deploy`
# imports this with the stage's PLYNX_UI_URL from .chalice/config.json: infra/chalice_api.py checks it).
app.api.cors = CORSConfig(allow_origin=origin.ui_origin(), allow_headers=["Authorization", "Content-Type"],
                          max_age=600)
app.api.binary_types.append("multipart/form-data")

API = "/plynx/api/v0"
# curl -d sends form-urlencoded by default; the seed's examples must work as typed.
JSON_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain"]


def _address() -> str | None:
    # The client's address as API Gateway saw the connection (the local server puts the socket's peer
    # there too); never X-Forwarded-For or any other header the client writes.
    return ((app.current_request.context or {}).get("identity") or {}).get("sourceIp")


def _user() -> users.Caller:
    origin.check(app.current_request.headers.get("origin"))
    return users.authenticate(app.current_request.headers.get("authorization"), _address())


@app.middleware("http")
def observe_request(event: Request, get_response: Any) -> Response:
    """The path's graph/run/node ids on every line of the request, a line for the request, one EMF blob."""
    return observe.request(event, get_response)


@app.middleware("cloudwatch")
def observe_event(event: CloudWatchEvent, get_response: Any) -> Any:
    """An execution's end: its graph and run ids on every line, its metrics flushed."""
    return observe.execution_event(event, get_response)


@app.middleware("pure_lambda")
def observe_lambda(event: Any, get_response: Any) -> Any:
    """A schedule's fire or a run's preparation: its graph (and run) id on every line, its metrics flushed."""
    return observe.lambda_event(event, get_response)


@app.middleware("http")
def retry_after(event: Any, get_response: Any) -> Response:
    """A throttled sign-in: 429 with `Retry-After` (chalice's view errors carry no headers)."""
    try:
        return get_response(event)
    except TooManyAttemptsError as exc:
        headers = {"Retry-After": str(exc.retry_after)}
        if isinstance(app.api.cors, CORSConfig):
            headers.update(app.api.cors.get_access_control_headers())
        return Response(body={"Code": "TooManyRequestsError", "Message": str(exc)}, status_code=exc.STATUS_CODE,
                        headers=headers)


@app.middleware("http")
def any_media_type(event: Request, get_response: Any) -> Response:
    """No Accept header means any media type (RFC 9110, 12.5.1): urllib and the like get a resource's bytes,
    which Chalice (as API Gateway) would otherwise refuse to send without an Accept that admits them."""
    if "accept" not in event.headers:
        event.headers = CaseInsensitiveMapping({**event.headers, "accept": "*/*"})
    return get_response(event)


def _raw() -> bytes | None:
    return app.current_request.raw_body


@app.route(f"{API}/health", methods=["GET"])
def health() -> dict:
    # Public: the sign-in page offers "Create an account" only when registration is not closed, and
    # `single_user` tells the UI to sign every request as `default` (`-u default:`) instead of asking.
    return {"status": PostStatus.SUCCESS, "registration": accounts.registration_mode(),
            "single_user": users.single_user()}


@app.route(f"{API}/openapi.json", methods=["GET"])
def openapi_document() -> dict:
    # Public, like any API reference; the routes it describes still need credentials.
    return openapi.document()


@app.route(f"{API}/token", methods=["GET"])
def token() -> dict:
    # A password or a refresh token (only here) gets new tokens; an access token does not renew itself.
    origin.check(app.current_request.headers.get("origin"))
    tokens = users.issue_tokens(app.current_request.headers.get("authorization"), _address())
    return {"status": PostStatus.SUCCESS, "message": "Tokens issued", **tokens}


@app.route(f"{API}/register", methods=["POST"], content_types=JSON_TYPES)
def register() -> dict:
    origin.check(app.current_request.headers.get("origin"))
    return {"status": PostStatus.SUCCESS, **accounts.register(json_object(_raw()))}


@app.route(f"{API}/user", methods=["GET"])
def get_me() -> dict:
    caller = _user()
    return {"status": PostStatus.SUCCESS, "user": accounts.get_user(caller, caller)}


@app.route(f"{API}/user/{{username}}", methods=["GET"])
def get_user(username: str) -> dict:
    return {"status": PostStatus.SUCCESS, "user": accounts.get_user(username, _user())}


@app.route(f"{API}/user", methods=["POST"], content_types=JSON_TYPES)
def post_user() -> dict:
    caller = _user()
    return {"status": PostStatus.SUCCESS, "message": "User updated", **accounts.update_user(json_object(_raw()), caller)}


# Admins: the admin view's list, new accounts, approvals (activate, deactivate, policies: POST /user).
@app.route(f"{API}/users", methods=["GET"])
def list_users() -> dict:
    return {"status": PostStatus.SUCCESS, **accounts.admin_view(_user(), app.current_request.query_params)}


@app.route(f"{API}/users", methods=["POST"], content_types=JSON_TYPES)
def create_user() -> dict:
    caller = _user()
    return {"status": PostStatus.SUCCESS, "message": "User created",
            "user": accounts.admin_create(json_object(_raw()), caller)}


@app.route(f"{API}/users/{{username}}/approve", methods=["POST"], content_types=JSON_TYPES)
def approve_user(username: str) -> dict:
    return {"status": PostStatus.SUCCESS, "message": f"User `{username}` approved",
            "user": accounts.approve(username, _user())}


@app.route(f"{API}/state", methods=["GET"])
def get_state() -> dict:
    return {"status": PostStatus.SUCCESS, **state.snapshot(_user())}


@app.route(f"{API}/master_state", methods=["GET"])
def master_state() -> dict:
    # The seed's name for the state of its master; this project has Step Functions instead.
    return {"status": PostStatus.SUCCESS, **state.snapshot(_user())}


@app.route(f"{API}/nodes/{{node_id}}", methods=["GET"])
def get_node(node_id: str) -> dict:
    user = _user()
    return {"status": PostStatus.SUCCESS, "data": library.get_node(node_id, user),
            "resources_dict": resources.RESOURCES_DICT}


@app.route(f"{API}/nodes/{{node_id}}/versions", methods=["GET"])
def node_versions(node_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, "items": library.version_history(node_id, _user())}


@app.route(f"{API}/nodes", methods=["POST"], content_types=JSON_TYPES)
def post_node() -> dict:
    user = _user()
    return triggers.after_save(actions.post_node(json_object(_raw()), user))


# Try an operation's draft before approving it (chalicelib/api/trials.py).
@app.route(f"{API}/nodes/try", methods=["POST"], content_types=JSON_TYPES)
def try_node() -> dict:
    user = _user()
    return trials.try_node(json_object(_raw()), user)


@app.route(f"{API}/trials", methods=["GET"])
def list_trials() -> dict:
    user = _user()
    return {"status": PostStatus.SUCCESS, **trials.list_trials(app.current_request.query_params, user)}


@app.route(f"{API}/trials/{{trial_id}}", methods=["GET"])
def get_trial(trial_id: str) -> dict:
    user = _user()
    return {"status": PostStatus.SUCCESS, "data": trials.get_trial(trial_id, user),
            "resources_dict": resources.RESOURCES_DICT}


# Archive, restore, delete (chalicelib/api/lifecycle.py): the ARCHIVE, RESTORE, DELETE actions of POST /nodes by id.
@app.route(f"{API}/nodes/{{node_id}}/archive", methods=["POST"], content_types=JSON_TYPES)
def archive_node(node_id: str) -> dict:
    return actions.post_node({"node": {"_id": node_id}, "actions": ["ARCHIVE"]}, _user())


@app.route(f"{API}/nodes/{{node_id}}/restore", methods=["POST"], content_types=JSON_TYPES)
def restore_node(node_id: str) -> dict:
    return actions.post_node({"node": {"_id": node_id}, "actions": ["RESTORE"]}, _user())


@app.route(f"{API}/nodes/{{node_id}}/delete", methods=["POST"], content_types=JSON_TYPES)
def delete_node(node_id: str) -> dict:
    return actions.post_node({"node": {"_id": node_id}, "actions": ["DELETE"]}, _user())


@app.route(f"{API}/gc", methods=["POST"], content_types=JSON_TYPES)
def gc_pass() -> dict:
    user = _user()
    return {"status": PostStatus.SUCCESS, "data": lifecycle.collect(json_body(_raw()), user)}


@app.route(f"{API}/search_nodes", methods=["POST"], content_types=JSON_TYPES)
def search_nodes() -> dict:
    user = _user()
    items, total = library.search_nodes(json_body(_raw()), user)
    return {"status": PostStatus.SUCCESS, "items": items, "total_count": total,
            "resources_dict": resources.RESOURCES_DICT}


@app.route(f"{API}/graphs/{{graph_id}}", methods=["GET"])
def get_graph(graph_id: str) -> dict:
    user = _user()
    graph = graphs.new_graph(user) if graph_id == "new" else graphs.get_graph(graph_id, user)
    return {"status": PostStatus.SUCCESS, "data": graph, "resources_dict": resources.RESOURCES_DICT}


@app.route(f"{API}/graphs", methods=["POST"], content_types=JSON_TYPES)
def post_graph() -> dict:
    user = _user()
    return actions.post_graph(json_object(_raw()), user)


# The seed's single-action endpoints: the action applied to the stored graph, no body needed (approve takes
# the run's `parameters`).
@app.route(f"{API}/graphs/{{graph_id}}/approve", methods=["POST"], content_types=JSON_TYPES)
def approve_graph(graph_id: str) -> dict:
    user = _user()
    return actions.graph_action(graph_id, "approve", user, json_object(_raw()))


@app.route(f"{API}/graphs/{{graph_id}}/cancel", methods=["POST"], content_types=JSON_TYPES)
def cancel_graph(graph_id: str) -> dict:
    return actions.graph_action(graph_id, "cancel", _user())


@app.route(f"{API}/graphs/{{graph_id}}/validate", methods=["POST"], content_types=JSON_TYPES)
def validate_graph(graph_id: str) -> dict:
    return actions.graph_action(graph_id, "validate", _user())


@app.route(f"{API}/graphs/{{graph_id}}/rearrange", methods=["POST"], content_types=JSON_TYPES)
def rearrange_graph(graph_id: str) -> dict:
    return actions.graph_action(graph_id, "rearrange", _user())


@app.route(f"{API}/graphs/{{graph_id}}/upgrade_nodes", methods=["POST"], content_types=JSON_TYPES)
def upgrade_graph_nodes(graph_id: str) -> dict:
    return actions.graph_action(graph_id, "upgrade_nodes", _user())


@app.route(f"{API}/graphs/{{graph_id}}/generate_code", methods=["POST"], content_types=JSON_TYPES)
def generate_graph_code(graph_id: str) -> dict:
    return actions.graph_action(graph_id, "generate_code", _user())


@app.route(f"{API}/search_in_hubs", methods=["POST"], content_types=JSON_TYPES)
def search_in_hubs() -> dict:
    items, total = hubs.search_in_hubs(json_body(_raw()), _user())
    return {"status": PostStatus.SUCCESS, "items": items, "total_count": total,
            "resources_dict": resources.RESOURCES_DICT}


@app.route(f"{API}/hubs", methods=["GET"])
def list_hubs() -> dict:
    _user()
    workflow = (app.current_request.query_params or {}).get("workflow")
    return {"status": PostStatus.SUCCESS, "hubs": hubs.list_hubs(workflow)}


@app.route(f"{API}/graphs/{{graph_id}}/clone", methods=["POST"], content_types=JSON_TYPES)
def clone_graph(graph_id: str) -> dict:
    return actions.graph_action(graph_id, "clone", _user())


@app.route(f"{API}/graphs/{{graph_id}}/archive", methods=["POST"], content_types=JSON_TYPES)
def archive_graph(graph_id: str) -> dict:
    return actions.graph_action(graph_id, "archive", _user())


@app.route(f"{API}/graphs/{{graph_id}}/restore", methods=["POST"], content_types=JSON_TYPES)
def restore_graph(graph_id: str) -> dict:
    return actions.graph_action(graph_id, "restore", _user())


@app.route(f"{API}/graphs/{{graph_id}}/delete", methods=["POST"], content_types=JSON_TYPES)
def delete_graph(graph_id: str) -> dict:
    return actions.graph_action(graph_id, "delete", _user())


@app.route(f"{API}/graphs/{{graph_id}}/as_operation", methods=["POST"], content_types=JSON_TYPES)
def graph_as_operation(graph_id: str) -> dict:
    return actions.graph_action(graph_id, "as_operation", _user())


@app.route(f"{API}/graphs/{{graph_id}}/update", methods=["PATCH"], content_types=JSON_TYPES)
def update_graph(graph_id: str) -> dict:
    graph = graph_edit.update(graph_id, json_object(_raw()), _user())
    return actions.graph_response(graph, f"Graph(_id=`{graph_id}`) updated")


# The seed's graph editing endpoints.
@app.route(f"{API}/graphs/{{graph_id}}/nodes/list_nodes", methods=["GET"])
def list_graph_nodes(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, "nodes": graph_edit.list_nodes(graph_id, _user()),
            "resources_dict": resources.RESOURCES_DICT}


@app.route(f"{API}/graphs/{{graph_id}}/nodes/insert_node", methods=["POST"], content_types=JSON_TYPES)
def insert_graph_node(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, **graph_edit.insert_node(graph_id, json_object(_raw()), _user())}


@app.route(f"{API}/graphs/{{graph_id}}/nodes/remove_node", methods=["POST"], content_types=JSON_TYPES)
def remove_graph_node(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, **graph_edit.remove_node(graph_id, json_object(_raw()), _user())}


@app.route(f"{API}/graphs/{{graph_id}}/nodes/create_link", methods=["POST"], content_types=JSON_TYPES)
def create_graph_link(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, **graph_edit.create_link(graph_id, json_object(_raw()), _user())}


@app.route(f"{API}/graphs/{{graph_id}}/nodes/remove_link", methods=["POST"], content_types=JSON_TYPES)
def remove_graph_link(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, **graph_edit.remove_link(graph_id, json_object(_raw()), _user())}


@app.route(f"{API}/graphs/{{graph_id}}/nodes/change_parameter", methods=["POST"], content_types=JSON_TYPES)
def change_graph_parameter(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, **graph_edit.change_parameter(graph_id, json_object(_raw()), _user())}


@app.route(f"{API}/graphs/{{graph_id}}/create_run", methods=["POST"], content_types=JSON_TYPES)
def create_graph_run(graph_id: str) -> dict:
    user = _user()
    return actions.graph_action(graph_id, "create_run", user, json_object(_raw()))


# Runs you can look back on (chalicelib/api/runs.py).
@app.route(f"{API}/graphs/{{graph_id}}/runs", methods=["GET"])
def list_graph_runs(graph_id: str) -> dict:
    user = _user()
    return {"status": PostStatus.SUCCESS, **runs.list_runs(graph_id, app.current_request.query_params, user)}


@app.route(f"{API}/runs/{{run_id}}", methods=["GET"])
def get_run(run_id: str) -> dict:
    user = _user()
    return {"status": PostStatus.SUCCESS, "data": runs.get_run(run_id, user),
            "resources_dict": resources.RESOURCES_DICT}


@app.route(f"{API}/runs/{{run_id}}/compare/{{other_run_id}}", methods=["GET"])
def compare_runs(run_id: str, other_run_id: str) -> dict:
    user = _user()
    return {"status": PostStatus.SUCCESS, "data": run_compare.compare(run_id, other_run_id, user)}


@app.route(f"{API}/runs/{{run_id}}/cancel", methods=["POST"], content_types=JSON_TYPES)
def cancel_run(run_id: str) -> dict:
    user = _user()
    return {"status": PostStatus.SUCCESS, "message": f"Run `{run_id}` canceled", "data": runs.cancel(run_id, user)}


@app.route(f"{API}/runs/{{run_id}}/retry", methods=["POST"], content_types=JSON_TYPES)
def retry_run(run_id: str) -> dict:
    user = _user()
    data = runs.retry(run_id, user)
    return {"status": PostStatus.SUCCESS, "message": f"Run `{run_id}` retried as `{data['_id']}`", "data": data}


# A graph's schedules (chalicelib/api/schedules.py); each fire is schedule_fired below.
@app.route(f"{API}/graphs/{{graph_id}}/schedules", methods=["GET"])
def list_graph_schedules(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, **schedules.list_schedules(graph_id, _user())}


@app.route(f"{API}/graphs/{{graph_id}}/schedules", methods=["POST"], content_types=JSON_TYPES)
def create_graph_schedule(graph_id: str) -> dict:
    user = _user()
    data = schedules.create(graph_id, json_object(_raw()), user)
    return {"status": PostStatus.SUCCESS, "message": f"Schedule `{data['_id']}` added", "data": data}


@app.route(f"{API}/schedules/{{schedule_id}}", methods=["PATCH"], content_types=JSON_TYPES)
def update_schedule(schedule_id: str) -> dict:
    user = _user()
    data = schedules.update(schedule_id, json_object(_raw()), user)
    return {"status": PostStatus.SUCCESS, "message": f"Schedule `{schedule_id}` updated", "data": data}


@app.route(f"{API}/schedules/{{schedule_id}}", methods=["DELETE"])
def delete_schedule(schedule_id: str) -> dict:
    user = _user()
    return {"status": PostStatus.SUCCESS, "message": f"Schedule `{schedule_id}` deleted",
            "data": schedules.delete(schedule_id, user)}


# Triggers (chalicelib/api/triggers.py) and notification settings (chalicelib/api/notifications.py).
@app.route(f"{API}/graphs/{{graph_id}}/triggers", methods=["GET"])
def get_triggers(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, "data": triggers.show(graph_id, _user())}


@app.route(f"{API}/graphs/{{graph_id}}/triggers/webhook", methods=["POST"], content_types=JSON_TYPES)
def create_webhook_trigger(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, "message": "Webhook trigger created; its URL is shown this once",
            "data": triggers.create_webhook(graph_id, _user(), rotate=False)}


@app.route(f"{API}/graphs/{{graph_id}}/triggers/webhook/rotate", methods=["POST"], content_types=JSON_TYPES)
def rotate_webhook_trigger(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, "message": "Webhook trigger rotated; the old URL is a 404 now",
            "data": triggers.create_webhook(graph_id, _user(), rotate=True)}


@app.route(f"{API}/graphs/{{graph_id}}/triggers/webhook", methods=["DELETE"])
def revoke_webhook_trigger(graph_id: str) -> dict:
    triggers.revoke_webhook(graph_id, _user())
    return {"status": PostStatus.SUCCESS, "message": "Webhook trigger revoked"}


@app.route(f"{API}/graphs/{{graph_id}}/triggers/files", methods=["POST"], content_types=JSON_TYPES)
def add_file_trigger(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, "data": triggers.add_file_trigger(graph_id, json_object(_raw()), _user())}


@app.route(f"{API}/graphs/{{graph_id}}/triggers/files/{{file_id}}", methods=["DELETE"])
def remove_file_trigger(graph_id: str, file_id: str) -> dict:
    triggers.remove_file_trigger(graph_id, file_id, _user())
    return {"status": PostStatus.SUCCESS, "message": "File trigger removed"}


@app.route(f"{API}/triggers/{{token}}", methods=["POST"], content_types=JSON_TYPES)
def fire_trigger(token: str) -> dict:
    # No credentials: the token is the secret (throttled per client address; unknown and revoked alike 404).
    origin.check(app.current_request.headers.get("origin"))
    return {"status": PostStatus.SUCCESS, "message": "Run started",
            **triggers.fire_webhook(token, json_object(_raw()), _address())}


@app.route(f"{API}/graphs/{{graph_id}}/notifications", methods=["GET"])
def get_notifications(graph_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, "data": notifications.get(graph_id, _user())}


@app.route(f"{API}/graphs/{{graph_id}}/notifications", methods=["PUT"], content_types=JSON_TYPES)
def put_notifications(graph_id: str) -> dict:
    user = _user()
    return {"status": PostStatus.SUCCESS, "data": notifications.put(graph_id, json_object(_raw()), user)}


@app.route(f"{API}/graphs/{{graph_id}}/notifications", methods=["DELETE"])
def delete_notifications(graph_id: str) -> dict:
    notifications.delete(graph_id, _user())
    return {"status": PostStatus.SUCCESS, "message": "Notifications off"}


@app.route(f"{API}/search_graphs", methods=["POST"], content_types=JSON_TYPES)
def search_graphs() -> dict:
    user = _user()
    items, total = graphs.search_graphs(json_body(_raw()), user)
    return {"status": PostStatus.SUCCESS, "items": items, "total_count": total}


@app.route(f"{API}/upload_file", methods=["POST", "PUT"], content_types=["multipart/form-data"])
def upload_file() -> dict:
    user = _user()
    request = app.current_request
    fields, files = form_data(request.raw_body, request.headers.get("content-type"))
    return triggers.after_save(actions.upload_file(fields, files, user))


# Uploads of any size: the bytes go to S3 by presigned part URLs, never through the API.
@app.route(f"{API}/uploads", methods=["POST"], content_types=JSON_TYPES)
def create_upload() -> dict:
    return {"status": PostStatus.SUCCESS, **uploads.create(json_object(_raw()), _user())}


@app.route(f"{API}/uploads/{{upload_id}}/parts", methods=["POST"], content_types=JSON_TYPES)
def upload_part_urls(upload_id: str) -> dict:
    return {"status": PostStatus.SUCCESS, **uploads.part_urls(upload_id, json_object(_raw()), _user())}


@app.route(f"{API}/uploads/{{upload_id}}/complete", methods=["POST"], content_types=JSON_TYPES)
def complete_upload(upload_id: str) -> dict:
    return triggers.after_save(uploads.complete(upload_id, json_object(_raw()), _user()))


@app.route(f"{API}/uploads/{{upload_id}}", methods=["DELETE"])
def abort_upload(upload_id: str) -> dict:
    return uploads.abort(upload_id, _user())


@app.route(f"{API}/resources/{{resource_id}}", methods=["GET"])
def get_resource(resource_id: str) -> Response:
    user = _user()
    params = app.current_request.query_params or {}
    preview = params.get("preview", "false").lower() in ("1", "true", "yes")
    if preview and params.get("file_type"):
        page, size = resources.preview_html(resource_id, params["file_type"], f"{API}/resources/{resource_id}",
                                            user)
        return Response(body=page, status_code=200,
                        headers={"Content-Type": "text/html; charset=utf-8", "X-Resource-Size": str(size)})
    data, size, url = resources.read(resource_id, preview, user)
    if url:
        return Response(body="", status_code=302, headers={"Location": url})
    content_type = "text/plain; charset=utf-8" if preview else "application/octet-stream"
    body = data.decode("utf-8", errors="replace") if preview else data
    return Response(body=body, status_code=200,
                    headers={"Content-Type": content_type, "X-Resource-Size": str(size)})


# --- events (not routes): EventBridge tells when an execution ended without closing its graph -------


@app.on_cw_event(events.EXECUTION_ENDED_PATTERN, name="execution_ended")
def execution_ended(event: CloudWatchEvent) -> dict:
    """Close the graph of an execution that failed, timed out or was aborted."""
    return {"graph_id": events.execution_ended(event.detail)}


@app.lambda_function(name="schedule_fired")
def schedule_fired(event: dict, context: Any) -> dict:
    """EventBridge Scheduler's target: a schedule is due (its input names it); start its graph's run."""
    return schedules.fire(event)


@app.schedule(Rate(1, unit=Rate.DAYS), name="collect_garbage")
def collect_garbage(event: CloudWatchEvent) -> dict:
    """A garbage collection pass: daily (EventBridge), and after a delete (the API invokes it asynchronously)."""
    report = gc.collect().as_dict()
    return {key: value for key, value in report.items() if key.endswith(("count", "bytes")) or key == "dry_run"}


# --- the run preparation (not a route): APPROVE invokes it asynchronously (InvocationType=Event) ----------


@app.lambda_function(name="prepare_run")
def prepare_run(event: dict, context: Any) -> dict:
    """Plan, compile, deploy and start a queued run after APPROVE answered (chalicelib/engine/preparation.py)."""
    return preparation.lambda_handler(event, context)
