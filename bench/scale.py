"""A 10,000-node graph of trivial operations, compiled and run to SUCCESS on the local stack.

    .venv/bin/python bench/scale.py [--nodes 10000] [--width 100]

Prints the compile time, the executions it is split into, the largest definition, the largest
history and the wall time from APPROVE to SUCCESS. The graph is layered: each operation reads one
or two operations of the layer before (`width` operations per layer), so most joins cross chains.
Operations are `bash_jinja2` writing one line (a trivial operation, as in the issue).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import free_port  # noqa: E402
from tests.helpers import graph, instance, operation

IN = {"name": "in", "file_types": ["file"], "min_count": 0, "max_count": -1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from infra.local.stack import start_stack

    stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
    try:
        import boto3

        import stepfunctions
        from chalicelib.engine import preparation, runs
        from chalicelib.store.models import GraphModel

        session = requests.Session()
        session.auth = ("default", "")
        api = stack.api_url
        op = session.post(f"{api}/nodes", timeout=60, json={"action": "APPROVE", "node": operation(
            "bash_jinja2", "trivial", "echo {{ params['salt'] }} > {{ outputs.out }}\n", inputs=[IN],
            outputs=["out"], params={"salt": ""})}).json()["node"]
        salt = secrets.token_hex(4)
        nodes: list[dict] = []
        for i in range(args.nodes):
            layer = i // args.width
            previous = [nodes[j] for j in (i - args.width, i - args.width - 1) if j >= 0 and j // args.width == layer - 1]
            node = instance(op, **{"in": [(d, "out") for d in previous]})
            node["parameters"] = [dict(p, value=f"{salt}-{i}") if p["name"] == "salt" else p
                                  for p in node["parameters"]]
            nodes.append(node)
        body = {"graph": graph(f"scale {args.nodes}", nodes)}
        started = time.perf_counter()
        program = stepfunctions.compile_program(dict(body["graph"], _id="x" * 24), "runner",
                                                child_arn=lambda d: "arn:child", limits=preparation.LIMITS)
        compile_seconds = time.perf_counter() - started
        sizes = [len(json.dumps(d, separators=(",", ":"))) for d in [program.main, *program.children]]
        print(f"{args.nodes} operations: compile {compile_seconds:.2f} s, {len(sizes)} execution(s), "
              f"largest definition {max(sizes) / 1024:.0f} KB", flush=True)
        started = time.perf_counter()
        response = session.post(f"{api}/graphs", json=dict(body, actions=["SAVE", "APPROVE"]), timeout=3600)
        assert response.status_code == 200, response.text[:2000]
        graph_id = response.json()["graph"]["_id"]
        accepted = time.perf_counter() - started
        print(f"APPROVE answered in {accepted:.1f} s (save, plan, compile, deploy, queue, start)", flush=True)
        status = None
        while time.perf_counter() - started < args.timeout:
            model = GraphModel.get(graph_id, consistent_read=True)
            status = model.graph_running_status
            if status in ("SUCCESS", "FAILED", "CANCELED"):
                break
            time.sleep(2)
        wall = time.perf_counter() - started
        print(f"status {status} after {wall:.1f} s wall; runner invocations {dict(stack.lambda_front.invocations)}")
        sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_url, region_name="us-east-1")
        largest = 0
        for machine in sfn.list_state_machines()["stateMachines"]:
            for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
                events, token = 0, None
                while True:
                    kwargs = {"nextToken": token} if token else {}
                    page = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000,
                                                     **kwargs)
                    events += len(page["events"])
                    token = page.get("nextToken")
                    if not token:
                        break
                largest = max(largest, events)
        print(f"largest execution history: {largest} events (limit 25,000)")
        return 0 if status == "SUCCESS" else 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
