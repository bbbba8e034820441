"""Wall time of Try (POST /nodes/try to SUCCESS) against what it replaces (APPROVE a version, then run a graph of
it), for the seed's Sum on two files, on a warm local stack.

    .venv/bin/python bench/trial.py [--runs 10] [--api http://localhost:5005/plynx/api/v0]

Without --api it starts its own local stack on free ports (no persistence). Each iteration uses a new draft
(a new title), so the approve-and-run path cannot hit the cache either.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import free_port  # noqa: E402
from tests.helpers import graph, instance, operation  # noqa: E402

SUM_CMD = (
    "s = 0\nfor filename in inputs['input']:\n    with open(filename) as fi:\n"
    "        s += sum([int(line) for line in fi])\nwith open(outputs['output'], 'w') as fo:\n"
    "    fo.write('{}\\n'.format(s) + params['salt'][:0])\n"
)
MANY = {"name": "input", "file_types": ["file"], "min_count": 1, "max_count": -1}


def _draft() -> dict:
    return operation("python", f"Sum {secrets.token_hex(3)}", SUM_CMD, inputs=[dict(MANY)], outputs=["output"],
                     params={"salt": secrets.token_hex(4)})


def _poll(session: requests.Session, url: str, status: str) -> None:
    while True:
        data = session.get(url, timeout=30).json()["data"]
        if data[status] in ("SUCCESS", "FAILED", "CANCELED"):
            assert data[status] == "SUCCESS", data
            return
        time.sleep(0.01)


def tried(session: requests.Session, api: str, ids: list[str]) -> tuple[float, float]:
    """Seconds from POST /nodes/try to SUCCESS, and to its response."""
    start = time.perf_counter()
    body = session.post(f"{api}/nodes/try", json={"node": _draft(), "inputs": {"input": ids}}, timeout=30).json()
    accepted = time.perf_counter() - start
    _poll(session, f"{api}/trials/{body['trial_id']}", "run_status")
    return time.perf_counter() - start, accepted


def approved_and_run(session: requests.Session, api: str, files: list[dict]) -> float:
    """Seconds from POST /nodes APPROVE of the draft to SUCCESS of a graph of it (SAVE + APPROVE)."""
    start = time.perf_counter()
    op = session.post(f"{api}/nodes", json={"node": _draft(), "action": "APPROVE"}, timeout=30).json()["node"]
    placed = [instance(f) for f in files]
    body = {"graph": graph("bench approve", [*placed, instance(op, input=[(f, "out") for f in placed])]),
            "actions": ["SAVE", "APPROVE"]}
    graph_id = session.post(f"{api}/graphs", json=body, timeout=30).json()["graph"]["_id"]
    _poll(session, f"{api}/graphs/{graph_id}", "graph_running_status")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--api", default=None)
    args = parser.parse_args()
    stack = None
    api = args.api
    if api is None:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("PLYNX_TRIALS_KEEP", str(args.runs + 2))
        from infra.local.stack import start_stack

        stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
        api = stack.api_url
    try:
        session = requests.Session()
        session.auth = ("default", "")
        upload = lambda data, title: session.post(  # noqa: E731
            f"{api}/upload_file", files={"data": (title, data)}, data={"title": title}, timeout=30).json()["node"]
        files = [upload(b"1\n2\n3\n", "one"), upload(b"10\n20\n", "two")]
        ids = [f["outputs"][0]["resource_id"] for f in files]
        tried(session, api, ids), approved_and_run(session, api, files)  # warm-up
        totals, accepts = zip(*(tried(session, api, ids) for _ in range(args.runs)))
        approves = [approved_and_run(session, api, files) for _ in range(args.runs)]
        print(f"Try, {args.runs} trials: wall median {statistics.median(totals):.3f} s (min {min(totals):.3f}, "
              f"max {max(totals):.3f}); POST /nodes/try answers in {statistics.median(accepts):.3f} s (median)")
        print(f"Approve a version, then SAVE+APPROVE a graph of it, {args.runs} times: wall median "
              f"{statistics.median(approves):.3f} s (min {min(approves):.3f}, max {max(approves):.3f})")
    finally:
        if stack is not None:
            stack.stop()


if __name__ == "__main__":
    main()
