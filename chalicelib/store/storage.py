"""Artifacts in S3, addressed by the SHA-256 of their content: equal content, equal id.

A content id is written once (`IfNoneMatch: "*"`; the roles' policies refuse a write without it) and
never replaced, so what an id names cannot change. Writers hash a file as they stream it, then stream
it again and check the bytes sent hash to the id before S3 makes them visible, so the id is the hash
of the bytes stored; readers that hand content on check it as they stream it (`copy_verified`).
Memory holds a few chunks or parts, never a whole big file.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import os
import re
import stat
import tempfile
import time
from typing import IO, Any, Callable, Iterator

from botocore.exceptions import ClientError, FlexibleChecksumError

from chalicelib.domain.errors import NotFoundError

from . import aws
from .settings import SETTINGS

_CHUNK = 1024 * 1024
_RESOURCE_ID = re.compile(r"^[0-9a-f]{64}$")
PREFIX = "resources/"
SMALL_BYTES = 8 * 1024 * 1024  # below this one PutObject, from memory; above, a multipart upload from a temp file
PART_BYTES = 8 * 1024 * 1024  # S3's minimum part is 5 MiB
MAX_PARTS = 10_000  # S3's limit on parts per upload
PART_THREADS = 4
_CONFLICT_TRIES = 4  # S3 answers 409 to one of two concurrent conditional writes of one key: try again


class IntegrityError(Exception):
    """Bytes read under a content id do not hash to it (tampered with, or corrupt): never handed on."""


class TooLarge(Exception):
    """A resource bigger than the room its reader has (`size`: its bytes); nothing of it was written."""

    def __init__(self, resource_id: str, size: int) -> None:
        super().__init__(f"Resource `{resource_id}` has {size} bytes")
        self.size = size


class UnsafeFile(Exception):
    """A path to store that is not a regular file (a symbolic link, a FIFO, a device)."""


def key(resource_id: str) -> str:
    return f"{PREFIX}{resource_id}"


def is_resource_id(value: str) -> bool:
    """Resource ids are hex digests; anything else never reaches S3 as a key."""
    return bool(_RESOURCE_ID.match(value or "")) if isinstance(value, str) else False


def _status(exc: ClientError) -> tuple[str, int]:
    return exc.response.get("Error", {}).get("Code", ""), exc.response.get("ResponseMetadata", {}).get(
        "HTTPStatusCode", 0)


def _exists_already(exc: ClientError) -> bool:
    """412: the key exists. Its name is the hash of its content, so this content is stored: done."""
    code, status = _status(exc)
    return code == "PreconditionFailed" or status == 412


def _conflict(exc: ClientError) -> bool:
    code, status = _status(exc)
    return code == "ConditionalRequestConflict" or status == 409


def _write_once(write: Any) -> bool:
    """Run one conditional write; a 412 means the same content is there already, a 409 is tried again.
    True when this write created the object (the content was not stored before)."""
    for attempt in range(_CONFLICT_TRIES):
        try:
            write()
            return True
        except ClientError as exc:
            if _exists_already(exc):
                return False
            if not _conflict(exc) or attempt == _CONFLICT_TRIES - 1:
                raise
            time.sleep(0.05 * 2 ** attempt)
    return False


def _put_object(resource_id: str, data: bytes) -> bool:
    return _write_once(lambda: aws.client("s3").put_object(
        Bucket=SETTINGS.bucket, Key=key(resource_id), Body=data, IfNoneMatch="*"))


def content_id(data: bytes) -> str:
    """The resource id of these bytes: content-addressed, so equal bytes are stored once."""
    return hashlib.sha256(data).hexdigest()


def put_bytes(data: bytes) -> str:
    """Store bytes (write-once) and return their resource id."""
    resource_id = content_id(data)
    _put_object(resource_id, data)
    return resource_id


def _open_regular(path: str) -> IO[bytes]:
    """Open a file to store without following a symbolic link or blocking on a FIFO: an operation
    chooses what its output paths are, and the orchestrator must not read its own files for it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):
            raise UnsafeFile(f"`{os.path.basename(path)}` is a symbolic link; write the file itself") from exc
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeFile(f"`{os.path.basename(path)}` is not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_private(path: str) -> tuple[str, bytes | IO[bytes], int]:
    """The hash of a file's bytes, streamed from disk: (id, the bytes or the open file, size).

    Small files are read to memory once; a bigger one is hashed in chunks and handed back open (not
    followed through a link, never reopened by name): `put_private` sends its first `size` bytes again
    and checks they still hash to the id before S3 makes them visible, so no copy is made on disk.
    """
    digest = hashlib.sha256()
    source = _open_regular(path)
    try:
        head = source.read(SMALL_BYTES)
        digest.update(head)
        size = len(head)
        more = source.read(_CHUNK)
        if not more:
            source.close()
            return digest.hexdigest(), head, size
        while more:
            digest.update(more)
            size += len(more)
            more = source.read(_CHUNK)
        source.seek(0)
    except BaseException:
        source.close()
        raise
    return digest.hexdigest(), source, size


def put_private(resource_id: str, copy: bytes | IO[bytes], size: int) -> bool:
    """Upload what `read_private` hashed (write-once); an open file is sent again, checked, and closed.
    True when the upload created it (small ones only: False for a big one, whether or not it did)."""
    if isinstance(copy, bytes):
        return _put_object(resource_id, copy)
    with copy:
        _put_multipart(resource_id, copy, size, verify=True)
    return False


def put_file(path: str) -> str:
    """Store a file (write-once), streamed, and return the id of exactly the bytes stored."""
    resource_id, copy, size = read_private(path)
    put_private(resource_id, copy, size)
    return resource_id


def put_parts_once(resource_id: str, send_parts: Callable[[Any, str, str, str], list[dict]]) -> None:
    """Create `resources/<resource_id>` from a multipart upload whose parts `send_parts(s3, bucket, key,
    upload_id)` sends (returning them); only the completion creates the object, with IfNoneMatch "*"
    (write-once: a 412 is the same content stored already), and a failure aborts the upload."""
    s3, bucket, name = aws.client("s3"), SETTINGS.bucket, key(resource_id)

    def write() -> None:
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=name)["UploadId"]
        try:
            parts = send_parts(s3, bucket, name, upload_id)
            s3.complete_multipart_upload(Bucket=bucket, Key=name, UploadId=upload_id,
                                         MultipartUpload={"Parts": parts}, IfNoneMatch="*")
        except BaseException:
            try:
                s3.abort_multipart_upload(Bucket=bucket, Key=name, UploadId=upload_id)
            except ClientError:
                pass  # the bucket's lifecycle rule aborts what is left after a day
            raise

    _write_once(write)


