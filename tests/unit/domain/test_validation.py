"""Validation trees in the seed's shape ({target, object_id, validation_code, children}) with the seed's codes."""
from __future__ import annotations

import pytest

from chalicelib.domain import validation
from chalicelib.domain.validation import error, validate_graph, validate_node

from .builders import INPUTS, OUTPUTS, composite, file, graph, link, operation, param, port


def _tree(graph_id: str, *children: dict) -> dict:
    return error("GRAPH", graph_id, "IN_DEPENDENTS", list(children))


def _node(node_id: str, *children: dict) -> dict:
    return error("NODE", node_id, "IN_DEPENDENTS", list(children))


def test_an_error_has_the_seeds_four_fields() -> None:
    assert error("INPUT", "in", "MISSING_INPUT") == {
        "target": "INPUT", "object_id": "in", "validation_code": "MISSING_INPUT", "children": []}


def test_a_graph_that_may_run_has_no_tree() -> None:
    assert validate_graph(graph(file("f"), operation("a", port("in", link("f"))),
                                operation("b", port("in", link("a")), port("more", min_count=0)))) is None


def test_an_empty_graph_is_empty_graph() -> None:
    assert validate_graph(graph(graph_id="g0")) == error("GRAPH", "g0", "EMPTY_GRAPH")


# --- inputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("node_input, code", [
    (port("in"), "MISSING_INPUT"),  # nothing linked, one needed
    (port("in", link("f"), min_count=2, max_count=-1), "MISSING_INPUT"),
    (port("in", link("ghost")), "MISSING_INPUT"),  # a link to a node that is not in the graph
    (port("in", link("f", "nope")), "MISSING_INPUT"),  # to an output the node does not have
    (port("in", link("f"), link("g")), "INVALID_VALUE"),  # more values than max_count
    (port("in", link("n", "n")), "INVALID_VALUE"),  # an int output into a file input
    (port("in", link("f"), file_types=("json",)), "INVALID_VALUE"),  # a csv into a json input
], ids=["unlinked", "too-few", "missing-node", "missing-output", "too-many", "value-into-file", "wrong-kind"])
def test_input_problems_are_named_on_the_input(node_input: dict, code: str) -> None:
    members = [file("f", file_type="csv"), file("g", file_type="csv"), operation("n", outputs={"n": "int"}),
               operation("a", node_input)]
    assert validate_graph(graph(*members)) == _tree("g1", _node("a", error("INPUT", "in", code)))


@pytest.mark.parametrize("node_input", [
    port("in", min_count=0),
    port("in", link("f"), link("g"), link("f"), max_count=-1),  # any number
    port("in", link("f"), link("g"), max_count=2),
    port("in", link("f"), file_types=("csv", "json")),
    port("in", link("f")),  # a `file` input takes any file-based kind
], ids=["optional", "unlimited", "at-most-two", "one-of-several-kinds", "file-takes-csv"])
def test_inputs_that_fit_pass(node_input: dict) -> None:
    assert validate_graph(graph(file("f", file_type="csv"), file("g", file_type="csv"), operation("a", node_input))) is None


def test_each_faulty_input_is_named_once() -> None:
    node = operation("a", port("x"), port("y", link("ghost"), link("ghost", "other"), max_count=2), port("z", min_count=0))
    assert validate_graph(graph(node)) == _tree(
        "g1", _node("a", error("INPUT", "x", "MISSING_INPUT"), error("INPUT", "y", "MISSING_INPUT")))


@pytest.mark.parametrize("accepted, kind, fits", [
    (["file"], "csv", True),
    (["file"], "directory", True),
    (["file"], "int", False),  # values travel as values, not files
    (["file"], "list_str", False),
    (["csv"], "csv", True),
    (["csv"], "file", False),
    (["int"], "int", True),
    (["int", "float"], "float", True),
    ([], "file", False),
])
def test_types_compatible(accepted: list[str], kind: str, fits: bool) -> None:
    assert validation.types_compatible(accepted, kind) is fits


