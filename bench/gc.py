"""How long a garbage collection pass takes, and what it finds, on a local stack with some history.

    .venv/bin/python bench/gc.py [--graphs 30] [--garbage 500]

Starts its own local stack on free ports (no persistence). Each graph has a file of its own and one python
operation (shared), is run, edited and run again (two runs, and its first state machine left behind, as an
edit-then-run leaves it); half the graphs are then deleted (their runs, versions and machines go at once);
`--garbage` unreferenced resources are stored. Times a dry run, a pass (grace 1 s), and a pass with nothing
left to do, and prints what each found.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import free_port  # noqa: E402
from tests.helpers import graph, instance, operation  # noqa: E402 - after the path is set

ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
COPY = "open(outputs['out'], 'w').write(open(inputs['in']).read() + params['tag'])\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--graphs", type=int, default=30)
    parser.add_argument("--garbage", type=int, default=500)
    args = parser.parse_args()
    from infra.local.stack import start_stack

    stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
    from chalicelib.engine import gc  # the stack's modules read their endpoints after start_stack
    from chalicelib.store import storage

    api = requests.Session()
    api.auth = ("default", "")
    base = stack.api_url

    def call(method: str, path: str, **kwargs: object) -> dict:
        response = api.request(method, f"{base}/{path}", timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    def wait(graph_id: str) -> None:
        while call("get", f"graphs/{graph_id}")["data"]["graph_running_status"] not in ("SUCCESS", "FAILED"):
            time.sleep(0.05)

    try:
        started = time.perf_counter()
        op = call("post", "nodes", json={"node": operation("python", "copy", COPY, inputs=[ONE], outputs=["out"],
                                                            params={"tag": "!"}), "action": "APPROVE"})["node"]
        graph_ids = []
        for i in range(args.graphs):
            data = call("post", "upload_file", files={"data": (f"f{i}.txt", f"file {i} {time.time()}".encode())},
                        data={"title": f"f{i}", "file_type": "file"})["node"]
            placed = instance(op, **{"in": [(data, "out")]})
            stored = call("post", "graphs", json={"graph": graph(f"g{i}", [data, placed]), "actions": ["SAVE"]})["graph"]
            call("post", f"graphs/{stored['_id']}/approve")
            wait(stored["_id"])
            call("post", f"graphs/{stored['_id']}/approve")  # restored from the cache: another machine
            wait(stored["_id"])
            call("post", f"graphs/{stored['_id']}/nodes/change_parameter",
                 json={"node_id": placed["_id"], "parameter_name": "tag", "parameter_value": "?"})
            call("post", f"graphs/{stored['_id']}/approve")  # the edit cleared the machine: one is left behind
            wait(stored["_id"])
            graph_ids.append(stored["_id"])
        for graph_id in graph_ids[: args.graphs // 2]:
            call("post", f"graphs/{graph_id}/delete")
        for i in range(args.garbage):
            storage.put_bytes(f"garbage {i} {time.time()}".encode())
        print(f"seeded {args.graphs} graphs (3 runs each, half deleted) and {args.garbage} unreferenced resources "
              f"in {time.perf_counter() - started:.1f} s")
        time.sleep(1.2)
        for label, dry in (("dry run", True), ("pass", False), ("pass, nothing left", False)):
            started = time.perf_counter()
            report = gc.collect(dry_run=dry, grace=1.0).as_dict()
            took = time.perf_counter() - started
            print(f"{label:20s} {took:6.2f} s  resources {report['resource_count']:5d} ({report['resource_bytes']} B)"
                  f"  run records {report['run_record_count']:3d}  partitions {report['partition_count']:3d}"
                  f"  state machines {report['state_machine_count']:3d}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
