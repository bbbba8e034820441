"""Cleaning a client's node JSON: a well-formed node with its base node's defaults, or a 400 that says what is wrong."""
from __future__ import annotations

import json
import os
from typing import Any

import pytest

from chalicelib.domain import composite, nodes
from chalicelib.domain.enums import NodeRunningStatus, NodeStatus, SpecialNodeId
from chalicelib.domain.errors import BadRequestError, NotFoundError

from .builders import AUTHOR, INPUTS, OUTPUTS, link, operation, port

SEED = os.path.join(os.path.dirname(__file__), "..", "..", "data", "seed_clone_response.json")


def _clean(raw: Any, **kwargs: Any) -> dict:
    return nodes.clean_node(raw, AUTHOR, **kwargs)


def _names(items: list[dict]) -> list[str]:
    return [item["name"] for item in items]


# --- defaults per base node --------------------------------------------------------------------


def test_a_new_python_operation_has_code_cache_and_timeout_parameters_and_three_logs() -> None:
    node = nodes.default_node("python", AUTHOR)
    assert len(node["_id"]) == 24 and int(node["_id"], 16) >= 0  # the seed's ObjectId shape
    assert node["title"] == "New python operation" and node["author"] == AUTHOR
    assert [(p["name"], p["parameter_type"], p["value"]) for p in node["parameters"]] == [
        ("_cmd", "code", {"mode": "python", "value": "# inputs, outputs and params are dicts; write your outputs' files\n"}),
        ("_cacheable", "bool", True),
        ("_timeout", "int", 600),
    ]
    assert [p["publicable"] for p in node["parameters"]] == [False, False, True]
    assert _names(node["logs"]) == ["stderr", "stdout", "worker"]
    assert node["inputs"] == [] and node["outputs"] == []
    assert (node["node_running_status"], node["node_status"]) == (NodeRunningStatus.CREATED, NodeStatus.CREATED)


def test_a_new_bash_operation_is_a_shell_script_that_stops_on_errors() -> None:
    node = nodes.default_node("bash_jinja2", AUTHOR)
    assert node["parameters"][0]["value"] == {"mode": "sh", "value": "set -e\n\n"}
    assert node["title"] == "New bash operation"


def test_a_new_file_has_one_output_and_is_static() -> None:
    node = nodes.default_node("file", AUTHOR)
    assert node["outputs"] == [{"name": "out", "file_type": "file", "resource_id": None}]
    assert node["parameters"] == [] and node["logs"] == []
    assert node["node_running_status"] == NodeRunningStatus.STATIC


def test_a_new_composite_holds_just_its_inputs_and_outputs_nodes() -> None:
    node = nodes.default_node("graph", AUTHOR)
    [inner] = node["parameters"]
    assert (inner["name"], inner["parameter_type"]) == ("_nodes", "list_node")
    assert [(n["_id"], n["base_node_name"]) for n in inner["value"]] == [(INPUTS, "_input"), (OUTPUTS, "_output")]
    assert _names(node["logs"]) == ["worker"]


def test_new_nodes_get_fresh_ids() -> None:
    assert nodes.default_node("python", AUTHOR)["_id"] != nodes.default_node("python", AUTHOR)["_id"]


@pytest.mark.parametrize("base", ["_input", "_output", "Python", "sql", ""])
def test_there_is_no_default_for_an_unknown_or_special_base_node(base: str) -> None:
    with pytest.raises(NotFoundError, match="Unknown base node"):
        nodes.default_node(base, AUTHOR)


# --- clean_node: what it keeps and fills in ----------------------------------------------------


def test_a_minimal_body_becomes_a_whole_node_with_the_base_nodes_defaults() -> None:
    node = _clean({"base_node_name": "python"})
    default = nodes.default_node("python", AUTHOR)
    assert {k: v for k, v in node.items() if k != "_id"} == {k: v for k, v in default.items() if k != "_id"}


