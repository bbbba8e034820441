"""Uploads of any size: presigned S3 multipart parts, then a file node whose content id the server computed.

An upload is its creator's: its staging key holds the caller's name (chalicelib/store/uploads.py), and
every route rebuilds the key from the signed-in caller, so another user's complete, abort or request for
part URLs names a key that does not exist: a 404, as for an id that never existed.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.enums import FILE_KIND
from chalicelib.domain.errors import BadRequestError, ConflictError, NotFoundError
from chalicelib.domain.resource_kinds import RESOURCES_DICT, check_staged
from chalicelib.store import aws, uploads
from chalicelib.store.settings import SETTINGS

from . import actions
from .bodies import MAX_UPLOAD_BYTES

MAX_URLS = 100  # part URLs per answer (a URL is ~1 KB; 10,000 at once would pass API Gateway's 10 MB)
MAX_FIELD_CHARS = 10_000  # title and description, as stored in the upload's description object
_NOT_FOUND = "Upload `{}` not found (completed, aborted, expired, or not yours)"


def _public_id(key: str, s3_upload_id: str) -> str:
    token = key.rsplit("/", 1)[1]
    return f"{token}.{base64.urlsafe_b64encode(s3_upload_id.encode()).decode().rstrip('=')}"


def _parse_id(upload_id: str, user: str) -> tuple[str, str]:
    """(staging key, S3 upload id) of the caller's upload; 404 for anything else."""
    token, _, encoded = str(upload_id).partition(".")
    if len(token) != 32 or any(c not in "0123456789abcdef" for c in token) or not encoded:
        raise NotFoundError(_NOT_FOUND.format(upload_id))
    try:
        s3_upload_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise NotFoundError(_NOT_FOUND.format(upload_id)) from exc
    return f"{uploads.user_prefix(user)}{token}", s3_upload_id


def _text(body: dict, name: str) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS:
        raise BadRequestError(f"`{name}` must be a string of at most {MAX_FIELD_CHARS} characters")
    return value


def _size(body: dict) -> int:
    size = body.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= uploads.MAX_BYTES:
        raise BadRequestError(f"`size` must be the file's size in bytes, an integer from 0 to {uploads.MAX_BYTES}")
    return size


def _put_description(key: str, description: dict) -> None:
    aws.client("s3").put_object(Bucket=SETTINGS.bucket, Key=f"{key}.json",
                                Body=json.dumps(description).encode(), ContentType="application/json")


def _description(key: str, upload_id: str) -> dict:
    try:
        body = aws.client("s3").get_object(Bucket=SETTINGS.bucket, Key=f"{key}.json")["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise NotFoundError(_NOT_FOUND.format(upload_id)) from exc
        raise
    return json.loads(body)


def create(body: dict, user: str) -> dict:
    """Start an upload: its id, the part size and the first part URLs (PUT each part's bytes to its URL)."""
    file_type = body.get("file_type") or FILE_KIND
    if not isinstance(file_type, str) or file_type not in RESOURCES_DICT:
        raise BadRequestError(f"Unknown file_type `{file_type}`; known: {sorted(RESOURCES_DICT)}")
    size = _size(body)
    fields = {"title": _text(body, "title") or "File", "description": _text(body, "description")}
    if body.get("replaces"):  # a new version of this file (chalicelib/api/actions.file_node checks it at the end)
        fields["replaces"] = _text(body, "replaces")
    check_staged(file_type, size, lambda: b"", _never_opened, MAX_UPLOAD_BYTES, declared_only=True)
    key = uploads.new_key(user)
    _put_description(key, {**fields, "file_type": file_type, "size": size})
    s3_upload_id = uploads.create(key)
    count = uploads.part_count(size)
    return {"upload_id": _public_id(key, s3_upload_id), "part_size": uploads.part_bytes(size), "part_count": count,
            "parts": uploads.presign_parts(key, s3_upload_id, list(range(1, min(count, MAX_URLS) + 1))),
            "expires_in": uploads.URL_SECONDS}


def _never_opened() -> Any:
    raise AssertionError("a declared size is checked without the bytes")


def part_urls(upload_id: str, body: dict, user: str) -> dict:
    """Fresh URLs of these parts (`part_numbers`, at most 100): the parts past the first answer, or a retry."""
    key, s3_upload_id = _parse_id(upload_id, user)
    description = _description(key, upload_id)
    numbers = body.get("part_numbers")
    count = uploads.part_count(description["size"])
    if (not isinstance(numbers, list) or not numbers or len(numbers) > MAX_URLS
            or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= count for n in numbers)):
        raise BadRequestError(f"`part_numbers` must be a list of 1 to {MAX_URLS} part numbers from 1 to {count}")
    return {"upload_id": upload_id, "parts": uploads.presign_parts(key, s3_upload_id, sorted(set(numbers))),
            "expires_in": uploads.URL_SECONDS}


