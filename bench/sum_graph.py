"""Wall time of the seed's Sum graph, from APPROVE to SUCCESS, on a warm local stack.

    .venv/bin/python bench/sum_graph.py [--runs 10] [--api http://localhost:5005/plynx/api/v0]

Without --api it starts its own local stack on free ports (no persistence).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import free_port  # noqa: E402
from tests.helpers import graph, instance, operation  # noqa: E402

SUM_CMD = (
    "s = 0\nfor filename in input['input']:\n    with open(filename) as fi:\n"
    "        s += sum([int(line) for line in fi])\nwith open(output['output'], 'w') as fo:\n"
    "    fo.write('{}\\n'.format(s))\n"
)


def run_once(session: requests.Session, api: str, one: dict, two: dict, op: dict) -> tuple[float, float]:
    """Seconds from POST APPROVE to SUCCESS seen by polling, and to the response of the POST."""
    f1, f2 = instance(one), instance(two)
    body = {"graph": graph("bench sum", [f1, f2, instance(op, input=[(f1, "out"), (f2, "out")])]),
            "actions": ["APPROVE"]}
    start = time.perf_counter()
    response = session.post(f"{api}/graphs", json=body, timeout=30).json()
    accepted = time.perf_counter() - start
    graph_id = response["graph"]["_id"]
    while True:
        data = session.get(f"{api}/graphs/{graph_id}", timeout=30).json()["data"]
        if data["graph_running_status"] in ("SUCCESS", "FAILED"):
            assert data["graph_running_status"] == "SUCCESS", data
            return time.perf_counter() - start, accepted
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--api", default=None)
    args = parser.parse_args()
    stack = None
    api = args.api
    if api is None:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        from infra.local.stack import start_stack

        stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
        api = stack.api_url
    try:
        session = requests.Session()
        session.auth = ("default", "")
        upload = lambda data, title: session.post(  # noqa: E731
            f"{api}/upload_file", files={"data": (title, data)}, data={"title": title}, timeout=30).json()["node"]
        one, two = upload(b"1\n2\n3\n", "one"), upload(b"10\n20\n", "two")
        op = session.post(f"{api}/nodes", timeout=30, json={"action": "APPROVE", "node": operation(
            "python", "Sum", SUM_CMD, inputs=[{"name": "input", "file_types": ["file"], "min_count": 1,
                                               "max_count": -1}], outputs=["output"])}).json()["node"]
        run_once(session, api, one, two, op)  # warm-up
        totals, accepts = zip(*(run_once(session, api, one, two, op) for _ in range(args.runs)))
        print(f"Sum graph, {args.runs} runs: wall median {statistics.median(totals):.3f} s, "
              f"min {min(totals):.3f} s, max {max(totals):.3f} s; "
              f"APPROVE response median {statistics.median(accepts):.3f} s")
    finally:
        if stack is not None:
            stack.stop()


if __name__ == "__main__":
    main()