def test_inputs_outputs_and_parameters_get_their_defaults() -> None:
    node = _clean({"base_node_name": "python", "inputs": [{"name": "in"}], "outputs": [{"name": "out"}],
                   "parameters": [{"name": "n", "parameter_type": "int"}, {"name": "s"},
                                  {"name": "e", "parameter_type": "enum"}]})
    assert node["inputs"] == [{"name": "in", "file_types": ["file"], "values": [], "min_count": 1, "max_count": 1}]
    assert node["outputs"] == [{"name": "out", "file_type": "file", "resource_id": None}]
    assert [(p["name"], p["parameter_type"], p["value"]) for p in node["parameters"]] == [
        ("n", "int", 0), ("s", "str", ""), ("e", "enum", {"values": [], "index": 0})]


def test_given_parameters_replace_the_defaults_rather_than_merge() -> None:
    node = _clean({"base_node_name": "python", "parameters": [{"name": "_cmd", "parameter_type": "code",
                                                               "value": {"mode": "python", "value": "x = 1"}}]})
    assert _names(node["parameters"]) == ["_cmd"]


def test_what_a_client_may_not_set_is_set_by_the_domain() -> None:
    node = _clean({"base_node_name": "python", "node_running_status": "SUCCESS", "node_status": "BOGUS",
                   "author": "mallory", "starred": "yes"})
    assert node["node_running_status"] == NodeRunningStatus.CREATED
    assert node["node_status"] == NodeStatus.CREATED  # an unknown status is not kept
    assert node["author"] == AUTHOR  # who cleans it, not what the body claims
    assert node["starred"] is True
    assert _clean({"base_node_name": "file", "node_running_status": "RUNNING"})["node_running_status"] == "STATIC"
    assert _clean({"base_node_name": "python", "node_status": "READY"})["node_status"] == "READY"


def test_a_seed_node_exported_from_plynx_posts_as_is() -> None:
    with open(SEED, encoding="utf-8") as handle:
        seed = json.load(handle)["graph"]["nodes"][0]
    node = _clean(seed)
    assert node["_id"] == seed["_id"] and node["title"] == "Sum"
    assert node["parent_node_id"] == "5d27b8dd50e56dbbce063449"  # the seed's `parent_node`
    assert node["successor_node_id"] is None
    assert nodes.command_text(node).startswith("s = 0\n")  # the seed's `cmd`
    assert node["inputs"][0]["max_count"] == -1 and (node["x"], node["y"]) == (190, 143)


def test_seed_fields_are_accepted_and_dropped() -> None:
    node = _clean({"base_node_name": "python", "insertion_date": "2019", "_type": "Node", "code_hash": "abc",
                   "_readonly": True, "latest_run_id": "r"})
    assert not {"insertion_date", "_type", "code_hash", "_readonly", "latest_run_id"} & set(node)


@pytest.mark.parametrize("version, expected", [(None, None), (0, 0), (7, 7)])
def test_the_version_a_client_read_is_kept_for_optimistic_locking(version: int | None, expected: int | None) -> None:
    assert _clean({"base_node_name": "python", "_version": version})["_version"] == expected


def test_a_client_chosen_id_is_kept_and_an_empty_one_replaced() -> None:
    assert _clean({"base_node_name": "python", "_id": "my-node_1"})["_id"] == "my-node_1"
    assert len(_clean({"base_node_name": "python", "_id": ""})["_id"]) == 24


# --- clean_node: precise 400s ------------------------------------------------------------------


def _python(**fields: Any) -> dict:
    return {"base_node_name": "python", **fields}


