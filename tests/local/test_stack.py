"""The local stack: embedded moto with Lambda Invoke served in-process, the API, the UI, persistence.

The in-process tests inject a tiny Chalice app and a fake runner handler (bootstrap=False, so
chalicelib is not imported here); one subprocess test runs ``python -m infra.local`` end to end.
"""
from __future__ import annotations

import configparser
import gc
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from chalice import Chalice

from infra.local import snapshot
from infra.local.lambda_front import parse_function_name
from infra.local.stack import REPO_ROOT, free_port, running_stack, start_stack

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/plynx-state-machine"
RUNNER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:plynx-runner"


def make_app() -> Chalice:
    app = Chalice(app_name="plynx-test")

    @app.route("/plynx/api/v0/ping")
    def ping() -> dict:
        return {"pong": True}

    return app


class RunnerError(Exception):
    pass


class Runner:
    """A fake runner: echoes, fails on demand, sleeps, or blocks until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.contexts: list = []

    def __call__(self, event: dict, context) -> dict:
        self.contexts.append(context)
        if event.get("fail"):
            raise RunnerError(f"node {event.get('node')} failed")
        if event.get("sleep"):
            time.sleep(event["sleep"])
        if event.get("block"):
            self.release.wait(30)
        return {"echo": event, "function": context.function_name}


def client(service: str, stack):
    return boto3.session.Session().client(
        service,
        region_name=REGION,
        endpoint_url=stack.moto_url,
        aws_access_key_id=stack.credentials[0],  # the control plane's key: moto refuses others
        aws_secret_access_key=stack.credentials[1],
        config=Config(retries={"max_attempts": 1}),
    )


def run_to_end(sfn, state_machine_arn: str, name: str, payload: dict | None = None, timeout: float = 10) -> dict:
    execution_arn = sfn.start_execution(
        stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload or {})
    )["executionArn"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        time.sleep(0.02)
    raise AssertionError(f"{name} still running after {timeout} s")


def parallel_machine(sfn, name: str, width: int) -> str:
    """A state machine of one Parallel state whose `width` branches each invoke the runner once; its ARN."""
    branches = [{"StartAt": f"N{i}", "States": {f"N{i}": lambda_task("plynx-runner", {"node": i}, End=True)}}
                for i in range(width)]
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": branches, "End": True}}}
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE_ARN)["stateMachineArn"]


def lambda_task(function_name: str, payload: dict, **extra) -> dict:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_name, "Payload": payload},
        "ResultSelector": {"out.$": "$.Payload"},
        **extra,
    }


def http_get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="class")
def runner() -> Runner:
    return Runner()


@pytest.fixture(scope="class")
def stack(tmp_path_factory, runner):
    """One stack for the tests of TestRunningStack (one stack per process at a time)."""
    data_dir = tmp_path_factory.mktemp("stack-data")
    with start_stack(
        free_port(), free_port(), free_port(), str(data_dir), app=make_app(), lambda_handler=runner, bootstrap=False
    ) as running:
        yield running


class TestRunningStack:
    """Tests that share one running stack: (i) state machines against the embedded moto, (iii) UI, API."""

    def test_lambda_task_and_catch_on_error_type(self, stack, runner):
        sfn = client("stepfunctions", stack)
        definition = {
            "StartAt": "Run",
            "States": {
                "Run": lambda_task(RUNNER_ARN, {"node": "a", "x.$": "$.x"}, ResultPath="$.run", Next="Fail"),
                "Fail": lambda_task(
                    "plynx-runner",
                    {"node": "b", "fail": True},
                    Catch=[{"ErrorEquals": ["RunnerError"], "ResultPath": "$.error", "Next": "Recovered"}],
                    Next="NotReached",
                ),
                "NotReached": {"Type": "Fail", "Error": "NotReached"},
                "Recovered": {"Type": "Pass", "End": True},
            },
        }
        arn = sfn.create_state_machine(name="catch", definition=json.dumps(definition), roleArn=ROLE_ARN)[
            "stateMachineArn"
        ]
        result = run_to_end(sfn, arn, "catch-1", {"x": 41})
        assert result["status"] == "SUCCEEDED", result
        output = json.loads(result["output"])
        assert output["run"]["out"] == {"echo": {"node": "a", "x": 41}, "function": "plynx-runner"}
        assert output["error"]["Error"] == "RunnerError"
        cause = json.loads(output["error"]["Cause"])
        assert cause["errorType"] == "RunnerError"
        assert cause["errorMessage"] == "node b failed"
        assert cause["stackTrace"] and "lambda_front.py" not in cause["stackTrace"][0]
        context = runner.contexts[-1]
        assert context.function_name == "plynx-runner"
        assert context.aws_request_id
        assert 0 < context.get_remaining_time_in_millis() <= 900_000

        history = sfn.get_execution_history(executionArn=result["executionArn"], maxResults=1000)["events"]
        assert any(event["type"] == "TaskFailed" for event in history)


    def test_uncaught_error_fails_the_execution_and_retry_runs_again(self, stack, runner):
        sfn = client("stepfunctions", stack)
        definition = {
            "StartAt": "Fail",
            "States": {
                "Fail": lambda_task(
                    "plynx-runner",
                    {"fail": True},
                    Retry=[{"ErrorEquals": ["RunnerError"], "IntervalSeconds": 1, "MaxAttempts": 1, "BackoffRate": 1}],
                    End=True,
                )
            },
        }
        arn = sfn.create_state_machine(name="uncaught", definition=json.dumps(definition), roleArn=ROLE_ARN)[
            "stateMachineArn"
        ]
        before = len(runner.contexts)
        result = run_to_end(sfn, arn, "uncaught-1")
        assert result["status"] == "FAILED"
        assert result["error"] == "RunnerError"
        assert len(runner.contexts) - before == 2  # first attempt + one retry


    def test_parallel_branches_invoke_concurrently(self, stack):
        sfn = client("stepfunctions", stack)
        branches = [
            {"StartAt": f"N{i}", "States": {f"N{i}": lambda_task("plynx-runner", {"node": i, "sleep": 0.5}, End=True)}}
            for i in range(8)
        ]
        definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": branches, "End": True}}}
        arn = sfn.create_state_machine(name="parallel", definition=json.dumps(definition), roleArn=ROLE_ARN)[
            "stateMachineArn"
        ]
        started = time.monotonic()
        result = run_to_end(sfn, arn, "parallel-1")
        elapsed = time.monotonic() - started
        assert result["status"] == "SUCCEEDED", result
        assert [item["out"]["echo"]["node"] for item in json.loads(result["output"])] == list(range(8))
        assert elapsed < 2.0, f"8 branches of 0.5 s took {elapsed:.2f} s: invocations are not concurrent"


    def test_start_execution_sync_integration(self, stack):
        """states:startExecution.sync:2 works thanks to the parameter-casing patch."""
        sfn = client("stepfunctions", stack)
        child = {"StartAt": "C", "States": {"C": lambda_task("plynx-runner", {"child.$": "$.n"}, End=True)}}
        child_arn = sfn.create_state_machine(name="child", definition=json.dumps(child), roleArn=ROLE_ARN)[
            "stateMachineArn"
        ]
        parent = {
            "StartAt": "Start",
            "States": {
                "Start": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::states:startExecution.sync:2",
                    "Parameters": {"StateMachineArn": child_arn, "Input": {"n": 7}, "Name.$": "States.UUID()"},
                    "End": True,
                }
            },
        }
        arn = sfn.create_state_machine(name="parent", definition=json.dumps(parent), roleArn=ROLE_ARN)[
            "stateMachineArn"
        ]
        result = run_to_end(sfn, arn, "parent-1")
        assert result["status"] == "SUCCEEDED", result
        output = json.loads(result["output"])
        assert output["Status"] == "SUCCEEDED"
        assert output["Output"]["out"]["echo"] == {"child": 7}
        assert isinstance(output["StartDate"], int)


    def test_lambda_invoke_api_directly(self, stack):
        lam = client("lambda", stack)
        ok = lam.invoke(FunctionName="plynx-runner", Payload=json.dumps({"a": 1}))
        assert ok["StatusCode"] == 200 and "FunctionError" not in ok
        assert json.loads(ok["Payload"].read()) == {"echo": {"a": 1}, "function": "plynx-runner"}

        failed = lam.invoke(FunctionName=RUNNER_ARN, Payload=json.dumps({"fail": True, "node": "z"}))
        assert failed["FunctionError"] == "Unhandled"
        body = json.loads(failed["Payload"].read())
        assert body["errorType"] == "RunnerError" and body["errorMessage"] == "node z failed"

        queued = lam.invoke(FunctionName="plynx-runner", InvocationType="Event", Payload=b"{}")
        assert queued["StatusCode"] == 202


    def test_ui_serves_index_config_and_spa_fallback(self, stack):
        status, headers, body = http_get(stack.ui_url + "/")
        assert status == 200 and b"<title>PLynx</title>" in body
        status, headers, body = http_get(stack.ui_url + "/config.json")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert json.loads(body) == {"api_url": f"http://localhost:{stack.api_port}/plynx/api/v0"}
        status, _, body = http_get(stack.ui_url + "/graphs/0123abcd")  # a client-side route
        assert status == 200 and b"<title>PLynx</title>" in body
        status, _, _ = http_get(stack.ui_url + "/assets/missing.js")
        assert status == 404


    def test_api_serves_the_app(self, stack):
        status, _, body = http_get(stack.api_url + "/ping")
        assert status == 200 and json.loads(body) == {"pong": True}

    def test_one_stack_per_process(self, stack):
        with pytest.raises(RuntimeError, match="already running"):
            start_stack(free_port(), free_port(), free_port(), None, app=make_app(), bootstrap=False)
        assert running_stack() is stack

    def test_the_interpreter_keeps_no_finished_threads(self, stack):
        """moto's interpreter appends each thread it starts (execution, Task, Parallel branch) to TMP_THREADS,
        which nothing empties: a long-running stack kept them all. With the stack's patch, none is kept."""
        import importlib

        from infra.local import patches

        sfn = client("stepfunctions", stack)
        arn = parallel_machine(sfn, "threads", 3)
        assert run_to_end(sfn, arn, "threads-1")["status"] == "SUCCEEDED"
        for name in ("moto.stepfunctions.parser.utils", *patches._THREAD_LISTERS):
            kept = importlib.import_module(name).TMP_THREADS
            assert isinstance(kept, list) and len(kept) == 0, name

    def test_programs_run_in_the_thread_that_waits_for_them(self, stack, monkeypatch):
        """A program with no TimeoutSeconds (an execution's, a branch's) is evaluated in the thread that would
        only have joined its own (infra/local/fast_paths.py, 16): each branch still runs in a thread of its own."""
        from infra.local import patches

        started: list[tuple[str, str]] = []
        real_start = threading.Thread.start

        def start(thread: threading.Thread) -> None:
            started.append((thread.name, getattr(getattr(thread, "_target", None), "__qualname__", "")))
            real_start(thread)

        sfn = client("stepfunctions", stack)
        arn = parallel_machine(sfn, "inline", 3)
        monkeypatch.setattr(threading.Thread, "start", start)
        result = run_to_end(sfn, arn, "inline-1")
        monkeypatch.undo()
        assert result["status"] == "SUCCEEDED", result
        assert [item["out"]["echo"]["node"] for item in json.loads(result["output"])] == [0, 1, 2]
        targets = [target for _, target in started]
        assert ("EvalComponent.eval" in targets) is not patches.FAST, started  # PLYNX_LOCAL_FAST=0: moto's own
        assert targets.count("BranchWorker._thread_routine") == 3, started

    def test_a_machine_with_timeout_seconds_still_times_out(self, stack):
        sfn = client("stepfunctions", stack)
        definition = {"StartAt": "Slow", "TimeoutSeconds": 1,
                      "States": {"Slow": lambda_task("plynx-runner", {"node": "slow", "sleep": 8}, End=True)}}
        arn = sfn.create_state_machine(name="timeout", definition=json.dumps(definition), roleArn=ROLE_ARN)[
            "stateMachineArn"
        ]
        started = time.monotonic()
        result = run_to_end(sfn, arn, "timeout-1")
        assert result["status"] == "TIMED_OUT", result
        assert time.monotonic() - started < 7.0  # at its 1 s limit, not when the 8 s task ends

    def test_interpreter_reuses_boto_clients_while_running(self, stack):
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        assert lambda_eval_utils.boto_client_for("us-east-1", "lambda") is lambda_eval_utils.boto_client_for(
            "us-east-1", "lambda"
        )


