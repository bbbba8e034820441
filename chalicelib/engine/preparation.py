"""A run's preparation: what APPROVE leaves for after its answer (cache planning, compile, state machines, start).

API Gateway ends a request after 29 s, and a 10,000-node graph takes longer than that to plan, compile and
deploy. So APPROVE (runs.start_run) validates, records the run and queues its operations (graph READY, the
header's `prepare_by` set: the run is *preparing*), invokes the preparation Lambda with InvocationType=Event
(an asynchronous invocation: Lambda queues the event and answers 202 at once) and answers. The preparation
(this module, `lambda_handler`) runs with the control plane's rights, never the runner's: it plans the cache,
compiles, creates the state machines and starts the execution. A failure there ends the run FAILED with its
reason. A preparation that dies without a word (its Lambda timed out, crashed, or the local stack stopped)
leaves `prepare_by` behind: a read of the run after that time (`reap`), or the reconcile at a local start,
ends it FAILED.

Locally the same handler runs on a thread of the stack's process, served by the local Lambda front
(infra/local/lambda_front.py) for an Event invocation of its function name.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, UpdateError

import stepfunctions
from chalicelib.domain import run_parameters
from chalicelib.domain.enums import BaseNodeNames, GraphRunningStatus, NodeRunningStatus
from chalicelib.domain.errors import BadRequestError
from chalicelib.domain.graph import NOT_RUN
from chalicelib.domain.permissions import RunPrincipal
from chalicelib.domain.util import now
from chalicelib.store import aws, run_records, telemetry
from chalicelib.store.conditions import condition_failed
from chalicelib.store.graph_items import node_from_item, node_items, run_items, saved_items, whole_items
from chalicelib.store.models import CacheModel, GraphModel, GraphNodeModel, RunModel
from chalicelib.store.settings import SETTINGS
from stepfunctions.contract import ErrorName, ExecutionInput

from . import cache, composite_runs, notifications, placement
from .settle import finalize, stop_executions
from .transitions import Moved, end_nodes, move_graph, new_node, run_principal

LOG = logging.getLogger(__name__)

# The preparation Lambda's timeout (infra/cloudformation/plynx.yaml, .chalice/config.json): Lambda's 15 minutes.
TIMEOUT_SECONDS = 900
# A run still preparing this long after APPROVE lost its preparation (timed out, crashed): a read ends it.
# Tests lower it to see a crashed preparation ended.
DEADLINE_SECONDS = TIMEOUT_SECONDS + 60.0

PREPARE = "prepare"  # the event's action


# Per-execution budget; tests lower it to exercise child executions on small graphs.
LIMITS = stepfunctions.Limits()


def state_machine_name(graph_id: str, definition: str) -> str:
    """Named by graph and definition hash (80-character limit): a state machine is never updated.

    UpdateStateMachine is eventually consistent, so an execution started right after it may run
    the old definition; an immutable, content-named machine cannot, and an unchanged graph reuses it.
    """
    digest = hashlib.sha256(definition.encode()).hexdigest()[:16]
    return f"plynx-{graph_id[:48]}-{digest}"


def _definition_text(definition: dict) -> str:
    # The compact form is the one the compiler measured against the 1 MB limit.
    return json.dumps(definition, sort_keys=True, separators=(",", ":"))


def _state_machine_arn(name: str) -> str:
    account = SETTINGS.state_machine_role_arn.split(":")[4]
    return f"arn:aws:states:{SETTINGS.region}:{account}:stateMachine:{name}"


def fargate() -> stepfunctions.Fargate | None:
    """The Fargate target: PLYNX_FARGATE_CLUSTER and _TASK_DEFINITION (and _SUBNETS, _SECURITY_GROUPS), from the
    stack's template in the cloud and from infra/local on the local stack; None: no operation may need Fargate."""
    cluster = os.environ.get("PLYNX_FARGATE_CLUSTER")
    task_definition = os.environ.get("PLYNX_FARGATE_TASK_DEFINITION")
    if not cluster or not task_definition:
        return None
    split = lambda name: tuple(v for v in os.environ.get(name, "").split(",") if v)
    return stepfunctions.Fargate(cluster, task_definition, split("PLYNX_FARGATE_SUBNETS"),
                                 split("PLYNX_FARGATE_SECURITY_GROUPS"))


