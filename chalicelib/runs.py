"""Running a graph: APPROVE starts a named execution; the runner reports node and graph statuses here."""
from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, UpdateError

import stepfunctions

from . import aws
from .enums import BaseNodeNames, GraphRunningStatus, NodeRunningStatus
from .errors import BadRequestError, ConflictError
from . import graphs
from .graphs import load_model, node_from_item, node_items
from .models import GraphModel, GraphNodeModel
from .settings import SETTINGS
from .util import now


class StaleRun(Exception):
    """A runner call for a run that is no longer the graph's current run; it must change nothing."""


def state_machine_name(graph_id: str, definition: str) -> str:
    """Named by graph and definition hash (80-character limit): a state machine is never updated.

    UpdateStateMachine is eventually consistent, so an execution started right after it may run
    the old definition; an immutable, content-named machine cannot, and an unchanged graph reuses it.
    """
    digest = hashlib.sha256(definition.encode()).hexdigest()[:16]
    return f"plynx-{graph_id[:48]}-{digest}"


def _run_id(graph_id: str) -> str:
    stamp = now().replace("-", "").replace(":", "").replace(" ", "T").replace(".", "")
    return f"{graph_id[:48]}-{stamp}-{secrets.token_hex(3)}"[:80]


def compile_definition(graph: dict) -> str:
    """The graph's ASL as sent to Step Functions; a graph it cannot run is the user's 400."""
    try:
        definition = stepfunctions.compile_graph(graph, SETTINGS.runner_function)
    except stepfunctions.CompileError as exc:
        raise BadRequestError(f"Graph `{graph['_id']}` cannot run: {exc}") from exc
    # The compact form is the one the compiler measured against the 1 MB limit.
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))


def _deploy(graph: dict, definition: str, model: GraphModel) -> str:
    """Create the graph's state machine (idempotent for an unchanged graph) and drop the previous one."""
    sfn = aws.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=state_machine_name(graph["_id"], definition),
        definition=definition,
        roleArn=SETTINGS.state_machine_role_arn,
        type="STANDARD",
    )["stateMachineArn"]
    previous, model.state_machine_arn = model.state_machine_arn, arn
    if previous and previous != arn:
        # No run of this graph is active (start_run checked), so nothing executes on it.
        try:
            sfn.delete_state_machine(stateMachineArn=previous)
        except ClientError:
            pass  # already gone; nothing to clean
    return arn


def queue_run(graph_id: str) -> str:
    """Give the graph a new run id and queue its operations; refused (409) while a run is active."""
    run_id = _run_id(graph_id)
    try:
        GraphModel(graph_id).update(
            actions=[
                GraphModel.graph_running_status.set(GraphRunningStatus.READY),
                GraphModel.run_id.set(run_id),
                GraphModel.error.remove(),
                GraphModel.update_date.set(now()),
            ],
            condition=GraphModel.id.exists() & ~GraphModel.graph_running_status.is_in(*GraphRunningStatus.ACTIVE),
        )
    except UpdateError as exc:
        raise ConflictError(f"Graph `{graph_id}` is already running") from exc
    stamp = now()
    with GraphNodeModel.batch_write() as batch:
        for item in node_items(graph_id):
            is_file = item.body["base_node_name"] == BaseNodeNames.FILE
            item.node_running_status = NodeRunningStatus.STATIC if is_file else NodeRunningStatus.IN_QUEUE
            item.run_id = run_id
            item.outputs = None
            item.logs = None
            item.update_date = stamp
            batch.save(item)
    return run_id


def start_run(graph: dict) -> str:
    """Queue the graph's operations and start an execution named by the new run id."""
    definition = compile_definition(graph)
    run_id = queue_run(graph["_id"])
    model = load_model(graph["_id"])
    try:
        state_machine_arn = _deploy(graph, definition, model)
        execution = aws.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn,
            name=run_id,
            input=json.dumps({"graph_id": graph["_id"], "run_id": run_id}),
        )
    except ClientError as exc:
        finalize(graph["_id"], run_id, GraphRunningStatus.FAILED, {"Error": "StartFailed", "Cause": str(exc)})
        raise
    model.update(
        actions=[
            GraphModel.execution_arn.set(execution["executionArn"]),
            GraphModel.state_machine_arn.set(model.state_machine_arn),
        ]
    )
    return run_id


# --- called by the runner ----------------------------------------------------------------------


