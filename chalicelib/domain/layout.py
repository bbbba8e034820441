"""REARRANGE: place a graph's nodes in columns by topological depth, so wires run left to right."""
from __future__ import annotations

from collections import defaultdict

from .graph import dependencies

COLUMN_WIDTH = 300
ROW_HEIGHT = 140
MARGIN = 50


def depths(nodes: list[dict]) -> dict[str, int]:
    """Longest path from a source to each node; nodes on a cycle keep the depth reached so far."""
    ids = {node["_id"] for node in nodes}
    parents = {node["_id"]: dependencies(node) & ids for node in nodes}
    depth: dict[str, int] = {}
    # Relax at most len(nodes) times: a DAG settles, a cycle stops at the bound instead of looping.
    for node_id in parents:
        depth[node_id] = 0
    for _ in range(len(nodes)):
        changed = False
        for node_id, ups in parents.items():
            best = max((depth[u] + 1 for u in ups), default=0)
            if best > depth[node_id] and best < len(nodes):
                depth[node_id] = best
                changed = True
        if not changed:
            break
    return depth


def rearrange(nodes: list[dict]) -> list[dict]:
    """Nodes with new `x`, `y`: one column per depth, rows keeping the nodes' vertical order."""
    column_of = depths(nodes)
    rows: dict[int, int] = defaultdict(int)
    row_of: dict[str, int] = {}
    for node in sorted(nodes, key=lambda n: (n.get("y", 0), n.get("x", 0), n["_id"])):
        row_of[node["_id"]] = rows[column_of[node["_id"]]]
        rows[column_of[node["_id"]]] += 1
    return [dict(node, x=MARGIN + column_of[node["_id"]] * COLUMN_WIDTH, y=MARGIN + row_of[node["_id"]] * ROW_HEIGHT)
            for node in nodes]
