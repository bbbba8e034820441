"""Running a graph: APPROVE starts a named execution; the runner reports node and graph statuses here."""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, UpdateError

import stepfunctions
from chalicelib.api import graphs
from chalicelib.api.graphs import load_model, node_from_item, node_items
from chalicelib.domain import composite
from chalicelib.domain.enums import BaseNodeNames, GraphRunningStatus, NodeRunningStatus
from chalicelib.domain.errors import BadRequestError, ConflictError
from chalicelib.domain.util import now
from chalicelib.store import aws
from chalicelib.store.models import CacheModel, GraphModel, GraphNodeModel
from chalicelib.store.settings import SETTINGS

from . import cache, waits

# Per-execution budget; tests lower it to exercise child executions on small graphs.
LIMITS = stepfunctions.Limits()


# The compiler's Fail state after a Fargate task names its node (stepfunctions/compiler.py, fargate_check).
_LOST_RUNNER = re.compile(r"The runner of `([A-Za-z0-9_-]+)` exited non-zero")


# A running operation's runner beats every few seconds (live_logs); one silent for this long is lost.
LOST_AFTER_SECONDS = 30.0


class StillRunning(Exception):
    """A failed run still has operations running; Step Functions retries the settle step with backoff."""


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


def _definition_text(definition: dict) -> str:
    # The compact form is the one the compiler measured against the 1 MB limit.
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))


def _state_machine_arn(name: str) -> str:
    account = SETTINGS.state_machine_role_arn.split(":")[4]
    return f"arn:aws:states:{SETTINGS.region}:{account}:stateMachine:{name}"


def _fargate() -> stepfunctions.Fargate | None:
    """The Fargate target: PLYNX_FARGATE_CLUSTER and _TASK_DEFINITION (and _SUBNETS, _SECURITY_GROUPS) on
    AWS; the local runtime's cluster on the local stack."""
    cluster = os.environ.get("PLYNX_FARGATE_CLUSTER")
    task_definition = os.environ.get("PLYNX_FARGATE_TASK_DEFINITION")
    if (not cluster or not task_definition) and SETTINGS.endpoint_url:
        # The local stack runs `python -m runners` for this cluster (infra/local/patches.py)
        account = SETTINGS.state_machine_role_arn.split(":")[4]
        cluster = f"arn:aws:ecs:{SETTINGS.region}:{account}:cluster/plynx-local"
        task_definition = "plynx-runner-local"
    if not cluster or not task_definition:
        return None
    split = lambda name: tuple(v for v in os.environ.get(name, "").split(",") if v)
    return stepfunctions.Fargate(cluster, task_definition, split("PLYNX_FARGATE_SUBNETS"),
                                 split("PLYNX_FARGATE_SECURITY_GROUPS"))


def compile_program(graph: dict, restored: frozenset[str] = frozenset()) -> stepfunctions.Program:
    """The graph's state machines; a graph it cannot run is the user's 400."""
    try:
        return stepfunctions.compile_program(
            graph, SETTINGS.runner_function, restored=restored, fargate=_fargate(), limits=LIMITS,
            child_arn=lambda child: _state_machine_arn(state_machine_name(graph["_id"], _definition_text(child))),
        )
    except stepfunctions.CompileError as exc:
        raise BadRequestError(f"Graph `{graph['_id']}` cannot run: {exc}") from exc


def compile_definition(graph: dict) -> str:
    """The main definition as sent to Step Functions (dry runs, checks before queuing)."""
    return _definition_text(compile_program(graph).main)


def _create(sfn: Any, graph_id: str, definition: dict) -> str:
    text = _definition_text(definition)
    return sfn.create_state_machine(
        name=state_machine_name(graph_id, text), definition=text, roleArn=SETTINGS.state_machine_role_arn,
        type="STANDARD",
    )["stateMachineArn"]


def _deploy(graph: dict, program: stepfunctions.Program, model: GraphModel) -> str:
    """Create the graph's state machines (idempotent for an unchanged graph) and drop the previous main one."""
    sfn = aws.client("stepfunctions")
    for child in program.children:  # before the main machine that starts them
        _create(sfn, graph["_id"], child)
    arn = _create(sfn, graph["_id"], program.main)
    previous, model.state_machine_arn = model.state_machine_arn, arn
    if previous and previous != arn:
        # No run of this graph is active (start_run checked), so nothing executes on it.
        try:
            sfn.delete_state_machine(stateMachineArn=previous)
        except ClientError:
            pass  # already gone; nothing to clean
    return arn


