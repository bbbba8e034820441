"""Schedules: a record per schedule in the graph-nodes table and its EventBridge Scheduler schedule.

A graph's records are the items of its schedules partition (`schedules~<graph id>`), keyed by schedule id;
`scheduleid~<id>` points from a schedule id to its graph (`PATCH /schedules/{id}` knows only the id). The
record is the truth the API answers from; the EventBridge schedule (`plynx-<id>` in the stage's group) is
what fires, and carries the same expression, zone and state.
"""
from __future__ import annotations

import datetime as _dt
import functools
import json
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain import schedules as schedule_expressions
from chalicelib.domain.errors import ConflictError, NotFoundError

from . import aws
from .conditions import condition_failed
from .models import RunPointerModel, ScheduleModel
from .settings import SETTINGS

# `~` is never in a graph id (domain.util.check_id): neither partition is a graph's, a version's or a run's.
PARTITION_PREFIX = "schedules~"
POINTER_PREFIX = "scheduleid~"
POINTER_KEY = "~"
NAME_PREFIX = "plynx-"  # EventBridge schedule names: 1-64 of [0-9a-zA-Z-_.]; ours are 30
# What EventBridge Scheduler writes into the target's input when it invokes it (its context attributes).
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
EXECUTION_ID = "<aws.scheduler.execution-id>"
SCHEDULE_ARN = "<aws.scheduler.schedule-arn>"


@functools.cache
def _connection() -> Connection:
    return Connection(region=SETTINGS.region, host=SETTINGS.endpoint_url)


def partition(graph_id: str) -> str:
    return f"{PARTITION_PREFIX}{graph_id}"


def name(schedule_id: str) -> str:
    """The EventBridge Scheduler schedule's name."""
    return f"{NAME_PREFIX}{schedule_id}"


def target_input(graph_id: str, schedule_id: str) -> str:
    """The event the target function gets: which schedule fired, and when it was due."""
    return json.dumps({"source": "plynx.schedule", "graph_id": graph_id, "schedule_id": schedule_id,
                       "scheduled_time": SCHEDULED_TIME, "execution_id": EXECUTION_ID,
                       "schedule_arn": SCHEDULE_ARN}, sort_keys=True)


# --- records --------------------------------------------------------------------------------------------------


def count(graph_id: str) -> int:
    return ScheduleModel.count(partition(graph_id), consistent_read=True)


def of_graph(graph_id: str) -> list[ScheduleModel]:
    return list(ScheduleModel.query(partition(graph_id), consistent_read=True))


def find(schedule_id: str) -> ScheduleModel:
    """A schedule by its id alone, or 404 (the same answer whether or not someone else's schedule has it)."""
    if not isinstance(schedule_id, str) or not schedule_id.isalnum() or len(schedule_id) > 32:
        raise NotFoundError(f"Schedule `{str(schedule_id)[:40]}` not found")
    try:
        graph_id = RunPointerModel.get(f"{POINTER_PREFIX}{schedule_id}", POINTER_KEY, consistent_read=True).graph
        return ScheduleModel.get(partition(graph_id), schedule_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFoundError(f"Schedule `{schedule_id}` not found") from exc


def put(record: ScheduleModel) -> None:
    """Store a new record and its pointer in one request (TransactWriteItems)."""
    with TransactWrite(connection=_connection()) as transaction:
        transaction.save(RunPointerModel(f"{POINTER_PREFIX}{record.schedule_id}", POINTER_KEY, graph=record.graph))
        transaction.save(record, condition=ScheduleModel.schedule_id.does_not_exist())


def update(record: ScheduleModel, actions: list[Any]) -> None:
    """Change a stored record; a 404 when it was deleted meanwhile (never a write that recreates it)."""
    try:
        record.update(actions=actions, condition=ScheduleModel.schedule_id.exists())
    except (UpdateError, PutError) as exc:
        if condition_failed(exc):
            raise NotFoundError(f"Schedule `{record.schedule_id}` not found (deleted meanwhile)") from exc
        raise


def delete(record: ScheduleModel) -> None:
    with TransactWrite(connection=_connection()) as transaction:
        transaction.delete(RunPointerModel(f"{POINTER_PREFIX}{record.schedule_id}", POINTER_KEY))
        transaction.delete(record)


def delete_of_graph(graph_id: str) -> int:
    """Every schedule of a graph, its EventBridge schedule first (a deleted graph's, and the GC's)."""
    records = of_graph(graph_id)
    for record in records:
        delete_remote(record.schedule_id)
        delete(record)
    return len(records)


# --- EventBridge Scheduler ------------------------------------------------------------------------------------


def _start_date(record: ScheduleModel) -> dict[str, Any]:
    """A rate's StartDate: its first fire one period after the schedule was made (without one EventBridge fires
    at once, at each create and update), or the next fire of that phase once it has passed."""
    expression = schedule_expressions.parse(record.expression)
    if expression.kind != "rate":
        return {}
    created = _dt.datetime.strptime(record.created, "%Y-%m-%d %H:%M:%S.%fZ").replace(tzinfo=_dt.timezone.utc)
    return {"StartDate": expression.first_rate_fire(created, _dt.datetime.now(_dt.timezone.utc))}


def _definition(record: ScheduleModel) -> dict[str, Any]:
    return {
        **_start_date(record),
        "Name": name(record.schedule_id),
        "GroupName": SETTINGS.schedule_group,
        "ScheduleExpression": record.expression,
        "ScheduleExpressionTimezone": record.timezone,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED" if record.enabled else "DISABLED",
        "Description": f"PLynx graph {record.graph}"[:512],  # the API's 512-character limit
        "Target": {
            "Arn": SETTINGS.schedule_function,
            "RoleArn": SETTINGS.scheduler_role_arn,
            "Input": target_input(record.graph, record.schedule_id),
            # A refused or failed fire is recorded on the schedule, not retried: the next one is due anyway.
            "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60},
        },
    }


def create_remote(record: ScheduleModel) -> str:
    """Create the EventBridge schedule; returns its ARN."""
    return aws.client("scheduler").create_schedule(**_definition(record))["ScheduleArn"]


def update_remote(record: ScheduleModel) -> None:
    """UpdateSchedule replaces the whole definition: expression, zone, state and target together."""
    try:
        aws.client("scheduler").update_schedule(**_definition(record))
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise ConflictError(f"Schedule `{record.schedule_id}` has no EventBridge schedule; delete it and "
                                "add it again") from exc
        raise


def delete_remote(schedule_id: str) -> None:
    """Delete the EventBridge schedule (already gone: nothing to do)."""
    try:
        aws.client("scheduler").delete_schedule(Name=name(schedule_id), GroupName=SETTINGS.schedule_group)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


def ensure_group() -> None:
    """The stage's schedule group (the template makes it in the cloud; the local stack at bootstrap)."""
    client = aws.client("scheduler")
    try:
        client.get_schedule_group(Name=SETTINGS.schedule_group)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        client.create_schedule_group(Name=SETTINGS.schedule_group)
