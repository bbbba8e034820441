"""The compiler is a pure function: graphs in, ASL out, checked without AWS."""
from __future__ import annotations

import json

import pytest

from stepfunctions import CompileError, compile_graph, operation_levels

RUNNER = "arn:aws:lambda:us-east-1:123456789012:function:plynx-runner"


def _node(node_id: str, *deps: str, base: str = "python") -> dict:
    return {
        "_id": node_id,
        "base_node_name": base,
        "inputs": [{"name": "in", "values": [{"node_id": d, "output_id": "out"} for d in deps]}],
    }


def _graph(*nodes: dict) -> dict:
    return {"_id": "g1", "nodes": list(nodes)}


def _task_node_ids(definition: dict) -> list[str]:
    found = []

    def walk(states: dict) -> None:
        for state in states.values():
            if state["Type"] == "Parallel":
                for branch in state["Branches"]:
                    walk(branch["States"])
            elif state["Type"] == "Task" and state["Parameters"]["Payload"]["action"] == "run":
                found.append(state["Parameters"]["Payload"]["node_id"])

    walk(definition["States"])
    return found


def test_levels_follow_dependencies_and_skip_files() -> None:
    graph = _graph(_node("f", base="file"), _node("a", "f"), _node("b", "f"), _node("c", "a", "b"), _node("d", "a"))
    assert operation_levels(graph) == [["a", "b"], ["c", "d"]]


def test_every_operation_runs_once_and_files_never() -> None:
    graph = _graph(_node("f", base="file"), _node("a", "f"), _node("b", "a"), _node("c", "a"))
    definition = compile_graph(graph, RUNNER)
    assert sorted(_task_node_ids(definition)) == ["a", "b", "c"]
    json.dumps(definition)  # serialisable as is


def test_states_chain_from_start_to_bookkeeping() -> None:
    definition = compile_graph(_graph(_node("a"), _node("b", "a")), RUNNER)
    states = definition["States"]
    name = definition["StartAt"]
    visited = []
    while "Next" in states[name]:
        visited.append(name)
        name = states[name]["Next"]
    visited.append(name)
    assert visited == ["Mark running", "Level 0", "Level 1", "Mark succeeded"]
    assert states["Mark succeeded"]["End"] is True
    assert states["Level 0"]["Catch"][0]["Next"] == "Mark failed"
    assert states["Mark failed"]["Next"] == "Failed"
    assert states["Level 0"]["Parameters"]["FunctionName"] == RUNNER
    # the run id travels from the execution input, never data
    assert states["Level 0"]["Parameters"]["Payload"]["run_id.$"] == "$.run_id"


def test_user_errors_are_not_retried_but_lambda_errors_are() -> None:
    states = compile_graph(_graph(_node("a")), RUNNER)["States"]
    retried = states["Level 0"]["Retry"][0]["ErrorEquals"]
    assert "Lambda.ServiceException" in retried
    assert "OperationFailed" not in retried and "States.ALL" not in retried


def test_cycle_is_refused() -> None:
    with pytest.raises(CompileError, match="cycle"):
        compile_graph(_graph(_node("a", "b"), _node("b", "a")), RUNNER)


def test_dangling_reference_is_refused() -> None:
    with pytest.raises(CompileError, match="unknown"):
        compile_graph(_graph(_node("a", "ghost")), RUNNER)


def test_state_names_fit_the_80_character_limit() -> None:
    long_id = "x" * 200
    definition = compile_graph(_graph(_node(long_id), _node("b")), RUNNER)
    for branch in definition["States"]["Level 0"]["Branches"]:
        assert all(len(name) <= 80 for name in branch["States"])


def test_a_long_chain_compiles_without_recursion() -> None:
    chain = [_node("n0")] + [_node(f"n{i}", f"n{i - 1}") for i in range(1, 3000)]
    assert len(operation_levels(_graph(*chain))) == 3000


def test_graphs_over_step_functions_quotas_are_refused_up_front() -> None:
    wide = [_node(f"n{i}") for i in range(4000)]
    with pytest.raises(CompileError, match="limit|history events"):
        compile_graph(_graph(*wide), RUNNER)
    fits = [_node(f"n{i}") for i in range(1000)]
    assert len(json.dumps(compile_graph(_graph(*fits), RUNNER))) < 1024 * 1024
