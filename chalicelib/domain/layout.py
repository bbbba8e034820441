"""REARRANGE: place a graph's nodes in columns by topological depth, so wires run left to right.

As the UI's Auto layout does (inputs on a node's left, outputs on its right): each column starts right of
the widest node of the one before it, and a column's nodes are stacked by their heights, so none overlap.
"""
from __future__ import annotations

from collections import defaultdict

from .graph import dependencies

MARGIN = 50
COLUMN_GAP = 90  # between a column's widest node and the next column: room for the wires to bend
ROW_GAP = 36  # between two nodes of a column (the UI's auto layout keeps the same gaps)
MIN_WIDTH = 190


def node_size(node: dict) -> tuple[int, int]:
    """A node's width and height as the UI draws it, estimated from its title and ports (ui/src/graph/layout.ts)."""
    def label(ports: list) -> int:
        return max((len(str(port.get("name", ""))) + 8 for port in ports), default=0)

    inputs, outputs = node.get("inputs") or [], node.get("outputs") or []
    width = max(MIN_WIDTH, 60 + 7.5 * len(str(node.get("title") or "")), 30 + 7 * (label(inputs) + label(outputs)))
    return round(width), 36 + 22 * max(1, len(inputs), len(outputs))


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
    sizes = {node["_id"]: node_size(node) for node in nodes}
    widths: dict[int, int] = defaultdict(int)
    for node_id, column in column_of.items():
        widths[column] = max(widths[column], sizes[node_id][0])
    left, x = {}, MARGIN
    for column in sorted(widths):
        left[column] = x
        x += widths[column] + COLUMN_GAP
    below: dict[int, int] = defaultdict(lambda: MARGIN)
    top: dict[str, int] = {}
    for node in sorted(nodes, key=lambda n: (n.get("y", 0), n.get("x", 0), n["_id"])):
        column = column_of[node["_id"]]
        top[node["_id"]] = below[column]
        below[column] += sizes[node["_id"]][1] + ROW_GAP
    return [dict(node, x=left[column_of[node["_id"]]], y=top[node["_id"]]) for node in nodes]
