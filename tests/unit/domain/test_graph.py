"""The one graph model: links, order, composites, reserved parameters, run results and input resolution."""
from __future__ import annotations

import copy
import random

import pytest

from chalicelib.domain import graph, nodes
from chalicelib.domain.enums import NodeRunningStatus, SpecialNodeId
from chalicelib.domain.graph import GraphShapeError

from .builders import AUTHOR, composite, file, link, operation, param, port


def _with(name: str, value: object, parameter_type: str = "str") -> dict:
    """A bare node carrying one parameter (the accessors read nothing else)."""
    return {"base_node_name": "python", "parameters": [{"name": name, "parameter_type": parameter_type, "value": value}]}


def _bare(node_id: str, *deps: str) -> dict:
    return {"_id": node_id, "inputs": [{"name": "in", "values": [link(d) for d in deps]}]}


def _nodes(*members: dict) -> dict[str, dict]:
    return {node["_id"]: node for node in members}


# --- parameters --------------------------------------------------------------------------------


def test_parameter_finds_by_name_and_value_falls_back_only_when_absent() -> None:
    node = operation("a", params=[param("seed", 7, "int"), {"name": "empty", "parameter_type": "str"}])
    assert graph.parameter(node, "seed")["value"] == 7
    assert graph.parameter(node, "nope") is None
    assert graph.parameter_value(node, "seed") == 7
    assert graph.parameter_value(node, "nope", "fallback") == "fallback"
    assert graph.parameter_value(node, "empty", "fallback") == ""  # present: its (default) value, not the fallback
    assert graph.parameter_value({}, "seed", 3) == 3  # a node without parameters at all


@pytest.mark.parametrize("value, expected", [
    (30, 30),
    ("45", 45),
    (" 45 ", 45),
    (12.9, 12),  # whole seconds, rounded down
    ("12.9", 12),
    ("1e3", 1000),
    (0, 1),  # at least one second
    (-5, 1),
    (True, 600),  # a bool is not a number of seconds
    (None, 600),
    ("soon", 600),
    ([], 600),
    ({"value": 5}, 600),
    ("nan", 600),  # not a number: the default, not a crash when APPROVE compiles the graph
    (float("nan"), 600),
    ("inf", 600),
    ("-inf", 600),
    ("1e400", 600),  # overflows to infinity
], ids=repr)
def test_timeout_seconds_parses_what_users_write_and_defaults_on_garbage(value: object, expected: int) -> None:
    assert graph.DEFAULT_TIMEOUT_SECONDS == 600
    assert graph.timeout_seconds(_with("_timeout", value)) == expected


def test_timeout_of_an_operation_without_the_parameter_is_the_default() -> None:
    assert graph.timeout_seconds(operation("a")) == graph.DEFAULT_TIMEOUT_SECONDS
    assert graph.timeout_seconds(nodes.default_node("python", AUTHOR)) == 600  # the parameter a new operation has
    assert graph.timeout_seconds(operation("a", params=[param("_timeout", 5, "int")])) == 5


@pytest.mark.parametrize("value, expected", [
    (3, 3),
    ("2", 2),
    (2.7, 2),
    ("2.7", 2),
    (0, 0),
    (-1, 0),  # never negative
    (True, 0),
    (None, 0),
    ("twice", 0),
    ({}, 0),
    ("nan", 0),
    (float("inf"), 0),
], ids=repr)
def test_retries_parses_what_users_write_and_is_zero_on_garbage(value: object, expected: int) -> None:
    assert graph.retries(_with("_retries", value)) == expected


def test_retries_absent_is_zero() -> None:
    assert graph.retries(operation("a")) == 0


