"""Try an operation before approving it (POST /nodes/try): a one-node run through the real engine that leaves
no library version and no cache entry, whose outputs and logs are read as a run's; bad input is a 400.

The second user's side (a trial is its author's only; inputs must be readable) is in tests/security/test_tenants.py.
"""
from __future__ import annotations

import secrets
import time

from tests.helpers import log_id, operation, output_id

UPPER = ("import sys\n"
         "text = open(inputs['in']).read()\n"
         "open(outputs['out'], 'w').write(text.upper() * int(params['times']))\n"
         "print('tried with', params['word'])\n"
         "print('to stderr', file=sys.stderr)\n")
ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}


def _draft(title: str) -> dict:
    """An operation's draft as the editor holds it: never saved, so in no table at all."""
    node = operation("python", title, UPPER, inputs=[dict(ONE)], outputs=["out"], params={"times": 1, "word": "x"})
    node["_id"] = secrets.token_hex(12)
    return node


def _wait(api, trial_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        trial = api.ok("get", f"trials/{trial_id}")["data"]
        if trial["run_status"] in ("SUCCESS", "FAILED", "CANCELED"):
            return trial
        assert time.monotonic() < deadline, trial
        time.sleep(0.1)


def test_try_runs_the_draft_and_leaves_no_library_version_and_no_cache_entry(api) -> None:
    from chalicelib.store.models import CacheModel, GraphModel, NodeModel

    tag = f"trial{secrets.token_hex(4)}"
    data = api.upload(b"abc\n", f"{tag} input")
    draft = _draft(f"{tag} upper")
    cache_before = {entry.key for entry in CacheModel.scan()}
    nodes_before = NodeModel.count()
    graphs_before = api.ok("post", "search_graphs", json={"search": tag})["total_count"]
    body = api.ok("post", "nodes/try", json={"node": draft, "inputs": {"in": output_id(data, "out")},
                                             "parameters": {"times": 2, "word": "hello"}})
    assert body["status"] == "SUCCESS" and body["node_id"] == draft["_id"], body
    trial = _wait(api, body["trial_id"])
    assert trial["run_status"] == "SUCCESS" and trial["kind"] == "trial" and trial["how"] == "TRIAL", trial
    assert trial["node_id"] == draft["_id"]
    ran = trial["operation"]
    assert ran["node_running_status"] == "SUCCESS" and ran["title"] == f"{tag} upper"
    assert api.resource(output_id(ran, "out")) == b"ABC\nABC\n"  # the parameter value given, not the draft's 1
    assert api.resource(log_id(ran, "stdout")) == b"tried with hello\n"
    assert api.resource(log_id(ran, "stderr")) == b"to stderr\n"
    preview = api.get(f"resources/{output_id(ran, 'out')}", params={"preview": "true"})
    assert preview.status_code == 200 and "ABC" in preview.text
    # the run routes read it too, as a run of kind `trial`
    assert api.ok("get", f"runs/{body['trial_id']}")["data"]["kind"] == "trial"
    listed = api.ok("get", f"graphs/{body['graph_id']}/runs")["items"]
    assert [run["_id"] for run in listed] == [body["trial_id"]] and listed[0]["kind"] == "trial"
    mine = api.ok("get", "trials", params={"node_id": draft["_id"]})["items"]
    assert body["trial_id"] in [t["trial_id"] for t in mine]
    assert api.ok("get", "trials", params={"node_id": "no-such-draft"})["items"] == []
    # no library version, nothing searchable, no cache entry
    assert NodeModel.count() == nodes_before
    assert api.get(f"nodes/{draft['_id']}").status_code == 404
    assert api.ok("post", "search_nodes", json={"search": f"{tag} upper"})["total_count"] == 0
    assert api.ok("post", "search_graphs", json={"search": tag})["total_count"] == graphs_before == 0
    assert GraphModel.get(body["graph_id"]).listing == "trial"
    assert {entry.key for entry in CacheModel.scan()} == cache_before

    # a second trial of the same draft runs again (no cache hit used), and still writes no entry
    again = api.ok("post", "nodes/try", json={"node": draft, "inputs": {"in": output_id(data, "out")},
                                              "parameters": {"times": 2, "word": "hello"}})
    second = _wait(api, again["trial_id"])
    assert second["operation"]["node_running_status"] == "SUCCESS" and not second["operation"].get("restored_from")
    assert second["operation"]["started"] and second["_id"] != trial["_id"]
    assert {entry.key for entry in CacheModel.scan()} == cache_before


def test_trials_expire_with_their_records_and_state_machines(api, stack, monkeypatch) -> None:
    import boto3

    from chalicelib.engine import gc, trials
    from chalicelib.store.models import GraphModel

    data = api.upload(b"z\n", "expiring input")
    draft = _draft("expiring")
    ids = []
    for _ in range(2):
        body = api.ok("post", "nodes/try", json={"node": draft, "inputs": {"in": output_id(data, "out")}})
        _wait(api, body["trial_id"])
        ids.append(body)
    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_url, region_name="us-east-1")
    machine = GraphModel.get(ids[0]["graph_id"]).state_machine_arn
    assert sfn.describe_state_machine(stateMachineArn=machine)["stateMachineArn"] == machine
    assert trials.expire("default", keep=1) >= 1  # the newest one stays
    assert api.get(f"trials/{ids[0]['trial_id']}").status_code == 404
    assert api.get(f"runs/{ids[0]['trial_id']}").status_code == 404
    assert api.get(f"graphs/{ids[0]['graph_id']}").status_code == 404
    assert machine not in [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    assert _wait(api, ids[1]["trial_id"])["run_status"] == "SUCCESS"
    # a garbage collection pass expires trials too (of every user: one who never tries again as well)
    newer = api.ok("post", "nodes/try", json={"node": draft, "inputs": {"in": output_id(data, "out")}})
    _wait(api, newer["trial_id"])
    monkeypatch.setenv("PLYNX_TRIALS_KEEP", "1")
    gc.collect()
    assert api.get(f"trials/{ids[1]['trial_id']}").status_code == 404
    assert _wait(api, newer["trial_id"])["run_status"] == "SUCCESS"


def test_bad_trials_are_refused_and_nothing_runs(api) -> None:
    from chalicelib.store.models import GraphModel

    data = output_id(api.upload(b"q\n", "bad trial input"), "out")
    draft = _draft("bad trial")
    trials_before = sum(1 for model in GraphModel.scan() if model.listing == "trial")
    cases = [
        ({"inputs": {"in": data}}, "`node` is required"),
        ({"node": draft, "inputs": {"nope": data}}, "has no input ['nope']"),
        ({"node": draft, "inputs": {}}, "Input `in` needs 1 value; 0 given"),
        ({"node": draft, "inputs": {"in": [data, data]}}, "takes at most 1 value"),
        ({"node": draft, "inputs": {"in": "../../etc/passwd"}}, "is not a resource id"),
        ({"node": draft, "inputs": {"in": 7}}, "must be a resource id"),
        ({"node": draft, "inputs": {"in": {"resource_id": data, "file_type": "nope"}}}, "unknown file_type `nope`"),
        ({"node": draft, "inputs": {"in": data}, "parameters": {"times": "many"}}, "`times` (int)"),
        ({"node": draft, "inputs": {"in": data}, "parameters": {"nope": 1}}, "no parameter `nope`"),
        ({"node": draft, "inputs": {"in": data}, "parameters": {"_cacheable": True}}, "system parameter"),
        ({"node": draft, "inputs": {"in": data}, "parameters": [1]}, "`parameters` must be an object"),
        ({"node": draft, "inputs": ["x"]}, "`inputs` must be an object"),
        ({"node": dict(draft, base_node_name="file")}, "Only an operation"),
        ({"node": draft, "inputs": {"in": data}, "graph": {}}, "takes no fields ['graph']"),
    ]
    for body, message in cases:
        response = api.post("nodes/try", json=body)
        assert response.status_code == 400, (body, response.text)
        assert message in response.json()["Message"], (message, response.text)
    # an id nobody stored: a 404, as for an id someone else stored (tests/security/test_tenants.py)
    missing = api.post("nodes/try", json={"node": draft, "inputs": {"in": "ab" * 32}})
    assert missing.status_code == 404 and "not found" in missing.json()["Message"], missing.text
    # an operation that does not validate: the seed's VALIDATION_FAILED, and nothing stored
    empty = {"mode": "python", "value": ""}
    broken = dict(draft, parameters=[{"name": "_cmd", "parameter_type": "code", "value": empty}])
    answer = api.ok("post", "nodes/try", json={"node": broken, "inputs": {"in": data}})
    assert answer["status"] == "VALIDATION_FAILED" and answer["validation_error"], answer
    assert sum(1 for model in GraphModel.scan() if model.listing == "trial") == trials_before
    assert api.get("trials/no-such-trial").status_code == 404
    # a run that is not a trial is no trial
    placed = dict(api.upload(b"r\n", "not a trial"), _id=secrets.token_hex(12))
    run_id = api.ok("post", "graphs", json={"graph": {"title": "not a trial", "nodes": [placed]},
                                            "actions": ["SAVE", "APPROVE"]})["run_id"]
    assert api.ok("get", f"runs/{run_id}")["data"]["kind"] == "run"
    assert api.get(f"trials/{run_id}").status_code == 404


def test_a_trial_runs_where_its_placement_says(api, stack) -> None:
    """The same compiled path and runner as a run: a draft placed on Fargate is tried on Fargate (ecs runTask
    in its state machine; locally the stack runs the Fargate entry point), one on Lambda on Lambda."""
    import json

    import boto3

    from chalicelib.store.models import GraphModel

    data = output_id(api.upload(b"far\n", "placed input"), "out")
    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_url, region_name="us-east-1")
    for placement, on_ecs in (("fargate", True), ("lambda", False)):
        draft = _draft(f"placed on {placement}")
        draft["parameters"].append({"name": "_placement", "parameter_type": "str", "value": placement})
        body = api.ok("post", "nodes/try", json={"node": draft, "inputs": {"in": data}})
        trial = _wait(api, body["trial_id"], timeout=120)
        assert trial["run_status"] == "SUCCESS", trial.get("error")
        assert trial["operation"]["placement"] == placement
        assert api.resource(output_id(trial["operation"], "out")) == b"FAR\n"
        arn = GraphModel.get(body["graph_id"]).state_machine_arn
        definition = json.dumps(json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]))
        assert ("arn:aws:states:::ecs:runTask.sync" in definition) is on_ecs, definition[:2000]


