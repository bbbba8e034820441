"""Status changes on the real stack: a throttled write is retried by botocore, then raised; never swallowed
(a graph left RUNNING) and never read as "someone else moved it" (a 409); a write resent after its answer
was lost is not refused by its own first attempt."""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.retries.standard import ExponentialBackoff
from pynamodb.exceptions import UpdateError

from tests.helpers import graph, instance, operation


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


class Throttle:
    """DynamoDB answers ProvisionedThroughputExceededException to the next `times` UpdateItems on a table,
    as AWS does, below botocore: its retry handler sees every answer (and its backoff is recorded, not slept)."""

    def __init__(self, model: type, monkeypatch: pytest.MonkeyPatch) -> None:
        self.table = model.Meta.table_name
        self.times = 0
        self.lose_answers = 0  # the next writes land, but botocore hears a 500 and sends them again
        self.attempts = 0
        self.backoffs: list[float] = []
        self.client = model._get_connection().connection.client
        self.client.meta.events.register("before-send.dynamodb.UpdateItem", self._send, unique_id="test-throttle")
        original = ExponentialBackoff.delay_amount
        monkeypatch.setattr(ExponentialBackoff, "delay_amount",
                            lambda backoff, context: self.backoffs.append(original(backoff, context)) or 0.0)

    def _send(self, request: Any, **_: Any) -> AWSResponse | None:
        if json.loads(request.body).get("TableName") != self.table:
            return None
        self.attempts += 1
        if self.lose_answers > 0:
            self.lose_answers -= 1
            requests.request(request.method, request.url, headers=dict(request.headers), data=request.body, timeout=30)
            body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "lost"})
            return AWSResponse(request.url, 500, {"x-amzn-requestid": "lost"}, _Body(body.encode()))
        if self.times <= 0:
            return None
        self.times -= 1
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                           "message": "The level of configured provisioned throughput for the table was exceeded"})
        return AWSResponse(request.url, 400, {"x-amzn-requestid": "throttled"}, _Body(body.encode()))

    def close(self) -> None:
        self.client.meta.events.unregister("before-send.dynamodb.UpdateItem", unique_id="test-throttle")


@pytest.fixture
def throttle_graphs(api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Throttle]:
    from chalicelib.store.models import GraphModel

    throttle = Throttle(GraphModel, monkeypatch)  # the API serves requests in this process, on this client
    yield throttle
    throttle.close()


def _saved_graph(api: Any, title: str) -> str:
    op = api.save_operation(operation("python", "noop", f"pass  # {secrets.token_hex(4)}: not in the cache\n"))
    body = api.ok("post", "graphs", json={"graph": graph(title, [instance(op)]), "actions": ["SAVE"]})
    return body["graph"]["_id"]


def test_a_throttled_finalize_is_retried_then_raised_never_swallowed(api: Any, throttle_graphs: Throttle) -> None:
    from chalicelib.engine import runs, settle

    graph_id = _saved_graph(api, "throttled finalize")
    run_id = runs.queue_run(graph_id)  # queued, no execution: this test plays the state machine's last step
    throttle_graphs.times, throttle_graphs.attempts = 2, 0
    settle.finalize(graph_id, run_id, "FAILED", {"Error": "Test"})  # two throttles: botocore's retries absorb them
    assert throttle_graphs.attempts == 3 and len(throttle_graphs.backoffs) == 2
    assert api.ok("get", f"graphs/{graph_id}")["data"]["graph_running_status"] == "FAILED"

    run_id = runs.queue_run(graph_id)
    throttle_graphs.times, throttle_graphs.attempts = 100, 0
    with pytest.raises(UpdateError) as raised:  # the state machine's step fails and is caught: not lost silently
        settle.finalize(graph_id, run_id, "FAILED", {"Error": "Test"})
    assert raised.value.cause_response_code == "ProvisionedThroughputExceededException"
    assert throttle_graphs.attempts == 4  # pynamodb's max_retry_attempts (3) retries, with backoff
    assert api.ok("get", f"graphs/{graph_id}")["data"]["graph_running_status"] == "READY"
    throttle_graphs.times = 0
    settle.finalize(graph_id, run_id, "FAILED", {"Error": "Test"})
    assert api.ok("get", f"graphs/{graph_id}")["data"]["graph_running_status"] == "FAILED"


def test_a_throttled_approve_is_a_server_error_not_a_409(api: Any, throttle_graphs: Throttle) -> None:
    graph_id = _saved_graph(api, "throttled approve")
    throttle_graphs.times = 100
    response = api.post(f"graphs/{graph_id}/approve")
    throttle_graphs.times = 0
    assert response.status_code == 500, response.text  # was a 409 "already running": a lie the client acts on
    data = api.ok("get", f"graphs/{graph_id}")["data"]
    assert data["graph_running_status"] == "CREATED" and data["run_id"] is None
    api.ok("post", f"graphs/{graph_id}/approve")  # the table recovered: the same request runs it
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"


def test_a_flip_resent_after_its_answer_was_lost_is_not_refused_by_itself(api: Any, throttle_graphs: Throttle) -> None:
    graph_id = _saved_graph(api, "lost answers")
    stored = api.ok("get", f"graphs/{graph_id}")["data"]
    throttle_graphs.lose_answers, throttle_graphs.attempts = 1, 0
    saved = api.ok("post", "graphs", json={"graph": dict(stored, title="saved once"), "actions": ["SAVE"]})["graph"]
    assert throttle_graphs.attempts == 2  # landed, resent, refused by its own first attempt: still a save
    assert saved["title"] == "saved once" and saved["_version"] == stored["_version"] + 1 and len(saved["nodes"]) == 1
    throttle_graphs.lose_answers = 1
    api.ok("post", f"graphs/{graph_id}/approve")  # the run's flip: landed, resent; its nodes are not dropped
    data = api.wait(graph_id)
    assert data["graph_running_status"] == "SUCCESS" and [n["node_running_status"] for n in data["nodes"]] == ["SUCCESS"]