def test_patches_are_undone_at_stop():
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn

    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    original = lambda_eval_utils.boto_client_for
    threads = execute_state.TMP_THREADS
    with start_stack(free_port(), free_port(), free_port(), None, app=make_app(), bootstrap=False) as running:
        assert lambda_eval_utils.boto_client_for.__wrapped__ is original
        assert execute_state.TMP_THREADS is not threads
        assert "_normalise_parameters" in vars(state_task_service_sfn.StateTaskServiceSfn)
        assert os.environ["MOTO_PORT"] == str(running.moto_port)
    assert lambda_eval_utils.boto_client_for is original
    assert execute_state.TMP_THREADS is threads
    assert "_normalise_response" not in vars(state_task_service_sfn.StateTaskServiceSfn)
    assert running_stack() is None


@pytest.mark.parametrize(
    "raw, name",
    [
        ("plynx-runner", "plynx-runner"),
        ("plynx-runner:$LATEST", "plynx-runner"),
        (RUNNER_ARN, "plynx-runner"),
        ("arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aplynx-runner", "plynx-runner"),
        (f"{RUNNER_ARN}:live", "plynx-runner"),
        (f"{ACCOUNT}:function:plynx-runner", "plynx-runner"),
    ],
)
def test_function_names(raw, name):
    assert parse_function_name(raw)[0] == name


