"""EventBridge's `Step Functions Execution Status Change` on the local stack: when one of moto's executions
ends, the event the cloud's RunEndedRule would match is delivered, asynchronously, to the notifier function
through the Lambda front (the same handler as in the cloud, runners/notifier.py)."""
from __future__ import annotations

import json
import logging
from typing import Any, Callable

LOG = logging.getLogger(__name__)
_UNDO: list[Callable[[], None]] = []


def event_of(execution: Any) -> dict | None:
    """The EventBridge event of an ended execution of a PLynx state machine (None: not ours, not ended)."""
    status = getattr(getattr(execution, "exec_status", None), "value", None)
    machine = str(getattr(execution, "state_machine_arn", "") or "")
    if status not in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED") or ":stateMachine:plynx-" not in machine:
        return None
    data = getattr(execution, "input_data", None)
    return {"source": "aws.states", "detail-type": "Step Functions Execution Status Change",
            "detail": {"status": status, "executionArn": str(execution.exec_arn), "stateMachineArn": machine,
                       "name": execution.name, "input": json.dumps(data) if data is not None else None}}


def install(deliver: Callable[[dict], None]) -> None:
    """Hook moto's end of an execution; `deliver` gets each event (on moto's worker thread: keep it short)."""
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original = BaseExecutionWorkerCommunication.terminated

    def terminated(self: Any) -> None:
        original(self)
        try:
            event = event_of(self.execution)
            if event is not None:
                deliver(event)
        except Exception:  # noqa: BLE001 - a lost notification must never break moto's execution
            LOG.exception("execution status change not delivered")

    BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]
    _UNDO.append(lambda: setattr(BaseExecutionWorkerCommunication, "terminated", original))


def uninstall() -> None:
    while _UNDO:
        _UNDO.pop()()
