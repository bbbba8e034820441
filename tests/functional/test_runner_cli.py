"""The Fargate/CLI entry point runs the same operations as the Lambda handler."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO
from tests.helpers import graph, instance, log_id, operation, output_id


def _cli(event: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runners", json.dumps(event)], cwd=REPO, env=dict(os.environ),
                          capture_output=True, text=True, timeout=60)


def test_cli_runs_an_operation_and_records_it(api) -> None:
    from chalicelib.engine import runs

    ok = api.save_operation(operation("bash_jinja2", "Echo", "echo '{{ params[\"word\"] }}' > {{ outputs.out }}\n",
                                      outputs=["out"], params={"word": "fargate"}))
    bad = api.save_operation(operation("bash_jinja2", "Bad", "echo oops >&2; exit 3\n"))
    ok_node, bad_node = instance(ok), instance(bad)
    graph_id = api.ok("post", "graphs", json={"graph": graph("cli", [ok_node, bad_node]),
                                              "actions": ["SAVE"]})["graph"]["_id"]
    run_id = runs.queue_run(graph_id)

    done = _cli({"action": "run", "graph_id": graph_id, "node_id": ok_node["_id"], "run_id": run_id})
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert {key: answer[key] for key in ("node_id", "status")} == {"node_id": ok_node["_id"], "status": "SUCCESS"}
    assert answer["ended"]["node_id"] == ok_node["_id"] and answer["ended"]["outputs"]  # what the next one reads

    failed = _cli({"action": "run", "graph_id": graph_id, "node_id": bad_node["_id"], "run_id": run_id})
    assert failed.returncode == 1 and "failed" in failed.stderr

    stale = _cli({"action": "run", "graph_id": graph_id, "node_id": ok_node["_id"], "run_id": "old-run"})
    assert stale.returncode != 0 and "Moved" in stale.stderr and "in run `old-run`" in stale.stderr

    nodes = {n["_id"]: n for n in api.ok("get", f"graphs/{graph_id}")["data"]["nodes"]}
    assert nodes[ok_node["_id"]]["node_running_status"] == "SUCCESS"
    assert api.resource(output_id(nodes[ok_node["_id"]], "out")) == b"fargate\n"
    assert nodes[bad_node["_id"]]["node_running_status"] == "FAILED"
    assert api.resource(log_id(nodes[bad_node["_id"]], "stderr")) == b"oops\n"
