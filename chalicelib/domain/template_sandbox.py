"""The one Jinja2 environment that renders users' templates: Jinja2's immutable sandbox, plus bounds.

The sandbox closes what a template may reach (no attribute starting with `_`, no `str.format` into
internals, no mutation of what it is given); the bounds below close the cheap ways a template could
take the rendering process's memory or CPU with one line: `*`, `**`, `%`, `+` and `~` building huge
values, filters and string methods asked for huge widths, and loops or macro calls that never end.
"""
from __future__ import annotations

import functools
import math
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_CHARS = 4_000_000  # a rendered script, or any one string or list a template builds
MAX_WIDTH = 10_000  # a width a filter, a string method or a format spec may ask for
MAX_POWER_BITS = 4096
MAX_STEPS = 200_000  # loop iterations plus calls in one rendering (a macro call costs about 6 µs)

_NUMBER_IN_SPEC = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")
_SIZING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})

__all__ = ["MAX_CHARS", "MAX_STEPS", "SecurityError", "render"]


def _check_size(size: int, what: str) -> None:
    if size > MAX_CHARS:
        raise SecurityError(f"{what} would build over {MAX_CHARS} characters or items")


def _check_width(value: Any, what: str) -> None:
    if isinstance(value, int) and value > MAX_WIDTH:
        raise SecurityError(f"{what} asks for a width of {value}, over {MAX_WIDTH}")


def _check_format(text: str) -> None:
    """A %-format or str.format string whose widths are at most MAX_WIDTH and not taken from arguments."""
    specs = [match.group(0)[1:] for match in _PERCENT_SPEC.finditer(text)]
    specs += [match.group(1) for match in _BRACE_SPEC.finditer(text)]
    for spec in specs:
        if "*" in spec or "{" in spec:
            raise SecurityError("a format width may not come from an argument")
        for number in _NUMBER_IN_SPEC.findall(spec):
            _check_width(int(number), "a format spec")


def _check_replace(text: Any, old: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        count = text.count(old) if old else len(text) + 1
        _check_size(len(text) + count * max(0, len(new) - len(old)), "`replace`")


class _Budget(threading.local):
    steps = 0


_BUDGET = _Budget()


def _step() -> None:
    _BUDGET.steps += 1
    if _BUDGET.steps > MAX_STEPS:
        raise SecurityError(f"the template takes over {MAX_STEPS} loop iterations and calls")


class _Generator(CodeGenerator):
    """`a ~ b` joins through the environment, which bounds the result."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _bounded_filter(environment: ImmutableSandboxedEnvironment, name: str) -> None:
    original = environment.filters[name]

    def checked(*args: Any, **kwargs: Any) -> Any:
        values = list(args) + list(kwargs.values())
        if name == "format" and values and isinstance(values[0], str):
            _check_format(values[0])
        elif name == "replace" and len(values) >= 3:
            _check_replace(*values[:3])
        else:
            for value in values[1:]:
                _check_width(len(value) if name == "indent" and isinstance(value, str) else value, f"`{name}`")
        return original(*args, **kwargs)

    environment.filters[name] = checked


class _Sandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for name in ("center", "indent", "wordwrap", "format", "replace", "slice", "batch", "truncate"):
            _bounded_filter(self, name)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Every `{% for %}` iterates through `counted`, so loops spend the rendering's step budget."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.EnvironmentAttribute("counted", lineno=loop.lineno), [loop.iter], [],
                                   None, None, lineno=loop.lineno)
        return tree

    def counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            _step()
            yield item

    def bounded_join(self, parts: Iterable[Any]) -> str:
        texts = [str(part) for part in parts]
        _check_size(sum(len(text) for text in texts), "`~`")
        return "".join(texts)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja2's own
        _step()
        owner, method = getattr(__obj, "__self__", None), getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            if method in _SIZING_METHODS:
                for value in (*args, *kwargs.values()):
                    _check_width(value, f"`str.{method}`")
            elif method == "replace" and len(args) >= 2:
                _check_replace(owner, args[0], args[1])
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)  # `"{:>99999999}".format(x)`
        return wrapped

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
                    _check_size(len(sequence) * count, "`*`")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            if right * math.log2(abs(left)) > MAX_POWER_BITS:
                raise SecurityError(f"`**` would build a number over {MAX_POWER_BITS} bits")
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        elif operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            _check_size(len(left) + len(right), "`+`")
        return super().call_binop(context, operator, left, right)


_SANDBOX = _Sandbox(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


@functools.lru_cache(maxsize=512)
def _template(text: str) -> jinja2.Template:
    """Compiled once per command text: the instances of one operation in a graph share it."""
    return _SANDBOX.from_string(text)


def render(text: str, variables: dict[str, Any]) -> str:
    """The template rendered in the sandbox within the bounds; any fault of it is a jinja2.TemplateError.

    SecurityError (a TemplateError) when it reaches for internals or past a bound.
    """
    _BUDGET.steps = 0
    parts, size = [], 0
    try:
        for part in _template(text).generate(variables):
            size += len(part)
            _check_size(size, "the rendered command")
            parts.append(part)
    except jinja2.TemplateError:
        raise
    except Exception as exc:  # the user's template divided by zero, added a str to an int, recursed...
        raise jinja2.TemplateRuntimeError(f"{type(exc).__name__}: {exc}") from exc
    return "".join(parts)
