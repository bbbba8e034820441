"""Raw primitive types (int, float, str, bool, color, dict): values, not files, to the operation.

A value is stored as a tiny JSON object in S3 like any artifact (so caching and content addressing
still apply), but the operation receives the value itself as its input, and writes the value as text
into its output file, which is checked and canonicalised after the run.
"""
from __future__ import annotations

import html
import json
import math
import re
from typing import Any, ClassVar

from .base import BaseResource, PreviewObject, ResourceError, decode_text

MAX_VALUE_BYTES = 1024 * 1024  # a value travels through payloads and parameters; a file is for more
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


def _read(filename: str) -> str:
    with open(filename, "rb") as handle:
        data = handle.read(MAX_VALUE_BYTES + 1)
    if len(data) > MAX_VALUE_BYTES:
        raise ResourceError(f"A value may be at most {MAX_VALUE_BYTES} bytes; use a file type for more")
    text = decode_text(data, False)
    if text is None:
        raise ResourceError("A value must be UTF-8 text, not binary content")
    return text


class Raw(BaseResource):
    """A JSON value of one Python type."""

    DISPLAY_RAW = True
    IS_PRIMITIVE = True
    KIND = "value"

    @classmethod
    def parse(cls, text: str) -> Any:
        """The value written as text (JSON, or a bare literal), checked; ResourceError when it does not fit."""
        try:
            value = json.loads(text)
        except ValueError:
            value = cls.from_bare(text.strip())
        return cls.check(value)

    @classmethod
    def from_bare(cls, text: str) -> Any:
        raise ResourceError(f"`{text[:80]}` is not a valid {cls.KIND}")

    @classmethod
    def check(cls, value: Any) -> Any:
        return value

    @classmethod
    def prepare_input(cls, filename: str, preview: bool = False) -> Any:
        if preview:
            return filename
        return cls.parse(_read(filename))

    @classmethod
    def check_upload(cls, data: bytes) -> None:
        if len(data) > MAX_VALUE_BYTES:
            raise ResourceError(f"A value may be at most {MAX_VALUE_BYTES} bytes; use a file type for more")
        text = decode_text(data, False)
        if text is None:
            raise ResourceError("A value must be UTF-8 text, not binary content")
        cls.parse(text)

    @classmethod
    def postprocess_output(cls, filename: str) -> str:
        text = _read(filename)
        if not text.strip():
            raise ResourceError(f"The {cls.KIND} output was not written")
        value = cls.parse(text)
        with open(filename, "w", encoding="utf-8") as handle:
            json.dump(value, handle, sort_keys=True)
        return filename

    @classmethod
    def preview(cls, preview_object: PreviewObject) -> str:
        try:
            value = cls.parse(_text_of(preview_object))
        except ResourceError as exc:
            return f'<p class="preview-error">{html.escape(str(exc))}</p>'
        shown = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True)
        return f'<pre class="preview-value">{html.escape(str(shown))}</pre>'


def _text_of(preview_object: PreviewObject) -> str:
    if preview_object.size > MAX_VALUE_BYTES:
        raise ResourceError(f"A value may be at most {MAX_VALUE_BYTES} bytes")
    text = decode_text(preview_object.read_upto(MAX_VALUE_BYTES), False)
    if text is None:
        raise ResourceError("A value must be UTF-8 text, not binary content")
    return text


class RawInt(Raw):
    KIND = "int"

    @classmethod
    def from_bare(cls, text: str) -> Any:
        try:
            return int(text)
        except ValueError as exc:
            raise ResourceError(f"`{text[:80]}` is not an int") from exc

    @classmethod
    def check(cls, value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ResourceError(f"`{str(value)[:80]}` is not an int")
        return value


class RawFloat(Raw):
    KIND = "float"

    @classmethod
    def from_bare(cls, text: str) -> Any:
        try:
            return float(text)
        except ValueError as exc:
            raise ResourceError(f"`{text[:80]}` is not a float") from exc

    @classmethod
    def check(cls, value: Any) -> Any:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ResourceError(f"`{str(value)[:80]}` is not a finite float")
        return float(value)


class RawStr(Raw):
    KIND = "str"

    @classmethod
    def parse(cls, text: str) -> Any:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, str):
            return value
        return text.removesuffix("\n")  # `echo word > out` writes one newline


class RawBool(Raw):
    KIND = "bool"
    _WORDS: ClassVar[dict[str, bool]] = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}

    @classmethod
    def from_bare(cls, text: str) -> Any:
        if text.lower() in cls._WORDS:
            return cls._WORDS[text.lower()]
        raise ResourceError(f"`{text[:80]}` is not a bool")

    @classmethod
    def check(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in cls._WORDS:
            return cls._WORDS[value.lower()]
        if not isinstance(value, bool):
            raise ResourceError(f"`{str(value)[:80]}` is not a bool")
        return value


class RawColor(Raw):
    KIND = "color"

    @classmethod
    def from_bare(cls, text: str) -> Any:
        return text

    @classmethod
    def check(cls, value: Any) -> Any:
        if not isinstance(value, str) or not _COLOR.match(value):
            raise ResourceError(f"`{str(value)[:80]}` is not a color like #ff8800")
        return value.lower()

    @classmethod
    def preview(cls, preview_object: PreviewObject) -> str:
        try:
            value = cls.parse(_text_of(preview_object))
        except ResourceError as exc:
            return f'<p class="preview-error">{html.escape(str(exc))}</p>'
        return (f'<span class="preview-color" style="display:inline-block;width:1em;height:1em;'
                f'background:{value}"></span> <code>{value}</code>')


class RawDict(Raw):
    KIND = "dict"

    @classmethod
    def check(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ResourceError(f"`{str(value)[:80]}` is not a JSON object")
        return value


class RawEnum(RawStr):
    """The chosen value of an enum, travelling as a string."""

    KIND = "enum"


class RawListStr(Raw):
    KIND = "list_str"

    @classmethod
    def check(cls, value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ResourceError(f"`{str(value)[:80]}` is not a JSON list of strings")
        return value


class RawListInt(Raw):
    KIND = "list_int"

    @classmethod
    def check(cls, value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ResourceError(f"`{str(value)[:80]}` is not a JSON list of ints")
        return value
