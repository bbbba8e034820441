"""Write PLynx operations as plain python functions: `operation`, `input`, `output`, `param` decorators.

    @plynx.node.input(name="x", var_type=int)
    @plynx.node.param(name="coef", var_type=float, default=2.0)
    @plynx.node.output(name="y", var_type=int)
    @plynx.node.operation(title="Scale")
    def scale(x, coef):
        return {"y": int(x * coef)}

The function stays an ordinary function; `to_node(scale)` turns it into a python operation whose
`_cmd` calls it with the operation's inputs and parameters and writes what it returns to the outputs.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import shipping
from .typing import param_type_to_str, type_to_str

__all__ = ["Group", "InputItem", "OutputItem", "ParamItem", "PlynxParams", "input", "operation", "output",
           "func_or_group_to_dict", "param", "parameter", "to_node"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class InputItem:
    """An input of an operation: a resource kind, one value or an array."""

    name: str
    file_type: str
    is_array: bool = False
    min_count: int = 1

    def to_dict(self) -> dict:
        return {"name": self.name, "file_types": [self.file_type], "values": [],
                "min_count": self.min_count, "max_count": -1 if self.is_array else 1}


@dataclass
class OutputItem:
    """An output of an operation."""

    name: str
    file_type: str
    is_array: bool = False
    min_count: int = 1

    def to_dict(self) -> dict:
        return {"name": self.name, "file_type": self.file_type, "resource_id": None}


@dataclass
class ParamItem:
    """A parameter of an operation with its default value."""

    name: str
    parameter_type: str
    value: Any
    widget: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "parameter_type": self.parameter_type, "value": self.value,
                "mutable_type": False, "removable": False, "publicable": True, "widget": self.widget}


@dataclass
class PlynxParams:
    """What the decorators collected about one function."""

    title: str = ""
    description: str = ""
    kind: str = "python"
    ship: str = "pickle"
    inputs: list[InputItem] = field(default_factory=list)
    params: list[ParamItem] = field(default_factory=list)
    outputs: list[OutputItem] = field(default_factory=list)


def _params(func: Any) -> PlynxParams:
    # Decorators apply bottom-up; whichever comes first creates the record, `operation` fills its header.
    if "plynx_params" not in getattr(func, "__dict__", {}):
        func.plynx_params = PlynxParams(title=getattr(func, "__name__", "operation"))
    return func.plynx_params


def input(name: str | None = None, var_type: Any = None, is_array: bool = False,
          min_count: int = 1) -> Callable[[F], F]:
    """Declare an input; `var_type` is a python type (int, str, ...) or a resource kind ("csv")."""
    def decorator(func: F) -> F:
        _params(func).inputs.insert(0, InputItem(name or "in", type_to_str(var_type), is_array, min_count))
        return func
    return decorator


def output(name: str | None = None, var_type: Any = None, is_array: bool = False,
           min_count: int = 1) -> Callable[[F], F]:
    """Declare an output; the function returns {name: value} for each."""
    def decorator(func: F) -> F:
        _params(func).outputs.insert(0, OutputItem(name or "out", type_to_str(var_type), is_array, min_count))
        return func
    return decorator


def param(name: str | None = None, var_type: Any = None, default: Any = None,
          widget: str | None = "") -> Callable[[F], F]:
    """Declare a parameter with a default; it is passed to the function as a keyword argument."""
    def decorator(func: F) -> F:
        kind = param_type_to_str(var_type)
        value = shipping.default_for(kind) if default is None else shipping.param_value(kind, default)
        _params(func).params.insert(0, ParamItem(name or "param", kind, value,
                                                 None if widget is None else widget or name))
        return func
    return decorator


parameter = param  # the seed's alias


def operation(node_type: str | None = None, title: str | None = None, description: str = "",
              kind: str | None = None, ship: str = "pickle") -> Callable[[F], F]:
    """Mark a function (or a class with `__call__`) as an operation; `ship` is "pickle" or "source"."""
    if ship not in ("pickle", "source"):
        raise ValueError('`ship` is "pickle" (cloudpickle, any function) or "source" (self-contained code)')

    def decorator(func: F) -> F:
        params = _params(func)
        params.title = title or getattr(func, "__name__", "operation")
        params.description = description
        params.kind = kind or node_type or "python"
        params.ship = ship
        return func
    return decorator


def to_node(func: Callable, node_id: str | None = None) -> dict:
    """The python operation (a node dict as the REST API takes it) that runs this function."""
    params = getattr(func, "plynx_params", None)
    if params is None:
        raise TypeError(f"`{getattr(func, '__name__', func)}` is not decorated with @plynx.node.operation")
    cmd, extra = shipping.command(func, params)
    node = {
        "base_node_name": "python",
        "title": params.title,
        "description": params.description,
        "inputs": [item.to_dict() for item in params.inputs],
        "outputs": [item.to_dict() for item in params.outputs],
        "parameters": [
            {"name": "_cmd", "parameter_type": "code", "value": {"mode": "python", "value": cmd},
             "mutable_type": False, "removable": False, "publicable": False, "widget": None},
            *extra,
            *(item.to_dict() for item in params.params),
        ],
        "logs": [{"name": name, "file_type": "file", "resource_id": None} for name in ("stderr", "stdout", "worker")],
    }
    digest = hashlib.sha256(json.dumps(node, sort_keys=True).encode()).hexdigest()
    node["_id"] = node_id or digest[:24]  # equal operations get equal ids: registering twice is a no-op
    return node


@dataclass
class Group:
    """A titled collection of operations and nested groups (the seed's hub groups)."""

    title: str
    items: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"_type": "Group", "title": self.title, "items": [func_or_group_to_dict(i) for i in self.items]}


def func_or_group_to_dict(item: Any) -> dict:
    """A hub item: a group, or an operation node marked `_type: Node`."""
    if isinstance(item, Group):
        return item.to_dict()
    node = to_node(item)
    location = f"{getattr(item, '__module__', '')}.{getattr(item, '__qualname__', '')}"
    node.update({"_type": "Node", "code_function_location": location})
    return node