def test_link_problem_says_why_a_wire_cannot_exist() -> None:
    source = operation("s", outputs={"n": "int", "o": "file"}, title="Source")
    target = operation("t", port("in"), title="Target")
    assert validation.link_problem(source, "o", target, "in") is None
    assert validation.link_problem(None, "o", target, "in") == "the source node is not in the graph"
    assert validation.link_problem(source, "x", target, "in") == "`Source` has no output `x`"
    assert validation.link_problem(source, "o", target, "x") == "`Target` has no input `x`"
    assert validation.link_problem(source, "n", target, "in") == "output `n` is `int` but input `in` accepts file"


# --- files, parameters, resource kinds ---------------------------------------------------------


def test_a_file_without_content_is_missing_input_on_its_output() -> None:
    assert validate_graph(graph(file("f", resource_id=None))) == _tree("g1", _node("f", error("PROPERTY", "out", "MISSING_INPUT")))


@pytest.mark.parametrize("parameter, code", [
    (param("n", "many", "int"), "INVALID_VALUE"),
    (param("n", True, "int"), "INVALID_VALUE"),
    (param("x", "nan", "float"), "INVALID_VALUE"),
    (param("b", "yes", "bool"), "INVALID_VALUE"),
    (param("c", "red", "color"), "INVALID_VALUE"),
    (param("e", {"values": ["a"], "index": 3}, "enum"), "INVALID_VALUE"),
    (param("e", {"values": [], "index": 0}, "enum"), "MISSING_PARAMETER"),  # nothing to choose from
    (param("n", None, "int"), "MISSING_PARAMETER"),
    (param("l", [1, "x"], "list_int"), "INVALID_VALUE"),
])
def test_a_parameter_value_that_does_not_fit_its_type_is_named(parameter: dict, code: str) -> None:
    assert validate_graph(graph(operation("a", params=[parameter]))) == _tree(
        "g1", _node("a", error("PARAMETER", parameter["name"], code)))


@pytest.mark.parametrize("base, cmd", [("python", ""), ("python", "  \n\t"), ("bash_jinja2", "")])
def test_an_empty_command_is_missing_parameter(base: str, cmd: str) -> None:
    assert validate_graph(graph(operation("a", base=base, cmd=cmd))) == _tree(
        "g1", _node("a", error("PARAMETER", "_cmd", "MISSING_PARAMETER")))


def test_resource_kinds_nobody_configured_are_invalid_value() -> None:
    node = operation("a", port("in", link("f"), file_types=("no-such-kind", "file")), outputs={"out": "no-such-kind"})
    assert validate_graph(graph(file("f"), node)) == _tree(
        "g1", _node("a", error("INPUT", "in", "INVALID_VALUE"), error("PROPERTY", "out", "INVALID_VALUE")))


# --- cycles and deprecation --------------------------------------------------------------------


def test_a_cycle_names_the_inputs_that_read_from_it_on_and_behind_it() -> None:
    members = [file("f"),
               operation("a", port("in", link("f")), port("back", link("b"))),
               operation("b", port("in", link("a"))),
               operation("behind", port("in", link("b"))),
               operation("aside", port("in", link("f")))]
    assert validate_graph(graph(*members)) == _tree(
        "g1",
        _node("a", error("INPUT", "back", "IN_DEPENDENTS")),
        _node("b", error("INPUT", "in", "IN_DEPENDENTS")),
        _node("behind", error("INPUT", "in", "IN_DEPENDENTS")))


def test_a_node_reading_itself_is_a_cycle() -> None:
    assert validate_graph(graph(operation("a", port("in", link("a"))))) == _tree(
        "g1", _node("a", error("INPUT", "in", "IN_DEPENDENTS")))


