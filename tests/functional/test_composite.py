"""Composite operations: a sub-graph saved as an operation runs as a nested execution inside a graph."""
from __future__ import annotations

import os
import time

from tests.helpers import by_title, graph, instance, log_id, operation, output_id, shared_file

INPUT_ID, OUTPUT_ID = "2419f9f6d8b5da6e4bb8f8d4", "56a2bd3af3fe5ee6d63ac7dd"
ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
DOUBLE = ("import time\nopen(params['journal'], 'a').write(params['tag'] + '\\n')\ntime.sleep(float(params['sleep']))\n"
          "n = int(open(inputs['in']).read())\n"
          "if n < 0:\n    raise SystemExit('negative input')\n"
          "open(outputs['out'], 'w').write(str(2 * n))\n")
SUM = ("a, b = (int(open(p).read()) for p in (inputs['a'], inputs['b']))\n"
       "open(outputs['out'], 'w').write(str(a + b))\n")


def _double(api, journal: str, tag: str, sleep: float = 0.0) -> dict:
    return api.save_operation(operation("python", f"double {tag}", DOUBLE, inputs=[ONE], outputs=["out"],
                                        params={"journal": journal, "tag": tag, "sleep": sleep}))


def _composite(api, journal: str, sleep: float = 0.0, action: str = "APPROVE", wire: bool = True) -> dict:
    """quadruple(data) = double(double(data)), as a composite operation."""
    first = instance(_double(api, journal, "inner-1"), **{"in": [({"_id": INPUT_ID}, "data")]})
    second = instance(_double(api, journal, "inner-2", sleep), **{"in": [(first, "out")]})
    collector = {"_id": OUTPUT_ID, "base_node_name": "_output", "x": 500, "y": 0,
                 "inputs": [{"name": "result", "values": [{"node_id": second["_id"], "output_id": "out"}] if wire else []}]}
    node = {"base_node_name": "graph", "title": "quadruple",
            "inputs": [{"name": "data", "file_types": ["file"], "min_count": 1, "max_count": 1}],
            "outputs": [{"name": "result", "file_type": "file"}],
            "parameters": [{"name": "_nodes", "parameter_type": "list_node",
                            "value": [{"_id": INPUT_ID, "base_node_name": "_input"}, first, second, collector]}]}
    body = api.ok("post", "nodes", json={"node": node, "action": action})
    return body


def _run(api, nodes: list[dict], title: str) -> str:
    body = api.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE", "APPROVE"]})
    assert body["status"] == "SUCCESS", body.get("validation_error")
    return body["graph"]["_id"]


def _inner(node: dict) -> dict[str, dict]:
    value = next(p["value"] for p in node["parameters"] if p["name"] == "_nodes")
    return {n["title"]: n for n in value}


def test_composite_outputs_reach_the_outer_graph(api, shared_tmp) -> None:
    journal = shared_file(shared_tmp / "journal")
    saved = _composite(api, journal)
    assert saved["status"] == "SUCCESS", saved
    quadruple = saved["node"]
    assert quadruple["base_node_name"] == "graph" and quadruple["node_status"] == "READY"
    assert [n["base_node_name"] for n in _inner(quadruple).values()][:2] == ["_input", "_output"]
    three, five = api.upload(b"3", "three"), api.upload(b"5", "five")
    # two instances of one composite (the same inner ids) joined by an outer operation: waits never mix
    left = instance(quadruple, data=[(three, "out")])
    right = instance(quadruple, data=[(five, "out")])
    total = instance(api.save_operation(operation("python", "sum", SUM, inputs=[
        dict(ONE, name="a"), dict(ONE, name="b")], outputs=["out"])), a=[(left, "result")], b=[(right, "result")])
    left["title"], right["title"] = "left", "right"
    graph_id = _run(api, [three, five, left, right, total], "composite twice")
    data = api.wait(graph_id, timeout=120)
    assert data["graph_running_status"] == "SUCCESS", data
    assert api.resource(output_id(by_title(data, "left"), "result")) == b"12"
    assert api.resource(output_id(by_title(data, "right"), "result")) == b"20"
    assert api.resource(output_id(by_title(data, "sum"), "out")) == b"32"
    for title in ("left", "right"):
        node = by_title(data, title)
        assert node["node_running_status"] == "SUCCESS"
        inner = _inner(node)
        assert inner["double inner-1"]["node_running_status"] == inner["double inner-2"]["node_running_status"] == "SUCCESS"
        assert inner["Inputs"]["node_running_status"] == "SPECIAL"
        summary = api.resource(log_id(node, "worker")).decode()
        assert "2 operation(s) inside: 2 SUCCESS" in summary
    # each inner operation ran once per instance
    assert sorted(open(journal).read().split()) == ["inner-1", "inner-1", "inner-2", "inner-2"]


