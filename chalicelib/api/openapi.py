"""The OpenAPI 3 document of the REST API, served at `/plynx/api/v0/openapi.json`.

Written by hand (the routes do not carry schemas); a test fails when it and the routes disagree.
"""
from __future__ import annotations

from typing import Any

API = "/plynx/api/v0"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: tuple[str, ...] = (), **properties: Any) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


_STR, _INT, _BOOL, _NUM = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
_NULLABLE_STR = {"type": "string", "nullable": True}
_ACTIONS = {"oneOf": [{"type": "array", "items": _STR}, _STR]}

SCHEMAS: dict[str, dict] = {
    "Input": _obj(("name",), name=_STR, file_types={"type": "array", "items": _STR},
                  values={"type": "array", "items": _obj(("node_id", "output_id"), node_id=_STR, output_id=_STR,
                                                         resource_id=_NULLABLE_STR)},
                  min_count=_INT, max_count=_INT),
    "Output": _obj(("name",), name=_STR, file_type=_STR, resource_id=_NULLABLE_STR),
    "Parameter": _obj(("name",), name=_STR, parameter_type=_STR, value={}, mutable_type=_BOOL, removable=_BOOL,
                      publicable=_BOOL, widget={"nullable": True}),
    "Node": _obj(("base_node_name",), _id=_STR, _version={"type": "integer", "nullable": True}, title=_STR,
                 description=_STR, base_node_name=_STR, parent_node_id=_NULLABLE_STR,
                 successor_node_id=_NULLABLE_STR, inputs={"type": "array", "items": _ref("Input")},
                 outputs={"type": "array", "items": _ref("Output")},
                 parameters={"type": "array", "items": _ref("Parameter")},
                 logs={"type": "array", "items": _ref("Output")}, node_running_status=_STR, node_status=_STR,
                 x=_NUM, y=_NUM, author=_STR, _readonly=_BOOL,
                 version_number={"type": "integer", "description": "search results: the position among the "
                                 "versions of its author it descends from (1: the first)"},
                 first_version_id={"type": "string", "description": "search results: that first version"},
                 restored_from={"type": "object", "description": "a RESTORED operation of a run (GET /graphs, "
                                "GET /runs): the run its results came from, "
                                "{run_id, graph_id, date, kind: cache|retry}"},
                 started=_NULLABLE_STR, ended=_NULLABLE_STR, attempts=_INT,
                 duration_seconds={"type": "number", "description": "GET /runs: its recorded start to end"},
                 placement={"type": "string", "description": "GET /runs: `lambda` or `fargate`, where it ran"},
                 archived={"type": "string", "nullable": True,
                           "description": "a stored operation or file: when it was archived (hidden from searches "
                                          "and hubs), or null"}),
    "Graph": _obj((), _id=_STR, _version={"type": "integer", "nullable": True}, title=_STR, description=_STR,
                  graph_running_status=_STR, author=_STR, insertion_date=_NULLABLE_STR, update_date=_NULLABLE_STR,
                  nodes={"type": "array", "items": _ref("Node")}, _readonly=_BOOL, run_id=_NULLABLE_STR,
                  latest_run_id=_NULLABLE_STR, node_count=_INT,
                  archived={"type": "string", "nullable": True,
                            "description": "when it was archived (hidden from searches), or null"},
                  preparing={"type": "boolean", "description": "READY and still being prepared (cache planning, "
                             "compile, state machines) after APPROVE answered; the UI says `preparing`"}),
    "ValidationError": _obj(("target", "object_id", "validation_code"), target=_STR, object_id=_STR,
                            validation_code=_STR, children={"type": "array", "items": _ref("ValidationError")}),
    "Error": _obj(("Code", "Message"), Code=_STR, Message=_STR),
    "Run": _obj(("_id", "graph_id", "run_status"), _id=_STR, _type=_STR, graph_id=_STR, graph_version=_INT,
                title=_STR, node_count=_INT, started_by=_STR, acting_for=_NULLABLE_STR, how=_STR,
                parameters=_ref("RunParameters"), start=_STR, end=_NULLABLE_STR, run_status=_STR,
                error=_NULLABLE_STR, latest=_BOOL, retry_of=_NULLABLE_STR, graph=_ref("Graph"),
                cost=_ref("RunCost"),
                schedule_id={"type": "string", "nullable": True,
                             "description": "the schedule that started it (`how`: SCHEDULE)"},
                preparing={"type": "boolean", "description": "READY and still being prepared after APPROVE answered"}),
    "Schedule": _obj(("_id", "graph_id", "expression", "timezone", "enabled", "next_fire_times"),
                     _id=_STR, _type=_STR, graph_id=_STR,
                     expression={"type": "string", "description": "EventBridge Scheduler's syntax: `rate(5 minutes)` "
                                 "(at least 1 minute), `cron(0 8 ? * MON-FRI *)` (minutes hours day-of-month month "
                                 "day-of-week year), `at(2027-01-01T08:00:00)`"},
                     timezone={"type": "string", "description": "IANA name; default UTC"},
                     parameters=_ref("RunParameters"), enabled={"type": "boolean", "description": "false: paused"},
                     author={"type": "string", "description": "who made it: each fire runs on their behalf and "
                             "is refused if they may no longer run the graph"},
                     updated_by=_NULLABLE_STR, created=_STR, updated=_STR, fires=_INT, _readonly=_BOOL,
                     last_fire={"type": "object", "nullable": True, "description": "{scheduled, fired, outcome: "
                                "STARTED|REFUSED|INVALID|FAILED, run_id, message}"},
                     next_fire_times={"type": "array", "items": _STR,
                                      "description": "the next 5, ISO 8601 in the schedule's zone; none while paused"}),
    "ScheduleBody": _obj((), expression=_STR, timezone=_STR, parameters=_ref("RunParameters"), enabled=_BOOL),
    "RunCost": _obj(("lambda_gb_seconds", "fargate_vcpu_seconds", "fargate_gb_seconds", "state_transitions",
                     "estimated_usd"),
                    lambda_gb_seconds=_NUM, lambda_requests=_INT, fargate_vcpu_seconds=_NUM, fargate_gb_seconds=_NUM,
                    state_transitions={"type": "integer", "description": "estimated from the compiled state "
                                       "machine's shape, not read from the execution history"},
                    estimated_usd=_NUM,
                    prices={"type": "object", "description": "the config's `costs` table the estimate used"}),
    "SearchRequest": _obj((), search=_STR, status={"oneOf": [_STR, {"type": "array", "items": _STR}]},
                          per_page=_INT, offset=_INT, base_node_names={"type": "array", "items": _STR},
                          archived={"type": "boolean", "default": False,
                                    "description": "true: only archived items; false: only the others"}),
    "SearchResponse": _obj(("items", "total_count"), status=_STR, items={"type": "array", "items": {}},
                           total_count=_INT, resources_dict={"type": "object"}),
    "RunParameters": {"type": "object", "additionalProperties": {},
                      "description": "This run's values of the graph's run parameters (publicable parameters of its "
                                     "operations, not `_` system ones), keyed `<node_id>.<name>`, checked by the "
                                     "parameter's type (an enum takes one of its values or an index, code its text); "
                                     "a name that is not a run parameter or a value of the wrong type is a 400 and "
                                     "nothing runs. The saved graph keeps its values; the run records these, a "
                                     "retry reuses them"},
    "RunRequest": _obj((), parameters=_ref("RunParameters")),
    "PostGraph": _obj(("graph", "actions"), graph=_ref("Graph"), actions=_ACTIONS,
                      parameters=_ref("RunParameters")),
    "PostNode": _obj(("node", "actions"), node=_ref("Node"), actions=_ACTIONS,
                     make_successor={"type": "boolean", "default": True,
                                     "description": "APPROVE of a new version deprecates the approved operation "
                                                    "of the same author it came from (`parent_node_id`), with this "
                                                    "one as its successor; false keeps the old one as it is"}),
    "GraphResponse": _obj(("status", "graph"), status=_STR, message=_STR, graph=_ref("Graph"), url=_STR,
                          validation_error=_ref("ValidationError"), upgraded_nodes_count=_INT, new_graph_id=_STR,
                          code=_STR, run_id=_NULLABLE_STR),
    "NodeResponse": _obj(("status", "node"), status=_STR, message=_STR, node=_ref("Node"), url=_STR,
                         validation_error=_ref("ValidationError"), preview_text=_STR, new_node_id=_STR,
                         replaced_node_id=_STR, replace_skipped=_STR),
    "Tokens": _obj(("access_token", "refresh_token"), status=_STR, message=_STR, access_token=_STR,
                   refresh_token=_STR),
    "User": _obj(("username",), username=_STR, display_name=_STR, active=_BOOL, email=_NULLABLE_STR,
                 policies={"type": "array", "items": _STR}, settings={"type": "object"}, pending=_BOOL,
                 insertion_date=_STR),
    "NewUser": _obj(("username", "password"), username=_STR, password={"type": "string", "minLength": 8},
                    email=_STR, display_name=_STR),
    "Link": _obj(("from", "to"), **{"from": _obj(("node_id", "resource"), node_id=_STR, resource=_STR),
                                    "to": _obj(("node_id", "resource"), node_id=_STR, resource=_STR)}),
    "Deleted": _obj(("status", "deleted"), status=_STR, message=_STR,
                    deleted=_obj(("_id", "deleted"), _id=_STR, deleted=_BOOL, run_records=_INT,
                                 state_machines={"type": "array", "items": _STR})),
    "GcReport": _obj(("dry_run",), dry_run=_BOOL, grace_hours=_NUM,
                     resources={"type": "array", "items": _STR}, resource_count=_INT, resource_bytes=_INT,
                     run_records={"type": "array", "items": _STR}, run_record_count=_INT,
                     partitions={"type": "array", "items": _STR}, partition_count=_INT,
                     state_machines={"type": "array", "items": _STR}, state_machine_count=_INT),
    "State": _obj((), status=_STR, active_runs={"type": "array", "items": {"type": "object"}},
                  recent_runs={"type": "array", "items": {"type": "object"}}, active_count=_INT),
}


