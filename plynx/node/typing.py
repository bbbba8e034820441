"""Python types to PLynx resource kinds and parameter types."""
from __future__ import annotations

from typing import Any

# Kinds that travel as values; any other kind is a file the function gets as a path.
PRIMITIVE_KINDS = frozenset({"int", "float", "str", "bool", "color", "dict", "enum", "list_str", "list_int"})

CLASS_TO_STR: dict[Any, str] = {int: "int", float: "float", str: "str", bool: "bool", dict: "dict"}
STR_TO_CLASS: dict[str, Any] = {value: key for key, value in CLASS_TO_STR.items()}
_PARAM_CLASSES: dict[Any, str] = {int: "int", float: "float", str: "str", bool: "bool", list: "list_str"}
PARAMETER_TYPES = frozenset({"str", "int", "float", "bool", "text", "enum", "list_str", "list_int", "code",
                             "color"})


def type_to_str(type_cls: Any) -> str:
    """A resource kind for an input or output: python types map to primitive kinds, strings pass through."""
    if type_cls is None:
        return "file"
    if isinstance(type_cls, str):
        return type_cls
    if type_cls in CLASS_TO_STR:
        return CLASS_TO_STR[type_cls]
    raise TypeError(f"No PLynx resource kind for `{type_cls}`; use a kind name such as 'csv'")


def param_type_to_str(type_cls: Any) -> str:
    """A parameter type: python types map to the seed's, strings must name one."""
    if type_cls is None:
        return "str"
    if isinstance(type_cls, str):
        if type_cls not in PARAMETER_TYPES:
            raise TypeError(f"`{type_cls}` is not a parameter type; one of {sorted(PARAMETER_TYPES)}")
        return type_cls
    if type_cls in _PARAM_CLASSES:
        return _PARAM_CLASSES[type_cls]
    raise TypeError(f"No PLynx parameter type for `{type_cls}`")
