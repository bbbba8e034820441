"""`make up`'s process as a user runs it: start, answer the seed's curl, Ctrl-C, restart with the data kept."""
from __future__ import annotations

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
        slow = operation("bash_jinja2", "Slow", "sleep 20\n")
        running = requests.post(f"{api}/graphs", auth=("default", ""), timeout=10, json={
            "graph": graph("cut off", [slow]), "actions": ["APPROVE"]}).json()["graph"]["_id"]
        deadline = time.monotonic() + 30
        while requests.get(f"{api}/graphs/{running}", auth=("default", ""), timeout=10).json()["data"][
                "nodes"][0]["node_running_status"] != "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        _stop(process)

    process = _start(env)
    try:
        again = requests.get(f"{api}/graphs/{graph_id}", auth=("default", ""), timeout=10)
        assert again.status_code == 200 and again.json()["data"]["title"] == "kept"
        # the run cut off by the stop is closed, not left RUNNING for ever
        cut = requests.get(f"{api}/graphs/{running}", auth=("default", ""), timeout=10).json()["data"]
        assert cut["graph_running_status"] == "FAILED"
        assert cut["nodes"][0]["node_running_status"] == "FAILED"
    finally:
        _stop(process)
