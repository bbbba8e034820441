"""Compile a PLynx graph into ASL state machines that run every operation as soon as its inputs are ready.

Parallel states are fork-join, so an arbitrary DAG cannot be nested into them without losing
parallelism. Instead the operations are cut into chains (dag.plan): one Parallel branch per chain,
each operation a runner Task, and an operation whose inputs come from another chain first waits in a
`lambda:invoke.waitForTaskToken` Task until the runner of each such input has released it (the
race-free counter protocol of chalicelib/engine/waits.py). An operation that continues no chain starts
one forked after its deepest input: a Parallel state right after that input's Task runs the rest of its
chain next to the forked chains (a fan-out: no wait, no invocation, no release requests; on AWS a nested
Parallel, whose failing branch fails it and so the run's own Parallel, which the failure path catches).
The makespan then follows the critical path.

A graph too big for one execution (1 MB definition, 25,000 history events) is split: groups of
chains become child state machines started with `states:startExecution.sync:2`; waits work across
executions because they meet in DynamoDB, not in the state machine.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.domain.graph import inner_nodes, is_composite, placement_choice, retries, sub_graph_id, timeout_seconds

from .contract import (
    ENDED,
    ENDED_AT,
    Action,
    ErrorName,
    ExecutionInput,
    LostRunner,
    Path,
    fargate_environment,
    payload,
)
from .dag import CompileError, Plan, plan, wait_key

# Lambda's own transient failures: retried with backoff. A user's code error (OperationFailed) is not.
LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
ECS_TRANSIENT_ERRORS = ["ECS.AmazonECSException", "ECS.ServerException", "ECS.LimitExceededException"]
SFN_TRANSIENT_ERRORS = ["StepFunctions.AWSStepFunctionsException", "StepFunctions.SdkClientException"]
MAX_STATE_NAME = 80  # Step Functions' limit on state names
MAX_DEFINITION_BYTES = 1024 * 1024  # Step Functions' limit on a state machine definition
MAX_HISTORY_EVENTS = 25_000  # Step Functions' limit on one Standard execution's history
MAX_PAYLOAD_BYTES = 256 * 1024  # Step Functions' limit on one state's input or output
LAMBDA_MAX_SECONDS = 900  # Lambda stops a function after 15 minutes
UPLOAD_MARGIN_SECONDS = 60  # time the runner needs after the operation to upload outputs and logs
RESTORED_PER_STATE = 100  # restored operation ids listed in one Pass state (its output stays small)
# History events each state writes (measured on moto, as on AWS): Task 5, callback Task 6, Pass 2, Parallel 4.
EVENTS = {"run": 5, "wait": 6, "pass": 2, "parallel": 4, "child": 6}
EVENTS_FIXED = 40  # bookkeeping states, the failure path and its retries


@dataclass(frozen=True)
class Fargate:
    """Where long operations run: ECS runTask.sync on a Fargate cluster."""

    cluster: str
    task_definition: str
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    container: str = "runner"


@dataclass(frozen=True)
class Limits:
    """Budget of one execution; below AWS's quotas to leave room for retries and bookkeeping."""

    definition_bytes: int = 900_000
    history_events: int = 20_000
    max_chain: int = 1000


@dataclass(frozen=True)
class Parent:
    """Where a nested program (a composite operation's sub-graph) reports: the composite in its graph."""

    graph_id: str
    node_id: str
    notify: tuple[str, ...] = ()


@dataclass
class Program:
    """The main state machine and the child machines it starts (empty when one execution holds the graph)."""

    main: dict
    children: list[dict] = field(default_factory=list)


def _state_name(prefix: str, ident: str) -> str:
    return f"{prefix} {ident}"[:MAX_STATE_NAME]


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _retry(errors: list[str]) -> dict:
    """Three attempts, 1 s then doubling: ASL's defaults, left implicit (a definition holds thousands)."""
    return {"ErrorEquals": errors}


