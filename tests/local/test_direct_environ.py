"""The direct transport's WSGI environ is the one werkzeug's EnvironBuilder makes for the same request."""
from __future__ import annotations

import sys
from typing import Any

import pytest
from moto.core.request import should_preserve_original_header_name
from werkzeug.test import EnvironBuilder

from infra.local import direct

SIGNED = ("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/s3/aws4_request, "
                           "SignedHeaders=host, Signature=0")
REQUESTS = [
    # DynamoDB: a JSON body, its target
    ("POST", "http://127.0.0.1:5010/", [("X-Amz-Target", "DynamoDB_20120810.UpdateItem"),
                                        ("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", "15"),
                                        SIGNED], b'{"TableName":1}'),
    # S3: a key with quoted characters and a query, metadata (an underscore moto keeps), no content type
    ("PUT", "http://localhost:5010/plynx-artifacts/resources/a%20b%2Fc%C3%A9?x-id=PutObject&tagging",
     [("x-amz-meta-file_name", "r\u00e9sum\u00e9.txt"), ("If-None-Match", "*"), ("Expect", "100-continue"), SIGNED],
     b"\x00\x01 bytes"),
    # a GET: no body, no content type; a header named twice; a Host header of its own
    ("GET", "http://127.0.0.1/plynx-artifacts?list-type=2&prefix=r%2F", [("X-Twice", "a"), ("x-twice", "b"),
                                                                        ("Host", "example.com"), SIGNED], b""),
    ("HEAD", "https://s3.amazonaws.com/bucket/key", [SIGNED], b""),
    ("PUT", "http://xn--bcher-kva.example:5010/b/k", [SIGNED], b"x"),
    # what goes through the builder itself: a host it rewrites (the port), an empty form body
    ("DELETE", "http://127.0.0.1:0080/bucket/key", [SIGNED, ("X_Dropped", "underscore")], b""),
    ("POST", "http://127.0.0.1:5010/", [("Content-Type", "application/x-www-form-urlencoded"), SIGNED], b""),
]


def _built(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """environ_for as it was: EnvironBuilder, then the same additions."""
    environ = dict(direct.environ_for(method, url, headers, body))
    parts = direct.urlsplit(url)
    kept = [(name, value) for name, value in headers if name.lower() not in direct._DROPPED
            and ("_" not in name or should_preserve_original_header_name(name))]
    reference = EnvironBuilder(method=method, base_url=f"{parts.scheme}://{parts.netloc}", path=parts.path or "/",
                               query_string=parts.query, headers=kept, data=body).get_environ()
    for key in ("RAW_URI", "REQUEST_URI", "REMOTE_ADDR", "REMOTE_PORT", "wsgi.multithread", direct.DIRECT,
                "moto.preserved_header_names"):
        if key in environ:
            reference[key] = environ[key]
    return reference


@pytest.mark.parametrize("method, url, headers, body", REQUESTS)
def test_the_environ_is_werkzeugs(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> None:
    ours = direct.environ_for(method, url, headers, body)
    theirs = _built(method, url, headers, body)
    assert ours["wsgi.input"].read() == theirs["wsgi.input"].read() == body
    assert ours["wsgi.errors"] is theirs["wsgi.errors"] is sys.stderr
    assert {k: v for k, v in ours.items() if k not in ("wsgi.input", "wsgi.errors")} == \
           {k: v for k, v in theirs.items() if k not in ("wsgi.input", "wsgi.errors")}


def test_an_empty_multipart_body_is_werkzeugs_own() -> None:
    environ = direct.environ_for("POST", "http://127.0.0.1:5010/", [("Content-Type", "multipart/form-data")], b"")
    assert environ["CONTENT_TYPE"].startswith('multipart/form-data; boundary="')  # the builder's: it encodes one
    assert environ["wsgi.input"].read().endswith(b"--\r\n")


def test_a_header_werkzeug_refuses_is_still_refused() -> None:
    with pytest.raises(ValueError, match="newline"):
        direct.environ_for("GET", "http://127.0.0.1:5010/b/k", [("X-Bad", "a\r\nX-Injected: 1")], b"")


def test_moto_keeps_the_metadata_names_as_sent() -> None:
    environ = direct.environ_for("PUT", "http://127.0.0.1:5010/b/k", [("x-amz-meta-File_Name", "v")], b"x")
    assert environ["HTTP_X_AMZ_META_FILE_NAME"] == "v"
    assert environ["moto.preserved_header_names"] == {"HTTP_X_AMZ_META_FILE_NAME": "x-amz-meta-File_Name"}