def _parts(body: dict, count: int) -> list[dict]:
    """The client's part list as S3 takes it; a 400 that says what is wrong with it."""
    parts = body.get("parts")
    if not isinstance(parts, list) or not parts:
        raise BadRequestError("`parts` must be a non-empty list of {part_number, etag}, one per uploaded part")
    out = []
    for index, part in enumerate(parts):
        number = part.get("part_number", part.get("PartNumber")) if isinstance(part, dict) else None
        etag = part.get("etag", part.get("ETag")) if isinstance(part, dict) else None
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= count:
            raise BadRequestError(f"`parts[{index}].part_number` must be an integer from 1 to {count}")
        if not isinstance(etag, str) or not etag.strip('"') or len(etag) > 200:
            raise BadRequestError(f"`parts[{index}].etag` must be the ETag S3 answered for part {number}")
        if out and number <= out[-1]["PartNumber"]:
            raise BadRequestError("`parts` must be in ascending order of part_number, each part once")
        out.append({"PartNumber": number, "ETag": etag if etag.startswith('"') else f'"{etag}"'})
    if len(out) != count:
        raise BadRequestError(f"`parts` lists {len(out)} parts; this upload has {count}")
    return out


def complete(upload_id: str, body: dict, user: str) -> dict:
    """Finish an upload: S3 joins the parts, the server hashes what S3 holds and stores it under that id."""
    key, s3_upload_id = _parse_id(upload_id, user)
    description = _description(key, upload_id)
    parts = _parts(body, uploads.part_count(description["size"]))
    try:
        uploads.finish_staging(key, s3_upload_id, parts)
    except uploads.UploadError as exc:
        if exc.missing:
            raise NotFoundError(_NOT_FOUND.format(upload_id)) from exc
        raise BadRequestError(f"{exc}; fix the part list and complete again, or abort") from exc
    file_type = description["file_type"]
    try:
        resource_id, size, etag = uploads.digest(key)
        if size != description["size"]:
            raise BadRequestError(f"The parts hold {size} bytes; the upload was created for {description['size']}")
        check_staged(file_type, size, lambda: uploads.open_staged(key, size).read(),
                     lambda: uploads.open_staged(key, size), MAX_UPLOAD_BYTES)
        uploads.promote(key, etag, size, resource_id)
    except BadRequestError:
        uploads.delete(key)
        uploads.delete(f"{key}.json")
        raise
    except uploads.UploadError as exc:  # two completes at once: the other one finishes the upload
        raise ConflictError(f"Upload `{upload_id}`: {exc}") from exc
    uploads.delete(f"{key}.json")
    return actions.file_node(resource_id, file_type, description, user)


def abort(upload_id: str, user: str) -> dict:
    """Drop an upload and the parts sent so far."""
    key, s3_upload_id = _parse_id(upload_id, user)
    _description(key, upload_id)
    try:
        uploads.abort(key, s3_upload_id)
    except uploads.UploadError as exc:
        raise NotFoundError(_NOT_FOUND.format(upload_id)) from exc
    uploads.delete(f"{key}.json")
    return {"status": "SUCCESS", "message": f"Upload `{upload_id}` aborted"}
