"""A graph's schedules: `GET/POST /graphs/{id}/schedules`, `PATCH/DELETE /schedules/{id}`, and their fires.

Who may see a graph may read its schedules; who may run it (its owner, who may change others' workflows, an
admin) adds, changes, pauses and deletes them. A schedule the caller may not see is a 404 worded as for an
id nobody stored, as runs are. Each fire starts a run through APPROVE's own path (actions.run_graph) of the
graph as stored when it fires, on behalf of the schedule's author: a fire their rights no longer allow is
refused, and the schedule says so (`last_fire`).
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

from botocore.exceptions import ClientError
from chalice import ChaliceViewError
from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import permissions, run_parameters
from chalicelib.domain import schedules as expressions
from chalicelib.domain.enums import IAMPolicies
from chalicelib.domain.errors import BadRequestError, ForbiddenError, NotFoundError
from chalicelib.domain.util import new_id, now
from chalicelib.engine import runs
from chalicelib.store import schedules as store
from chalicelib.store.graph_items import load_model
from chalicelib.store.models import ScheduleModel

from . import actions, graphs, users

FIELDS = ("expression", "timezone", "parameters", "enabled")
STARTED, REFUSED, INVALID, FAILED = "STARTED", "REFUSED", "INVALID", "FAILED"
_STAMP = "%Y-%m-%d %H:%M:%S.%fZ"


def _created(record: ScheduleModel) -> _dt.datetime:
    return _dt.datetime.strptime(record.created, _STAMP).replace(tzinfo=_dt.timezone.utc)


def view(record: ScheduleModel, readonly: bool = False, at: _dt.datetime | None = None) -> dict:
    """A schedule as the API answers it, with its next fire times (none while paused)."""
    upcoming: list[str] = []
    if record.enabled:
        after = at or _dt.datetime.now(_dt.timezone.utc)
        try:
            expression = expressions.parse(record.expression)
            anchor = expression.first_rate_fire(_created(record), _created(record)) if expression.kind == "rate" \
                else _created(record)
            upcoming = [expressions.iso(t) for t in expression.next_times(record.timezone, after, anchor)]
        except BadRequestError:  # stored before a stricter check: listed without times, never a failed list
            upcoming = []
    return {
        "_id": record.schedule_id,
        "_type": "Schedule",
        "graph_id": record.graph,
        "expression": record.expression,
        "timezone": record.timezone,
        "parameters": record.parameters or {},
        "enabled": bool(record.enabled),
        "author": record.author,
        "updated_by": record.updated_by,
        "created": record.created,
        "updated": record.updated,
        "last_fire": record.last_fire,
        "fires": int(record.fires or 0),
        "next_fire_times": upcoming,
        "_readonly": readonly,
    }


def _body(body: dict, partial: bool) -> dict:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadRequestError(f"Unknown schedule fields {unknown}; a schedule has {list(FIELDS)}")
    if not partial and "expression" not in body:
        raise BadRequestError("`expression` is required: `rate(5 minutes)`, `cron(0 8 * * ? *)` or "
                              "`at(2027-01-01T08:00:00)`")
    if "enabled" in body and not isinstance(body["enabled"], bool):
        raise BadRequestError("`enabled` must be true or false")
    return body


def _checked(graph: dict, body: dict, current: ScheduleModel | None) -> tuple[str, str, dict]:
    """The expression, zone and parameters a schedule will have, each checked (400 naming what is wrong)."""
    expression = expressions.parse(body["expression"]).text if "expression" in body else current.expression
    zone = body.get("timezone", current.timezone if current else "UTC")
    expressions.time_zone(zone)
    parsed = expressions.parse(expression)
    if parsed.kind == "at" and ("expression" in body or "timezone" in body) and not parsed.next_times(
            zone, _dt.datetime.now(_dt.timezone.utc), _dt.datetime.now(_dt.timezone.utc)):
        raise BadRequestError(f"`{expression}` is in the past in {zone}: a one-time schedule would never fire")
    parameters = body["parameters"] if "parameters" in body else (current.parameters if current else None)
    if parameters is not None:
        run_parameters.check(graph, parameters)  # as APPROVE checks them; checked again at each fire
    return expression, zone, dict(parameters or {})


def _manageable(graph_id: str, user: str) -> dict:
    """The graph, once the caller may run it (and so manage its schedules)."""
    graph = graphs.get_graph(graph_id, user)
    permissions.check_run(user, graph["author"], graph_id)
    return graph


def _visible(schedule_id: str, user: str) -> tuple[ScheduleModel, str]:
    """The record and its graph's author; a 404 for who may not see the graph (ids are no oracle)."""
    record = store.find(schedule_id)
    try:
        author = load_model(record.graph).author
    except NotFoundError as exc:
        raise NotFoundError(f"Schedule `{schedule_id}` not found") from exc
    if not permissions.may_view(user, permissions.GRAPH, author):
        raise NotFoundError(f"Schedule `{schedule_id}` not found")
    return record, author


def list_schedules(graph_id: str, user: str) -> dict:
    """`GET /graphs/{graph_id}/schedules`: who may see the graph sees its schedules (as its runs: 403 else)."""
    header = load_model(graph_id)
    permissions.check_view(user, permissions.GRAPH, header.author, graph_id)
    readonly = not permissions.may_write(user, permissions.GRAPH, header.author) \
        or not permissions.has(user, IAMPolicies.CAN_RUN_WORKFLOWS)
    items = sorted(store.of_graph(graph_id), key=lambda record: record.created)
    return {"items": [view(record, readonly) for record in items], "total_count": len(items),
            "max_schedules": expressions.MAX_PER_GRAPH}