def test_a_trials_logs_are_read_while_it_runs(api, shared_tmp) -> None:
    """Live logs as in a run: GET /trials/{id} shows what the operation printed while it is still RUNNING."""
    flag = str(shared_tmp / "trial seen")  # where the operation (its own uid) can see it
    cmd = ("import os, time\nprint('started', flush=True)\n"
           f"for _ in range(600):\n    if os.path.exists({flag!r}):\n        break\n    time.sleep(0.1)\n"
           "print('done')\n")
    draft = operation("python", "Slow trial", cmd)
    trial_id = api.ok("post", "nodes/try", json={"node": draft})["trial_id"]
    try:
        while True:  # the test's own timeout bounds it
            trial = api.ok("get", f"trials/{trial_id}")["data"]
            assert trial["run_status"] in ("READY", "RUNNING"), trial
            ran = trial["operation"]
            stdout = log_id(ran, "stdout")
            if ran["node_running_status"] == "RUNNING" and stdout and api.resource(stdout) == b"started\n":
                break
            time.sleep(0.1)
    finally:
        open(flag, "w").close()
    done = _wait(api, trial_id)
    assert done["run_status"] == "SUCCESS" and api.resource(log_id(done["operation"], "stdout")) == b"started\ndone\n"


def test_a_bash_draft_is_tried_on_an_array_input(api) -> None:
    """Several values for an array input, in order, each a file node of the trial's graph; a bash_jinja2 draft."""
    ids = [output_id(api.upload(text, f"part {i}"), "out") for i, text in enumerate((b"one\n", b"two\n", b"three\n"))]
    draft = operation("bash_jinja2", "Concatenate", "cat {{ inputs.parts | join(' ') }} > {{ outputs.out }}\n",
                      inputs=[{"name": "parts", "file_types": ["file"], "min_count": 2, "max_count": -1}],
                      outputs=["out"])
    body = api.ok("post", "nodes/try", json={"node": draft, "inputs": {"parts": [ids[2], {"resource_id": ids[0]},
                                                                                  ids[1]]}})
    trial = _wait(api, body["trial_id"])
    assert trial["run_status"] == "SUCCESS", trial.get("error")
    assert api.resource(output_id(trial["operation"], "out")) == b"three\none\ntwo\n"
    assert [n["base_node_name"] for n in trial["graph"]["nodes"]].count("file") == 3
    refused = api.post("nodes/try", json={"node": draft, "inputs": {"parts": [ids[0]]}})
    assert refused.status_code == 400 and "needs at least 2 values; 1 given" in refused.json()["Message"]
