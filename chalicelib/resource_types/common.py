"""The seed's common resource types: file, pdf, image, csv, tsv, json, executable, directory."""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import stat
import warnings
import zipfile
from typing import IO

from chalicelib.domain import config

from .base import BaseResource, PreviewObject, ResourceError, binary_preview, decode_text, human_size, size_note
from .ziputil import ZipLimits, check_archive, directory_size, safe_extract, zip_directory


class File(BaseResource):
    """A plain file: downloaded as is, previewed as text."""


class PDF(BaseResource):
    """A PDF, embedded in the preview when small enough to inline."""

    EMBED_BYTES = 5 * 1024 * 1024

    @classmethod
    def preview(cls, preview_object: PreviewObject) -> str:
        if not preview_object.head.startswith(b"%PDF-"):
            return binary_preview(preview_object, "Not a PDF file") if decode_text(
                preview_object.head, preview_object.truncated) is None else (
                f'<p class="preview-error">Not a PDF file (no %PDF- header), {human_size(preview_object.size)}.</p>'
                + super().preview(preview_object))
        if preview_object.size > cls.EMBED_BYTES:
            return (f'<p>PDF, {human_size(preview_object.size)}: too large to embed; '
                    f'<a href="{html.escape(preview_object.url)}">download it</a>.</p>')
        data = base64.b64encode(preview_object.read_upto(cls.EMBED_BYTES)).decode()
        return (f'<embed src="data:application/pdf;base64,{data}" type="application/pdf" width="100%" '
                f'height="600px" title="preview"/><p class="preview-note">PDF, {human_size(preview_object.size)}.</p>')


class Image(BaseResource):
    """An image: previewed inline as a thumbnail (a data: URL, so no second authenticated request)."""

    DISPLAY_THUMBNAIL = True
    THUMBNAIL_SIZE = (256, 256)
    MAX_PIXELS = 50_000_000  # decompression-bomb guard: Pillow refuses bigger images

    @classmethod
    def preview(cls, preview_object: PreviewObject) -> str:
        try:
            thumbnail, (width, height), fmt = cls._thumbnail(preview_object)
        except ResourceError as exc:
            return f'<p class="preview-error">{html.escape(str(exc))}</p>'
        return (f'<img src="{thumbnail}" alt="preview" class="preview-thumbnail"/>'
                f'<p class="preview-note">{html.escape(fmt)} image, {width}×{height}, '
                f"{human_size(preview_object.size)}.</p>")

    @classmethod
    def thumbnail(cls, preview_object: PreviewObject) -> str | None:
        try:
            return cls._thumbnail(preview_object)[0]
        except ResourceError:
            return None

    @classmethod
    def _thumbnail(cls, preview_object: PreviewObject) -> tuple[str, tuple[int, int], str]:
        from PIL import Image as PILImage  # Pillow is heavy to import; only image previews need it

        limit = config.limit("thumbnail_source_bytes")
        if preview_object.size > limit:
            raise ResourceError(f"Image of {human_size(preview_object.size)}: too large for a thumbnail "
                                f"(limit {human_size(limit)}).")
        PILImage.MAX_IMAGE_PIXELS = cls.MAX_PIXELS
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", PILImage.DecompressionBombWarning)
                with PILImage.open(io.BytesIO(preview_object.read_upto(limit))) as image:
                    fmt, size = image.format or "unknown", image.size
                    image.draft("RGB", cls.THUMBNAIL_SIZE)  # JPEG decodes at reduced scale
                    image.thumbnail(cls.THUMBNAIL_SIZE)
                    out = io.BytesIO()
                    image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(out, "PNG")
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
            raise ResourceError(f"Image too large to decode safely: {exc}") from exc
        except (OSError, ValueError, SyntaxError) as exc:  # PIL.UnidentifiedImageError is an OSError
            raise ResourceError(f"Not an image this platform can read ({human_size(preview_object.size)}): "
                                f"{exc}") from exc
        return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode(), size, fmt


class _BaseSeparated(BaseResource):
    """Delimiter-separated values, previewed as an HTML table of the first rows."""

    SEPARATOR = ","
    NAME = "CSV"
    _ROW_CLASSES = ("even", "odd")

    @classmethod
    def preview(cls, preview_object: PreviewObject) -> str:
        text = decode_text(preview_object.head, preview_object.truncated)
        if text is None:
            return binary_preview(preview_object, f"Not a {cls.NAME} file")
        if preview_object.truncated and "\n" in text:
            text = text[: text.rindex("\n") + 1]  # the last line is cut: leave it out
        max_rows = config.limit("preview_rows")
        rows: list[list[str]] = []
        try:
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=cls.SEPARATOR, strict=True):
                rows.append(row)
                if len(rows) >= max_rows:
                    break
        except csv.Error as exc:
            return (f'<p class="preview-error">Not a valid {cls.NAME} file: {html.escape(str(exc))} '
                    f"(row {len(rows) + 1}).</p>" + super().preview(preview_object))
        widths = {len(row) for row in rows if row}
        warning = ""
        if len(widths) > 1:
            warning = (f'<p class="preview-warning">Rows have between {min(widths)} and {max(widths)} columns; '
                       f"this may not be a {cls.NAME} file.</p>")
        body = "\n".join(
            '<tr class="preview-table-row-{}">{}</tr>'.format(
                cls._ROW_CLASSES[i % 2],
                "".join(f'<td class="preview-table-col">{html.escape(cell)}</td>' for cell in row),
            )
            for i, row in enumerate(rows)
        )
        shown = f"first {len(rows)} rows" if len(rows) >= max_rows or preview_object.truncated else f"{len(rows)} rows"
        return (f'{warning}<table class="preview-table">{body}</table>'
                f'<p class="preview-note">{cls.NAME}: {shown}, {human_size(preview_object.size)}.</p>')


