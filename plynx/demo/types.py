"""Values of each primitive type, printed, and files turned into values and back."""
from __future__ import annotations

import plynx.node
from plynx.node.utils import Group


@plynx.node.output(name="int", var_type=int)
@plynx.node.output(name="str", var_type=str)
@plynx.node.output(name="dict", var_type=dict)
@plynx.node.output(name="float", var_type=float)
@plynx.node.output(name="bool", var_type=bool)
@plynx.node.output(name="color", var_type="color")
@plynx.node.operation(title="All types", description="Make a value of each basic type.", ship="source")
def all_types():
    import math

    return {"int": 42, "str": "Hello world", "dict": {"foo": "woo"}, "float": math.pi, "bool": True,
            "color": "#ff8800"}


def _printer(kind, python_type):
    @plynx.node.input(name="value", var_type=python_type)
    @plynx.node.output(name="printed", var_type="file")
    @plynx.node.operation(title=f"Print {kind}", description=f"Print a {kind} value.")
    def print_value(value):
        text = f"{type(value).__name__}: {value!r}"
        print(text)
        return {"printed": text + "\n"}

    print_value.__name__ = print_value.__qualname__ = f"print_{kind}"
    return print_value


print_int = _printer("int", int)
print_str = _printer("str", str)
print_dict = _printer("dict", dict)
print_float = _printer("float", float)
print_bool = _printer("bool", bool)
print_color = _printer("color", "color")


@plynx.node.input(name="value", var_type="json")
@plynx.node.output(name="out", var_type=dict)
@plynx.node.operation(title="File to dict", description="Read a JSON file as a dict value.", ship="source")
def file_to_dict(value):
    import json

    with open(value) as handle:
        return {"out": json.load(handle)}


@plynx.node.input(name="value", var_type=dict)
@plynx.node.output(name="out", var_type="json")
@plynx.node.operation(title="Dict to file", description="Write a dict value as a JSON file.", ship="source")
def dict_to_file(value):
    import json

    return {"out": json.dumps(value, indent=2)}


GROUP = Group(title="Types", items=[all_types, print_int, print_str, print_dict, print_float, print_bool,
                                     print_color, file_to_dict, dict_to_file])
