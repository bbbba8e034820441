"""Runs inside a fresh virtualenv next to an unzipped deployment package: what Lambda would do with it.

Reads one JSON command on stdin and writes one JSON answer on stdout; imports nothing but the
standard library and the package (the test checks that moto and pytest are not importable):

    {"kind": "probe", "modules": [...]}               which modules import, and where from
    {"kind": "api", "requests": [{method, path, headers, body_b64}]}
                                                      API Gateway proxy events through app.app
    {"kind": "invoke", "handler": "mod.attr", "event": {...}}
                                                      a Lambda invocation of any handler
"""
from __future__ import annotations

import base64
import importlib
import json
import os
import re
import sys
import uuid
from typing import Any


class Context:
    """The bits of Lambda's context object the handlers read."""

    function_name = "plynx-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:plynx-test"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


def _handler(path: str) -> Any:
    module, attr = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), attr)


def _route(app: Any, method: str, path: str) -> tuple[str, dict[str, str]]:
    """API Gateway's matching: the route template and its path parameters."""
    for template in app.routes:
        pattern = "^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        match = re.match(pattern, path)
        if match and method in app.routes[template]:
            return template, match.groupdict()
    raise LookupError(f"no route for {method} {path}")


def _proxy_event(app: Any, request: dict) -> dict:
    path, _, query = request["path"].partition("?")
    template, parameters = _route(app, request["method"], path)
    params = dict(part.split("=", 1) for part in query.split("&") if "=" in part) or None
    headers = {k.lower(): v for k, v in request.get("headers", {}).items()}
    return {
        "resource": template,
        "path": path,
        "httpMethod": request["method"],
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": params,
        "multiValueQueryStringParameters": {k: [v] for k, v in params.items()} if params else None,
        "pathParameters": parameters or None,
        "stageVariables": None,
        "requestContext": {"resourcePath": template, "httpMethod": request["method"], "stage": "api",
                           "path": "/api" + path, "requestId": str(uuid.uuid4()),
                           "identity": {"sourceIp": "127.0.0.1"}},
        "body": request.get("body_b64"),
        "isBase64Encoded": request.get("body_b64") is not None,
    }


def main() -> None:
    # Lambda's bootstrap puts the function's code first on the path (PYTHONPATH is the runtime's own).
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    command = json.load(sys.stdin)
    if command["kind"] == "probe":
        found = {}
        for name in command["modules"]:
            try:
                found[name] = getattr(importlib.import_module(name), "__file__", None) or "namespace"
            except ImportError:
                found[name] = None
        answer: Any = found
    elif command["kind"] == "api":
        app = importlib.import_module("app").app
        answer = []
        for request in command["requests"]:
            response = app(_proxy_event(app, request), Context())
            body = response.get("body") or ""
            raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
            answer.append({"status": response["statusCode"], "headers": response.get("headers", {}),
                           "body_b64": base64.b64encode(raw).decode("ascii"),
                           "base64": bool(response.get("isBase64Encoded"))})
    elif command["kind"] == "invoke":
        answer = _handler(command["handler"])(command["event"], Context())
    else:
        raise ValueError(command["kind"])
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
