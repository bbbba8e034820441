"""Dependency waits: every operation runs once, after its own inputs, and no later than they allow."""
from __future__ import annotations

import json

from tests.helpers import by_title, graph, instance, operation, output_id, shared_file

STEP = '''import json, time
with open(params["journal"], "a") as j:
    j.write(json.dumps({"event": "start", "name": params["name"], "t": time.time()}) + "\\n")
seen = []
for path in inputs["in"]:
    seen.extend(json.load(open(path)))
time.sleep(float(params["sleep"]))
with open(outputs["out"], "w") as out:
    json.dump(seen + [params["name"]], out)
with open(params["journal"], "a") as j:
    j.write(json.dumps({"event": "end", "name": params["name"], "t": time.time()}) + "\\n")
'''
IN = {"name": "in", "file_types": ["file"], "min_count": 0, "max_count": -1}


def _step(api) -> dict:
    return api.save_operation(operation("python", "Step", STEP, inputs=[IN], outputs=["out"],
                                        params={"journal": "", "name": "", "sleep": 0.0}))


def _place(step: dict, name: str, journal: str, sleep: float, *deps: dict) -> dict:
    node = instance(step, **{"in": [(d, "out") for d in deps]})
    node["title"] = name
    for parameter in node["parameters"]:
        value = {"journal": journal, "name": name, "sleep": sleep}.get(parameter["name"])
        if value is not None:
            parameter["value"] = value
    return node


def _run(api, nodes: list[dict], title: str) -> dict:
    body = api.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE", "APPROVE"]})
    assert body["status"] == "SUCCESS", body.get("validation_error")
    return api.wait(body["graph"]["_id"], timeout=120)


def _journal(path) -> dict[tuple[str, str], float]:
    events = [json.loads(line) for line in path.read_text().splitlines()]
    keys = [(e["event"], e["name"]) for e in events]
    assert len(keys) == len(set(keys)), f"an operation ran twice: {keys}"
    return {(e["event"], e["name"]): e["t"] for e in events}


def _assert_dependency_order(times: dict, edges: dict[str, list[str]]) -> None:
    for node, deps in edges.items():
        assert ("start", node) in times, f"{node} never ran"
        for dep in deps:
            assert times[("end", dep)] <= times[("start", node)], f"{node} started before {dep} ended"


def test_diamond_runs_each_node_once_in_dependency_order(api, shared_tmp) -> None:
    journal = shared_file(shared_tmp / "journal")
    step = _step(api)
    a = _place(step, "a", journal, 0.2)
    b = _place(step, "b", journal, 0.5, a)
    c = _place(step, "c", journal, 0.1, a)
    d = _place(step, "d", journal, 0.0, b, c)
    result = _run(api, [a, b, c, d], "diamond")
    assert result["graph_running_status"] == "SUCCESS"
    edges = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}
    times = _journal(shared_tmp / "journal")
    assert len(times) == 8
    _assert_dependency_order(times, edges)
    seen = json.loads(api.resource(output_id(by_title(result, "d"), "out")))
    assert sorted(seen) == ["a", "a", "b", "c", "d"]  # d read both branches, each carrying a


def test_non_series_parallel_graph_starts_each_node_when_its_own_inputs_are_ready(api, shared_tmp) -> None:
    # N shape plus a tail: a -> c, b -> c, b -> d, d -> e. Level by level, d would wait for slow a.
    journal = shared_file(shared_tmp / "journal")
    step = _step(api)
    a = _place(step, "a", journal, 3.0)
    b = _place(step, "b", journal, 0.0)
    c = _place(step, "c", journal, 0.0, a, b)
    d = _place(step, "d", journal, 0.0, b)
    e = _place(step, "e", journal, 0.0, d)
    result = _run(api, [a, b, c, d, e], "n-shape")
    assert result["graph_running_status"] == "SUCCESS"
    assert {n["title"]: n["node_running_status"] for n in result["nodes"]} == dict.fromkeys("abcde", "SUCCESS")
    times = _journal(shared_tmp / "journal")
    _assert_dependency_order(times, {"a": [], "b": [], "c": ["a", "b"], "d": ["b"], "e": ["d"]})
    # ordering, not timing: d and e ran while a was still running
    assert times[("end", "e")] < times[("end", "a")]


def test_a_wide_random_dag_runs_every_node_once_in_order(api, shared_tmp) -> None:
    import random

    rng = random.Random(4)
    journal = shared_file(shared_tmp / "journal")
    step = _step(api)
    nodes: list[dict] = []
    edges: dict[str, list[str]] = {}
    for i in range(30):
        deps = rng.sample(nodes, min(len(nodes), rng.choice([0, 1, 2, 3])))
        name = f"n{i}"
        edges[name] = [d["title"] for d in deps]
        nodes.append(_place(step, name, journal, rng.choice([0.0, 0.05, 0.2]), *deps))
    result = _run(api, nodes, "random dag")
    assert result["graph_running_status"] == "SUCCESS"
    times = _journal(shared_tmp / "journal")
    assert len(times) == 60
    _assert_dependency_order(times, edges)
