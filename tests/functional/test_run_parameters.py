"""Parameterised runs through the REST API: a graph's publicable parameters set for one run, checked by type,
used by the operation, recorded, reused by a retry, part of the cache key, never written to the saved graph."""
from __future__ import annotations

from tests.helpers import by_title, graph, instance, operation, output_id

SAY = ("import os\nassert os.path.exists(params['flag']), 'no flag yet'\n"
       "open(outputs['out'], 'w').write(f\"{params['word']} x{params['times']} {params['loud']} {params['mode']}\")\n"
       "print('said', params['word'])\n")


def _say(api, flag: str) -> dict:
    body = operation("python", "say", SAY, outputs=["out"], params={"word": "stored", "times": 1, "flag": flag,
                                                                     "secret": "kept"})
    for parameter in body["parameters"]:
        parameter["publicable"] = parameter["name"] in ("word", "times")
    body["parameters"] += [
        {"name": "loud", "parameter_type": "bool", "value": False, "publicable": True},
        {"name": "mode", "parameter_type": "enum", "value": {"values": ["fast", "slow"], "index": 0},
         "publicable": True},
    ]
    return api.save_operation(body)


def _saved(api, title: str, nodes: list[dict]) -> dict:
    body = api.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE"]})
    assert body["status"] == "SUCCESS", body
    return body["graph"]


def _run(api, graph_id: str, parameters: dict | None = None) -> tuple[str, dict]:
    body = api.ok("post", f"graphs/{graph_id}/approve", json={"parameters": parameters} if parameters else {})
    assert body["status"] == "SUCCESS", body
    api.wait(graph_id)
    return body["run_id"], api.ok("get", f"runs/{body['run_id']}")["data"]


def test_refused_parameters_are_a_400_and_nothing_runs(api, stack, shared_tmp) -> None:
    stored = _saved(api, "refused parameters", [instance(_say(api, str(shared_tmp / "none")))])
    graph_id, node_id = stored["_id"], stored["nodes"][0]["_id"]
    runs_before = stack.lambda_front.invocations["run"]
    refused = {
        f"{node_id}.times": "many",  # not an int
        f"{node_id}.loud": "yes",  # not a bool
        f"{node_id}.mode": "medium",  # not one of the enum's values
        f"{node_id}.nope": 1,  # no such parameter
        f"{node_id}.secret": "x",  # not publicable
        f"{node_id}._timeout": 5,  # a system parameter
        f"nosuchnode.word": "x",
        "word": "x",  # not node_id.name
    }
    for name, value in refused.items():
        response = api.post(f"graphs/{graph_id}/approve", json={"parameters": {name: value}})
        assert response.status_code == 400, (name, response.text)
        assert name in response.json()["Message"] and "Run parameters refused" in response.json()["Message"]
    assert "is not an int" in api.post(f"graphs/{graph_id}/approve",
                                       json={"parameters": {f"{node_id}.times": "many"}}).json()["Message"]
    assert api.post(f"graphs/{graph_id}/approve", json={"parameters": ["x"]}).status_code == 400
    assert api.post(f"graphs/{graph_id}/approve", json={"params": {}}).status_code == 400  # a misspelt field
    assert api.post(f"graphs/{graph_id}/create_run", json={"parameters": {f"{node_id}.times": 1.5}}).status_code == 400
    # POST /graphs: refused before the SAVE is stored; parameters without a run are a mistake too
    changed = dict(stored, title="not saved")
    for actions in (["SAVE", "APPROVE"], ["SAVE", "CREATE_RUN"], ["SAVE"]):
        response = api.post("graphs", json={"graph": changed, "actions": actions,
                                            "parameters": {f"{node_id}.times": "many"}})
        assert response.status_code == 400, response.text
    after = api.ok("get", f"graphs/{graph_id}")["data"]
    assert after["title"] == "refused parameters" and after["_version"] == stored["_version"]
    assert after["graph_running_status"] == "CREATED" and not after.get("latest_run_id")
    assert api.ok("get", f"graphs/{graph_id}/runs")["total_count"] == 0
    assert stack.lambda_front.invocations["run"] == runs_before