def compile_program(graph: dict, restored: frozenset[str] = frozenset(),
                    on_fargate: frozenset[str] = frozenset()) -> stepfunctions.Program:
    """The graph's state machines; a graph it cannot run is a BadRequestError (the run's reason, FAILED)."""
    try:
        return stepfunctions.compile_program(
            graph, SETTINGS.runner_function, restored=restored, fargate=fargate(), limits=LIMITS,
            on_fargate=on_fargate,
            child_arn=lambda child: _state_machine_arn(state_machine_name(graph["_id"], _definition_text(child))),
        )
    except stepfunctions.CompileError as exc:
        raise BadRequestError(f"Graph `{graph['_id']}` cannot run: {exc}") from exc


# X-Ray traces of every execution (the template lets the state machine role write them), with the runner's.
TRACING = {"enabled": True}


def _create(sfn: Any, graph_id: str, definition: dict) -> str:
    text = _definition_text(definition)
    name = state_machine_name(graph_id, text)
    try:
        return sfn.create_state_machine(name=name, definition=text, roleArn=SETTINGS.state_machine_role_arn,
                                        type="STANDARD", tracingConfiguration=TRACING)["stateMachineArn"]
    except sfn.exceptions.StateMachineAlreadyExists:
        # Made before executions were traced: CreateStateMachine's idempotency counts the tracing too. Only the
        # tracing changes (the definition is the one the name hashes), so no execution can run an old one.
        arn = _state_machine_arn(name)
        sfn.update_state_machine(stateMachineArn=arn, tracingConfiguration=TRACING)
        return arn


def deploy(graph: dict, program: stepfunctions.Program, model: GraphModel, reuse: bool = True) -> str:
    """Create the graph's state machines (idempotent for an unchanged graph) and drop the previous main one.

    `reuse`: when the header's machine is this definition's (its name is the definition's hash, and it names its
    children's by theirs), it exists with them: no CreateStateMachine (20 ms locally, a control-plane call on
    AWS). A machine deleted meanwhile (a teardown) is made again by the caller (StartExecution says so)."""
    if reuse and model.state_machine_arn == _state_machine_arn(state_machine_name(graph["_id"],
                                                                                  _definition_text(program.main))):
        return model.state_machine_arn
    sfn = aws.client("stepfunctions")
    for child in program.children:  # before the main machine that starts them
        _create(sfn, graph["_id"], child)
    arn = _create(sfn, graph["_id"], program.main)
    previous, model.state_machine_arn = model.state_machine_arn, arn
    if previous and previous != arn:
        # No other run of this graph is active (APPROVE checked), so nothing executes on it.
        try:
            sfn.delete_state_machine(stateMachineArn=previous)
        except ClientError:
            pass  # already gone; nothing to clean
    return arn


def carried_over(graph_id: str, run_id: str) -> dict[str, CacheModel]:
    """What a retry keeps of the run it restarts: every operation (and composite) that succeeded or was
    restored there, with its outputs and logs, restored in the new run without a runner."""
    kept, done = {}, (NodeRunningStatus.SUCCESS, NodeRunningStatus.RESTORED)
    for item in node_items(run_items(graph_id, run_id)):
        if item.run_id == run_id and item.node_running_status in done \
                and item.body.get("base_node_name") in BaseNodeNames.OPERATIONS | {BaseNodeNames.GRAPH}:
            kept[item.node_id] = CacheModel(f"{cache.RETRY_PREFIX}{run_id}", outputs=dict(item.outputs or {}),
                                            logs=dict(item.logs or {}), graph_id=graph_id, run_id=run_id)
    return kept


def deadline() -> str:
    """The `prepare_by` of a run queued now."""
    return now(-DEADLINE_SECONDS)


# The run's parameters travel in the preparation's event up to this size (an asynchronous invocation's event is
# at most 256 KB); bigger ones are read from the run's record.
PARAMETERS_IN_EVENT_BYTES = 64 * 1024


def invoke(graph_id: str, run_id: str, principal: RunPrincipal | None = None, retry_of: str | None = None,
           replaced: tuple[str, str] | None = None, model: GraphModel | None = None,
           parameters: dict[str, Any] | None = None) -> None:
    """Hand a recorded run to its preparation: an asynchronous invocation (256 KB event: ids and small values,
    the rest is stored), with who the run acts for, and what APPROVE knows that the preparation would read
    again: the header as flipped to the run (`model`: its version's partition and size) and the run's
    `parameters` (when small)."""
    event: dict[str, Any] = {"action": PREPARE, "graph_id": graph_id, "run_id": run_id, "retry_of": retry_of,
                             "replaced": list(replaced) if replaced else None,
                             "principal": [principal.author, principal.sees_others] if principal else None}
    if model is not None and model.nodes_pending:
        event["version"] = [saved_items(model), int(model.node_count or 0)]
    given = json.dumps(parameters or {})
    if len(given) <= PARAMETERS_IN_EVENT_BYTES:
        event["parameters"] = parameters or {}
    aws.client("lambda").invoke(FunctionName=SETTINGS.prepare_function, InvocationType="Event",
                                Payload=json.dumps(event).encode())