def _op(summary: str, response: str | dict = "Error", body: str | dict | None = None, tag: str = "graphs",
        params: tuple[str, ...] = (), query: tuple[str, ...] = (), content: str = "application/json") -> dict:
    """One operation: its summary, body schema, path and query parameters, and its 200 response."""
    operation: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": {
            "200": {"description": "OK", "content": {content: {
                "schema": _ref(response) if isinstance(response, str) else response}}},
            "400": {"description": "Bad input", "content": {"application/json": {"schema": _ref("Error")}}},
            "401": {"description": "Not signed in", "content": {"application/json": {"schema": _ref("Error")}}},
            "403": {"description": "Not allowed", "content": {"application/json": {"schema": _ref("Error")}}},
            "404": {"description": "Not found", "content": {"application/json": {"schema": _ref("Error")}}},
            "409": {"description": "Conflict (stale version, running graph)",
                    "content": {"application/json": {"schema": _ref("Error")}}},
            "429": {"description": "Too many failed sign-ins (per user and per client address); wait `Retry-After` "
                                   "seconds", "headers": {"Retry-After": {"schema": _INT}},
                    "content": {"application/json": {"schema": _ref("Error")}}},
        },
    }
    parameters = [{"name": name, "in": "path", "required": True, "schema": _STR} for name in params]
    parameters += [{"name": name, "in": "query", "required": False, "schema": _STR} for name in query]
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        schema = _ref(body) if isinstance(body, str) else body
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return operation


