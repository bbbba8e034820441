"""REARRANGE: columns by depth, rows keeping the nodes' vertical order."""
from __future__ import annotations

import copy

import pytest

from chalicelib.domain.layout import COLUMN_WIDTH, MARGIN, ROW_HEIGHT, depths, rearrange


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
    column = lambda depth: MARGIN + depth * COLUMN_WIDTH  # noqa: E731
    row = lambda index: MARGIN + index * ROW_HEIGHT  # noqa: E731
    assert placed == {"alone": (column(0), row(0)), "src": (column(0), row(1)),
                      "left": (column(1), row(0)), "right": (column(1), row(1)), "sink": (column(2), row(0))}


def test_rearrange_breaks_ties_by_x_then_id_and_keeps_everything_else() -> None:
    members = [_node("b", x=5), _node("a", x=5), _node("c", x=1)]
    members[0]["title"] = "kept"
    before = copy.deepcopy(members)
    placed = rearrange(members)
    assert [n["_id"] for n in placed] == ["b", "a", "c"]  # the list's order is kept
    assert [n["y"] for n in placed] == [MARGIN + 2 * ROW_HEIGHT, MARGIN + ROW_HEIGHT, MARGIN]
    assert placed[0]["title"] == "kept" and members == before