class CSV(_BaseSeparated):
    SEPARATOR = ","
    NAME = "CSV"


class TSV(_BaseSeparated):
    SEPARATOR = "\t"
    NAME = "TSV"


class Json(BaseResource):
    """JSON, pretty-printed when it fits the preview budget."""

    PRETTY_BYTES = 1024 * 1024

    @classmethod
    def preview(cls, preview_object: PreviewObject) -> str:
        if preview_object.size > cls.PRETTY_BYTES:
            return ('<p class="preview-note">JSON too large to pretty-print; its beginning:</p>'
                    + super().preview(preview_object))
        data = preview_object.read_upto(cls.PRETTY_BYTES)
        text = decode_text(data, False)
        if text is None:
            return binary_preview(preview_object, "Not a JSON file")
        try:
            value = json.loads(text)
        except ValueError as exc:
            return (f'<p class="preview-error">Not valid JSON: {html.escape(str(exc))}</p>'
                    + super().preview(preview_object))
        pretty = json.dumps(value, indent=2, ensure_ascii=False)
        return f"<pre>{html.escape(pretty)}</pre>{size_note(preview_object, len(data))}"


class Executable(BaseResource):
    """A program: `chmod +x` before the operation runs."""

    @staticmethod
    def prepare_input(filename: str, preview: bool = False) -> str:
        if not preview:
            os.chmod(filename, os.stat(filename).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return filename


class Directory(BaseResource):
    """A directory, stored as a zip: unzipped (safely) before the operation, zipped after it."""

    MAX_LISTING_BYTES = 8 * 1024 * 1024  # a preview reads the zip's central directory, no more

    @staticmethod
    def prepare_input(filename: str, preview: bool = False) -> str:
        if preview:
            return filename
        archive = f"{filename}.zip"
        os.rename(filename, archive)
        os.mkdir(filename)
        safe_extract(archive, filename, ZipLimits.from_config())
        os.remove(archive)
        return filename

    @staticmethod
    def prepare_output(filename: str, preview: bool = False) -> str:
        if not preview:
            os.mkdir(filename)
        return filename

    @classmethod
    def check_upload(cls, data: bytes) -> None:
        check_archive(io.BytesIO(data), ZipLimits.from_config())

    @classmethod
    def check_upload_stream(cls, stream: IO[bytes]) -> None:
        """A big upload's archive, checked from its directory through a seekable reader."""
        check_archive(stream, ZipLimits.from_config())

    @staticmethod
    def postprocess_output(filename: str) -> str:
        if not os.path.isdir(filename):
            raise ResourceError(f"`{os.path.basename(filename)}` should be a directory")
        archive = f"{filename}.zip"
        zip_directory(filename, archive)
        return archive

    @classmethod
    def preview(cls, preview_object: PreviewObject) -> str:
        max_entries = config.limit("preview_rows")
        try:
            with preview_object.open_seekable() as stream:
                declared = directory_size(stream, preview_object.size)
                if declared is not None and declared[1] > cls.MAX_LISTING_BYTES:
                    return (f'<p class="preview-error">Directory archive of {declared[0]} entries: too many to '
                            f"list ({human_size(declared[1])} of names); {human_size(preview_object.size)}.</p>")
                stream.seek(0)
                with zipfile.ZipFile(stream) as archive:
                    infos = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            return (f'<p class="preview-error">Not a directory archive (zip): {html.escape(str(exc))}; '
                    f"{human_size(preview_object.size)}.</p>")
        lines = [f"{info.filename}{'' if info.is_dir() else '  (' + human_size(info.file_size) + ')'}"
                 for info in infos[:max_entries]]
        more = f", showing the first {max_entries}" if len(infos) > max_entries else ""
        total = sum(info.file_size for info in infos)
        return (f"<pre>{html.escape(chr(10).join(lines))}</pre>"
                f'<p class="preview-note">Directory: {len(infos)} entries{more}, {human_size(total)} unpacked, '
                f"{human_size(preview_object.size)} zipped.</p>")
