"""Notifications of a run's end through the REST API and the local stack's notifier: a real HTTP receiver gets
the webhook signed (verified here with the secret the settings showed), after failing once (retried with
backoff); the email lands in the stack's log; addresses a webhook may not reach are refused."""
from __future__ import annotations

import http.server
import json
import logging
import threading
import time
from typing import Any, Iterator

import pytest

from chalicelib.domain import automation
from tests.helpers import graph, instance, operation

ECHO = "open(outputs['out'], 'w').write('hi')\n"


class Receiver:
    """An HTTP server on this machine that answers with `statuses` in turn (then 200) and keeps what came."""

    def __init__(self, statuses: list[int], headers: dict[str, str] | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses, self.extra = list(statuses), headers or {}
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                for name, value in receiver.extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} requests came"
            time.sleep(0.05)
        return self.received

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    made = Receiver([500])  # fails once
    yield made
    made.close()


@pytest.fixture()
def quick_backoff(monkeypatch) -> None:
    monkeypatch.setenv("PLYNX_NOTIFY_BACKOFF_SECONDS", "0.05")


def _graph(api, title: str) -> str:
    node = api.save_operation(operation("python", "hello", ECHO, outputs=["out"]))
    body = api.ok("post", "graphs", json={"graph": graph(title, [instance(node)]), "actions": ["SAVE"]})
    return body["graph"]["_id"]


def _salted_graph(api, title: str) -> str:
    """A graph of one operation no run has had yet: not in the cache, its first run runs."""
    import secrets

    node = api.save_operation(operation("python", "salted", ECHO, outputs=["out"], params={"salt": secrets.token_hex(4)}))
    body = api.ok("post", "graphs", json={"graph": graph(title, [instance(node)]), "actions": ["SAVE"]})
    return body["graph"]["_id"]


def _put(api, graph_id: str, settings: dict) -> Any:
    return api.session.put(api.url(f"graphs/{graph_id}/notifications"), json=settings, timeout=30)


def test_a_run_end_is_posted_signed_retried_once_and_mailed_to_the_log(api, receiver, quick_backoff, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="plynx.notify")
    graph_id = _graph(api, "notified")
    assert api.ok("get", f"graphs/{graph_id}/notifications")["data"]["on"] == "never"
    answer = _put(api, graph_id, {"on": "both", "webhook_url": receiver.url, "email": "me@example.com"})
    assert answer.status_code == 200, answer.text
    secret = answer.json()["data"]["secret"]
    assert secret.startswith("whsec_")
    assert api.ok("get", f"graphs/{graph_id}/notifications")["data"]["secret"] == secret  # kept, to its owner

    run_id = api.ok("post", f"graphs/{graph_id}/approve")["run_id"]
    api.wait(graph_id)
    first, second = receiver.wait_for(2)
    assert first["body"] == second["body"] and second["path"] == "/hook?x=1"
    header = second["headers"][automation.SIGNATURE_HEADER]
    assert automation.verify(secret, header, second["body"], time.time())
    assert not automation.verify("whsec_wrong", header, second["body"], time.time())
    assert not automation.verify(secret, header, second["body"] + b" ", time.time())
    # the receiver's recipe in the README: HMAC-SHA256 of "<t>.<body>" with the secret, hex
    import hashlib
    import hmac

    stamp = second["headers"][automation.TIMESTAMP_HEADER]
    assert header == f"t={stamp},v1=" + hmac.new(secret.encode(), f"{stamp}.".encode() + second["body"],
                                                  hashlib.sha256).hexdigest()
    sent = json.loads(second["body"])
    assert sent["run_id"] == run_id and sent["graph_id"] == graph_id and sent["status"] == "SUCCESS"
    assert sent["graph_title"] == "notified" and sent["start"] and sent["end"] and sent["link"].endswith(f"/runs/{run_id}")
    deadline = time.monotonic() + 10
    while not any("me@example.com" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
        time.sleep(0.05)
    mail = next(r.getMessage() for r in caplog.records if "me@example.com" in r.getMessage())
    assert "notified SUCCESS" in mail and run_id in mail

    # `failure` only: a success is not told
    assert _put(api, graph_id, {"on": "failure", "webhook_url": receiver.url}).json()["data"]["secret"] == secret
    api.ok("post", f"graphs/{graph_id}/approve")
    api.wait(graph_id)
    time.sleep(0.5)  # the notifier had its chance: nothing more came
    assert len(receiver.received) == 2
    api.session.delete(api.url(f"graphs/{graph_id}/notifications"), timeout=30).raise_for_status()


@pytest.fixture(scope="module")
def refused_graph(api) -> str:
    return _graph(api, "refused hooks")


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/", "http://[fd00:ec2::254]/",
                                 "http://192.168.0.1:8080/x", "http://0.0.0.0/", "ftp://example.com/",
                                 "http://user:pw@example.com/"])
