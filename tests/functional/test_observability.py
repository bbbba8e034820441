"""Logs, metrics and traces (chalicelib/store/telemetry.py): JSON lines with the ids, EMF blobs CloudWatch can read,
the state machines traced; the operation's own output never in the operator's log."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from typing import Any

from tests.conftest import REPO
from tests.helpers import graph, instance, operation

IDS = ("graph_id", "run_id", "node_id")


def _cloudwatch_metrics(blob: dict) -> list[tuple[str, str, dict[str, str], list[float]]]:
    """What CloudWatch makes of one EMF blob: (namespace, metric, dimensions, values) per declared metric."""
    found = []
    for directive in blob["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            dimensions = {name: blob[name] for name in dimension_set}
            for definition in directive["Metrics"]:
                value = blob[definition["Name"]]
                found.append((directive["Namespace"], definition["Name"], dimensions,
                              value if isinstance(value, list) else [value]))
    return found


def _json_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def test_a_runner_invocation_logs_json_lines_with_its_ids_and_one_emf_blob(api) -> None:
    from chalicelib.engine import runs

    secret_word = f"users-own-{secrets.token_hex(4)}"
    echo = api.save_operation(operation("bash_jinja2", "Echo", f"echo {secret_word}; echo {secret_word} >&2\n"
                                        "echo x > {{ outputs.out }}\n", outputs=["out"]))
    node = instance(echo)
    graph_id = api.ok("post", "graphs", json={"graph": graph("observed", [node]),
                                              "actions": ["SAVE"]})["graph"]["_id"]
    run_id = runs.queue_run(graph_id)
    env = dict(os.environ, PLYNX_LOG_FORMAT="json", POWERTOOLS_LOG_LEVEL="INFO", PLYNX_METRICS_FILE="",
               PLYNX_TABLE_PREFIX=os.environ.get("PLYNX_TABLE_PREFIX", "plynx"))
    done = subprocess.run([sys.executable, "-m", "runners", json.dumps(
        {"action": "run", "graph_id": graph_id, "node_id": node["_id"], "run_id": run_id})],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    records = _json_lines(done.stdout)
    answer = records.pop()  # the CLI's answer, last
    assert answer["node_id"] == node["_id"] and answer["status"] == "SUCCESS"
    assert answer["ended"]["node_id"] == node["_id"] and answer["ended"]["status"] == "SUCCESS"  # for the next
    logs = [r for r in records if "level" in r]
    blobs = [r for r in records if "_aws" in r]
    assert len(logs) + len(blobs) == len(records), records
    assert logs and any(r["message"] == "Operation SUCCESS" for r in logs), logs
    for line in logs:
        assert (line["graph_id"], line["run_id"], line["node_id"]) == (graph_id, run_id, node["_id"]), line
        assert line["service"] == "plynx-runner" and line["stage"] == "local" and line["action"] == "run"
    assert len(blobs) == 1, "one EMF blob per invocation"
    metrics = {name: (namespace, dimensions, values) for namespace, name, dimensions, values
               in _cloudwatch_metrics(blobs[0])}
    assert metrics["OperationsSucceeded"] == ("PLynx", {"stage": "local"}, [1.0])
    assert metrics["OperationDuration"][2][0] > 0
    assert blobs[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Unit"] == "Milliseconds"
    # ids are properties of the blob, never dimensions (a metric per graph would be billed per graph)
    assert {blobs[0][key] for key in IDS} == {graph_id, run_id, node["_id"]}
    # what the operation printed is the user's (its logs), never the operator's
    assert secret_word not in done.stdout and secret_word not in done.stderr


def test_a_run_writes_run_and_operation_metrics_to_the_stacks_metrics_file(api, stack) -> None:
    path = os.environ["PLYNX_METRICS_FILE"]
    assert path.startswith(stack.data_dir), "the local stack keeps its metrics in its data dir"
    word = secrets.token_hex(4)
    first = api.save_operation(operation("bash_jinja2", "First", f"echo {word} > {{{{ outputs.out }}}}\n",
                                         outputs=["out"]))
    bad = api.save_operation(operation("bash_jinja2", "Broken", "exit 3\n", inputs=[
        {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}]))
    a = instance(first)
    b = instance(bad, **{"in": [(a, "out")]})
    graph_id = api.ok("post", "graphs", json={"graph": graph("measured", [a, b]),
                                              "actions": ["SAVE", "APPROVE"]})["graph"]["_id"]
    ended = api.wait(graph_id)
    assert ended["graph_running_status"] == "FAILED"
    run_id = ended["run_id"]

    seen: dict[str, list[tuple[dict, list[float], dict]]] = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the last blob is flushed as the finalizing invocation returns
        seen = {}
        with open(path, encoding="utf-8") as stream:
            for blob in _json_lines(stream.read()):
                if blob.get("graph_id") != graph_id:
                    continue
                for namespace, name, dimensions, values in _cloudwatch_metrics(blob):
                    assert namespace == "PLynx" and dimensions == {"stage": "local"}, blob
                    seen.setdefault(name, []).append((dimensions, values, blob))
        if "RunsFailed" in seen:
            break
        time.sleep(0.1)
    assert {"RunsStarted", "OperationsSucceeded", "OperationsFailed", "OperationDuration", "RunsFailed",
            "RunDuration"} <= seen.keys(), sorted(seen)
    assert [values for _, values, _ in seen["RunsStarted"]] == [[1.0]]
    assert [values for _, values, _ in seen["RunsFailed"]] == [[1.0]]
    assert len(seen["OperationDuration"]) == 2  # one blob per runner invocation
    assert all(blob["node_id"] in (a["_id"], b["_id"]) for _, _, blob in seen["OperationDuration"])
    [(_, [seconds], run_blob)] = seen["RunDuration"]
    assert 0 < seconds < 60
    assert all(blob["run_id"] == run_id for blobs in seen.values() for _, _, blob in blobs)

    # the same graph again: the first operation is a cache hit at APPROVE (no runner), counted as one
    assert api.ok("post", f"graphs/{graph_id}/approve")["status"] == "SUCCESS"
    api.wait(graph_id)
    deadline = time.monotonic() + 10
    restored: list[float] = []
    while time.monotonic() < deadline and not restored:
        with open(path, encoding="utf-8") as stream:
            restored = [value for blob in _json_lines(stream.read()) if blob.get("graph_id") == graph_id
                        for _, name, _, values in _cloudwatch_metrics(blob) if name == "OperationsRestored"
                        for value in values]
        time.sleep(0.1)
    assert restored == [1.0]


def test_the_engines_state_machines_are_traced(api) -> None:
    from chalicelib.store import aws
    from chalicelib.store.models import GraphModel

    op = api.save_operation(operation("bash_jinja2", "Traced", f"echo {secrets.token_hex(4)}\n"))
    graph_id = api.ok("post", "graphs", json={"graph": graph("traced", [instance(op)]),
                                              "actions": ["SAVE", "APPROVE"]})["graph"]["_id"]
    api.wait(graph_id)
    arn = GraphModel.get(graph_id).state_machine_arn
    described: Any = aws.client("stepfunctions").describe_state_machine(stateMachineArn=arn)
    assert described["tracingConfiguration"] == {"enabled": True}
