"""What a compiled state machine and the runner say to each other: one module both import.

The compiler writes these payloads, environment variables, error names and execution inputs into ASL;
the runner (and the engine behind it) reads them back. Nothing here is parsed out of a sentence: a Fail
state's `Cause` is JSON, and every error a Retry or Catch matches is the name of an exception class here.
"""
from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["Action", "ENDED", "ENDED_AT", "ErrorName", "ExecutionInput", "FARGATE_ENVIRONMENT", "LostRunner",
           "OperationFailed", "Path", "RUN_ID", "RunnerEvent", "StillRunning", "event_from_environment",
           "fargate_environment", "lost_runner", "payload"]


class Action(str, enum.Enum):
    """What the runner is asked to do."""

    # the run's execution has begun: the graph RUNNING. Machines compile no such state any more (the preparation
    # marks the run RUNNING as it starts the execution); kept for executions of older machines still in flight
    START = "start"
    RUN = "run"  # run (or restore) one operation, then release its dependents
    WAIT = "wait"  # park a branch until its dependencies in other branches are done (a task token)
    SETTLE = "settle"  # after a failure: cancel what did not start, fail while operations still run
    FINALIZE = "finalize"  # the run's end: the graph SUCCESS or FAILED
    OPEN = "open"  # a composite's nested execution begins
    CLOSE = "close"  # ... and ends


class OperationFailed(Exception):
    """The user's operation failed; Step Functions retries this error only when the node asks (`_retries`)."""


class StillRunning(Exception):
    """A failed run still has operations running; Step Functions retries the settle step with backoff."""


class ErrorName:
    """Error names in ASL (Retry/Catch, Fail states, SendTaskFailure): each is what its raiser reports."""

    OPERATION_FAILED = OperationFailed.__name__  # Lambda reports a raised exception by its class name
    STILL_RUNNING = StillRunning.__name__
    GRAPH_FAILED = "GraphFailed"  # the run ended failed: its Fail state, and parked waits it releases
    CANCELED = "Canceled"  # CANCEL: stopped executions and released waits
    DEPENDENCY_FAILED = "DependencyFailed"  # a parked wait whose dependency failed


@dataclass(frozen=True)
class RunnerEvent:
    """One invocation of the runner (a Lambda payload, or a Fargate task's environment)."""

    action: Action
    graph_id: str
    run_id: str
    node_id: str | None = None
    notify: tuple[str, ...] = ()  # wait keys of dependents in other branches, released when this one is done
    attempt: int = 0  # Step Functions' retry count of this Task
    needs: int | None = None  # wait: how many dependencies must be done
    token: str | None = None  # wait: the task token to send back
    parent_graph_id: str | None = None  # open/close: the graph holding the composite
    execution_arn: str | None = None  # open: the nested execution
    status: str | None = None  # finalize/close: SUCCESS or FAILED
    error: Any = None  # settle/finalize/close: the error Step Functions caught
    upstream: Any = None  # run: the end of the operation before it in its branch, as its runner answered (ENDED)

    _REQUIRED = {Action.RUN: ("node_id",), Action.WAIT: ("node_id", "needs", "token"),
                 Action.OPEN: ("node_id", "parent_graph_id"), Action.CLOSE: ("node_id", "parent_graph_id", "status"),
                 Action.FINALIZE: ("status",)}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> RunnerEvent:
        """The event from a payload; ValueError naming what is missing or malformed."""
        if not isinstance(payload, Mapping):
            raise ValueError("A runner event must be a JSON object")
        try:
            action = Action(payload.get("action"))
        except ValueError as exc:
            raise ValueError(f"Unknown runner action `{payload.get('action')}`") from exc
        known = {f.name for f in fields(cls)}
        values = {name: payload[name] for name in known if payload.get(name) is not None}
        values["action"] = action
        values["notify"] = tuple(values.get("notify") or ())
        values["attempt"] = int(values.get("attempt") or 0)
        if "needs" in values:
            values["needs"] = int(values["needs"])
        missing = [name for name in ("graph_id", "run_id", *cls._REQUIRED.get(action, ())) if name not in values]
        if missing:
            raise ValueError(f"Runner action `{action.value}` needs {missing}")
        return cls(**values)


class Path(str):
    """A payload value Step Functions fills in from the state or its context (a JSONPath)."""


RUN_ID = Path("$.run_id")  # every execution's input carries its run id (ExecutionInput)
# Where a RUN Task keeps its runner's answer's `ended` (a ResultSelector), so that the next operation of the
# branch gets it as its `upstream` and reads its inputs' ids without a request. Only after such a Task has run.
ENDED_AT = "$.last"
ENDED = Path(f"{ENDED_AT}.ended")


