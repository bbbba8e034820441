"""Live logs: what an operation prints reaches storage while it still runs."""
from __future__ import annotations

import time

from tests.functional.test_resources import op
from tests.helpers import by_title, graph, instance, log_id

# The operation prints, then waits for the test to say it has seen the output (the runner is local).
CMD = '''import os, time, sys
print("started", flush=True)
print("a warning", file=sys.stderr, flush=True)
for _ in range(600):
    if os.path.exists({flag!r}):
        break
    time.sleep(0.1)
print("done")
'''


def test_logs_are_visible_while_the_operation_runs(api, shared_tmp) -> None:
    flag = str(shared_tmp / "seen")  # where the operation (its own uid) can see it
    node = instance(api.save_operation(op("python", "Slow", CMD.format(flag=flag))))
    body = api.ok("post", "graphs", json={"graph": graph("live logs", [node]), "actions": ["APPROVE"]})
    graph_id = body["graph"]["_id"]
    try:
        while True:  # poll until the running node shows its printed line (the test's own timeout bounds it)
            data = api.ok("get", f"graphs/{graph_id}")["data"]
            running = by_title(data, "Slow")
            assert data["graph_running_status"] in ("READY", "RUNNING"), data
            stdout_id, stderr_id = log_id(running, "stdout"), log_id(running, "stderr")
            if (running["node_running_status"] == "RUNNING" and stdout_id and stderr_id
                    and api.resource(stdout_id) == b"started\n" and api.resource(stderr_id) == b"a warning\n"):
                break
            time.sleep(0.1)
        assert "Running script" in api.resource(log_id(running, "worker")).decode()
    finally:
        open(flag, "w").close()
    done = by_title(api.wait(graph_id), "Slow")
    assert done["node_running_status"] == "SUCCESS"
    assert api.resource(log_id(done, "stdout")) == b"started\ndone\n"
    assert "JOB SUCCEEDED" in api.resource(log_id(done, "worker")).decode()
