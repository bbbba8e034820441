"""A graph too big for one execution runs split across child executions (startExecution.sync:2).

The budget per execution is lowered so a small graph splits the way a 10,000-node one does
(bench/scale.py runs the real 10,000 nodes and prints its figures).
"""
from __future__ import annotations

import json

import pytest

import stepfunctions
from tests.functional.test_engine_dag import _journal, _place, _step
from tests.helpers import graph, shared_file


@pytest.fixture()
def small_budget():
    from chalicelib.engine import preparation, runs

    previous = preparation.LIMITS
    preparation.LIMITS = stepfunctions.Limits(history_events=60, max_chain=6)
    yield preparation.LIMITS
    preparation.LIMITS = previous


def test_graph_split_into_child_executions_runs_every_node_once_in_order(api, stack, small_budget, shared_tmp) -> None:
    import boto3

    from chalicelib.store.models import GraphModel

    journal = shared_file(shared_tmp / "journal")
    step = _step(api)
    nodes, edges = [], {}
    for i in range(24):  # four interleaved chains with cross links, so waits cross executions
        deps = [nodes[j] for j in (i - 4, i - 7) if j >= 0]
        name = f"n{i:02d}"
        edges[name] = [d["title"] for d in deps]
        nodes.append(_place(step, name, journal, 0.0, *deps))
    body = api.ok("post", "graphs", json={"graph": graph("split", nodes), "actions": ["SAVE", "APPROVE"]})
    graph_id = body["graph"]["_id"]
    result = api.wait(graph_id, timeout=180)
    assert result["graph_running_status"] == "SUCCESS", result.get("error")
    times = _journal(shared_tmp / "journal")
    assert len(times) == 48
    for node, deps in edges.items():
        for dep in deps:
            assert times[("end", dep)] <= times[("start", node)]
    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_url, region_name="us-east-1")
    definition = json.loads(sfn.describe_state_machine(
        stateMachineArn=GraphModel.get(graph_id).state_machine_arn)["definition"])
    parts = definition["States"]["Run operations"]["Branches"]
    assert len(parts) >= 3
    for part in parts:
        task = next(iter(part["States"].values()))
        assert task["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
        children = sfn.list_executions(stateMachineArn=task["Parameters"]["StateMachineArn"])["executions"]
        assert children and all(c["status"] == "SUCCEEDED" for c in children)


def test_a_failure_inside_a_child_execution_fails_the_graph(api, small_budget, shared_tmp) -> None:
    from tests.helpers import by_title, operation

    journal = shared_file(shared_tmp / "journal")
    step = _step(api)
    boom = api.save_operation(operation("python", "boom", "raise SystemExit(3)\n", outputs=["out"],
                                        inputs=[{"name": "in", "file_types": ["file"], "min_count": 0,
                                                 "max_count": -1}], params={"salt": journal}))
    nodes = []
    for i in range(16):
        deps = [nodes[j] for j in (i - 4,) if j >= 0]
        if i == 9:
            from tests.helpers import instance

            node = instance(boom, **{"in": [(d, "out") for d in deps]})
            node["title"] = "n09"
        else:
            node = _place(step, f"n{i:02d}", journal, 0.0, *deps)
        nodes.append(node)
    body = api.ok("post", "graphs", json={"graph": graph("split fails", nodes), "actions": ["SAVE", "APPROVE"]})
    result = api.wait(body["graph"]["_id"], timeout=180)
    assert result["graph_running_status"] == "FAILED"
    assert by_title(result, "n09")["node_running_status"] == "FAILED"
    assert by_title(result, "n13")["node_running_status"] == "CANCELED"  # reads n09: never ran
    assert all(n["node_running_status"] != "RUNNING" for n in result["nodes"])