def payload(action: Action, graph_id: str, **values: Any) -> dict[str, Any]:
    """A runner payload for ASL `Parameters`: RunnerEvent's fields only (a typo is a TypeError, not a key the
    runner never reads), a Path value as a `.$` key."""
    known = {f.name for f in fields(RunnerEvent)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise TypeError(f"RunnerEvent has no fields {unknown}")
    built: dict[str, Any] = {"action": action.value, "graph_id": graph_id}
    for name, value in {"run_id": RUN_ID, **values}.items():
        if isinstance(value, Path):
            built[f"{name}.$"] = str(value)
        else:
            built[name] = list(value) if isinstance(value, tuple) else value
    return built


# The Fargate task gets its event as container environment overrides (ecs:runTask.sync has no payload).
FARGATE_ENVIRONMENT = {"action": "PLYNX_ACTION", "graph_id": "PLYNX_GRAPH_ID", "node_id": "PLYNX_NODE_ID",
                       "run_id": "PLYNX_RUN_ID", "attempt": "PLYNX_ATTEMPT", "notify": "PLYNX_NOTIFY"}


def fargate_environment(graph_id: str, node_id: str, notify: list[str]) -> list[dict[str, str]]:
    """The container overrides of an operation's Fargate task (ASL: run id and retry count from the state)."""
    names = FARGATE_ENVIRONMENT
    return [
        {"Name": names["action"], "Value": Action.RUN.value},
        {"Name": names["graph_id"], "Value": graph_id},
        {"Name": names["node_id"], "Value": node_id},
        {"Name": names["run_id"], "Value.$": str(RUN_ID)},
        {"Name": names["attempt"], "Value.$": "States.Format('{}', $$.State.RetryCount)"},
        {"Name": names["notify"], "Value": ",".join(notify)},
    ]


def event_from_environment(environ: Mapping[str, str]) -> RunnerEvent:
    """The event a Fargate task was started with (the inverse of `fargate_environment`)."""
    names = FARGATE_ENVIRONMENT
    payload = {key: environ.get(name) for key, name in names.items()}
    payload["notify"] = [n for n in (environ.get(names["notify"]) or "").split(",") if n]
    return RunnerEvent.from_payload(payload)


@dataclass(frozen=True)
class LostRunner:
    """The Cause of the Fail state after a Fargate task whose runner exited non-zero: the node it ran."""

    node_id: str
    message: str = field(default="")

    def cause(self) -> str:
        return json.dumps({"lost_runner": self.node_id, "message": self.message}, sort_keys=True)


def lost_runner(error: Any) -> str | None:
    """The node a caught error says lost its runner (a Fargate task that exited non-zero), if any."""
    cause = error.get("Cause") if isinstance(error, Mapping) else None
    try:
        decoded = json.loads(cause) if isinstance(cause, str) else None
    except ValueError:
        return None
    node_id = decoded.get("lost_runner") if isinstance(decoded, dict) else None
    return node_id if isinstance(node_id, str) else None


@dataclass(frozen=True)
class ExecutionInput:
    """The input of a graph's execution: the run, and for a child execution which part or composite it is."""

    graph_id: str
    run_id: str
    part: int | None = None  # a part of a graph too big for one execution
    composite: str | None = None  # a composite operation's nested execution

    def to_json(self) -> str:
        return json.dumps({k: v for k, v in (("graph_id", self.graph_id), ("run_id", self.run_id),
                                             ("part", self.part), ("composite", self.composite)) if v is not None})

    @staticmethod
    def parameters(graph_id: str, *, part: int | None = None, composite: str | None = None) -> dict[str, Any]:
        """A child execution's input as ASL `Input`: the run id from the state, and Step Functions' link to
        the parent execution (shown in the console)."""
        built: dict[str, Any] = {"graph_id": graph_id, "run_id.$": str(RUN_ID),
                                 "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}
        if part is not None:
            built["part"] = part
        if composite is not None:
            built["composite"] = composite
        return built

    @classmethod
    def parse(cls, text: str | None) -> ExecutionInput | None:
        """The input of an execution (as EventBridge or DescribeExecution give it), None if not ours."""
        try:
            payload = json.loads(text or "{}")
        except ValueError:
            return None
        if not isinstance(payload, dict):
            return None
        graph_id, run_id = payload.get("graph_id"), payload.get("run_id")
        if not isinstance(graph_id, str) or not isinstance(run_id, str):
            return None
        part, composite = payload.get("part"), payload.get("composite")
        return cls(graph_id, run_id, part if isinstance(part, int) else None,
                   composite if isinstance(composite, str) else None)
