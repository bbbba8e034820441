"""Deprecation across graphs with a fake library: DEPRECATED_NODE's set and UPGRADE_NODES."""
from __future__ import annotations

import copy
from collections.abc import Iterable

import pytest

from chalicelib.domain import upgrade
from chalicelib.domain.upgrade import mandatory_deprecated, upgrade_nodes

from .builders import file, graph, link, operation, param, port


class Library:
    """The stored operations a caller may view, by id, counting what was asked."""

    def __init__(self, *stored: dict) -> None:
        self.stored = {node["_id"]: node for node in stored}
        self.asked: list[set[str]] = []

    def __call__(self, ids: Iterable[str]) -> dict[str, dict]:
        wanted = set(ids)
        self.asked.append(wanted)
        return {node_id: copy.deepcopy(self.stored[node_id]) for node_id in wanted if node_id in self.stored}


def stored(node_id: str, status: str = "READY", successor: str | None = None, **kwargs) -> dict:
    """A library operation: one input `in`, one output `out` (kinds as asked), a `k` parameter and its code."""
    node = operation(node_id, port("in", file_types=kwargs.pop("accepts", ("file",))),
                     outputs={"out": kwargs.pop("makes", "file")}, cmd=f"print('{node_id}')",
                     params=[param("k", kwargs.pop("k", 1), "int")], title=f"version {node_id}", **kwargs)
    return dict(node, node_status=status, successor_node_id=successor, author="alice")


def placed(node_id: str, parent: str, *links: dict, k: int = 5) -> dict:
    """A graph's node made from library operation `parent`, with its own parameter value and position."""
    return operation(node_id, port("in", *links), params=[param("k", k, "int")], parent_node_id=parent, x=11, y=22,
                     cmd="print('old code')")


def test_mandatory_deprecated_are_the_visible_parents_that_may_no_longer_run() -> None:
    library = Library(stored("v1", "MANDATORY_DEPRECATED"), stored("v2", "DEPRECATED"), stored("v3"))
    members = [placed("a", "v1"), placed("b", "v2"), placed("c", "v3"), placed("d", "invisible"), operation("e")]
    assert mandatory_deprecated(graph(*members), library) == {"v1"}
    assert library.asked == [{"v1", "v2", "v3", "invisible"}]  # one batch read


def test_a_graph_without_deprecated_parents_is_returned_as_it_was() -> None:
    library = Library(stored("v1"))
    source = graph(file("f"), placed("a", "v1", link("f")), operation("b", port("in", link("a"))))
    upgraded, count = upgrade_nodes(source, library)
    assert count == 0 and upgraded == source


def test_a_deprecated_parent_is_replaced_by_its_successor_in_the_nodes_place() -> None:
    library = Library(stored("v1", "DEPRECATED", successor="v2"), stored("v2", k=9))
    upgraded, count = upgrade_nodes(graph(file("f"), placed("a", "v1", link("f"), k=5)), library)
    node = upgraded["nodes"][1]
    assert count == 1
    assert (node["_id"], node["parent_node_id"], node["x"], node["y"]) == ("a", "v2", 11, 22)
    assert node["title"] == "version v2" and node["node_status"] == "READY"
    assert node["inputs"][0]["values"] == [{"node_id": "f", "output_id": "out", "resource_id": None}]
    assert [(p["name"], p["value"]) for p in node["parameters"]] == [
        ("_cmd", {"mode": "python", "value": "print('v2')"}),  # the successor's code, never the old one
        ("k", 5)]  # the graph's own value of a parameter the successor still has


def test_a_parameter_whose_type_changed_takes_the_successors_value() -> None:
    successor = stored("v2")
    successor["parameters"][1].update(parameter_type="str", value="nine")
    library = Library(stored("v1", "DEPRECATED", successor="v2"), successor)
    node = upgrade_nodes(graph(placed("a", "v1", k=5)), library)[0]["nodes"][0]
    assert node["parameters"][1]["value"] == "nine"


def test_a_chain_of_successors_is_followed_to_the_first_that_is_not_deprecated() -> None:
    library = Library(stored("v1", "DEPRECATED", successor="v2"), stored("v2", "MANDATORY_DEPRECATED", successor="v3"),
                      stored("v3", successor="v4"), stored("v4"))
    upgraded, count = upgrade_nodes(graph(placed("a", "v1"), placed("b", "v3")), library)
    assert count == 1
    assert [n["parent_node_id"] for n in upgraded["nodes"]] == ["v3", "v3"]  # v3 is current: b stays
    assert library.asked == [{"v1", "v3"}, {"v2"}]  # the parents at once, then each successor not yet known