def lambda_handler(event: dict, context: Any = None) -> dict:
    """The preparation Lambda: prepare the run, or end it FAILED with the reason it could not be."""
    if not isinstance(event, dict) or event.get("action") != PREPARE:
        raise ValueError(f"not a preparation event: {str(event)[:200]}")
    graph_id, run_id = str(event["graph_id"]), str(event["run_id"])
    replaced = tuple(event["replaced"]) if event.get("replaced") else None
    principal = RunPrincipal(str(event["principal"][0]), bool(event["principal"][1])) if event.get("principal") else None
    version = event.get("version")
    try:
        return {"graph_id": graph_id, "run_id": run_id,
                "status": prepare(graph_id, run_id, event.get("retry_of"), replaced, principal,
                                  version=(str(version[0]), int(version[1])) if version else None,
                                  parameters=event.get("parameters"))}
    except Exception as exc:  # noqa: BLE001 - whatever stopped it is the run's reason, seen in GET /runs/{id}
        LOG.exception("preparing run %s of graph %s failed", run_id, graph_id)
        name = "PrepareFailed" if not isinstance(exc, BadRequestError) else "GraphCannotRun"
        cause = str(exc) if isinstance(exc, BadRequestError) else f"{type(exc).__name__}: {exc}"
        _fail(graph_id, run_id, name, cause)
        return {"graph_id": graph_id, "run_id": run_id, "status": GraphRunningStatus.FAILED, "error": cause}


def _fail(graph_id: str, run_id: str, name: str, cause: str) -> None:
    try:
        ended = finalize(graph_id, run_id, GraphRunningStatus.FAILED, {"Error": name, "Cause": cause[:4000]})
    except Moved:
        return  # a newer run or a save replaced it meanwhile: nothing of this run to end
    if ended is not None and not ended.execution_arn:  # no execution's end tells the notifier
        notifications.ended_without_execution(graph_id, run_id, GraphRunningStatus.FAILED)


def _told_if_canceled(model: GraphModel | None, run_id: str) -> None:
    """A run canceled while it was preparing has no execution whose end would tell the notifier: tell it here
    (only the preparation sees this, once: it stops at what it found)."""
    if model is not None and model.run_id == run_id and model.graph_running_status == GraphRunningStatus.CANCELED \
            and not model.execution_arn:
        notifications.ended_without_execution(model.id, run_id, GraphRunningStatus.CANCELED)


def _preparing(graph_id: str, run_id: str) -> GraphModel | None:
    """The header, while run `run_id` is its run and still preparing (not canceled, not started)."""
    try:
        model = GraphModel.get(graph_id, consistent_read=True)
    except DoesNotExist:
        return None
    if model.run_id != run_id or model.graph_running_status != GraphRunningStatus.READY or not model.prepare_by:
        _told_if_canceled(model, run_id)
        return None
    return model


def restored_whole(graph: dict, restored: Iterable[str]) -> bool:
    """Whether the cache (or the run a retry restarts) restored every operation of the graph: nothing to run."""
    done = set(restored)
    return all(node["base_node_name"] in NOT_RUN or node["_id"] in done for node in graph["nodes"])


def _end_restored(model: GraphModel) -> str:
    """A run restored whole ends SUCCESS here, as the state machine's "Mark succeeded" would end it (settle.finalize:
    the header, the record, the metrics, the quota), without one: no CreateStateMachine, no StartExecution."""
    graph_id, run_id = model.id, model.run_id
    ended = finalize(graph_id, run_id, GraphRunningStatus.SUCCESS, actions=[GraphModel.prepare_by.remove()])
    if ended is None:  # canceled meanwhile
        try:
            _told_if_canceled(GraphModel.get(graph_id, consistent_read=True), run_id)
        except DoesNotExist:
            pass
        return "not preparing"
    notifications.ended_without_execution(graph_id, run_id, GraphRunningStatus.SUCCESS)
    return GraphRunningStatus.SUCCESS


