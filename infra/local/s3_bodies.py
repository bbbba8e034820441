"""S3 object bodies of the local stack as files on disk, the small ones in their key.

moto 5.2.5 keeps each object's bytes in a ``SpooledTemporaryFile`` (in memory up to about 5 MB, so a
stack's memory grew with its artifacts) and pickles them into every snapshot. While a stack runs,
``moto.s3.models`` gets a ``tempfile`` whose ``SpooledTemporaryFile`` is a :class:`BodyFile`: a named file
under the stack's body directory, opened per call (ten thousand keys hold no file descriptors). The
snapshot and the journal pickle a key with the name of its file (:func:`reduce_key`); a file no key
refers to any more is removed when a snapshot that no longer names it is on disk (:func:`collect`).

A body of at most SMALL_BODY_BYTES (an operation's log, a small output) stays in memory, and the snapshot and
the journal record carry its bytes: creating its file cost more than the rest of its PutObject (1.5 ms of the
stack's CPU on ext4, against 0.8 ms). One that grows past it moves to its file.
"""
from __future__ import annotations

import os
import threading
import time
import types
import uuid
from collections.abc import Iterator
from typing import Any

# fsync: "always" (each body before its key is acknowledged), "interval" (the journal's syncer, every
# SYNC_INTERVAL: see journal.py), "off"
_STATE: dict[str, Any] = {"directory": None, "fsync": "always"}
_PENDING: set[str] = set()  # bodies written since the syncer's last pass ("interval")
_PENDING_LOCK = threading.Lock()
COPY_CHUNK = 8 * 1024 * 1024
SMALL_BODY_BYTES = 8 * 1024  # a body this small stays in its key: 10,000 of them take 80 MB at most


