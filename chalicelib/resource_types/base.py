"""The resource plugin interface and the plain-text preview every type falls back to."""
from __future__ import annotations

import html
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

NodeResources_INPUT = "inputs"  # the seed's NodeResources.INPUT / OUTPUT keys, for seed-style plugins
NodeResources_OUTPUT = "outputs"
_BINARY_PROBE = 8192


class ResourceError(ValueError):
    """An artifact does not fit its declared type (bad zip, invalid value); the operation fails with this."""


@dataclass
class PreviewObject:
    """What a preview may look at: the first bytes, the full size, and a seekable stream opened on demand."""

    resource_id: str
    size: int
    head: bytes
    open_seekable: Callable[[], IO[bytes]]
    read_upto: Callable[[int], bytes]
    url: str

    @property
    def truncated(self) -> bool:
        return len(self.head) < self.size


def human_size(size: int) -> str:
    """Sizes as people read them (the preview's `1.5 MB`)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def decode_text(data: bytes, truncated: bool) -> str | None:
    """The bytes as UTF-8 text, or None when they are binary (NUL bytes or invalid UTF-8)."""
    if b"\x00" in data[:_BINARY_PROBE]:
        return None
    if truncated:
        # A multi-byte character may be cut at the end of the head: drop up to 3 trailing bytes.
        for cut in range(4):
            try:
                return data[: len(data) - cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def hexdump(data: bytes, limit: int = 256) -> str:
    """A classic hex dump of the first bytes, for binary content shown where text was expected."""
    lines = []
    for offset in range(0, min(len(data), limit), 16):
        chunk = data[offset : offset + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hexes:<47}  {text}")
    return "\n".join(lines)


def size_note(obj: PreviewObject, shown: int | None = None) -> str:
    """`Showing the first N of M` when truncated, else the size."""
    shown = len(obj.head) if shown is None else shown
    if shown < obj.size:
        return (f'<p class="preview-note">Showing the first {human_size(shown)} of '
                f"{human_size(obj.size)}.</p>")
    return f'<p class="preview-note">{human_size(obj.size)}.</p>'


def binary_preview(obj: PreviewObject, expected: str) -> str:
    """A safe preview of binary content where text was expected: a note and a hex dump."""
    return (f'<p class="preview-error">{html.escape(expected)}: binary content, {human_size(obj.size)}.</p>'
            f"<pre>{html.escape(hexdump(obj.head))}</pre>")


def unwrap(result: Any, key: str) -> Any:
    """Seed-style plugins return {"inputs": filename}; ours return the value itself."""
    if isinstance(result, dict) and set(result) == {key}:
        return result[key]
    return result


class BaseResource:
    """A resource type. Subclasses override what differs from a plain file."""

    DISPLAY_RAW: bool = False
    DISPLAY_THUMBNAIL: bool = False
    IS_PRIMITIVE: bool = False

    @staticmethod
    def prepare_input(filename: str, preview: bool = False) -> Any:
        """What the operation sees for a downloaded input (a path, or a value for primitive types)."""
        return filename

    @staticmethod
    def prepare_output(filename: str, preview: bool = False) -> Any:
        """Create what the operation writes into (an empty file, a directory) and return its path."""
        if not preview:
            open(filename, "wb").close()
        return filename

    @staticmethod
    def postprocess_output(filename: str) -> str:
        """Turn what the operation wrote into the one file to store (zip a directory, check a value)."""
        if not os.path.isfile(filename):
            raise ResourceError(f"`{os.path.basename(filename)}` is not a file")
        return filename

    @classmethod
    def preview(cls, preview_object: PreviewObject) -> str:
        """HTML: the text truncated with its size, or a hex dump when the content is binary."""
        text = decode_text(preview_object.head, preview_object.truncated)
        if text is None:
            return binary_preview(preview_object, "Not a text file")
        return f"<pre>{html.escape(text)}</pre>{size_note(preview_object)}"

    @classmethod
    def thumbnail(cls, preview_object: PreviewObject) -> str | None:
        """A data: URL of a small picture, for types that have one."""
        return None

    @classmethod
    def check_upload(cls, data: bytes) -> None:
        """Refuse an upload that can never work as this type (ResourceError); most types take anything."""