_G = ("graph_id",)
_EDIT = _obj(("node_id",), node_id=_STR, x=_NUM, y=_NUM)
_PARAM = _obj(("node_id", "parameter_name", "parameter_value"), node_id=_STR, parameter_name=_STR,
              parameter_value={})
_STATUS = _obj(("status",), status=_STR)
_NODES = _obj(("nodes",), status=_STR, nodes={"type": "array", "items": _ref("Node")})
_EDITED = _obj(("graph",), status=_STR, graph=_ref("Graph"), node=_ref("Node"))
_UPLOAD = {"required": True, "content": {"multipart/form-data": {"schema": _obj(
    ("data",), data={"type": "string", "format": "binary"}, title=_STR, description=_STR, file_type=_STR)}}}

_PART_URLS = {"type": "array", "items": _obj(("part_number", "url"), part_number=_INT, url=_STR)}
_UPLOAD_CREATED = _obj(("upload_id", "part_size", "part_count", "parts"), status=_STR, upload_id=_STR,
                       part_size=_INT, part_count=_INT, parts=_PART_URLS, expires_in=_INT)

PATHS: dict[str, dict[str, dict]] = {
    "/health": {"get": _op("Liveness, the registration mode (open, approval, closed), and `single_user`: sign "
                           "every request as `default:` (no login)",
                           _obj(("status",), status=_STR, registration=_STR, single_user=_BOOL), tag="system")},
    "/openapi.json": {"get": _op("This document", {"type": "object"}, tag="system")},
    "/state": {"get": _op("Running and recent executions", "State", tag="system")},
    "/master_state": {"get": _op("The seed's name for /state", "State", tag="system")},
    "/token": {"get": _op("Access and refresh tokens: sign in with a password (Basic user:password) or renew "
                          "with a refresh token (Basic REFRESH_TOKEN:); an access token is a 401 here", "Tokens",
                          tag="users")},
    "/register": {"post": _op("Register a user (multi-user mode): `open` answers tokens, `approval` a pending "
                              "account (no tokens), `closed` a 403", {"oneOf": [
                                  _ref("Tokens"), _obj(("user", "pending"), status=_STR, message=_STR,
                                                       user=_ref("User"), pending=_BOOL)]},
                              "NewUser", tag="users")},
    "/user": {"get": _op("The signed-in user", _obj(("user",), user=_ref("User")), tag="users"),
              "post": _op("Change display name, settings, password (needs `old_password`; revokes every token, "
                          "answers new ones); admins: another user's password, policies, active (deactivating "
                          "revokes their tokens)",
                          _obj(("user",), user=_ref("User"), access_token=_STR, refresh_token=_STR),
                          _obj((), user=_obj((), username=_STR, display_name=_STR, settings={"type": "object"},
                                             password=_STR, old_password=_STR, active=_BOOL,
                                             policies={"type": "array", "items": _STR})), tag="users")},
    "/users": {"get": _op("Admins: every user, pending ones first; the known and default policies and the "
                          "registration mode", _obj(("users",), status=_STR, users={"type": "array",
                                                                                   "items": _ref("User")},
                                                    known_policies={"type": "array", "items": _STR},
                                                    default_policies={"type": "array", "items": _STR},
                                                    registration=_STR),
                          tag="users", query=("pending",)),
               "post": _op("Admins: create an account (active at once; the configured default policies unless "
                           "`policies` is given)", _obj(("user",), status=_STR, message=_STR, user=_ref("User")),
                           {**SCHEMAS["NewUser"], "properties": {**SCHEMAS["NewUser"]["properties"],
                                                                 "policies": {"type": "array", "items": _STR}}},
                           tag="users")},
    "/users/{username}/approve": {"post": _op("Admins: let a pending account sign in",
                                              _obj(("user",), status=_STR, message=_STR, user=_ref("User")),
                                              tag="users", params=("username",))},
    "/user/{username}": {"get": _op("A user's public profile", _obj(("user",), user=_ref("User")), tag="users",
                                    params=("username",))},
    "/nodes": {"post": _op("Node actions: SAVE, APPROVE, VALIDATE, DEPRECATE, MANDATORY_DEPRECATE, PREVIEW_CMD, "
                           "CLONE; ARCHIVE, RESTORE, DELETE (alone, on the stored node `node._id`; DELETE answers "
                           "`deleted` instead of `node`)", {"oneOf": [_ref("NodeResponse"), _ref("Deleted")]},
                           "PostNode", tag="nodes")},
    "/nodes/{node_id}/archive": {"post": _op("Archive an operation or file (who may change it): hidden from "
                                             "searches and hubs, still read and used by id", "NodeResponse",
                                             tag="nodes", params=("node_id",))},
    "/nodes/{node_id}/restore": {"post": _op("Restore an archived operation or file", "NodeResponse", tag="nodes",
                                             params=("node_id",))},
    "/nodes/{node_id}/delete": {"post": _op("Delete an operation or file (its author or an admin); 409 naming the "
                                            "non-archived graphs that use it", "Deleted", tag="nodes",
                                            params=("node_id",))},
    "/gc": {"post": _op("Admins: a garbage collection pass (unreferenced S3 content, run records past retention, "
                        "leftover partitions, unused state machines), or with `dry_run` what it would remove",
                        _obj(("data",), status=_STR, data=_ref("GcReport")),
                        _obj((), dry_run={"type": "boolean", "default": False}), tag="system")},
    "/nodes/{node_id}": {"get": _op("A node, or the default node of python|bash_jinja2|file|graph",
                                    _obj(("data",), data=_ref("Node")), tag="nodes", params=("node_id",))},
    "/nodes/{node_id}/versions": {"get": _op("The operation and its ancestors, newest first",
                                             _obj(("items",), items={"type": "array", "items": _ref("Node")}),
                                             tag="nodes", params=("node_id",))},
    "/search_nodes": {"post": _op("Search operations and files", "SearchResponse", "SearchRequest", tag="nodes")},
    "/upload_file": {
        "post": {**_op("Upload a file as a file node", _obj(("node",), resource_id=_STR, node=_ref("Node")),
                       tag="resources"), "requestBody": _UPLOAD},
        "put": {**_op("Upload a file as a file node", _obj(("node",), resource_id=_STR, node=_ref("Node")),
                      tag="resources"), "requestBody": _UPLOAD},
    },
    "/uploads": {"post": _op("Start an upload of any size: presigned S3 part URLs (PUT each part's bytes, keep "
                             "its ETag); the API never carries the bytes", _UPLOAD_CREATED,
                             _obj(("size",), size=_INT, title=_STR, description=_STR, file_type=_STR),
                             tag="resources")},
    "/uploads/{upload_id}/parts": {"post": _op("Fresh URLs of up to 100 parts (the parts past the first 100, or "
                                               "a retry)", _obj(("parts",), status=_STR, upload_id=_STR,
                                                               parts=_PART_URLS, expires_in=_INT),
                                               _obj(("part_numbers",), part_numbers={"type": "array",
                                                                                     "items": _INT}),
                                               tag="resources", params=("upload_id",))},
    "/uploads/{upload_id}/complete": {"post": _op("Finish an upload: the server hashes the bytes S3 holds, stores "
                                                  "them under that content id and answers the file node",
                                                  _obj(("node",), status=_STR, resource_id=_STR, node=_ref("Node")),
                                                  _obj(("parts",), parts={"type": "array", "items": _obj(
                                                      ("part_number", "etag"), part_number=_INT, etag=_STR)}),
                                                  tag="resources", params=("upload_id",))},
    "/uploads/{upload_id}": {"delete": _op("Abort an upload and drop its parts", _STATUS, tag="resources",
                                           params=("upload_id",))},
    "/resources/{resource_id}": {"get": _op("A resource's bytes, or its preview", {"type": "string"},
                                            tag="resources", params=("resource_id",), query=("preview", "file_type"),
                                            content="application/octet-stream")},
    "/search_in_hubs": {"post": _op("Search the hubs' operations (hub, search string, file types)",
                                    "SearchResponse", _obj((), hub=_STR, search=_STR, per_page=_INT, offset=_INT,
                                                          input_file_type=_STR, output_file_type=_STR),
                                    tag="hubs")},
    "/hubs": {"get": _op("The configured hubs", _obj(("hubs",), status=_STR, hubs={"type": "array",
                                                                                   "items": {"type": "object"}}),
                         tag="hubs", query=("workflow",))},
    "/search_graphs": {"post": _op("Search graphs", "SearchResponse", "SearchRequest")},
    "/graphs": {"post": _op("Graph actions in order: SAVE, APPROVE, VALIDATE, REARRANGE, UPGRADE_NODES, CANCEL, "
                            "GENERATE_CODE, CLONE, CREATE_RUN (a run of the graph as stored); APPROVE and "
                            "CREATE_RUN answer the new run's `run_id` and take the run's `parameters`; ARCHIVE, "
                            "RESTORE, DELETE (alone, on the stored graph `graph._id`; DELETE answers `deleted`)",
                            {"oneOf": [_ref("GraphResponse"), _ref("Deleted")]}, "PostGraph")},
    "/graphs/{graph_id}/runs": {"get": _op("The graph's kept runs, newest first, paged like the searches",
                                           _obj(("items", "total_count"), status=_STR,
                                                items={"type": "array", "items": _ref("Run")}, total_count=_INT),
                                           params=_G, query=("offset", "per_page"), tag="runs")},
    "/graphs/{graph_id}/schedules": {
        "get": _op("The graph's schedules with their next fire times (who may see the graph)",
                   _obj(("items", "total_count"), status=_STR, items={"type": "array", "items": _ref("Schedule")},
                        total_count=_INT, max_schedules=_INT), params=_G, tag="schedules"),
        "post": _op("Add a schedule (who may run the graph; at most 10 a graph): an EventBridge Scheduler schedule "
                    "that starts a run of the graph as stored when it fires (`how`: SCHEDULE) with `parameters`",
                    _obj(("data",), status=_STR, message=_STR, data=_ref("Schedule")),
                    {"allOf": [_ref("ScheduleBody"), {"required": ["expression"]}]}, params=_G, tag="schedules")},
    "/schedules/{schedule_id}": {
        "patch": _op("Change a schedule; `enabled: false` pauses it, `true` resumes it (who may run its graph)",
                     _obj(("data",), status=_STR, message=_STR, data=_ref("Schedule")), "ScheduleBody",
                     params=("schedule_id",), tag="schedules"),
        "delete": _op("Delete a schedule and its EventBridge schedule (who may run its graph)",
                      _obj(("data",), status=_STR, message=_STR, data=_obj((), _id=_STR, graph_id=_STR)),
                      params=("schedule_id",), tag="schedules")},
    "/runs/{run_id}": {"get": _op("A run as it ran: its record, and `graph` with that run's node statuses, "
                                  "outputs, logs, start, end, attempts, duration and placement, and its estimated `cost` (404 for a "
                                  "run whose graph you may not see)", _obj(("data",), status=_STR, data=_ref("Run")), params=("run_id",),
                                  tag="runs")},
    "/runs/{run_id}/retry": {"post": _op("Retry a failed or canceled run from its failure: a new run of the same "
                                         "graph version and run parameters, what succeeded restored (no runner), "
                                         "the rest run again",
                                         _obj(("data",), status=_STR, message=_STR, data=_ref("Run")),
                                         params=("run_id",), tag="runs")},
    "/runs/{run_id}/compare/{other_run_id}": {"get": _op(
        "Two runs of one graph side by side (who may see both): `left` and `right` records (with `cost`), "
        "`parameters` [{name, left, right, same}], `nodes` [{node_id, title, left, right, same_status, "
        "same_outputs}] where a side is {status, started, ended, duration_seconds, attempts, placement, "
        "outputs: {name: resource id (the bytes' SHA-256)}, restored_from} or null when the operation is not "
        "in that run; runs of different graphs are a 400",
        _obj(("data",), status=_STR, data=_obj(("left", "right", "parameters", "nodes"), graph_id=_STR,
                                               left=_ref("Run"), right=_ref("Run"),
                                               parameters={"type": "array", "items": {"type": "object"}},
                                               nodes={"type": "array", "items": {"type": "object"}})),
        params=("run_id", "other_run_id"), tag="runs")},
    "/runs/{run_id}/cancel": {"post": _op("Cancel the run while it runs (who may cancel the graph's run)",
                                          _obj(("data",), status=_STR, message=_STR, data=_ref("Run")),
                                          params=("run_id",), tag="runs")},
    "/graphs/{graph_id}": {"get": _op("A graph with live statuses (`new` for an empty one)",
                                      _obj(("data",), data=_ref("Graph")), params=_G)},
    "/graphs/{graph_id}/update": {"patch": _op("Change title or description", "GraphResponse",
                                               _obj((), title=_STR, description=_STR, _version=_INT), params=_G)},
    "/graphs/{graph_id}/nodes/list_nodes": {"get": _op("The graph's nodes", _NODES, params=_G)},
    "/graphs/{graph_id}/nodes/insert_node": {"post": _op("Place a library node", _EDITED, _EDIT, params=_G)},
    "/graphs/{graph_id}/nodes/remove_node": {"post": _op("Remove a node and its wires", _EDITED,
                                                         _obj(("node_id",), node_id=_STR), params=_G)},
    "/graphs/{graph_id}/nodes/create_link": {"post": _op("Wire an output to an input (type-checked, no cycles)",
                                                         _EDITED, "Link", params=_G)},
    "/graphs/{graph_id}/nodes/remove_link": {"post": _op("Remove a wire", _EDITED, "Link", params=_G)},
    "/graphs/{graph_id}/nodes/change_parameter": {"post": _op("Set a parameter's value", _EDITED, _PARAM,
                                                              params=_G)},
}
for _action, _summary in (("approve", "Run the stored graph"), ("create_run", "Run the stored graph (CREATE_RUN)"),
                          ("validate", "Validate the stored graph"),
                          ("rearrange", "Lay the stored graph out by topology"),
                          ("upgrade_nodes", "Replace deprecated nodes by their successors"),
                          ("cancel", "Cancel the graph's run"),
                          ("generate_code", "Python code that recreates the graph"),
                          ("clone", "Copy the graph for the caller"),
                          ("archive", "Archive the graph (who may change it): hidden from searches, still read "
                                      "and run by id"),
                          ("restore", "Restore an archived graph")):
    PATHS[f"/graphs/{{graph_id}}/{_action}"] = {"post": _op(_summary, "GraphResponse", params=_G)}