def test_the_last_version_of_a_chain_wins_even_when_it_is_deprecated_too() -> None:
    library = Library(stored("v1", "DEPRECATED", successor="v2"), stored("v2", "DEPRECATED"))
    upgraded, count = upgrade_nodes(graph(placed("a", "v1")), library)
    assert count == 1 and upgraded["nodes"][0]["parent_node_id"] == "v2"


def test_a_successor_the_caller_may_not_see_stops_the_chain() -> None:
    library = Library(stored("v1", "DEPRECATED", successor="v2"), stored("v2", "DEPRECATED", successor="hidden"))
    upgraded, count = upgrade_nodes(graph(placed("a", "v1"), placed("b", "v2")), library)
    assert count == 1 and [n["parent_node_id"] for n in upgraded["nodes"]] == ["v2", "v2"]
    library = Library(stored("v1", "DEPRECATED", successor="hidden"))
    assert upgrade_nodes(graph(placed("a", "v1")), library)[1] == 0


@pytest.mark.parametrize("successors", [{"v1": "v1"}, {"v1": "v2", "v2": "v1"}, {"v1": "v2", "v2": "v3", "v3": "v2"}],
                         ids=["self", "two", "tail"])
def test_a_successor_loop_ends_and_upgrading_again_changes_nothing(successors: dict[str, str]) -> None:
    library = Library(*(stored(node_id, "DEPRECATED", successor=successor) for node_id, successor in successors.items()))
    once, _ = upgrade_nodes(graph(placed("a", "v1")), library)
    twice, count = upgrade_nodes(once, library)
    assert count == 0 and twice == once  # no version in a loop is the newest: UPGRADE_NODES does not flip between them


def test_a_very_long_chain_ends() -> None:
    versions = [stored(f"v{i}", "DEPRECATED", successor=f"v{i + 1}") for i in range(200)]
    upgraded, count = upgrade_nodes(graph(placed("a", "v0")), Library(*versions))
    assert count == 1 and upgraded["nodes"][0]["parent_node_id"] != "v0"


def test_links_whose_types_no_longer_fit_are_dropped_and_the_rest_kept() -> None:
    library = Library(stored("v1", "DEPRECATED", successor="v2"), stored("v2", makes="int", accepts=("csv",)))
    members = [file("f", file_type="file"), file("c", file_type="csv"),
               placed("a", "v1", link("f")),  # the successor's input takes csv only: dropped
               placed("b", "v1", link("c")),  # a csv still fits: kept
               operation("reader", port("in", link("a"), link("b"), max_count=-1)),  # reads an int now: dropped
               operation("counter", port("in", link("a"), file_types=("int",)))]  # takes ints: kept
    upgraded, count = upgrade_nodes(graph(*members), library)
    by_id = {n["_id"]: n for n in upgraded["nodes"]}
    assert count == 2
    assert by_id["a"]["inputs"][0]["values"] == []
    assert by_id["b"]["inputs"][0]["values"] == [{"node_id": "c", "output_id": "out", "resource_id": None}]
    assert by_id["reader"]["inputs"][0]["values"] == []
    assert by_id["counter"]["inputs"][0]["values"] == [{"node_id": "a", "output_id": "out", "resource_id": None}]


def test_links_to_an_output_the_successor_no_longer_has_are_dropped() -> None:
    successor = stored("v2")
    successor["outputs"] = [{"name": "result", "file_type": "file", "resource_id": None}]
    library = Library(stored("v1", "DEPRECATED", successor="v2"), successor)
    upgraded, _ = upgrade_nodes(graph(placed("a", "v1"), operation("r", port("in", link("a")))), library)
    assert upgraded["nodes"][1]["inputs"][0]["values"] == []


def test_upgrade_leaves_the_graph_it_was_given_unchanged() -> None:
    library = Library(stored("v1", "DEPRECATED", successor="v2"), stored("v2", makes="int"))
    source = graph(placed("a", "v1"), operation("r", port("in", link("a"))), operation("s", port("in", link("gone"))))
    before = copy.deepcopy(source)
    upgrade_nodes(source, library)
    assert source == before


def test_nothing_to_upgrade_still_reports_the_graph_as_stored() -> None:
    """With no node upgraded nothing is saved, so the graph shown must be the stored one (links and all)."""
    source = graph(operation("r", port("in", link("gone"))))
    before = copy.deepcopy(source)
    _, count = upgrade_nodes(source, Library())
    assert count == 0 and source == before


def test_the_deprecated_statuses() -> None:
    assert upgrade.DEPRECATED == {"DEPRECATED", "MANDATORY_DEPRECATED"}
