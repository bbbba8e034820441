"""The WSGI front of the embedded moto server: Lambda Invoke is served in-process, the rest goes to moto.

moto's Step Functions interpreter calls Lambda with boto3 at ``http://localhost:$MOTO_PORT``. Instead of
moto's Lambda (which needs Docker and ``create_function``), this front runs the project's runner
handler itself: on warm runner processes (infra/local/warm_runner.py), or on warm threads of this
process for a handler given in code (tests). A Parallel state's branches run concurrently.

Functions other than the runner (``functions``: the notifier, and the run preparation of the control plane,
chalicelib/engine/preparation.py) are served on threads of this process, never by the runner's process.
An ``Event`` invocation (InvocationType=Event) is answered 202 at once and runs on a thread of its own.

A raised exception is reported the way Lambda reports it (200, ``X-Amz-Function-Error: Unhandled``,
``{"errorMessage", "errorType", "stackTrace"}``) so that Retry/Catch match on ``errorType``.
"""
from __future__ import annotations

import collections
import concurrent.futures
import io
import json
import logging
import os
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from botocore.response import StreamingBody
from werkzeug.datastructures import EnvironHeaders

from . import auth, breakdown

LOG = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]
WSGIApp = Callable[[dict, Callable], Iterable[bytes]]

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")

# DynamoDB operations that change nothing; every other request to moto counts as a possible change.
_READ_ONLY_TARGETS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "ListTables",
        "DescribeTimeToLive",
        "DescribeContinuousBackups",
        "ListTagsOfResource",
        "DescribeEndpoints",
    }
)

DEFAULT_TIMEOUT_SECONDS = 900
# Lambda runs each invocation on its own machine; here they share a laptop. A Parallel of thousands of
# branches must not start thousands of operations at once: invocations beyond this many queue (as
# Lambda queues beyond its account concurrency). They run on warm worker threads, as Lambda reuses
# warm containers: per-thread SDK sessions and connections are built once, not per invocation.
DEFAULT_CONCURRENCY = int(os.environ.get("PLYNX_LOCAL_CONCURRENCY", "16"))