def _update_in_run(item: GraphModel | GraphNodeModel, run_id: str, actions: list, what: str) -> None:
    """Update an item only while it belongs to run_id, so a stale execution changes nothing."""
    try:
        item.update(actions=[*actions, type(item).update_date.set(now())], condition=type(item).run_id == run_id)
    except UpdateError as exc:
        raise StaleRun(f"{what} is not part of run `{run_id}`") from exc


def mark_graph_running(graph_id: str, run_id: str) -> None:
    """The execution has begun."""
    _update_in_run(GraphModel(graph_id), run_id, [GraphModel.graph_running_status.set(GraphRunningStatus.RUNNING)],
                   f"Graph `{graph_id}`")


def claim_node(graph_id: str, node_id: str, run_id: str) -> dict:
    """Mark an operation RUNNING for this run and return it (the update returns the whole item)."""
    item = GraphNodeModel(graph_id, node_id)
    _update_in_run(item, run_id, [GraphNodeModel.node_running_status.set(NodeRunningStatus.RUNNING)],
                   f"Node `{node_id}`")
    return node_from_item(item)


def input_resources(graph_id: str, node: dict) -> dict[str, list[str]]:
    """The resource ids behind each input of a node, from the nodes it reads."""
    upstream_ids = {v["node_id"] for i in node["inputs"] for v in i["values"]}
    upstream = {
        item.node_id: node_from_item(item)
        for item in GraphNodeModel.batch_get([(graph_id, node_id) for node_id in upstream_ids],
                                             consistent_read=True)
    }
    resolved: dict[str, list[str]] = {}
    for node_input in node["inputs"]:
        ids = []
        for value in node_input["values"]:
            source = upstream.get(value["node_id"])
            output = next((o for o in (source or {}).get("outputs", []) if o["name"] == value["output_id"]), None)
            if output is None or not output.get("resource_id"):
                raise LookupError(
                    f"Input `{node_input['name']}`: output `{value['output_id']}` of node "
                    f"`{value['node_id']}` has no resource"
                )
            ids.append(output["resource_id"])
        resolved[node_input["name"]] = ids
    return resolved


def finish_node(graph_id: str, node_id: str, run_id: str, status: str,
                outputs: dict[str, str], logs: dict[str, str]) -> None:
    """Record an operation's final status with its output and log resources."""
    _update_in_run(
        GraphNodeModel(graph_id, node_id),
        run_id,
        [
            GraphNodeModel.node_running_status.set(status),
            GraphNodeModel.outputs.set(outputs),
            GraphNodeModel.logs.set(logs),
        ],
        f"Node `{node_id}`",
    )


def finalize(graph_id: str, run_id: str, status: str, error: Any = None, execution_ended: bool = False) -> None:
    """End a run: the graph's final status; operations that never ran become CANCELED.

    Operations still RUNNING finish on their own, unless the execution has ended (then they failed).
    """
    try:
        model = GraphModel.get(graph_id, consistent_read=True)
    except DoesNotExist:
        return
    if model.run_id != run_id:
        raise StaleRun(f"Run `{run_id}` is not the current run of graph `{graph_id}`")
    if status != GraphRunningStatus.SUCCESS:
        ends = {NodeRunningStatus.IN_QUEUE: NodeRunningStatus.CANCELED}
        if execution_ended:
            ends[NodeRunningStatus.RUNNING] = NodeRunningStatus.FAILED
        for item in node_items(graph_id):
            if item.node_running_status in ends:
                try:
                    item.update(
                        actions=[GraphNodeModel.node_running_status.set(ends[item.node_running_status])],
                        condition=(GraphNodeModel.run_id == run_id)
                        & (GraphNodeModel.node_running_status == item.node_running_status),
                    )
                except UpdateError:
                    pass  # it moved on meanwhile; its runner records its own end
    actions = [GraphModel.graph_running_status.set(status)]
    if error:
        actions.append(GraphModel.error.set(json.dumps(error)[:10_000]))
    _update_in_run(model, run_id, actions, f"Graph `{graph_id}`")


def reconcile_active() -> list[str]:
    """Close runs whose execution ended without telling the graph (a local restart, a lost runner).

    Returns the ids of the graphs it closed.
    """
    sfn = aws.client("stepfunctions")
    closed = []
    active = GraphModel.by_listing.query(
        graphs.LISTING, filter_condition=GraphModel.graph_running_status.is_in(*GraphRunningStatus.ACTIVE)
    )
    for model in active:
        if model.execution_arn is None:
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
            finalize(model.id, model.run_id, GraphRunningStatus.FAILED, error, execution_ended=True)
        except StaleRun:
            continue
        closed.append(model.id)
    return closed