def _invoke(runner_function: str, payload: dict[str, Any], next_state: str | None,
            resource: str = "arn:aws:states:::lambda:invoke") -> dict:
    """A Task that invokes the runner with a small payload: ids travel in state, never data (256 KB)."""
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": resource,
        "Parameters": {"FunctionName": runner_function, "Payload": payload},
        "ResultPath": None,
        "Retry": [_retry(LAMBDA_TRANSIENT_ERRORS)],
    }
    return _link(state, next_state)


def _link(state: dict, next_state: str | None) -> dict:
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state


def placement(node: dict) -> str:
    """`lambda` or `fargate`: the `_placement` parameter, and Fargate whenever Lambda's 15 minutes are too short."""
    if placement_choice(node) == "fargate":
        return "fargate"
    if timeout_seconds(node) + UPLOAD_MARGIN_SECONDS > LAMBDA_MAX_SECONDS:
        return "fargate"
    return "lambda"


class _Builder:
    """Emits the states of one graph; each visitor step is a method."""

    def __init__(self, graph: dict, runner_function: str, dag: Plan, fargate: Fargate | None,
                 nested: Callable[[str, str, list[str]], str] | None = None,
                 on_fargate: frozenset[str] = frozenset()) -> None:
        self.graph_id = graph["_id"]
        self.nodes = {node["_id"]: node for node in graph["nodes"]}
        self.runner = runner_function
        self.dag = dag
        self.fargate = fargate
        self.nested = nested  # compiles a composite's sub-graph, returns its state machine's ARN
        self.on_fargate = on_fargate  # operations the caller placed on Fargate (inputs too big for Lambda)

    def notify_keys(self, node_id: str) -> list[str]:
        return [wait_key(self.graph_id, dependent) for dependent in self.dag.notifies.get(node_id, [])]

    # -- one operation ---------------------------------------------------------------------------

    def wait_state(self, node_id: str, next_state: str) -> dict:
        """Park the branch until every dependency in another chain has finished (callback released by a runner)."""
        wait = payload(Action.WAIT, self.graph_id, node_id=wait_key(self.graph_id, node_id),
                       needs=len(self.dag.waits_for[node_id]), token=Path("$$.Task.Token"))
        return _invoke(self.runner, wait, next_state, "arn:aws:states:::lambda:invoke.waitForTaskToken")

    def on_lambda(self, node_id: str) -> bool:
        """An operation the runner runs on Lambda (neither a composite nor on Fargate)."""
        node = self.nodes[node_id]
        return not is_composite(node) and placement(node) != "fargate" and node_id not in self.on_fargate

    def run_state(self, node_id: str, next_state: str | None, carried: bool = False) -> dict:
        """The operation itself, on Lambda or Fargate, with its timeout and retries. On Lambda it keeps its
        runner's `ended` in the state (contract.ENDED_AT), and gets the one before it in the branch as its
        `upstream` when `carried` (a Lambda operation ran before it in this branch, or before its fork)."""
        node = self.nodes[node_id]
        notify = self.notify_keys(node_id)
        if is_composite(node):
            return self.composite_state(node_id, notify, next_state)
        timeout = timeout_seconds(node)
        if not self.on_lambda(node_id):
            state = self._fargate_state(node_id, notify, _state_name("Check", node_id))
        else:
            extra: dict[str, Any] = {"notify": notify} if notify else {}
            if retries(node) > 0:
                extra["attempt"] = Path("$$.State.RetryCount")
            if carried:
                extra["upstream"] = ENDED
            state = _invoke(self.runner, payload(Action.RUN, self.graph_id, node_id=node_id, **extra), next_state)
            state["ResultSelector"] = {"ended.$": "$.Payload.ended"}
            state["ResultPath"] = ENDED_AT
            timeout = min(timeout, LAMBDA_MAX_SECONDS - UPLOAD_MARGIN_SECONDS)
        # The runner stops the operation at `_timeout`; the Task's own limit catches a runner that hangs.
        state["TimeoutSeconds"] = timeout + UPLOAD_MARGIN_SECONDS
        asked = retries(node)
        if asked > 0:  # the operation asked for it: its own failures are retried too
            state["Retry"].append({"ErrorEquals": [ErrorName.OPERATION_FAILED], "IntervalSeconds": 2,
                                   "MaxAttempts": asked, "BackoffRate": 2.0})
        return state

    def composite_state(self, node_id: str, notify: list[str], next_state: str | None) -> dict:
        """A composite operation: its sub-graph's own state machine, run as a nested execution."""
        if self.nested is None:
            raise CompileError(f"Node `{node_id}` is a composite operation, but no nested state machine naming was given")
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {
                "StateMachineArn": self.nested(self.graph_id, node_id, notify),
                "Name.$": "States.UUID()",  # always named: an unnamed execution breaks on moto
                "Input": ExecutionInput.parameters(sub_graph_id(self.graph_id, node_id), composite=node_id),
            },
            "ResultPath": None,
            "Retry": [_retry(SFN_TRANSIENT_ERRORS)],
        }
        return _link(state, next_state)

    def _fargate_state(self, node_id: str, notify: list[str], next_state: str | None) -> dict:
        if self.fargate is None:
            raise CompileError(f"Node `{node_id}` needs Fargate (long timeout or `_placement`), "
                               "but no Fargate cluster is configured")
        environment = fargate_environment(self.graph_id, node_id, notify)
        network: dict[str, Any] = {"Subnets": list(self.fargate.subnets), "AssignPublicIp": "ENABLED"}
        if self.fargate.security_groups:
            network["SecurityGroups"] = list(self.fargate.security_groups)
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::ecs:runTask.sync",
            # .sync ends when the task stops, whatever its exit code: keep "it exited 0" for the Check state
            # (one container; `[*]` is a list on AWS and on moto alike, where `[0]` is not)
            "ResultSelector": {"exited_0.$": "States.ArrayContains($.Containers[*].ExitCode, 0)"},
            "ResultPath": "$.fargate",
            "Parameters": {
                "Cluster": self.fargate.cluster,
                "TaskDefinition": self.fargate.task_definition,
                "LaunchType": "FARGATE",
                "NetworkConfiguration": {"AwsvpcConfiguration": network},
                "Overrides": {"ContainerOverrides": [{"Name": self.fargate.container, "Environment": environment}]},
            },
            "Retry": [_retry(ECS_TRANSIENT_ERRORS)],
        }
        return _link(state, next_state)

    @staticmethod
    def fargate_check(node_id: str, next_state: str | None) -> dict[str, dict]:
        """After a Fargate task: go on when the runner exited 0, else fail the branch like a Lambda error."""
        done = next_state or _state_name("Done", node_id)
        states = {
            _state_name("Check", node_id): {
                "Type": "Choice",
                "Choices": [{"Variable": "$.fargate.exited_0", "BooleanEquals": True, "Next": done}],
                "Default": _state_name("Failed", node_id),
            },
            _state_name("Failed", node_id): {
                "Type": "Fail", "Error": ErrorName.OPERATION_FAILED,
                "Cause": LostRunner(node_id, f"The runner of `{node_id}` exited non-zero on Fargate").cause()},
        }
        if next_state is None:
            states[done] = {"Type": "Succeed"}
        return states

    # -- chains, executions ----------------------------------------------------------------------

    def chain_states(self, index: int, carried: bool = False) -> tuple[str, dict[str, dict], int]:
        """One branch: a chain's operations, each preceded by its wait when it joins other chains, and the
        chains forked after it. Returns start, states, events."""
        return self._steps(self.dag.chains[index].node_ids, carried)

    def _steps(self, node_ids: list[str], carried: bool = False) -> tuple[str, dict[str, dict], int]:
        """Operations run one after another until one that forks others: then a Parallel runs the rest of
        the chain next to the forked chains (nested: each fork is one level deeper), up to the operation that
        joins them (dag.plan's joins), which runs after the Parallel with what follows it."""
        states: dict[str, dict] = {}
        events = 0
        names = []
        host = None
        for node_id in node_ids:
            if node_id in self.dag.waits_for:
                names.append((_state_name("Wait", node_id), "wait", node_id))
            names.append((_state_name("Run", node_id), "run", node_id))
            if node_id in self.dag.forks:
                host = node_id
                break
        fork = _state_name("Fork", host) if host is not None else None
        for i, (name, kind, node_id) in enumerate(names):
            next_state = names[i + 1][0] if i + 1 < len(names) else fork
            if kind == "wait":
                states[name] = self.wait_state(node_id, next_state)
            else:
                states[name] = self.run_state(node_id, next_state, carried)
                carried = carried or self.on_lambda(node_id)
            if states[name]["Resource"] == "arn:aws:states:::ecs:runTask.sync":
                states.update(self.fargate_check(node_id, next_state))
                events += EVENTS["pass"]
            events += EVENTS["child"] if states[name]["Resource"].startswith("arn:aws:states:::states:") else EVENTS[kind]
        if host is not None:
            branches = []
            rest = node_ids[node_ids.index(host) + 1:]
            joined = next((i for i, node_id in enumerate(rest) if self.dag.joins.get(node_id) == host), len(rest))
            rest, after = rest[:joined], rest[joined:]
            for start, branch_states, branch_events in ([self._steps(rest, carried)] if rest else []) + [
                    self.chain_states(index, carried) for index in self.dag.forks[host]]:
                branches.append((start, branch_states))
                events += branch_events + 2
            then = None
            if after:
                then, after_states, after_events = self._steps(after, carried)
                states.update(after_states)
                events += after_events
            states.update(self.fan_out(fork, branches, then))
            events += EVENTS["parallel"]
        return names[0][0], states, events

    @staticmethod
    def fan_out(name: str, branches: list[tuple[str, dict[str, dict]]], next_state: str | None) -> dict[str, dict]:
        """A Parallel running the branches concurrently (even one branch: its Catch covers every Task)."""
        parallel = {"Type": "Parallel", "Branches": [{"StartAt": s, "States": st} for s, st in branches],
                    "ResultPath": None}
        return {name: _link(parallel, next_state)}


