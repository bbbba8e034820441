"""The local Lambda runtime's warm runner processes (infra/local/warm_runner.py)."""
from __future__ import annotations

import concurrent.futures
import os
import time
from typing import Any, Iterator

import pytest

from infra.local.warm_runner import WarmRunner

HANDLER = "tests.local.warm_handler"


@pytest.fixture
def runner() -> Iterator[WarmRunner]:
    warm = WarmRunner(4, module=HANDLER, packages=("tests/local",))
    try:
        yield warm
    finally:
        warm.stop()


def invoke(runner: WarmRunner, **event: Any) -> tuple[bool, Any]:
    return runner.invoke(event, "plynx-runner", "arn:aws:lambda:us-east-1:123456789012:function:plynx-runner", 900)


def test_a_worker_stays_warm_across_invocations_in_its_own_process(runner: WarmRunner) -> None:
    ok, first = invoke(runner, n=1)
    assert ok, first
    ok, second = invoke(runner, n=2)
    assert ok, second
    assert first["pid"] == second["pid"] != os.getpid()
    assert second["calls"] == [1, 2]  # the same warm process served both
    assert second["threads"] == 1  # single-threaded: the runner may fork its operations
    assert second["function"] == "plynx-runner" and 0 < second["remaining"] <= 900_000


def test_concurrent_invocations_get_their_own_workers(runner: WarmRunner, tmp_path: Any) -> None:
    fifos = [str(tmp_path / f"f{i}") for i in range(3)]
    for fifo in fifos:
        os.mkfifo(fifo)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(invoke, runner, n=i, wait=fifo) for i, fifo in enumerate(fifos)]
        for fifo in fifos:  # all three are blocked in their handler at once, then released
            with open(fifo, "w") as stream:
                stream.write("x")
        answers = [future.result(timeout=60) for future in futures]
    assert all(ok for ok, _ in answers), answers
    assert len({answer["pid"] for _, answer in answers}) == 3


def test_errors_are_reported_as_lambda_reports_them(runner: WarmRunner) -> None:
    ok, error = invoke(runner, n=1, fail=True)
    assert not ok
    assert error["errorType"] == "KeyError" and "failed 1" in error["errorMessage"]
    assert error["stackTrace"] and "warm_runner.py" not in error["stackTrace"][0]
    ok, error = invoke(runner, n=2, unserialisable=True)
    assert not ok and error["errorType"] == "Runtime.MarshalError"
    ok, answer = invoke(runner, n=3)
    assert ok and answer["calls"][-1] == 3  # the worker goes on after a handler error


def test_a_worker_that_dies_fails_its_invocation_only(runner: WarmRunner) -> None:
    ok, first = invoke(runner, n=1)
    ok, error = invoke(runner, n=2, die=True)
    assert not ok and error["errorType"] == "Runtime.ExitError"
    ok, after = invoke(runner, n=3)
    assert ok and after["pid"] != first["pid"] and after["calls"] == [3]  # a fresh worker


def test_a_changed_handler_source_starts_fresh_workers(runner: WarmRunner) -> None:
    ok, before = invoke(runner, n=1)
    source = os.path.join(os.path.dirname(__file__), "warm_handler.py")
    stat = os.stat(source)
    os.utime(source, (stat.st_atime, time.time() + 10))  # newer than every source now
    try:
        runner._checked = 0.0  # noqa: SLF001 - do not wait for the once-a-second check
        ok, after = invoke(runner, n=2)
    finally:
        os.utime(source, (stat.st_atime, stat.st_mtime))
    assert ok and after["pid"] != before["pid"] and after["calls"] == [2]


def test_a_breakdown_comes_back_with_each_answer_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.local import breakdown

    monkeypatch.setenv(breakdown.VARIABLE, "1")  # the template inherits it
    warm = WarmRunner(2, module=HANDLER, packages=("tests/local",))
    warm.tally = breakdown.Tally()
    try:
        assert invoke(warm, action="run", n=1)[0]
        assert not invoke(warm, action="run", n=2, fail=True)[0]  # a failed invocation is counted too
    finally:
        warm.stop()
    spent = warm.tally.export()
    assert spent["runner run invocation"][0] == 2 and spent["runner run invocation"][1] > 0
    assert "runner run invocation cpu" in spent


def test_requests_to_moto_are_told_apart_by_service_and_operation() -> None:
    from infra.local.breakdown import request_kind

    assert request_kind({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.UpdateItem"}) == "dynamodb UpdateItem"
    assert request_kind({"HTTP_X_AMZ_TARGET": "AWSStepFunctions.SendTaskSuccess"}) == "stepfunctions SendTaskSuccess"
    assert request_kind({"REQUEST_METHOD": "PUT", "PATH_INFO": "/bucket/resources/x"}) == "s3 PUT"
