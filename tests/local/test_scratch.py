"""The local "Lambda" runner's /tmp (infra/local/scratch.py): its own directory, as big as the cloud's."""
from __future__ import annotations

import os
import stat
import tempfile
from typing import Any

import pytest

from infra.local import scratch
from infra.local.warm_runner import WarmRunner


def test_a_memory_file_system_with_room_for_a_runner_is_chosen(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(scratch.DIRECTORY_VARIABLE, raising=False)
    room = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize // scratch.MIB
    assert scratch.base_directory(1, memory=str(tmp_path)) == str(tmp_path)
    assert scratch.base_directory(room + 1, memory=str(tmp_path)) == tempfile.gettempdir()  # too small
    assert scratch.base_directory(1, memory=str(tmp_path / "absent")) == tempfile.gettempdir()
    monkeypatch.setenv(scratch.DIRECTORY_VARIABLE, str(tmp_path / "chosen"))
    assert scratch.base_directory(1, memory=str(tmp_path)) == str(tmp_path / "chosen")  # the user's choice wins


def test_the_storage_is_the_templates_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(scratch.RUNNER_STORAGE_VARIABLE, raising=False)
    assert scratch.storage_mb() == scratch.DEFAULT_STORAGE_MB
    monkeypatch.setenv(scratch.RUNNER_STORAGE_VARIABLE, "512")
    assert scratch.storage_mb() == 512
    monkeypatch.setenv(scratch.RUNNER_STORAGE_VARIABLE, "lots")
    assert scratch.storage_mb() == scratch.DEFAULT_STORAGE_MB


def test_the_warm_runners_workers_get_their_own_tmp_and_storage(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(scratch.DIRECTORY_VARIABLE, str(tmp_path))
    monkeypatch.setenv(scratch.RUNNER_STORAGE_VARIABLE, "1024")
    warm = WarmRunner(2, module="tests.local.warm_handler", packages=("tests/local",))
    try:
        directory = warm.scratch
        assert os.path.dirname(directory) == str(tmp_path)
        # others (an operation's own uid, under a root runner) pass through to their workdirs, list nothing
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o711 and os.stat(directory).st_uid == os.getuid()
        ok, answer = warm.invoke({"n": 1}, "plynx-runner", "arn:aws:lambda:us-east-1:123456789012:function:plynx-runner",
                                 900)
        assert ok, answer
        assert answer["tmp"] == directory and answer["storage"] == "1024"
    finally:
        warm.stop()
    assert not os.path.exists(directory)
