"""Resource kinds offered to clients (the seed's resources_dict, from the config), downloads and previews."""
from __future__ import annotations

import html
import io
import logging
from typing import IO, Any

from chalicelib.domain import config
from chalicelib.domain.errors import BadRequestError
from chalicelib.resource_types import BaseResource, PreviewObject, ResourceError
from chalicelib.store import aws, storage
from chalicelib.store.settings import SETTINGS

LOGGER = logging.getLogger(__name__)


def _resources_dict() -> dict[str, dict]:
    return {
        item["kind"]: {
            "kind": item["kind"],
            "title": item.get("title", item["kind"]),
            "icon": item.get("icon", "feathericons.file"),
            "color": item.get("color", "#fff"),
            "is_array": False,
            "display_raw": bool(getattr(resource_class(item["kind"]), "DISPLAY_RAW", False)),
        }
        for item in config.plugins("resources")
    }


def resource_class(kind: str) -> type[BaseResource]:
    """The class handling a resource kind; unknown kinds are handled as plain files."""
    for item in config.plugins("resources"):
        if item["kind"] == kind:
            return config.load_class(item.get("cls", "chalicelib.resource_types.common.File"))
    return BaseResource


RESOURCES_DICT = _resources_dict()
DIRECT_LIMIT = 5 * 1024 * 1024  # under API Gateway's 10 MB and Lambda's 6 MB response limits
PREVIEW_BYTES = config.limit("preview_bytes")


def read(resource_id: str, preview: bool) -> tuple[bytes | None, int, str | None]:
    """Bytes to return directly, the full size, or a presigned URL when too large to pass through."""
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


def preview_html(resource_id: str, file_type: str, url: str) -> tuple[str, int]:
    """The HTML preview of a resource as its type shows it, and the resource's size."""
    if file_type not in RESOURCES_DICT:
        raise BadRequestError(f"Unknown file_type `{file_type}`; known: {sorted(RESOURCES_DICT)}")
    obj = preview_object(resource_id, url)
    try:
        return resource_class(file_type).preview(obj), obj.size
    except Exception as exc:  # a plugin's preview must not turn a user's click into a 500
        LOGGER.exception("Preview of %s as %s failed", resource_id, file_type)
        return (f'<p class="preview-error">No preview as {html.escape(file_type)}: '
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>"), obj.size


def check_upload(file_type: str, data: bytes) -> None:
    """A 400 for an upload that can never work as its type (not a zip, a zip bomb, not an int...)."""
    check = getattr(resource_class(file_type), "check_upload", None)  # seed-style plugins may lack it
    try:
        if check is not None:
            check(data)
    except ResourceError as exc:
        raise BadRequestError(f"Not a valid `{file_type}` file: {exc}") from exc


def upstream_types(graph_id: str, node: dict, upstream: dict[str, dict] | None = None) -> dict[str, list[str]]:
    """The file_type of each output an operation's inputs read, so each input is prepared as what it is.

    `upstream`: the nodes read, by id, when the caller has them already (the runner)."""
    from chalicelib.store.models import GraphNodeModel

    from .graphs import node_from_item

    upstream_ids = {v["node_id"] for i in node.get("inputs", []) for v in i["values"]}
    if not upstream_ids:
        return {}
    if upstream is None:
        upstream = {item.node_id: node_from_item(item) for item in GraphNodeModel.batch_get(
            [(graph_id, node_id) for node_id in upstream_ids], consistent_read=True)}
    types: dict[str, list[str]] = {}
    for node_input in node.get("inputs", []):
        for value in node_input["values"]:
            source = upstream.get(value["node_id"], {})
            output = next((o for o in source.get("outputs", []) if o["name"] == value["output_id"]), None)
            types.setdefault(node_input["name"], []).append(output["file_type"] if output else "file")
    return types


def unknown_kinds(node: dict) -> list[tuple[str, str]]:
    """Inputs and outputs whose resource kinds the config does not offer to this operation kind.

    Answers (INPUT or PROPERTY, name) pairs for the validation tree; a kind must be a configured
    resource and, when the operation's config entry lists `resources`, one of those.
    """
    allowed = set(RESOURCES_DICT)
    entry = next((o for o in config.plugins("operations") if o["kind"] == node.get("base_node_name")), None)
    if entry is not None and isinstance(entry.get("resources"), list):
        allowed &= set(entry["resources"])
    problems = [("INPUT", i["name"]) for i in node.get("inputs", [])
                if any(kind not in allowed for kind in i.get("file_types", []))]
    problems += [("PROPERTY", o["name"]) for o in node.get("outputs", []) if o.get("file_type") not in allowed]
    return problems
