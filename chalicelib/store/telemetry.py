"""Logs, metrics and traces in Powertools' form, one of each per process (API, runner, local stack).

Logs: the Powertools Logger; JSON lines in the cloud (CloudWatch Logs Insights queries their fields), with the
graph, run and node ids of the request or invocation on every line, the service and the stage. The local
stack asks for readable lines instead (PLYNX_LOG_FORMAT=text). What an operation prints is the user's
(live logs, stdout/stderr resources) and never goes here.

Metrics: CloudWatch embedded metric format (EMF) blobs, namespace PLynx, one dimension (stage): CloudWatch
makes the metrics from the log line, no PutMetricData call. Ids are properties of the blob, never dimensions
(a dimension per graph is a metric per graph, each billed). One blob per invocation or request (`flush`); on
the local stack they go to a file (PLYNX_METRICS_FILE), not to its console.

Traces: the Powertools Tracer (X-Ray) where Lambda traces (active tracing, infra/cloudformation); elsewhere
(the local stack, Fargate, tests) none is built, so no X-Ray SDK is imported and nothing waits for a daemon.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

NAMESPACE = "PLynx"
FORMAT_VARIABLE = "PLYNX_LOG_FORMAT"  # json (the default) or text
METRICS_FILE_VARIABLE = "PLYNX_METRICS_FILE"  # EMF blobs appended here instead of stdout (the local stack)
METRICS_FILE_BYTES = 16 * 1024 * 1024  # then the file is renamed to <name>.1 and a new one begun
# The project's module loggers (logging.getLogger(__name__)) write through the service's handler, with its keys.
PACKAGES = ("chalicelib", "runners", "stepfunctions", "plynx")  # "plynx": Chalice's app.log (its app_name)
IDS = ("graph_id", "run_id", "node_id")

# Metric names (README, "Logs, metrics and traces").
RUNS_STARTED = "RunsStarted"
RUN_DURATION = "RunDuration"
RUNS_ENDED = {"SUCCESS": "RunsSucceeded", "FAILED": "RunsFailed", "CANCELED": "RunsCanceled"}
OPERATION_DURATION = "OperationDuration"
OPERATIONS_ENDED = {"SUCCESS": "OperationsSucceeded", "FAILED": "OperationsFailed", "RESTORED": "OperationsRestored"}

_LOCK = threading.Lock()
_LOGGERS: dict[str, Logger] = {}
_METRICS: list[AmazonCloudWatchEMFProvider] = []
_TRACER: list[Any] = []  # [Tracer or None] once asked


def stage() -> str:
    """The deployment's stage (dev, prod) from its table prefix (plynx-<stage>); `local` without one."""
    explicit = os.environ.get("PLYNX_STAGE", "").strip()
    if explicit:
        return explicit
    prefix = os.environ.get("PLYNX_TABLE_PREFIX", "").strip()
    return prefix.split("-", 1)[1] if prefix.startswith("plynx-") else "local"


# --- logs ----------------------------------------------------------------------------------------

# Keys a readable line leaves out (Lambda's context, the stack trace again, what every line says).
_TEXT_SKIPS = frozenset({"timestamp", "level", "service", "message", "location", "sampling_rate", "stage",
                         "exception", "exception_name", "stack_trace", "xray_trace_id", "cold_start",
                         "function_name", "function_memory_size", "function_arn", "function_request_id", "request_id",
                         *IDS})


def render_text(record: dict[str, Any]) -> str:
    """A record as one readable line: time, level, service, ids, message, other keys (then a traceback)."""
    ids = " ".join(f"{name.split('_')[0]}={record[name]}" for name in IDS if record.get(name))
    extra = " ".join(f"{key}={value}" for key, value in record.items() if key not in _TEXT_SKIPS)
    line = " ".join(part for part in (str(record.get("timestamp", "")), f"{record.get('level', ''):<7}",
                                      str(record.get("service", "")), ids, str(record.get("message", "")),
                                      extra) if part)
    if record.get("exception"):
        line += "\n  " + str(record["exception"]).rstrip().replace("\n", "\n  ")
    return line


def logger(service: str) -> Logger:
    """The process's Logger for `service` (plynx-api, plynx-runner), made once; the project's module loggers
    write through its handler, so their lines carry the same keys."""
    with _LOCK:
        found = _LOGGERS.get(service)
        if found is not None:
            return found
        text = os.environ.get(FORMAT_VARIABLE, "").strip().lower() == "text"
        found = Logger(service=service, json_serializer=render_text if text else None)
        found.append_keys(stage=stage())
        _LOGGERS[service] = found
        for name in PACKAGES:
            package = logging.getLogger(name)
            if not getattr(package, "plynx_telemetry", False):
                package.handlers = [found.logger_handler]
                package.propagate = False
                package.setLevel(found.log_level)
                package.plynx_telemetry = True  # type: ignore[attr-defined]
        return found


def append_ids(log: Logger, **ids: Any) -> None:
    """The ids (graph, run, node, request) every line of this thread carries until `clear_ids`."""
    log.thread_safe_append_keys(**{key: value for key, value in ids.items() if value})


