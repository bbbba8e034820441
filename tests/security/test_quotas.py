"""Quotas a tenant cannot escape: concurrent runs, `_timeout`, `_retries` and operations per graph, per user.

A multi-user stack of its own (as `make up SECRET_KEY=...` starts it) with tight caps in its config; `mallory`
is an ordinary user made with the users CLI, `root` an admin (exempt). On the code before quotas, every
refused APPROVE below started a run.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.conftest import REPO
from tests.helpers import graph, instance, operation
from tests.processes import stack_env, start, stop

pytestmark = pytest.mark.slow
SECRET = "a-quota-test-secret-key-of-at-least-32-bytes"
CAPS = {"concurrent_runs": 2, "operations_per_graph": 4, "lambda_timeout_seconds": 700,
        "fargate_timeout_seconds": 1200, "retries": 2}
INPUT_ID, OUTPUT_ID = "2419f9f6d8b5da6e4bb8f8d4", "56a2bd3af3fe5ee6d63ac7dd"
NAP = "import time\ntime.sleep(float(params['nap']))\n"


class Tenant:
    """One signed-in user of the quota stack."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.headers = base, {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.base}/{path}", headers=self.headers, timeout=60, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> dict:
        response = self.call(method, path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def operation(self, title: str, cmd: str = NAP, **params: Any) -> dict:
        body = self.ok("post", "nodes", json={"node": operation("python", title, cmd, params=params),
                                              "action": "APPROVE"})
        assert body["status"] == "SUCCESS", body
        return body["node"]

    def saved(self, title: str, nodes: list[dict]) -> str:
        return self.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE"]})["graph"]["_id"]

    def approve(self, graph_id: str) -> requests.Response:
        return self.call("post", f"graphs/{graph_id}/approve")

    def status(self, graph_id: str) -> str:
        return self.ok("get", f"graphs/{graph_id}")["data"]["graph_running_status"]

    def wait(self, graph_id: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while (status := self.status(graph_id)) not in ("SUCCESS", "FAILED", "CANCELED"):
            assert time.monotonic() < deadline, f"{graph_id} still {status}"
            time.sleep(0.2)
        return status

    def cancel(self, graph_id: str) -> None:
        self.ok("post", f"graphs/{graph_id}/cancel")


@pytest.fixture(scope="module")
def quota_stack() -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="plynx-quotas-") as data_dir:
        config = f"{data_dir}/config.yaml"
        with open(config, "w", encoding="utf-8") as stream:
            json.dump({"quotas": CAPS}, stream)  # JSON is YAML
        env, ports = stack_env(data_dir + "/data")
        env["PLYNX_CONFIG"] = config
        process = start(env, "--secret-key", SECRET)
        try:
            base = f"http://localhost:{ports['PLYNX_API_PORT']}/plynx/api/v0"
            tokens = {}
            for name, admin in (("mallory", False), ("root", True)):
                made = subprocess.run([sys.executable, "-m", "chalicelib.api.user_cli", "--endpoint",
                                       f"http://127.0.0.1:{ports['PLYNX_MOTO_PORT']}", "create", name,
                                       "--password", f"{name}-password", *(["--admin"] if admin else [])],
                                      cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
                assert made.returncode == 0, made.stderr
                answer = requests.get(f"{base}/token", auth=(name, f"{name}-password"), timeout=30)
                tokens[name] = answer.json()["access_token"]
            yield {"mallory": Tenant(base, tokens["mallory"]), "root": Tenant(base, tokens["root"])}
        finally:
            stop(process)


@pytest.fixture()
def mallory(quota_stack: dict[str, Tenant]) -> Iterator[Tenant]:
    tenant = quota_stack["mallory"]
    yield tenant
    # leave no run of hers going for the next test
    found = tenant.ok("post", "search_graphs", json={"search": "author:mallory", "per_page": 100})
    for item in found["items"]:
        if item["graph_running_status"] in ("READY", "RUNNING", "FAILED_WAITING"):
            tenant.call("post", f"graphs/{item['_id']}/cancel")


def _tree_names(tree: dict, parameter: str) -> list[str]:
    """Ids of the NODE entries holding an INVALID_VALUE on `parameter` (at any depth)."""
    found = []
    for child in tree["children"]:
        if child["target"] == "NODE" and any(c["target"] == "PARAMETER" and c["object_id"] == parameter
                                             and c["validation_code"] == "INVALID_VALUE" for c in child["children"]):
            found.append(child["object_id"])
        found += _tree_names(child, parameter)
    return found


@pytest.mark.parametrize("params,parameter,named", [
    ({"_timeout": 800}, "_timeout", "is 800 s, over the quota `lambda_timeout_seconds` (700 s on lambda)"),
    ({"_timeout": 2000}, "_timeout", "is 2000 s, over the quota `fargate_timeout_seconds` (1200 s on fargate)"),
    ({"_timeout": 800, "_placement": "fargate"}, "_timeout", None),  # under Fargate's cap: it runs
    ({"_retries": 3}, "_retries", "is 3, over the quota `retries` (2)"),
])
def test_a_parameter_over_its_cap_is_refused_at_approve_naming_the_cap(mallory, params, parameter, named) -> None:
    node = instance(mallory.operation(f"Capped {parameter}", **{"nap": 0, **params}))
    graph_id = mallory.saved("capped", [node])
    response = mallory.approve(graph_id)
    assert response.status_code == 200, response.text
    body = response.json()
    if named is None:
        assert body["status"] == "SUCCESS", body
        assert mallory.wait(graph_id) == "SUCCESS"
        return
    assert body["status"] == "VALIDATION_FAILED", body
    assert _tree_names(body["validation_error"], parameter) == [node["_id"]]
    assert body["message"] == f"Graph did not pass validation: `{parameter}` of `Capped {parameter}` ({node['_id']}) {named}"
    assert mallory.status(graph_id) == "CREATED"  # nothing started
    validated = mallory.ok("post", f"graphs/{graph_id}/validate")  # VALIDATE says so too, before any APPROVE
    assert validated["status"] == "VALIDATION_FAILED" and validated["message"] == body["message"]


def test_operations_inside_composites_count_toward_operations_per_graph(mallory) -> None:
    nap = mallory.operation("Nap", nap=0)
    inner = [instance(nap) for _ in range(3)]
    collector = {"_id": OUTPUT_ID, "base_node_name": "_output", "inputs": []}
    composite = mallory.ok("post", "nodes", json={"action": "APPROVE", "node": {
        "base_node_name": "graph", "title": "three inside", "parameters": [
            {"name": "_nodes", "parameter_type": "list_node",
             "value": [{"_id": INPUT_ID, "base_node_name": "_input"}, *inner, collector]}]}})
    assert composite["status"] == "SUCCESS", composite
    # 1 composite + 3 inside + 1 = 5 operations, over 4 (files do not count)
    text = mallory.ok("post", "upload_file", files={"data": ("t.txt", b"x")}, data={"title": "t"})["node"]
    big = mallory.saved("big", [instance(composite["node"]), instance(nap), instance(text)])
    response = mallory.approve(big)
    assert response.status_code == 400, response.text
    assert response.json()["Message"] == ("The graph has 5 operations (those inside composites counted), over the "
                                          "quota `operations_per_graph` (4)")
    assert mallory.status(big) == "CREATED"
    answer = mallory.call("post", "graphs", json={"graph": graph("big too", [instance(composite["node"]), instance(nap)]),
                                                  "actions": ["SAVE", "APPROVE"]})
    assert answer.status_code == 400 and "`operations_per_graph` (4)" in answer.json()["Message"]
    fits = mallory.saved("fits", [instance(nap) for _ in range(4)])
    assert mallory.approve(fits).status_code == 200
    assert mallory.wait(fits) == "SUCCESS"


def test_concurrent_runs_are_capped_and_a_cancel_frees_a_slot(mallory) -> None:
    nap = mallory.operation("Long nap", nap=60)
    graphs = [mallory.saved(f"long {i}", [instance(nap)]) for i in range(3)]
    assert [mallory.approve(g).status_code for g in graphs[:2]] == [200, 200]
    refused = mallory.approve(graphs[2])
    assert refused.status_code == 400, refused.text
    assert refused.json()["Message"] == ("`mallory` has 2 run(s) going, the quota `concurrent_runs` (2): wait for "
                                         "one to end or cancel one")
    assert mallory.status(graphs[2]) == "CREATED"
    mallory.cancel(graphs[0])
    assert mallory.approve(graphs[2]).status_code == 200  # the canceled run's slot is free again
    refused = mallory.approve(mallory.saved("one more", [instance(nap)]))
    assert refused.status_code == 400 and "`concurrent_runs` (2)" in refused.json()["Message"]


def test_two_approves_at_once_do_not_both_take_the_last_slot(mallory) -> None:
    nap = mallory.operation("Racing nap", nap=60)
    first = mallory.saved("holds one", [instance(nap)])
    assert mallory.approve(first).status_code == 200
    for round_ in range(3):
        racers = [mallory.saved(f"racer {round_} {i}", [instance(nap)]) for i in range(2)]
        barrier, answers = threading.Barrier(2), {}

        def race(graph_id: str) -> None:
            barrier.wait()
            answers[graph_id] = mallory.approve(graph_id)

        threads = [threading.Thread(target=race, args=(g,)) for g in racers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted(answer.status_code for answer in answers.values())
        assert codes == [200, 400], {g: (a.status_code, a.text[:200]) for g, a in answers.items()}
        loser = next(g for g, a in answers.items() if a.status_code == 400)
        assert "`concurrent_runs` (2)" in answers[loser].json()["Message"] and mallory.status(loser) == "CREATED"
        winner = next(g for g, a in answers.items() if a.status_code == 200)
        mallory.cancel(winner)


def test_a_slot_is_freed_when_a_run_succeeds_or_fails(mallory) -> None:
    quick = mallory.operation("Quick", nap=0)
    broken = mallory.operation("Broken", "raise SystemExit('no')\n")
    for node, ending in ((quick, "SUCCESS"), (broken, "FAILED"), (quick, "SUCCESS"), (broken, "FAILED")):
        graph_id = mallory.saved(f"ends {ending}", [instance(node)])
        assert mallory.approve(graph_id).status_code == 200
        assert mallory.wait(graph_id) == ending
    # four runs have ended: both slots are free
    nap = mallory.operation("Nap after", nap=60)
    going = [mallory.saved(f"after {i}", [instance(nap)]) for i in range(2)]
    assert [mallory.approve(g).status_code for g in going] == [200, 200]


def test_admins_are_exempt(quota_stack) -> None:
    root = quota_stack["root"]
    nap = root.operation("Admin nap", nap=30, _retries=4, _timeout=400)
    going = [root.saved(f"admin {i}", [instance(nap) for _ in range(5)]) for i in range(3)]
    try:
        for graph_id in going:
            response = root.approve(graph_id)
            assert response.status_code == 200 and response.json()["status"] == "SUCCESS", response.text
    finally:
        for graph_id in going:
            root.call("post", f"graphs/{graph_id}/cancel")


# --- the slot's other ends (in the session's stack, whose caps are the defaults) ---------------------


def test_the_execution_ended_event_and_reconcile_free_the_slot(api) -> None:
    from chalice.test import Client

    import app
    from chalicelib.domain.enums import IAMPolicies
    from chalicelib.domain.permissions import Caller
    from chalicelib.engine import quotas, runs, settle
    from chalicelib.store.models import QuotaModel
    from tests.infra.test_execution_events import _event

    eve = Caller("eve-quota", IAMPolicies.DEFAULT)
    op = api.save_operation(operation("bash_jinja2", "slot", "sleep 1\n"))

    def held() -> set[str]:
        try:
            return QuotaModel.get(str(eve), consistent_read=True).runs or set()
        except QuotaModel.DoesNotExist:
            return set()

    def queued(title: str) -> tuple[str, str]:
        graph_id = api.ok("post", "graphs", json={"graph": graph(title, [instance(op)]), "actions": ["SAVE"]})["graph"]["_id"]
        run_id = runs._run_id(graph_id)
        assert quotas.acquire(eve, graph_id, run_id) == str(eve)
        runs.queue_run(graph_id, None, run_id=run_id, quota_user=str(eve))
        assert f"{graph_id}/{run_id}" in held()
        return graph_id, run_id

    graph_id, run_id = queued("ended by its event")
    with Client(app.app) as client:
        client.lambda_.invoke("execution_ended", _event(client, "ABORTED", graph_id, run_id))
    assert f"{graph_id}/{run_id}" not in held()

    graph_id, run_id = queued("ended by reconcile")  # no execution was ever started for it
    assert graph_id in settle.reconcile_active()
    assert f"{graph_id}/{run_id}" not in held()


def test_a_slot_left_by_a_run_that_ended_unseen_is_reclaimed(api) -> None:
    from chalicelib.domain.enums import IAMPolicies
    from chalicelib.domain.permissions import Caller
    from chalicelib.domain.quotas import quotas as configured
    from chalicelib.engine import quotas, runs
    from chalicelib.store.models import GraphModel, QuotaModel

    ivan = Caller("ivan-quota", IAMPolicies.DEFAULT)
    op = api.save_operation(operation("bash_jinja2", "leak", "true\n"))
    cap = configured().concurrent_runs
    ended = []
    for i in range(cap):  # runs that ended without freeing their slot (a process killed in between)
        graph_id = api.ok("post", "graphs", json={"graph": graph(f"leaked {i}", [instance(op)]),
                                                  "actions": ["SAVE", "APPROVE"]})["graph"]["_id"]
        api.wait(graph_id)
        ended.append(f"{graph_id}/{GraphModel.get(graph_id).run_id}")
    QuotaModel(str(ivan)).update(actions=[QuotaModel.runs.add(set(ended))])
    graph_id = api.ok("post", "graphs", json={"graph": graph("after the leak", [instance(op)]),
                                              "actions": ["SAVE"]})["graph"]["_id"]
    run_id = runs._run_id(graph_id)
    assert quotas.acquire(ivan, graph_id, run_id) == str(ivan)
    assert QuotaModel.get(str(ivan), consistent_read=True).runs == {f"{graph_id}/{run_id}"}
    quotas.release(str(ivan), graph_id, run_id)


def test_trials_count_against_the_same_quotas_as_runs(mallory) -> None:
    """Try is no way around the quotas: two trials take both concurrent-run slots (a third trial and an APPROVE
    are refused, nothing stored), and a draft's `_timeout` over the cap does not run."""
    draft = operation("python", "Trial nap", NAP, params={"nap": 60})
    trials = [mallory.ok("post", "nodes/try", json={"node": draft})["trial_id"] for _ in range(2)]
    refused = mallory.call("post", "nodes/try", json={"node": draft})
    assert refused.status_code == 400 and "`concurrent_runs` (2)" in refused.json()["Message"], refused.text
    assert sorted(t["trial_id"] for t in mallory.ok("get", "trials")["items"]) == sorted(trials)  # none stored
    waiting = mallory.saved("after trials", [instance(mallory.operation("Nap behind trials", nap=0))])
    assert mallory.approve(waiting).status_code == 400 and mallory.status(waiting) == "CREATED"
    for trial_id in trials:
        mallory.ok("post", f"runs/{trial_id}/cancel")
    assert mallory.approve(waiting).status_code == 200  # the trials' slots are free again
    assert mallory.wait(waiting) == "SUCCESS"
    long = operation("python", "Trial too long", NAP, params={"nap": 0, "_timeout": 800})
    answer = mallory.ok("post", "nodes/try", json={"node": long})
    assert answer["status"] == "VALIDATION_FAILED" and "`lambda_timeout_seconds` (700 s" in answer["message"], answer