# -- (ii) persistence ----------------------------------------------------------------------------------


def test_restart_keeps_s3_dynamodb_iam_and_executions(tmp_path):
    data_dir = str(tmp_path / "data")
    runner = Runner()
    big = os.urandom(3 * 1024 * 1024) + b"tail"
    first = start_stack(
        free_port(), free_port(), free_port(), data_dir, app=make_app(), lambda_handler=runner, bootstrap=False
    )
    try:
        s3, ddb, iam, sfn = (client(name, first) for name in ("s3", "dynamodb", "iam", "stepfunctions"))
        s3.create_bucket(Bucket="artifacts")
        s3.put_object(Bucket="artifacts", Key="small", Body=b"hello")
        s3.put_object(Bucket="artifacts", Key="big", Body=big)
        ddb.create_table(
            TableName="things",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName="things", Item={"id": {"S": "a"}, "n": {"N": "1"}, "doc": {"M": {"k": {"S": "v"}}}})
        iam.create_role(RoleName="plynx-state-machine", AssumeRolePolicyDocument="{}")
        definition = {"StartAt": "R", "States": {"R": lambda_task("plynx-runner", {"block.$": "$.block"}, End=True)}}
        arn = sfn.create_state_machine(name="persisted", definition=json.dumps(definition), roleArn=ROLE_ARN)[
            "stateMachineArn"
        ]
        runner.release.set()
        done = run_to_end(sfn, arn, "done", {"block": False})
        assert done["status"] == "SUCCEEDED"
        runner.release.clear()
        running_arn = sfn.start_execution(stateMachineArn=arn, name="interrupted", input='{"block": true}')[
            "executionArn"
        ]
        deadline = time.monotonic() + 5
        while len(runner.contexts) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        first.stop()
        runner.release.set()
    assert os.path.exists(first.snapshot_path)

    second = start_stack(
        free_port(), free_port(), free_port(), data_dir, app=make_app(), lambda_handler=runner, bootstrap=False
    )
    try:
        assert second.restored
        s3, ddb, iam, sfn = (client(name, second) for name in ("s3", "dynamodb", "iam", "stepfunctions"))
        assert s3.get_object(Bucket="artifacts", Key="small")["Body"].read() == b"hello"
        assert s3.get_object(Bucket="artifacts", Key="big")["Body"].read() == big
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="artifacts")["Contents"]] == ["big", "small"]
        item = ddb.get_item(TableName="things", Key={"id": {"S": "a"}})["Item"]
        assert item == {"id": {"S": "a"}, "n": {"N": "1"}, "doc": {"M": {"k": {"S": "v"}}}}
        assert iam.get_role(RoleName="plynx-state-machine")["Role"]["Arn"] == ROLE_ARN

        executions = {e["name"]: e for e in sfn.list_executions(stateMachineArn=arn)["executions"]}
        assert executions["done"]["status"] == "SUCCEEDED"
        history = sfn.get_execution_history(executionArn=done["executionArn"])["events"]
        assert history[0]["type"] == "ExecutionStarted" and history[-1]["type"] == "ExecutionSucceeded"
        interrupted = sfn.describe_execution(executionArn=running_arn)
        assert interrupted["status"] == "ABORTED"
        assert interrupted["error"] == snapshot.RESTART_ERROR

        # The restored backends keep working: new executions and writes.
        again = run_to_end(sfn, arn, "after-restart", {"block": False})
        assert again["status"] == "SUCCEEDED"
        ddb.put_item(TableName="things", Item={"id": {"S": "b"}})
        assert ddb.scan(TableName="things")["Count"] == 2
    finally:
        second.stop()


