"""`make up`'s process as a user runs it: start, answer the seed's curl, Ctrl-C, restart with the data kept."""
from __future__ import annotations

import re
import time

import pytest
import requests

from tests.helpers import graph, operation
from tests.processes import stack_env
from tests.processes import start as _start
from tests.processes import stop as _stop

pytestmark = pytest.mark.slow


def test_up_serves_the_seed_curl_and_keeps_data_across_restarts(tmp_path) -> None:
    env, ports = stack_env(str(tmp_path))
    env.update(POWERTOOLS_LOG_LEVEL="INFO")  # the operator's log lines on the console (the tests' default: WARNING)
    env.pop("PLYNX_LOG_FORMAT", None)
    api = f"http://localhost:{ports['PLYNX_API_PORT']}/plynx/api/v0"

    process = _start(env)
    try:
        new = requests.get(f"{api}/graphs/new", auth=("default", ""), timeout=10)
        assert new.status_code == 200 and new.json()["data"]["nodes"] == []
        ui = requests.get(f"http://localhost:{ports['PLYNX_UI_PORT']}/config.json", timeout=10).json()
        assert ui["api_url"] == api
        saved = requests.post(f"{api}/graphs", auth=("default", ""), timeout=10,
                              json={"graph": {"title": "kept", "nodes": []}, "actions": ["SAVE"]}).json()
        graph_id = saved["graph"]["_id"]
        schedule = requests.post(f"{api}/graphs/{graph_id}/schedules", auth=("default", ""), timeout=10, json={
            "expression": "rate(1 day)", "enabled": False}).json()["data"]
        slow = operation("bash_jinja2", "Slow", "sleep 20\n")
        running = requests.post(f"{api}/graphs", auth=("default", ""), timeout=10, json={
            "graph": graph("cut off", [slow]), "actions": ["APPROVE"]}).json()["graph"]["_id"]
        quick = requests.post(f"{api}/graphs", auth=("default", ""), timeout=10, json={
            "graph": graph("quick", [operation("bash_jinja2", "Quick", "echo the-users-own-output\n")]),
            "actions": ["APPROVE"]}).json()["graph"]["_id"]
        deadline = time.monotonic() + 30
        while requests.get(f"{api}/graphs/{running}", auth=("default", ""), timeout=10).json()["data"][
                "nodes"][0]["node_running_status"] != "RUNNING" or requests.get(
                f"{api}/graphs/{quick}", auth=("default", ""), timeout=10).json()["data"][
                "graph_running_status"] != "SUCCESS":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        console = _stop(process)
    # The console's log lines are readable, one a record (time, level, service, ids, message), not JSON blobs;
    # the API's name the request's graph, the runner's its graph, run and node; the operation's output is not there.
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\S* "
    assert re.search(stamp + rf"INFO +plynx-api graph={running} GET /plynx/api/v0/graphs/{{graph_id}} "
                     r"status=200 duration_ms=[\d.]+$", console, re.M), console[-5000:]
    assert re.search(stamp + rf"INFO +plynx-runner graph={quick} run=\S+ node=\S+ Operation SUCCESS ", console,
                     re.M), console[-5000:]
    assert not [line for line in console.splitlines() if line.lstrip().startswith("{")], console[-5000:]
    assert "the-users-own-output" not in console

    process = _start(env)
    try:
        again = requests.get(f"{api}/graphs/{graph_id}", auth=("default", ""), timeout=10)
        assert again.status_code == 200 and again.json()["data"]["title"] == "kept"
        # its schedule too, EventBridge's part included (moto's scheduler backend is in the snapshot): it resumes
        resumed = requests.patch(f"{api}/schedules/{schedule['_id']}", auth=("default", ""), timeout=10,
                                 json={"enabled": True})
        assert resumed.status_code == 200 and len(resumed.json()["data"]["next_fire_times"]) == 5, resumed.text
        # the run cut off by the stop is closed, not left RUNNING for ever
        cut = requests.get(f"{api}/graphs/{running}", auth=("default", ""), timeout=10).json()["data"]
        assert cut["graph_running_status"] == "FAILED"
        assert cut["nodes"][0]["node_running_status"] == "FAILED"
    finally:
        _stop(process)