for _action in ("approve", "create_run"):  # the run's parameters, optional
    PATHS[f"/graphs/{{graph_id}}/{_action}"]["post"]["summary"] += " (with this run's `parameters`)"
    PATHS[f"/graphs/{{graph_id}}/{_action}"]["post"]["requestBody"] = {
        "required": False, "content": {"application/json": {"schema": _ref("RunRequest")}}}
PATHS["/graphs/{graph_id}/delete"] = {"post": _op(
    "Delete the graph (its author or an admin; not while it runs): its runs, versions and state machines go, then "
    "a garbage collection pass", "Deleted", params=_G)}
PATHS["/graphs/{graph_id}/as_operation"] = {"post": _op(
    "Save the graph as a composite operation: its files become inputs, outputs nobody reads its outputs",
    "NodeResponse", params=_G)}

# Trials (chalicelib/api/trials.py): try an operation's draft once before approving it.
SCHEMAS["Run"]["properties"]["kind"] = {"type": "string", "enum": ["run", "trial"],
                                        "description": "`trial`: a run of POST /nodes/try (its author's only)"}
SCHEMAS["TrialRequest"] = _obj(
    ("node",), node=_ref("Node"),
    inputs={"type": "object", "description": "per input name: a resource id the caller may read (an upload, an "
            "output of a run they may see), {resource_id, file_type}, or a list of those (an array input)",
            "additionalProperties": {}},
    parameters={"type": "object", "additionalProperties": {},
                "description": "values by parameter name, checked by type (system `_` parameters are the node's)"})
