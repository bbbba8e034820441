"""Save and load times of big graphs through the REST API (one DynamoDB item per node).

    .venv/bin/python bench/graph_io.py [--nodes 1000]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import free_port  # noqa: E402
from tests.helpers import graph, operation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=1000)
    args = parser.parse_args()
    from infra.local.stack import start_stack

    stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
    try:
        session = requests.Session()
        session.auth = ("default", "")
        one = {"file_types": ["file"], "min_count": 1, "max_count": 1}
        op = operation("python", "Step", "pass\n" + "# a typical operation body\n" * 20,
                       inputs=[{"name": "x", **one}], outputs=["y"])
        nodes = []
        for i in range(args.nodes):
            node = dict(op, _id=f"n{i:05d}", inputs=[dict(one, name="x", values=(
                [{"node_id": f"n{i - 1:05d}", "output_id": "y"}] if i else []))])
            nodes.append(node)
        body = {"graph": dict(graph("bench", nodes), _id="bench-graph"), "actions": ["SAVE"]}
        start = time.perf_counter()
        response = session.post(f"{stack.api_url}/graphs", json=body, timeout=120)
        saved = time.perf_counter() - start
        assert response.status_code == 200, response.text
        start = time.perf_counter()
        loaded = session.get(f"{stack.api_url}/graphs/bench-graph", timeout=120).json()["data"]
        load = time.perf_counter() - start
        assert len(loaded["nodes"]) == args.nodes
        print(f"{args.nodes}-node graph ({len(response.request.body) / 1e6:.2f} MB JSON): "
              f"save {saved:.2f} s, load {load:.2f} s")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
