"""Schedules' permissions, read from the template and the API's policy: the API manages only its stage's
schedules and passes the scheduler role only to EventBridge Scheduler; that role invokes only the schedules'
target (never the runner or the REST API); the runner roles may do none of it."""
from __future__ import annotations

import functools
import json
import os

import pytest

from tests.infra import iam, support

TEMPLATE = iam.Template("dev")
SCHEDULES = f"arn:aws:scheduler:{iam.REGION}:{iam.ACCOUNT}:schedule/plynx-dev"
TARGET = f"arn:aws:lambda:{iam.REGION}:{iam.ACCOUNT}:function:plynx-dev-schedule_fired"
TO_SCHEDULER = (("iam:PassedToService", "scheduler.amazonaws.com"),)


@functools.cache  # a Template parses the template (seconds): once per stage
def _template(stage: str) -> iam.Template:
    return TEMPLATE if stage == "dev" else iam.Template(stage)


@functools.cache
def _api_statements(stage: str = "dev") -> list[dict]:
    with open(os.path.join(support.REPO, ".chalice", f"policy-{stage}.json"), encoding="utf-8") as stream:
        document = json.load(stream)
    return [_template(stage).resolve_statement(s) for s in document["Statement"]]


API_MAY = [
    *(iam.Request(f"scheduler:{a}", f"{SCHEDULES}/plynx-0123456789abcdef01234567")
      for a in ("CreateSchedule", "UpdateSchedule", "DeleteSchedule", "GetSchedule")),
    iam.Request("iam:PassRole", TEMPLATE.arn("SchedulerRole"), TO_SCHEDULER),
]
API_MAY_NOT = [
    iam.Request("scheduler:CreateSchedule", f"arn:aws:scheduler:{iam.REGION}:{iam.ACCOUNT}:schedule/default/x"),
    iam.Request("scheduler:CreateSchedule", f"{SCHEDULES.replace('plynx-dev', 'plynx-prod')}/plynx-x"),
    iam.Request("scheduler:DeleteScheduleGroup",
                f"arn:aws:scheduler:{iam.REGION}:{iam.ACCOUNT}:schedule-group/plynx-dev"),
    iam.Request("iam:PassRole", TEMPLATE.arn("SchedulerRole"), (("iam:PassedToService", "lambda.amazonaws.com"),)),
    iam.Request("iam:PassRole", TEMPLATE.arn("RunnerRole"), TO_SCHEDULER),
]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_api_manages_its_stages_schedules_and_passes_the_scheduler_role_to_the_scheduler(stage: str) -> None:
    statements = _api_statements(stage)
    schedules = f"arn:aws:scheduler:{iam.REGION}:{iam.ACCOUNT}:schedule/plynx-{stage}"
    role = _template(stage).arn("SchedulerRole")
    for action in ("CreateSchedule", "UpdateSchedule", "DeleteSchedule", "GetSchedule"):
        assert iam.decide(statements, iam.Request(f"scheduler:{action}", f"{schedules}/plynx-abc")) == "allow"
    assert iam.decide(statements, iam.Request("iam:PassRole", role, TO_SCHEDULER)) == "allow"


@pytest.mark.parametrize("request_", API_MAY_NOT,
                         ids=[f"{r.action} {r.resource.rsplit(':', 1)[-1]}" for r in API_MAY_NOT])
def test_the_api_may_not(request_: iam.Request) -> None:
    assert iam.decide(_api_statements(), request_) != "allow"


def test_the_scheduler_role_invokes_only_the_schedules_target() -> None:
    statements = TEMPLATE.role_statements("SchedulerRole")
    assert iam.decide(statements, iam.Request("lambda:InvokeFunction", TARGET)) == "allow"
    for other in (TEMPLATE.arn("RunnerFunction"), f"arn:aws:lambda:{iam.REGION}:{iam.ACCOUNT}:function:plynx-dev",
                  f"arn:aws:lambda:{iam.REGION}:{iam.ACCOUNT}:function:plynx-dev-execution_ended",
                  f"arn:aws:lambda:{iam.REGION}:{iam.ACCOUNT}:function:plynx-prod-schedule_fired"):
        assert iam.decide(statements, iam.Request("lambda:InvokeFunction", other)) == "implicit", other
    for request in (iam.Request("states:StartExecution", "*"), iam.Request("dynamodb:GetItem", "*"),
                    iam.Request("iam:PassRole", "*"), iam.Request("s3:GetObject", "*")):
        assert iam.decide(statements, request) == "implicit", request
    trust = TEMPLATE.resources["SchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "scheduler.amazonaws.com"}]
    assert all("aws:SourceAccount" in s["Condition"]["StringEquals"] for s in trust)


def test_the_schedules_target_is_the_function_the_api_names_and_the_group_is_the_stages() -> None:
    env = TEMPLATE.data["Globals"]["Function"]["Environment"]["Variables"]
    assert TEMPLATE.resolve(env["PLYNX_SCHEDULE_FUNCTION"]) == TARGET
    assert TEMPLATE.resolve(env["PLYNX_SCHEDULER_ROLE_ARN"]) == TEMPLATE.arn("SchedulerRole")
    group = TEMPLATE.resources["ScheduleGroup"]["Properties"]["Name"]
    assert TEMPLATE.resolve(env["PLYNX_SCHEDULE_GROUP"]) == TEMPLATE.resolve(group) == "plynx-dev"


@pytest.mark.parametrize("role", ["RunnerRole", "RunnerTaskRole"])
@pytest.mark.parametrize("request_", API_MAY, ids=[f"{r.action} {r.resource.rsplit(':', 1)[-1]}" for r in API_MAY])
def test_the_runner_roles_may_not_touch_schedules(role: str, request_: iam.Request) -> None:
    statements = TEMPLATE.role_statements(role) + TEMPLATE.bucket_statements("ArtifactsBucket")
    assert iam.decide(statements, request_) != "allow"
    assert iam.decide(statements, iam.Request("lambda:InvokeFunction", TARGET)) != "allow"
