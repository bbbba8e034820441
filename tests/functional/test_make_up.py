"""`make up`'s process as a user runs it: start, answer the seed's curl, Ctrl-C, restart with the data kept."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import REPO, _free_port
from tests.helpers import graph, operation

pytestmark = pytest.mark.slow


def _start(env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "infra.local"], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C" in line:
            return process
    process.kill()
    raise AssertionError("the local stack did not start:\n" + "".join(lines))


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    return out


def test_up_serves_the_seed_curl_and_keeps_data_across_restarts(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLYNX_", "MOTO_"))}
    ports = {name: str(_free_port()) for name in ("PLYNX_API_PORT", "PLYNX_UI_PORT", "PLYNX_MOTO_PORT")}
    env.update(ports, PLYNX_DATA_DIR=str(tmp_path))
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
