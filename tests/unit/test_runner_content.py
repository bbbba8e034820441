"""The warm runner stores each content once and reads back what it stored itself without a GetObject."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest

from runners import handler


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    calls: dict[str, list[Any]] = {"put": [], "get": []}
    monkeypatch.setattr(handler, "_STORED", set())
    monkeypatch.setattr(handler, "_CONTENT", type(handler._CONTENT)())
    monkeypatch.setattr(handler, "_CONTENT_BYTES", [0])
    monkeypatch.setattr(handler.storage, "put_private", lambda resource_id, data, size: calls["put"].append(data))
    monkeypatch.setattr(handler.storage, "open_stream",
                        lambda resource_id: calls["get"].append(resource_id) or (io.BytesIO(b"from s3"), 7))
    return calls


def test_a_stored_output_is_read_back_from_memory(tmp_path: Path, s3: dict[str, list[Any]]) -> None:
    output = tmp_path / "out"
    output.write_bytes(b"result")
    resource_id = handler._upload({"out": str(output)})["out"]
    assert resource_id == hashlib.sha256(b"result").hexdigest()
    handler._upload({"again": str(output)})
    assert s3["put"] == [b"result"]  # one PutObject per content
    handler._download(resource_id, str(tmp_path / "input"))
    assert (tmp_path / "input").read_bytes() == b"result" and s3["get"] == []
    other = hashlib.sha256(b"from s3").hexdigest()
    handler._download(other, str(tmp_path / "other"))
    assert s3["get"] == [other]  # not stored here: from S3
    assert (tmp_path / "other").read_bytes() == b"from s3"


def test_what_is_read_is_checked_against_its_id(tmp_path: Path, s3: dict[str, list[Any]]) -> None:
    wrong = "0" * 64  # S3 (stubbed) answers b"from s3" for every id
    with pytest.raises(handler.storage.IntegrityError, match=f"Resource `{wrong}` is corrupt"):
        handler._download(wrong, str(tmp_path / "input"))
    assert not (tmp_path / "input").exists()  # nothing half-written is left for the operation
    # the runner's memory is checked too: a content changed there is refused and forgotten
    good = hashlib.sha256(b"kept").hexdigest()
    handler._remember(good, b"kept")
    handler._CONTENT[good] = b"changed"
    with pytest.raises(handler.storage.IntegrityError):
        handler._download(good, str(tmp_path / "again"))
    assert good not in handler._CONTENT


def test_memory_keeps_the_newest_within_its_budget(monkeypatch: pytest.MonkeyPatch, s3: dict[str, list[Any]]) -> None:
    monkeypatch.setattr(handler, "CONTENT_TOTAL_BYTES", 10)
    for content in (b"aaaa", b"bbbb", b"cccc"):
        handler._remember(hashlib.sha256(content).hexdigest(), content)
    assert list(handler._CONTENT.values()) == [b"bbbb", b"cccc"]
    handler._remember("big", b"x" * (handler.CONTENT_ITEM_BYTES + 1))
    assert "big" not in handler._CONTENT


def test_an_input_bigger_than_the_room_left_is_refused_before_it_is_written(
        tmp_path: Path, s3: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLYNX_RUNNER_STORAGE_MB", "65")  # 1 MB for inputs beside the 64 MB margin
    room = handler.Room(str(tmp_path))
    assert room.total == 65 * handler.MIB and room.left == handler.MIB
    kept = b"k" * (handler.MIB * 3 // 4)
    handler._remember(hashlib.sha256(kept).hexdigest(), kept)
    handler._download(hashlib.sha256(kept).hexdigest(), str(tmp_path / "first"), room)  # from memory: fits
    assert room.left == handler.MIB // 4
    with pytest.raises(handler.InputsTooBig, match="are left of the 65 MB this runner has"):
        handler._download(hashlib.sha256(kept).hexdigest(), str(tmp_path / "second"), room)
    assert not (tmp_path / "second").exists()
    monkeypatch.setattr(handler.storage, "open_stream", lambda resource_id: (io.BytesIO(b"x" * handler.MIB),
                                                                             handler.MIB))
    with pytest.raises(handler.InputsTooBig, match="Nothing ran"):
        handler._download("1" * 64, str(tmp_path / "third"), room)  # S3 says its size before a byte is read
    assert not (tmp_path / "third").exists()


def test_an_operations_files_are_uploaded_at_once_each_content_once(tmp_path: Path, s3: dict[str, list[Any]]) -> None:
    for name, data in {"out": b"result", "stdout": b"", "stderr": b"", "worker": b"JOB SUCCEEDED"}.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "gone").symlink_to(tmp_path / "out")  # a log the operation replaced by a link
    reads = [*handler._read_outputs({"out": str(tmp_path / "out")}).values(),
             *handler._read_logs({name: str(tmp_path / name) for name in ("stdout", "stderr", "worker", "gone")}).values()]
    created: set[str] = set()
    handler._store(reads, created)
    assert sorted(s3["put"]) == sorted([b"result", b"", b"JOB SUCCEEDED",
                                        next(copy for _, copy, _ in reads if b"was not stored" in copy)])
    assert created == set()  # the stub says nothing was created
    with pytest.raises(handler.storage.UnsafeFile, match="symbolic link"):
        handler._read_outputs({"out": str(tmp_path / "gone")})  # an output link fails the operation instead


def test_inputs_download_at_once_within_one_room(tmp_path: Path, s3: dict[str, list[Any]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    contents = {hashlib.sha256(bytes([n]) * 1000).hexdigest(): bytes([n]) * 1000 for n in range(4)}
    started, release = [], threading.Event()

    def open_stream(resource_id: str) -> tuple[io.BytesIO, int]:
        started.append(resource_id)
        if len(started) == len(contents):
            release.set()
        assert release.wait(10), "the GetObjects were not sent at once"
        return io.BytesIO(contents[resource_id]), len(contents[resource_id])

    monkeypatch.setattr(handler.storage, "open_stream", open_stream)
    wanted = [(resource_id, str(tmp_path / f"in{n}")) for n, resource_id in enumerate(contents)]
    handler._download_all(wanted, handler.Room(str(tmp_path)))
    assert all(Path(path).read_bytes() == contents[resource_id] for resource_id, path in wanted)
    # one room for them all: what does not fit is refused before a byte of it is written, whichever comes last
    monkeypatch.setenv("PLYNX_RUNNER_STORAGE_MB", "64")
    room = handler.Room(str(tmp_path))
    room.left = 3500  # three of the four inputs
    started.clear()
    release.clear()
    again = [(resource_id, str(tmp_path / f"again{n}")) for n, resource_id in enumerate(contents)]
    with pytest.raises(handler.InputsTooBig, match="Nothing ran"):
        handler._download_all(again, room)
    assert room.left == 500 and sum(Path(path).exists() for _, path in again) == 3
