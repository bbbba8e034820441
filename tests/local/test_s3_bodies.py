"""A body file keeps a small object's bytes in memory and moves them to its file once it grows past them."""
from __future__ import annotations

import os

from infra.local import s3_bodies
from infra.local.s3_bodies import SMALL_BODY_BYTES, BodyFile, FileValue


def test_a_small_body_stays_in_memory_and_reads_as_a_file_would(tmp_path) -> None:
    body = BodyFile(str(tmp_path / "b"), memory=b"")
    assert body.write(b"hello world") == 11 and body.tell() == 11
    body.seek(6)
    assert body.read(3) == b"wor" and body.read() == b"ld" and body.read() == b""
    body.seek(0)
    body.truncate(5)
    assert body.size() == 5 and body.read() == b"hello"
    body.seek(8)  # past the end: the gap reads as zeros, as in a file
    body.write(b"!")
    body.seek(0)
    assert body.read() == b"hello\0\0\0!"
    assert body.in_memory and not os.path.exists(body.path)


def test_a_body_that_grows_past_the_limit_moves_to_its_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(s3_bodies._STATE, "fsync", "off")
    body = BodyFile(str(tmp_path / "b"), memory=b"")
    body.write(b"a" * SMALL_BODY_BYTES)
    assert body.in_memory
    body.write(b"b")
    assert not body.in_memory
    with open(body.path, "rb") as stream:
        assert stream.read() == b"a" * SMALL_BODY_BYTES + b"b"
    body.seek(SMALL_BODY_BYTES - 1)
    assert body.read() == b"ab" and body.size() == SMALL_BODY_BYTES + 1


def test_a_copy_from_a_file_value_goes_to_a_file_and_a_spill_keeps_the_position(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(s3_bodies._STATE, "fsync", "off")
    source = tmp_path / "source"
    source.write_bytes(b"0123456789")
    copied = BodyFile(str(tmp_path / "copied"), memory=b"")
    copied.write(FileValue([str(source)])[2:5])  # what CopyObject of a range writes: never read into memory
    assert not copied.in_memory and open(copied.path, "rb").read() == b"234"
    small = BodyFile(str(tmp_path / "small"), memory=b"xyz")
    small.seek(1)
    assert small.spill() == small.path and small.tell() == 1 and small.read() == b"yz"
