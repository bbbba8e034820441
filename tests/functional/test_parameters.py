"""Parameter types of the seed: defaults, validation codes, and the values a script sees."""
from __future__ import annotations

import json

from tests.helpers import by_title, graph, instance, output_id

GOOD = {
    "str": "word", "text": "many\nlines", "int": "12", "float": 2.5, "bool": True,
    "enum": {"values": ["red", "green", "blue"], "index": 1}, "list_str": ["a", "b"], "list_int": [1, "2", 3],
    "code": {"mode": "python", "value": "print(1)"}, "color": "#00ff00",
}
BAD = {
    "str": {"a": 1}, "text": [1], "int": "twelve", "float": "nan", "bool": "yes",
    "enum": {"values": ["red"], "index": 3}, "list_str": ["a", 1], "list_int": [1, "x"],
    "code": "print(1)", "color": "green",
}
DEFAULTS = {
    "str": "", "text": "", "int": 0, "float": 0.0, "bool": False, "enum": {"values": [], "index": 0},
    "list_str": [], "list_int": [], "code": {"mode": "python", "value": ""}, "color": "#ffffff",
}
CMD = "import json\nopen(outputs['seen'], 'w').write(json.dumps({k: v for k, v in params.items() if k[0] != '_'}))\n"


def _node(values: dict, cmd: str = CMD) -> dict:
    return {
        "base_node_name": "python",
        "title": "Params",
        "outputs": [{"name": "seen", "file_type": "json"}],
        "parameters": [{"name": "_cmd", "parameter_type": "code", "value": {"mode": "python", "value": cmd}}]
        + [{"name": f"p_{kind}", "parameter_type": kind, "value": value} for kind, value in values.items()],
    }


def _codes(api, values: dict) -> dict[str, str]:
    body = api.ok("post", "nodes", json={"node": _node(values), "action": "VALIDATE"})
    if body["status"] == "SUCCESS":
        return {}
    return {c["object_id"]: c["validation_code"] for c in body["validation_error"]["children"]}


def test_each_type_validates(api) -> None:
    assert _codes(api, GOOD) == {}
    assert _codes(api, BAD) == {f"p_{kind}": "INVALID_VALUE" for kind in BAD}
    missing = {kind: None for kind in ("int", "float", "bool", "enum", "list_int", "color")}
    assert _codes(api, missing) == {f"p_{kind}": "MISSING_PARAMETER" for kind in missing}
    assert _codes(api, {"enum": {"values": [], "index": 0}}) == {"p_enum": "MISSING_PARAMETER"}
    assert _codes(api, {"str": None, "text": None}) == {}  # text may be left empty


def test_parameters_without_a_value_get_their_type_default(api) -> None:
    node = _node({})
    node["parameters"] += [{"name": f"p_{kind}", "parameter_type": kind} for kind in DEFAULTS]
    saved = api.save_operation(node, action="SAVE")
    assert {p["name"]: p["value"] for p in saved["parameters"] if p["name"] != "_cmd"} == {
        f"p_{kind}": value for kind, value in DEFAULTS.items()}


def test_a_graph_with_a_wrong_parameter_does_not_run(api) -> None:
    op = instance(api.save_operation(_node({"int": 1}), action="SAVE"))
    op["parameters"][1]["value"] = "one"
    body = api.ok("post", "graphs", json={"graph": graph("bad param", [op]), "actions": ["APPROVE"]})
    assert body["status"] == "VALIDATION_FAILED"
    node_error = body["validation_error"]["children"][0]
    assert node_error["object_id"] == op["_id"]
    assert node_error["children"] == [
        {"target": "PARAMETER", "object_id": "p_int", "validation_code": "INVALID_VALUE", "children": []}]


def test_scripts_see_python_values(api) -> None:
    op = instance(api.save_operation(_node(GOOD)))
    body = api.ok("post", "graphs", json={"graph": graph("params", [op]), "actions": ["APPROVE"]})
    assert body["status"] == "SUCCESS", body.get("validation_error")
    result = api.wait(body["graph"]["_id"])
    assert result["graph_running_status"] == "SUCCESS"
    seen = json.loads(api.resource(output_id(by_title(result, "Params"), "seen")))
    assert seen == {
        "p_str": "word", "p_text": "many\nlines", "p_int": 12, "p_float": 2.5, "p_bool": True, "p_enum": "green",
        "p_list_str": ["a", "b"], "p_list_int": [1, 2, 3], "p_code": "print(1)", "p_color": "#00ff00",
    }
