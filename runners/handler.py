"""Runner entry points. Step Functions invokes `lambda_handler`; Fargate and the CLI call `main`."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import live_logs, resources, runs, storage
from chalicelib.enums import NodeRunningStatus
from chalicelib.nodes import get_parameter

from . import executors

logger = Logger(service="plynx-runner")
DEFAULT_TIMEOUT = 600.0


class OperationFailed(Exception):
    """The user's operation failed; Step Functions catches this errorType and does not retry it."""


def _timeout(node: dict, context: Any) -> float:
    parameter = get_parameter(node, "_timeout")
    try:
        timeout = float(parameter["value"]) if parameter else DEFAULT_TIMEOUT
    except (TypeError, ValueError):
        timeout = DEFAULT_TIMEOUT
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is not None:
        # Leave time to upload outputs and logs before Lambda stops us.
        timeout = min(timeout, max(remaining() / 1000.0 - 10.0, 1.0))
    return timeout


def _upload(paths: dict[str, Any]) -> dict[str, str]:
    return {name: storage.put_file(path) for name, path in paths.items() if isinstance(path, str)}


def run_node(graph_id: str, node_id: str, run_id: str, context: Any = None) -> dict:
    """Run one operation of a graph run and record its status, outputs and logs."""
    node = runs.claim_node(graph_id, node_id, run_id)
    with tempfile.TemporaryDirectory(prefix="plynx-") as workdir:
        space = executors.Workspace(workdir)
        try:
            space = executors.prepare(node, runs.input_resources(graph_id, node), workdir, storage.download_to,
                                      resources.upstream_types(graph_id, node))
            ok = executors.execute(node, space, _timeout(node, context),
                                   publish=live_logs.LogPublisher(graph_id, node_id, run_id))
        except Exception as exc:  # the worker's own failure still ends in the node's logs
            logger.exception("Runner failed before the operation finished")
            space.logs.setdefault("worker", os.path.join(workdir, "l_worker"))
            space.worker_log(f"JOB FAILED\n{type(exc).__name__}: {exc}")
            ok = False
        outputs = _upload(space.outputs) if ok else {}
        logs = _upload(space.logs)
    status = NodeRunningStatus.SUCCESS if ok else NodeRunningStatus.FAILED
    runs.finish_node(graph_id, node_id, run_id, status, outputs, logs)
    logger.info("Operation finished", extra={"graph_id": graph_id, "node_id": node_id, "status": status})
    if not ok:
        raise OperationFailed(f"Operation `{node.get('title')}` ({node_id}) failed")
    return {"node_id": node_id, "status": status}


def handle(event: dict, context: Any = None) -> dict:
    """Dispatch one Step Functions payload."""
    action = event.get("action")
    if action == "run":
        return run_node(event["graph_id"], event["node_id"], event["run_id"], context)
    if action == "start":
        runs.mark_graph_running(event["graph_id"], event["run_id"])
        return {"graph_id": event["graph_id"], "status": "RUNNING"}
    if action == "finalize":
        runs.finalize(event["graph_id"], event["run_id"], event["status"], event.get("error"))
        return {"graph_id": event["graph_id"], "status": event["status"]}
    raise ValueError(f"Unknown runner action `{action}`")


def lambda_handler(event: dict, context: Any) -> dict:
    """AWS Lambda (and the local runtime) entry point."""
    return handle(event, context)


def main(argv: list[str] | None = None) -> int:
    """Fargate/CLI entry point: the event is the first argument or the PLYNX_EVENT variable."""
    args = sys.argv[1:] if argv is None else argv
    event = json.loads(args[0] if args else os.environ["PLYNX_EVENT"])
    try:
        print(json.dumps(handle(event)))
    except OperationFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0