def test_periodic_snapshot_saves_only_after_changes(tmp_path):
    data_dir = str(tmp_path / "data")
    stack = start_stack(
        free_port(),
        free_port(),
        free_port(),
        data_dir,
        app=make_app(),
        lambda_handler=Runner(),
        bootstrap=False,
        snapshot_interval=0.1,
    )
    try:
        s3 = client("s3", stack)
        time.sleep(0.3)
        idle_saves = stack.snapshot_saves
        s3.list_buckets()  # a read changes nothing
        time.sleep(0.3)
        assert stack.snapshot_saves == idle_saves
        s3.create_bucket(Bucket="periodic")
        s3.put_object(Bucket="periodic", Key="k", Body=b"v")
        # A save may land between the two writes; wait for one taken after both.
        deadline = time.monotonic() + 5
        while True:
            keys = {}
            if stack.snapshot_saves > idle_saves:
                with open(stack.snapshot_path, "rb") as stream:
                    state = pickle.load(stream)  # the file on disk, taken while the stack runs
                bucket = state["backends"]["s3"][ACCOUNT]["aws"].buckets.get("periodic")
                keys = bucket.keys if bucket else {}
            if "k" in keys or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert stack.snapshot_saves > idle_saves
        assert keys["k"].value == b"v"
    finally:
        stack.stop()


