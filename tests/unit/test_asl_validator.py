"""The compiler's output passes the npm `asl-validator` (pinned in tests/asl, installed by `make test`)."""
from __future__ import annotations

import json
import os
import subprocess

from stepfunctions import Fargate, compile_program

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATOR = os.path.join(os.path.dirname(HERE), "asl", "node_modules", ".bin", "asl-validator")
RUNNER = "arn:aws:lambda:us-east-1:123456789012:function:plynx-runner"
FARGATE = Fargate("arn:aws:ecs:us-east-1:123456789012:cluster/plynx", "plynx-runner:1", ("subnet-1",), ("sg-1",))


def _node(node_id: str, *deps: str, base: str = "python", **params: object) -> dict:
    return {"_id": node_id, "base_node_name": base,
            "inputs": [{"name": "in", "values": [{"node_id": d, "output_id": "out"} for d in deps]}],
            "parameters": [{"name": k, "parameter_type": "int", "value": v} for k, v in params.items()]}


def _graphs() -> dict[str, tuple[dict, dict]]:
    layered = [_node(f"n{i:04d}", *(f"n{j:04d}" for j in (i - 7, i - 9) if j >= 0)) for i in range(400)]
    return {
        "single": ({"_id": "g-single", "nodes": [_node("a")]}, {}),
        "diamond with a file": ({"_id": "g-diamond", "nodes": [
            _node("f", base="file"), _node("a", "f"), _node("b", "a"), _node("c", "a"), _node("d", "b", "c")]}, {}),
        "N shape, retries, timeout": ({"_id": "g-n", "nodes": [
            _node("a", _retries=2), _node("b", _timeout=30), _node("c", "a", "b"), _node("d", "b")]}, {}),
        "restored prefix": ({"_id": "g-restored", "nodes": [_node("a"), _node("b", "a"), _node("c", "b")]},
                            {"restored": frozenset({"a", "b"})}),
        "all restored": ({"_id": "g-all", "nodes": [_node("a"), _node("b", "a")]},
                         {"restored": frozenset({"a", "b"})}),
        "fargate": ({"_id": "g-fargate", "nodes": [_node("long", _timeout=7200), _node("after", "long")]},
                    {"fargate": FARGATE}),
        "split into children": ({"_id": "g-split", "nodes": layered}, {"limits_events": 1500}),
        "fan-out, join, nested forks": ({"_id": "g-fan", "nodes": [
            _node("s"), *(_node(f"m{i}", "s") for i in range(5)), _node("j", *(f"m{i}" for i in range(5))),
            _node("t", "m0"), _node("u", "m0"), _node("v", "t", _timeout=7200)]}, {"fargate": FARGATE}),
        "composite in a composite": ({"_id": "g-composite", "nodes": [
            _node("a"), _composite("c", "a", inner=[_node("x"), _composite("d", inner=[_node("y")]), _node("z", "x")]),
            _node("b", "c")]}, {}),
    }


def _composite(node_id: str, *deps: str, inner: list[dict]) -> dict:
    node = _node(node_id, *deps, base="graph")
    node["parameters"] = [{"name": "_nodes", "parameter_type": "list_node", "value": inner}]
    return node


def _definitions() -> list[tuple[str, dict]]:
    from stepfunctions import Limits

    found = []
    for title, (graph, options) in _graphs().items():
        options = dict(options)
        if "limits_events" in options:
            options["limits"] = Limits(history_events=options.pop("limits_events"))
        program = compile_program(graph, RUNNER, child_arn=lambda d: "arn:aws:states:us-east-1:123456789012:"
                                  "stateMachine:plynx-child", **options)
        found.append((f"{title}: main", program.main))
        found.extend((f"{title}: child {i}", child) for i, child in enumerate(program.children))
    return found


def test_validator_is_installed() -> None:
    assert os.path.exists(VALIDATOR), "run `make test` (it installs tests/asl with npm ci)"


def test_compiled_definitions_are_valid_asl(tmp_path) -> None:
    definitions = _definitions()
    paths = []
    for i, (title, definition) in enumerate(definitions):
        paths.append(tmp_path / f"{i:02d}.json")
        paths[-1].write_text(json.dumps(definition))
    command = [VALIDATOR]
    for path in paths:
        command += ["--json-path", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)  # one node start for all
    names = "\n".join(f"{path.name}: {title}" for path, (title, _) in zip(paths, definitions))
    assert result.returncode == 0, f"{result.stdout}{result.stderr}\n{names}"
    assert result.stdout.count("is valid") == len(definitions), result.stdout


def test_the_validator_rejects_a_broken_definition(tmp_path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "Next": "Gone"}}}))
    result = subprocess.run([VALIDATOR, "--json-path", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
