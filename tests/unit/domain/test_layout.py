"""REARRANGE: columns by depth, rows keeping the nodes' vertical order, sized so that no two nodes overlap."""
from __future__ import annotations

import copy

import pytest

from chalicelib.domain.layout import COLUMN_GAP, MARGIN, MIN_WIDTH, ROW_GAP, depths, node_size, rearrange


def _node(node_id: str, *deps: str, x: float = 0, y: float = 0) -> dict:
    return {"_id": node_id, "x": x, "y": y,
            "inputs": [{"name": "in", "values": [{"node_id": d, "output_id": "out"} for d in deps]}]}


@pytest.mark.parametrize("members, expected", [
    ([_node("a"), _node("b", "a"), _node("c", "b")], {"a": 0, "b": 1, "c": 2}),
    ([_node("d", "b", "c"), _node("c", "a"), _node("b", "a"), _node("a")], {"a": 0, "b": 1, "c": 1, "d": 2}),
    ([_node("a"), _node("b", "a"), _node("c", "a", "b")], {"a": 0, "b": 1, "c": 2}),  # the longest path decides
    ([_node("a", "ghost"), _node("b")], {"a": 0, "b": 0}),  # links to missing nodes are ignored
    ([], {}),
], ids=["chain", "diamond", "longest-path", "missing-node", "empty"])
def test_depth_is_the_longest_path_from_a_source(members: list[dict], expected: dict[str, int]) -> None:
    assert depths(members) == expected


@pytest.mark.parametrize("members", [
    [_node("a", "b"), _node("b", "a")],
    [_node("a", "a")],
    [_node("s"), _node("a", "s", "c"), _node("b", "a"), _node("c", "b"), _node("t", "c")],
], ids=["two-cycle", "self-loop", "cycle-in-the-middle"])
def test_a_cycle_ends_with_depths_below_the_node_count(members: list[dict]) -> None:
    found = depths(members)
    assert set(found) == {n["_id"] for n in members}
    assert all(0 <= depth < len(members) for depth in found.values())


def test_rearrange_places_columns_by_depth_and_rows_by_previous_height() -> None:
    members = [_node("sink", "left", "right", y=0), _node("right", "src", y=500), _node("left", "src", y=100),
               _node("src", y=900), _node("alone", y=50)]
    placed = {n["_id"]: (n["x"], n["y"]) for n in rearrange(members)}
    width, height = node_size(members[0])
    assert (width, height) == (MIN_WIDTH, 36 + 22)  # one input, no title: the narrowest node, one row of ports
    column = lambda depth: MARGIN + depth * (width + COLUMN_GAP)  # noqa: E731
    row = lambda index: MARGIN + index * (height + ROW_GAP)  # noqa: E731
    assert placed == {"alone": (column(0), row(0)), "src": (column(0), row(1)),
                      "left": (column(1), row(0)), "right": (column(1), row(1)), "sink": (column(2), row(0))}


def test_rearrange_breaks_ties_by_x_then_id_and_keeps_everything_else() -> None:
    members = [_node("b", x=5), _node("a", x=5), _node("c", x=1)]
    members[0]["title"] = "kept"
    before = copy.deepcopy(members)
    placed = rearrange(members)
    assert [n["_id"] for n in placed] == ["b", "a", "c"]  # the list's order is kept
    step = node_size(members[0])[1] + ROW_GAP
    assert [n["y"] for n in placed] == [MARGIN + 2 * step, MARGIN + step, MARGIN]
    assert placed[0]["title"] == "kept" and members == before


def _box(node: dict) -> tuple[int, int, int, int]:
    width, height = node_size(node)
    return node["x"], node["y"], node["x"] + width, node["y"] + height


def test_wide_and_tall_nodes_never_overlap_and_every_wire_runs_left_to_right() -> None:
    wide = dict(_node("wide", "src"), title="A title far longer than a column of the old fixed width " * 2)
    tall = dict(_node("tall", "src"), inputs=[{"name": f"input number {i}", "values": []} for i in range(9)],
                outputs=[{"name": "a rather long output name"}])
    tall["inputs"][0]["values"] = [{"node_id": "src", "output_id": "out"}]
    members = [_node("src"), wide, tall, _node("sink", "wide", "tall"), _node("also", "src")]
    placed = {n["_id"]: n for n in rearrange(members)}
    boxes = {node_id: _box(node) for node_id, node in placed.items()}
    ids = sorted(boxes)
    for i, one in enumerate(ids):
        for other in ids[i + 1:]:
            a, b = boxes[one], boxes[other]
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (one, a, other, b)
    for target in members:
        for source in {v["node_id"] for i in target["inputs"] for v in i["values"]}:
            assert boxes[source][2] + COLUMN_GAP <= boxes[target["_id"]][0], (source, target["_id"])
    assert node_size(wide)[0] > 300 and node_size(tall)[1] > 140  # what the old fixed grid overlapped
