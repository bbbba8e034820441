"""Failure, cancel, kill -9, timeouts and retries: no node or graph is left RUNNING, nothing runs after a failure."""
from __future__ import annotations

import os
import signal
import time

from tests.helpers import by_title, graph, instance, log_id, operation, shared_file

IN = {"name": "in", "file_types": ["file"], "min_count": 0, "max_count": -1}
STEP = '''import time
open(params["journal"], "a").write(params["name"] + "\\n")
time.sleep(float(params["sleep"]))
if params["fail"] == "yes":
    raise SystemExit("failing on purpose")
open(outputs["out"], "w").write(params["name"])
'''


def _step(api, name: str, journal: str, sleep: float = 0.0, fail: bool = False, **deps_and_params) -> dict:
    op = api.save_operation(operation("python", name, STEP, inputs=[IN], outputs=["out"],
                                      params={"journal": journal, "name": name, "sleep": sleep,
                                              "fail": "yes" if fail else "no"}))
    return op


def _node(op: dict, *deps: dict) -> dict:
    return instance(op, **{"in": [(d, "out") for d in deps]})


def _start(api, nodes: list[dict], title: str) -> str:
    body = api.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE", "APPROVE"]})
    assert body["status"] == "SUCCESS", body.get("validation_error")
    return body["graph"]["_id"]


def _watch(api, graph_id: str, timeout: float = 90) -> tuple[dict, set[str]]:
    """Poll to the end; the graph statuses seen on the way."""
    seen = set()
    deadline = time.monotonic() + timeout
    while True:
        data = api.ok("get", f"graphs/{graph_id}")["data"]
        seen.add(data["graph_running_status"])
        if data["graph_running_status"] in ("SUCCESS", "FAILED", "CANCELED"):
            return data, seen
        assert time.monotonic() < deadline, data
        time.sleep(0.03)


def _statuses(data: dict) -> dict[str, str]:
    return {n["title"]: n["node_running_status"] for n in data["nodes"]}


def test_first_failure_waits_for_running_operations_then_fails(api, shared_tmp) -> None:
    journal = shared_file(shared_tmp / "journal")
    bad = _node(_step(api, "bad", journal, sleep=0.2, fail=True))
    slow = _node(_step(api, "slow", journal, sleep=2.0))
    after_bad = _node(_step(api, "after bad", journal), bad)
    after_slow = _node(_step(api, "after slow", journal), slow)
    join = _node(_step(api, "join", journal), after_bad, after_slow)
    data, seen = _watch(api, _start(api, [bad, slow, after_bad, after_slow, join], "fails"))
    assert data["graph_running_status"] == "FAILED"
    assert "FAILED_WAITING" in seen  # while `slow` was still running
    statuses = _statuses(data)
    assert statuses["bad"] == "FAILED"
    assert statuses["slow"] == "SUCCESS"  # already running: it finished
    assert statuses["after bad"] == statuses["after slow"] == statuses["join"] == "CANCELED"
    ran = (shared_tmp / "journal").read_text().split()
    assert sorted(ran) == ["bad", "slow"]  # nothing downstream of the failure ran, nothing new started
    assert "RUNNING" not in statuses.values()


def test_cancel_stops_the_run_and_leaves_canceled(api, shared_tmp) -> None:
    journal = shared_file(shared_tmp / "journal")
    first = _node(_step(api, "first", journal, sleep=3.0))
    second = _node(_step(api, "second", journal), first)
    other = _node(_step(api, "other", journal, sleep=0.0))
    waits = _node(_step(api, "waits", journal), first, other)
    graph_id = _start(api, [first, second, other, waits], "cancel me")
    deadline = time.monotonic() + 30
    while "first" not in ((shared_tmp / "journal").read_text() if os.path.exists(journal) else ""):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    body = api.ok("post", f"graphs/{graph_id}/cancel")
    assert body["status"] == "SUCCESS" and body["graph"]["graph_running_status"] == "CANCELED"
    statuses = _statuses(body["graph"])
    assert statuses["first"] == statuses["second"] == statuses["waits"] == "CANCELED"
    time.sleep(4)  # `first` has come back from its sleep by now: a late runner changes nothing
    data = api.ok("get", f"graphs/{graph_id}")["data"]
    assert data["graph_running_status"] == "CANCELED"
    assert _statuses(data)["first"] == _statuses(data)["second"] == "CANCELED"
    assert "second" not in (shared_tmp / "journal").read_text().split()
    # canceling what is not running is a conflict, with a message; the action form works as the endpoint
    again = api.post(f"graphs/{graph_id}/cancel")
    assert again.status_code == 409 and "not running" in again.json()["Message"]
    action = api.post("graphs", json={"graph": data, "actions": ["CANCEL"]})
    assert action.status_code == 409


def test_kill_9_of_a_running_operation_leaves_failed_not_running(api, shared_tmp) -> None:
    pid_file = shared_tmp / "pid"
    op = api.save_operation(operation(
        "python", "victim", "import os, time\nopen(params['pid'], 'w').write(str(os.getpid()))\ntime.sleep(60)\n",
        params={"pid": str(pid_file)}))
    graph_id = _start(api, [instance(op)], "kill -9")
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    data, _ = _watch(api, graph_id)
    assert data["graph_running_status"] == "FAILED"
    victim = by_title(data, "victim")
    assert victim["node_running_status"] == "FAILED"
    assert "non-zero" in api.resource(log_id(victim, "worker")).decode()


def test_timeout_parameter_stops_the_operation(api) -> None:
    op = api.save_operation(operation("bash_jinja2", "sleepy", "sleep 30\n", params={"_timeout": 1}))
    data, _ = _watch(api, _start(api, [instance(op)], "timeout"))
    assert data["graph_running_status"] == "FAILED"
    node = by_title(data, "sleepy")
    assert node["node_running_status"] == "FAILED"
    assert "Timed out" in api.resource(log_id(node, "worker")).decode()


def test_user_errors_are_retried_only_when_the_operation_asks(api, shared_tmp) -> None:
    flaky_cmd = ('import os\np = params["count"]\nn = int(open(p).read()) if os.path.exists(p) else 0\n'
                 'open(p, "w").write(str(n + 1))\nif n == 0:\n    raise SystemExit("first attempt fails")\n')
    asks = api.save_operation(operation("python", "asks", flaky_cmd,
                                        params={"count": shared_file(shared_tmp / "asks", "0"), "_retries": 2}))
    plain = api.save_operation(operation("python", "plain", flaky_cmd, params={"count": shared_file(shared_tmp / "plain", "0")}))
    retried, _ = _watch(api, _start(api, [instance(asks)], "retries"))
    assert retried["graph_running_status"] == "SUCCESS"
    assert (shared_tmp / "asks").read_text() == "2"
    not_retried, _ = _watch(api, _start(api, [instance(plain)], "no retries"))
    assert not_retried["graph_running_status"] == "FAILED"
    assert (shared_tmp / "plain").read_text() == "1"