def create(graph_id: str, body: dict, user: str) -> dict:
    """`POST /graphs/{graph_id}/schedules`: a schedule (enabled unless `enabled: false`) and its EventBridge one."""
    graph = _manageable(graph_id, user)
    body = _body(body, partial=False)
    expression, zone, parameters = _checked(graph, body, None)
    if store.count(graph_id) >= expressions.MAX_PER_GRAPH:
        raise BadRequestError(f"Graph `{graph_id}` has {expressions.MAX_PER_GRAPH} schedules, the most a graph may "
                              "have; delete one first")
    stamp = now()
    record = ScheduleModel(store.partition(graph_id), new_id(), graph=graph_id, expression=expression, timezone=zone,
                           parameters=parameters, enabled=body.get("enabled", True), author=str(user),
                           created=stamp, updated=stamp)
    store.put(record)
    try:
        store.create_remote(record)
    except ClientError as exc:
        store.delete(record)
        _refused(exc)
        raise
    return view(record)


def update(schedule_id: str, body: dict, user: str) -> dict:
    """`PATCH /schedules/{schedule_id}`: expression, zone, parameters, `enabled` (pause and resume)."""
    record, _author = _visible(schedule_id, user)
    graph = _manageable(record.graph, user)
    body = _body(body, partial=True)
    expression, zone, parameters = _checked(graph, body, record)
    enabled = body.get("enabled", bool(record.enabled))
    previous = (record.expression, record.timezone, record.parameters, record.enabled)
    store.update(record, [ScheduleModel.expression.set(expression), ScheduleModel.timezone.set(zone),
                          ScheduleModel.parameters.set(parameters), ScheduleModel.enabled.set(enabled),
                          ScheduleModel.updated.set(now()), ScheduleModel.updated_by.set(str(user))])
    try:
        store.update_remote(record)
    except (ClientError, ChaliceViewError) as exc:
        (record.expression, record.timezone, record.parameters, record.enabled) = previous
        store.update(record, [ScheduleModel.expression.set(record.expression),
                              ScheduleModel.timezone.set(record.timezone),
                              ScheduleModel.parameters.set(record.parameters),
                              ScheduleModel.enabled.set(record.enabled)])
        _refused(exc)
        raise
    return view(record)


def _refused(exc: Exception) -> None:
    """What EventBridge Scheduler refuses as invalid (a zone it does not know, say) is the user's 400."""
    if isinstance(exc, ClientError) and exc.response["Error"]["Code"] == "ValidationException":
        message = exc.response["Error"]["Message"]
        raise BadRequestError(f"EventBridge Scheduler refused the schedule: {message}") from exc


def delete(schedule_id: str, user: str) -> dict:
    """`DELETE /schedules/{schedule_id}`: the EventBridge schedule first (nothing fires after the answer)."""
    record, _author = _visible(schedule_id, user)
    _manageable(record.graph, user)
    store.delete_remote(record.schedule_id)
    store.delete(record)
    return {"_id": schedule_id, "graph_id": record.graph}


# --- fires ----------------------------------------------------------------------------------------------------


def fire(event: dict[str, Any]) -> dict:
    """The target of every schedule (app.py's schedule_fired, and the local stack's firer): start a run of the
    graph as stored now, for the schedule's author, and record the outcome on the schedule.

    Never raises for what the user can fix (rights, a graph that no longer validates, a run already
    going): EventBridge would retry it, and the schedule's `last_fire` says it instead.
    """
    graph_id, schedule_id = event.get("graph_id"), event.get("schedule_id")
    if not isinstance(graph_id, str) or not isinstance(schedule_id, str):
        return {"outcome": "IGNORED", "message": "not a schedule's event"}
    try:
        record = ScheduleModel.get(store.partition(graph_id), schedule_id, consistent_read=True)
    except DoesNotExist:  # deleted while its last fire was in flight
        return {"outcome": "IGNORED", "message": f"Schedule `{schedule_id}` no longer exists"}
    if not record.enabled:
        return {"outcome": "IGNORED", "message": f"Schedule `{schedule_id}` is paused"}
    scheduled = event.get("scheduled_time") if isinstance(event.get("scheduled_time"), str) else None
    outcome = _run(record)
    outcome.update(scheduled=scheduled, fired=now())
    try:
        store.update(record, [ScheduleModel.last_fire.set(outcome), ScheduleModel.fires.add(1)])
    except NotFoundError:
        pass  # deleted during the fire: the run (if any) has its record
    return outcome


def _run(record: ScheduleModel) -> dict:
    author = users.acting_for(record.author)  # their rights as they are now, not when they made it
    try:
        graph = graphs.get_graph(record.graph, author)
        error, message, run_id = actions.run_graph(graph, author, how=runs.SCHEDULE,
                                                   parameters=record.parameters or None,
                                                   schedule_id=record.schedule_id)
    except (ForbiddenError, NotFoundError) as exc:
        return {"outcome": REFUSED, "run_id": None,
                "message": f"Refused: `{record.author}` may no longer run graph `{record.graph}` ({exc})"}
    except ChaliceViewError as exc:  # 400 (parameters, quotas), 409 (already running)
        return {"outcome": FAILED, "run_id": None, "message": str(exc)}
    if error:
        return {"outcome": INVALID, "run_id": None, "message": message}
    return {"outcome": STARTED, "run_id": run_id, "message": f"Run `{run_id}` started"}
