"""Artifacts in S3, addressed by the SHA-256 of their content: equal content, equal id."""
from __future__ import annotations

import hashlib
import re
import tempfile
from typing import IO, Iterator

from botocore.exceptions import ClientError

from chalicelib.domain.errors import NotFoundError

from . import aws
from .settings import SETTINGS

_CHUNK = 1024 * 1024
_RESOURCE_ID = re.compile(r"^[0-9a-f]{64}$")


def key(resource_id: str) -> str:
    return f"resources/{resource_id}"


def is_resource_id(value: str) -> bool:
    """Resource ids are hex digests; anything else never reaches S3 as a key."""
    return bool(_RESOURCE_ID.match(value or ""))


def put_bytes(data: bytes) -> str:
    """Store bytes and return their resource id."""
    resource_id = hashlib.sha256(data).hexdigest()
    aws.client("s3").put_object(Bucket=SETTINGS.bucket, Key=key(resource_id), Body=data)
    return resource_id


def put_file(path: str) -> str:
    """Store a file without reading it whole into memory and return its resource id."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    resource_id = digest.hexdigest()
    with open(path, "rb") as stream:
        aws.client("s3").upload_fileobj(stream, SETTINGS.bucket, key(resource_id))
    return resource_id


def download_to(resource_id: str, path: str) -> None:
    """Write a resource to a local path (the runner's inputs)."""
    if not is_resource_id(resource_id):
        raise NotFoundError(f"Resource `{resource_id}` not found")
    try:
        aws.client("s3").download_file(SETTINGS.bucket, key(resource_id), path)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
            raise NotFoundError(f"Resource `{resource_id}` not found") from exc
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