@pytest.mark.parametrize("value, expected", [
    ("lambda", "lambda"),
    ("fargate", "fargate"),
    ("Fargate", "fargate"),  # case does not matter
    ("ec2", None),
    ("", None),
    (None, None),
    (42, None),
    ({"values": ["lambda", "fargate"], "index": 1}, "fargate"),  # an enum parameter
    ({"values": ["lambda", "fargate"], "index": "1"}, "fargate"),
    ({"values": ["lambda", "fargate"], "index": 0}, "lambda"),
    ({"values": ["lambda", "fargate"]}, "lambda"),  # no index: the first value
    ({"values": ["lambda", "fargate"], "index": None}, "lambda"),
    ({"values": ["lambda", "fargate"], "index": 2}, None),  # out of range
    ({"values": ["lambda", "fargate"], "index": -1}, None),
    ({"values": ["lambda", "fargate"], "index": "x"}, None),
    ({"values": ["lambda", "fargate"], "index": True}, None),
    ({"values": ["gpu"], "index": 0}, None),  # chosen, but not a placement
    ({"values": [], "index": 0}, None),
    ({}, None),
], ids=repr)
def test_placement_choice_reads_strings_and_enums_and_ignores_anything_else(value: object, expected: str | None) -> None:
    assert graph.placement_choice(_with("_placement", value)) == expected


def test_placement_absent_is_no_choice() -> None:
    assert graph.placement_choice(operation("a")) is None


@pytest.mark.parametrize("name, value, expected", [
    ("_cacheable", True, True),
    ("_cacheable", False, False),
    ("_cacheable", "false", False),
    ("_cacheable", 0, False),
    ("cacheable", False, False),  # the seed's name for it
    ("cacheable", True, True),
    ("_cacheable", "true", True),
    ("_cacheable", None, True),  # only a clear "no" opts out
], ids=repr)
def test_an_operation_is_cacheable_unless_it_says_no(name: str, value: object, expected: bool) -> None:
    assert graph.cacheable(operation("a", params=[param(name, value, "bool")])) is expected


def test_operations_are_cacheable_by_default_and_files_never() -> None:
    assert graph.cacheable(operation("a")) is True
    assert graph.cacheable(operation("b", base="bash_jinja2", cmd="echo hi")) is True
    assert graph.cacheable(nodes.default_node("python", AUTHOR)) is True
    assert graph.cacheable(file("f")) is False


def test_a_composite_is_cacheable_when_every_operation_inside_may_be() -> None:
    assert graph.cacheable(composite("c", [operation("a"), operation("b")])) is True
    assert graph.cacheable(composite("c", [operation("a"), operation("b", params=[param("_cacheable", False, "bool")])])) is False


def test_a_composite_without_operations_or_that_opts_out_is_not_cacheable() -> None:
    assert graph.cacheable(composite("c", [])) is False  # only its Inputs and Outputs nodes
    assert graph.cacheable(composite("c", [file("f")])) is False
    opted_out = composite("c", [operation("a")])
    opted_out["parameters"].append(param("_cacheable", False, "bool"))
    assert graph.cacheable(opted_out) is False


def test_a_non_cacheable_operation_deep_inside_nested_composites_opts_the_outer_one_out() -> None:
    inner = composite("inner", [operation("a", params=[param("cacheable", False, "bool")])])
    assert graph.cacheable(composite("outer", [operation("b"), inner])) is False
    assert graph.cacheable(composite("outer", [operation("b"), composite("inner", [operation("a")])])) is True


# --- composites --------------------------------------------------------------------------------


def test_inner_nodes_are_a_composites_sub_graph_and_nothing_for_other_nodes() -> None:
    made = composite("c", [operation("a")])
    assert graph.is_composite(made) and not graph.is_composite(operation("a"))
    assert [n["_id"] for n in graph.inner_nodes(made)] == [SpecialNodeId.INPUT, SpecialNodeId.OUTPUT, "a"]
    assert graph.inner_nodes(operation("a")) == []
    assert graph.inner_nodes(_with("_nodes", [{"_id": "x"}], "list_node")) == []  # not a composite
    broken = {"base_node_name": "graph", "parameters": [{"name": "_nodes", "value": "not a list"}]}
    assert graph.inner_nodes(broken) == []
    assert graph.inner_nodes({"base_node_name": "graph"}) == []