SCHEMAS["Trial"] = {**SCHEMAS["Run"], "properties": {
    **SCHEMAS["Run"]["properties"], "operation": _ref("Node"),
    "node_id": {"type": "string", "description": "the id of the draft tried"}}}
PATHS.update({
    "/nodes/try": {"post": _op(
        "Try an operation's draft (saved or not, never approved) once on inputs and parameter values: a one-node "
        "run recorded as a trial (not cached, not in the library, seen by its author only), counted against the "
        "run quotas; answers its `trial_id` (a run id). An input the caller may not read is a 404, bad input a 400; "
        "an operation that does not validate answers VALIDATION_FAILED and runs nothing",
        _obj(("status",), status=_STR, message=_STR, trial_id=_STR, run_id=_STR, graph_id=_STR, node_id=_STR,
             url=_STR, node=_ref("Node"), validation_error=_ref("ValidationError")),
        "TrialRequest", tag="trials")},
    "/trials": {"get": _op(
        "The caller's newest trials (of one draft with `node_id`), newest first",
        _obj(("items", "total_count"), status=_STR, items={"type": "array", "items": _obj(
            ("trial_id",), trial_id=_STR, graph_id=_STR, node_id=_STR, title=_STR, run_status=_STR, start=_STR,
            update_date=_STR)}, total_count=_INT), query=("node_id",), tag="trials")},
    "/trials/{trial_id}": {"get": _op(
        "A trial as it ran (its author's, or an admin's; 404 for anyone else): the run, its `operation` with status, "
        "outputs and logs (live while it runs), and the draft's `node_id`",
        _obj(("data",), status=_STR, data=_ref("Trial")), params=("trial_id",), tag="trials")},
})

