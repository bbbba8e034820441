"""Direct-to-S3 uploads: a multipart upload into a staging key, then a content id the server computed.

The client sends the bytes to S3 with presigned part URLs (the API never carries them) under
`uploads/<user>/<random>`; the user is part of the key, so only the caller who created an upload can
name it again. On completion the control plane reads the staged object back, hashes it (in ranges,
memory bounded by a few parts), copies it server-side to `resources/<sha256>` (UploadPartCopy, a
conditional completion: write-once as every resource) and deletes the staging object. A client's
own claim of what the bytes hash to is never asked for.
"""
from __future__ import annotations

import hashlib
import io
import secrets
from typing import IO, Any, Iterator
from urllib.parse import quote

from botocore.exceptions import ClientError

from . import aws, storage
from .settings import SETTINGS

STAGING = "uploads/"
MIN_PART_BYTES = 8 * 1024 * 1024  # S3's minimum part is 5 MiB (all but the last)
MAX_PART_BYTES = 5 * 1024 ** 3  # S3's maximum part (and UploadPartCopy range) is 5 GiB
MAX_PARTS = 10_000  # S3's limit on parts per upload
MAX_BYTES = 5 * 1024 ** 4  # S3's maximum object size, 5 TiB
URL_SECONDS = 6 * 3600  # a part URL's life; more are handed out on request (`presign_parts`)
COPY_PART_BYTES = 1024 ** 3  # UploadPartCopy ranges for the copy to resources/ (S3: at most 5 GiB)


class UploadError(Exception):
    """S3 refused a step of an upload (a bad part list, an upload that is gone); the message says why."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def user_prefix(user: str) -> str:
    """The staging prefix of one user's uploads (the name quoted: no `/` can reach another's prefix)."""
    return f"{STAGING}{quote(str(user), safe='')}/"


def new_key(user: str) -> str:
    return f"{user_prefix(user)}{secrets.token_hex(16)}"


def part_bytes(size: int) -> int:
    """The part size for an object of `size` bytes: 8 MiB, more when 10,000 parts would not hold it."""
    return max(MIN_PART_BYTES, -(-size // MAX_PARTS))


def part_count(size: int) -> int:
    return max(1, -(-size // part_bytes(size)))


def create(key: str) -> str:
    """Start the multipart upload of a staging key; S3's upload id."""
    return aws.client("s3").create_multipart_upload(Bucket=SETTINGS.bucket, Key=key)["UploadId"]


def presign_parts(key: str, upload_id: str, numbers: list[int]) -> list[dict]:
    """Presigned PUT URLs of these parts (signing is local: no request to S3)."""
    s3 = aws.client("s3")
    return [{"part_number": number,
             "url": s3.generate_presigned_url("upload_part", ExpiresIn=URL_SECONDS, Params={
                 "Bucket": SETTINGS.bucket, "Key": key, "UploadId": upload_id, "PartNumber": number})}
            for number in numbers]


def _refused(exc: ClientError) -> UploadError:
    code = exc.response.get("Error", {}).get("Code", "")
    message = exc.response.get("Error", {}).get("Message", "") or code
    if code == "NoSuchUpload":
        return UploadError("The upload was not found (completed, aborted, expired, or not yours)", missing=True)
    return UploadError(f"S3 refused the upload: {code}: {message}")


def _gone(exc: ClientError) -> Exception:
    """The staged object is gone or not the version hashed (another request completed or aborted it)."""
    code, status = storage._status(exc)  # noqa: SLF001 - the one reading of S3's error codes
    if code in ("NoSuchKey", "404", "NotFound", "PreconditionFailed") or status in (404, 412):
        return UploadError("The staged upload was completed or aborted by another request", missing=True)
    return exc


def finish_staging(key: str, upload_id: str, parts: list[dict]) -> None:
    """Complete the staged multipart upload with the client's part list (S3 checks every ETag)."""
    try:
        aws.client("s3").complete_multipart_upload(
            Bucket=SETTINGS.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    except ClientError as exc:
        raise _refused(exc) from exc


def abort(key: str, upload_id: str) -> None:
    try:
        aws.client("s3").abort_multipart_upload(Bucket=SETTINGS.bucket, Key=key, UploadId=upload_id)
    except ClientError as exc:
        raise _refused(exc) from exc


def _ranges(size: int, step: int) -> Iterator[tuple[int, int]]:
    for start in range(0, size, step):
        yield start, min(start + step, size) - 1


def digest(key: str) -> tuple[str, int, str]:
    """(sha256, size, ETag) of a staged object, hashed as it streams in (memory: one 1 MB chunk).

    One GET, with If-Match on the ETag HEAD saw, so the bytes hashed are that version's. (Ranged GETs in
    parallel would be faster on S3, but moto reads the whole object for every range.)
    """
    s3, bucket = aws.client("s3"), SETTINGS.bucket
    try:
        etag = s3.head_object(Bucket=bucket, Key=key)["ETag"]
        body = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"]
    except ClientError as exc:
        raise _gone(exc) from exc
    sha, size = hashlib.sha256(), 0
    try:
        for chunk in storage.iter_chunks(body):
            sha.update(chunk)
            size += len(chunk)
    finally:
        body.close()
    return sha.hexdigest(), size, etag


def open_staged(key: str, size: int) -> IO[bytes]:
    """A seekable reader of a staged object (type checks read a zip's directory, not the whole object)."""
    s3, bucket = aws.client("s3"), SETTINGS.bucket

    class _Ranges(io.RawIOBase):
        pos = 0

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return True

        def tell(self) -> int:
            return self.pos

        def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
            self.pos = max(0, {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: size}[whence] + offset)
            return self.pos

        def readinto(self, buffer: Any) -> int:
            if self.pos >= size or not len(buffer):
                return 0
            end = min(self.pos + len(buffer), size) - 1
            body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={self.pos}-{end}")["Body"].read()
            buffer[:len(body)] = body
            self.pos += len(body)
            return len(body)

    return io.BufferedReader(_Ranges(), buffer_size=1024 * 1024)


def promote(key: str, etag: str, size: int, resource_id: str) -> None:
    """Copy a staged object to `resources/<resource_id>` server-side, write-once, then delete the staging key.

    A multipart upload of UploadPartCopy ranges (CopyObject is refused on resources/; a single copy is
    limited to 5 GB anyway), each copied only if the source still has the ETag that was hashed; only the
    completion creates the object, with If-None-Match: "*" (a 412: the content is stored already).
    """
    if size == 0:  # no range to copy: the empty content is one conditional PutObject
        storage.put_bytes(b"")
        delete(key)
        return

    def copy_parts(s3: Any, bucket: str, target: str, upload_id: str) -> list[dict]:
        parts = []
        for number, (start, end) in enumerate(_ranges(size, COPY_PART_BYTES), 1):
            try:
                result = s3.upload_part_copy(
                    Bucket=bucket, Key=target, UploadId=upload_id, PartNumber=number,
                    CopySource={"Bucket": bucket, "Key": key}, CopySourceIfMatch=etag,
                    CopySourceRange=f"bytes={start}-{end}")
            except ClientError as exc:  # a 412 here is the source's, not "the content id exists"
                raise _gone(exc) from exc
            parts.append({"PartNumber": number, "ETag": result["CopyPartResult"]["ETag"]})
        return parts

    storage.put_parts_once(resource_id, copy_parts)
    delete(key)


def delete(key: str) -> None:
    aws.client("s3").delete_object(Bucket=SETTINGS.bucket, Key=key)