def queue_run(graph_id: str, restored: dict[str, CacheModel] | None = None) -> str:
    """Give the graph a new run id and queue its operations; refused (409) while a run is active.

    Operations in `restored` are RESTORED right away with the cached outputs and logs.
    """
    restored = restored or {}
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
    composites = []
    with GraphNodeModel.batch_write() as batch:
        for item in node_items(graph_id):
            if item.body["base_node_name"] == BaseNodeNames.GRAPH:
                composites.append((dict(item.body, _id=item.node_id), item.node_id in restored))
            is_file = item.body["base_node_name"] == BaseNodeNames.FILE
            entry = restored.get(item.node_id)
            item.run_id = run_id
            item.outputs = None
            item.logs = None
            item.update_date = stamp
            if is_file:
                item.node_running_status = NodeRunningStatus.STATIC
            elif entry is not None:
                item.node_running_status = NodeRunningStatus.RESTORED
                item.outputs, item.logs = dict(entry.outputs), dict(entry.logs)
            else:
                item.node_running_status = NodeRunningStatus.IN_QUEUE
            item.execution_arn = None
            batch.save(item)
    for node, was_restored in composites:
        composite.queue_inner(graph_id, node, run_id, stamp, restored=was_restored)
    return run_id


def start_run(graph: dict) -> str:
    """Restore what the cache holds, queue the rest and start an execution named by the new run id."""
    restored = cache.plan_restores(graph)
    program = compile_program(graph, frozenset(restored))
    run_id = queue_run(graph["_id"], restored)
    model = load_model(graph["_id"])
    try:
        state_machine_arn = _deploy(graph, program, model)
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


def cancel_run(graph_id: str) -> dict:
    """CANCEL: stop the graph's execution; operations not finished and the graph become CANCELED."""
    model = load_model(graph_id)
    if model.graph_running_status not in GraphRunningStatus.ACTIVE or not model.run_id:
        raise ConflictError(f"Graph `{graph_id}` is not running (it is {model.graph_running_status})")
    run_id = model.run_id
    try:
        model.update(actions=[GraphModel.graph_running_status.set(GraphRunningStatus.CANCELED),
                              GraphModel.update_date.set(now())],
                     condition=(GraphModel.run_id == run_id)
                     & GraphModel.graph_running_status.is_in(*GraphRunningStatus.ACTIVE))
    except UpdateError as exc:
        raise ConflictError(f"Graph `{graph_id}` has just finished") from exc
    nested = _end_nodes(graph_id, run_id, {NodeRunningStatus.IN_QUEUE: NodeRunningStatus.CANCELED,
                                           NodeRunningStatus.RUNNING: NodeRunningStatus.CANCELED})
    # A stopped parent does not stop the nested executions of its composites: stop them too.
    _stop([model.execution_arn, *nested], "Canceled", "CANCEL requested")
    waits.fail_parked(run_id, "Canceled", "CANCEL requested")  # parked branches end now, not at a timeout
    return {"graph_id": graph_id, "run_id": run_id, "graph_running_status": GraphRunningStatus.CANCELED}


def _stop(execution_arns: list[str | None], error: str, cause: str) -> None:
    for execution_arn in execution_arns:
        if not execution_arn:
            continue
        try:
            aws.client("stepfunctions").stop_execution(executionArn=execution_arn, error=error, cause=cause)
        except ClientError:
            pass  # it had ended already


# --- called by the runner ----------------------------------------------------------------------


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


def upstream_nodes(graph_id: str, node: dict) -> dict[str, dict]:
    """The nodes an operation reads, by id, with their results (one BatchGet)."""
    upstream_ids = {v["node_id"] for i in node["inputs"] for v in i["values"]}
    return {
        item.node_id: node_from_item(item)
        for item in GraphNodeModel.batch_get([(graph_id, node_id) for node_id in upstream_ids],
                                             consistent_read=True)
    }


