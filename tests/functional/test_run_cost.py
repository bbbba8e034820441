"""What a run cost, through the REST API: compute seconds of what ran, none for what the cache restored."""
from __future__ import annotations

import secrets
import time

from tests.helpers import by_title, graph, instance, operation

SAY = "import time\ntime.sleep(0.05)\nopen(outputs['out'], 'w').write(params['word'])\n"
FAIL = "raise ValueError('no')\n"
ONE = {"file_types": ["file"], "min_count": 1, "max_count": 1}


def _run(api, body: dict, actions: list[str]) -> dict:
    answer = api.ok("post", "graphs", json={"graph": body, "actions": actions})
    assert answer["status"] == "SUCCESS", answer
    api.wait(answer["graph"]["_id"] if "graph" in answer else body["_id"])
    return api.ok("get", f"runs/{answer['run_id']}")["data"]


def test_a_run_that_ran_costs_compute_and_a_fully_cached_one_none(api) -> None:
    say = api.save_operation(operation("python", "say", SAY, outputs=["out"], params={"word": secrets.token_hex(4)}))
    first = _run(api, graph("cost", [instance(say)]), ["SAVE", "APPROVE"])
    assert first["run_status"] == "SUCCESS"
    node = by_title(first["graph"], "say")
    assert node["placement"] == "lambda" and node["duration_seconds"] >= 0.05
    cost = first["cost"]
    prices = cost["prices"]
    # one operation on the 1024 MB runner: its recorded duration in GB-seconds
    assert cost["lambda_gb_seconds"] == round(node["duration_seconds"] * prices["lambda_memory_mb"] / 1024, 6)
    assert cost["lambda_gb_seconds"] >= 0.05 and cost["fargate_vcpu_seconds"] == cost["fargate_gb_seconds"] == 0
    # the Parallel, Run say, Mark succeeded (the preparation marked it running); runner invocations: the two Tasks
    assert cost["state_transitions"] == 3 and cost["lambda_requests"] == 2
    assert cost["estimated_usd"] > 0
    expected = (cost["lambda_gb_seconds"] * prices["lambda_usd_per_gb_second"]
                + 2 * prices["lambda_usd_per_request"] + 3 / 1000 * prices["stepfunctions_usd_per_1000_transitions"])
    assert abs(cost["estimated_usd"] - expected) < 1e-7

    cached = _run(api, {"_id": first["graph_id"]}, ["CREATE_RUN"])
    assert by_title(cached["graph"], "say")["node_running_status"] == "RESTORED"
    cost = cached["cost"]
    assert cost["lambda_gb_seconds"] == cost["fargate_vcpu_seconds"] == cost["fargate_gb_seconds"] == 0
    # no operation ran: its preparation ended it without an execution, so no state transition, no invocation
    assert cost["state_transitions"] == 0 and cost["lambda_requests"] == 0 and cost["estimated_usd"] == 0


def test_a_failed_run_pays_its_failure_path_and_what_ran_until_then(api) -> None:
    fail = api.save_operation(operation("python", "fail", FAIL, outputs=["out"]))
    say = api.save_operation(operation("python", "say", SAY, inputs=[{"name": "in", **ONE}], outputs=["out"],
                                       params={"word": "x"}))
    first = instance(fail)
    second = instance(say, **{"in": [(first, "out")]})
    data = _run(api, graph("cost failed", [first, second]), ["SAVE", "APPROVE"])
    assert data["run_status"] == "FAILED"
    assert by_title(data["graph"], "say")["node_running_status"] == "CANCELED"
    cost = data["cost"]
    assert cost["lambda_gb_seconds"] > 0
    # the Parallel, Run fail, Settle failure, Mark failed, Failed
    assert cost["state_transitions"] == 5 and cost["lambda_requests"] == 3