@pytest.mark.parametrize("raw, message", [
    ([], "`node` must be of type dict"),
    ("python", "`node` must be of type dict"),
    (_python(titel="typo"), "`node` has unknown fields ['titel']"),
    ({}, "`node.base_node_name` must be one of ['bash_jinja2', 'file', 'graph', 'python']"),
    (_python(base_node_name="_input"), "`node.base_node_name` must be one of"),
    (_python(base_node_name=["python"]), "`node.base_node_name` must be one of"),
    (_python(_id="a/b"), "`node._id` must be 1 to 64 letters, digits, `-` or `_`"),
    (_python(_id="x" * 65), "`node._id` must be 1 to 64"),
    (_python(_id=12), "`node._id` must be 1 to 64"),
    (_python(_version=-1), "`node._version` must be the non-negative integer `_version` you read"),
    (_python(_version=True), "`node._version` must be the non-negative integer"),
    (_python(_version="3"), "`node._version` must be the non-negative integer"),
    (_python(title=""), "`node.title` must not be empty"),
    (_python(title="   "), "`node.title` must not be empty"),
    (_python(title=None), "`node.title` must be of type str"),
    (_python(description=3), "`node.description` must be of type str"),
    (_python(parent_node_id=5), "`node.parent_node_id` must be of type str"),
    (_python(x="10"), "`node.x` must be of type int or float"),
    (_python(inputs={}), "`node.inputs` must be of type list"),
    (_python(inputs=None), "`node.inputs` must be of type list"),
    (_python(inputs=["in"]), "`node.inputs[0]` must be of type dict"),
    (_python(inputs=[{}]), "`node.inputs[0].name` must be of type str"),
    (_python(inputs=[{"name": ""}]), "`node.inputs[0].name` must not be empty"),
    (_python(inputs=[{"name": "a", "values": {}}]), "`node.inputs[0].values` must be of type list"),
    (_python(inputs=[{"name": "a", "values": ["n"]}]), "`node.inputs[0].values[0]` must be of type dict"),
    (_python(inputs=[{"name": "a", "values": [{"node_id": 1, "output_id": "o"}]}]),
     "`node.inputs[0].values[0].node_id` must be of type str"),
    (_python(inputs=[{"name": "a", "values": [{"node_id": "n"}]}]),
     "`node.inputs[0].values[0].output_id` must be of type str"),
    (_python(inputs=[{"name": "a", "file_types": "csv"}]), "`node.inputs[0].file_types` must be of type list"),
    (_python(inputs=[{"name": "a", "file_types": [1]}]), "`node.inputs[0].file_types` must be of type str"),
    (_python(inputs=[{"name": "a", "min_count": True}]), "`node.inputs[0].min_count` must be of type int"),
    (_python(inputs=[{"name": "a", "max_count": 1.0}]), "`node.inputs[0].max_count` must be of type int"),
    (_python(inputs=[{"name": "a"}, {"name": "b"}, {"name": "a"}]), "`node.inputs` has duplicate names: a"),
    (_python(outputs=[{"name": "o", "file_type": 3}]), "`node.outputs[0].file_type` must be of type str"),
    (_python(outputs=[{"name": "o", "resource_id": 3}]), "`node.outputs[0].resource_id` must be of type str"),
    (_python(outputs=[{"name": "o"}, {"name": "o"}]), "`node.outputs` has duplicate names: o"),
    (_python(logs=[{"name": "stderr"}, {"name": "stderr"}]), "`node.logs` has duplicate names: stderr"),
    (_python(parameters=[{"name": "p", "parameter_type": "integer"}]),
     "`node.parameters[0].parameter_type` `integer` is not one of"),
    (_python(parameters=[{"name": "p", "parameter_type": None}]), "`node.parameters[0].parameter_type` must be of type str"),
    (_python(parameters=[{"name": "p"}, {"name": "p"}]), "`node.parameters` has duplicate names: p"),
    (_python(parameters=[{"value": 1}]), "`node.parameters[0].name` must be of type str"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_a_malformed_node_is_a_400_naming_the_field(raw: Any, message: str) -> None:
    with pytest.raises(BadRequestError) as raised:
        _clean(raw)
    assert message in str(raised.value)
    assert raised.value.STATUS_CODE == 400


def test_where_names_the_path_of_a_node_inside_a_request() -> None:
    with pytest.raises(BadRequestError, match=r"`graph.nodes\[3\].outputs\[0\].name` must not be empty"):
        nodes.clean_node(_python(outputs=[{"name": ""}]), AUTHOR, where="graph.nodes[3]")


def test_a_node_over_the_size_limit_is_a_400_and_one_under_it_is_kept() -> None:
    code = {"name": "_cmd", "parameter_type": "code", "value": {"mode": "python", "value": "#" * nodes.MAX_NODE_BYTES}}
    with pytest.raises(BadRequestError, match=f"a node may have at most {nodes.MAX_NODE_BYTES}"):
        _clean(_python(parameters=[code]))
    code["value"]["value"] = "#" * (nodes.MAX_NODE_BYTES - 2_000)
    assert len(json.dumps(_clean(_python(parameters=[code])))) <= nodes.MAX_NODE_BYTES


# --- composites --------------------------------------------------------------------------------


def _composite(inner: Any, **fields: Any) -> dict:
    return {"base_node_name": "graph", "parameters": [{"name": "_nodes", "parameter_type": "list_node",
                                                       "value": inner}], **fields}


def test_a_composite_without_its_sub_graph_gets_one() -> None:
    node = _clean({"base_node_name": "graph", "inputs": [{"name": "a"}], "outputs": [{"name": "r"}], "parameters": []})
    [inner] = node["parameters"]
    assert inner["name"] == "_nodes" and [n["_id"] for n in inner["value"]] == [INPUTS, OUTPUTS]
    assert _clean(_composite(None))["parameters"][0]["value"][0]["_id"] == INPUTS


def test_the_special_nodes_follow_the_composites_ports_and_keep_their_wiring_and_places() -> None:
    stale_inputs = {"_id": INPUTS, "base_node_name": "_input", "x": -300, "y": 40,
                    "outputs": [{"name": "gone", "file_type": "file"}]}
    outputs = {"_id": OUTPUTS, "base_node_name": "_output", "x": 900, "y": 40,
               "inputs": [{"name": "r", "values": [link("op")]}]}
    node = _clean(_composite([stale_inputs, outputs, operation("op", port("in", link(INPUTS, "a")))],
                             inputs=[{"name": "a", "file_types": ["csv"]}, {"name": "b", "file_types": ["csv", "tsv"]}],
                             outputs=[{"name": "r", "file_type": "json"}, {"name": "unwired"}]))
    specials, ops = node["parameters"][0]["value"][:2], node["parameters"][0]["value"][2:]
    assert [o for o in specials[0]["outputs"]] == [{"name": "a", "file_type": "csv", "resource_id": None},
                                                  {"name": "b", "file_type": "file", "resource_id": None}]
    assert specials[1]["inputs"] == [
        {"name": "r", "file_types": ["json"], "values": [{"node_id": "op", "output_id": "out", "resource_id": None}],
         "min_count": 1, "max_count": 1},
        {"name": "unwired", "file_types": ["file"], "values": [], "min_count": 1, "max_count": 1}]
    assert [(s["x"], s["y"]) for s in specials] == [(-300, 40), (900, 40)]
    assert all(s["node_running_status"] == NodeRunningStatus.SPECIAL for s in specials)
    assert [n["_id"] for n in ops] == ["op"]


@pytest.mark.parametrize("inner, message", [
    ([{"_id": "x", "base_node_name": "_input"}], "the Inputs node has `_id` " + SpecialNodeId.INPUT),
    ([{"_id": SpecialNodeId.INPUT, "base_node_name": "python"}], "the Inputs node has `_id`"),
    ([{"_id": SpecialNodeId.OUTPUT, "base_node_name": "_input"}], "the Outputs node"),
    ([{"base_node_name": "_output"}], "the Inputs node has `_id`"),
    ([{"_id": OUTPUTS, "base_node_name": "_output", "inputs": [{"name": "nope"}]}],
     "the Outputs node wires ['nope'], which are not outputs of the composite"),
    ([{"_id": OUTPUTS, "base_node_name": "_output", "inputs": "r"}], "`node.parameters[0].value[0].inputs` must be of type list"),
    ([{"_id": OUTPUTS, "base_node_name": "_output", "x": "left"}], "`node.parameters[0].value[0].x` must be of type int or float"),
    ([{"_id": "a", "base_node_name": "python"}, {"_id": "a", "base_node_name": "python"}], "has duplicate `_id`s"),
    (["not a node"], "`node.parameters[0].value[0]` must be of type dict"),
    ("not a list", "`node.parameters[0].value` must be of type list"),
    ([{"_id": "a", "base_node_name": "python", "title": ""}], "`node.parameters[0].value[0].title` must not be empty"),
], ids=["wrong-input-id", "input-id-wrong-base", "output-id-wrong-base", "special-without-id", "wires-unknown-output",
        "outputs-ports-not-a-list", "special-place-not-a-number", "duplicate-ids", "inner-not-a-dict", "not-a-list",
        "inner-node-error-path"])
def test_a_malformed_sub_graph_is_a_400(inner: Any, message: str) -> None:
    with pytest.raises(BadRequestError) as raised:
        _clean(_composite(inner, outputs=[{"name": "r"}]))
    assert message in str(raised.value)


def test_a_sub_graph_that_is_not_a_list_node_is_a_400() -> None:
    with pytest.raises(BadRequestError, match=r"`node.parameters\[0\]` \(`_nodes`\) must be a list_node"):
        _clean({"base_node_name": "graph", "parameters": [{"name": "_nodes", "parameter_type": "str", "value": ""}]})


@pytest.mark.parametrize("max_count", [-1, 0, 2])
def test_a_composites_input_takes_exactly_one_value(max_count: int) -> None:
    with pytest.raises(BadRequestError, match="takes exactly one value"):
        _clean(_composite([], inputs=[{"name": "a", "max_count": max_count}]))


def _nested(levels: int) -> dict:
    """`levels` composites, each the only operation inside the one around it."""
    node: dict = {"_id": "leaf", "base_node_name": "python"}
    for level in range(levels):
        node = dict(_composite([node]), _id=f"c{level}")
    return node


def test_composites_nest_up_to_the_depth_limit_and_no_deeper() -> None:
    assert composite.MAX_DEPTH == 4
    assert _clean(_nested(composite.MAX_DEPTH))["_id"] == f"c{composite.MAX_DEPTH - 1}"
    with pytest.raises(BadRequestError, match="nests composite operations deeper than 4 levels"):
        _clean(_nested(composite.MAX_DEPTH + 1))


def test_inner_nodes_are_cleaned_like_a_graphs_nodes() -> None:
    node = _clean(_composite([{"_id": "a", "base_node_name": "python", "node_running_status": "SUCCESS"}]))
    inner = node["parameters"][0]["value"][2]
    assert inner["node_running_status"] == NodeRunningStatus.CREATED and inner["author"] == AUTHOR
    assert [p["name"] for p in inner["parameters"]] == ["_cmd", "_cacheable", "_timeout"]


# --- helpers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("parameters, text", [
    ([{"name": "_cmd", "value": {"mode": "python", "value": "print(1)"}}], "print(1)"),
    ([{"name": "cmd", "value": {"mode": "python", "value": "old"}}], "old"),  # the seed's older name
    ([{"name": "_cmd", "value": "echo plain"}], "echo plain"),
    ([{"name": "_cmd", "value": {"mode": "sh"}}], ""),
    ([{"name": "_cmd", "value": 42}], ""),
    ([{"name": "_cmd", "value": {"value": None}}], ""),
    ([], ""),
])
def test_command_text_reads_the_script_whatever_its_shape(parameters: list[dict], text: str) -> None:
    assert nodes.command_text({"parameters": parameters}) == text


def test_reject_unknown_lists_the_unknown_and_the_known_fields() -> None:
    nodes.reject_unknown({"a": 1}, frozenset({"a", "b"}), "body")
    with pytest.raises(BadRequestError, match=r"`body` has unknown fields \['c', 'd'\]; known fields: \['a', 'b'\]"):
        nodes.reject_unknown({"d": 1, "a": 1, "c": 2}, frozenset({"a", "b"}), "body")
