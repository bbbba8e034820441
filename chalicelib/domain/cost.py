"""What a run cost: compute seconds per operation, Step Functions state transitions, and a price estimate.

Pure: the caller hands the run's operations (their status, recorded start/end, attempts and placement) and
which of them waited for another chain; the price table and the runners' sizes are the config's `costs`
section. Everything here is an estimate, as a bill is not: the durations are the engine's claim-to-finish
times (a Lambda bills its whole invocation, a Fargate task its image pull and start too), and the state
transitions are counted from the compiled state machine's shape rather than read from the execution history
(GetExecutionHistory is paged at 1,000 events a request: a big run's cost would cost many requests a read).
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any

from . import config
from .enums import NodeRunningStatus

# The Step Functions states a run passes whatever it runs: Mark succeeded (or Settle failure, Mark failed and
# Failed); and the Parallel that runs the operations when any run (stepfunctions/compiler.py). No state marks
# the run running: its preparation does, as it starts the execution.
FRAME_SUCCEEDED = 1
FRAME_FAILED = 3
NESTED_TRANSITIONS = 4
RESTORED_PER_STATE = 100  # stepfunctions.compiler.RESTORED_PER_STATE: one Pass state lists this many restored
FARGATE_MIN_SECONDS = 60  # Fargate bills at least one minute a task (aws.amazon.com/fargate/pricing)
LAMBDA = "lambda"
FARGATE = "fargate"

_KEYS = ("lambda_memory_mb", "fargate_vcpu", "fargate_memory_gb", "lambda_usd_per_gb_second",
         "lambda_usd_per_request", "fargate_usd_per_vcpu_hour", "fargate_usd_per_gb_hour",
         "stepfunctions_usd_per_1000_transitions")


@dataclass(frozen=True)
class Prices:
    """The config's `costs` section: the runners' sizes and the price list runs are estimated with."""

    lambda_memory_mb: float
    fargate_vcpu: float
    fargate_memory_gb: float
    lambda_usd_per_gb_second: float
    lambda_usd_per_request: float
    fargate_usd_per_vcpu_hour: float
    fargate_usd_per_gb_hour: float
    stepfunctions_usd_per_1000_transitions: float


def prices() -> Prices:
    """The price table as configured (a missing or non-numeric entry is a configuration error)."""
    section = config.get_config().get("costs") or {}
    if not isinstance(section, dict):
        raise config.ConfigError("`costs` must be a mapping")
    values = {}
    for key in _KEYS:
        value = section.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise config.ConfigError(f"`costs.{key}` must be a number, zero or more")
        values[key] = float(value)
    return Prices(**values)


def _stamp(value: Any) -> _dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return _dt.datetime.strptime(value.rstrip("Z"), "%Y-%m-%d %H:%M:%S.%f")
    except ValueError:
        return None


def seconds(started: Any, ended: Any) -> float:
    """An operation's recorded duration (0 when it has no start or end, e.g. restored or never started)."""
    start, end = _stamp(started), _stamp(ended)
    if start is None or end is None or end < start:
        return 0.0
    return (end - start).total_seconds()


def run_cost(operations: list[dict], waited: set[str], failed: bool, table: Prices, nested: int = 0,
             forks: int = 0, executed: bool = True) -> dict:
    """The run's `cost`: operations are {_id, status, started, ended, attempts, placement} (a composite's
    inner ones included); `waited` the ids whose Wait state ran (they join another chain); `failed` whether
    the run took the failure path; `nested` how many composites ran a nested execution; `forks` how many
    Parallel states after an operation (stepfunctions/dag.py) were entered; `executed` False for a run that
    had no execution at all (restored whole: its preparation ended it), which costs nothing."""
    if not executed:
        return {"lambda_gb_seconds": 0.0, "lambda_requests": 0, "fargate_vcpu_seconds": 0.0,
                "fargate_gb_seconds": 0.0, "state_transitions": 0, "estimated_usd": 0.0}
    lambda_gb_s = fargate_vcpu_s = fargate_gb_s = 0.0
    requests = transitions = restored = 0
    for op in operations:
        if not op.get("started"):  # never claimed by a runner: restored at APPROVE (cache, retry) or not started
            restored += op.get("status") == NodeRunningStatus.RESTORED
            continue
        attempts = max(1, int(op.get("attempts") or 1))
        duration = seconds(op.get("started"), op.get("ended"))
        # each attempt is a Task state entered (Step Functions counts a retry as a transition)
        transitions += attempts
        if op["_id"] in waited:  # its Wait state: a callback Task that invokes the runner Lambda
            transitions += 1
            requests += 1
        if op.get("placement") == FARGATE:
            billed = max(duration, FARGATE_MIN_SECONDS * attempts)
            fargate_vcpu_s += billed * table.fargate_vcpu
            fargate_gb_s += billed * table.fargate_memory_gb
            transitions += attempts  # the Check (Choice) state after each task
        else:
            lambda_gb_s += duration * table.lambda_memory_mb / 1024
            requests += attempts
    ran = transitions > 0 or nested > 0
    transitions += (FRAME_FAILED if failed else FRAME_SUCCEEDED) + (1 if ran else 0)
    transitions += math.ceil(restored / RESTORED_PER_STATE)
    requests += 2 if failed else 1  # Mark succeeded (or Settle failure, Mark failed): the runner's
    # a composite: its startExecution Task, and its nested execution's Open, Parallel and Close (Open and Close
    # invoke the runner)
    transitions += NESTED_TRANSITIONS * nested + forks
    requests += 2 * nested
    usd = (lambda_gb_s * table.lambda_usd_per_gb_second + requests * table.lambda_usd_per_request
           + fargate_vcpu_s / 3600 * table.fargate_usd_per_vcpu_hour
           + fargate_gb_s / 3600 * table.fargate_usd_per_gb_hour
           + transitions / 1000 * table.stepfunctions_usd_per_1000_transitions)
    return {"lambda_gb_seconds": round(lambda_gb_s, 6), "lambda_requests": requests,
            "fargate_vcpu_seconds": round(fargate_vcpu_s, 6), "fargate_gb_seconds": round(fargate_gb_s, 6),
            "state_transitions": transitions, "estimated_usd": round(usd, 8)}
