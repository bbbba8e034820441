"""The seed's parameter types: defaults, checks with the seed's codes, and what a script sees."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain import parameters
from chalicelib.domain.enums import ParameterTypes


@pytest.mark.parametrize("parameter_type, default", [
    ("str", ""), ("text", ""), ("int", 0), ("float", 0.0), ("bool", False), ("enum", {"values": [], "index": 0}),
    ("list_str", []), ("list_int", []), ("list_node", []), ("code", {"mode": "python", "value": ""}),
    ("color", "#ffffff"), ("no-such-type", None),
])
def test_each_type_has_the_seeds_default(parameter_type: str, default: Any) -> None:
    assert parameters.default_value(parameter_type) == default


def test_defaults_are_fresh_objects() -> None:
    first = parameters.default_value("list_str")
    first.append("x")
    assert parameters.default_value("list_str") == []


def test_every_parameter_type_is_known() -> None:
    assert set(parameters.TYPES) == ParameterTypes.ALL


OK = [
    ("str", "text"), ("str", 3), ("str", 2.5), ("str", None), ("text", "many\nlines"),
    ("int", 3), ("int", "42"), ("int", " -7 "), ("int", 2.0),
    ("float", 1.5), ("float", "1e3"), ("float", 3), ("float", " 2.5 "),
    ("bool", True), ("bool", False),
    ("enum", {"values": ["a", "b"], "index": 1}), ("enum", {"values": ["a"]}), ("enum", {"values": ["a"], "index": "0"}),
    ("enum", {"values": ["a"], "index": None}),
    ("list_str", []), ("list_str", ["a", "b"]), ("list_int", [1, "2", 3.0]), ("list_node", [{"_id": "x"}]),
    ("code", {"mode": "python", "value": "x = 1"}), ("code", {"mode": "python"}),
    ("color", "#fff"), ("color", "#ff8800"), ("color", "#ff880080"), ("color", "#ABCD"),
]

INVALID = [
    ("str", True), ("str", {"a": 1}), ("str", ["a"]),
    ("int", True), ("int", 2.5), ("int", "2.5"), ("int", "many"), ("int", [1]),
    ("float", True), ("float", "nan"), ("float", "inf"), ("float", float("-inf")), ("float", "x"), ("float", {}),
    ("bool", "true"), ("bool", 1), ("bool", "false"),
    ("enum", "a"), ("enum", {"values": "ab"}), ("enum", {"values": ["a"], "index": 1}), ("enum", {"values": ["a"], "index": -1}),
    ("enum", {"values": [1, 2]}), ("enum", {"values": ["a"], "index": True}),
    ("list_str", "a"), ("list_str", ["a", 1]), ("list_int", [1.5]), ("list_int", [True]), ("list_int", 3),
    ("list_node", {}), ("code", "print(1)"), ("code", {"value": 1}),
    ("color", "red"), ("color", "#ggg"), ("color", "#12345"), ("color", 0xFFFFFF),
]

MISSING = [
    ("int", None), ("float", None), ("bool", None), ("enum", None), ("list_str", None), ("code", None), ("color", None),
    ("enum", {"values": [], "index": 0}),  # nothing to choose from
]


@pytest.mark.parametrize("parameter_type, value", OK, ids=repr)
def test_values_that_fit_their_type_pass(parameter_type: str, value: Any) -> None:
    assert parameters.check(parameter_type, value) is None


@pytest.mark.parametrize("parameter_type, value", INVALID, ids=repr)
def test_values_that_do_not_fit_their_type_are_invalid_value(parameter_type: str, value: Any) -> None:
    problem = parameters.check(parameter_type, value)
    assert problem is not None and problem.code == "INVALID_VALUE", problem


@pytest.mark.parametrize("parameter_type, value", MISSING, ids=repr)
def test_no_value_where_one_is_needed_is_missing_parameter(parameter_type: str, value: Any) -> None:
    problem = parameters.check(parameter_type, value)
    assert problem is not None and problem.code == "MISSING_PARAMETER", problem


def test_an_unknown_type_is_invalid_value_naming_it() -> None:
    problem = parameters.check("integer", 3)
    assert problem.code == "INVALID_VALUE" and "unknown parameter type `integer`" in str(problem)


def test_a_problem_says_what_is_wrong_in_a_short_message() -> None:
    assert str(parameters.check("int", "x" * 500)) == f"`{'x' * 40}` is not an int"
    assert str(parameters.check("enum", {"values": ["a"], "index": 4})) == "index 4 is outside the 1 values"


@pytest.mark.parametrize("parameter_type, value, seen", [
    ("code", {"mode": "python", "value": "x = 1"}, "x = 1"),
    ("enum", {"values": ["a", "b"], "index": 1}, "b"),
    ("int", "42", 42),
    ("int", 2.0, 2),
    ("float", "2.5", 2.5),
    ("list_int", ["1", 2], [1, 2]),
    ("str", 3, "3"),
    ("str", None, None),
    ("int", "many", "many"),  # a value validation refuses is shown as stored, never an exception
    ("no-such-type", {"a": 1}, {"a": 1}),
])
def test_to_python_is_what_a_script_sees(parameter_type: str, value: Any, seen: Any) -> None:
    assert parameters.to_python(parameter_type, value) == seen
