"""The compiler and the runner speak one contract: whatever the compiler emits, the runner reads back."""
from __future__ import annotations

import json
from typing import Any

import pytest

from stepfunctions import Fargate, compile_program
from stepfunctions.contract import (
    Action,
    ErrorName,
    ExecutionInput,
    LostRunner,
    OperationFailed,
    Path,
    RunnerEvent,
    StillRunning,
    event_from_environment,
    lost_runner,
    payload,
)

RUNNER = "arn:aws:lambda:us-east-1:123456789012:function:plynx-runner"
FARGATE = Fargate("arn:aws:ecs:us-east-1:123456789012:cluster/c", "task", ("subnet-1",))


def _op(node_id: str, *deps: str, **params: Any) -> dict:
    return {"_id": node_id, "base_node_name": "python",
            "inputs": [{"name": "in", "values": [{"node_id": d, "output_id": "out"} for d in deps]}],
            "outputs": [{"name": "out", "file_type": "file"}],
            "parameters": [{"name": k, "parameter_type": "str", "value": v} for k, v in params.items()]}


def _composite(node_id: str, *deps: str) -> dict:
    inner = [_op("i1"), _op("i2", "i1")]
    return {"_id": node_id, "base_node_name": "graph",
            "inputs": [{"name": "in", "values": [{"node_id": d, "output_id": "out"} for d in deps]}],
            "outputs": [], "parameters": [{"name": "_nodes", "parameter_type": "list_node", "value": inner}]}


def _states(definition: dict):
    for state in definition["States"].values():
        yield state
        for branch in state.get("Branches", []):
            yield from _states(branch)


def _filled(parameters: dict) -> dict:
    """What Step Functions would send: every `.$` key's JSONPath replaced by a value of the right shape."""
    filled = {}
    for key, value in parameters.items():
        if key.endswith(".$"):
            filled[key[:-2]] = {"$$.State.RetryCount": 1, "$.error": {"Error": "X", "Cause": "y"}}.get(value, "v")
        else:
            filled[key] = value
    return filled


def _program() -> list[dict]:
    graph = {"_id": "g1", "nodes": [_op("a"), _op("b"), _op("c", "a", "b", _retries=2),
                                     _op("d", "a", _placement="fargate"), _composite("k", "c")]}
    program = compile_program(graph, RUNNER, fargate=FARGATE, child_arn=lambda d: "arn:aws:states:::x")
    return [program.main, *program.children]


def test_every_payload_the_compiler_emits_is_an_event_the_runner_reads() -> None:
    seen = set()
    for definition in _program():
        for state in _states(definition):
            sent = state.get("Parameters", {}).get("Payload")
            if sent is None:
                continue
            event = RunnerEvent.from_payload(_filled(sent))
            seen.add(event.action)
            assert event.graph_id and event.run_id == "v"
    # START is only read (executions of older machines still in flight): no machine compiles it any more
    assert seen == set(Action) - {Action.START}, f"actions never emitted: {set(Action) - {Action.START} - seen}"
    assert RunnerEvent.from_payload({"action": "start", "graph_id": "g1", "run_id": "v"}).action is Action.START


def test_the_fargate_environment_is_read_back_as_the_same_event() -> None:
    overrides = [state["Parameters"]["Overrides"]["ContainerOverrides"][0]["Environment"]
                 for definition in _program() for state in _states(definition)
                 if state.get("Resource") == "arn:aws:states:::ecs:runTask.sync"]
    assert len(overrides) == 1
    environ = {item["Name"]: item.get("Value", "7") for item in overrides[0]}
    event = event_from_environment(environ)
    assert (event.action, event.graph_id, event.node_id, event.run_id, event.attempt) == (Action.RUN, "g1", "d", "7", 7)


def test_error_names_are_the_names_of_what_is_raised() -> None:
    assert ErrorName.OPERATION_FAILED == OperationFailed.__name__
    assert ErrorName.STILL_RUNNING == StillRunning.__name__
    matched = {name for definition in _program() for state in _states(definition)
               for retry in state.get("Retry", []) for name in retry["ErrorEquals"]}
    assert {OperationFailed.__name__, StillRunning.__name__} <= matched


def test_a_lost_fargate_runner_is_named_by_a_machine_readable_cause() -> None:
    failed = [state for definition in _program() for state in _states(definition)
              if state["Type"] == "Fail" and state["Error"] == ErrorName.OPERATION_FAILED]
    assert len(failed) == 1
    caught = {"Error": failed[0]["Error"], "Cause": failed[0]["Cause"]}  # what a Catch puts in $.error
    assert lost_runner(caught) == "d"
    assert lost_runner({"Error": "OperationFailed", "Cause": "The runner of `d` exited non-zero"}) is None
    assert lost_runner({"Error": "X", "Cause": json.dumps({"errorMessage": "boom"})}) is None
    assert lost_runner(None) is None and LostRunner("n").cause() == json.dumps({"lost_runner": "n", "message": ""})


def test_malformed_events_are_refused_with_what_is_missing() -> None:
    with pytest.raises(ValueError, match="Unknown runner action `fly`"):
        RunnerEvent.from_payload({"action": "fly", "graph_id": "g", "run_id": "r"})
    with pytest.raises(ValueError, match=r"needs \['needs', 'token'\]"):
        RunnerEvent.from_payload({"action": "wait", "graph_id": "g", "run_id": "r", "node_id": "n"})
    with pytest.raises(ValueError, match="must be a JSON object"):
        RunnerEvent.from_payload(["run"])  # type: ignore[arg-type]


def test_payload_builds_only_known_fields() -> None:
    assert payload(Action.WAIT, "g", node_id="n", needs=2, token=Path("$$.Task.Token")) == {
        "action": "wait", "graph_id": "g", "run_id.$": "$.run_id", "node_id": "n", "needs": 2,
        "token.$": "$$.Task.Token"}
    with pytest.raises(TypeError, match="notfy"):
        payload(Action.RUN, "g", node_id="n", notfy=["x"])


def test_execution_inputs_round_trip_and_children_are_told_apart() -> None:
    top = ExecutionInput.parse(ExecutionInput("g", "r").to_json())
    assert top == ExecutionInput("g", "r")
    child = _filled(ExecutionInput.parameters("g", part=2))
    assert ExecutionInput.parse(json.dumps(child)).part == 2
    nested = _filled(ExecutionInput.parameters("g.k", composite="k"))
    assert ExecutionInput.parse(json.dumps(nested)).composite == "k"
    assert ExecutionInput.parse("not json") is None and ExecutionInput.parse('{"graph_id": 1}') is None