def test_a_run_uses_records_and_caches_its_parameters_and_a_retry_reuses_them(api, stack, shared_tmp) -> None:
    flag = shared_tmp / "parameters-flag"
    flag.write_text("yes")
    stored = _saved(api, "parameterised", [instance(_say(api, str(flag)))])
    graph_id, node_id = stored["_id"], stored["nodes"][0]["_id"]
    given = {f"{node_id}.word": "given", f"{node_id}.times": 3, f"{node_id}.loud": True, f"{node_id}.mode": "slow"}

    runs_before = stack.lambda_front.invocations["run"]
    first, data = _run(api, graph_id, given)
    say = by_title(data["graph"], "say")
    assert data["run_status"] == "SUCCESS" and say["node_running_status"] == "SUCCESS"
    assert api.resource(output_id(say, "out")) == b"given x3 True slow"  # the operation saw the values
    assert data["parameters"] == {f"{node_id}.word": "given", f"{node_id}.times": 3, f"{node_id}.loud": True,
                                  f"{node_id}.mode": {"values": ["fast", "slow"], "index": 1}}
    assert api.ok("get", f"graphs/{graph_id}/runs")["items"][0]["parameters"] == data["parameters"]

    saved = api.ok("get", f"graphs/{graph_id}")["data"]  # the saved graph is as it was
    values = {p["name"]: p["value"] for p in saved["nodes"][0]["parameters"]}
    assert values["word"] == "stored" and values["times"] == 1 and values["loud"] is False
    assert saved["_version"] == stored["_version"]

    # another value: another cache key, the operation runs again; the stored values: not the first run's result
    second, data = _run(api, graph_id, {f"{node_id}.word": "other"})
    say = by_title(data["graph"], "say")
    assert say["node_running_status"] == "SUCCESS" and api.resource(output_id(say, "out")) == b"other x1 False fast"
    plain, data = _run(api, graph_id)
    say = by_title(data["graph"], "say")
    assert say["node_running_status"] == "SUCCESS" and api.resource(output_id(say, "out")) == b"stored x1 False fast"
    assert data["parameters"] == {}
    assert stack.lambda_front.invocations["run"] == runs_before + 3
    # the first run's values again: its result restored (CREATE_RUN takes them too)
    created = api.ok("post", "graphs", json={"graph": {"_id": graph_id}, "actions": ["CREATE_RUN"],
                                             "parameters": given})
    assert created["status"] == "SUCCESS", created
    api.wait(graph_id)
    data = api.ok("get", f"runs/{created['run_id']}")["data"]
    assert by_title(data["graph"], "say")["node_running_status"] == "RESTORED" and data["how"] == "CREATE_RUN"
    assert api.resource(output_id(by_title(data["graph"], "say"), "out")) == b"given x3 True slow"
    assert stack.lambda_front.invocations["run"] == runs_before + 3

    # a retry reuses the failed run's values
    flag.unlink()
    failed, data = _run(api, graph_id, {f"{node_id}.word": "retried", f"{node_id}.times": "7"})
    assert data["run_status"] == "FAILED" and data["parameters"][f"{node_id}.times"] == 7
    flag.write_text("yes")
    retried = api.ok("post", f"runs/{failed}/retry")["data"]["_id"]
    api.wait(graph_id)
    data = api.ok("get", f"runs/{retried}")["data"]
    assert data["run_status"] == "SUCCESS" and data["how"] == "RETRY"
    assert data["parameters"] == {f"{node_id}.word": "retried", f"{node_id}.times": 7}
    assert api.resource(output_id(by_title(data["graph"], "say"), "out")) == b"retried x7 False fast"
