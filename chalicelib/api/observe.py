"""The API's logs, metrics and traces (chalicelib/store/telemetry.py): the graph/run/node ids of a request's
path on every line it logs, one line per request (route, status, time; never its body, query or headers),
one EMF blob per request or event."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.store import telemetry
from stepfunctions.contract import ExecutionInput

SERVICE = "plynx-api"
log = telemetry.logger(SERVICE)  # Chalice's app.log (logger "plynx") writes through it too


def request(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice's http middleware: `event` is the Request (its path is the route's template)."""
    return telemetry.observe_request(log, SERVICE, event.method, event.path, event.uri_params,
                                     (event.context or {}).get("requestId"), lambda: get_response(event))


def execution_event(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice's cloudwatch middleware: an execution's end, with its graph and run ids (from its input)."""
    detail = event.detail if isinstance(getattr(event, "detail", None), dict) else {}
    run = ExecutionInput.parse(detail.get("input")) if isinstance(detail.get("input"), str) else None
    with telemetry.invocation(log, SERVICE, "execution_ended", graph_id=run.graph_id if run else None,
                              run_id=run.run_id if run else None):
        return get_response(event)


def lambda_event(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice's pure_lambda middleware (schedule_fired, prepare_run): the graph and run ids of the event on every
    line, its metrics flushed."""
    payload = getattr(event, "event", None)
    payload = payload if isinstance(payload, dict) else {}
    ids = {key: payload.get(key) for key in ("graph_id", "run_id") if isinstance(payload.get(key), str)}
    with telemetry.invocation(log, SERVICE, "lambda", **ids):
        return get_response(event)