@pytest.mark.parametrize("graph_id, node_id, sub_id", [("g", "n", "g.n"), ("g.n", "m", "g.n.m")])
def test_sub_graph_ids_nest_and_lead_back_to_their_top_graph(graph_id: str, node_id: str, sub_id: str) -> None:
    assert graph.sub_graph_id(graph_id, node_id) == sub_id
    assert graph.top_graph_id(sub_id) == "g"
    assert graph.top_graph_id("g") == "g"


# --- links and order ---------------------------------------------------------------------------


def test_dependencies_are_the_nodes_every_input_reads() -> None:
    node = operation("c", port("x", link("a"), link("b", "other"), max_count=-1), port("y", link("a")))
    assert graph.dependencies(node) == {"a", "b"}
    assert graph.dependencies(operation("a")) == set()
    assert graph.dependencies({}) == set()


def test_topological_order_of_a_diamond_puts_each_node_after_its_dependencies() -> None:
    order = graph.topological_order(_nodes(_bare("d", "b", "c"), _bare("c", "a"), _bare("b", "a"), _bare("a")))
    assert order[0] == "a" and order[-1] == "d" and set(order[1:3]) == {"b", "c"}


def test_topological_order_starts_from_the_sources_in_id_order() -> None:
    assert graph.topological_order(_nodes(_bare("z"), _bare("m"), _bare("a"))) == ["a", "m", "z"]


def test_topological_order_of_a_random_dag_respects_every_link() -> None:
    rng = random.Random(13)
    members = [_bare(f"n{i}", *{f"n{rng.randrange(i)}" for _ in range(rng.randrange(4))} if i else ())
               for i in range(300)]
    order = graph.topological_order(_nodes(*reversed(members)))
    position = {node_id: index for index, node_id in enumerate(order)}
    assert sorted(order) == sorted(n["_id"] for n in members)
    assert all(position[dep] < position[n["_id"]] for n in members for dep in graph.dependencies(n))


def test_topological_order_of_a_long_chain_needs_no_recursion() -> None:
    chain = [_bare("n0")] + [_bare(f"n{i}", f"n{i - 1}") for i in range(1, 5_000)]
    assert graph.topological_order(_nodes(*chain)) == [f"n{i}" for i in range(5_000)]


def test_topological_order_refuses_a_cycle_naming_the_nodes_stuck_on_or_behind_it() -> None:
    with pytest.raises(GraphShapeError, match=r"cycle through nodes \['b', 'c', 'd'\]"):
        graph.topological_order(_nodes(_bare("a"), _bare("b", "a", "c"), _bare("c", "b"), _bare("d", "c")))


def test_topological_order_refuses_a_link_to_a_missing_node() -> None:
    with pytest.raises(GraphShapeError, match=r"Node `b` depends on unknown nodes \['ghost'\]"):
        graph.topological_order(_nodes(_bare("a"), _bare("b", "a", "ghost")))
    assert issubclass(GraphShapeError, ValueError)


def test_topological_order_of_nothing_is_empty() -> None:
    assert graph.topological_order({}) == []


@pytest.mark.parametrize("members, blocked", [
    ([_bare("a"), _bare("b", "a")], set()),
    ([_bare("a", "b"), _bare("b", "a")], {"a", "b"}),
    ([_bare("a", "a")], {"a"}),  # a node reading itself
    ([_bare("up"), _bare("a", "up", "b"), _bare("b", "a"), _bare("behind", "b"), _bare("aside", "up")],
     {"a", "b", "behind"}),  # on the cycle or behind it; not what feeds it, not a sibling
    ([_bare("a", "ghost")], set()),  # a link to a missing node is another check's business
], ids=["dag", "two-cycle", "self-loop", "behind-a-cycle", "missing-node"])
def test_blocked_by_cycles_names_nodes_on_or_behind_a_cycle(members: list[dict], blocked: set[str]) -> None:
    assert graph.blocked_by_cycles(members) == blocked


