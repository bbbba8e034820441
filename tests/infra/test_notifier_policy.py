"""The notifier's role (infra/cloudformation: NotifierRole) grants what the sender does and nothing of the
control plane; the API may subscribe addresses to the stage's notification topic and nothing more of SNS;
the rule that feeds the notifier matches every end of a PLynx execution and only those."""
from __future__ import annotations

import pytest

from chalicelib.engine import notifications
from tests.infra import iam

TEMPLATE = iam.Template("dev")
TOPIC = TEMPLATE.arn("NotifyTopic")
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:plynx-g-1:run-1"


def _table(logical_id: str) -> str:
    return TEMPLATE.arn(logical_id)


def _notifier() -> list[dict]:
    return TEMPLATE.role_statements("NotifierRole")


# every call runners/notifier.py makes (chalicelib/engine/notifications.py: run_ended, send_email, _run_of)
SENDS = [
    iam.Request("dynamodb:Query", _table("AutomationTable")),
    iam.Request("dynamodb:GetItem", _table("GraphsTable")),
    iam.Request("dynamodb:GetItem", _table("GraphNodesTable")),
    iam.Request("dynamodb:GetItem", _table("UsersTable")),
    iam.Request("sns:Publish", TOPIC),
    iam.Request("states:DescribeExecution", EXECUTION),
]
FORBIDDEN = [
    *(iam.Request(f"dynamodb:{a}", _table(t)) for t in ("AutomationTable", "GraphsTable", "GraphNodesTable",
                                                        "UsersTable", "NodesTable", "CacheTable")
      for a in ("PutItem", "UpdateItem", "DeleteItem", "Scan", "BatchWriteItem")),
    iam.Request("dynamodb:GetItem", _table("AutomationTable").replace("automation", "cache")),
    iam.Request("s3:GetObject", TEMPLATE.arn("ArtifactsBucket") + "/resources/" + "0" * 64),
    iam.Request("states:StartExecution", "arn:aws:states:us-east-1:123456789012:stateMachine:plynx-g-1"),
    iam.Request("states:StopExecution", EXECUTION),
    iam.Request("lambda:InvokeFunction", TEMPLATE.arn("RunnerFunction")),
    iam.Request("sns:Publish", TEMPLATE.arn("AlarmTopic")),
    iam.Request("sns:Subscribe", TOPIC),
    iam.Request("iam:PassRole", TEMPLATE.arn("StateMachineRole")),
    iam.Request("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/plynx/dev/secret-key"),
]


@pytest.mark.parametrize("request_", SENDS, ids=lambda r: f"{r.action} {r.resource.rsplit(':', 1)[-1]}")
def test_the_notifier_may_do_what_it_sends_with(request_: iam.Request) -> None:
    assert iam.decide(_notifier(), request_) == "allow"


@pytest.mark.parametrize("request_", FORBIDDEN, ids=lambda r: f"{r.action} {r.resource.rsplit(':', 1)[-1]}")
def test_the_notifier_may_not(request_: iam.Request) -> None:
    assert iam.decide(_notifier(), request_) != "allow"


def test_the_api_may_subscribe_to_the_notification_topic_only() -> None:
    import json
    import os

    from tests.infra.support import REPO

    with open(os.path.join(REPO, ".chalice", "policy-dev.json"), encoding="utf-8") as stream:
        api = [TEMPLATE.resolve_statement(s) for s in json.load(stream)["Statement"]]
    assert iam.decide(api, iam.Request("sns:Subscribe", TOPIC)) == "allow"
    assert iam.decide(api, iam.Request("sns:Subscribe", TEMPLATE.arn("AlarmTopic"))) != "allow"
    assert iam.decide(api, iam.Request("sns:Publish", TOPIC)) != "allow"


@pytest.mark.parametrize("stage", ("dev", "prod"))
def test_the_api_and_the_preparation_may_invoke_the_notifier_and_no_other_function_of_the_stack(stage: str) -> None:
    """A run that ends without an execution (restored whole, failed or canceled while preparing) is told to the
    notifier by the engine itself: the API's policy (the preparation's too) invokes the notifier."""
    import json
    import os

    from tests.infra.support import REPO

    template = iam.Template(stage)
    with open(os.path.join(REPO, ".chalice", f"policy-{stage}.json"), encoding="utf-8") as stream:
        api = [template.resolve_statement(s) for s in json.load(stream)["Statement"]]
    notifier = template.arn("NotifierFunction")
    assert notifier.endswith(f":function:plynx-{stage}-notifier")
    assert iam.decide(api, iam.Request("lambda:InvokeFunction", notifier)) == "allow"
    assert iam.decide(api, iam.Request("lambda:InvokeFunction", template.arn("RunnerFunction"))) != "allow"
    assert iam.decide(api, iam.Request("lambda:InvokeFunction", notifier.replace("notifier", "notifier2"))) != "allow"


def test_the_run_ended_rule_feeds_the_notifier_every_end_of_a_plynx_execution() -> None:
    resources = TEMPLATE.resources
    rule = resources["RunEndedRule"]["Properties"]
    pattern = TEMPLATE.resolve(rule["EventPattern"]["detail"]["stateMachineArn"][0]["wildcard"])
    assert pattern == "arn:aws:states:us-east-1:123456789012:stateMachine:plynx-*"
    assert rule["EventPattern"]["detail"]["status"] == notifications.RUN_ENDED_PATTERN["detail"]["status"]
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["NotifierFunction", "Arn"]}
    permission = resources["RunEndedPermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["RunEndedRule", "Arn"]}
    function = resources["NotifierFunction"]["Properties"]
    assert function["Handler"] == "runners.notifier.lambda_handler" and function["Role"] == {
        "Fn::GetAtt": ["NotifierRole", "Arn"]}
    assert "PLYNX_NOTIFY_ALLOW_LOOPBACK" not in function["Environment"]["Variables"]  # the cloud refuses loopback
