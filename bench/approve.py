"""APPROVE's answer time and time to RUNNING for big graphs, on the local stack.

    .venv/bin/python bench/approve.py [--nodes 1000 10000] [--width 100] [--finish] [--max-chain N]

API Gateway ends a request after 29 s: APPROVE answers once the run is recorded and queued (READY,
preparing) and the run's preparation (cache planning, compile, state machines, start) goes on
asynchronously (chalicelib/engine/preparation.py). For each size this prints the SAVE time, APPROVE's answer
time (`POST /graphs/{id}/approve`), the time from APPROVE to the graph RUNNING, and where each side spent
its time (the stack runs in this process: the phases are timed by wrapping the engine's functions). The
run is then canceled (`--finish`: waited for to the end instead). The graphs are bench/scale.py's: layers of
`width` trivial `bash_jinja2` operations, each reading one or two of the layer before.
"""
from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import secrets
import sys
import threading
import time
from typing import Any

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import free_port  # noqa: E402
from tests.helpers import graph, instance, operation  # noqa: E402

IN = {"name": "in", "file_types": ["file"], "min_count": 0, "max_count": -1}

SPENT: collections.Counter[str] = collections.Counter()
SIZES: dict[str, Any] = {}
_LOCK = threading.Lock()


def _timed(owner: Any, name: str, label: str) -> None:
    """Add the time spent in `owner.name` (any thread) to SPENT[label]."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            with _LOCK:
                SPENT[label] += time.perf_counter() - started

    setattr(owner, name, wrapper)


def _instrument() -> None:
    from chalicelib.api import actions, graphs
    from chalicelib.engine import cache, preparation, runs

    _timed(graphs, "get_graph", "answer: read the graph (GET /graphs's read)")
    _timed(actions, "validate_graph", "answer: validate")
    _timed(runs, "_queue", "answer: record the run, flip the header")
    _timed(preparation, "invoke", "answer: invoke the preparation (Event)")
    _timed(preparation, "prepare", "prepare: total")
    _timed(cache, "plan_restores", "prepare: cache planning")
    _timed(preparation, "write_nodes", "prepare: write the run's nodes")
    _timed(preparation, "_start", "prepare: CreateStateMachine(s) and StartExecution")
    original_compile = preparation.compile_program

    @functools.wraps(original_compile)
    def compile_program(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        program = original_compile(*args, **kwargs)
        with _LOCK:
            SPENT["prepare: compile"] += time.perf_counter() - started
            sizes = [len(json.dumps(d, separators=(",", ":"))) for d in [program.main, *program.children]]
            SIZES.update(executions=len(sizes), largest_kb=max(sizes) / 1024, total_kb=sum(sizes) / 1024)
        return program

    preparation.compile_program = compile_program


def _graph(op: dict, nodes_count: int, width: int, salt: str) -> dict:
    nodes: list[dict] = []
    for i in range(nodes_count):
        layer = i // width
        previous = [nodes[j] for j in (i - width, i - width - 1) if j >= 0 and j // width == layer - 1]
        node = instance(op, **{"in": [(d, "out") for d in previous]})
        node["parameters"] = [dict(p, value=f"{salt}-{i}") if p["name"] == "salt" else p for p in node["parameters"]]
        nodes.append(node)
    return graph(f"approve {nodes_count}", nodes)


def measure(session: requests.Session, api: str, op: dict, nodes_count: int, width: int, finish: bool,
            timeout: float) -> dict:
    from chalicelib.store.models import GraphModel

    SPENT.clear()
    SIZES.clear()
    body = {"graph": _graph(op, nodes_count, width, secrets.token_hex(4)), "actions": ["SAVE"]}
    started = time.perf_counter()
    response = session.post(f"{api}/graphs", json=body, timeout=3600)
    assert response.status_code == 200, response.text[:2000]
    graph_id, saved = response.json()["graph"]["_id"], time.perf_counter() - started
    SPENT.clear()
    started = time.perf_counter()
    response = session.post(f"{api}/graphs/{graph_id}/approve", json={}, timeout=3600)
    answered = time.perf_counter() - started
    assert response.status_code == 200, response.text[:2000]
    answer = response.json()
    assert answer["graph"]["graph_running_status"] == "READY", answer["graph"]["graph_running_status"]
    error = None
    running, status = None, None
    while time.perf_counter() - started < timeout:
        model = GraphModel.get(graph_id, consistent_read=True)  # the header alone: a GET /graphs reads every node
        status = model.graph_running_status
        if running is None and status != "READY":
            running = time.perf_counter() - started
        if status in ("SUCCESS", "FAILED", "CANCELED") or (running is not None and not finish):
            error = model.error if status == "FAILED" else None
            break
        time.sleep(0.05)
    ended = time.perf_counter() - started
    phases = dict(SPENT)  # before the cancel's own reads
    if status in ("READY", "RUNNING", "FAILED_WAITING"):
        session.post(f"{api}/graphs/{graph_id}/cancel", timeout=600)
    return {"nodes": nodes_count, "save_s": saved, "approve_answer_s": answered, "to_running_s": running,
            "status": status, "error": error, "end_s": ended if finish else None, "answer_bytes": len(response.content),
            "phases": phases, **SIZES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--finish", action="store_true", help="wait for each run to end instead of canceling it")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--max-chain", type=int, default=None,
                        help="the compiler's operations per top-level chain (stepfunctions.Limits.max_chain)")
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    from infra.local.stack import start_stack

    stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
    try:
        _instrument()
        if args.max_chain:
            import dataclasses

            from chalicelib.engine import preparation

            preparation.LIMITS = dataclasses.replace(preparation.LIMITS, max_chain=args.max_chain)
        session = requests.Session()
        session.auth = ("default", "")
        api = stack.api_url
        op = session.post(f"{api}/nodes", timeout=60, json={"action": "APPROVE", "node": operation(
            "bash_jinja2", "trivial", "echo {{ params['salt'] }} > {{ outputs.out }}\n", inputs=[IN],
            outputs=["out"], params={"salt": ""})}).json()["node"]
        for count in args.nodes:
            result = measure(session, api, op, count, args.width, args.finish, args.timeout)
            running = f"{result['to_running_s']:.1f} s" if result["to_running_s"] is not None else "never"
            print(f"{count} operations: SAVE {result['save_s']:.1f} s; APPROVE answered in "
                  f"{result['approve_answer_s']:.2f} s ({result['answer_bytes'] / 1e6:.1f} MB); RUNNING after "
                  f"{running}; {result.get('executions', '?')} execution(s), largest definition "
                  f"{result.get('largest_kb', 0):.0f} KB, all {result.get('total_kb', 0):.0f} KB; "
                  f"status {result['status']}" + (f" after {result['end_s']:.1f} s" if result["end_s"] else "")
                  + (f": {result['error'][:300]}" if result["error"] else ""), flush=True)
            for label, seconds in sorted(result["phases"].items()):
                print(f"    {label:50s} {seconds:7.2f} s", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