def test_webhook_urls_to_addresses_a_webhook_may_not_reach_are_refused(api, refused_graph, url) -> None:
    graph_id = refused_graph
    answer = _put(api, graph_id, {"on": "both", "webhook_url": url})
    assert answer.status_code == 400, answer.text
    assert api.ok("get", f"graphs/{graph_id}/notifications")["data"]["webhook_url"] is None  # nothing stored


def test_loopback_is_refused_where_the_stack_does_not_allow_it(api, monkeypatch) -> None:
    graph_id = _graph(api, "loopback hook")
    monkeypatch.setenv("PLYNX_NOTIFY_ALLOW_LOOPBACK", "false")  # the cloud's setting
    answer = _put(api, graph_id, {"on": "both", "webhook_url": "http://localhost:9/"})
    assert answer.status_code == 400 and "loopback" in answer.json()["Message"], answer.text
    assert _put(api, graph_id, {"on": "sometimes"}).status_code == 400
    assert _put(api, graph_id, {"on": "both", "email": "not an address"}).status_code == 400
    assert _put(api, graph_id, {"on": "both", "cc": "x"}).status_code == 400


def test_in_the_cloud_an_address_is_subscribed_to_the_topic_and_the_mail_published_to_it(api, monkeypatch) -> None:
    """The cloud's path on moto's SNS: the PUT subscribes the address (filtered to this user and address), the
    run's end publishes with those attributes."""
    from moto.sns.models import sns_backends

    from chalicelib.store import aws

    sns = aws.client("sns")
    topic = sns.create_topic(Name="plynx-test-notifications")["TopicArn"]
    monkeypatch.setenv("PLYNX_NOTIFY_TOPIC_ARN", topic)
    graph_id = _graph(api, "mailed")
    assert _put(api, graph_id, {"on": "success", "email": "ops@example.com"}).status_code == 200
    [subscription] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subscription["Protocol"] == "email" and subscription["Endpoint"] == "ops@example.com"
    policy = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
    assert json.loads(policy["FilterPolicy"]) == {"user": ["default"], "email": ["ops@example.com"]}

    run_id = api.ok("post", f"graphs/{graph_id}/approve")["run_id"]
    api.wait(graph_id)
    sent = sns_backends["123456789012"]["us-east-1"].topics[topic].sent_notifications
    deadline = time.monotonic() + 10
    while not any(run_id in n[1] for n in sent):
        assert time.monotonic() < deadline, sent
        time.sleep(0.05)
    message_id, message, subject, attributes, *_ = next(n for n in sent if run_id in n[1])
    assert subject == "PLynx: mailed SUCCESS" and json.loads(message)["run_id"] == run_id
    values = {name: value.get("StringValue", value.get("Value")) for name, value in attributes.items()}
    assert values == {"user": "default", "email": "ops@example.com"}, attributes
    api.session.delete(api.url(f"graphs/{graph_id}/notifications"), timeout=30).raise_for_status()


def _sleepy_run_told_on_failure(api, receiver, title: str) -> tuple[str, str]:
    """A graph of one 3-second operation whose failures the receiver is told of, approved: (graph id, run id)."""
    node = api.save_operation(operation("python", "sleepy", "import time\ntime.sleep(3)\n", outputs=["out"]))
    body = api.ok("post", "graphs", json={"graph": graph(title, [instance(node)]), "actions": ["SAVE"]})
    graph_id = body["graph"]["_id"]
    receiver.statuses.clear()
    assert _put(api, graph_id, {"on": "failure", "webhook_url": receiver.url}).status_code == 200
    return graph_id, api.ok("post", f"graphs/{graph_id}/approve")["run_id"]


