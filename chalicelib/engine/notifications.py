"""The notification sender: on a run's end (an EventBridge execution status change, delivered to the
notifier Lambda, runners/notifier.py), each user whose settings ask for it gets a signed webhook POST and/or
an email. Nothing here runs in the engine's path: the state machine has ended when this starts. A run that ends
without an execution (ended_without_execution) is handed to the notifier by the engine, with the same event.

A webhook URL is user input: its host is resolved and every address checked (no private, loopback,
link-local/metadata, reserved addresses; loopback only where PLYNX_NOTIFY_ALLOW_LOOPBACK says so, the local
stack), the connection goes to the checked address (no second lookup to rebind), redirects are not
followed. A receiver that fails (5xx, 429, timeout, refused connection) is tried again with exponential
backoff, at most ATTEMPTS times; a 4xx other than 429 is final.
"""
from __future__ import annotations

import concurrent.futures
import http.client
import json
import logging
import os
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import automation, permissions
from chalicelib.domain.enums import GraphRunningStatus, IAMPolicies
from chalicelib.domain.permissions import Caller
from chalicelib.store import automation as store
from chalicelib.store import aws, run_records
from chalicelib.store.models import GraphModel, RunModel, UserModel
from chalicelib.store.settings import SETTINGS
from stepfunctions.contract import ExecutionInput

LOG = logging.getLogger("plynx.notify")
ATTEMPTS = 4
PARALLEL = 16  # receivers told at once
TIMEOUT_SECONDS = 5.0
ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
# The rule's pattern (infra/cloudformation: RunEndedRule): every end of a PLynx execution.
RUN_ENDED_PATTERN: dict[str, Any] = {
    "source": ["aws.states"],
    "detail-type": ["Step Functions Execution Status Change"],
    "detail": {"status": list(ENDED), "stateMachineArn": [{"wildcard": "arn:*:states:*:*:stateMachine:plynx-*"}]},
}
_BY_EXECUTION = {"SUCCEEDED": GraphRunningStatus.SUCCESS, "ABORTED": GraphRunningStatus.CANCELED}


class Refused(Exception):
    """A webhook URL whose host resolves to an address the sender may not reach."""


def allow_loopback() -> bool:
    return os.environ.get("PLYNX_NOTIFY_ALLOW_LOOPBACK", "").lower() in ("1", "true", "yes")


def backoff_seconds() -> float:
    return float(os.environ.get("PLYNX_NOTIFY_BACKOFF_SECONDS", "1"))


def resolve(url: str) -> tuple[str, int, list[str]]:
    """The URL's host, port and the addresses it resolves to, every one allowed; Refused otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Refused(f"`{host}` does not resolve: {exc}") from exc
    addresses = sorted({info[4][0] for info in infos})
    for address in addresses:
        why = automation.address_refused(address, allow_loopback())
        if why:
            raise Refused(f"`{host}` resolves to {why}; webhooks go to public addresses only")
    return host, port, addresses


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to an address checked already, with the URL's host for SNI and the certificate."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post_once(url: str, body: bytes, headers: dict[str, str]) -> int:
    """One POST to the checked address; its status (redirects are answers, not followed)."""
    host, port, addresses = resolve(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = cls(host, port, addresses[0], TIMEOUT_SECONDS)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json",
                                                              "User-Agent": "plynx-notify/1", **headers})
        response = connection.getresponse()
        response.read(65536)
        return response.status
    finally:
        connection.close()


def deliver(url: str, secret: str, payload: dict, sleep: Any = time.sleep) -> dict:
    """POST the signed payload, retried with backoff on 5xx/429/timeouts; what happened, attempt by attempt."""
    body = json.dumps(payload, sort_keys=True).encode()
    attempts: list[str] = []
    for attempt in range(ATTEMPTS):
        stamp = int(time.time())  # each attempt signed anew: a receiver's tolerance window holds for retries
        headers = {automation.SIGNATURE_HEADER: automation.sign(secret, stamp, body),
                   automation.TIMESTAMP_HEADER: str(stamp), automation.EVENT_HEADER: payload["event"]}
        try:
            status = post_once(url, body, headers)
        except Refused as exc:
            return {"url": url, "delivered": False, "refused": str(exc), "attempts": attempts}
        except (OSError, http.client.HTTPException) as exc:
            attempts.append(f"{type(exc).__name__}: {exc}")
        else:
            attempts.append(str(status))
            if 200 <= status < 300:
                return {"url": url, "delivered": True, "attempts": attempts}
            if status < 500 and status != 429:
                break  # the receiver refuses it: sending again changes nothing
        if attempt + 1 < ATTEMPTS:
            sleep(min(backoff_seconds() * 2 ** attempt, 30.0))
    LOG.warning("notification to %s not delivered: %s", url, attempts)
    return {"url": url, "delivered": False, "attempts": attempts}


def send_email(username: str, address: str, subject: str, text: str) -> dict:
    """Through the stage's SNS topic (the user's subscription filters on `user`); without a topic (the local
    stack) the mail is written to the log."""
    topic = os.environ.get("PLYNX_NOTIFY_TOPIC_ARN")
    if not topic:
        LOG.warning("email to %s <%s>: %s\n%s", username, address, subject, text)
        return {"email": address, "logged": True}
    try:
        aws.client("sns").publish(TopicArn=topic, Subject=subject[:100], Message=text,  # SNS: subject < 100 chars
                                  MessageAttributes={"user": {"DataType": "String", "StringValue": username},
                                                     "email": {"DataType": "String", "StringValue": address}})
    except ClientError as exc:  # the others are still told
        LOG.warning("email to %s not published: %s", address, exc)
        return {"email": address, "published": False, "error": str(exc)}
    return {"email": address, "published": True}


def _run_of(detail: dict[str, Any]) -> tuple[str, str] | None:
    text = detail.get("input")
    if text is None and detail.get("executionArn"):  # EventBridge leaves out inputs over its size limit
        text = aws.client("stepfunctions").describe_execution(executionArn=detail["executionArn"]).get("input")
    run = ExecutionInput.parse(text)
    if run is None or run.part is not None or run.composite is not None:
        return None  # not ours, or a child execution: its top run ends (and is told) once
    return run.graph_id, run.run_id


def _caller(username: str) -> Caller:
    """A user with their stored policies now (who may no longer see the graph is not told of its runs)."""
    try:
        model = UserModel.get(username)
    except DoesNotExist:
        return Caller(username, ())
    if not model.active:
        return Caller(username, ())
    if not SETTINGS.secret_key and SETTINGS.single_user:
        return Caller(username, {IAMPolicies.IS_ADMIN})
    return Caller(username, SETTINGS.default_policies if model.policies is None else model.policies)


def payload(record: RunModel, header: GraphModel, status: str) -> dict:
    """The JSON body of a run's end (README: Notifications)."""
    return {"event": "run.ended", "graph_id": record.graph, "graph_title": header.title or "",
            "run_id": record.run_id, "status": status, "start": record.start, "end": record.end,
            "started_by": record.started_by, "how": record.how,
            "link": f"{SETTINGS.ui_url.rstrip('/')}/runs/{record.run_id}"}


