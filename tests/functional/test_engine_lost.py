"""Runners that stop beating are lost; a canceled operation's process is stopped, not left to finish."""
from __future__ import annotations

import os
import time

import pytest

from tests.helpers import by_title, graph, instance, operation

SLEEPER = "import os, time\nopen(params['pid'], 'w').write(str(os.getpid()))\ntime.sleep(60)\n"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_settle_fails_a_silent_runner_and_waits_for_a_beating_one(api) -> None:
    from chalicelib.domain.util import now
    from chalicelib.engine import runs, settle
    from chalicelib.store.graph_items import run_items
    from chalicelib.store.models import GraphNodeModel

    op = api.save_operation(operation("python", "op", "pass\n"))
    silent, beating = instance(op), instance(op)
    silent["title"], beating["title"] = "silent", "beating"
    graph_id = api.ok("post", "graphs", json={"graph": graph("lost runner", [silent, beating]),
                                              "actions": ["SAVE"]})["graph"]["_id"]
    run_id = runs.queue_run(graph_id)  # queued, no execution: this test plays its runners and its settle step
    for node, stamp in ((silent, now(settle.LOST_AFTER_SECONDS + 5)), (beating, now())):
        GraphNodeModel(run_items(graph_id, run_id), node["_id"]).update(actions=[
            GraphNodeModel.node_running_status.set("RUNNING"), GraphNodeModel.update_date.set(stamp)])
    with pytest.raises(settle.StillRunning) as raised:
        settle.settle(graph_id, run_id, {"Error": "OperationFailed"})
    assert beating["_id"] in str(raised.value) and silent["_id"] not in str(raised.value)
    data = api.ok("get", f"graphs/{graph_id}")["data"]
    assert by_title(data, "silent")["node_running_status"] == "FAILED"
    assert by_title(data, "beating")["node_running_status"] == "RUNNING"
    settle.finalize(graph_id, run_id, "FAILED")
    assert api.ok("get", f"graphs/{graph_id}")["data"]["graph_running_status"] == "FAILED"


def test_cancel_stops_the_running_operation_process(api, shared_tmp) -> None:
    pid_file = shared_tmp / "pid"
    op = api.save_operation(operation("python", "sleeper", SLEEPER, params={"pid": str(pid_file)}))
    body = api.ok("post", "graphs", json={"graph": graph("cancel kills", [instance(op)]), "actions": ["SAVE", "APPROVE"]})
    graph_id = body["graph"]["_id"]
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    assert _alive(pid)
    api.ok("post", f"graphs/{graph_id}/cancel")
    deadline = time.monotonic() + 20  # the runner learns it at its next heartbeat (every 2 s)
    while _alive(pid):
        assert time.monotonic() < deadline, "the canceled operation is still running"
        time.sleep(0.1)
    data = api.ok("get", f"graphs/{graph_id}")["data"]
    assert data["graph_running_status"] == "CANCELED"
    assert by_title(data, "sleeper")["node_running_status"] == "CANCELED"