# --- run results -------------------------------------------------------------------------------


def _ran(node: dict) -> dict:
    ran = copy.deepcopy(node)
    ran["node_running_status"] = NodeRunningStatus.SUCCESS
    ran["outputs"] = [dict(o, resource_id=f"res-{o['name']}") for o in ran["outputs"]]
    ran["logs"] = [dict(log, resource_id=f"log-{log['name']}") for log in ran.get("logs", [])]
    return ran


def test_strip_results_drops_what_a_run_added_to_an_operation_and_leaves_the_original() -> None:
    ran = _ran(operation("a", outputs=("x", "y"), logs=[{"name": "stderr"}]))
    before = copy.deepcopy(ran)
    stripped = graph.strip_results(ran)
    assert ran == before
    assert "node_running_status" not in stripped
    assert stripped["outputs"] == [{"name": "x", "file_type": "file", "resource_id": None},
                                   {"name": "y", "file_type": "file", "resource_id": None}]
    assert stripped["logs"] == [{"name": "stderr", "file_type": "file", "resource_id": None}]
    assert {k: v for k, v in stripped.items() if k not in ("outputs", "logs")} == \
        {k: v for k, v in ran.items() if k not in ("outputs", "logs", "node_running_status")}


def test_strip_results_keeps_a_files_content() -> None:
    uploaded = file("f", resource_id="content-1")
    assert graph.strip_results(uploaded)["outputs"] == [{"name": "out", "file_type": "file", "resource_id": "content-1"}]


def test_strip_results_of_a_node_without_results_adds_nothing() -> None:
    assert graph.strip_results({"_id": "a", "base_node_name": "python"}) == {
        "_id": "a", "base_node_name": "python", "outputs": [], "logs": []}


# --- input resolution --------------------------------------------------------------------------


def _upstream() -> dict[str, dict]:
    csv = {"_id": "a", "outputs": [{"name": "out", "file_type": "csv", "resource_id": "r-a"},
                                   {"name": "pending", "file_type": "file", "resource_id": None}]}
    number = {"_id": "b", "outputs": [{"name": "n", "file_type": "int", "resource_id": "r-b"}]}
    return {"a": csv, "b": number}


def test_resolve_inputs_gives_each_input_its_resources_in_link_order() -> None:
    node = operation("c", port("many", link("b", "n"), link("a"), max_count=-1), port("one", link("a")),
                     port("none", min_count=0))
    assert graph.resolve_inputs(node, _upstream()) == {"many": ["r-b", "r-a"], "one": ["r-a"], "none": []}
    assert graph.resolve_inputs(operation("d"), {}) == {}


@pytest.mark.parametrize("value, missing", [
    (link("a", "pending"), "output `pending` of node `a`"),  # not produced yet
    (link("a", "nope"), "output `nope` of node `a`"),
    (link("ghost"), "output `out` of node `ghost`"),
], ids=["no-resource-yet", "no-such-output", "no-such-node"])
def test_resolve_inputs_raises_lookup_error_for_an_output_without_a_resource(value: dict, missing: str) -> None:
    with pytest.raises(LookupError, match=f"Input `in`: {missing}"):
        graph.resolve_inputs(operation("c", port("in", value)), _upstream())


def test_input_types_are_the_types_of_the_outputs_read_and_file_when_unknown() -> None:
    node = operation("c", port("x", link("a"), link("b", "n"), max_count=-1), port("y", link("ghost")),
                     port("z", link("a", "nope")), port("unlinked", min_count=0))
    assert graph.input_types(node, _upstream()) == {"x": ["csv", "int"], "y": ["file"], "z": ["file"]}
