"""The local stack's SDK requests to moto without HTTP (infra/local/direct.py): a warm runner's worker sends them
over the stack's Unix socket, the stack's own code calls the front in-process; either way the same checks apply
and the same answers come back as over HTTP."""
from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from infra.local import patches
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(not patches.FAST, reason="PLYNX_LOCAL_FAST=0: every request goes over HTTP")

# A process of its own, as a warm runner's worker is: its requests go over the channel only.
WORKER = textwrap.dedent("""
    import hashlib, json, sys
    from infra.local import direct
    address, endpoint, key, secret, bucket = sys.argv[1:6]
    direct.install_client(address, endpoint)
    import boto3, botocore.config
    from botocore.exceptions import ClientError
    from botocore.httpsession import URLLib3Session

    sent = []
    original = URLLib3Session.send
    URLLib3Session.send = lambda self, request: (sent.append(request.url), original(self, request))[1]

    def client(service, secret=secret):
        return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                            aws_secret_access_key=secret, config=botocore.config.Config(retries={"max_attempts": 0}))

    s3, out = client("s3"), {}
    big = bytes(range(256)) * (3 * 4096 + 7)  # 3 MB and a bit: several frames each way
    s3.put_object(Bucket=bucket, Key="test-direct/big", Body=big, Metadata={"my_key": "underscored"})
    head = s3.head_object(Bucket=bucket, Key="test-direct/big")
    out["metadata"] = head["Metadata"]
    body = s3.get_object(Bucket=bucket, Key="test-direct/big")["Body"]
    pieces = []
    while True:
        piece = body.read(100_000)
        if not piece:
            break
        pieces.append(piece)
    out["same_bytes"] = hashlib.sha256(b"".join(pieces)).hexdigest() == hashlib.sha256(big).hexdigest()
    # a body closed half read: its connection is dropped, the next request works
    partial = s3.get_object(Bucket=bucket, Key="test-direct/big")["Body"]
    partial.read(10)
    partial.close()
    out["range"] = s3.get_object(Bucket=bucket, Key="test-direct/big", Range="bytes=256-259")["Body"].read().hex()
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="test-direct/")  # a query string, as signed
    out["listed"] = [item["Key"] for item in listed.get("Contents", [])]
    try:
        client("s3", secret="not-the-secret").get_object(Bucket=bucket, Key="test-direct/big")
        out["forged"] = "answered"
    except ClientError as exc:
        out["forged"] = exc.response["Error"]["Code"]
    out["tables"] = len(client("dynamodb").list_tables()["TableNames"]) > 0
    out["sent"] = sent
    print(json.dumps(out))
""")


def test_a_workers_requests_get_the_same_answers_and_checks_without_http(stack: Any) -> None:
    from chalicelib.store.settings import SETTINGS

    address = stack.lambda_front._warm_runner.direct_address
    assert stat.S_IMODE(os.stat(address).st_mode) == 0o600  # the stack's user's alone
    endpoint = os.environ["PLYNX_AWS_ENDPOINT"]
    done = subprocess.run([sys.executable, "-c", WORKER, address, endpoint, *stack.credentials, SETTINGS.bucket],
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["metadata"] == {"my_key": "underscored"}  # moto's rule for underscored metadata, as over HTTP
    assert out["same_bytes"] is True
    assert out["range"] == "00010203"
    assert out["listed"] == ["test-direct/big"]
    assert out["forged"] == "SignatureDoesNotMatch"  # the front checks the signature as it does over HTTP
    assert out["tables"] is True
    assert out["sent"] and all(url.startswith(endpoint) for url in out["sent"])


def test_the_stacks_own_requests_are_served_in_process(stack: Any) -> None:
    """The stack's clients never open a connection to moto's port: the front answers on the caller's thread."""
    import threading

    from chalicelib.store import aws

    threads: list[str] = []
    front = stack.lambda_front
    original = front._serve

    def serve(environ: dict, start_response: Any) -> Any:
        threads.append(threading.current_thread().name)
        return original(environ, start_response)

    front._serve = serve
    try:
        aws.client("dynamodb").list_tables()
    finally:
        del front._serve
    assert threads == [threading.current_thread().name]


def test_a_request_served_within_another_keeps_the_outer_requests_journal_marks(stack: Any) -> None:
    """In-process, a request the front serves inside another one runs on the same thread: each has its own marks
    of what it changed (infra/local/journal.py), and the outer request's are its own again after the inner one."""
    from infra.local import journal as journal_module

    journal, read = stack.journal, {"REQUEST_METHOD": "GET"}
    outer = journal.begin_request()
    inner = journal.begin_request()
    journal_module.touched(("inner",))
    assert inner == {("inner",): None} and outer == {}
    inner.clear()  # nothing to commit: this test does not write the journal
    journal.finish_request(inner, read, "200 OK")
    journal_module.touched(("outer",))
    assert outer == {("outer",): None}
    outer.clear()
    journal.finish_request(outer, read, "200 OK")
    journal_module.touched(("after",))  # outside any request: noted nowhere
    assert outer == {} and inner == {}


def test_a_frame_longer_than_a_chunk_ends_its_connection_and_nothing_else(stack: Any) -> None:
    """The channel reads no frame longer than a body chunk (whoever sends one is no warm runner): its connection
    ends before the stack buffers it; the next connection is served."""
    import socket
    from multiprocessing.connection import Connection

    from infra.local import direct

    address = stack.lambda_front._warm_runner.direct_address
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(address)
    with Connection(sock.detach()) as connection, pytest.raises((EOFError, OSError)):
        connection.send_bytes(b"{" + b" " * direct.CHUNK_BYTES + b"}")  # refused at its length: a broken pipe,
        connection.recv_bytes()  # or the end of the connection
    text = list(direct._request_body(io.StringIO("\u00e9" * direct.CHUNK_BYTES)))  # 2 MB once encoded
    assert sum(map(len, text)) == 2 * direct.CHUNK_BYTES and max(map(len, text)) <= direct.CHUNK_BYTES
    test_a_workers_requests_get_the_same_answers_and_checks_without_http(stack)