class BodyFile:
    """The file-like object moto's FakeKey reads and writes its value through, backed by one named file, or
    by memory while it holds at most SMALL_BODY_BYTES (`memory`: the bytes, None once on disk)."""

    def __init__(self, path: str, named: bool = False, memory: bytes | None = None) -> None:
        self.path = path
        self._position = 0
        self._named = named  # its directory entry is on disk (a file restored from the snapshot)
        self._memory = bytearray(memory) if memory is not None else None

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def in_memory(self) -> bool:
        return self._memory is not None

    def memory(self) -> bytes | None:
        """The bytes of a body kept in memory (None: it is in its file)."""
        return bytes(self._memory) if self._memory is not None else None

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 1:
            offset += self._position
        elif whence == 2:
            offset += self.size()
        self._position = max(0, offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def size(self) -> int:
        if self._memory is not None:
            return len(self._memory)
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return 0

    def read(self, size: int = -1) -> bytes:
        if self._memory is not None:
            end = len(self._memory) if size is None or size < 0 else self._position + size
            data = bytes(self._memory[self._position:end])
        else:
            with open(self.path, "rb") as stream:
                stream.seek(self._position)
                data = stream.read(size if size is not None and size >= 0 else -1)
        self._position += len(data)
        return data

    def truncate(self, size: int | None = None) -> int:
        size = self._position if size is None else size
        if self._memory is not None and size <= SMALL_BODY_BYTES:
            del self._memory[size:]
            self._memory.extend(bytes(size - len(self._memory)))
            return size
        self.spill()
        with open(self.path, "ab"):
            pass
        os.truncate(self.path, size)
        return size

    def write(self, data: Any) -> int:
        """Write at the position: in memory while the body stays small, else to its file, with an fsync (the
        file, and its name once): the key is acknowledged only after its bytes are on disk."""
        if self._memory is not None:
            if not isinstance(data, FileValue) and self._position + len(data) <= SMALL_BODY_BYTES:
                self._memory.extend(bytes(max(self._position - len(self._memory), 0)))
                self._memory[self._position:self._position + len(data)] = data
                self._position += len(data)
                return len(data)
            self.spill()
        mode = "r+b" if os.path.exists(self.path) else "wb"
        with open(self.path, mode) as stream:
            stream.seek(self._position)
            written = data.write_to(stream) if isinstance(data, FileValue) else stream.write(data)
            stream.flush()
            if _STATE["fsync"] == "always":
                os.fsync(stream.fileno())
        if _STATE["fsync"] == "interval":
            with _PENDING_LOCK:
                _PENDING.add(self.path)
        elif not self._named and _STATE["fsync"] == "always":
            _sync_directory(os.path.dirname(self.path))
            self._named = True
        self._position += written
        return written

    def spill(self) -> str:
        """Move a body kept in memory to its file (written as any other); the file's path."""
        if self._memory is not None:
            data, position = bytes(self._memory), self._position
            self._memory, self._position = None, 0
            self.write(data)
            self._position = position
        return self.path

    def close(self) -> None:
        """moto closes a disposed key's buffer; its file goes when no snapshot names it (collect)."""

    @property
    def closed(self) -> bool:
        return False


class FileValue:
    """An object's bytes as ranges of the files that hold them, read in chunks: a completed upload's parts
    (joined into the object's file), and what GetObject sends, a Range cuts, CopyObject and UploadPartCopy
    copy. moto slices and measures it as it would the bytes; it is never whole in memory."""

    def __init__(self, paths: list[str] | None = None, segments: list[tuple[str, int, int]] | None = None) -> None:
        self._segments = segments if segments is not None else [(path, 0, os.path.getsize(path))
                                                                for path in paths or []]
        self._length = sum(length for _, _, length in self._segments)

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    def __getitem__(self, item: Any) -> Any:
        if not isinstance(item, slice) or item.step not in (None, 1):
            return bytes(self)[item]
        start, stop, _ = item.indices(self._length)
        segments, offset = [], 0
        for path, first, length in self._segments:
            low, high = max(start, offset), min(stop, offset + length)
            if low < high:
                segments.append((path, first + low - offset, high - low))
            offset += length
        return FileValue(segments=segments)

    def __iter__(self) -> Iterator[bytes]:
        for path, first, length in self._segments:
            with open(path, "rb") as source:
                source.seek(first)
                while length > 0:
                    chunk = source.read(min(COPY_CHUNK, length))
                    if not chunk:
                        break
                    length -= len(chunk)
                    yield chunk

    def __bytes__(self) -> bytes:
        return b"".join(self)

    def write_to(self, stream: Any) -> int:
        return sum(stream.write(chunk) for chunk in self)


_LAZY = threading.local()  # set while moto answers a GetObject or copies: FakeKey.value is a FileValue


def _file_value_of(keys: list[Any]) -> Any:
    buffers = [key._value_buffer for key in keys]
    if all(isinstance(buffer, BodyFile) for buffer in buffers):
        return FileValue([buffer.spill() for buffer in buffers])  # (a small last part moves to its file)
    return b"".join(key.value for key in keys)  # a key from before the stack installed the bodies


def _sync_directory(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_pending() -> int:
    """fsync the bodies written since the last call, then their directory ("interval"); return how many."""
    with _PENDING_LOCK:
        paths = list(_PENDING)
        _PENDING.clear()
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # collected already
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    if paths and _STATE["directory"]:
        _sync_directory(_STATE["directory"])
    return len(paths)


def drop_keys_without_bodies() -> list[str]:
    """Keys whose body file is missing (a power cut between a journal sync and its bodies' sync, in the
    "interval" mode): dropped, as if their write had not been acknowledged; return them (bucket/key)."""
    from moto.s3.models import s3_backends

    dropped = []
    for _account, _region, backend in s3_backends.iter_backends():
        for bucket in list(backend.buckets.values()):
            for name, versions in list(dict.items(bucket.keys)):
                kept = [key for key in versions if not isinstance(key.__dict__.get("_value_buffer"), BodyFile)
                        or key._value_buffer.in_memory or os.path.exists(key._value_buffer.path)]
                if len(kept) != len(versions):
                    dropped.append(f"{bucket.name}/{name}")
                    if kept:
                        dict.__setitem__(bucket.keys, name, kept)
                    else:
                        dict.pop(bucket.keys, name, None)
    return dropped


def directory() -> str | None:
    return _STATE["directory"]


def _new_body(max_size: int = 0, *args: Any, **kwargs: Any) -> BodyFile:
    return BodyFile(os.path.join(_STATE["directory"], uuid.uuid4().hex), memory=b"")


def install(body_directory: str, set_attribute: Any, fsync: str = "always") -> None:
    """New keys' values go to files under `body_directory` (undone with the other patches); `fsync`: when
    a body reaches the disk ("always": before its key is acknowledged; "interval": sync_pending; "off")."""
    import tempfile

    import moto.s3.models as s3_models

    os.makedirs(body_directory, exist_ok=True)
    _STATE["directory"], _STATE["fsync"] = body_directory, fsync
    shim = types.SimpleNamespace(**{name: getattr(tempfile, name) for name in dir(tempfile) if not name.startswith("__")})
    shim.SpooledTemporaryFile = _new_body
    set_attribute(s3_models, "tempfile", shim)


def restore_key(cls: type, state: dict, body_name: str | None, memory: bytes | None = None) -> Any:
    """A FakeKey from the snapshot or the journal, reading its value from its file, or from `memory` (a small
    body's bytes, which the record carries)."""
    key = cls.__new__(cls)
    key.__dict__.update(state)
    if memory is not None:
        key._value_buffer = BodyFile(os.path.join(_STATE["directory"], uuid.uuid4().hex), memory=memory)
    else:
        key._value_buffer = BodyFile(os.path.join(_STATE["directory"], body_name or uuid.uuid4().hex), named=True)
    key.lock = threading.Lock()
    return key


def reduce_key(key: Any, seen: set[str] | None = None) -> tuple:
    """How a FakeKey pickles for the snapshot and the journal: its attributes and its file's name (a small
    body: its bytes)."""
    state = {name: value for name, value in key.__dict__.items() if name not in ("_value_buffer", "lock")}
    buffer = key.__dict__.get("_value_buffer")
    if not isinstance(buffer, BodyFile):  # made before the stack installed the bodies (or a test's own)
        body = _new_body()
        try:
            value = key.value
        except ValueError:  # disposed: moto's own __getstate__ stores nothing either
            value = b""
        body.write(value)
        key._value_buffer = buffer = body
    if buffer.in_memory:
        return restore_key, (type(key), state, None, buffer.memory())
    if seen is not None:
        seen.add(buffer.name)
    return restore_key, (type(key), state, buffer.name)


def live_names() -> set[str]:
    """The body files the S3 backends refer to now: every version of every key and every upload's parts."""
    from moto.s3.models import s3_backends

    names: set[str] = set()

    def add(key: Any) -> None:
        buffer = getattr(key, "_value_buffer", None)
        if isinstance(buffer, BodyFile) and not buffer.in_memory:
            names.add(buffer.name)

    for _account, _region, backend in s3_backends.iter_backends():
        for bucket in list(backend.buckets.values()):
            for versions in list(dict.values(bucket.keys)):
                for key in list(versions):
                    add(key)
            for multipart in list(bucket.multiparts.values()):
                for part in list(multipart.parts.values()):
                    add(part)
    return names


def collect(keep: set[str], older_than: float | None = None) -> int:
    """Remove the body files not in `keep` (modified before `older_than`, if given); return how many."""
    body_directory = _STATE["directory"]
    if not body_directory or not os.path.isdir(body_directory):
        return 0
    removed = 0
    with os.scandir(body_directory) as entries:
        for entry in entries:
            if entry.name in keep or not entry.is_file():
                continue
            try:
                if older_than is not None and entry.stat().st_mtime >= older_than:
                    continue  # may belong to a key a request is making right now
                os.unlink(entry.path)
                removed += 1
            except FileNotFoundError:
                pass
    return removed


def grace_cutoff(started: float, seconds: float = 60.0) -> float:
    """Files touched within `seconds` before a snapshot began may belong to a key not yet in a bucket."""
    return min(started, time.time()) - seconds


def patch_streaming_complete(set_attribute: Any) -> None:
    """CompleteMultipartUpload without the object in memory (moto joins the parts, and for its default
    CRC64NVME checksum joins them twice: 3 GB for a 1 GB upload). The parts' files are copied into the
    object's file in chunks. An upload that asked for a checksum (``x-amz-checksum-algorithm``) keeps
    moto's own path, which computes it."""
    import codecs

    from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML
    from moto.s3.models import FakeMultipart, S3Backend
    from moto.s3.models import S3_UPLOAD_PART_MIN_SIZE
    from moto.utilities.utils import md5_hash

    original_complete = FakeMultipart.complete
    original_backend_complete = S3Backend.complete_multipart_upload
    decode_hex = codecs.getdecoder("hex_codec")

    def complete(self: Any, body: Any) -> tuple:
        if self.metadata.get("x-amz-checksum-algorithm"):
            return original_complete(self, body)
        md5s = bytearray()
        parts: list[Any] = []
        last = None
        for number, etag in body:
            part = self.parts.get(number)
            if part is None or part.etag.replace('"', "") != etag.replace('"', ""):
                raise InvalidPart()
            if last is not None and last.contentsize < S3_UPLOAD_PART_MIN_SIZE:
                raise EntityTooSmall()
            md5s.extend(decode_hex(part.etag.replace('"', ""))[0])
            parts.append(part)
            last = part
        if not parts:
            raise MalformedXML
        full_etag = md5_hash()
        full_etag.update(bytes(md5s))
        return _file_value_of(parts), f"{full_etag.hexdigest()}-{len(parts)}", None

    def complete_multipart_upload(self: Any, bucket_name: str, multipart_id: str, body: Any) -> Any:
        key = original_backend_complete(self, bucket_name, multipart_id, body)
        multipart = getattr(key, "multipart", None)
        if multipart is not None and isinstance(getattr(key, "_value_buffer", None), BodyFile):
            # The object has its own file now; the parts' files would double the disk it takes.
            # (Only GetObject with partNumber reads them: the local stack's clients never do.)
            multipart.parts = {}
        return key

    set_attribute(FakeMultipart, "complete", complete)
    set_attribute(S3Backend, "complete_multipart_upload", complete_multipart_upload)


def patch_streaming_reads(set_attribute: Any) -> None:
    """GetObject (with a Range too), CopyObject and UploadPartCopy read an object's file in chunks: moto
    reads ``FakeKey.value``, the whole object as bytes, for each (a ranged GET of a 1 GB object read 1 GB)."""
    from moto.s3.models import FakeKey, S3Backend
    from moto.s3.responses import S3Response

    value = FakeKey.value

    def lazy_value(self: Any) -> Any:
        buffer = self.__dict__.get("_value_buffer")
        if getattr(_LAZY, "on", False) and isinstance(buffer, BodyFile) and not buffer.in_memory:
            return FileValue([buffer.path])
        return value.fget(self)

    def lazily(original: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            _LAZY.on = True
            try:
                return original(*args, **kwargs)
            finally:
                _LAZY.on = False

        return call

    set_attribute(FakeKey, "value", property(lazy_value, value.fset))
    # (moto cuts a Range from GetObject's answer after _key_response_get, by slicing it: a FileValue too)
    for owner, name in ((S3Response, "_key_response_get"), (S3Backend, "copy_object"),
                        (S3Backend, "upload_part_copy")):
        set_attribute(owner, name, lazily(getattr(owner, name)))
