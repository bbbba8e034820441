"""Artifacts are write-once content addresses, and what the runner hands an operation is what its id names.

On AWS the roles' policies and the artifacts bucket's policy refuse an S3 write under `resources/` that
could replace an object (no `If-None-Match: *`), and S3 answers 412 to a conditional write of an existing
key. The local stack emulates what it can of that (infra/local/patches.py, patch 7): the same 403 for an
unconditional PutObject, CompleteMultipartUpload or CopyObject there, and moto's own 412. It cannot
emulate per-role IAM: every local client holds the same credentials, so which role may touch which table
is checked on the template itself (tests/infra/test_runner_policy.py), not here.
"""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.helpers import by_title, graph, instance, log_id, operation

ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
COPY = "open(outputs['out'], 'wb').write(open(inputs['in'], 'rb').read())\n"


def _s3(stack: Any) -> Any:
    """A plain boto3 client of the local stack, not the project's code."""
    return boto3.client("s3", endpoint_url=stack.moto_url, region_name="us-east-1",  # with the stack's own key
                        aws_access_key_id=stack.credentials[0], aws_secret_access_key=stack.credentials[1])


def _stored(api: Any, content: bytes) -> str:
    return api.upload(content, "write once")["outputs"][0]["resource_id"]


def _code(exc: pytest.ExceptionInfo) -> tuple[str, int]:
    response = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_the_control_planes_put_path_never_replaces_a_content_id(api, stack) -> None:
    from chalicelib.store import aws, storage
    from chalicelib.store.settings import SETTINGS

    original = b"original " + secrets.token_bytes(8)
    resource_id = _stored(api, original)
    # the lowest writer the API and the runner share, aimed at an existing id with other bytes
    storage._put_object(resource_id, b"forged")
    with storage.tempfile.TemporaryFile() as big:  # and the multipart writer of big outputs
        big.write(b"f" * (storage.PART_BYTES + 1))
        big.flush()
        storage._write_once(lambda: storage._put_multipart(resource_id, big, storage.PART_BYTES + 1))
    stored = aws.client("s3").get_object(Bucket=SETTINGS.bucket, Key=storage.key(resource_id))["Body"].read()
    assert stored == original
    assert api.resource(resource_id) == original
    # S3 said 412 (the id exists), which the writer takes as "this content is stored": an upload of the
    # same content twice is still fine
    assert storage.put_bytes(original) == resource_id


def test_a_plain_put_object_cannot_replace_a_content_id_on_the_local_stack(api, stack) -> None:
    from chalicelib.store.settings import SETTINGS

    original = b"kept " + secrets.token_bytes(8)
    resource_id = _stored(api, original)
    key = f"resources/{resource_id}"
    s3 = _s3(stack)
    with pytest.raises(ClientError) as refused:  # as the roles' and the bucket's policies refuse it on AWS
        s3.put_object(Bucket=SETTINGS.bucket, Key=key, Body=b"forged")
    assert _code(refused) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exists:  # conditional: S3's own answer for an existing key
        s3.put_object(Bucket=SETTINGS.bucket, Key=key, Body=b"forged", IfNoneMatch="*")
    assert _code(exists) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as copied:
        s3.copy_object(Bucket=SETTINGS.bucket, Key=key, CopySource={"Bucket": SETTINGS.bucket,
                                                                     "Key": "resources/" + "0" * 64})
    assert _code(copied) == ("AccessDenied", 403)
    upload = s3.create_multipart_upload(Bucket=SETTINGS.bucket, Key=key)["UploadId"]  # parts are no write
    etag = s3.upload_part(Bucket=SETTINGS.bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"forged")["ETag"]
    parts = {"Parts": [{"ETag": etag, "PartNumber": 1}]}
    with pytest.raises(ClientError) as completed:
        s3.complete_multipart_upload(Bucket=SETTINGS.bucket, Key=key, UploadId=upload, MultipartUpload=parts)
    assert _code(completed) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as completed_once:
        s3.complete_multipart_upload(Bucket=SETTINGS.bucket, Key=key, UploadId=upload, MultipartUpload=parts,
                                     IfNoneMatch="*")
    assert _code(completed_once) == ("PreconditionFailed", 412)
    assert api.resource(resource_id) == original
    # a new id is created with the header, never without it
    fresh = "resources/" + hashlib.sha256(b"fresh " + secrets.token_bytes(8)).hexdigest()
    with pytest.raises(ClientError):
        s3.put_object(Bucket=SETTINGS.bucket, Key=fresh, Body=b"x")
    s3.put_object(Bucket=SETTINGS.bucket, Key=fresh, Body=b"x", IfNoneMatch="*")
    # what is not a content id (the API's search snapshots) is written as before
    s3.put_object(Bucket=SETTINGS.bucket, Key="search/probe", Body=b"1")
    s3.put_object(Bucket=SETTINGS.bucket, Key="search/probe", Body=b"2")


def _tamper(bucket: str, resource_id: str, data: bytes) -> None:
    """Replace an object inside moto, behind every API and policy (as an operator with the bucket's keys, or
    a restore from a bad backup, might): a whole new object, its own checksums consistent with its bytes."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    s3_backends[DEFAULT_ACCOUNT_ID]["global"].put_object(bucket, f"resources/{resource_id}", data)


def test_a_tampered_input_fails_the_operation_and_nothing_is_stored_under_a_wrong_id(api, stack) -> None:
    from chalicelib.store.settings import SETTINGS

    content = b"honest " + secrets.token_bytes(16)  # new content: no warm runner holds it in memory
    data = instance(api.upload(content, "tampered"))
    resource_id = data["outputs"][0]["resource_id"]
    _tamper(SETTINGS.bucket, resource_id, b"evil " + secrets.token_bytes(16))
    copy = instance(api.save_operation(operation("python", "copy", COPY, inputs=[ONE], outputs=["out"],
                                                 params={"salt": resource_id})), **{"in": [(data, "out")]})
    body = api.ok("post", "graphs", json={"graph": graph("tampered input", [data, copy]),
                                          "actions": ["SAVE", "APPROVE"]})
    ran = api.wait(body["graph"]["_id"])
    node = by_title(ran, "copy")
    assert ran["graph_running_status"] == "FAILED" and node["node_running_status"] == "FAILED"
    worker = api.resource(log_id(node, "worker")).decode()
    assert f"Resource `{resource_id}` is corrupt" in worker and "it was not used" in worker, worker
    assert "Running script" not in worker  # the operation never saw the bytes
    assert all(not output.get("resource_id") for output in node["outputs"])
    stored = [log["resource_id"] for log in node["logs"] if log.get("resource_id")]
    assert stored  # the worker log at least
    for resource_id in stored:  # what the run did store is named by the hash of its bytes
        assert hashlib.sha256(api.resource(resource_id)).hexdigest() == resource_id
