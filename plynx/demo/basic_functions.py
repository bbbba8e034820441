"""Slightly more than printing: arithmetic, enums, sleeping, failing and keeping state."""
from __future__ import annotations

import plynx.node
from plynx.node.utils import Group


@plynx.node.param(name="value", var_type=int, default=42)
@plynx.node.output(name="out", var_type=int)
@plynx.node.operation(title="Make int", description="Pass an int parameter as output.", ship="source")
def make_int(value):
    return {"out": value}


@plynx.node.param(name="value", var_type="enum", default=["rock", "paper", "scissors"])
@plynx.node.output(name="out", var_type=str)
@plynx.node.operation(title="Make enum", description="Pass the chosen enum value as output.", ship="source")
def make_enum(value):
    return {"out": value}


@plynx.node.input(name="x", var_type=int)
@plynx.node.input(name="y", var_type=int)
@plynx.node.param(name="coef", var_type=float, default=1.5)
@plynx.node.output(name="out", var_type=float)
@plynx.node.operation(title="Example function", description="(x + y) * coef", ship="source")
def example_func(x, y, coef):
    return {"out": (x + y) * coef}


@plynx.node.input(name="x", var_type=int)
@plynx.node.param(name="timeout", var_type=float, default=1.0)
@plynx.node.output(name="out", var_type=int)
@plynx.node.operation(title="Sleep", description="Sleep for timeout seconds and add 1.", ship="source")
def sleep(x, timeout):
    import time

    time.sleep(timeout)
    return {"out": x + 1}


@plynx.node.input(name="x", var_type=int)
@plynx.node.output(name="out", var_type=int)
@plynx.node.operation(title="Error", description="Always raise an exception.", ship="source")
def error(x):
    raise ValueError(f"This operation always fails (x={x})")


@plynx.node.input(name="x", var_type=int)
@plynx.node.output(name="out", var_type=int)
@plynx.node.operation(title="Statefull", description="Add 1 (an instance is created, then called).",
                      ship="source")
class Statefull:
    def __init__(self):
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return {"out": x + self.calls}


GROUP = Group(title="Basic functions", items=[make_int, make_enum, example_func, sleep, error, Statefull])