class ChainOverLimits(CompileError):
    """One top-level chain (with the chains forked from it) does not fit one execution: cut chains shorter."""


def _pack(chains: list[tuple[str, dict, int, int]], limits: Limits) -> list[list[tuple[str, dict, int, int]]]:
    """Group chains into executions, each under the definition-size and history-event budgets."""
    groups: list[list[tuple[str, dict, int, int]]] = [[]]
    size = events = 0
    for chain in chains:
        _, _, chain_events, chain_bytes = chain
        if chain_bytes > limits.definition_bytes or chain_events > limits.history_events:
            raise ChainOverLimits("one chain of operations is over an execution's limits")
        if groups[-1] and (size + chain_bytes > limits.definition_bytes or events + chain_events > limits.history_events):
            groups.append([])
            size = events = 0
        groups[-1].append(chain)
        size += chain_bytes
        events += chain_events + 2
    return groups


def _restored_states(graph_id: str, restored: list[str], next_state: str) -> tuple[str, dict[str, dict]]:
    """Pass states naming the operations the cache restored: the skip shows in the execution history."""
    batches = [restored[i:i + RESTORED_PER_STATE] for i in range(0, len(restored), RESTORED_PER_STATE)]
    names = [_state_name("Restored from cache", str(i + 1)) for i in range(len(batches))]
    states = {}
    for i, batch in enumerate(batches):
        states[names[i]] = {"Type": "Pass", "Result": {"graph_id": graph_id, "restored": batch},
                            "ResultPath": "$.restored", "Next": names[i + 1] if i + 1 < len(batches) else next_state}
    return (names[0] if names else next_state), states


