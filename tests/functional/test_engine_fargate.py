"""Operations placed on Fargate (a parameter, or a timeout over Lambda's 15 minutes) run through
`ecs:runTask.sync`; locally the stack runs the Fargate entry point (`python -m runners`) for it."""
from __future__ import annotations

import json

from tests.helpers import by_title, graph, instance, log_id, operation, output_id

ONE = {"file_types": ["file"], "min_count": 1, "max_count": 1}


def _run(api, nodes: list[dict], title: str) -> tuple[dict, str]:
    body = api.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE", "APPROVE"]})
    assert body["status"] == "SUCCESS", body.get("validation_error")
    return api.wait(body["graph"]["_id"], timeout=120), body["graph"]["_id"]


def _definition(stack, graph_id: str) -> dict:
    import boto3

    from chalicelib.store.models import GraphModel

    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_url, region_name="us-east-1")
    arn = GraphModel.get(graph_id).state_machine_arn
    return json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])


def _resources(definition: dict) -> dict[str, str]:
    found = {}
    for branch in definition["States"]["Run operations"]["Branches"]:
        for name, state in branch["States"].items():
            if state["Type"] == "Task":
                found[name] = state["Resource"]
    return found


def test_long_and_chosen_operations_run_on_fargate_and_feed_lambda_ones(api, stack, shared_tmp) -> None:
    long_op = operation("bash_jinja2", "long", "echo long > {{ outputs.out }}\n", outputs=["out"],
                        params={"_timeout": 3600, "salt": str(shared_tmp)})
    chosen_op = operation("python", "chosen", "open(outputs['out'], 'w').write(open(inputs['x']).read().upper())\n",
                          inputs=[{"name": "x", **ONE}], outputs=["out"],
                          params={"_placement": "fargate", "salt": str(shared_tmp)})
    quick_op = operation("python", "quick", "open(outputs['out'], 'w').write(open(inputs['x']).read() + '!')\n",
                         inputs=[{"name": "x", **ONE}], outputs=["out"], params={"salt": str(shared_tmp)})
    long_node = instance(api.save_operation(long_op))
    chosen = instance(api.save_operation(chosen_op), x=[(long_node, "out")])
    quick = instance(api.save_operation(quick_op), x=[(chosen, "out")])
    result, graph_id = _run(api, [long_node, chosen, quick], "fargate")
    assert result["graph_running_status"] == "SUCCESS", result.get("error")
    assert api.resource(output_id(by_title(result, "quick"), "out")) == b"LONG\n!"
    assert "JOB SUCCEEDED" in api.resource(log_id(by_title(result, "long"), "worker")).decode()
    resources = _resources(_definition(stack, graph_id))
    assert resources[f"Run {long_node['_id']}"] == "arn:aws:states:::ecs:runTask.sync"
    assert resources[f"Run {chosen['_id']}"] == "arn:aws:states:::ecs:runTask.sync"
    assert resources[f"Run {quick['_id']}"] == "arn:aws:states:::lambda:invoke"


def test_a_failing_fargate_operation_fails_the_graph(api, shared_tmp) -> None:
    bad = operation("bash_jinja2", "bad on fargate", "echo broken >&2; exit 4\n", outputs=["out"],
                    params={"_placement": "fargate", "salt": str(shared_tmp)})
    after = operation("python", "after", "open(outputs['out'], 'w').write('x')\n", inputs=[{"name": "x", **ONE}],
                      outputs=["out"], params={"salt": str(shared_tmp)})
    bad_node = instance(api.save_operation(bad))
    result, _ = _run(api, [bad_node, instance(api.save_operation(after), x=[(bad_node, "out")])], "fargate fails")
    assert result["graph_running_status"] == "FAILED"
    assert by_title(result, "bad on fargate")["node_running_status"] == "FAILED"
    assert api.resource(log_id(by_title(result, "bad on fargate"), "stderr")) == b"broken\n"
    assert by_title(result, "after")["node_running_status"] == "CANCELED"


def _runner_processes(node_id: str) -> list[int]:
    """Pids of `python -m runners` processes (the local Fargate tasks) running node_id."""
    import os

    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as handle:
                environment = handle.read().split(b"\0")
        except OSError:
            continue
        if b"runners" in command and f"PLYNX_NODE_ID={node_id}".encode() in environment:
            found.append(int(pid))
    return found