def test_a_failure_inside_a_composite_fails_the_graph_and_nothing_after_it_runs(api, shared_tmp) -> None:
    journal = shared_file(shared_tmp / "journal")
    quadruple = _composite(api, journal)["node"]
    minus = api.upload(b"-1", "minus one")
    inside = instance(quadruple, data=[(minus, "out")])
    after = instance(_double(api, journal, "after"), **{"in": [(inside, "result")]})
    graph_id = _run(api, [minus, inside, after], "composite fails")
    data = api.wait(graph_id, timeout=120)
    assert data["graph_running_status"] == "FAILED"
    node = by_title(data, "quadruple")
    assert node["node_running_status"] == "FAILED"
    inner = _inner(node)
    assert inner["double inner-1"]["node_running_status"] == "FAILED"
    assert inner["double inner-2"]["node_running_status"] == "CANCELED"
    assert "negative input" in api.resource(log_id(inner["double inner-1"], "stderr")).decode()
    assert by_title(data, "double after")["node_running_status"] == "CANCELED"
    assert open(journal).read().split() == ["inner-1"]


def test_cancel_stops_a_running_composite(api, shared_tmp) -> None:
    journal = shared_file(shared_tmp / "journal")
    quadruple = _composite(api, journal, sleep=30)["node"]
    seven = api.upload(b"7", "seven")
    inside = instance(quadruple, data=[(seven, "out")])
    graph_id = _run(api, [seven, inside], "cancel composite")
    deadline = time.monotonic() + 60
    while "inner-2" not in (open(journal).read() if os.path.exists(journal) else ""):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    body = api.ok("post", f"graphs/{graph_id}/cancel")
    assert body["graph"]["graph_running_status"] == "CANCELED"
    data = api.ok("get", f"graphs/{graph_id}")["data"]
    node = by_title(data, "quadruple")
    assert node["node_running_status"] == "CANCELED"
    assert _inner(node)["double inner-2"]["node_running_status"] == "CANCELED"
    assert _inner(node)["double inner-1"]["node_running_status"] == "SUCCESS"


def test_composite_validation_and_bad_input(api, shared_tmp) -> None:
    journal = shared_file(shared_tmp / "journal")
    body = _composite(api, journal, wire=False)
    assert body["status"] == "VALIDATION_FAILED"
    (collector,) = [c for c in body["validation_error"]["children"] if c["object_id"] == OUTPUT_ID]
    assert collector["children"][0]["validation_code"] == "MISSING_INPUT"
    bad = {"base_node_name": "graph", "title": "bad", "inputs": [{"name": "many", "max_count": -1}]}
    response = api.post("nodes", json={"node": bad, "action": "SAVE"})
    assert response.status_code == 400 and "exactly one value" in response.json()["Message"]
    wrong = {"base_node_name": "graph", "title": "wrong", "parameters": [
        {"name": "_nodes", "parameter_type": "list_node", "value": [{"_id": INPUT_ID, "base_node_name": "python"}]}]}
    response = api.post("nodes", json={"node": wrong, "action": "SAVE"})
    assert response.status_code == 400 and "Inputs node" in response.json()["Message"]
    for value in ([{"_id": ["x"], "base_node_name": {"a": 1}}], [1], "nodes", [{"_id": OUTPUT_ID, "base_node_name": "_output",
                                                                           "inputs": [{"name": "nope"}]}]):
        odd = {"base_node_name": "graph", "title": "odd",
               "parameters": [{"name": "_nodes", "parameter_type": "list_node", "value": value}]}
        response = api.post("nodes", json={"node": odd, "action": "SAVE"})
        assert response.status_code == 400, (value, response.text)
    default = api.ok("get", "nodes/graph")["data"]
    assert [n["_id"] for n in _inner(default).values()] == [INPUT_ID, OUTPUT_ID]


def test_a_graph_saved_as_an_operation_runs_inside_another_graph(api, shared_tmp) -> None:
    journal = shared_file(shared_tmp / "journal")
    double = _double(api, journal, "g")
    seed = api.upload(b"4", "number")
    first = instance(double, **{"in": [(seed, "out")]})
    second = instance(double, **{"in": [(first, "out")]})
    first["title"], second["title"] = "first", "second"
    saved = api.ok("post", "graphs", json={"graph": graph("times four", [seed, first, second]), "actions": ["SAVE"]})
    body = api.ok("post", f"graphs/{saved['graph']['_id']}/as_operation")
    made = body["node"]
    assert body["status"] == "SUCCESS" and made["base_node_name"] == "graph" and made["node_status"] == "CREATED"
    assert [(i["name"], i["file_types"]) for i in made["inputs"]] == [("number", ["file"])]
    assert [o["name"] for o in made["outputs"]] == ["out"]  # `first.out` is read inside, `second.out` is not
    approved = api.save_operation(made)
    nine = api.upload(b"9", "nine")
    outer = instance(approved, number=[(nine, "out")])
    data = api.wait(_run(api, [nine, outer], "uses times four"), timeout=120)
    assert data["graph_running_status"] == "SUCCESS", data
    assert api.resource(output_id(by_title(data, "times four"), "out")) == b"36"
    # a graph with nothing to run is refused with a message
    empty = api.ok("post", "graphs", json={"graph": graph("only a file", [nine]), "actions": ["SAVE"]})
    response = api.post(f"graphs/{empty['graph']['_id']}/as_operation")
    assert response.status_code == 400 and "no operations" in response.json()["Message"]


