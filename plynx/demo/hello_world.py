"""Hello world: a parameter becomes a value, and a value becomes a greeting."""
from __future__ import annotations

import plynx.node
from plynx.node.utils import Group


@plynx.node.param(name="your_name", var_type=str, default="World")
@plynx.node.output(name="name", var_type=str)
@plynx.node.operation(title="Get name", description="Pass your_name parameter as output.", ship="source")
def get_name(your_name):
    return {"name": your_name}


@plynx.node.input(name="name", var_type=str)
@plynx.node.output(name="message", var_type="file")
@plynx.node.operation(title="Print message", description="Print a greeting.", ship="source")
def print_message(name):
    message = f"Hello, {name}!"
    print(message)
    return {"message": message + "\n"}


GROUP = Group(title="Hello world", items=[get_name, print_message])
