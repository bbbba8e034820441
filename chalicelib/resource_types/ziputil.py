"""Zip in and out of directories: extraction that refuses bombs and path tricks, reproducible archives."""
from __future__ import annotations

import os
import shutil
import stat
import struct
import zipfile
from dataclasses import dataclass
from typing import IO

from chalicelib.domain import config

from .base import ResourceError, human_size

_CHUNK = 1024 * 1024
_RATIO_FLOOR = 1024 * 1024  # small entries may compress absurdly well (a file of zeros) without harm
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: equal directories zip to equal bytes, so equal ids


@dataclass(frozen=True)
class ZipLimits:
    """Caps on what one archive may unpack to."""

    max_bytes: int
    max_files: int
    max_ratio: int

    @classmethod
    def from_config(cls) -> ZipLimits:
        return cls(config.limit("directory_max_bytes"), config.limit("directory_max_files"),
                   config.limit("directory_max_ratio"))


def _target(root: str, name: str) -> str:
    """Where an entry goes, refusing absolute paths and `..` that would leave root."""
    clean = name.replace("\\", "/")
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":"):
        raise ResourceError(f"Directory archive entry `{name}` has an absolute path")
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ResourceError(f"Directory archive entry `{name}` points outside the directory")
    return os.path.join(root, *parts) if parts else root


_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


def directory_size(stream: IO[bytes], size: int) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the archive's tail alone, before anything parses it all.

    A zip can declare millions of entries; reading its directory would take that much memory.
    None when the tail is not a zip's.
    """
    tail_start = max(0, size - (65535 + 22))
    stream.seek(tail_start)
    tail = stream.read(size - tail_start)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) < at + 22:
        return None
    entries = struct.unpack_from("<H", tail, at + 10)[0]
    cd_size = struct.unpack_from("<I", tail, at + 12)[0]
    if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and at >= 20 and tail[at - 20: at - 16] == _ZIP64_LOCATOR:
        stream.seek(struct.unpack_from("<Q", tail, at - 12)[0])
        record = stream.read(56)
        if len(record) == 56 and record[:4] == _ZIP64_EOCD:
            entries, cd_size = struct.unpack_from("<QQ", record, 32)
    return entries, cd_size


def check_entries(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Refuse an archive by its directory alone: too many entries, too big, suspicious ratios, bad names."""
    if len(infos) > limits.max_files:
        raise ResourceError(f"Directory archive has {len(infos)} entries; at most {limits.max_files} allowed")
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_bytes:
        raise ResourceError(f"Directory archive would unpack to {human_size(declared)}; "
                            f"at most {human_size(limits.max_bytes)} allowed")
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise ResourceError(
                f"Directory archive entry `{info.filename}` expands {info.file_size // max(info.compress_size, 1)}"
                f" times (limit {limits.max_ratio}): refusing a likely zip bomb")
        _target("/", info.filename)


def check_archive(stream: IO[bytes], limits: ZipLimits) -> None:
    """Check a would-be directory archive without unpacking it (uploads)."""
    try:
        with zipfile.ZipFile(stream) as archive:
            check_entries(archive.infolist(), limits)
    except ResourceError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ResourceError(f"A directory must be a zip archive: {exc}") from exc


def safe_extract(archive_path: str, root: str, limits: ZipLimits) -> int:
    """Unzip into root; count real bytes as they are written, so lying headers cannot get past the caps."""
    with open(archive_path, "rb") as stream:
        declared = directory_size(stream, os.path.getsize(archive_path))
    if declared is not None and declared[0] > limits.max_files:
        raise ResourceError(f"Directory archive has {declared[0]} entries; at most {limits.max_files} allowed")
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ResourceError(f"Directory input is not a zip archive: {exc}") from exc
    with archive:
        infos = archive.infolist()
        check_entries(infos, limits)
        written = 0
        for info in infos:
            target = _target(root, info.filename)
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            entry_bytes = 0
            try:
                with archive.open(info) as source, open(target, "wb") as sink:
                    for chunk in iter(lambda: source.read(_CHUNK), b""):
                        entry_bytes += len(chunk)
                        written += len(chunk)
                        if entry_bytes > info.file_size or written > limits.max_bytes:
                            raise ResourceError("Directory archive unpacks to more than it declares: "
                                                "refusing a likely zip bomb")
                        sink.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
                raise ResourceError(f"Directory archive entry `{info.filename}` is damaged: {exc}") from exc
            except RuntimeError as exc:  # encrypted entries
                raise ResourceError(f"Directory archive entry `{info.filename}`: {exc}") from exc
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode | stat.S_IRUSR | stat.S_IWUSR)
        return written


def zip_directory(root: str, archive_path: str) -> None:
    """Zip a directory's regular files and folders in sorted order with fixed timestamps."""
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            relative = os.path.relpath(folder, root)
            if relative != "." and not files and not dirs:
                info = zipfile.ZipInfo(relative.replace(os.sep, "/") + "/", _EPOCH)
                info.external_attr = (stat.S_IFDIR | 0o755) << 16
                archive.writestr(info, b"")
            for name in sorted(files):
                path = os.path.join(folder, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue  # only regular files: a link could point anywhere on the worker
                arcname = os.path.normpath(os.path.join(relative, name)).replace(os.sep, "/")
                info = zipfile.ZipInfo(arcname, _EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = (stat.S_IFREG | (os.stat(path).st_mode & 0o777)) << 16
                with open(path, "rb") as source, archive.open(info, "w") as sink:
                    shutil.copyfileobj(source, sink, _CHUNK)
