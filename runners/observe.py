"""The runner's logs, metrics and traces (chalicelib/store/telemetry.py): each invocation's graph, run and node
ids on every line, one EMF blob per invocation. The operation's own output is the user's (live logs, its
stdout/stderr resources): nothing of it is logged here."""
from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.store import telemetry
from stepfunctions.contract import ExecutionInput

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "plynx-runner"  # the template names the notifier's apart
log = telemetry.logger(SERVICE)


def invocation(handle: Callable[..., dict]) -> Callable[..., dict]:
    """Wrap the runner's dispatch: ids from the payload (never the payload itself) on every line, the trace
    annotated with them, this invocation's metrics flushed at its end."""

    @functools.wraps(handle)
    def observed(payload: Any, context: Any = None) -> dict:
        fields = payload if isinstance(payload, Mapping) else {}
        ids = {name: fields.get(name) for name in telemetry.IDS if isinstance(fields.get(name), str)}
        action = fields.get("action") if isinstance(fields.get("action"), str) else None
        with telemetry.invocation(log, SERVICE, "runner", action=action,
                                  request_id=getattr(context, "aws_request_id", None), **ids):
            return handle(payload, context)

    return observed


def operation_ended(status: str, started: float, graph_id: str, run_id: str, node_id: str, attempt: int) -> None:
    """One line and the metrics of an operation's end (RESTORED: a cache hit; FAILED: this attempt failed)."""
    seconds = time.monotonic() - started
    log.info("Operation %s", status, extra={"status": str(status), "duration_ms": round(seconds * 1000.0, 1),
                                             "attempt": attempt})
    telemetry.operation_ended(str(status), seconds, graph_id=graph_id, run_id=run_id, node_id=node_id)


def execution_event(handler: Callable[[Any, Any], dict]) -> Callable[[Any, Any], dict]:
    """Wrap a handler of EventBridge's execution status changes (the notifier): the graph and run ids of the
    execution's input on every line and in the trace, its metrics flushed."""

    @functools.wraps(handler)
    def observed(event: Any, context: Any = None) -> dict:
        detail = event.get("detail") if isinstance(event, Mapping) else None
        text = detail.get("input") if isinstance(detail, Mapping) else None
        run = ExecutionInput.parse(text) if isinstance(text, str) else None
        with telemetry.invocation(log, SERVICE, "execution_event", graph_id=run.graph_id if run else None,
                                  run_id=run.run_id if run else None,
                                  request_id=getattr(context, "aws_request_id", None)):
            return handler(event, context)

    return observed