def test_a_canceled_run_is_told_as_a_failure(api, receiver, quick_backoff) -> None:
    graph_id, run_id = _sleepy_run_told_on_failure(api, receiver, "canceled and told")
    # once its execution runs (a run canceled while still prepared is told by its preparation: the next test)
    deadline = time.monotonic() + 30
    while api.ok("get", f"runs/{run_id}")["data"]["run_status"] != "RUNNING":
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)
    api.ok("post", f"runs/{run_id}/cancel")
    [told] = receiver.wait_for(1)  # the execution was stopped: EventBridge's ABORTED, the run's CANCELED
    sent = json.loads(told["body"])
    assert sent["run_id"] == run_id and sent["status"] == "CANCELED"
    api.session.delete(api.url(f"graphs/{graph_id}/notifications"), timeout=30).raise_for_status()


def test_a_fully_cached_re_run_has_no_execution_and_is_told(api, stack, receiver, quick_backoff) -> None:
    """Every operation restored: the preparation ends the run SUCCESS itself (no state machine, no runner), and
    tells the notifier as the end of an execution would have."""
    from chalicelib.store.models import GraphModel

    graph_id = _salted_graph(api, "restored whole")
    receiver.statuses.clear()
    assert _put(api, graph_id, {"on": "success", "webhook_url": receiver.url}).status_code == 200
    api.ok("post", f"graphs/{graph_id}/approve")
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    receiver.wait_for(1)
    machine = GraphModel.get(graph_id, consistent_read=True).state_machine_arn
    invoked = dict(stack.lambda_front.invocations)
    run_id = api.ok("post", f"graphs/{graph_id}/approve")["run_id"]
    done = api.wait(graph_id)
    assert done["graph_running_status"] == "SUCCESS"
    assert all(node["node_running_status"] == "RESTORED" for node in done["nodes"])
    told = receiver.wait_for(2)[1]
    sent = json.loads(told["body"])
    assert (sent["run_id"], sent["status"], sent["graph_id"]) == (run_id, "SUCCESS", graph_id) and sent["end"]
    # no runner call of any kind (no Task ran), no execution: only the preparation and the notifier were invoked
    now = stack.lambda_front.invocations
    assert {action: now[action] - invoked.get(action, 0) for action in now if now[action] != invoked.get(action, 0)} \
        == {"prepare": 1, "None": 1}  # the notifier's event has no action
    header = GraphModel.get(graph_id, consistent_read=True)
    assert header.execution_arn is None and header.prepare_by is None and header.state_machine_arn == machine
    from chalicelib.store import aws

    executions = aws.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    assert run_id not in {execution["name"] for execution in executions}
    record = api.ok("get", f"runs/{run_id}")["data"]
    assert record["run_status"] == "SUCCESS" and record["end"] and record["cost"]["state_transitions"] == 0
    api.session.delete(api.url(f"graphs/{graph_id}/notifications"), timeout=30).raise_for_status()


def test_a_run_canceled_at_once_is_told_once(api, receiver, quick_backoff) -> None:
    """Canceled right after APPROVE answered: still preparing (no execution to end: the preparation tells the
    notifier) or just started (its execution stopped: EventBridge's ABORTED). Either way, told once."""
    graph_id, run_id = _sleepy_run_told_on_failure(api, receiver, "canceled at once")
    api.ok("post", f"runs/{run_id}/cancel")
    [told] = receiver.wait_for(1)
    sent = json.loads(told["body"])
    assert sent["run_id"] == run_id and sent["status"] == "CANCELED"
    time.sleep(1.0)  # the preparation and the stopped execution had their chance: nothing more came
    assert len(receiver.received) == 1
    api.session.delete(api.url(f"graphs/{graph_id}/notifications"), timeout=30).raise_for_status()


def test_a_run_whose_preparation_failed_is_told_as_a_failure(api, receiver, quick_backoff, monkeypatch) -> None:
    from chalicelib.domain.errors import BadRequestError
    from chalicelib.engine import preparation

    def cannot(graph: dict, *args: Any) -> Any:
        raise BadRequestError(f"Graph `{graph['_id']}` cannot run: compiled in a test that says so")

    graph_id = _salted_graph(api, "cannot run")  # it must run: compiled
    receiver.statuses.clear()
    assert _put(api, graph_id, {"on": "failure", "webhook_url": receiver.url}).status_code == 200
    monkeypatch.setattr(preparation, "compile_program", cannot)
    run_id = api.ok("post", f"graphs/{graph_id}/approve")["run_id"]
    assert api.wait(graph_id)["graph_running_status"] == "FAILED"
    [told] = receiver.wait_for(1)
    sent = json.loads(told["body"])
    assert (sent["run_id"], sent["status"]) == (run_id, "FAILED")
    api.session.delete(api.url(f"graphs/{graph_id}/notifications"), timeout=30).raise_for_status()