def prepare(graph_id: str, run_id: str, retry_of: str | None = None, replaced: tuple[str, str] | None = None,
            principal: RunPrincipal | None = None, version: tuple[str, int] | None = None,
            parameters: dict[str, Any] | None = None) -> str:
    """Plan the cache, queue the run's nodes, compile, create the state machines and start the run's execution;
    returns the run's status as this leaves it (a run canceled or replaced meanwhile is left alone).

    `version` (the partition and node count of the run's version) and `parameters` are what APPROVE knew (the
    event): given, neither the header nor the run's record is read first. A run canceled before this began is
    then found so by the conditional write that shows its nodes (_queued), and ends there."""
    try:
        if version is None:  # not told: the header says (and whether the run is still preparing)
            model = _preparing(graph_id, run_id)
            if model is None:
                return "not preparing"
            version = (saved_items(model), int(model.node_count or 0))
        else:
            model = GraphModel(graph_id, run_id=run_id, nodes_pending=True)
        principal = principal or run_principal(graph_id, None)
        if parameters is None:  # too big for the event (or not told): the record has them
            parameters = RunModel.get(run_records.runs_partition(graph_id), run_id, consistent_read=True).parameters
        parameters = dict(parameters or {})
        saved = whole_items(*version)
        given = run_parameters.by_node(parameters)
        graph = {"_id": graph_id, "nodes": [run_parameters.apply_to_node(dict(node_from_item(item), _id=item.node_id),
                                                                         given.get(item.node_id, {}))
                                            for item in saved]}
        restored = cache.plan_restores(graph, principal)
        if retry_of:  # a retry: what succeeded in that run is restored, the cache may restore more
            restored.update(carried_over(graph_id, retry_of))
        on_fargate = placement.too_big_for_lambda(graph, restored) if fargate() else frozenset()
        if model.nodes_pending:
            write_nodes(graph_id, run_id, saved, restored, principal, parameters, on_fargate, now())
            if not _queued(model, run_id):  # the header as it now is, in one write
                return "not preparing"
        if restored_whole(graph, restored):
            return _end_restored(model)
        program = compile_program(graph, frozenset(restored), on_fargate)
        return _start(graph, program, model)  # a cancel meanwhile: its conditional write finds it
    finally:  # once this run is under way, ended or failed to start: off the path to its start (or end)
        run_records.retain(graph_id, run_id, replaced)


def _queued(model: GraphModel, run_id: str) -> bool:
    """The run's nodes are written: readers show them from now on. False: the run ended meanwhile (canceled,
    or its preparation given up): what was just queued is CANCELED, never run."""
    try:
        model.update(actions=[GraphModel.nodes_pending.remove()], condition=GraphModel.run_id == run_id)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        # a newer run or a save replaced it (it was canceled before): nothing shows these nodes, none runs
        end_nodes(model.id, run_id, {NodeRunningStatus.IN_QUEUE: NodeRunningStatus.CANCELED})
        return False
    if model.graph_running_status == GraphRunningStatus.READY and model.prepare_by:
        return True
    _told_if_canceled(model, run_id)
    end_nodes(model.id, run_id, {NodeRunningStatus.IN_QUEUE: NodeRunningStatus.CANCELED})
    return False


def write_nodes(graph_id: str, run_id: str, saved: Iterable[GraphNodeModel], restored: dict[str, CacheModel],
                principal: RunPrincipal | None, parameters: dict[str, Any] | None, on_fargate: frozenset[str],
                stamp: str) -> list[GraphNodeModel]:
    """Write a run's nodes in its own partition from its version's `saved` items; returns them as written.

    Operations in `restored` are RESTORED with the cached outputs and logs (a composite's operations with it),
    the others IN_QUEUE; the run's `parameters` (`<node_id>.<name>`: value, checked) are set in its nodes, not
    in the saved graph's; each carries who the run acts for (`principal`; without one the runner takes the
    graph's author and restores only their own cache entries)."""
    partition, composites, written = run_items(graph_id, run_id), [], []
    given = run_parameters.by_node(parameters or {})
    with GraphNodeModel.batch_write() as batch:  # BatchWriteItem's 25 items a request: pynamodb cuts them so
        for item in saved:
            kind, entry = item.body["base_node_name"], restored.get(item.node_id)
            if kind == BaseNodeNames.GRAPH:
                composites.append((dict(item.body, _id=item.node_id), entry is not None))
            values = given.get(item.node_id, {})
            queued = GraphNodeModel(partition, item.node_id, body=run_parameters.apply_to_node(item.body, values),
                                    run_id=run_id, update_date=stamp,
                                    run_author=principal.author if principal else None,
                                    run_sees_others=principal.sees_others if principal else None)
            if item.node_id in on_fargate:  # moved for its inputs' size: the run's cost counts it on Fargate
                queued.placement = "fargate"
            if values:  # the graph's view shows the saved values, the run's view these
                queued.saved_parameters = {p["name"]: p.get("value") for p in item.body.get("parameters", [])
                                           if p.get("name") in values}
            if kind == BaseNodeNames.FILE:
                queued.node_running_status = new_node(NodeRunningStatus.STATIC)
            elif entry is not None:
                queued.node_running_status = new_node(NodeRunningStatus.RESTORED)
                queued.outputs, queued.logs = dict(entry.outputs), dict(entry.logs)
                queued.restored_from = cache.source(entry)
            else:
                queued.node_running_status = new_node(NodeRunningStatus.IN_QUEUE)
            batch.save(queued)
            written.append(queued)
    hits = sum(1 for entry in restored.values() if not entry.key.startswith(cache.RETRY_PREFIX))
    if hits:  # cache hits known before the start: restored without a runner (the runner counts the others)
        telemetry.metric(telemetry.OPERATIONS_ENDED["RESTORED"], "Count", hits, graph_id=graph_id, run_id=run_id)
    for node, was_restored in composites:
        composite_runs.queue_inner(graph_id, node, run_id, stamp, restored=was_restored, principal=principal)
    return written


