"""Resource types and parameter types on their own: unzip safety, reproducible zips, value parsing."""
from __future__ import annotations

import io
import os
import struct
import zipfile

import pytest

from chalicelib.domain import parameters
from chalicelib.resource_types.base import ResourceError, decode_text
from chalicelib.resource_types.primitive import RawBool, RawColor, RawFloat, RawInt, RawStr
from chalicelib.resource_types.ziputil import ZipLimits, directory_size, safe_extract, zip_directory

LIMITS = ZipLimits(max_bytes=10 * 1024 * 1024, max_files=50, max_ratio=200)


def _zip(path: str, files: dict[str, bytes], mode: int | None = None) -> str:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.external_attr = mode << 16
            archive.writestr(info, data)
    return path


def test_extract_keeps_modes_and_refuses_escapes(tmp_path) -> None:
    archive = _zip(str(tmp_path / "ok.zip"), {"bin/run.sh": b"#!/bin/sh\n", "a/b/c.txt": b"c"}, mode=0o755)
    root = tmp_path / "out"
    root.mkdir()
    assert safe_extract(archive, str(root), LIMITS) == len(b"#!/bin/sh\n") + 1
    assert os.access(root / "bin" / "run.sh", os.X_OK) and (root / "a" / "b" / "c.txt").read_bytes() == b"c"
    for name in ("../up.txt", "/etc/passwd", "a/../../up.txt", "C:/windows.txt"):
        bad = _zip(str(tmp_path / "bad.zip"), {name: b"x"})
        with pytest.raises(ResourceError):
            safe_extract(bad, str(root), LIMITS)
    assert not (tmp_path / "up.txt").exists()


def test_extract_refuses_bombs_before_and_while_writing(tmp_path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    ratio = _zip(str(tmp_path / "ratio.zip"), {"zeros": b"\0" * (4 * 1024 * 1024)})
    with pytest.raises(ResourceError, match="zip bomb"):
        safe_extract(ratio, str(root), LIMITS)
    many = _zip(str(tmp_path / "many.zip"), {f"f{i}": b"" for i in range(51)})
    with pytest.raises(ResourceError, match="51 entries"):
        safe_extract(many, str(root), LIMITS)
    big = _zip(str(tmp_path / "big.zip"), {"r": os.urandom(6 * 1024 * 1024), "s": os.urandom(5 * 1024 * 1024)})
    with pytest.raises(ResourceError, match="unpack to"):
        safe_extract(big, str(root), LIMITS)
    # a header that lies about the size: never more than declared is written
    data = os.urandom(100_000)
    liar = tmp_path / "liar.zip"
    _zip(str(liar), {"lie": data})
    raw = bytearray(liar.read_bytes())
    struct.pack_into("<I", raw, 22, 1000)  # local header: uncompressed size
    central = raw.rfind(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, 1000)  # central directory: uncompressed size
    liar.write_bytes(bytes(raw))
    with pytest.raises(ResourceError):
        safe_extract(str(liar), str(root), LIMITS)
    assert os.path.getsize(root / "lie") <= 1000
    not_zip = tmp_path / "nope.zip"
    not_zip.write_bytes(b"plain text")
    with pytest.raises(ResourceError, match="not a zip"):
        safe_extract(str(not_zip), str(root), LIMITS)


def test_zip_directory_is_reproducible_and_skips_links(tmp_path) -> None:
    for name in ("one", "two"):
        folder = tmp_path / name
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "a.txt").write_text("A")
        (folder / "empty").mkdir()
        os.symlink("/etc/hostname", folder / "link")
        zip_directory(str(folder), str(tmp_path / f"{name}.zip"))
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert archive.namelist() == ["empty/", "sub/a.txt"]


def test_values_parse_strictly() -> None:
    assert RawInt.parse("42\n") == 42 and RawInt.parse("4.0") == 4
    for bad in ("4.5", "true", "x", '"4"'):
        with pytest.raises(ResourceError):
            RawInt.parse(bad)
    assert RawFloat.parse("2") == 2.0
    with pytest.raises(ResourceError):
        RawFloat.parse("NaN")
    assert RawBool.parse("True") is True and RawBool.parse("0") is False
    assert RawStr.parse('"quoted"') == "quoted" and RawStr.parse("bare\n") == "bare"
    assert RawColor.parse("#ABC") == "#abc"
    with pytest.raises(ResourceError):
        RawColor.parse("red")


def test_text_detection() -> None:
    assert decode_text("héllo".encode(), False) == "héllo"
    assert decode_text("héllo".encode()[:2], True) == "h"  # a character cut at the end of a preview
    assert decode_text(b"a\x00b", False) is None and decode_text(b"\xff\xfe\xfa", False) is None


def test_parameter_types() -> None:
    assert parameters.check("int", " 12 ") is None and parameters.to_python("int", " 12 ") == 12
    assert parameters.check("int", True).code == "INVALID_VALUE"
    assert parameters.check("float", None).code == "MISSING_PARAMETER"
    assert parameters.to_python("enum", {"values": ["a", "b"], "index": "1"}) == "b"
    assert parameters.check("enum", {"values": ["a"], "index": -1}).code == "INVALID_VALUE"
    assert parameters.check("nope", 1).code == "INVALID_VALUE"
    assert parameters.default_value("color") == "#ffffff" and parameters.default_value("list_int") == []


def test_directory_size_reads_only_the_tail(tmp_path) -> None:
    small = _zip(str(tmp_path / "s.zip"), {f"f{i}": b"x" for i in range(7)})
    with open(small, "rb") as stream:
        entries, cd_size = directory_size(stream, os.path.getsize(small))
    assert entries == 7 and 0 < cd_size < 1000
    big = tmp_path / "z64.zip"
    with zipfile.ZipFile(big, "w", allowZip64=True) as archive:
        for i in range(70_000):  # more than 65535 entries: only a zip64 record can count them
            archive.writestr(f"{i}", b"")
    with open(big, "rb") as stream:
        assert directory_size(stream, os.path.getsize(big))[0] == 70_000
    root = tmp_path / "out"
    root.mkdir()
    with pytest.raises(ResourceError, match="70000 entries"):
        safe_extract(str(big), str(root), LIMITS)
    assert directory_size(io.BytesIO(b"not a zip"), 9) is None