class LambdaContext:
    """The parts of the Lambda context object a handler usually reads."""

    def __init__(self, function_name: str, invoked_function_arn: str, timeout_seconds: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def parse_function_name(raw: str) -> tuple[str, str]:
    """Return (function name, invoked ARN) for a plain name, ``name:qualifier``, or a full/partial ARN."""
    name = unquote(raw)
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    account = os.environ.get("PLYNX_ACCOUNT_ID", "123456789012")
    if name.startswith("arn:"):
        # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        parts = name.split(":")
        function = parts[6] if len(parts) > 6 else parts[-1]
        return function, name
    parts = name.split(":")
    if len(parts) >= 3 and parts[1] == "function":
        # ACCOUNT:function:NAME[:QUALIFIER]
        return parts[2], f"arn:aws:lambda:{region}:{name}"
    function = parts[0]
    return function, f"arn:aws:lambda:{region}:{account}:function:{name}"


def error_payload(exc: BaseException, skip: str = __file__) -> dict:
    """Lambda's body for an unhandled exception (Python runtime format: the handler's frames only)."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code.co_filename == skip:
        tb = tb.tb_next
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(tb)),
    }


class LambdaFront:
    """WSGI app: ``POST /2015-03-31/functions/<name>/invocations`` runs the handler, the rest goes to moto."""

    def __init__(
        self,
        moto_app: WSGIApp,
        handler_getter: Callable[[], Handler] | None,
        timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
        warm_runner: Any = None,
        authenticate: bool = False,
    ) -> None:
        self._moto_app = moto_app
        # Signed requests only: every request to moto carries a signature by a key of moto's IAM (auth.py).
        self.authenticate = authenticate
        self._handler_getter = handler_getter
        # The runner's own warm process (infra/local/warm_runner.py); else handler_getter's in this process.
        self._warm_runner = warm_runner
        self.timeout_seconds = timeout_seconds
        self._workers = concurrent.futures.ThreadPoolExecutor(max(1, DEFAULT_CONCURRENCY),
                                                              thread_name_prefix="lambda-warm")
        # Invocations served, by the event's `action` (tests and benchmarks count runner calls).
        self.invocations: collections.Counter[str] = collections.Counter()
        # Bumped *after* each request that may have changed moto's state has been applied; the
        # snapshotter compares it with the value it read before its last save.
        self.changes = 0
        # The stack's write-ahead journal (journal.py), when its state persists.
        self.journal: Any = None
        # Where a run's time goes (breakdown.py), when asked for: moto's requests, invocations, the runner's.
        self.tally: breakdown.Tally | None = breakdown.Tally() if breakdown.enabled() else None
        if self.tally is not None and warm_runner is not None:
            warm_runner.tally = self.tally
        # Functions other than the runner, by name, served on threads of this process (the notifier).
        self.functions: dict[str, Callable[[], Handler]] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if self.tally is None:
            return self._serve(environ, start_response)
        start = time.perf_counter()
        try:
            return self._serve(environ, start_response)
        finally:
            if not _INVOKE_PATH.match(environ.get("PATH_INFO", "")):  # invocations: timed by action in _run
                self.tally.add(f"moto {breakdown.request_kind(environ)}", time.perf_counter() - start)

    def _serve(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        match = _INVOKE_PATH.match(path)
        if self.authenticate:
            try:
                self._check(environ, path, bool(match))
            except auth.Refused as refused:
                return _refuse(start_response, refused, json_protocol=bool(match) or "HTTP_X_AMZ_TARGET" in environ)
        if match and environ.get("REQUEST_METHOD") == "POST":
            try:
                return self._invoke(match.group("name"), environ, start_response)
            finally:
                self.changes += 1
        read_only = self._is_read_only(environ)
        journal = self.journal
        if read_only or journal is None:
            result = self._moto_app(environ, start_response)
            if not read_only:
                self.changes += 1
            return result
        # A possible change: what it changed is on disk (journal.py) before the answer leaves.
        marks = journal.begin_request()
        statuses: list[str] = []

        def recording_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            return self._moto_app(environ, recording_start_response)
        finally:
            self.changes += 1
            journal.finish_request(marks, environ, statuses[-1] if statuses else None)

    @staticmethod
    def _check(environ: dict, path: str, invoke: bool) -> None:
        """Refuse what is not signed with a key of moto's IAM (infra/local/auth.py)."""
        if path.startswith("/moto-api"):  # state dump, reset: not for anyone on the network
            raise auth.Refused("AccessDenied", "moto's own API is closed on the local stack")
        method = environ.get("REQUEST_METHOD", "GET")
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or path
        raw_path, _, query = raw.partition("?")
        headers = EnvironHeaders(environ)
        if "Authorization" not in headers:
            # A CORS preflight carries no credentials (a presigned URL's signature is for its PUT or GET);
            # moto answers it from the bucket's CORS rules and changes nothing.
            if method == "OPTIONS" and not invoke:
                return
            if "X-Amz-Signature=" in query:
                auth.check_presigned(method, raw_path, query, headers)
                return
        auth.check_signed(method, raw_path, query, headers, lambda: _buffer_body(environ))

    @staticmethod
    def _is_read_only(environ: dict) -> bool:
        target = environ.get("HTTP_X_AMZ_TARGET") or ""
        if target.startswith("DynamoDB_"):
            return target.rsplit(".", 1)[-1] in _READ_ONLY_TARGETS
        # S3 reads (and moto's own GET endpoints); Step Functions, IAM and STS always POST.
        return not target and environ.get("REQUEST_METHOD") in ("GET", "HEAD")

    # -- Lambda Invoke --------------------------------------------------------------------------

    def _invoke(self, raw_name: str, environ: dict, start_response: Callable) -> Iterable[bytes]:
        function_name, function_arn = parse_function_name(raw_name)
        body = _read_body(environ)
        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        try:
            event = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _respond(
                start_response,
                "400 Bad Request",
                {"Type": "User", "message": f"Could not parse request body into json: {exc}"},
                {"x-amzn-ErrorType": "InvalidRequestContentException"},
            )
        if invocation_type == "DryRun":
            return _respond(start_response, "204 No Content", None, {})
        context = LambdaContext(function_name, function_arn, self.timeout_seconds)
        if invocation_type == "Event":
            threading.Thread(
                target=self._run, args=(event, context), name=f"lambda-event-{function_name}", daemon=True
            ).start()
            return _respond(start_response, "202 Accepted", None, {})
        ok, payload = self._run(event, context)
        headers = {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": context.aws_request_id}
        if not ok:
            headers["X-Amz-Function-Error"] = "Unhandled"
        return _respond(start_response, "200 OK", payload, headers)

    def _run(self, event: Any, context: LambdaContext) -> tuple[bool, Any]:
        if self.tally is None:
            return self._run_handler(event, context)
        start = time.perf_counter()
        try:
            return self._run_handler(event, context)
        finally:
            action = str(event.get("action")) if isinstance(event, dict) else "?"
            self.tally.add(f"invoke {action}", time.perf_counter() - start)

    def _run_handler(self, event: Any, context: LambdaContext) -> tuple[bool, Any]:
        if context.function_name in self.functions:
            # on the caller's thread: a notifier waiting out a receiver's backoff holds no runner worker
            return self._run_here(self.functions[context.function_name], event, context, pooled=False)
        if self._warm_runner is not None:
            self.invocations[str(event.get("action")) if isinstance(event, dict) else "?"] += 1
            return self._warm_runner.invoke(event, context.function_name, context.invoked_function_arn,
                                            self.timeout_seconds)
        return self._run_here(self._handler_getter, event, context)

    def deliver(self, function_name: str, event: Any) -> None:
        """An asynchronous invocation (InvocationType=Event, as EventBridge's targets get): on its own thread."""
        context = LambdaContext(*parse_function_name(function_name), self.timeout_seconds)
        threading.Thread(target=self._run, args=(event, context), name=f"lambda-event-{function_name}",
                         daemon=True).start()

    def _run_here(self, handler_getter: Any, event: Any, context: LambdaContext,
                  pooled: bool = True) -> tuple[bool, Any]:
        try:
            handler = handler_getter()
            self.invocations[str(event.get("action")) if isinstance(event, dict) else "?"] += 1
            result = self._workers.submit(handler, event, context).result() if pooled else handler(event, context)
        except Exception as exc:  # noqa: BLE001 - every runner error becomes a Lambda function error
            LOG.info("%s raised %s: %s", context.function_name, type(exc).__name__, exc)
            return False, error_payload(exc)
        try:
            json.dumps(result)
        except (TypeError, ValueError) as exc:
            return False, {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError",
                "stackTrace": [],
            }
        return True, result


class DirectLambdaClient:
    """What moto's interpreter uses of its boto3 Lambda client, ``invoke``, served by the front without HTTP.

    A Task's synchronous invocation otherwise costs this process a boto3 request (serialise, sign, parse)
    and a server request (HTTP, WSGI) on the interpreter lock every operation waits for. The answer is
    the one boto3 gives: StatusCode, ExecutedVersion, FunctionError, a streaming Payload. Other
    invocation types and parameters go to the real client.
    """

    _DIRECT = frozenset({"FunctionName", "Payload", "InvocationType", "Qualifier"})

    def __init__(self, front: "LambdaFront", client: Any) -> None:
        self._front, self._client = front, client
        self.meta = client.meta

    def invoke(self, **parameters: Any) -> dict:
        payload = parameters.get("Payload") or b"{}"
        if parameters.get("InvocationType", "RequestResponse") != "RequestResponse" or set(parameters) - self._DIRECT:
            return self._client.invoke(**parameters)
        try:
            event = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return self._client.invoke(**parameters)  # the real client reports it as Lambda does
        function_name, function_arn = parse_function_name(parameters["FunctionName"])
        context = LambdaContext(function_name, function_arn, self._front.timeout_seconds)
        try:
            ok, result = self._front._run(event, context)  # noqa: SLF001 - the front's own invocation path
        finally:
            self._front.changes += 1
        body = json.dumps(result).encode("utf-8")
        headers = {"content-type": "application/json", "content-length": str(len(body)),
                   "x-amz-executed-version": "$LATEST", "x-amzn-requestid": context.aws_request_id}
        response: dict[str, Any] = {
            "ResponseMetadata": {"RequestId": context.aws_request_id, "HTTPStatusCode": 200,
                                 "HTTPHeaders": headers, "RetryAttempts": 0},
            "StatusCode": 200, "ExecutedVersion": "$LATEST",
            "Payload": StreamingBody(io.BytesIO(body), len(body)),
        }
        if not ok:
            response["FunctionError"] = "Unhandled"
            headers["x-amz-function-error"] = "Unhandled"
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _buffer_body(environ: dict) -> bytes:
    """Read the body for its hash, and put it back for whoever reads it next."""
    body = _read_body(environ)
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    return body


def _read_body(environ: dict) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", ""):
        return stream.read()
    return b""


def _refuse(start_response: Callable, refused: Any, json_protocol: bool) -> list[bytes]:
    """A refusal in the protocol the client parses: JSON (DynamoDB, Step Functions, Lambda) or XML (S3, IAM, STS)."""
    status = f"{refused.status} {'Forbidden' if refused.status == 403 else 'Bad Request'}"
    if json_protocol:
        return _respond(start_response, status, {"__type": refused.code, "message": refused.message},
                        {"x-amzn-ErrorType": refused.code})
    body = (f"<?xml version='1.0' encoding='UTF-8'?><ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{escape(refused.code)}</Code><Message>{escape(refused.message)}</Message></Error>"
            f"</ErrorResponse>").encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _respond(start_response: Callable, status: str, payload: Any, headers: dict) -> list[bytes]:
    body = b"" if status.startswith(("202", "204")) else json.dumps(payload).encode("utf-8")
    header_list = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    header_list.extend(headers.items())
    start_response(status, header_list)
    return [body]