def _start(graph: dict, program: Any, model: GraphModel) -> str:
    """Start the run's execution and mark the run RUNNING in the write that records it (READY → RUNNING through
    transitions, the run record with it): the state machine has no "Mark running" Task of its own."""
    run_id = model.run_id
    sfn = aws.client("stepfunctions")
    state_machine_arn = deploy(graph, program, model)
    try:
        execution = sfn.start_execution(stateMachineArn=state_machine_arn, name=run_id,
                                        input=ExecutionInput(graph["_id"], run_id).to_json())
    except sfn.exceptions.StateMachineDoesNotExist:  # the reused machine was deleted meanwhile: made again
        state_machine_arn = deploy(graph, program, model, reuse=False)
        execution = sfn.start_execution(stateMachineArn=state_machine_arn, name=run_id,
                                        input=ExecutionInput(graph["_id"], run_id).to_json())
    execution_arn = execution["executionArn"]
    recorded = [GraphModel.execution_arn.set(execution_arn), GraphModel.state_machine_arn.set(state_machine_arn),
                GraphModel.prepare_by.remove()]
    try:
        move_graph(model.id, GraphRunningStatus.READY, GraphRunningStatus.RUNNING, run_id=run_id, actions=recorded,
                   landed=lambda now_is: now_is.run_id == run_id and now_is.execution_arn == execution_arn)
        return GraphRunningStatus.RUNNING
    except Moved:
        pass  # an operation failed first (FAILED_WAITING), the execution has ended already, or a cancel came first
    try:  # the run's execution is recorded all the same, while the header is this run's
        model.update(actions=recorded, condition=GraphModel.run_id == run_id)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        model.graph_running_status = GraphRunningStatus.CANCELED  # replaced by a newer run or a save
    if model.graph_running_status in (GraphRunningStatus.CANCELED, GraphRunningStatus.FAILED):
        # canceled (or given up) while it was being prepared: the execution just started must not run (one
        # that has failed and ended already is left as it is: stop_executions ignores it)
        stop_executions([execution_arn], ErrorName.CANCELED, "The run was canceled while it was prepared")
    return model.graph_running_status


def preparing(model: GraphModel) -> bool:
    """Whether the header's run is still being prepared (READY, no execution yet)."""
    return model.graph_running_status == GraphRunningStatus.READY and bool(model.prepare_by)


def reap(model: GraphModel) -> GraphModel:
    """End the header's run FAILED if its preparation is past its deadline (it died without a word); returns the
    header as it now is."""
    if not preparing(model) or model.prepare_by >= now():
        return model
    _fail(model.id, model.run_id, "PreparationLost",
          f"The run's preparation (cache planning, compile, state machines, start) did not finish by "
          f"{model.prepare_by}: it timed out or crashed")
    try:
        return GraphModel.get(model.id, consistent_read=True)
    except DoesNotExist:
        return model


def start_failed(graph_id: str, run_id: str, exc: ClientError) -> None:
    """The preparation could not even be invoked: the run ends FAILED with why."""
    _fail(graph_id, run_id, "StartFailed", f"The run's preparation could not be started: {exc}")
