"""Resource kinds offered to clients (the seed's resources_dict) and resource downloads."""
from __future__ import annotations

from . import aws, storage
from .settings import SETTINGS

RESOURCES_DICT = {
    kind: {"kind": kind, "title": title, "icon": icon, "color": color, "is_array": False}
    for kind, title, icon, color in (
        ("file", "File", "feathericons.file", "#fff"),
        ("csv", "CSV file", "plynx.csv", "#fff"),
        ("tsv", "TSV file", "plynx.tsv", "#fff"),
        ("json", "JSON file", "plynx.json", "#fff"),
        ("image", "Image", "plynx.image", "#fff"),
        ("pdf", "PDF file", "plynx.pdf", "#fff"),
        ("directory", "Directory", "feathericons.folder", "#fff"),
        ("executable", "Executable", "feathericons.terminal", "#fff"),
    )
}
DIRECT_LIMIT = 5 * 1024 * 1024  # under API Gateway's 10 MB and Lambda's 6 MB response limits
PREVIEW_BYTES = 64 * 1024


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
