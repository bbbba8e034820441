"""Where a local run's time goes, by kind of work (bench/overhead.py --breakdown; PLYNX_LOCAL_BREAKDOWN=1).

Off unless asked for: the stack then tallies, by kind, how many times something happened and its wall seconds:

- the stack's side (infra/local/lambda_front.py): each request moto serves, timed in the front by service and
  operation (``moto dynamodb UpdateItem``, ``moto s3 PUT``, ``moto stepfunctions SendTaskSuccess``), and each
  runner invocation from the interpreter's Task until its answer (``invoke RUN``), hand-offs included;
- the runner's side (infra/local/warm_runner.py): each worker times its SDK requests (``runner RUN
  dynamodb UpdateItem``, client side: serialising, signing, the round trip, parsing), the operation's own
  process (``runner RUN operation``), the whole invocation and its CPU seconds, and sends them back with its
  answer.

The counts are exact; the seconds are wall time, so concurrent work (a fan-out's branches) adds up past the
run's own duration.
"""
from __future__ import annotations

import collections
import functools
import os
import resource
import threading
import time
from typing import Any

VARIABLE = "PLYNX_LOCAL_BREAKDOWN"


def enabled() -> bool:
    """Asked for in this process's environment (a worker inherits the stack's)."""
    return os.environ.get(VARIABLE, "").strip() == "1"


class Tally:
    """Counts and wall seconds by kind (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()
        self.seconds: collections.Counter[str] = collections.Counter()

    def add(self, kind: str, seconds: float, count: int = 1) -> None:
        with self._lock:
            self.counts[kind] += count
            self.seconds[kind] += seconds

    def merge(self, tally: dict[str, list[float]], prefix: str = "") -> None:
        """Add a tally as `export` gives it (a worker's, sent with its answer)."""
        with self._lock:
            for kind, (count, seconds) in tally.items():
                self.counts[prefix + kind] += int(count)
                self.seconds[prefix + kind] += seconds

    def export(self) -> dict[str, list[float]]:
        with self._lock:
            return {kind: [self.counts[kind], self.seconds[kind]] for kind in self.counts}

    def take(self) -> dict[str, list[float]]:
        """The tally so far, and a fresh start."""
        with self._lock:
            taken = {kind: [self.counts[kind], self.seconds[kind]] for kind in self.counts}
            self.counts.clear()
            self.seconds.clear()
        return taken


def request_kind(environ: dict) -> str:
    """A request to moto as `service operation` (DynamoDB and Step Functions by target, S3 by method)."""
    target = environ.get("HTTP_X_AMZ_TARGET") or ""
    if target:
        service, _, operation = target.partition(".")
        service = "dynamodb" if service.startswith("DynamoDB") else ("stepfunctions" if "StepFunctions" in service
                                                                      else service)
        return f"{service} {operation}"
    path = environ.get("PATH_INFO", "")
    if path.startswith("/2015-03-31/functions/"):
        return "lambda Invoke"
    return f"s3 {environ.get('REQUEST_METHOD', '?')}"


# -- the runner's side ------------------------------------------------------------------------------

_WORKER = Tally()


def instrument_runner() -> None:
    """In a warm runner process: time every SDK request and the operation's process (once, before forks)."""
    import botocore.client

    from runners import executors

    original_call = botocore.client.BaseClient._make_api_call

    @functools.wraps(original_call)
    def _make_api_call(self: Any, operation_name: str, api_params: dict) -> Any:
        start = time.perf_counter()
        try:
            return original_call(self, operation_name, api_params)
        finally:
            _WORKER.add(f"{self.meta.service_model.service_name} {operation_name}", time.perf_counter() - start)

    botocore.client.BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
    original_execute = executors.execute

    @functools.wraps(original_execute)
    def execute(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original_execute(*args, **kwargs)
        finally:
            _WORKER.add("operation", time.perf_counter() - start)

    executors.execute = execute  # type: ignore[assignment]


def timed_invocation(action: str, run: Any) -> tuple[Any, dict[str, list[float]]]:
    """Run one invocation; its result and what it spent, by kind (prefixed by its action)."""
    _WORKER.take()
    cpu, start = _cpu(), time.perf_counter()
    try:
        result = run()
    finally:
        _WORKER.add("invocation", time.perf_counter() - start)
        _WORKER.add("invocation cpu", _cpu() - cpu, count=0)
    return result, {f"{action} {kind}": value for kind, value in _WORKER.take().items()}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