# Triggers and notifications (chalicelib/api/triggers.py, chalicelib/api/notifications.py).
_WEBHOOK = _obj((), created=_STR, created_by=_STR, last={"type": "object", "nullable": True},
                token={"type": "string", "description": "only in the answer that made or rotated it"},
                url={"type": "string", "description": "`/plynx/api/v0/triggers/<token>`, only with `token`"})
_FILE_TRIGGER = _obj(("file_id",), file_id=_STR, created=_STR, created_by=_STR, last={"type": "object", "nullable": True})
_NOTIFY = _obj(("on",), on={"type": "string", "enum": ["success", "failure", "both", "never"]},
               webhook_url=_NULLABLE_STR, email=_NULLABLE_STR)
_DONE = _obj((), status=_STR, message=_STR)
PATHS.update({
    "/graphs/{graph_id}/triggers": {"get": _op(
        "The graph's triggers (who may see the graph): its webhook trigger (never its token) and file triggers",
        _obj(("data",), status=_STR, data=_obj((), webhook={**_WEBHOOK, "nullable": True},
                                               files={"type": "array", "items": _FILE_TRIGGER})),
        params=_G, tag="triggers")},
    "/graphs/{graph_id}/triggers/webhook": {
        "post": _op("Make the graph's webhook trigger (who may run the graph; 409 if it has one): its `token` and "
                    "`url` are shown in this answer only", _obj(("data",), status=_STR, message=_STR, data=_WEBHOOK),
                    params=_G, tag="triggers"),
        "delete": _op("Revoke the webhook trigger: its URL is a 404 from now on", _DONE, params=_G, tag="triggers")},
    "/graphs/{graph_id}/triggers/webhook/rotate": {"post": _op(
        "A new token for the webhook trigger (the old URL is a 404 at once); shown in this answer only",
        _obj(("data",), status=_STR, message=_STR, data=_WEBHOOK), params=_G, tag="triggers")},
    "/graphs/{graph_id}/triggers/files": {"post": _op(
        "Watch a file (an approved file node you may see): each new version of it (an upload with `replaces`, or "
        "an APPROVE of a new version) moves the graph's nodes of that file to the new version and runs the graph",
        _obj(("data",), status=_STR, data=_FILE_TRIGGER), _obj(("file_id",), file_id=_STR), params=_G,
        tag="triggers")},
    "/graphs/{graph_id}/triggers/files/{file_id}": {"delete": _op(
        "Stop watching the file", _DONE, params=("graph_id", "file_id"), tag="triggers")},
    "/triggers/{token}": {"post": {**_op(
        "Start a run of the graph whose webhook trigger has this token, on behalf of the trigger's creator (its "
        "record's `how` is WEBHOOK); no credentials. Unknown and revoked tokens are the same 404; 429 after "
        "5 unknown tokens a minute from one address", _obj(("graph_id", "run_id"), status=_STR, message=_STR,
                                                          graph_id=_STR, run_id=_STR),
        "RunRequest", params=("token",), tag="triggers"), "security": []}},  # the token is the credential
    "/graphs/{graph_id}/notifications": {
        "get": _op("Your own notification settings for the graph (who may see it), with your signing `secret`",
                   _obj(("data",), status=_STR, data={**_NOTIFY, "properties": {
                       **_NOTIFY["properties"], "secret": _NULLABLE_STR, "signature_header": _STR,
                       "timestamp_header": _STR}}), params=_G, tag="notifications"),
        "put": _op("Set your notification settings for the graph: `on` (success, failure, both, never), a "
                   "`webhook_url` (public addresses only) and/or an `email` address; `rotate_secret`: a new "
                   "signing secret", _obj(("data",), status=_STR, data=_NOTIFY),
                   {**_NOTIFY, "properties": {**_NOTIFY["properties"], "rotate_secret": _BOOL}}, params=_G,
                   tag="notifications"),
        "delete": _op("Turn your notifications of the graph off", _DONE, params=_G, tag="notifications")},
})
PATHS["/triggers/{token}"]["post"]["requestBody"]["required"] = False  # no body: the run's saved values


def document(server_url: str = API) -> dict:
    """The whole OpenAPI 3 document; `server_url` is where the API is mounted."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Serverless PLynx REST API", "version": "0",
                 "description": "The PLynx REST API (see the seed's REST chapter) on AWS serverless parts."},
        "servers": [{"url": server_url}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic",
                                          "description": "user:password, or an access token as `TOKEN:`"},
                                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