def test_unreadable_snapshot_is_reported_and_left_alone(tmp_path):
    snapshot_file = tmp_path / snapshot.SNAPSHOT_FILE
    snapshot_file.write_bytes(b"not a pickle")
    with pytest.raises(RuntimeError, match="move it away"):
        start_stack(free_port(), free_port(), free_port(), str(tmp_path), app=make_app(), bootstrap=False)
    assert snapshot_file.read_bytes() == b"not a pickle"
    assert running_stack() is None
    assert gc.isenabled()  # start-up builds without the collector (stack.py), and gives it back on failure too


def test_start_up_collects_once_then_gives_the_collector_back():
    seen: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "stop":
            seen.append(info["generation"])

    gc.callbacks.append(count)
    try:
        with start_stack(free_port(), free_port(), free_port(), None, app=make_app(), bootstrap=False):
            started = list(seen)
            assert gc.isenabled()
    finally:
        gc.callbacks.remove(count)
    assert started.count(2) == 1  # the one full collection before the freeze, none while it was built


# -- python -m infra.local --------------------------------------------------------------------------


def test_main_runs_bootstraps_and_stops_cleanly_on_sigterm(tmp_path):
    """The real entry point, in a subprocess (fresh chalicelib import), with a stand-in app.py."""
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """
            from chalice import Chalice
            app = Chalice(app_name="plynx")

            @app.route("/plynx/api/v0/ping")
            def ping():
                return {"pong": True}

            def schedule_fired(event, context):  # the stack's firer calls it, as EventBridge Scheduler would
                return None
            """
        )
    )
    ports = {"PLYNX_API_PORT": free_port(), "PLYNX_UI_PORT": free_port(), "PLYNX_MOTO_PORT": free_port()}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PLYNX_", "AWS_", "MOTO_"))},
        **{k: str(v) for k, v in ports.items()},
        "PLYNX_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": REPO_ROOT,
    }
    # cwd first on sys.path: the stand-in app.py is imported instead of the repository's.
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        banner = "".join(lines)
        assert "PLynx local stack is up" in banner, banner
        assert f"http://localhost:{ports['PLYNX_UI_PORT']}" in banner
        assert f"curl -u default: http://localhost:{ports['PLYNX_API_PORT']}/plynx/api/v0/graphs/new" in banner

        status, _, body = http_get(f"http://127.0.0.1:{ports['PLYNX_API_PORT']}/plynx/api/v0/ping")
        assert status == 200 and json.loads(body) == {"pong": True}
        status, _, body = http_get(f"http://127.0.0.1:{ports['PLYNX_UI_PORT']}/config.json")
        assert json.loads(body)["api_url"] == f"http://localhost:{ports['PLYNX_API_PORT']}/plynx/api/v0"

        moto = f"http://127.0.0.1:{ports['PLYNX_MOTO_PORT']}"
        # the stack's own key, from the credentials file it writes for the local CLIs (others are refused)
        credentials = tmp_path / "data" / "aws-credentials"
        assert oct(credentials.stat().st_mode & 0o777) == "0o600"
        refused = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)
        try:
            refused.client("dynamodb", endpoint_url=moto).list_tables()
            raise AssertionError("made-up keys were accepted")
        except ClientError as exc:
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        key = configparser.ConfigParser()
        key.read(credentials)
        session = boto3.session.Session(aws_access_key_id=key["default"]["aws_access_key_id"],
                                        aws_secret_access_key=key["default"]["aws_secret_access_key"],
                                        region_name=REGION)
        tables = session.client("dynamodb", endpoint_url=moto).list_tables()["TableNames"]
        assert "plynx-graphs" in tables and "plynx-nodes" in tables
        session.client("s3", endpoint_url=moto).head_bucket(Bucket="plynx-artifacts")
        assert session.client("iam", endpoint_url=moto).get_role(RoleName="plynx-state-machine")

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
        assert process.returncode == 0, banner + output
        assert "state saved" in output
        assert os.path.exists(tmp_path / "data" / snapshot.SNAPSHOT_FILE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