def test_a_rerun_restores_the_whole_composite_without_a_runner(api, stack, shared_tmp) -> None:
    journal = shared_file(shared_tmp / "journal")
    quadruple = _composite(api, journal)["node"]
    two = api.upload(b"2", "two")
    inside = instance(quadruple, data=[(two, "out")])
    graph_id = _run(api, [two, inside], "composite cached")
    first = api.wait(graph_id, timeout=120)
    assert first["graph_running_status"] == "SUCCESS"
    runs_before, opened_before = stack.lambda_front.invocations["run"], stack.lambda_front.invocations["open"]
    assert api.ok("post", f"graphs/{graph_id}/approve")["status"] == "SUCCESS"
    again = api.wait(graph_id, timeout=60)
    assert again["graph_running_status"] == "SUCCESS"
    node = by_title(again, "quadruple")
    assert node["node_running_status"] == "RESTORED"
    assert output_id(node, "result") == output_id(by_title(first, "quadruple"), "result")
    assert api.resource(output_id(node, "result")) == b"8"
    assert {n["node_running_status"] for n in _inner(node).values()} == {"SPECIAL", "RESTORED"}
    assert stack.lambda_front.invocations["run"] == runs_before  # no runner, no nested execution
    assert stack.lambda_front.invocations["open"] == opened_before
    assert open(journal).read().split() == ["inner-1", "inner-2"]
    # removing the composite from the graph keeps the run as it ran (composite and all) ...
    from chalicelib.store import run_records
    from chalicelib.store.graph_items import run_items
    from chalicelib.store.models import GraphNodeModel
    inner_items = f"{run_items(graph_id, again['run_id'])}.{inside['_id']}"
    assert len(list(GraphNodeModel.query(inner_items))) == 4
    stored = api.ok("get", f"graphs/{graph_id}")["data"]
    api.ok("post", "graphs", json={"graph": dict(stored, nodes=[two]), "actions": ["SAVE"]})
    kept = by_title(api.ok("get", f"runs/{again['run_id']}")["data"]["graph"], "quadruple")
    assert {n["node_running_status"] for n in _inner(kept).values()} == {"SPECIAL", "RESTORED"}
    # ... until retention lets the run go: its composite's operations go with it
    assert run_records.delete(run_records.expired(graph_id, keep=set(), newest=0)) == 2
    assert list(GraphNodeModel.query(inner_items)) == []
    # a changed operation inside is a different composite: it runs again
    changed = _composite(api, journal, sleep=0.01)["node"]
    other = instance(changed, data=[(two, "out")])
    data = api.wait(_run(api, [two, other], "composite changed"), timeout=120)
    assert by_title(data, "quadruple")["node_running_status"] == "SUCCESS"


def test_generated_code_recreates_a_graph_with_a_composite(api, shared_tmp) -> None:
    import subprocess
    import sys

    quadruple = _composite(api, shared_file(shared_tmp / "journal"))["node"]
    one = api.upload(b"1", "one")
    graph_id = _run(api, [one, instance(quadruple, data=[(one, "out")])], "composite to code")
    assert api.wait(graph_id, timeout=120)["graph_running_status"] == "SUCCESS"
    code = api.ok("post", f"graphs/{graph_id}/generate_code")["code"]
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PLYNX_API_URL=api.base, PYTHONPATH=repo))
    assert done.returncode == 0, done.stderr
    copy = api.ok("get", f"graphs/{done.stdout.strip().splitlines()[-1]}")["data"]
    inner = _inner(by_title(copy, "quadruple"))
    assert set(inner) == {"Inputs", "Outputs", "double inner-1", "double inner-2"}
    assert inner["Outputs"]["inputs"][0]["values"][0]["node_id"] == inner["double inner-2"]["_id"]
    data = api.wait(api.ok("post", f"graphs/{copy['_id']}/approve")["graph"]["_id"], timeout=120)
    assert api.resource(output_id(by_title(data, "quadruple"), "result")) == b"4"
