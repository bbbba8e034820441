"""The compiler is a pure function: graphs in, ASL out, checked without AWS."""
from __future__ import annotations

import json

import pytest

from stepfunctions import (
    CompileError,
    Fargate,
    Limits,
    compile_graph,
    compile_program,
    operation_levels,
    plan,
)

RUNNER = "arn:aws:lambda:us-east-1:123456789012:function:plynx-runner"


def _node(node_id: str, *deps: str, base: str = "python", **params: object) -> dict:
    return {
        "_id": node_id,
        "base_node_name": base,
        "inputs": [{"name": "in", "values": [{"node_id": d, "output_id": "out"} for d in deps]}],
        "parameters": [{"name": name, "parameter_type": "int", "value": value} for name, value in params.items()],
    }


def _graph(*nodes: dict) -> dict:
    return {"_id": "g1", "nodes": list(nodes)}


def _walk(states: dict):
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _walk(branch["States"])


def _tasks(definition: dict, action: str) -> dict[str, dict]:
    return {state["Parameters"]["Payload"]["node_id"]: state for _, state in _walk(definition["States"])
            if state["Type"] == "Task" and state["Parameters"].get("Payload", {}).get("action") == action}


def test_levels_follow_dependencies_and_skip_files() -> None:
    graph = _graph(_node("f", base="file"), _node("a", "f"), _node("b", "f"), _node("c", "a", "b"), _node("d", "a"))
    assert operation_levels(graph) == [["a", "b"], ["c", "d"]]


def test_every_operation_runs_once_and_files_never() -> None:
    graph = _graph(_node("f", base="file"), _node("a", "f"), _node("b", "a"), _node("c", "a"))
    definition = compile_graph(graph, RUNNER)
    assert sorted(_tasks(definition, "run")) == ["a", "b", "c"]
    json.dumps(definition)  # serialisable as is


def test_a_chain_is_one_branch_without_waits() -> None:
    chain = [_node("n0")] + [_node(f"n{i}", f"n{i - 1}") for i in range(1, 20)]
    definition = compile_graph(_graph(*chain), RUNNER)
    assert len(definition["States"]["Run operations"]["Branches"]) == 1
    assert _tasks(definition, "wait") == {}


def test_a_diamond_joins_after_its_fork_without_a_wait() -> None:
    # a -> b -> d, a -> c -> d: c is forked after a; d needs both branches of that Parallel, so it runs after it
    definition = compile_graph(_graph(_node("a"), _node("b", "a"), _node("c", "a"), _node("d", "b", "c")), RUNNER)
    runs = _tasks(definition, "run")
    assert _tasks(definition, "wait") == {}
    assert not any("notify" in state["Parameters"]["Payload"] for state in runs.values())
    assert runs["a"]["Next"] == "Fork a"
    top = definition["States"]["Run operations"]["Branches"][0]["States"]
    assert top["Fork a"]["Next"] == "Run d" and len(top["Fork a"]["Branches"]) == 2 and runs["d"]["End"] is True


