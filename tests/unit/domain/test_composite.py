"""Composite operations: their special Inputs/Outputs nodes, and a composite made of a graph (as_operation)."""
from __future__ import annotations

import copy

import pytest

from chalicelib.domain import composite, graph, nodes, validation
from chalicelib.domain.enums import NodeRunningStatus
from chalicelib.domain.errors import BadRequestError

from .builders import AUTHOR, INPUTS, OUTPUTS, file, graph as make_graph, link, operation, port


def test_default_inner_is_an_inputs_and_an_outputs_node_with_the_seeds_fixed_ids() -> None:
    made = composite.default_inner({"inputs": [], "outputs": []})
    assert [(n["_id"], n["base_node_name"], n["title"]) for n in made] == [
        ("2419f9f6d8b5da6e4bb8f8d4", "_input", "Inputs"), ("56a2bd3af3fe5ee6d63ac7dd", "_output", "Outputs")]
    assert [(n["x"], n["y"]) for n in made] == [(0, 0), (600, 0)]
    assert all(n["node_running_status"] == NodeRunningStatus.SPECIAL and n["parameters"] == [] for n in made)


@pytest.mark.parametrize("file_types, port_type", [
    (["csv"], "csv"),
    (["csv", "tsv"], "file"),  # more than one kind: the Inputs node offers a plain file
    ([], "file"),
    (None, "file"),
])
def test_the_inputs_node_offers_each_composite_input_as_an_output_of_its_type(file_types: list | None,
                                                                               port_type: str) -> None:
    inputs_node, _ = composite.specials({"inputs": [{"name": "a", "file_types": file_types}], "outputs": []}, {}, {})
    assert inputs_node["outputs"] == [{"name": "a", "file_type": port_type, "resource_id": None}]


def test_the_outputs_node_takes_each_composite_output_wired_as_given() -> None:
    wiring = {"r": [{"node_id": "op", "output_id": "out", "resource_id": None}]}
    _, outputs_node = composite.specials(
        {"inputs": [], "outputs": [{"name": "r", "file_type": "csv"}, {"name": "s", "file_type": "file"}]},
        wiring, {OUTPUTS: (10, 20)})
    assert outputs_node["inputs"] == [
        {"name": "r", "file_types": ["csv"], "values": wiring["r"], "min_count": 1, "max_count": 1},
        {"name": "s", "file_types": ["file"], "values": [], "min_count": 1, "max_count": 1}]
    assert (outputs_node["x"], outputs_node["y"]) == (10, 20)


# --- from_graph --------------------------------------------------------------------------------


def _pipeline() -> dict:
    """data (file) -> clean -> [model -> report], clean.stats unread; run results on the operations."""
    data = file("data-node", resource_id="content-1", file_type="csv", title="data", x=0, y=100)
    clean = operation("clean", port("raw", link("data-node"), file_types=("csv",)), outputs=("rows", "stats"),
                      x=200, y=100)
    model = operation("model", port("rows", link("clean", "rows")), outputs={"fit": "json"}, x=400, y=50)
    ran = copy.deepcopy(make_graph(data, clean, model, graph_id="g9"))
    ran["title"], ran["description"] = "Pipeline", "cleans and fits"
    for node in ran["nodes"][1:]:
        node["node_running_status"] = "SUCCESS"
        node["outputs"] = [dict(o, resource_id=f"res-{o['name']}") for o in node["outputs"]]
    return ran


def test_files_become_inputs_and_their_readers_read_the_inputs_node() -> None:
    made = composite.from_graph(_pipeline())
    assert made["inputs"] == [{"name": "data", "file_types": ["csv"], "values": [], "min_count": 1, "max_count": 1}]
    inner = {n["_id"]: n for n in made["parameters"][0]["value"]}
    assert "data-node" not in inner
    assert inner["clean"]["inputs"][0]["values"] == [{"node_id": INPUTS, "output_id": "data", "resource_id": None}]
    assert inner["model"]["inputs"][0]["values"] == [{"node_id": "clean", "output_id": "rows", "resource_id": None}]


def test_outputs_nothing_reads_become_the_composites_outputs() -> None:
    made = composite.from_graph(_pipeline())
    assert made["outputs"] == [{"name": "stats", "file_type": "file", "resource_id": None},
                               {"name": "fit", "file_type": "json", "resource_id": None}]
    outputs_node = made["parameters"][0]["value"][1]
    assert {i["name"]: i["values"] for i in outputs_node["inputs"]} == {
        "stats": [{"node_id": "clean", "output_id": "stats", "resource_id": None}],
        "fit": [{"node_id": "model", "output_id": "fit", "resource_id": None}]}


def test_the_composite_carries_no_run_results_and_is_named_after_the_graph() -> None:
    made = composite.from_graph(_pipeline())
    assert (made["base_node_name"], made["title"], made["description"]) == ("graph", "Pipeline", "cleans and fits")
    for node in made["parameters"][0]["value"][2:]:
        assert "node_running_status" not in node
        assert all(o["resource_id"] is None for o in node["outputs"])
    assert made["parameters"][0]["parameter_type"] == "list_node"


def test_the_inputs_and_outputs_nodes_frame_the_operations() -> None:
    inputs_node, outputs_node = composite.from_graph(_pipeline())["parameters"][0]["value"][:2]
    assert (inputs_node["x"], inputs_node["y"]) == (200 - 250, 50)
    assert (outputs_node["x"], outputs_node["y"]) == (400 + 250, 50)


def test_the_graph_it_was_made_of_is_left_as_it_was() -> None:
    source = _pipeline()
    before = copy.deepcopy(source)
    composite.from_graph(source)
    assert source == before


def test_a_composite_made_of_a_valid_graph_cleans_and_validates_without_errors() -> None:
    cleaned = nodes.clean_node(composite.from_graph(_pipeline()), AUTHOR)
    assert validation.validate_node(cleaned) is None
    assert graph.cacheable(cleaned)


def test_clashing_names_are_made_unique() -> None:
    one = file("f1", title="data")
    two = file("f2", title="data")
    three = file("f3", title="data")
    left = operation("left", port("a", link("f1")), port("b", link("f2")), port("c", link("f3")), title="Left")
    right = operation("right", title="Right")
    made = composite.from_graph(make_graph(one, two, three, left, right))
    assert [i["name"] for i in made["inputs"]] == ["data", "data 2", "data 3"]
    assert [o["name"] for o in made["outputs"]] == ["out", "Right.out"]
    inner = {n["_id"]: n for n in made["parameters"][0]["value"]}
    assert [i["values"][0]["output_id"] for i in inner["left"]["inputs"]] == ["data", "data 2", "data 3"]


def test_a_file_with_several_outputs_names_each_input_by_title_and_output() -> None:
    bundle = {"_id": "b", "title": "bundle", "base_node_name": "file",
              "outputs": [{"name": "x", "file_type": "file"}, {"name": "y", "file_type": None}]}
    reader = operation("r", port("a", link("b", "x")), port("c", link("b", "y")))
    made = composite.from_graph(make_graph(bundle, reader))
    assert [(i["name"], i["file_types"]) for i in made["inputs"]] == [("bundle.x", ["file"]), ("bundle.y", ["file"])]


@pytest.mark.parametrize("members", [[], [file("f")]], ids=["empty", "files-only"])
def test_a_graph_without_operations_cannot_become_one(members: list[dict]) -> None:
    with pytest.raises(BadRequestError, match="Graph `g1` has no operations to make an operation of"):
        composite.from_graph(make_graph(*members))