# A run's status as the execution status EventBridge would say it ended with.
_AS_EXECUTION = {GraphRunningStatus.SUCCESS: "SUCCEEDED", GraphRunningStatus.CANCELED: "ABORTED",
                 GraphRunningStatus.FAILED: "FAILED"}


def without_execution(graph_id: str, run_id: str, status: str) -> dict:
    """The event the rule delivers for a run's end, for a run that ended without an execution."""
    return {"source": "aws.states", "detail-type": "Step Functions Execution Status Change",
            "detail": {"status": _AS_EXECUTION.get(status, "FAILED"), "executionArn": None, "stateMachineArn": None,
                       "name": run_id, "input": ExecutionInput(graph_id, run_id).to_json()}}


def ended_without_execution(graph_id: str, run_id: str, status: str) -> None:
    """Tell the notifier of a run that ended without an execution (restored whole, failed or canceled while
    preparing): no EventBridge event comes for it, so the engine invokes the notifier itself, asynchronously
    (InvocationType=Event: Lambda queues it and answers 202), with the event the rule would have delivered."""
    try:
        aws.client("lambda").invoke(FunctionName=SETTINGS.notify_function, InvocationType="Event",
                                    Payload=json.dumps(without_execution(graph_id, run_id, status)).encode())
    except ClientError as exc:  # the run has ended all the same; only its notification is lost
        LOG.warning("the end of run %s of graph %s not told to the notifier: %s", run_id, graph_id, exc)


def run_ended(detail: dict[str, Any]) -> list[dict]:
    """Tell every user who asked: one execution status change in, what was sent out."""
    if detail.get("status") not in ENDED:
        return []
    run = _run_of(detail)
    if run is None:
        return []
    graph_id, run_id = run
    settings = store.all_settings(graph_id)
    if not settings:
        return []
    try:
        header = GraphModel.get(graph_id, consistent_read=True)
        record = RunModel.get(run_records.runs_partition(graph_id), run_id, consistent_read=True)
    except DoesNotExist:
        return []
    status = record.run_status
    if status in GraphRunningStatus.ACTIVE:  # the execution ended before anything closed the run
        status = _BY_EXECUTION.get(detail["status"], GraphRunningStatus.FAILED)
    body = payload(record, header, status)
    sends: list[tuple[str, Any, tuple]] = []
    for setting in settings:
        data = dict(setting.data or {})
        if not automation.wanted(data.get("on", "never"), status):
            continue
        if not permissions.may_view(_caller(setting.item), permissions.GRAPH, header.author):
            LOG.info("%s may no longer see graph %s: not told of run %s", setting.item, graph_id, run_id)
            continue
        if data.get("webhook_url"):
            sends.append((setting.item, deliver, (data["webhook_url"], data.get("secret", ""), body)))
        if data.get("email"):
            subject = f"PLynx: {header.title or graph_id} {status}"
            text = json.dumps(body, indent=2, sort_keys=True)
            sends.append((setting.item, send_email, (setting.item, data["email"], subject, text)))
    if not sends:
        return []
    # At once: one slow receiver's retries do not hold the others past the function's timeout.
    with concurrent.futures.ThreadPoolExecutor(min(len(sends), PARALLEL)) as pool:
        futures = [(user, pool.submit(send, *args)) for user, send, args in sends]
    return [{"user": user, **future.result()} for user, future in futures]