MIN_CHAIN = 50  # chains are cut no shorter than this when one does not fit an execution


def compile_program(graph: dict, runner_function: str, *, restored: frozenset[str] = frozenset(),
                    child_arn: Callable[[dict], str] | None = None, fargate: Fargate | None = None,
                    limits: Limits = Limits(), parent: Parent | None = None,
                    on_fargate: frozenset[str] = frozenset()) -> Program:
    """ASL for one graph run: restored skips, every operation, then SUCCESS or FAILED bookkeeping.

    The preparation marks the run RUNNING itself when it starts the execution (chalicelib/engine/preparation.py),
    so a graph's machine starts at its first restored Pass or "Run operations": no bookkeeping Task first (one
    runner invocation and two state transitions less a run). A nested program still opens its composite first.

    `restored` operations do not run (the cache has their outputs). `child_arn` names the state machine
    of a child definition (content-named by the caller): the parts of a graph too big for one execution,
    and the nested programs of its composite operations, which are compiled with their `parent`.
    `on_fargate`: operations of this graph to run on Fargate whatever their `_placement` says would be.

    `limits.max_chain` counts operations, but what must fit an execution is bytes and events, which waits and
    forks add to: a chain that comes out over them is planned again with chains a quarter shorter.
    """
    while True:
        try:
            return _compile_program(graph, runner_function, restored=restored, child_arn=child_arn,
                                    fargate=fargate, limits=limits, parent=parent, on_fargate=on_fargate)
        except ChainOverLimits:
            if limits.max_chain <= MIN_CHAIN:
                raise
            limits = replace(limits, max_chain=max(MIN_CHAIN, limits.max_chain * 3 // 4))


def _compile_program(graph: dict, runner_function: str, *, restored: frozenset[str],
                     child_arn: Callable[[dict], str] | None, fargate: Fargate | None, limits: Limits,
                     parent: Parent | None, on_fargate: frozenset[str]) -> Program:
    graph_id = graph["_id"]
    dag = plan(graph, skip=restored, max_chain=limits.max_chain)
    children: list[dict] = []

    def nested(owner: str, node_id: str, notify: list[str]) -> str:
        if child_arn is None:
            raise CompileError(f"Node `{node_id}` is a composite operation, but no child state machine naming was given")
        inner = {"_id": sub_graph_id(owner, node_id), "nodes": inner_nodes(builder.nodes[node_id])}
        try:
            program = compile_program(inner, runner_function, child_arn=child_arn, fargate=fargate, limits=limits,
                                      parent=Parent(owner, node_id, tuple(notify)))
        except CompileError as exc:
            raise CompileError(f"composite operation `{node_id}`: {exc}") from exc
        children.extend(program.children)  # before the machine that starts them
        children.append(program.main)
        return child_arn(program.main)

    builder = _Builder(graph, runner_function, dag, fargate, nested, on_fargate)
    chains = []
    for index, chain in enumerate(dag.chains):
        if chain.forked_at is not None:
            continue  # built inside the chain it forks from
        start, states, events = builder.chain_states(index)
        chains.append((start, states, events, len(_compact(states))))
    groups = _pack(chains, limits) if chains else []
    run_states: dict[str, dict]
    if len(groups) > 1 and parent is not None:
        raise CompileError("its sub-graph is too big for one execution; split it into several composites")
    if len(groups) <= 1:
        branches = [(start, states) for start, states, _, _ in (groups[0] if groups else [])]
        run_states = builder.fan_out("Run operations", branches, "Mark succeeded") if branches else {}
    else:
        if child_arn is None:
            raise CompileError("the graph needs several executions, but no child state machine naming was given")
        branches = []
        for i, group in enumerate(groups):
            child_states = builder.fan_out("Run operations", [(s, st) for s, st, _, _ in group], None)
            child = {"Comment": f"PLynx graph {graph_id}, part {i + 1} of {len(groups)}",
                     "StartAt": "Run operations", "States": child_states}
            children.append(child)
            name = _state_name("Run part", str(i + 1))
            branches.append((name, {name: {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {
                    "StateMachineArn": child_arn(child),
                    "Name.$": "States.UUID()",  # always named: an unnamed execution breaks on moto
                    "Input": ExecutionInput.parameters(graph_id, part=i + 1),
                },
                "ResultPath": None,
                "Retry": [_retry(SFN_TRANSIENT_ERRORS)],
                "End": True,
            }}))
        run_states = builder.fan_out("Run operations", branches, "Mark succeeded")
    first_run = "Run operations" if run_states else "Mark succeeded"
    start_after, restored_states = _restored_states(graph_id, sorted(restored), first_run)
    states = _bookkeeping(graph_id, runner_function, start_after, parent)
    main = {"Comment": f"PLynx graph {graph_id}", "StartAt": "Mark running" if "Mark running" in states else start_after,
            "States": states}
    main["States"].update(restored_states)
    main["States"].update(run_states)
    if "Run operations" in run_states:
        main["States"]["Run operations"]["Catch"] = [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Settle failure"}]
    else:
        del main["States"]["Settle failure"]  # nothing runs, nothing to settle (unreachable states are refused)
    _check_quotas(main, dag, len(restored), children)
    return Program(main, children)


def _bookkeeping(graph_id: str, runner: str, first: str, parent: Parent | None = None) -> dict[str, dict]:
    """Success and the failure path: FAILED_WAITING until running operations end, then FAILED.

    A nested program (a composite's sub-graph) opens its composite first ("Mark running": the composite's node
    records its nested execution and inputs) and closes it instead of the graph. A graph's own run has no such
    first state: its preparation marked it RUNNING when it started the execution.
    """
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Mark failed"}]

    def end(status: str, **error: Any) -> dict[str, Any]:
        if parent is None:
            return payload(Action.FINALIZE, graph_id, status=status, **error)
        return payload(Action.CLOSE, graph_id, parent_graph_id=parent.graph_id, node_id=parent.node_id,
                       notify=parent.notify, status=status, **error)

    states = {
        "Mark succeeded": _invoke(runner, end("SUCCESS"), None),
        # Cancels what has not started, releases parked waits, and fails (StillRunning) while operations
        # of the run still run: retried with backoff (a few events each), then Mark failed closes the rest.
        "Settle failure": _invoke(runner, payload(Action.SETTLE, graph_id, error=Path("$.error")), "Mark failed"),
        "Mark failed": _invoke(runner, end("FAILED", error=Path("$.error")), "Failed"),
        "Failed": {"Type": "Fail", "Error": ErrorName.GRAPH_FAILED, "Cause": "An operation of the graph failed"},
    }
    if parent is not None:
        states["Mark running"] = _invoke(runner, payload(
            Action.OPEN, graph_id, parent_graph_id=parent.graph_id, node_id=parent.node_id,
            execution_arn=Path("$$.Execution.Id")), first)
        states["Mark running"]["Catch"] = catch
    states["Mark succeeded"]["Catch"] = catch
    states["Settle failure"]["Retry"].append(
        {"ErrorEquals": [ErrorName.STILL_RUNNING], "IntervalSeconds": 1, "MaxAttempts": 12, "BackoffRate": 1.5})
    states["Settle failure"]["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "Mark failed"}]
    return states


def _check_quotas(main: dict, dag: Plan, restored: int, children: list[dict]) -> None:
    """Refuse up front what Step Functions would refuse or cut off mid-run (size as sent: compact JSON)."""
    for definition in [main, *children]:
        size = len(_compact(definition))
        if size > MAX_DEFINITION_BYTES:
            raise CompileError(f"its state machine would be {size} bytes, over the {MAX_DEFINITION_BYTES}-byte limit")
    if children:
        events = EVENTS_FIXED + EVENTS["child"] * len(children)
    else:
        events = EVENTS_FIXED + sum(EVENTS["run"] * len(c.node_ids) + 2 for c in dag.chains) + EVENTS["wait"] * len(
            dag.waits_for) + EVENTS["parallel"] * len(dag.forks)
    events += EVENTS["pass"] * -(-restored // RESTORED_PER_STATE)
    if events > MAX_HISTORY_EVENTS:
        raise CompileError(f"one execution would write about {events} history events, over {MAX_HISTORY_EVENTS}")
    for node_id, notify in dag.notifies.items():
        size = sum(len(n) + 3 for n in notify) + 200
        if size > MAX_PAYLOAD_BYTES:
            raise CompileError(f"node `{node_id}` feeds {len(notify)} operations, over a state's 256 KB payload limit")


def compile_graph(graph: dict, runner_function: str, **options: Any) -> dict:
    """The main definition of a graph that fits one execution (tests, dry runs)."""
    program = compile_program(graph, runner_function, **options)
    if program.children:
        raise CompileError("the graph needs several executions; use compile_program")
    return program.main


__all__ = [
    "CompileError",
    "Fargate",
    "Limits",
    "Parent",
    "Program",
    "compile_graph",
    "compile_program",
    "placement",
]
