"""Try needs no permission of its own: every SDK call the API makes to start a trial (POST /nodes/try: the
trial's graph saved, its inputs checked, its preparation invoked, which creates and starts its state machine
with the API's policy too) and to expire one (records,
nodes, header, state machine deleted) is recorded and checked against the API's policy (.chalice/policy-*.json)."""
from __future__ import annotations

import secrets
import time
from typing import Any

from tests.helpers import operation
from tests.infra import iam
from tests.infra.test_gc_policy import MACHINES, _api, _gc_requests
from tests.infra.test_runner_policy import Recorder, _local_to_stage, recorder  # noqa: F401

TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def _trial_requests(service: str, operation_name: str, params: dict[str, Any]) -> list[iam.Request]:
    origin = f"{service}.{operation_name}"
    if service == "dynamodb" and operation_name == "TransactWriteItems":  # IAM authorises each item's action
        return [iam.Request(f"dynamodb:{TRANSACT[kind]}", f"arn:aws:dynamodb:{iam.REGION}:{iam.ACCOUNT}:table/"
                            f"{_local_to_stage(body['TableName'])}", origin=origin)
                for item in params["TransactItems"] for kind, body in item.items()]
    if service == "stepfunctions" and operation_name == "CreateStateMachine":
        return [iam.Request("states:CreateStateMachine", f"{MACHINES}:{params['name']}", origin=origin),
                iam.Request("iam:PassRole", iam.Template("dev").arn("StateMachineRole"),
                            (("iam:PassedToService", "states.amazonaws.com"),), origin=origin)]
    if service == "lambda" and operation_name == "Invoke":  # the API starting the run's preparation
        name = params["FunctionName"].rsplit(":", 1)[-1]
        staged = "plynx-dev-" + name[len("plynx-"):] if name.startswith("plynx-") else name
        return [iam.Request("lambda:InvokeFunction", f"arn:aws:lambda:{iam.REGION}:{iam.ACCOUNT}:function:{staged}",
                            origin=origin)]
    return _gc_requests(service, operation_name, params)


def test_every_call_of_a_trial_and_of_its_expiry_is_granted(api, recorder: Recorder) -> None:  # noqa: F811
    from chalicelib.api import trials
    from chalicelib.engine import trials as trial_store

    data = api.upload(f"policy {time.time()}".encode(), "trial policy")["outputs"][0]["resource_id"]
    draft = operation("python", "trial policy", "print(open(inputs['in']).read())\n",
                      inputs=[{"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}],
                      params={"n": secrets.token_hex(4)})
    from chalicelib.store.settings import SETTINGS

    # the run's preparation (app.prepare_run, which has the API's policy) is served on a thread of the stack
    recorder.also = (f"lambda-event-{SETTINGS.prepare_function}",)
    recorder.calls.clear()
    started = [trials.try_node({"node": draft, "inputs": {"in": data}}, "default") for _ in range(2)]
    for body in started:
        deadline = time.monotonic() + 60
        while api.ok("get", f"trials/{body['trial_id']}")["data"]["run_status"] not in ("SUCCESS", "FAILED"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert trial_store.expire("default", keep=1) >= 1
    requests = [r for call in recorder.calls for r in _trial_requests(*call)]
    assert {"stepfunctions.CreateStateMachine", "stepfunctions.StartExecution", "stepfunctions.DeleteStateMachine",
            "lambda.Invoke", "dynamodb.TransactWriteItems", "dynamodb.DeleteItem", "dynamodb.Query", "s3.HeadObject"} <= {
        r.origin for r in requests}, sorted({r.origin for r in requests})
    statements = _api("dev")
    refused = sorted({(r.origin, r.action, r.resource) for r in requests if iam.decide(statements, r) != "allow"})
    assert not refused, f"the API's policy refuses calls a trial makes: {refused}"
