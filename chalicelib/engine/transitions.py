"""Run statuses of a graph and its nodes, each change one conditional write on the run it belongs to."""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from chalicelib.domain.enums import BaseNodeNames, GraphRunningStatus, NodeRunningStatus
from chalicelib.domain.graph import sub_graph_id
from chalicelib.domain.util import now
from chalicelib.store.graph_items import node_from_item, node_items
from chalicelib.store.models import GraphModel, GraphNodeModel


class StaleRun(Exception):
    """A runner call for a run that is no longer the graph's current run; it must change nothing."""


def mark_graph_running(graph_id: str, run_id: str) -> None:
    """The execution has begun (a run canceled before it began stays canceled)."""
    try:
        GraphModel(graph_id).update(
            actions=[GraphModel.graph_running_status.set(GraphRunningStatus.RUNNING),
                     GraphModel.update_date.set(now())],
            condition=(GraphModel.run_id == run_id) & (GraphModel.graph_running_status == GraphRunningStatus.READY))
    except UpdateError as exc:
        raise StaleRun(f"Graph `{graph_id}` is not starting run `{run_id}`") from exc


def mark_failed_waiting(graph_id: str, run_id: str) -> None:
    """The first failed operation: FAILED_WAITING while operations already running finish."""
    try:
        GraphModel(graph_id).update(
            actions=[GraphModel.graph_running_status.set(GraphRunningStatus.FAILED_WAITING),
                     GraphModel.update_date.set(now())],
            condition=(GraphModel.run_id == run_id)
            & GraphModel.graph_running_status.is_in(GraphRunningStatus.READY, GraphRunningStatus.RUNNING))
    except UpdateError:
        pass  # already failing, canceled, or another run


def claim_node(graph_id: str, node_id: str, run_id: str) -> dict:
    """Mark a queued operation RUNNING for this run and return it; a canceled one is never claimed.

    RUNNING may be claimed again: Step Functions retries an invocation that failed transiently.
    """
    item = GraphNodeModel(graph_id, node_id)
    try:
        item.update(
            actions=[GraphNodeModel.node_running_status.set(NodeRunningStatus.RUNNING),
                     GraphNodeModel.update_date.set(now())],
            condition=(GraphNodeModel.run_id == run_id)
            & GraphNodeModel.node_running_status.is_in(NodeRunningStatus.IN_QUEUE, NodeRunningStatus.RUNNING))
    except UpdateError as exc:
        raise StaleRun(f"Node `{node_id}` is not queued in run `{run_id}`") from exc
    return node_from_item(item)


def requeue_node(graph_id: str, node_id: str, run_id: str, logs: dict[str, str]) -> None:
    """A failed attempt of an operation that asked for retries: queued again, its logs kept."""
    _update_node(graph_id, node_id, run_id, NodeRunningStatus.RUNNING,
                 [GraphNodeModel.node_running_status.set(NodeRunningStatus.IN_QUEUE), GraphNodeModel.logs.set(logs)])


def _update_node(graph_id: str, node_id: str, run_id: str, expected: str, actions: list) -> None:
    try:
        GraphNodeModel(graph_id, node_id).update(
            actions=[*actions, GraphNodeModel.update_date.set(now())],
            condition=(GraphNodeModel.run_id == run_id) & (GraphNodeModel.node_running_status == expected))
    except UpdateError as exc:
        raise StaleRun(f"Node `{node_id}` is no longer {expected} in run `{run_id}`") from exc


def finish_node(graph_id: str, node_id: str, run_id: str, status: str,
                outputs: dict[str, str], logs: dict[str, str]) -> None:
    """Record a running operation's final status with its output and log resources (not if canceled)."""
    _update_node(graph_id, node_id, run_id, NodeRunningStatus.RUNNING, [
        GraphNodeModel.node_running_status.set(status),
        GraphNodeModel.outputs.set(outputs),
        GraphNodeModel.logs.set(logs),
    ])


def end_nodes(graph_id: str, run_id: str, ends: dict[str, str]) -> list[str]:
    """Move this run's nodes, and those inside its composites, from each status in `ends` to its end
    status; returns the nested executions of the composites it moved (to stop them)."""
    nested = []
    for item in node_items(graph_id):
        if item.run_id != run_id:
            continue
        if item.body.get("base_node_name") == BaseNodeNames.GRAPH:
            nested += end_nodes(sub_graph_id(graph_id, item.node_id), run_id, ends)
            if item.node_running_status in ends and item.execution_arn:
                nested.append(item.execution_arn)
        if item.node_running_status in ends:
            try:
                item.update(
                    actions=[GraphNodeModel.node_running_status.set(ends[item.node_running_status]),
                             GraphNodeModel.update_date.set(now())],
                    condition=(GraphNodeModel.run_id == run_id)
                    & (GraphNodeModel.node_running_status == item.node_running_status),
                )
            except UpdateError:
                pass  # it moved on meanwhile; its runner records its own end
    return nested