def test_a_node_from_a_mandatory_deprecated_operation_is_deprecated_node() -> None:
    members = [operation("a", parent_node_id="lib-old"), operation("b", parent_node_id="lib-new"), file("f", parent_node_id="lib-old")]
    assert validate_graph(graph(*members), deprecated={"lib-old"}) == _tree(
        "g1", _node("a", error("NODE", "a", "DEPRECATED_NODE")), _node("f", error("NODE", "f", "DEPRECATED_NODE")))


def test_a_nodes_errors_are_gathered_under_it_inputs_then_parameters() -> None:
    node = operation("a", port("in"), cmd="", params=[param("n", "x", "int")], parent_node_id="old")
    assert validate_graph(graph(node), deprecated={"old"}) == _tree("g1", _node(
        "a", error("INPUT", "in", "MISSING_INPUT"), error("PARAMETER", "n", "INVALID_VALUE"),
        error("PARAMETER", "_cmd", "MISSING_PARAMETER"), error("NODE", "a", "DEPRECATED_NODE")))


# --- composites --------------------------------------------------------------------------------


def _valid_composite(node_id: str = "c") -> dict:
    return composite(node_id, [operation("op", port("in", link(INPUTS, "x")))], port("x"), outputs={"r": [link("op")]})


def test_a_valid_composite_passes_inside_a_graph_and_alone() -> None:
    made = _valid_composite()
    assert validate_node(made) is None
    placed = _valid_composite()
    placed["inputs"][0]["values"] = [{"node_id": "f", "output_id": "out", "resource_id": None}]
    assert validate_graph(graph(file("f"), placed)) is None


def test_errors_inside_a_composite_are_nested_under_it() -> None:
    made = composite("c", [operation("op", port("in", link(INPUTS, "x")), cmd=""),
                           operation("loose", port("in"))],
                     port("x", link("f")), outputs={"r": [link("op")], "unwired": []})
    expected_inner = [
        _node(OUTPUTS, error("INPUT", "unwired", "MISSING_INPUT")),
        _node("op", error("PARAMETER", "_cmd", "MISSING_PARAMETER")),
        _node("loose", error("INPUT", "in", "MISSING_INPUT")),
    ]
    assert validate_graph(graph(file("f"), made)) == _tree("g1", _node("c", *expected_inner))
    assert validate_node(made) == _node("c", *expected_inner)  # POST /nodes VALIDATE shows the same


def test_a_cycle_inside_a_composite_is_named_inside_it() -> None:
    made = composite("c", [operation("p", port("in", link("q"))), operation("q", port("in", link("p")))],
                     outputs={"r": [link("q")]})
    assert validate_node(made) == _node("c", _node(OUTPUTS, error("INPUT", "r", "IN_DEPENDENTS")),
                                        _node("p", error("INPUT", "in", "IN_DEPENDENTS")),
                                        _node("q", error("INPUT", "in", "IN_DEPENDENTS")))


def test_errors_two_composites_deep_are_two_levels_down() -> None:
    inner = composite("inner", [operation("deep", cmd="")], outputs={"r": [link("deep")]})
    outer = composite("outer", [inner], outputs={"r": [link("inner", "r")]})
    assert validate_node(outer) == _node("outer", _node("inner", _node("deep", error("PARAMETER", "_cmd", "MISSING_PARAMETER"))))


def test_deprecated_operations_inside_a_composite_are_named_there() -> None:
    made = composite("c", [operation("op", parent_node_id="old")], outputs={"r": [link("op")]})
    assert validate_node(made, deprecated={"old"}) == _node("c", _node("op", error("NODE", "op", "DEPRECATED_NODE")))


def test_validate_node_of_a_valid_operation_is_none_and_of_a_bad_one_a_node_tree() -> None:
    assert validate_node(operation("a", port("in"))) is None  # alone, an operation's inputs are not checked
    assert validate_node(operation("a", cmd="")) == _node("a", error("PARAMETER", "_cmd", "MISSING_PARAMETER"))
