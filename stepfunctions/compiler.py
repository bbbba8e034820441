"""Compile a PLynx graph into an ASL state machine that runs each operation as a runner Task.

This slice runs the graph level by level (every operation of a level in one Parallel state). It is
correct for any DAG; the execution-engine issue replaces it with per-node dependency waits.
"""
from __future__ import annotations

import json
from collections import deque
from typing import Any

FILE = "file"
# Lambda's own transient failures: retried with backoff. A user's code error (OperationFailed) is not.
LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
MAX_STATE_NAME = 80  # Step Functions' limit on state names
MAX_DEFINITION_BYTES = 1024 * 1024  # Step Functions' limit on a state machine definition
MAX_HISTORY_EVENTS = 25_000  # Step Functions' limit on one Standard execution's history
# Events this compile spends: about 5 per Task and 4 per Parallel, plus the bookkeeping states.
_EVENTS_PER_TASK, _EVENTS_PER_PARALLEL, _EVENTS_FIXED = 5, 4, 20


class CompileError(ValueError):
    """The graph cannot become a state machine (a cycle, a dangling reference)."""


def _dependencies(node: dict) -> set[str]:
    return {value["node_id"] for node_input in node.get("inputs", []) for value in node_input.get("values", [])}


def operation_levels(graph: dict) -> list[list[str]]:
    """Operation ids grouped by longest distance from a source; files never run and form no level."""
    nodes = {node["_id"]: node for node in graph["nodes"]}
    dependents: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    waiting: dict[str, int] = {}
    for node_id, node in nodes.items():
        deps = _dependencies(node)
        missing = deps - nodes.keys()
        if missing:
            raise CompileError(f"Node `{node_id}` depends on unknown nodes {sorted(missing)}")
        waiting[node_id] = len(deps)
        for dep in deps:
            dependents[dep].append(node_id)
    # Kahn's algorithm, iterative so a 10,000-node chain needs no deep recursion.
    depth = {node_id: 0 for node_id in nodes}
    ready = deque(node_id for node_id, count in waiting.items() if count == 0)
    done = 0
    while ready:
        node_id = ready.popleft()
        done += 1
        if nodes[node_id]["base_node_name"] != FILE:
            depth[node_id] += 1
        for dependent in dependents[node_id]:
            depth[dependent] = max(depth[dependent], depth[node_id])
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    if done != len(nodes):
        stuck = sorted(node_id for node_id, count in waiting.items() if count > 0)
        raise CompileError(f"Graph has a cycle through nodes {stuck}")
    by_level: dict[int, list[str]] = {}
    for node_id, node in nodes.items():
        if node["base_node_name"] != FILE:
            by_level.setdefault(depth[node_id], []).append(node_id)
    return [sorted(by_level[key]) for key in sorted(by_level)]


def _invoke(runner_function: str, payload: dict[str, Any], next_state: str | None) -> dict:
    """A Task that invokes the runner with a small payload: ids travel in state, never data (256 KB)."""
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": runner_function, "Payload": payload},
        "ResultPath": None,
        "Retry": [
            {
                "ErrorEquals": LAMBDA_TRANSIENT_ERRORS,
                "IntervalSeconds": 1,
                "MaxAttempts": 3,
                "BackoffRate": 2.0,
            }
        ],
    }
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state


def _run_payload(graph_id: str, node_id: str) -> dict[str, Any]:
    return {"action": "run", "graph_id": graph_id, "node_id": node_id, "run_id.$": "$.run_id"}


def _state_name(prefix: str, ident: str) -> str:
    return f"{prefix} {ident}"[:MAX_STATE_NAME]


def compile_graph(graph: dict, runner_function: str) -> dict:
    """ASL for one graph: start, its operations level by level, then SUCCESS or FAILED bookkeeping."""
    graph_id = graph["_id"]
    levels = operation_levels(graph)
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Mark failed"}]
    level_names = [_state_name("Level", str(i)) for i in range(len(levels))]
    states: dict[str, Any] = {
        "Mark running": _invoke(
            runner_function,
            {"action": "start", "graph_id": graph_id, "run_id.$": "$.run_id"},
            level_names[0] if levels else "Mark succeeded",
        )
    }
    states["Mark running"]["Catch"] = catch
    for i, node_ids in enumerate(levels):
        next_state = level_names[i + 1] if i + 1 < len(levels) else "Mark succeeded"
        if len(node_ids) == 1:
            state = _invoke(runner_function, _run_payload(graph_id, node_ids[0]), next_state)
        else:
            state = {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": _state_name("Run", node_id),
                        "States": {
                            _state_name("Run", node_id): _invoke(
                                runner_function, _run_payload(graph_id, node_id), None
                            )
                        },
                    }
                    for node_id in node_ids
                ],
                "ResultPath": None,
                "Next": next_state,
            }
        state["Catch"] = catch
        states[level_names[i]] = state
    states["Mark succeeded"] = _invoke(
        runner_function,
        {"action": "finalize", "graph_id": graph_id, "run_id.$": "$.run_id", "status": "SUCCESS"},
        None,
    )
    states["Mark succeeded"]["Catch"] = catch
    states["Mark failed"] = _invoke(
        runner_function,
        {
            "action": "finalize",
            "graph_id": graph_id,
            "run_id.$": "$.run_id",
            "status": "FAILED",
            "error.$": "$.error",
        },
        "Failed",
    )
    states["Failed"] = {"Type": "Fail", "Error": "GraphFailed", "Cause": "An operation of the graph failed"}
    definition = {"Comment": f"PLynx graph {graph_id}", "StartAt": "Mark running", "States": states}
    _check_quotas(definition, levels)
    return definition


def _check_quotas(definition: dict, levels: list[list[str]]) -> None:
    """Refuse up front what Step Functions would refuse or cut off mid-run (size as sent: compact JSON)."""
    size = len(json.dumps(definition, separators=(",", ":")))
    if size > MAX_DEFINITION_BYTES:
        raise CompileError(f"its state machine would be {size} bytes, over the {MAX_DEFINITION_BYTES}-byte limit")
    events = _EVENTS_FIXED + sum(
        _EVENTS_PER_TASK * len(level) + (_EVENTS_PER_PARALLEL if len(level) > 1 else 0) for level in levels
    )
    if events > MAX_HISTORY_EVENTS:
        raise CompileError(f"one execution would write about {events} history events, over {MAX_HISTORY_EVENTS}")
