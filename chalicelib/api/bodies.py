"""Reading requests: JSON bodies whatever the client's content type, and multipart uploads."""
from __future__ import annotations

import io
import json
from typing import Any

import multipart

from chalicelib.domain.errors import BadRequestError

MAX_UPLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit; larger files belong in S3


def _no_constant(name: str) -> Any:
    # Python's parser takes NaN and Infinity, which are not JSON: stored, they make answers browsers cannot parse.
    raise ValueError(f"`{name}` is not a JSON value")


def json_body(raw: bytes | str | None) -> Any:
    """The request's JSON (None when empty); malformed JSON is a 400 with the parser's reason."""
    if raw is None or raw in (b"", ""):
        return None
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"Malformed JSON in request body: {exc}") from exc


def json_object(raw: bytes | str | None) -> dict:
    """A JSON body that must be an object (missing means empty)."""
    body = json_body(raw)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequestError("The request body must be a JSON object")
    return body


def form_data(raw: bytes, content_type: str | None) -> tuple[dict[str, str], dict[str, bytes]]:
    """Fields and files of a multipart/form-data body."""
    mime, options = multipart.parse_options_header(content_type or "")
    if mime != "multipart/form-data" or "boundary" not in options:
        raise BadRequestError("Expected a multipart/form-data body (curl -F data=@file ...)")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise BadRequestError(f"Upload larger than {MAX_UPLOAD_BYTES} bytes; send a bigger file straight to S3 with "
                              "POST /uploads (README: files of any size)")
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    try:
        parser = multipart.MultipartParser(io.BytesIO(raw), options["boundary"], content_length=len(raw))
        for part in parser:
            if part.filename is not None:
                files[part.name] = part.raw
            else:
                fields[part.name] = part.value
    except multipart.MultipartError as exc:
        raise BadRequestError(f"Malformed multipart body: {exc}") from exc
    return fields, files
