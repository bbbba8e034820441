"""EventBridge's execution status changes: a run its own state machine could not close is closed here.

A graph's state machine records SUCCESS or FAILED itself, but an execution that times out, is stopped
from the console, or whose failure bookkeeping itself fails never reaches that step. EventBridge sees
every such end (`Step Functions Execution Status Change`); this turns it into the graph's status.
"""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.enums import GraphRunningStatus
from chalicelib.store import aws
from chalicelib.store.models import GraphModel
from stepfunctions.contract import ExecutionInput

from . import quotas, settle, transitions

ENDED_BADLY = ("FAILED", "TIMED_OUT", "ABORTED")
# The rule's pattern (app.py). Every PLynx state machine's name starts with `plynx-` (preparation.state_machine_name).
EXECUTION_ENDED_PATTERN: dict[str, Any] = {
    "source": ["aws.states"],
    "detail-type": ["Step Functions Execution Status Change"],
    "detail": {
        "status": list(ENDED_BADLY),
        "stateMachineArn": [{"wildcard": "arn:*:states:*:*:stateMachine:plynx-*"}],
    },
}


def _run_of(detail: dict[str, Any]) -> tuple[str, str] | None:
    """The (graph id, run id) an execution was started with: its input, or DescribeExecution's when cut."""
    text = detail.get("input")
    if text is None and detail.get("executionArn"):
        # EventBridge leaves out inputs over its size limit; ours are two ids, but be exact anyway.
        text = aws.client("stepfunctions").describe_execution(executionArn=detail["executionArn"]).get("input")
    run = ExecutionInput.parse(text)
    if run is None or run.part is not None or run.composite is not None:
        return None  # not ours, or a child execution (a part, a composite): its parent's Catch closes the run
    return run.graph_id, run.run_id


def execution_ended(detail: dict[str, Any]) -> str | None:
    """Close the graph of an execution that failed, timed out or was aborted; its id if this closed it.

    A run already closed (by its state machine, a cancel, or a newer run) is left as it is, so the
    event is safe to receive twice, late, or for another stage's execution (its graph is not here).
    """
    status = detail.get("status")
    if status not in ENDED_BADLY:
        return None
    run = _run_of(detail)
    if run is None:
        return None
    graph_id, run_id = run
    try:
        model = GraphModel.get(graph_id, consistent_read=True)
    except DoesNotExist:
        return None  # another stage's graph (both stages' state machines match the rule), or a deleted one
    if model.run_id != run_id:
        return None  # a newer run: this one was closed (and its slot freed) before that run was queued
    if model.graph_running_status not in GraphRunningStatus.ACTIVE:
        quotas.release(model.quota_user, graph_id, run_id)  # closed already; its slot is certainly free
        return None  # closed by its state machine, a cancel, or this event before
    error = {"Error": detail.get("error") or f"Execution{status.title().replace('_', '')}",
             "Cause": detail.get("cause") or f"The graph's execution ended {status}"}
    try:
        settle.finalize(graph_id, run_id, GraphRunningStatus.FAILED, error, execution_ended=True)
    except transitions.Moved:
        return None
    return graph_id
