"""Lambda Tasks reach the local front in-process: the same answers as over HTTP, without the HTTP."""
from __future__ import annotations

import json

import pytest

from infra.local import lambda_front
from infra.local.stack import free_port, start_stack
from tests.local.test_stack import ROLE_ARN, Runner, client, lambda_task, make_app, run_to_end


def test_lambda_tasks_are_served_without_http(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = Runner()
    over_http: list[str] = []
    invoke = lambda_front.LambdaFront._invoke
    monkeypatch.setattr(lambda_front.LambdaFront, "_invoke",
                        lambda self, name, *rest: over_http.append(name) or invoke(self, name, *rest))
    with start_stack(free_port(), free_port(), free_port(), None, app=make_app(), lambda_handler=runner,
                     bootstrap=False) as stack:
        sfn = client("stepfunctions", stack)
        definition = {"StartAt": "Ok", "States": {
            "Ok": lambda_task("plynx-runner", {"n.$": "$.n"}, ResultPath="$.ok", Next="Fails"),
            "Fails": lambda_task("plynx-runner", {"fail": True},
                                 Catch=[{"ErrorEquals": ["RunnerError"], "ResultPath": "$.error", "Next": "Done"}],
                                 Next="Done"),
            "Done": {"Type": "Pass", "End": True}}}
        arn = sfn.create_state_machine(name="direct", definition=json.dumps(definition), roleArn=ROLE_ARN)[
            "stateMachineArn"]
        result = run_to_end(sfn, arn, "direct-1", {"n": 7})
        direct = client("lambda", stack).invoke(FunctionName="plynx-runner", Payload=b'{"n": 8}')
        changes = stack.lambda_front.changes
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["ok"]["out"] == {"echo": {"n": 7}, "function": "plynx-runner"}
    assert json.loads(output["error"]["Cause"])["errorType"] == "RunnerError"
    assert json.loads(direct["Payload"].read()) == {"echo": {"n": 8}, "function": "plynx-runner"}
    assert over_http == ["plynx-runner"]  # only the test's own boto3 call came over HTTP
    assert stack.lambda_front.invocations["None"] == 3 and changes >= 3
