"""The worker log is stored while the operation runs: its text if the operation succeeds is known as it starts,
and the end stores only what differs from it (runners/handler.py Ahead)."""
from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.store import storage
from runners import executors, handler
from tests.helpers import operation


@pytest.fixture()
def workdir() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="plynx-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _node(code: str) -> dict:
    return dict(operation("python", "ahead", code, outputs=["out"]), _id=secrets.token_hex(12))


def _execute(code: str, workdir: str) -> tuple[bool, list[bytes], bytes]:
    node = _node(code)
    space = executors.prepare(node, {}, workdir, lambda wanted: None)
    told: list[bytes] = []
    ok = executors.execute(node, space, 60, expect=told.append)
    with open(space.logs["worker"], "rb") as log:
        return ok, told, log.read()


def test_a_succeeding_operation_s_worker_log_is_what_was_told_as_it_started(workdir: str) -> None:
    ok, told, final = _execute("open(outputs['out'], 'w').write('x')\n", workdir)
    assert ok and told == [final]
    assert b"Running script:" in final and final.rstrip().endswith(b"#" * 40) and b"# JOB SUCCEEDED" in final


def test_a_failing_operation_s_worker_log_is_not(workdir: str) -> None:
    ok, told, final = _execute("raise SystemExit(3)\n", workdir)
    assert not ok and len(told) == 1 and told[0] != final
    assert b"JOB FAILED" in final and b"non-zero value 3" in final and b"JOB SUCCEEDED" not in final


@pytest.fixture()
def puts(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], set[str]]:
    """The uploads the runner makes (what each stores), none of them to S3; and contents whose next upload fails."""
    made: list[str] = []
    failing: set[str] = set()

    def put_private(resource_id: str, copy: Any, size: int) -> bool:
        made.append(resource_id)
        if resource_id in failing:
            failing.discard(resource_id)
            raise RuntimeError("S3 said no")
        return True

    monkeypatch.setattr(handler.storage, "put_private", put_private)
    monkeypatch.setattr(handler, "_STORED", set())
    monkeypatch.setattr(handler, "_CONTENT", handler.collections.OrderedDict())
    return made, failing


def _ahead(data: bytes) -> handler.Ahead:
    ahead = handler.Ahead()
    ahead.start(data)
    ahead.settle()
    return ahead


def test_the_end_stores_the_outputs_but_not_the_log_stored_ahead(puts: tuple[list[str], set[str]]) -> None:
    made, _ = puts
    log = b"the worker log"
    ahead, log_id = _ahead(log), storage.content_id(log)
    created: set[str] = set()
    handler._store([("out", b"o", 1), (log_id, log, len(log))], created, ahead)
    assert sorted(made) == sorted(["out", log_id])  # the log once: ahead
    assert created == {"out", log_id} and {"out", log_id} <= handler._STORED


def test_a_log_that_ended_otherwise_is_stored_at_the_end(puts: tuple[list[str], set[str]]) -> None:
    made, _ = puts
    ahead = _ahead(b"what success would have written")
    failed = b"JOB FAILED"
    handler._store([("out", b"o", 1), (storage.content_id(failed), failed, len(failed))], set(), ahead)
    assert sorted(made) == sorted([ahead.resource_id, "out", storage.content_id(failed)])


def test_a_log_whose_upload_ahead_failed_is_stored_at_the_end(puts: tuple[list[str], set[str]]) -> None:
    made, failing = puts
    log = b"the worker log"
    log_id = storage.content_id(log)
    failing.add(log_id)
    ahead = _ahead(log)
    created: set[str] = set()
    handler._store([("out", b"o", 1), (log_id, log, len(log))], created, ahead)
    assert sorted(made) == sorted([log_id, "out", log_id]) and log_id in created


def test_content_this_runner_stored_already_is_not_stored_ahead(puts: tuple[list[str], set[str]]) -> None:
    made, _ = puts
    log = b"a worker log seen before"
    handler._STORED.add(storage.content_id(log))
    ahead = _ahead(log)
    handler._store([(storage.content_id(log), log, len(log))], set(), ahead)
    assert made == [] and ahead.future is None


class _Lambda:
    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_only_an_invocation_shorter_than_the_collector_s_grace_stores_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unnamed content is collected after the grace period: what is stored ahead must be named before."""
    monkeypatch.setenv("PLYNX_GC_GRACE_HOURS", "24")
    assert handler.Ahead.allowed(_Lambda(15 * 60 * 1000))
    assert not handler.Ahead.allowed(None)  # Fargate, the CLI: no deadline of their own
    monkeypatch.setenv("PLYNX_GC_GRACE_HOURS", "0.1")  # 6 minutes
    assert not handler.Ahead.allowed(_Lambda(15 * 60 * 1000)) and handler.Ahead.allowed(_Lambda(60 * 1000))
    monkeypatch.setenv("PLYNX_GC_GRACE_HOURS", "soon")
    assert not handler.Ahead.allowed(_Lambda(60 * 1000))
