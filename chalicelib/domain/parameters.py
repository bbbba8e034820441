"""The seed's parameter types: the default value of each, how a value is checked, and what a script sees."""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .enums import ParameterTypes, ValidationCode

_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


class ParameterValueError(ValueError):
    """A value does not fit its parameter type; `code` is the seed's validation code."""

    def __init__(self, message: str, code: str = ValidationCode.INVALID_VALUE) -> None:
        super().__init__(message)
        self.code = code


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ParameterValueError("a bool is not an int")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ParameterValueError(f"{value} is not a whole number")
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError as exc:
            raise ParameterValueError(f"`{value[:40]}` is not an int") from exc
    raise ParameterValueError(f"a {type(value).__name__} is not an int")


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ParameterValueError("a bool is not a float")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError) as exc:
        raise ParameterValueError(f"`{str(value)[:40]}` is not a float") from exc
    if not math.isfinite(number):
        raise ParameterValueError(f"{number} is not a finite float")
    return number


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParameterValueError(f"`{str(value)[:40]}` is not true or false")
    return value


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ParameterValueError(f"a {type(value).__name__} is not a string")
    return str(value)


def _enum(value: Any) -> Any:
    if not isinstance(value, dict) or not isinstance(value.get("values"), list):
        raise ParameterValueError('an enum is {"values": [...], "index": i}')
    options = value["values"]
    if not options:
        raise ParameterValueError("the enum has no values to choose from", ValidationCode.MISSING_PARAMETER)
    if not all(isinstance(option, str) for option in options):
        raise ParameterValueError("enum values must be strings")
    index = _int(value.get("index", 0) if value.get("index") is not None else 0)
    if not 0 <= index < len(options):
        raise ParameterValueError(f"index {index} is outside the {len(options)} values")
    return options[index]


def _list_str(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ParameterValueError("a list_str is a list of strings")
    return value


def _list_int(value: Any) -> list[int]:
    if not isinstance(value, list):
        raise ParameterValueError("a list_int is a list of ints")
    return [_int(v) for v in value]


def _code(value: Any) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("value", ""), str):
        raise ParameterValueError('code is {"mode": ..., "value": "<text>"}')
    return value.get("value", "")


def _color(value: Any) -> str:
    if not isinstance(value, str) or not _COLOR.match(value):
        raise ParameterValueError(f"`{str(value)[:40]}` is not a color like #ff8800")
    return value


def _list_node(value: Any) -> list:
    if not isinstance(value, list):
        raise ParameterValueError("a list_node is a list")
    return value


@dataclass(frozen=True)
class ParameterType:
    """One parameter type: its default and the function turning a stored value into what a script sees."""

    name: str
    default: Callable[[], Any]
    convert: Callable[[Any], Any]
    nullable: bool = False


TYPES: dict[str, ParameterType] = {
    t.name: t
    for t in (
        ParameterType(ParameterTypes.STR, lambda: "", _str, nullable=True),
        ParameterType(ParameterTypes.TEXT, lambda: "", _str, nullable=True),
        ParameterType(ParameterTypes.INT, lambda: 0, _int),
        ParameterType(ParameterTypes.FLOAT, lambda: 0.0, _float),
        ParameterType(ParameterTypes.BOOL, lambda: False, _bool),
        ParameterType(ParameterTypes.ENUM, lambda: {"values": [], "index": 0}, _enum),
        ParameterType(ParameterTypes.LIST_STR, list, _list_str),
        ParameterType(ParameterTypes.LIST_INT, list, _list_int),
        ParameterType(ParameterTypes.LIST_NODE, list, _list_node),
        ParameterType(ParameterTypes.CODE, lambda: {"mode": "python", "value": ""}, _code),
        ParameterType(ParameterTypes.COLOR, lambda: "#ffffff", _color),
    )
}


def default_value(parameter_type: str) -> Any:
    """The value a new parameter of this type starts with (the seed's defaults)."""
    kind = TYPES.get(parameter_type)
    return kind.default() if kind else None


def check(parameter_type: str, value: Any) -> ParameterValueError | None:
    """Why a value does not fit its type (MISSING_PARAMETER when there is none), or None."""
    kind = TYPES.get(parameter_type)
    if kind is None:
        return ParameterValueError(f"unknown parameter type `{parameter_type}`")
    if value is None and not kind.nullable:
        return ParameterValueError(f"a {parameter_type} value is required", ValidationCode.MISSING_PARAMETER)
    try:
        kind.convert(value)
    except ParameterValueError as exc:
        return exc
    return None


def to_python(parameter_type: str, value: Any) -> Any:
    """What a script sees: code as its text, an enum as the chosen value, numbers as numbers."""
    kind = TYPES.get(parameter_type)
    if kind is None or value is None:
        return value
    try:
        return kind.convert(value)
    except ParameterValueError:
        return value  # validation reports it; a script given an odd value still sees what was stored