def _put_multipart(resource_id: str, source: IO[bytes], size: int, verify: bool = False) -> None:
    """A multipart upload of `source`'s first `size` bytes (put_parts_once). The parts are read in order,
    hashed (`verify`: they must hash to the id, or the upload is aborted: the file changed since it was
    hashed) and sent by a few threads, so memory holds at most PART_THREADS + 1 parts whatever the file's size.

    boto3's managed transfer (upload_fileobj) would do the same, but s3transfer 0.19 passes no IfNoneMatch
    to CompleteMultipartUpload (not among its allowed upload arguments), which the write-once rule needs.
    """
    part_bytes = max(PART_BYTES, -(-size // MAX_PARTS))
    count = max(1, -(-size // part_bytes))

    def send_parts(s3: Any, bucket: str, name: str, upload_id: str) -> list[dict]:
        def send(number: int, body: bytes) -> dict:
            etag = s3.upload_part(Bucket=bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=body)["ETag"]
            return {"ETag": etag, "PartNumber": number}

        source.seek(0)
        digest = hashlib.sha256()
        # The pool is gone on return: the runner forks operations only while it is single-threaded.
        with concurrent.futures.ThreadPoolExecutor(min(PART_THREADS, count)) as pool:
            pending: list[concurrent.futures.Future] = []
            parts: list[dict] = []
            for number in range(1, count + 1):
                body = _read_exactly(source, min(part_bytes, size - (number - 1) * part_bytes))
                digest.update(body)
                if len(pending) >= PART_THREADS:
                    parts.append(pending.pop(0).result())
                pending.append(pool.submit(send, number, body))
                del body
            parts.extend(future.result() for future in pending)
        if verify and digest.hexdigest() != resource_id:
            raise IntegrityError(f"`{resource_id}` changed while it was stored: its bytes now hash to "
                                 f"`{digest.hexdigest()}`; it was not stored")
        return parts

    put_parts_once(resource_id, send_parts)


def _read_exactly(source: IO[bytes], amount: int) -> bytes:
    """`amount` bytes (a file that shrank since it was hashed is short: IntegrityError)."""
    data = source.read(amount)
    while len(data) < amount:
        more = source.read(amount - len(data))
        if not more:
            raise IntegrityError("A file shrank while it was stored; it was not stored")
        data += more
    return data


def check(resource_id: str, data: bytes) -> bytes:
    """The bytes, if they are what `resource_id` names; IntegrityError otherwise."""
    actual = content_id(data)
    if actual != resource_id:
        raise IntegrityError(_mismatch(resource_id, actual))
    return data


def _mismatch(resource_id: str, actual: str) -> str:
    return (f"Resource `{resource_id}` is corrupt: its stored bytes hash to `{actual}`, not to its id "
            "(changed behind PLynx's back); it was not used")


def copy_verified(resource_id: str, target: IO[bytes], max_bytes: int | None = None,
                  admit: Callable[[int], None] | None = None) -> int:
    """Stream a resource into `target` while hashing it; IntegrityError when it is not what its id names.

    `max_bytes`: TooLarge, before a byte is written, for a bigger resource (its size is GetObject's
    Content-Length); `admit(size)` is called then too and may refuse it by raising (a budget that downloads
    running at once share). The caller discards what was written on an error. Returns the number of bytes copied.
    """
    stream, size = open_stream(resource_id)
    try:
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(resource_id, size)
        if admit is not None:
            admit(size)
    except BaseException:
        stream.close()
        raise
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in iter_chunks(stream):
            digest.update(chunk)
            target.write(chunk)
            size += len(chunk)
    except FlexibleChecksumError as exc:  # the SDK's own check of S3's checksum saw it first
        raise IntegrityError(f"Resource `{resource_id}` is corrupt: {exc}; it was not used") from exc
    finally:
        stream.close()
    actual = digest.hexdigest()
    if actual != resource_id:
        raise IntegrityError(_mismatch(resource_id, actual))
    return size


def download_to(resource_id: str, path: str, max_bytes: int | None = None,
                admit: Callable[[int], None] | None = None) -> int:
    """Stream a resource to a local path, checked against its id as it comes (memory holds one chunk);
    nothing is left at `path` on an error (TooLarge: bigger than `max_bytes`; or what `admit` raised, as
    copy_verified says). Returns its size."""
    try:
        with open(path, "wb") as target:
            return copy_verified(resource_id, target, max_bytes, admit)
    except BaseException:
        if os.path.exists(path):
            os.remove(path)
        raise


def size(resource_id: str) -> int:
    """A stored resource's size in bytes (one HeadObject); 0 for one that is not there."""
    return stored_size(resource_id) or 0


def stored_size(resource_id: str) -> int | None:
    """A stored resource's size in bytes (one HeadObject); None for one that is not there (0: empty)."""
    try:
        return aws.client("s3").head_object(Bucket=SETTINGS.bucket, Key=key(resource_id))["ContentLength"]
    except ClientError as exc:
        if _status(exc)[1] == 404 or exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            return None
        raise


def open_stream(resource_id: str, max_bytes: int | None = None) -> tuple[IO[bytes], int]:
    """Return a stream over a resource (or its first max_bytes) and the resource's full size."""
    if not is_resource_id(resource_id):
        raise NotFoundError(f"Resource `{resource_id}` not found")
    kwargs = {"Bucket": SETTINGS.bucket, "Key": key(resource_id)}
    if max_bytes is not None:
        kwargs["Range"] = f"bytes=0-{max(max_bytes - 1, 0)}"
    try:
        response = aws.client("s3").get_object(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "InvalidRange"):
            if exc.response["Error"]["Code"] == "InvalidRange":
                return tempfile.SpooledTemporaryFile(), 0
            raise NotFoundError(f"Resource `{resource_id}` not found") from exc
        raise
    size = response["ContentLength"]
    content_range = response.get("ContentRange")
    if content_range and "/" in content_range:
        size = int(content_range.rsplit("/", 1)[1])
    return response["Body"], size


def iter_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """Read a stream in bounded chunks."""
    return iter(lambda: stream.read(_CHUNK), b"")