def input_resources(graph_id: str, node: dict, upstream: dict[str, dict] | None = None) -> dict[str, list[str]]:
    """The resource ids behind each input of a node, from the nodes it reads (`upstream`, if read already)."""
    if upstream is None:
        upstream = upstream_nodes(graph_id, node)
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
    """Record a running operation's final status with its output and log resources (not if canceled)."""
    _update_node(graph_id, node_id, run_id, NodeRunningStatus.RUNNING, [
        GraphNodeModel.node_running_status.set(status),
        GraphNodeModel.outputs.set(outputs),
        GraphNodeModel.logs.set(logs),
    ])


def _end_nodes(graph_id: str, run_id: str, ends: dict[str, str]) -> list[str]:
    """Move this run's nodes, and those inside its composites, from each status in `ends` to its end
    status; returns the nested executions of the composites it moved (to stop them)."""
    nested = []
    for item in node_items(graph_id):
        if item.run_id != run_id:
            continue
        if item.body.get("base_node_name") == BaseNodeNames.GRAPH:
            nested += _end_nodes(composite.sub_graph_id(graph_id, item.node_id), run_id, ends)
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


def settle(graph_id: str, run_id: str, error: Any = None) -> None:
    """After a failure: FAILED_WAITING, queued operations CANCELED, parked branches failed; StillRunning
    while operations of the run still run (the state machine retries this with backoff)."""
    mark_failed_waiting(stepfunctions.dag.top_graph_id(graph_id), run_id)  # a composite's failure fails its graph
    lost = _LOST_RUNNER.search(json.dumps(error or {}))
    if lost:
        # A Fargate runner that exited non-zero without recording its end (killed, out of memory)
        try:
            _update_node(graph_id, lost.group(1), run_id, NodeRunningStatus.RUNNING,
                         [GraphNodeModel.node_running_status.set(NodeRunningStatus.FAILED)])
        except StaleRun:
            pass  # it recorded its own end
    _end_nodes(graph_id, run_id, {NodeRunningStatus.IN_QUEUE: NodeRunningStatus.CANCELED})
    waits.fail_parked(run_id, "DependencyFailed", json.dumps(error)[:1000] if error else "")
    silent_since = now(LOST_AFTER_SECONDS)
    running = []
    for item in node_items(graph_id):
        if item.run_id != run_id or item.node_running_status != NodeRunningStatus.RUNNING:
            continue
        if item.body.get("base_node_name") in BaseNodeNames.OPERATIONS and (item.update_date or "") < silent_since:
            try:  # its runner stopped beating (a Lambda timeout, out of memory, a killed process): lost
                _update_node(graph_id, item.node_id, run_id, NodeRunningStatus.RUNNING,
                             [GraphNodeModel.node_running_status.set(NodeRunningStatus.FAILED)])
                continue
            except StaleRun:
                continue  # it recorded its own end just now
        running.append(item.node_id)
    if running:
        raise StillRunning(f"{len(running)} operation(s) still running: {running[:10]}")


def finalize(graph_id: str, run_id: str, status: str, error: Any = None, execution_ended: bool = False) -> None:
    """End a run: the graph's final status; operations that never ran become CANCELED.

    A failed run's operations still RUNNING at this point are lost (their runner was killed or timed
    out): they become FAILED, so nothing stays RUNNING after the execution. A run already ended
    (canceled meanwhile) is left as it is.
    """
    try:
        model = GraphModel.get(graph_id, consistent_read=True)
    except DoesNotExist:
        return
    if model.run_id != run_id:
        raise StaleRun(f"Run `{run_id}` is not the current run of graph `{graph_id}`")
    if model.graph_running_status not in GraphRunningStatus.ACTIVE:
        return
    if status != GraphRunningStatus.SUCCESS:
        nested = _end_nodes(graph_id, run_id, {NodeRunningStatus.IN_QUEUE: NodeRunningStatus.CANCELED,
                                               NodeRunningStatus.RUNNING: NodeRunningStatus.FAILED})
        waits.fail_parked(run_id, "GraphFailed", "The run has ended")
        _stop(nested, "GraphFailed", "The run has ended")
    actions = [GraphModel.graph_running_status.set(status), GraphModel.update_date.set(now())]
    if error:
        actions.append(GraphModel.error.set(json.dumps(error)[:10_000]))
    try:
        model.update(actions=actions, condition=(GraphModel.run_id == run_id)
                     & GraphModel.graph_running_status.is_in(*GraphRunningStatus.ACTIVE))
    except UpdateError:
        pass  # canceled or closed meanwhile


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
