"""Downloads and previews of resources: a preview reads only the bytes it shows."""
from __future__ import annotations

import html
import io
import logging
from typing import IO, Any

from chalicelib.domain import config
from chalicelib.domain.errors import BadRequestError
from chalicelib.domain.resource_kinds import RESOURCES_DICT, resource_class
from chalicelib.resource_types import PreviewObject
from chalicelib.store import aws, storage
from chalicelib.store.settings import SETTINGS

from . import resource_access

LOGGER = logging.getLogger(__name__)


DIRECT_LIMIT = 5 * 1024 * 1024  # under API Gateway's 10 MB and Lambda's 6 MB response limits
PREVIEW_BYTES = config.limit("preview_bytes")


def read(resource_id: str, preview: bool, user: str) -> tuple[bytes | None, int, str | None]:
    """Bytes to return directly, the full size, or a presigned URL when too large to pass through;
    404 for an id the caller may not read (resource_access)."""
    resource_access.check_readable(resource_id, user)
    limit = PREVIEW_BYTES if preview else DIRECT_LIMIT + 1
    stream, size = storage.open_stream(resource_id, max_bytes=limit)
    data = stream.read()
    if not preview and size > DIRECT_LIMIT:
        url = aws.client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": SETTINGS.bucket, "Key": storage.key(resource_id)}, ExpiresIn=3600
        )
        return None, size, url
    return data, size, None


class S3RangeReader(io.RawIOBase):
    """A seekable read-only file over an S3 object, fetching only the byte ranges read (zip listings)."""

    def __init__(self, resource_id: str, size: int) -> None:
        super().__init__()
        self._key = storage.key(resource_id)
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size or len(buffer) == 0:
            return 0
        end = min(self._pos + len(buffer), self._size) - 1
        body = aws.client("s3").get_object(
            Bucket=SETTINGS.bucket, Key=self._key, Range=f"bytes={self._pos}-{end}")["Body"].read()
        buffer[: len(body)] = body
        self._pos += len(body)
        return len(body)


def _read_upto(resource_id: str, limit: int) -> bytes:
    stream, _ = storage.open_stream(resource_id, max_bytes=limit)
    return stream.read()


def preview_object(resource_id: str, url: str) -> PreviewObject:
    """The head of a resource and ways to read more of it, never more than a type asks for."""
    head, size = storage.open_stream(resource_id, max_bytes=PREVIEW_BYTES)
    data = head.read()

    def open_seekable() -> IO[bytes]:
        return io.BufferedReader(S3RangeReader(resource_id, size), buffer_size=PREVIEW_BYTES)

    return PreviewObject(resource_id=resource_id, size=size, head=data, open_seekable=open_seekable,
                         read_upto=lambda limit: data if size <= len(data) else _read_upto(resource_id, limit),
                         url=url)


def preview_html(resource_id: str, file_type: str, url: str, user: str) -> tuple[str, int]:
    """The HTML preview of a resource as its type shows it, and the resource's size (404 as `read`)."""
    if file_type not in RESOURCES_DICT:
        raise BadRequestError(f"Unknown file_type `{file_type}`; known: {sorted(RESOURCES_DICT)}")
    resource_access.check_readable(resource_id, user)
    obj = preview_object(resource_id, url)
    try:
        return resource_class(file_type).preview(obj), obj.size
    except Exception as exc:  # a plugin's preview must not turn a user's click into a 500
        LOGGER.exception("Preview of %s as %s failed", resource_id, file_type)
        return (f'<p class="preview-error">No preview as {html.escape(file_type)}: '
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>"), obj.size


