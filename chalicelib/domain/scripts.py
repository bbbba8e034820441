"""The script an operation runs: python with its preamble, or a rendered bash_jinja2 template.

Shared by the runner (real paths) and PREVIEW_CMD in the API (placeholder paths), so a preview
shows exactly what would run.
"""
from __future__ import annotations

import json
import shlex
from typing import Any

from . import parameters, template_sandbox
from .enums import BaseNodeNames
from .nodes import command_text
from .template_sandbox import SecurityError

PREVIEW_DIR = "/tmp/plynx"
USER_CODE_MARKER = "# User code starts here:"
__all__ = ["PREVIEW_DIR", "USER_CODE_MARKER", "PathList", "SecurityError", "parameter_values", "preview", "script_text",
           "source_name", "user_code_line"]


class PathList(list):
    """An array input: iterable in templates, and rendered by `{{ }}` as shell-quoted words."""

    def __str__(self) -> str:
        return " ".join(shlex.quote(path) for path in self)


def parameter_values(node: dict) -> dict[str, Any]:
    """Parameters as the script sees them: code as its text, enum as the chosen value, ints as ints."""
    return {p["name"]: parameters.to_python(p["parameter_type"], p["value"]) for p in node.get("parameters", [])}


def _python(node: dict, inputs: dict, outputs: dict, logs: dict, params: dict[str, Any]) -> str:
    def literal(value: Any) -> str:
        return f"json.loads({json.dumps(json.dumps(value))})"

    preamble = [
        "import json",
        f"inputs = input = {literal(inputs)}",
        f"outputs = output = {literal(outputs)}",
        f"params = param = {literal(params)}",
        f"logs = log = {literal(logs)}",
        "del json",
        "",
        USER_CODE_MARKER,
    ]
    return "\n".join(preamble) + "\n" + command_text(node)


def source_name(node: dict) -> str:
    """The file name a python operation's own code runs under: its tracebacks say `operation Sum, line 1`."""
    title = " ".join(str(node.get("title") or "").split())[:80]  # one line, as a traceback prints it
    return f"operation {title}" if title else "operation"


def user_code_line(script: str) -> int:
    """The line of a python script where the user's code starts (its line 1), after the preamble.

    The preamble's lines are one-line literals (JSON escapes newlines), so the first marker line is its own.
    """
    return script.split("\n").index(USER_CODE_MARKER) + 2


def _bash(node: dict, inputs: dict, outputs: dict, logs: dict, params: dict[str, Any]) -> str:
    return template_sandbox.render(command_text(node), {
        "inputs": inputs, "input": inputs, "outputs": outputs, "output": outputs,
        "params": params, "param": params, "logs": logs, "log": logs})


def script_text(node: dict, inputs: dict, outputs: dict, logs: dict) -> str:
    """The script of an operation for these input, output and log paths.

    A bash_jinja2 command renders in Jinja2's sandbox, in the API (PREVIEW_CMD, validation) as in the
    runner: a template that reaches for Python internals raises SecurityError, any other fault of the
    template a jinja2.TemplateError; never anything of the process that renders it.
    """
    params = parameter_values(node)
    if node["base_node_name"] == BaseNodeNames.PYTHON:
        return _python(node, inputs, outputs, logs, params)
    if node["base_node_name"] == BaseNodeNames.BASH_JINJA2:
        return _bash(node, inputs, outputs, logs, params)
    raise ValueError(f"`{node['base_node_name']}` is not an operation that runs")


def preview(node: dict) -> str:
    """PREVIEW_CMD (and validation): the script with placeholder paths where the runner would put the files.

    An array input gets as many paths as it has values in its graph, at least its min_count and one.
    """
    base = f"{PREVIEW_DIR}/{node['_id']}"
    inputs: dict[str, Any] = {}
    for index, node_input in enumerate(node.get("inputs", [])):
        wanted = max(1, node_input.get("min_count", 1), len(node_input.get("values") or []))
        count = wanted if node_input["max_count"] != 1 else 1
        paths = PathList(f"{base}/i_{index}_{i}_{node_input['name']}" for i in range(count))
        inputs[node_input["name"]] = paths if node_input["max_count"] != 1 else paths[0]
    outputs = {o["name"]: f"{base}/o_{i}_{o['name']}" for i, o in enumerate(node.get("outputs", []))}
    logs = {name: f"{base}/l_{name}" for name in [log["name"] for log in node.get("logs", [])] or
            ["stderr", "stdout", "worker"]}
    return script_text(node, inputs, outputs, logs)
