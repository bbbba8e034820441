"""APPROVE answers before its run is prepared (API Gateway ends a request after 29 s); the preparation goes on
asynchronously, and a preparation that fails, or dies without a word, ends the run FAILED with its reason.

The preparation runs on a thread of the test's own stack (the local Lambda front serves its Event
invocation), so a test holds it at a gate to see the run as it is before it is prepared: no timing.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import graph, instance, operation


@pytest.fixture()
def gate(monkeypatch) -> Iterator[threading.Event]:
    """Hold every preparation before its cache planning until the test opens the gate (always opened at the end)."""
    from chalicelib.engine import preparation

    opened, original = threading.Event(), preparation.cache.plan_restores

    def held(graph_: dict, principal: Any) -> Any:
        assert opened.wait(60), "the test never opened the gate"
        return original(graph_, principal)

    monkeypatch.setattr(preparation.cache, "plan_restores", held)
    try:
        yield opened
    finally:
        opened.set()


def _chain(api, title: str, length: int = 3) -> dict:
    op = api.save_operation(operation("bash_jinja2", "step", "echo {{ params['word'] }} > {{ outputs.out }}\n",
                                      inputs=[{"name": "in", "file_types": ["file"], "min_count": 0, "max_count": -1}],
                                      outputs=["out"], params={"word": ""}))
    nodes: list[dict] = []
    for i in range(length):
        node = instance(op, **({"in": [(nodes[-1], "out")]} if nodes else {}))
        node["parameters"] = [dict(p, value=f"{title}-{i}-{time.time_ns()}") if p["name"] == "word" else p
                              for p in node["parameters"]]
        nodes.append(node)
    return graph(title, nodes)


def _until(api, path: str, done: Any, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = api.ok("get", path)["data"]
        if done(body):
            return body
        assert time.monotonic() < deadline, f"{path} never got there: {body}"
        time.sleep(0.05)


def test_approve_answers_with_the_run_preparing_and_the_run_succeeds_later(api, gate) -> None:
    body = api.ok("post", "graphs", json={"graph": _chain(api, "held"), "actions": ["SAVE", "APPROVE"]})
    graph_id, run_id = body["graph"]["_id"], body["run_id"]
    # The answer came while the preparation is held: the run is recorded and preparing; its nodes are the
    # version's until the preparation has queued the run's.
    assert body["graph"]["graph_running_status"] == "READY" and body["graph"]["preparing"] is True
    assert {node["node_running_status"] for node in body["graph"]["nodes"]} == {"CREATED"}
    assert len(body["graph"]["nodes"]) == 3
    run = api.ok("get", f"runs/{run_id}")["data"]
    assert run["run_status"] == "READY" and run["preparing"] is True and len(run["graph"]["nodes"]) == 3
    header = api.ok("get", f"graphs/{graph_id}")["data"]
    assert header["preparing"] is True and header["run_id"] == run_id
    [active] = [r for r in api.ok("get", "state")["active_runs"] if r["run_id"] == run_id]  # the dashboard's list
    assert active["graph_running_status"] == "READY" and active["preparing"] is True
    assert api.post(f"graphs/{graph_id}/approve").status_code == 409  # preparing is running: no second run
    gate.set()
    done = _until(api, f"runs/{run_id}", lambda r: r["run_status"] not in ("READY", "RUNNING"))
    assert done["run_status"] == "SUCCESS", done
    assert done["preparing"] is False
    assert {node["node_running_status"] for node in done["graph"]["nodes"]} == {"SUCCESS"}


def test_a_run_canceled_while_preparing_never_starts(api, gate) -> None:
    body = api.ok("post", "graphs", json={"graph": _chain(api, "canceled early", 2), "actions": ["SAVE", "APPROVE"]})
    graph_id, run_id = body["graph"]["_id"], body["run_id"]
    assert api.ok("post", f"runs/{run_id}/cancel")["data"]["run_status"] == "CANCELED"
    gate.set()
    from chalicelib.engine import preparation

    # the preparation, let go, finds its run canceled: what it queued is CANCELED, and nothing starts
    assert preparation.prepare(graph_id, run_id) == "not preparing"
    statuses = lambda r: {node["node_running_status"] for node in r["graph"]["nodes"]}
    run = _until(api, f"runs/{run_id}", lambda r: statuses(r) == {"CANCELED"})
    assert run["run_status"] == "CANCELED" and run["preparing"] is False and len(run["graph"]["nodes"]) == 2
    assert api.ok("get", f"graphs/{graph_id}")["data"]["graph_running_status"] == "CANCELED"


def test_the_preparation_is_told_what_approve_knows_and_reads_neither_header_nor_record_first(api, monkeypatch) -> None:
    from chalicelib.engine import preparation

    events, reads = [], []
    handler, preparing, record = preparation.lambda_handler, preparation._preparing, preparation.RunModel.get
    monkeypatch.setattr(preparation, "lambda_handler", lambda event, context=None: events.append(event) or handler(
        event, context))
    monkeypatch.setattr(preparation, "_preparing", lambda *args: reads.append(("header", args)) or preparing(*args))
    monkeypatch.setattr(preparation.RunModel, "get", lambda *args, **kwargs: reads.append(("record", args)) or record(
        *args, **kwargs))
    body = api.ok("post", "graphs", json={"graph": _chain(api, "told", 2), "actions": ["SAVE", "APPROVE"]})
    graph_id, run_id = body["graph"]["_id"], body["run_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    [event] = [e for e in events if e.get("run_id") == run_id]
    # the run's version (its partition and size) and its parameters: small values, well under the 256 KB an
    # asynchronous invocation's event may have
    assert event["version"][1] == 2 and event["version"][0].startswith(graph_id) and event["parameters"] == {}
    assert not [read for read in reads if run_id in str(read) or graph_id in str(read)], reads


def test_an_unchanged_graph_reuses_its_state_machine_and_one_deleted_meanwhile_is_made_again(api, monkeypatch) -> None:
    from chalicelib.engine import preparation
    from chalicelib.store import aws
    from chalicelib.store.models import GraphModel

    created, create = [], preparation._create
    monkeypatch.setattr(preparation, "_create", lambda *args: created.append(args[1]) or create(*args))
    op = operation("python", "uncached", "open(outputs['out'], 'w').write('x')\n", outputs=["out"])
    op["parameters"].append({"name": "_cacheable", "parameter_type": "bool", "value": False})  # runs each time
    body = api.ok("post", "graphs", json={"graph": graph("reused", [instance(api.save_operation(op))]),
                                          "actions": ["SAVE", "APPROVE"]})
    graph_id = body["graph"]["_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS" and created == [graph_id]
    machine = GraphModel.get(graph_id, consistent_read=True).state_machine_arn
    api.ok("post", f"graphs/{graph_id}/approve")
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    assert created == [graph_id]  # no CreateStateMachine: the header's machine is this definition's
    aws.client("stepfunctions").delete_state_machine(stateMachineArn=machine)  # as a teardown would
    run_id = api.ok("post", f"graphs/{graph_id}/approve")["run_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    assert created == [graph_id, graph_id]  # StartExecution said it was gone: made again, same name
    header = GraphModel.get(graph_id, consistent_read=True)
    assert header.state_machine_arn == machine and header.execution_arn.endswith(f":{run_id}")


def test_a_state_machine_moto_refuses_ends_the_run_failed_with_its_reason(api, monkeypatch) -> None:
    from chalicelib.engine import preparation

    # A name CreateStateMachine refuses (moto's own check: InvalidName), as AWS refuses a bad definition or role.
    monkeypatch.setattr(preparation, "state_machine_name", lambda graph_id, definition: f"plynx {graph_id} bad")
    body = api.ok("post", "graphs", json={"graph": _chain(api, "refused", 2), "actions": ["SAVE", "APPROVE"]})
    run_id, graph_id = body["run_id"], body["graph"]["_id"]
    run = _until(api, f"runs/{run_id}", lambda r: r["run_status"] != "READY")
    assert run["run_status"] == "FAILED" and run["preparing"] is False
    assert "PrepareFailed" in run["error"] and "InvalidName" in run["error"], run["error"]
    assert {node["node_running_status"] for node in run["graph"]["nodes"]} == {"CANCELED"}
    shown = api.ok("get", f"graphs/{graph_id}")["data"]
    assert shown["graph_running_status"] == "FAILED"
    monkeypatch.undo()
    # the slot the run held is free again and the graph runs once the cause is gone
    again = api.ok("post", f"graphs/{graph_id}/approve")
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS", again


def test_a_preparation_that_dies_without_a_word_ends_failed_when_next_read(api, gate, monkeypatch) -> None:
    from chalicelib.engine import preparation

    # The preparation hangs (as a Lambda that times out); its deadline is near.
    monkeypatch.setattr(preparation, "DEADLINE_SECONDS", 0.5)
    body = api.ok("post", "graphs", json={"graph": _chain(api, "lost", 2), "actions": ["SAVE", "APPROVE"]})
    run_id, graph_id = body["run_id"], body["graph"]["_id"]
    active = lambda: [r for r in api.ok("get", "state")["active_runs"] if r["run_id"] == run_id]
    deadline = time.monotonic() + 60
    while active():  # the dashboard's read ends it once past its deadline, as any read of the run does
        assert time.monotonic() < deadline, "still preparing"
        time.sleep(0.05)
    run = api.ok("get", f"runs/{run_id}")["data"]
    assert run["run_status"] == "FAILED", run
    assert "PreparationLost" in run["error"] and "did not finish" in run["error"], run["error"]
    shown = api.ok("get", f"graphs/{graph_id}")["data"]
    assert shown["graph_running_status"] == "FAILED" and not shown["preparing"]
    gate.set()
    assert preparation.prepare(graph_id, run_id) == "not preparing"  # woken late, it starts nothing


def test_the_answer_of_a_big_graph_leaves_its_nodes_out(api, monkeypatch) -> None:
    from chalicelib.api import actions

    # Lambda answers with at most 6 MB: past the cap (lowered here) APPROVE's answer has the header, no nodes.
    monkeypatch.setattr(actions, "ANSWER_NODES_BYTES", 100)
    body = api.ok("post", "graphs", json={"graph": _chain(api, "big answer", 2), "actions": ["SAVE", "APPROVE"]})
    assert body["graph"]["nodes"] == [] and body["graph"]["node_count"] == 2 and body["run_id"]
    assert api.wait(body["graph"]["_id"])["graph_running_status"] == "SUCCESS"
    monkeypatch.undo()
    again = api.ok("post", f"graphs/{body['graph']['_id']}/approve")
    assert len(again["graph"]["nodes"]) == 2  # under it, the nodes come with the answer
    assert api.wait(body["graph"]["_id"])["graph_running_status"] == "SUCCESS"
