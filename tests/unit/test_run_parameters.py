"""The run parameters of a graph: which parameters are, how values are checked and put into the run's nodes."""
from __future__ import annotations

import pytest

from chalicelib.domain import run_parameters
from chalicelib.domain.errors import BadRequestError


def _graph() -> dict:
    def p(name, kind, value, publicable=True):
        return {"name": name, "parameter_type": kind, "value": value, "publicable": publicable}

    op = {"_id": "n1", "base_node_name": "python", "parameters": [
        p("_cmd", "code", {"mode": "python", "value": "pass"}), p("_timeout", "int", 600),
        p("word", "str", "w"), p("n", "int", 1), p("x", "float", 0.5), p("on", "bool", False),
        p("pick", "enum", {"values": ["a", "b"], "index": 0}), p("tags", "list_str", []),
        p("ids", "list_int", []), p("script", "code", {"mode": "sh", "value": "echo"}), p("hidden", "str", "h", False)]}
    return {"_id": "g", "nodes": [op, {"_id": "f1", "base_node_name": "file", "parameters": [p("word", "str", "")]}]}


def test_the_declared_run_parameters_are_publicable_user_parameters_of_operations() -> None:
    assert sorted(run_parameters.declared(_graph())) == sorted(
        f"n1.{name}" for name in ("word", "n", "x", "on", "pick", "tags", "ids", "script"))


def test_values_take_their_types_stored_form() -> None:
    values = run_parameters.check(_graph(), {"n1.word": 5, "n1.n": "7", "n1.x": 2, "n1.on": True, "n1.pick": "b",
                                             "n1.tags": ["t"], "n1.ids": [1, "2"], "n1.script": "ls"})
    assert values == {"n1.word": "5", "n1.n": 7, "n1.x": 2.0, "n1.on": True,
                      "n1.pick": {"values": ["a", "b"], "index": 1}, "n1.tags": ["t"], "n1.ids": [1, 2],
                      "n1.script": {"mode": "sh", "value": "ls"}}
    assert run_parameters.check(_graph(), {"n1.pick": 1})["n1.pick"]["index"] == 1
    assert run_parameters.check(_graph(), {"n1.pick": {"values": ["a", "b"], "index": 1}})["n1.pick"]["index"] == 1
    assert run_parameters.check(_graph(), None) == {}


@pytest.mark.parametrize(("given", "said"), [
    ({"n1.n": 1.5}, "is not a whole number"), ({"n1.n": True}, "a bool is not an int"),
    ({"n1.on": "true"}, "is not true or false"), ({"n1.pick": "c"}, "is not one of ['a', 'b']"),
    ({"n1.pick": 2}, "index 2 is outside"), ({"n1.pick": {"values": ["z"], "index": 0}}, "does not change them"), ({"n1.x": "nan"}, "not a finite float"),
    ({"n1.tags": "t"}, "a list_str is a list of strings"), ({"n1.hidden": "x"}, "is not a run parameter"),
    ({"n1._timeout": 1}, "is not a run parameter"), ({"n1.none": 1}, "node `n1` has no parameter `none`"),
    ({"n2.word": 1}, "the graph has no node `n2`"), ({"f1.word": "x"}, "is not a run parameter"),
    ({"word": 1}, "is not `<node_id>.<name>`"), ({"n1.word": "x" * 70000}, "over 65536 characters")])
def test_refusals_name_the_parameter_and_why(given, said) -> None:
    with pytest.raises(BadRequestError) as refused:
        run_parameters.check(_graph(), given)
    assert said in str(refused.value) and next(iter(given)) in str(refused.value)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(BadRequestError, match="must be an object"):
        run_parameters.check(_graph(), [1])


def test_apply_copies_and_leaves_the_graph_alone() -> None:
    graph = _graph()
    run = run_parameters.apply(graph, {"n1.word": "run"})
    assert {p["name"]: p["value"] for p in run["nodes"][0]["parameters"]}["word"] == "run"
    assert {p["name"]: p["value"] for p in graph["nodes"][0]["parameters"]}["word"] == "w"
    assert run_parameters.apply(graph, {}) is graph