def clear_ids(log: Logger) -> None:
    log.thread_safe_clear_keys()


# --- metrics -------------------------------------------------------------------------------------

def _metrics() -> AmazonCloudWatchEMFProvider:
    if not _METRICS:
        provider = AmazonCloudWatchEMFProvider(namespace=NAMESPACE, default_dimensions={"stage": stage()})
        provider.service = None  # POWERTOOLS_SERVICE_NAME would add a `service` dimension: runs end in both
        _METRICS.append(provider)
    return _METRICS[0]


def metric(name: str, unit: str, value: float, **properties: Any) -> None:
    """Add one value to this invocation's blob; `properties` (ids) go in as metadata, never as dimensions."""
    with _LOCK:
        provider = _metrics()
        provider.add_metric(name=name, unit=unit, value=value)
        provider.metadata_set.update((key, item) for key, item in properties.items() if item is not None)


def flush() -> None:
    """Write what this invocation measured as one EMF blob (nothing when it measured nothing)."""
    with _LOCK:
        if not _METRICS or not _METRICS[0].metric_set:
            return
        provider = _METRICS[0]
        blob = None if is_metrics_disabled() else provider.serialize_metric_set()
        provider.clear_metrics()
    if blob is not None:
        _write_metrics(json.dumps(blob, separators=(",", ":")) + "\n")


def _write_metrics(line: str) -> None:
    path = os.environ.get(METRICS_FILE_VARIABLE, "").strip()
    if not path:
        sys.stdout.write(line)  # Lambda sends stdout to CloudWatch Logs, which extracts the metrics
        sys.stdout.flush()
        return
    # One write(2) of one line with O_APPEND: lines from the stack's processes interleave whole.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line.encode())
        full = os.fstat(descriptor).st_size > METRICS_FILE_BYTES
    finally:
        os.close(descriptor)
    if full:
        try:
            os.replace(path, path + ".1")
        except OSError:
            pass  # another process moved it first


def operation_ended(status: str, seconds: float | None, **ids: Any) -> None:
    """An operation's end: its count by status (RESTORED: a cache hit) and, when it ran, its duration."""
    name = OPERATIONS_ENDED.get(str(status))
    if name is None:
        return
    metric(name, "Count", 1, **ids)
    if seconds is not None and status != "RESTORED":
        metric(OPERATION_DURATION, "Milliseconds", round(seconds * 1000.0, 3), **ids)


def run_started(**ids: Any) -> None:
    metric(RUNS_STARTED, "Count", 1, **ids)


def run_ended(status: str, start: str | None, end: str | None, **ids: Any) -> None:
    """A run's end: its count by final status and its duration (from the run record's ISO start and end)."""
    name = RUNS_ENDED.get(str(status))
    if name is None:
        return
    metric(name, "Count", 1, **ids)
    seconds = _seconds_between(start, end)
    if seconds is not None:
        metric(RUN_DURATION, "Seconds", round(seconds, 3), **ids)


def _seconds_between(start: str | None, end: str | None) -> float | None:
    from datetime import datetime

    try:
        return max((datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


# --- traces --------------------------------------------------------------------------------------

def tracer(service: str) -> Any:
    """The Powertools Tracer where Lambda traces this function, else None (no X-Ray SDK, no daemon)."""
    with _LOCK:
        if not _TRACER:
            # Lambda's own variables (a package tried elsewhere sets LAMBDA_TASK_ROOT alone); Fargate has neither
            traced = bool(os.environ.get("LAMBDA_TASK_ROOT") and os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and \
                os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() not in ("1", "true")
            if traced:
                from aws_lambda_powertools import Tracer

                _TRACER.append(Tracer(service=service))
            else:
                _TRACER.append(None)
        return _TRACER[0]


# --- an invocation or a request ------------------------------------------------------------------

@contextlib.contextmanager
def invocation(log: Logger, service: str, name: str, **ids: Any) -> Iterator[None]:
    """Around one runner invocation or event: the ids on every line and in the trace, one metrics flush."""
    append_ids(log, **ids)
    traced = tracer(service)
    try:
        if traced is None:
            yield
        else:
            with traced.provider.in_subsegment(f"## {name}") as segment:
                for key, value in ids.items():
                    if value:
                        segment.put_annotation(key, str(value))
                yield
    finally:
        flush()
        clear_ids(log)


def observe_request(log: Logger, service: str, method: str, route: str, params: dict[str, str] | None,
                    request_id: str | None, respond: Callable[[], Any]) -> Any:
    """One API request: the graph/run/node ids of its path on every line, then one line with its route (the
    template, not the path), status and time; never its body, query or headers. Flushes its metrics."""
    params = params or {}
    append_ids(log, **{key: params.get(key) for key in IDS}, correlation_id=request_id)
    tracer(service)  # patches the AWS SDK once, where Lambda traces
    started = time.monotonic()
    status = 500
    try:
        response = respond()
        status = int(getattr(response, "status_code", 200))
        return response
    finally:
        log.info("%s %s", method, route,
                 extra={"status": status, "duration_ms": round((time.monotonic() - started) * 1000.0, 1)})
        flush()
        clear_ids(log)
