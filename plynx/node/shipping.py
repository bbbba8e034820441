"""How a function travels to the runner: its source, or a cloudpickle of it, inside the operation's `_cmd`."""
from __future__ import annotations

import ast
import inspect
import textwrap
import types
from typing import Any

from .typing import PRIMITIVE_KINDS

_DEFAULTS: dict[str, Any] = {
    "str": "", "text": "", "int": 0, "float": 0.0, "bool": False, "enum": {"values": [], "index": 0},
    "list_str": [], "list_int": [], "code": {"mode": "python", "value": ""}, "color": "#ffffff",
}

# Runs after the function's definition in the operation's script, where `inputs`, `params` and
# `outputs` are given by the runner (files as paths, primitive kinds as values).
_HARNESS = '''

def _plynx_write(name, value, path, kind):
    import json, os, shutil
    if kind in {primitive!r}:
        with open(path, "w") as handle:
            json.dump(value, handle)
    elif kind == "directory":
        if not (isinstance(value, str) and os.path.isdir(value)):
            raise TypeError(f"output `{{name}}` is a directory: return the path of one")
        if os.path.abspath(value) != os.path.abspath(path):
            shutil.copytree(value, path, dirs_exist_ok=True)
    elif isinstance(value, bytes):
        with open(path, "wb") as handle:
            handle.write(value)
    elif isinstance(value, str) and os.path.isfile(value):
        if os.path.abspath(value) != os.path.abspath(path):
            shutil.copyfile(value, path)
    elif isinstance(value, str):
        with open(path, "w") as handle:
            handle.write(value)
    else:
        raise TypeError(f"output `{{name}}` ({{kind}}): return a path, str or bytes, not {{type(value).__name__}}")


def _plynx_main():
    fn = {loader}
    if isinstance(fn, type):
        fn = fn()
    kwargs = {{name: inputs[name] for name in {inputs!r}}}
    kwargs.update({{name: params[name] for name in {params!r}}})
    result = fn(**kwargs)
    expected = {outputs!r}
    if result is None:
        result = {{}}
    if not isinstance(result, dict):
        raise TypeError(f"`{name}` must return a dict of its outputs, not {{type(result).__name__}}")
    missing = sorted(set(expected) - set(result))
    if missing:
        raise KeyError(f"`{name}` did not return outputs {{missing}}")
    for key, kind in expected.items():
        _plynx_write(key, result[key], outputs[key], kind)


_plynx_main()
'''


def default_for(kind: str) -> Any:
    """The seed's default value of a parameter type."""
    value = _DEFAULTS.get(kind, "")
    return type(value)(value) if isinstance(value, (list, dict)) else value


def param_value(kind: str, value: Any) -> Any:
    """A python default as the parameter's stored value (code and enum are objects in the seed)."""
    if kind == "code" and isinstance(value, str):
        return {"mode": "python", "value": value}
    if kind == "enum" and isinstance(value, (list, tuple)):
        return {"values": list(value), "index": 0}
    return value


def function_source(func: Any) -> str:
    """The function's (or class's) own source without its decorators, dedented."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as exc:
        raise ValueError(f"The source of `{func.__name__}` is not available; ship it with cloudpickle") from exc
    tree = ast.parse(source)
    definition = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))
    return "\n".join(source.splitlines()[definition.lineno - 1:]) + "\n"


def _clean_copy(func: Any) -> Any:
    """The function without the decorators' record, so unpickling needs no `plynx` on the runner."""
    if isinstance(func, types.FunctionType):
        copy = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__,
                                  func.__closure__)
        copy.__kwdefaults__ = func.__kwdefaults__
        copy.__qualname__ = func.__qualname__
        copy.__module__ = func.__module__
        return copy
    return func


def pickled(func: Any) -> str:
    """Hex of a cloudpickle of the function, by value even when its module is importable here only."""
    import sys

    import cloudpickle

    module = sys.modules.get(getattr(func, "__module__", "") or "")
    by_value = module is not None and module.__name__ not in ("__main__", "builtins")
    if by_value:
        cloudpickle.register_pickle_by_value(module)
    saved = None
    if isinstance(func, type) and "plynx_params" in func.__dict__:
        saved = func.__dict__["plynx_params"]
        delattr(func, "plynx_params")  # a class pickles with its attributes: leave the record out
    try:
        return cloudpickle.dumps(_clean_copy(func)).hex()
    finally:
        if saved is not None:
            func.plynx_params = saved
        if by_value:
            cloudpickle.unregister_pickle_by_value(module)


def command(func: Any, params: Any) -> tuple[str, list[dict]]:
    """The operation's `_cmd` and any hidden parameters it needs (`_pickled_fn`)."""
    name = func.__name__
    fields = {
        "primitive": tuple(sorted(PRIMITIVE_KINDS)),
        "inputs": tuple(i.name for i in params.inputs),
        "params": tuple(p.name for p in params.params),
        "outputs": {o.name: o.file_type for o in params.outputs},
        "name": name,
    }
    header = f"# PLynx python API operation: calls `{name}` with its inputs and parameters.\n"
    if params.ship == "source":
        harness = _HARNESS.format(loader=name, **fields)
        return header + function_source(func) + harness, []
    harness = _HARNESS.format(loader='__import__("cloudpickle").loads(bytes.fromhex(params["_pickled_fn"]))',
                              **fields)
    hidden = {"name": "_pickled_fn", "parameter_type": "str", "value": pickled(func), "mutable_type": False,
              "removable": False, "publicable": False, "widget": None}
    return header + harness.lstrip("\n"), [hidden]