def test_two_runs_of_one_graph_side_by_side(api) -> None:
    word = secrets.token_hex(4)  # nothing in the cache yet: the first run runs
    say = api.save_operation(operation("python", "say", SAY, outputs=["out"], params={"word": word}))
    body = graph("compare", [instance(say)])
    first = _run(api, body, ["SAVE", "APPROVE"])
    graph_id, node_id = first["graph_id"], first["graph"]["nodes"][0]["_id"]
    api.ok("post", f"graphs/{graph_id}/nodes/change_parameter",
           json={"node_id": node_id, "parameter_name": "word", "parameter_value": word + "!"})
    second = _run(api, {"_id": graph_id}, ["CREATE_RUN"])
    third = _run(api, {"_id": graph_id}, ["CREATE_RUN"])  # the cache restores the second's output

    data = api.ok("get", f"runs/{first['_id']}/compare/{second['_id']}")["data"]
    assert data["graph_id"] == graph_id
    assert data["left"]["_id"] == first["_id"] and data["right"]["_id"] == second["_id"]
    assert data["left"]["graph_version"] + 1 == data["right"]["graph_version"]
    assert "cost" in data["left"] and "graph" not in data["left"]
    [row] = data["nodes"]
    assert row["node_id"] == node_id and row["title"] == "say"
    assert row["left"]["status"] == row["right"]["status"] == "SUCCESS" and row["same_status"]
    assert row["left"]["duration_seconds"] >= 0.05 and row["left"]["placement"] == "lambda"
    assert row["left"]["outputs"]["out"] != row["right"]["outputs"]["out"] and not row["same_outputs"]
    assert api.resource(row["right"]["outputs"]["out"]) == f"{word}!".encode()

    data = api.ok("get", f"runs/{second['_id']}/compare/{third['_id']}")["data"]
    [row] = data["nodes"]
    assert row["right"]["status"] == "RESTORED" and not row["same_status"]
    assert row["same_outputs"] and row["right"]["duration_seconds"] == 0  # the same bytes, nothing ran

    other = _run(api, graph("another", [instance(say)]), ["SAVE", "APPROVE"])
    answer = api.get(f"runs/{first['_id']}/compare/{other['_id']}")
    assert answer.status_code == 400 and "different graphs" in answer.text
    assert api.get(f"runs/{first['_id']}/compare/no-such-run").status_code == 404


def test_a_running_operation_has_cost_until_now(api) -> None:
    wait = api.save_operation(operation("python", "wait", f"import time\ntime.sleep(3)  # {secrets.token_hex(4)}\n"))
    answer = api.ok("post", "graphs", json={"graph": graph("cost running", [instance(wait)]),
                                            "actions": ["SAVE", "APPROVE"]})
    run_id, graph_id = answer["run_id"], answer["graph"]["_id"]
    for _ in range(100):  # until the runner has claimed it
        data = api.ok("get", f"runs/{run_id}")["data"]
        if by_title(data["graph"], "wait")["node_running_status"] == "RUNNING":
            break
        time.sleep(0.05)
    time.sleep(0.3)
    data = api.ok("get", f"runs/{run_id}")["data"]
    node = by_title(data["graph"], "wait")
    assert node["node_running_status"] == "RUNNING" and node["ended"] is None
    assert data["cost"]["lambda_gb_seconds"] >= 0.3  # from its start to now
    api.wait(graph_id)


def test_a_composites_operations_count(api, shared_tmp) -> None:
    from tests.functional.test_composite import _composite
    from tests.helpers import shared_file

    quadruple = _composite(api, shared_file(shared_tmp / f"journal-{secrets.token_hex(3)}"), sleep=0.1)["node"]
    data = api.upload(b"7", "data")
    run = _run(api, graph("cost composite", [data, instance(quadruple, data=[(data, "out")])]), ["SAVE", "APPROVE"])
    assert run["run_status"] == "SUCCESS"
    cost = run["cost"]
    assert cost["lambda_gb_seconds"] >= 0.1  # the inner operations ran, one of them sleeping 0.1 s
    # two inner Runs; the Parallel, Mark succeeded; the composite's startExecution and its nested Open,
    # Parallel and Close
    assert cost["state_transitions"] == 2 + 2 + 4
    assert cost["lambda_requests"] == 2 + 1 + 2