def test_kill_9_of_the_runner_process_leaves_failed_not_running(api, shared_tmp) -> None:
    import os
    import signal
    import time

    pid_file = shared_tmp / "pid"
    op = operation("python", "orphaned", "import os, time\nopen(params['pid'], 'w').write(str(os.getpid()))\n"
                   "time.sleep(60)\n", params={"pid": str(pid_file), "_placement": "fargate"})
    node = instance(api.save_operation(op))
    body = api.ok("post", "graphs", json={"graph": graph("kill the runner", [node]), "actions": ["SAVE", "APPROVE"]})
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    runners = _runner_processes(node["_id"])
    assert runners
    for pid in runners:
        os.kill(pid, signal.SIGKILL)  # the runner dies without recording anything
    orphan = int(pid_file.read_text())  # its operation is not left running: the zygote sees the runner gone
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{orphan}"):
        assert time.monotonic() < deadline, "the operation outlived its runner"
        time.sleep(0.05)
    result = api.wait(body["graph"]["_id"], timeout=60)
    assert result["graph_running_status"] == "FAILED"
    assert by_title(result, "orphaned")["node_running_status"] == "FAILED"


def test_an_operation_whose_known_inputs_do_not_fit_the_lambdas_disk_goes_to_fargate(api, stack, shared_tmp,
                                                                                  monkeypatch) -> None:
    """Inputs known at APPROVE (here a restored operation's output) over the runner Lambda's ephemeral storage
    (as the template tells the API) place an automatic operation on Fargate; a chosen `_placement` stays."""
    make = operation("python", "make 12 MiB", "open(outputs['out'], 'wb').write(b'z' * (12 << 20))\n",
                     outputs=["out"], params={"salt": str(shared_tmp)})
    count = "open(outputs['out'], 'w').write(str(len(open(inputs['x'], 'rb').read())))\n"
    auto = operation("python", "auto", count, inputs=[{"name": "x", **ONE}], outputs=["out"],
                     params={"salt": str(shared_tmp)})
    kept = operation("python", "kept", count, inputs=[{"name": "x", **ONE}], outputs=["out"],
                     params={"salt": str(shared_tmp), "_placement": "lambda"})
    make_op, auto_op, kept_op = api.save_operation(make), api.save_operation(auto), api.save_operation(kept)
    first = instance(make_op)
    result, _ = _run(api, [first], "make it")  # cached: its output is known at the next APPROVE
    assert result["graph_running_status"] == "SUCCESS", result.get("error")
    monkeypatch.setenv("PLYNX_LAMBDA_RUNNER_STORAGE_MB", "72")  # 8 MB for inputs on Lambda, as the API is told
    again = instance(make_op)
    nodes = [again, instance(auto_op, x=[(again, "out")]), instance(kept_op, x=[(again, "out")])]
    result, graph_id = _run(api, nodes, "too big for lambda")
    assert result["graph_running_status"] == "SUCCESS", result.get("error")
    assert by_title(result, "make 12 MiB")["node_running_status"] == "RESTORED"
    assert api.resource(output_id(by_title(result, "auto"), "out")) == str(12 << 20).encode()
    resources = _resources(_definition(stack, graph_id))
    assert resources[f"Run {nodes[1]['_id']}"] == "arn:aws:states:::ecs:runTask.sync"
    assert resources[f"Run {nodes[2]['_id']}"] == "arn:aws:states:::lambda:invoke"  # the user's choice
    monkeypatch.setenv("PLYNX_LAMBDA_RUNNER_STORAGE_MB", "80")  # 16 MB: it fits, and stays on Lambda
    again = instance(make_op)
    nodes = [again, instance(auto_op, x=[(again, "out")])]
    nodes[1]["parameters"].append({"name": "round", "parameter_type": "int", "value": 2})  # not a cache hit
    result, graph_id = _run(api, nodes, "fits on lambda")
    assert result["graph_running_status"] == "SUCCESS", result.get("error")
    assert _resources(_definition(stack, graph_id))[f"Run {nodes[1]['_id']}"] == "arn:aws:states:::lambda:invoke"
