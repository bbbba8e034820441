"""The end of a run: settling a failure, finalizing, and closing runs whose execution ended unseen."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.enums import BaseNodeNames, GraphRunningStatus, NodeRunningStatus
from chalicelib.domain.util import now
from chalicelib.store import aws, graph_items
from chalicelib.store.graph_items import node_items, run_items
from chalicelib.store.models import GraphModel
from stepfunctions.contract import ErrorName, StillRunning, lost_runner

from . import notifications, quotas, waits
from .transitions import GRAPH_MOVES, Moved, end_nodes, mark_failed_waiting, move_graph, move_node, sources

# A running operation's runner beats every few seconds (live_logs); one silent for this long is lost.
LOST_AFTER_SECONDS = 30.0


def stop_executions(execution_arns: list[str | None], error: str, cause: str) -> None:
    for execution_arn in execution_arns:
        if not execution_arn:
            continue
        try:
            aws.client("stepfunctions").stop_execution(executionArn=execution_arn, error=error, cause=cause)
        except ClientError:
            pass  # it had ended already


def settle(graph_id: str, run_id: str, error: Any = None) -> None:
    """After a failure: FAILED_WAITING, queued operations CANCELED, parked branches failed; StillRunning
    while operations of the run still run (the state machine retries this with backoff)."""
    mark_failed_waiting(graph_id, run_id)  # a composite's failure fails its top graph
    lost = lost_runner(error)  # the Fail state after a Fargate task whose runner exited non-zero names its node
    if lost:
        # A Fargate runner that exited non-zero without recording its end (killed, out of memory)
        try:
            move_node(graph_id, lost, run_id, NodeRunningStatus.RUNNING, NodeRunningStatus.FAILED)
        except Moved:
            pass  # it recorded its own end
    end_nodes(graph_id, run_id, {NodeRunningStatus.IN_QUEUE: NodeRunningStatus.CANCELED})
    waits.fail_parked(run_id, ErrorName.DEPENDENCY_FAILED, json.dumps(error)[:1000] if error else "")
    silent_since = now(LOST_AFTER_SECONDS)
    running = []
    for item in node_items(run_items(graph_id, run_id)):
        if item.run_id != run_id or item.node_running_status != NodeRunningStatus.RUNNING:
            continue
        if item.body.get("base_node_name") in BaseNodeNames.OPERATIONS and (item.update_date or "") < silent_since:
            try:  # its runner stopped beating (a Lambda timeout, out of memory, a killed process): lost
                move_node(graph_id, item.node_id, run_id, NodeRunningStatus.RUNNING, NodeRunningStatus.FAILED)
                continue
            except Moved:
                continue  # it recorded its own end just now
        running.append(item.node_id)
    if running:
        raise StillRunning(f"{len(running)} operation(s) still running: {running[:10]}")


def finalize(graph_id: str, run_id: str, status: str, error: Any = None, execution_ended: bool = False,
             actions: Iterable[Any] = ()) -> GraphModel | None:
    """End a run: the graph's final status (with `actions` in the same write); operations that never ran become
    CANCELED. Returns the header (as read before the move, or for SUCCESS as the move left it) if this call ended
    the run (None: it had ended).

    A failed run's operations still RUNNING at this point are lost (their runner was killed or timed
    out): they become FAILED, so nothing stays RUNNING after the execution. A run already ended
    (canceled meanwhile) is left as it is.
    """
    if status == GraphRunningStatus.SUCCESS:  # nothing to end first: the conditional move alone (no read)
        try:
            moved = move_graph(graph_id, GraphRunningStatus.ACTIVE & sources(GRAPH_MOVES, status), status,
                               run_id=run_id, actions=actions)
        except Moved:
            pass  # not this run's, or ended meanwhile: the read below tells which
        else:  # the header as the move left it (its quota slot, whether it had an execution)
            quotas.release(moved.quota_user, graph_id, run_id)
            return moved
    try:
        model = GraphModel.get(graph_id, consistent_read=True)
    except DoesNotExist:
        return None
    if model.run_id != run_id:
        raise Moved(f"Run `{run_id}` is not the current run of graph `{graph_id}`")
    if model.graph_running_status not in GraphRunningStatus.ACTIVE:
        quotas.release(model.quota_user, graph_id, run_id)  # ended by a cancel: freed there, idempotent here
        return None
    if status != GraphRunningStatus.SUCCESS:
        nested = end_nodes(graph_id, run_id, {NodeRunningStatus.IN_QUEUE: NodeRunningStatus.CANCELED,
                                               NodeRunningStatus.RUNNING: NodeRunningStatus.FAILED})
        waits.fail_parked(run_id, ErrorName.GRAPH_FAILED, "The run has ended")
        stop_executions(nested, ErrorName.GRAPH_FAILED, "The run has ended")
    ended: GraphModel | None = model
    try:
        move_graph(graph_id, GraphRunningStatus.ACTIVE & sources(GRAPH_MOVES, status), status, run_id=run_id,
                   actions=actions, error=json.dumps(error)[:10_000] if error else None)
    except Moved:
        ended = None  # canceled or closed meanwhile
    quotas.release(model.quota_user, graph_id, run_id)
    return ended


def reconcile_active(restarted: bool = False) -> list[str]:
    """Close runs whose execution ended without telling the graph (a local restart, a lost runner), and runs
    whose preparation was lost: past its deadline, or any at all when the stack `restarted` (the local
    preparation runs in the stack's process, so a stop ended it).

    Returns the ids of the graphs it closed.
    """
    sfn = aws.client("stepfunctions")
    closed = []
    active = GraphModel.by_listing.query(
        graph_items.LISTING, filter_condition=GraphModel.graph_running_status.is_in(*GraphRunningStatus.ACTIVE)
    )
    for model in active:
        if model.execution_arn is None and model.prepare_by:
            if not restarted and model.prepare_by >= now():
                continue  # still being prepared
            error = {"Error": "PreparationLost",
                     "Cause": "The run's preparation (cache planning, compile, state machines, start) did not finish"
                              + (": the stack stopped" if restarted else f" by {model.prepare_by}")}
        elif model.execution_arn is None:
            error = {"Error": "NotStarted", "Cause": "The run's execution was never started"}
        else:
            try:
                execution = sfn.describe_execution(executionArn=model.execution_arn)
            except sfn.exceptions.ExecutionDoesNotExist:
                execution = {"status": "ABORTED", "error": "ExecutionDoesNotExist"}
            if execution["status"] == "RUNNING":
                continue
            error = {"Error": execution.get("error") or execution["status"], "Cause": execution.get("cause", "")}
        try:
            ended = finalize(model.id, model.run_id, GraphRunningStatus.FAILED, error, execution_ended=True)
        except Moved:
            continue
        if ended is not None and ended.execution_arn is None:  # no execution's end tells the notifier
            notifications.ended_without_execution(model.id, model.run_id, GraphRunningStatus.FAILED)
        closed.append(model.id)
    return closed
