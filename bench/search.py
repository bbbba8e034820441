"""Latency of `search_nodes` / `search_graphs` with 10,000 stored nodes, through the REST API.

    .venv/bin/python bench/search.py [--nodes 10000] [--graphs 1000] [--repeat 15]

Starts its own local stack on free ports (no persistence), stores the nodes with the project's own
`save_node` / `save_graph` (in-process, against the stack's moto, so seeding is quick and the items are
exactly what the API writes), plus 20 operations approved in 10 versions each, then times typical
searches over HTTP and prints median and p95.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import free_port  # noqa: E402
from tests.helpers import graph, operation  # noqa: E402 - after the path is set

WORDS = ("load", "clean", "split", "join", "train", "score", "plot", "export", "fetch", "merge",
         "sort", "filter", "resize", "parse", "count", "sample")
THINGS = ("csv", "images", "model", "table", "logs", "text", "users", "events", "report", "features")
AUTHORS = ("alice", "bob", "carol", "dave")
LINEAGES, LINEAGE_DEPTH = 20, 10  # operations approved in 10 versions each


def _node(rng: random.Random, i: int) -> tuple[dict, str, str]:
    """A typical library entry: title, a sentence of description, a 20-line script; plus author, status."""
    kind = rng.choices(("python", "bash_jinja2", "file"), weights=(45, 35, 20))[0]
    title = f"{rng.choice(WORDS).title()} {rng.choice(THINGS)} {i}"
    words = [rng.choice(WORDS + THINGS) for _ in range(12)]
    if i % 100 == 7:
        words.append("needle")  # a rare word: 1% of the nodes
    node = operation("python" if kind == "file" else kind, title, "x = 1  # a typical operation body\n" * 20)
    if kind == "file":
        node = {"base_node_name": "file", "title": title,
                "outputs": [{"name": "out", "file_type": "file", "resource_id": f"{i:064x}"}]}
    node["description"] = " ".join(words)
    author = "default" if rng.random() < 0.6 else rng.choice(AUTHORS)
    status = rng.choices(("CREATED", "READY", "DEPRECATED"), weights=(55, 40, 5))[0]
    return node, author, status


def seed(count: int, graph_count: int) -> None:
    """Store `count` nodes and `graph_count` small graphs the way the API stores them."""
    from chalicelib.api import graphs, library
    from chalicelib.domain import nodes

    rng = random.Random(7)
    entries = [_node(rng, i) for i in range(count)]

    def save(entry: tuple[dict, str, str]) -> None:
        node, author, status = entry
        library.save_node(nodes.clean_node(node, author), author, node_status=status)

    def save_graph(i: int) -> None:
        author = "default" if i % 3 else "alice"
        raw = graph(f"{WORDS[i % len(WORDS)]} pipeline {i}", [])
        raw["description"] = "needle" if i % 50 == 0 else "a pipeline"
        graphs.save_graph(graphs.clean_graph(raw, author), author)

    def save_lineage(j: int) -> None:
        """An operation approved in LINEAGE_DEPTH versions, each the successor of the one before (APPROVE's
        make_successor): only the newest is READY, so a READY search numbers it by walking its ancestors."""
        previous = None
        for version in range(1, LINEAGE_DEPTH + 1):
            node = nodes.clean_node(dict(operation("python", f"Lineage {j}", f"x = {version}\n"),
                                         parent_node_id=previous["_id"] if previous else None), "default")
            saved = library.save_node(node, "default", node_status="READY")
            if previous:
                library.replace_parent(saved, "default")
            previous = saved

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(save, entries))
        list(pool.map(save_graph, range(graph_count)))
        list(pool.map(save_lineage, range(LINEAGES)))


QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("first page", "search_nodes", {"per_page": 20}),
    ("page 50", "search_nodes", {"per_page": 20, "offset": 980}),
    ("author:alice", "search_nodes", {"per_page": 20, "search": "author:alice"}),
    ("author:alice page 20", "search_nodes", {"per_page": 20, "offset": 380, "search": "author:alice"}),
    ("free text 'needle'", "search_nodes", {"per_page": 20, "search": "needle"}),
    ("free text 'train csv'", "search_nodes", {"per_page": 20, "search": "train csv"}),
    ("author + text", "search_nodes", {"per_page": 20, "search": "author:default clean"}),
    ("status READY", "search_nodes", {"per_page": 20, "status": ["READY"]}),
    ("base_node_names file", "search_nodes", {"per_page": 20, "base_node_names": ["file"]}),
    # version_number walks the same-author ancestors a page lacks: one BatchGet per generation
    ("versions, all listed", "search_nodes", {"per_page": 100, "search": "lineage"}),
    ("versions, newest only", "search_nodes", {"per_page": 20, "search": "lineage", "status": ["READY"]}),
    ("graphs first page", "search_graphs", {"per_page": 20}),
    ("graphs author+text", "search_graphs", {"per_page": 20, "search": "author:alice pipeline"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--graphs", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    from infra.local.stack import start_stack

    stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
    from chalicelib.api import library
    from chalicelib.store import search  # the stack's modules read their endpoints after start_stack
    from chalicelib.store.models import GraphModel, NodeModel

    def node_mirror() -> search.Mirror:
        return search.mirror(NodeModel.by_change, library.LISTING, "node_status", "base_node_name")

    def graph_mirror() -> search.Mirror:
        return search.mirror(GraphModel.by_change, "graph", "graph_running_status")

    try:
        start = time.perf_counter()
        seed(args.nodes, args.graphs)
        print(f"seeded {args.nodes} nodes and {args.graphs} graphs in {time.perf_counter() - start:.1f} s")
        session = requests.Session()
        session.auth = ("default", "")
        for path in ("search_nodes", "search_graphs"):
            t0 = time.perf_counter()
            response = session.post(f"{stack.api_url}/{path}", json={"per_page": 20}, timeout=600)
            assert response.status_code == 200, response.text
            print(f"cold {path}, no snapshot yet (reads the whole slim index): "
                  f"{(time.perf_counter() - t0) * 1000:.0f} ms")
        print(f"{'query':<24} {'total':>6} {'median ms':>10} {'p95 ms':>8} {'index items read':>16}")
        for name, path, body in QUERIES:
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                response = session.post(f"{stack.api_url}/{path}", json=body, timeout=300)
                times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, response.text
            total = response.json()["total_count"]
            read = (node_mirror() if path == "search_nodes" else graph_mirror()).last_read
            p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
            print(f"{name:<24} {total:>6} {statistics.median(times):>10.0f} {p95:>8.0f} {read:>16}")
        times = []
        for i in range(args.repeat):  # a user saves an operation, then looks for it
            body = {"node": operation("python", f"fresh {i}", "pass\n"), "action": "SAVE"}
            assert session.post(f"{stack.api_url}/nodes", json=body, timeout=60).status_code == 200
            t0 = time.perf_counter()
            found = session.post(f"{stack.api_url}/search_nodes", json={"search": f"fresh {i}"}, timeout=60).json()
            times.append((time.perf_counter() - t0) * 1000)
            assert found["total_count"] >= 1, found
        p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
        print(f"{'right after a save':<24} {'':>6} {statistics.median(times):>10.0f} {p95:>8.0f}")
        source = node_mirror()
        ids = [e.id for e in source.entries()[:20]]
        refresh, fetch = [], []
        for _ in range(args.repeat):  # where a warm search's time goes (in-process, no HTTP)
            t0 = time.perf_counter()
            with source._lock:
                source.refresh()
            t1 = time.perf_counter()
            list(NodeModel.batch_get(ids, consistent_read=True))
            refresh.append((t1 - t0) * 1000)
            fetch.append((time.perf_counter() - t1) * 1000)
        print(f"  of which: index delta query {statistics.median(refresh):.0f} ms, "
              f"BatchGet of 20 nodes {statistics.median(fetch):.0f} ms (medians)")
        from chalicelib.store import aws
        from chalicelib.store.settings import SETTINGS

        size = aws.client("s3").head_object(Bucket=SETTINGS.bucket, Key=source.snapshot_key)["ContentLength"]
        print(f"  snapshot of {len(source.entries())} nodes in S3: {size / 1000:.0f} KB")
        for path in ("search_nodes", "search_graphs"):
            search._MIRRORS.clear()  # as a new process would start: from the snapshot in S3
            t0 = time.perf_counter()
            response = session.post(f"{stack.api_url}/{path}", json={"per_page": 20}, timeout=600)
            assert response.status_code == 200, response.text
            print(f"cold {path} from the snapshot: {(time.perf_counter() - t0) * 1000:.0f} ms")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
