"""A request of the direct transport gets from moto, without Flask's request cycle, what Flask's route gives it."""
from __future__ import annotations

import json
import re
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.test import run_wsgi_app

from infra.local import direct
from infra.local.moto_dispatch import DIRECT, Dispatcher

S3 = "http://s3.amazonaws.com"
DDB = "http://dynamodb.us-east-1.amazonaws.com/"
VARYING = {"date", "x-amz-request-id", "x-amzn-requestid", "x-amz-id-2", "last-modified", "x-amz-crc32",
           "access-control-allow-origin"}


def _call(app: Any, method: str, url: str, body: bytes = b"", headers: dict | None = None,
          through_flask: bool = False) -> tuple[str, dict, bytes]:
    service = "s3" if url.startswith(S3) else "dynamodb"
    signed = {"Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/{service}/aws4_request, "
                               "SignedHeaders=host, Signature=0", **(headers or {})}  # (moto checks no signature)
    environ = direct.environ_for(method, url, list(signed.items()), body)
    if through_flask:
        del environ[DIRECT]  # as over HTTP
    chunks, status, answer = run_wsgi_app(app, environ)
    data = re.sub(rb"<RequestId>[^<]*</RequestId>", b"", b"".join(chunks))  # random per request
    getattr(chunks, "close", lambda: None)()
    kept = {name.lower(): value for name, value in answer.items() if name.lower() not in VARYING}
    return status, kept, data


def test_direct_requests_answer_as_flasks_routes_do(monkeypatch) -> None:
    monkeypatch.setenv("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    app = Dispatcher(DomainDispatcherApplication(create_backend_app))
    import flask

    flask_calls: list[str] = []
    wsgi_app = flask.Flask.wsgi_app
    monkeypatch.setattr(flask.Flask, "wsgi_app", lambda self, environ, start: (
        flask_calls.append(environ["PATH_INFO"]), wsgi_app(self, environ, start))[1])
    requests = [
        ("PUT", S3 + "/dispatch-bucket", b"", {}),
        ("PUT", S3 + "/dispatch-bucket/a/key", b"hello", {"Content-Type": "text/plain"}),
        ("HEAD", S3 + "/dispatch-bucket/a/key", b"", {}),
        ("GET", S3 + "/dispatch-bucket/a/key", b"", {"Range": "bytes=1-3"}),
        ("GET", S3 + "/dispatch-bucket/missing", b"", {}),  # NoSuchKey, moto's XML error
        ("GET", S3 + "/dispatch-bucket?list-type=2&prefix=a/", b"", {}),
        ("POST", DDB, json.dumps({"TableName": "nope", "Key": {"k": {"S": "v"}}}).encode(),
         {"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0"}),
        ("POST", DDB, b"{}", {"X-Amz-Target": "DynamoDB_20120810.ListTables",
                              "Content-Type": "application/x-amz-json-1.0"}),
    ]
    for method, url, body, headers in requests:
        if method == "PUT" and body:  # each way a key of its own (a key is written once: a second PUT is refused)
            fast = _call(app, method, url, body, headers)
            slow = _call(app, method, url + "-again", body, headers, through_flask=True)
        else:
            slow = _call(app, method, url, body, headers, through_flask=True)
            fast = _call(app, method, url, body, headers)
        assert fast == slow, (method, url)
    assert _call(app, "GET", S3 + "/dispatch-bucket/a/key")[2] == b"hello"
    assert _call(app, "GET", S3 + "/dispatch-bucket/missing")[0].startswith("404")
    assert len(flask_calls) == len(requests)  # the HTTP ones alone went through Flask