def test_chains_that_meet_outside_a_fork_wait() -> None:
    # a -> b -> d and c -> d: c starts with the run, d continues a's chain and waits for c
    definition = compile_graph(_graph(_node("a"), _node("b", "a"), _node("c"), _node("d", "b", "c")), RUNNER)
    waits = _tasks(definition, "wait")
    runs = _tasks(definition, "run")
    assert set(waits) == {"d"}
    assert waits["d"]["Parameters"]["Payload"]["needs"] == 1
    assert waits["d"]["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert waits["d"]["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert runs["c"]["Parameters"]["Payload"]["notify"] == ["d"]
    assert "notify" not in runs["b"]["Parameters"]["Payload"]


def _before(states: dict, start: str, done: frozenset[str] = frozenset()) -> dict[str, frozenset[str]]:
    """For each operation's Run state, the operations whose Run states surely ended before it starts."""
    seen: dict[str, frozenset[str]] = {}
    name: str | None = start
    while name is not None:
        state = states[name]
        payload = state.get("Parameters", {}).get("Payload", {})
        if state["Type"] == "Task" and payload.get("action") == "run":
            seen[payload["node_id"]] = done
            done = done | {payload["node_id"]}
        ran: set[str] = set()
        for branch in state.get("Branches", []):  # each from the Parallel's start; it ends when they all have
            inner = _before(branch["States"], branch["StartAt"], done)
            seen.update(inner)
            ran.update(inner)
        done = done | ran
        name = state.get("Next")
    return seen


def _deps(node: dict) -> set[str]:
    return {value["node_id"] for node_input in node["inputs"] for value in node_input["values"]}


def _order(nodes: dict[str, dict]) -> list[str]:
    order: list[str] = []
    while len(order) < len(nodes):
        order += sorted(n for n, node in nodes.items() if n not in order and _deps(node) <= set(order))
    return order


def _assert_every_input_is_ready(graph: dict, definition: dict) -> None:
    waits = _tasks(definition, "wait")
    notified: dict[str, set[str]] = {}
    for node_id, state in _tasks(definition, "run").items():
        for dependent in state["Parameters"]["Payload"].get("notify", []):
            notified.setdefault(dependent, set()).add(node_id)
    before: dict[str, frozenset[str]] = {}
    for branch in definition["States"]["Run operations"]["Branches"]:
        before.update(_before(branch["States"], branch["StartAt"]))
    nodes = {node["_id"]: node for node in graph["nodes"]}
    assert set(before) == set(nodes)
    ancestors: dict[str, set[str]] = {}
    for node_id in _order(nodes):
        ancestors[node_id] = set().union(*({dep} | ancestors[dep] for dep in _deps(nodes[node_id])))
    for node_id, node in nodes.items():
        deps = _deps(node)
        assert before[node_id] <= ancestors[node_id], node_id  # it never waits for what it does not need
        waited = notified.get(node_id, set())
        assert deps <= before[node_id] | waited, node_id  # each input ran before, or released its wait
        assert (node_id in waits) == bool(waited)
        assert not waited & before[node_id]  # no wait for what surely ran already
        if waited:
            assert waits[node_id]["Parameters"]["Payload"]["needs"] == len(waited)


def test_a_fan_out_is_forked_after_its_source_and_its_join_runs_after_the_fork() -> None:
    middles = [_node(f"m{i:02d}", "s") for i in range(20)]
    graph = _graph(_node("s"), *middles, _node("j", *(m["_id"] for m in middles)))
    definition = compile_graph(graph, RUNNER)
    assert _tasks(definition, "wait") == {}  # no wait, no notify: the Parallel is the join
    top = definition["States"]["Run operations"]["Branches"]
    assert len(top) == 1 and top[0]["StartAt"] == "Run s" and top[0]["States"]["Run s"]["Next"] == "Fork s"
    fork = top[0]["States"]["Fork s"]
    assert fork["Type"] == "Parallel" and len(fork["Branches"]) == 20 and fork["Next"] == "Run j"
    assert fork["ResultPath"] is None  # the join gets the run's input, not the branches' results
    assert "Catch" not in fork  # the run's own Parallel catches for every branch
    _assert_every_input_is_ready(graph, definition)


def test_each_lambda_operation_keeps_its_end_in_the_state_for_the_next_in_its_branch() -> None:
    # a -> b -> c, b -> d (forked after b), e -> f: a and e start their branches; f follows e
    graph = _graph(_node("a"), _node("b", "a"), _node("c", "b"), _node("d", "b"), _node("e"), _node("f", "e"),
                   _node("l", "f", _timeout=7200))  # l runs on Fargate
    definition = compile_graph(graph, RUNNER, fargate=Fargate("cluster", "task"))
    runs = _tasks(definition, "run")
    for node_id, state in runs.items():
        assert state["ResultSelector"] == {"ended.$": "$.Payload.ended"} and state["ResultPath"] == "$.last"
    carried = {node_id: state["Parameters"]["Payload"].get("upstream.$") for node_id, state in runs.items()}
    assert carried == {"a": None, "b": "$.last.ended", "c": "$.last.ended", "d": "$.last.ended", "e": None,
                       "f": "$.last.ended"}
    fargate = [state for _, state in _walk(definition["States"]) if state.get("Resource", "").startswith(
        "arn:aws:states:::ecs:")]
    assert len(fargate) == 1 and fargate[0]["ResultPath"] == "$.fargate"  # what a Lambda operation kept stays


def test_after_a_join_its_branches_fork_nothing_and_a_later_dependent_waits() -> None:
    # j joins the fork of s; k, planned after it, needs m1 (and t2): inside the fork's Parallel, j would wait for k
    graph = _graph(_node("s"), _node("t"), _node("m1", "s"), _node("m2", "s"), _node("t2", "t"),
                   _node("j", "m1", "m2"), _node("k", "m1", "t2"))
    dag = plan(graph)
    assert dag.joins == {"j": "s"}
    assert dag.waits_for == {"k": ["m1"]} and dag.notifies == {"m1": ["k"]}  # k continues t's chain
    definition = compile_graph(graph, RUNNER)
    fork = definition["States"]["Run operations"]["Branches"][0]["States"]["Fork s"]
    inside = {payload["node_id"] for branch in fork["Branches"] for _, state in _walk(branch["States"])
              if (payload := state.get("Parameters", {}).get("Payload", {})).get("action") == "run"}
    assert inside == {"m1", "m2"}
    _assert_every_input_is_ready(graph, definition)


def test_a_join_of_branches_that_fork_again_waits() -> None:
    # m1 forks m1a and m1b: the Parallel of s would hold them, which j does not need
    graph = _graph(_node("s"), _node("m1", "s"), _node("m2", "s"), _node("m1a", "m1"), _node("m1b", "m1"),
                   _node("j", "m1", "m2"))
    assert plan(graph).joins == {}
    _assert_every_input_is_ready(graph, compile_graph(graph, RUNNER))


def test_random_fan_outs_and_joins_wait_for_nothing_they_do_not_need() -> None:
    import random

    joins = 0
    for seed in range(60):
        rng = random.Random(seed)
        nodes: list[dict] = []

        def add(*deps: str) -> str:
            nodes.append(_node(f"n{len(nodes):03d}", *sorted(set(deps))))
            return nodes[-1]["_id"]

        tails = [add()]
        for _ in range(rng.randint(1, 6)):  # blocks: a fan-out of chains, mostly joined again
            source = rng.choice(tails)
            ends = []
            for _ in range(rng.randint(1, 5)):
                last = add(source)
                for _ in range(rng.randint(0, 2)):
                    last = add(last, *([rng.choice(tails)] if rng.random() < 0.2 else []))
                ends.append(last)
            tails += [add(*ends)] if rng.random() < 0.8 else ends
        graph = _graph(*nodes)
        joins += len(plan(graph).joins)
        _assert_every_input_is_ready(graph, compile_graph(graph, RUNNER))
    assert joins > 30  # the shapes did join after their forks


def test_random_graphs_run_every_operation_once_with_its_inputs_ready() -> None:
    import random

    for seed in range(40):
        rng = random.Random(seed)
        count = rng.randint(2, 60)
        nodes = [_node(f"n{i:02d}", *sorted({f"n{rng.randrange(i):02d}" for _ in range(rng.randint(0, 3))} if i else ()))
                 for i in range(count)]
        graph = _graph(*nodes)
        _assert_every_input_is_ready(graph, compile_graph(graph, RUNNER))


def test_forks_nest_only_so_deep() -> None:
    # every node of a long chain also feeds a side operation: forks stop nesting after a few, waits take over
    nodes = [_node("c000")]
    for i in range(1, 40):
        nodes += [_node(f"c{i:03d}", f"c{i - 1:03d}"), _node(f"s{i:03d}", f"c{i - 1:03d}")]
    definition = compile_graph(_graph(*nodes), RUNNER)

    def depth(states: dict) -> int:
        return max((1 + max(depth(b["States"]) for b in s["Branches"]) for s in states.values() if "Branches" in s),
                   default=0)

    assert depth(definition["States"]) <= 1 + 4 * 4  # the run's own Parallel, then MAX_FORK_HOSTS per chain
    _assert_every_input_is_ready(_graph(*nodes), definition)


def test_plan_is_exact_on_a_non_series_parallel_graph() -> None:
    # the N shape: a -> c, b -> c, b -> d (no nesting of fork/join expresses it)
    graph = _graph(_node("a"), _node("b"), _node("c", "a", "b"), _node("d", "b"))
    dag = plan(graph)
    assert sorted(n for c in dag.chains for n in c.node_ids) == ["a", "b", "c", "d"]
    for node_id, deps in {"c": {"a", "b"}, "d": {"b"}}.items():
        chain = next(c.node_ids for c in dag.chains if node_id in c.node_ids)
        before = set(chain[:chain.index(node_id)])
        assert deps <= before | set(dag.waits_for.get(node_id, []))


def test_states_chain_from_start_to_bookkeeping() -> None:
    definition = compile_graph(_graph(_node("a"), _node("b", "a")), RUNNER)
    states = definition["States"]
    name = definition["StartAt"]
    visited = []
    while "Next" in states[name]:
        visited.append(name)
        name = states[name]["Next"]
    visited.append(name)
    # no bookkeeping Task first: the preparation marked the run RUNNING when it started the execution
    assert visited == ["Run operations", "Mark succeeded"]
    assert "Mark running" not in states
    assert all(task["Parameters"]["Payload"]["action"] != "start" for _, task in _walk(states)
               if task.get("Type") == "Task" and "Payload" in task.get("Parameters", {}))
    assert states["Mark succeeded"]["End"] is True
    assert states["Run operations"]["Catch"][0]["Next"] == "Settle failure"
    assert states["Settle failure"]["Next"] == "Mark failed"
    assert states["Mark failed"]["Next"] == "Failed"
    run_a = _tasks(definition, "run")["a"]
    assert run_a["Parameters"]["FunctionName"] == RUNNER
    # the run id travels from the execution input, never data
    assert run_a["Parameters"]["Payload"]["run_id.$"] == "$.run_id"


def test_failure_path_waits_for_running_operations_with_backoff() -> None:
    states = compile_graph(_graph(_node("a")), RUNNER)["States"]
    retry = {tuple(r["ErrorEquals"]): r for r in states["Settle failure"]["Retry"]}
    assert retry[("StillRunning",)]["BackoffRate"] > 1
    assert states["Settle failure"]["Catch"][0]["Next"] == "Mark failed"


def test_user_errors_are_not_retried_but_lambda_errors_are() -> None:
    run = _tasks(compile_graph(_graph(_node("a")), RUNNER), "run")["a"]
    retried = [e for r in run["Retry"] for e in r["ErrorEquals"]]
    assert "Lambda.ServiceException" in retried
    assert "OperationFailed" not in retried and "States.ALL" not in retried
    asked = _tasks(compile_graph(_graph(_node("a", _retries=2)), RUNNER), "run")["a"]
    assert {"ErrorEquals": ["OperationFailed"], "IntervalSeconds": 2, "MaxAttempts": 2,
            "BackoffRate": 2.0} in asked["Retry"]
    assert asked["Parameters"]["Payload"]["attempt.$"] == "$$.State.RetryCount"


def test_timeout_parameter_becomes_the_task_timeout() -> None:
    run = _tasks(compile_graph(_graph(_node("a", _timeout=30)), RUNNER), "run")["a"]
    assert run["TimeoutSeconds"] == 90  # the operation's 30 s, plus time to upload its results


def test_long_or_chosen_operations_run_on_fargate() -> None:
    fargate = Fargate("arn:aws:ecs:us-east-1:123456789012:cluster/plynx", "plynx-runner:3", ("subnet-1",))
    slow = _node("slow", _timeout=3600)
    chosen = _node("chosen", "slow")
    chosen["parameters"].append({"name": "_placement", "parameter_type": "str", "value": "fargate"})
    quick = _node("quick", "slow")
    definition = compile_graph(_graph(slow, chosen, quick), RUNNER, fargate=fargate)
    tasks = {name: state for name, state in _walk(definition["States"]) if state["Type"] == "Task"}
    ecs = {name: state for name, state in tasks.items() if state["Resource"] == "arn:aws:states:::ecs:runTask.sync"}
    assert set(ecs) == {"Run slow", "Run chosen"}
    state = ecs["Run slow"]
    assert state["TimeoutSeconds"] == 3660
    params = state["Parameters"]
    assert params["LaunchType"] == "FARGATE" and params["Cluster"] == fargate.cluster
    assert params["TaskDefinition"] == "plynx-runner:3"
    assert params["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == ["subnet-1"]
    environment = {e["Name"]: e for e in params["Overrides"]["ContainerOverrides"][0]["Environment"]}
    assert environment["PLYNX_RUN_ID"] == {"Name": "PLYNX_RUN_ID", "Value.$": "$.run_id"}
    assert environment["PLYNX_NODE_ID"]["Value"] == "slow"
    assert {n for n in environment["PLYNX_NOTIFY"]["Value"].split(",") if n} <= {"chosen", "quick"}
    assert any(e.startswith("ECS.") for r in state["Retry"] for e in r["ErrorEquals"])
    # .sync ends at STOPPED whatever the exit code: a Choice turns a non-zero exit into the branch's failure
    assert state["ResultSelector"] == {"exited_0.$": "States.ArrayContains($.Containers[*].ExitCode, 0)"}
    check = next(s for n, s in _walk(definition["States"]) if n == state["Next"])
    assert check["Type"] == "Choice" and check["Choices"][0]["Variable"] == "$.fargate.exited_0"
    assert check["Choices"][0]["Next"] == "Fork slow"  # what it feeds runs forked after it
    failed = next(s for n, s in _walk(definition["States"]) if n == check["Default"])
    assert failed == {"Type": "Fail", "Error": "OperationFailed", "Cause": failed["Cause"]}
    assert tasks["Run quick"]["Resource"] == "arn:aws:states:::lambda:invoke"
    with pytest.raises(CompileError, match="Fargate"):
        compile_graph(_graph(_node("slow", _timeout=3600)), RUNNER)  # no cluster configured


def test_restored_operations_are_skipped_visibly() -> None:
    graph = _graph(_node("a"), _node("b", "a"), _node("c", "b"))
    definition = compile_graph(graph, RUNNER, restored=frozenset({"a", "b"}))
    assert sorted(_tasks(definition, "run")) == ["c"] and _tasks(definition, "wait") == {}
    passes = [s for name, s in definition["States"].items() if name.startswith("Restored from cache")]
    assert passes and passes[0]["Result"]["restored"] == ["a", "b"]
    everything = compile_graph(graph, RUNNER, restored=frozenset({"a", "b", "c"}))
    assert "Run operations" not in everything["States"]


def test_cycle_is_refused() -> None:
    with pytest.raises(CompileError, match="cycle"):
        compile_graph(_graph(_node("a", "b"), _node("b", "a")), RUNNER)


def test_dangling_reference_is_refused() -> None:
    with pytest.raises(CompileError, match="unknown"):
        compile_graph(_graph(_node("a", "ghost")), RUNNER)


def test_state_names_fit_the_80_character_limit() -> None:
    long_id = "x" * 200
    definition = compile_graph(_graph(_node(long_id), _node("b", long_id)), RUNNER)
    assert all(len(name) <= 80 for name, _ in _walk(definition["States"]))


def test_a_long_chain_compiles_without_recursion() -> None:
    chain = [_node("n0")] + [_node(f"n{i}", f"n{i - 1}") for i in range(1, 3000)]
    assert len(operation_levels(_graph(*chain))) == 3000
    program = compile_program(_graph(*chain), RUNNER, child_arn=lambda d: "arn:child")
    assert sum(len(_tasks(d, "run")) for d in [program.main, *program.children]) == 3000


def _layered(count: int, width: int = 50) -> dict:
    nodes = [_node(f"n{i:05d}", *(f"n{j:05d}" for j in range(max(0, i - width - 2), i - width + 1) if j >= 0))
             for i in range(count)]
    return _graph(*nodes)


def test_big_graphs_split_into_child_executions_under_quotas() -> None:
    names: dict[str, dict] = {}

    def child_arn(definition: dict) -> str:
        arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:child-{len(names)}"
        names[arn] = definition
        return arn

    program = compile_program(_layered(3000), RUNNER, child_arn=child_arn)
    assert len(program.children) >= 2
    starts = [s for _, s in _walk(program.main["States"])
              if s["Type"] == "Task" and s["Resource"] == "arn:aws:states:::states:startExecution.sync:2"]
    assert {s["Parameters"]["StateMachineArn"] for s in starts} == set(names)
    assert all(s["Parameters"]["Name.$"] == "States.UUID()" for s in starts)
    run_ids = [n for d in program.children for n in _tasks(d, "run")]
    assert sorted(run_ids) == sorted(f"n{i:05d}" for i in range(3000))  # each once, in one place
    for definition in [program.main, *program.children]:
        assert len(json.dumps(definition, separators=(",", ":"))) <= 1024 * 1024
    # a smaller budget splits sooner
    small = compile_program(_layered(60, width=5), RUNNER, child_arn=child_arn, limits=Limits(history_events=150))
    assert len(small.children) >= 3


def test_a_chain_over_an_executions_bytes_is_cut_shorter_until_it_fits() -> None:
    """max_chain counts operations; the bytes of a chain with its waits and forks are what must fit (a 10,000-node
    layered graph came out 909,740 bytes for one top-level chain of 1,000 under a 900,000 budget)."""
    limits = Limits(definition_bytes=60_000, max_chain=300)
    chain = _layered(300, width=1)
    whole = compile_program(chain, RUNNER, child_arn=lambda d: "arn:child", limits=Limits(max_chain=300))
    assert len(json.dumps(whole.main, separators=(",", ":"))) > 60_000  # one chain of 300 is over that budget
    program = compile_program(chain, RUNNER, child_arn=lambda d: f"arn:child-{id(d)}", limits=limits)
    assert len(program.children) >= 2
    for definition in program.children:
        assert len(json.dumps(definition, separators=(",", ":"))) <= 60_000
    run_ids = [n for d in program.children for n in _tasks(d, "run")]
    assert sorted(run_ids) == sorted(f"n{i:05d}" for i in range(300))
    with pytest.raises(CompileError, match="over an execution's limits"):  # not even 50 a chain fit: said so
        compile_program(chain, RUNNER, child_arn=lambda d: "arn:child", limits=Limits(definition_bytes=5_000))


def test_a_node_feeding_too_many_operations_is_refused_up_front() -> None:
    hub = "h" * 60
    nodes = [_node(hub)] + [_node(f"{i:060d}", hub) for i in range(4700)]  # 200 forked, 4,500 waiting
    with pytest.raises(CompileError, match="256 KB"):
        compile_program(_graph(*nodes), RUNNER, child_arn=lambda d: "arn:child")


def _composite(node_id: str, *deps: str, inner: list[dict]) -> dict:
    node = _node(node_id, *deps, base="graph")
    node["parameters"] = [{"name": "_nodes", "parameter_type": "list_node", "value": inner}]
    return node


def test_a_composite_runs_as_a_nested_execution_of_its_own_state_machine() -> None:
    inner = [_node("_in", base="_input"), _node("x", "_in"), _node("y", "_in"), _node("z", "x", "y"),
             _node("_out", "z", base="_output")]
    # x continues the deeper chain b0-b1-b2 and waits for c; d continues c's branch, e is forked after c
    graph = _graph(_node("a"), _composite("c", "a", inner=inner), _node("d", "c"), _node("e", "c"),
                   _node("b0"), _node("b1", "b0"), _node("b2", "b1"), _node("x", "c", "b2"))
    names: list[dict] = []
    program = compile_program(graph, RUNNER, child_arn=lambda d: names.append(d) or f"arn:child:{len(names)}")
    (nested,) = program.children
    task = next(s for _, s in _walk(program.main["States"]) if s.get("Resource", "").startswith("arn:aws:states:::states"))
    assert task["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert task["Parameters"]["StateMachineArn"] == "arn:child:1" and names == [nested]
    assert task["Parameters"]["Input"]["graph_id"] == "g1.c" and "Name.$" in task["Parameters"]
    # the nested program opens and closes its composite; its close releases the outer dependent `d`
    states = nested["States"]
    assert nested["StartAt"] == "Mark running" and states["Mark running"]["Next"] == "Run operations"
    assert states["Mark running"]["Parameters"]["Payload"]["action"] == "open"
    assert states["Mark running"]["Catch"][0]["Next"] == "Mark failed"
    close = states["Mark succeeded"]["Parameters"]["Payload"]
    assert (close["action"], close["parent_graph_id"], close["node_id"]) == ("close", "g1", "c")
    assert close["notify"] == ["x"]
    assert task["Next"] == "Fork c" and set(_tasks(program.main, "wait")) == {"x"}
    assert states["Mark failed"]["Parameters"]["Payload"]["status"] == "FAILED"
    # inside: only the operations run (not the special nodes); waits are keyed by the sub-graph
    payloads = [s["Parameters"]["Payload"] for _, s in _walk(states) if s.get("Type") == "Task"]
    assert sorted(p["node_id"] for p in payloads if p["action"] == "run") == ["x", "y", "z"]
    assert [p["node_id"] for p in payloads if p["action"] == "wait"] == ["g1.c/z"]
    assert any(p.get("notify") == ["g1.c/z"] for p in payloads if p["action"] == "run")


def test_a_composite_needs_child_naming_and_a_sub_graph_that_fits_one_execution() -> None:
    graph = _graph(_composite("c", inner=[_node("x"), _node("y", "x")]))
    with pytest.raises(CompileError, match="composite"):
        compile_graph(graph, RUNNER)
    big = _graph(_composite("c", inner=[_node(f"n{i}") for i in range(40)]))
    with pytest.raises(CompileError, match="composite operation `c`.*too big"):
        compile_program(big, RUNNER, child_arn=lambda d: "arn:child", limits=Limits(history_events=100))


def test_operations_the_caller_places_on_fargate_run_there() -> None:
    """`on_fargate`: the engine's choice at APPROVE (inputs too big for the runner Lambda's disk)."""
    from stepfunctions import Fargate, compile_graph

    first = {"_id": "a1", "base_node_name": "python", "title": "a", "inputs": [], "outputs": [{"name": "out"}],
             "parameters": []}
    second = {**first, "_id": "b2", "title": "b",
              "inputs": [{"name": "x", "values": [{"node_id": "a1", "output_id": "out"}]}]}
    fargate = Fargate("cluster", "task", ("subnet",), ())
    definition = compile_graph({"_id": "g" * 24, "nodes": [first, second]}, "runner", fargate=fargate,
                               on_fargate=frozenset({"b2"}))
    text = json.dumps(definition)
    assert text.count("arn:aws:states:::ecs:runTask.sync") == 1 and "lambda:invoke" in text
