"""How close the compiled state machines come to the critical path, on a suite of random DAGs.

    .venv/bin/python bench/makespan.py [--graphs 240] [--seed 7]

For each graph (10 to 500 nodes; layered, random edges, wide fan-out/fan-in, long chains, with
exponential operation durations) it compiles the real ASL, then computes the makespan that ASL allows
by walking it: a Parallel starts its branches together, a branch runs its states in order, a
dependency wait ends when every operation it waits for has ended (read from the runners' `notify`
lists), a child execution starts its own definition. That makespan is divided by the critical path.
It prints the ratio with zero overhead per state, with an AWS-like overhead per state, and the same
for a level-by-level compile for reference; then compile times and sizes at 1,000 and 10,000 nodes.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from chalicelib.domain.graph import dependencies, topological_order
from stepfunctions import compile_program, operation_levels

RUNNER = "arn:aws:lambda:us-east-1:123456789012:function:plynx-runner"


def _node(node_id: str, deps: list[str]) -> dict:
    return {"_id": node_id, "base_node_name": "python",
            "inputs": [{"name": "in", "values": [{"node_id": d, "output_id": "out"} for d in deps]}]}


def make_graph(shape: str, size: int, rng: random.Random) -> dict:
    """One random DAG of a named shape; ids like the API's (24 hex)."""
    ids = [f"{rng.getrandbits(96):024x}" for _ in range(size)]
    deps: list[list[str]] = []
    if shape == "layered":
        width = rng.randint(2, max(2, size // 5))
        for i in range(size):
            layer_start = (i // width) * width
            previous = ids[max(0, layer_start - width):layer_start]
            deps.append(rng.sample(previous, min(len(previous), rng.randint(1, 3))) if previous else [])
    elif shape == "random":
        for i in range(size):
            window = ids[max(0, i - 30):i]
            deps.append(rng.sample(window, min(len(window), rng.choice([0, 1, 1, 2, 2, 3, 4]))))
    elif shape == "fan":
        hubs = max(1, size // 50)
        for i in range(size):
            if i < hubs:
                deps.append([])
            elif i >= size - hubs:
                deps.append(rng.sample(ids[hubs:size - hubs], min(size - 2 * hubs, 20)))
            else:
                deps.append([ids[rng.randrange(hubs)]])
    elif shape == "chains":
        count = rng.randint(1, 6)
        for i in range(size):
            own = [ids[i - count]] if i >= count else []
            cross = [ids[rng.randrange(i)]] if i > count and rng.random() < 0.1 else []
            deps.append(sorted(set(own + cross)))
    else:
        raise ValueError(shape)
    return {"_id": "bench", "nodes": [_node(ids[i], deps[i]) for i in range(size)]}


def critical_path(graph: dict, duration: dict[str, float]) -> float:
    nodes = {n["_id"]: n for n in graph["nodes"]}
    finish: dict[str, float] = {}
    for node_id in topological_order(nodes):
        finish[node_id] = duration[node_id] + max((finish[d] for d in dependencies(nodes[node_id])), default=0.0)
    return max(finish.values())


def levels_makespan(graph: dict, duration: dict[str, float], overhead: float) -> float:
    return sum(max(duration[n] for n in level) + overhead for level in operation_levels(graph))


def _branch_sequences(definition: dict) -> list[tuple[str | None, list[tuple[str, str]]]]:
    """Each branch of "Run operations", and of the forks nested in them, as (the operation it is forked
    after, or None: it starts with the run; its (kind, node id or child arn) steps)."""
    runner = definition["States"].get("Run operations")
    sequences: list[tuple[str | None, list[tuple[str, str]]]] = []
    for branch in runner["Branches"] if runner is not None else []:
        _sequence(branch["States"], branch["StartAt"], None, sequences)
    return sequences


def _sequence(states: dict, name: str | None, host: str | None,
              sequences: list[tuple[str | None, list[tuple[str, str]]]]) -> None:
    steps: list[tuple[str, str]] = []
    while name is not None:
        state = states[name]
        if state["Type"] == "Parallel":  # a fork: its branches start when the operation before it ends
            for branch in state["Branches"]:
                _sequence(branch["States"], branch["StartAt"], steps[-1][1], sequences)
            break
        if state["Type"] == "Choice":  # a Fargate task's Check: on success
            name = state["Choices"][0]["Next"]
            continue
        if state["Type"] != "Task":
            break
        if state["Resource"].startswith("arn:aws:states:::states:startExecution"):
            steps.append(("child", state["Parameters"]["StateMachineArn"]))
        elif state["Resource"].startswith("arn:aws:states:::ecs:"):
            environment = {e["Name"]: e.get("Value") for e in
                           state["Parameters"]["Overrides"]["ContainerOverrides"][0]["Environment"]}
            steps.append(("run", environment["PLYNX_NODE_ID"]))
        else:
            payload = state["Parameters"]["Payload"]
            steps.append((payload["action"], payload["node_id"]))
        name = state.get("Next")
    sequences.append((host, steps))


def asl_makespan(graph: dict, program, children: dict[str, dict], duration: dict[str, float],
                 task_overhead: float, callback_overhead: float) -> float:
    """The makespan the compiled definitions allow (see the module docstring)."""
    nodes = {n["_id"]: n for n in graph["nodes"]}
    branches: list[tuple[float | str, list[tuple[str, str]]]] = []  # (start offset, or the fork's host; steps)
    for host, steps in _branch_sequences(program.main):
        if steps and steps[0][0] == "child":
            for child_host, child_steps in _branch_sequences(children[steps[0][1]]):
                # starting a child costs one Task
                branches.append((task_overhead if child_host is None else child_host, child_steps))
        else:
            branches.append((0.0 if host is None else host, steps))
    notified_by: dict[str, list[str]] = defaultdict(list)
    position: dict[str, tuple[int, int]] = {}
    for b, (_, steps) in enumerate(branches):
        for i, (kind, node_id) in enumerate(steps):
            if kind == "run":
                position[node_id] = (b, i)
    for definition in [program.main, *children.values()]:
        for state in _all_states(definition["States"]):
            payload = state.get("Parameters", {}).get("Payload", {})
            for dependent in payload.get("notify", []):
                notified_by[dependent].append(payload["node_id"])
    end: dict[str, float] = {}
    branch_clock: list[float | str] = [start for start, _ in branches]
    next_step = [0] * len(branches)
    for node_id in topological_order(nodes):
        if node_id not in position:
            continue
        b, i = position[node_id]
        clock = branch_clock[b]
        if isinstance(clock, str):  # forked after that operation: starts when it ends
            clock = end[clock]
        steps = branches[b][1]
        while next_step[b] <= i:
            kind, step_node = steps[next_step[b]]
            if kind == "wait":
                clock = max(clock, *(end[d] for d in notified_by[step_node])) + callback_overhead
            else:
                clock += duration[step_node] + task_overhead
                end[step_node] = clock
            next_step[b] += 1
        branch_clock[b] = clock
    return max(end.values())


def _all_states(states: dict):
    for state in states.values():
        yield state
        for branch in state.get("Branches", []):
            yield from _all_states(branch["States"])


def suite(count: int, seed: int) -> list[tuple[str, dict, dict[str, float]]]:
    rng = random.Random(seed)
    shapes = ["layered", "random", "fan", "chains"]
    graphs = []
    for i in range(count):
        shape = shapes[i % len(shapes)]
        size = int(10 * (50 ** rng.random()))  # 10 to 500, log-uniform
        graph = make_graph(shape, size, rng)
        duration = {n["_id"]: rng.expovariate(1.0) for n in graph["nodes"]}
        graphs.append((shape, graph, duration))
    return graphs


def _summary(ratios: list[float]) -> str:
    return f"mean {statistics.mean(ratios):.3f}  worst {max(ratios):.3f}  (n={len(ratios)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=240)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--task-overhead", type=float, default=0.025, help="seconds per Task state (AWS-like)")
    parser.add_argument("--callback-overhead", type=float, default=0.05, help="seconds per dependency wait")
    args = parser.parse_args()
    ideal, real, levels, levels_real = [], [], [], []
    by_shape: dict[str, list[float]] = defaultdict(list)
    for shape, graph, duration in suite(args.graphs, args.seed):
        children: dict[str, dict] = {}

        def child_arn(definition: dict, children: dict[str, dict] = children) -> str:
            arn = f"arn:child:{len(children)}"
            children[arn] = definition
            return arn

        program = compile_program(graph, RUNNER, child_arn=child_arn)
        cp = critical_path(graph, duration)
        ratio = asl_makespan(graph, program, children, duration, 0.0, 0.0) / cp
        ideal.append(ratio)
        by_shape[shape].append(ratio)
        real.append(asl_makespan(graph, program, children, duration, args.task_overhead,
                                 args.callback_overhead) / cp)
        levels.append(levels_makespan(graph, duration, 0.0) / cp)
        levels_real.append(levels_makespan(graph, duration, args.task_overhead) / cp)
    sizes = [len(g["nodes"]) for _, g, _ in suite(args.graphs, args.seed)]
    print(f"suite: {args.graphs} random DAGs, {min(sizes)} to {max(sizes)} nodes, exponential durations (mean 1 s)")
    print(f"dependency waits, zero overhead:        makespan / critical path  {_summary(ideal)}")
    print(f"dependency waits, {args.task_overhead * 1000:.0f} ms/Task {args.callback_overhead * 1000:.0f} ms/wait:"
          f"   makespan / critical path  {_summary(real)}")
    for shape, ratios in sorted(by_shape.items()):
        print(f"    {shape:8s} {_summary(ratios)}")
    print(f"level by level (reference), zero overhead: makespan / critical path  {_summary(levels)}")
    print(f"level by level (reference), {args.task_overhead * 1000:.0f} ms/Task:   "
          f"makespan / critical path  {_summary(levels_real)}")
    print()
    print("compile time and size (random-edges shape):")
    rng = random.Random(args.seed)
    for size in (1000, 10_000):
        graph = make_graph("random", size, rng)
        started = time.perf_counter()
        program = compile_program(graph, RUNNER, child_arn=lambda d: f"arn:child:{id(d)}")
        seconds = time.perf_counter() - started
        biggest = max(len(json.dumps(d, separators=(",", ":"))) for d in [program.main, *program.children])
        print(f"  {size:6d} nodes: compile {seconds:.2f} s, {1 + len(program.children)} execution(s), "
              f"largest definition {biggest / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
