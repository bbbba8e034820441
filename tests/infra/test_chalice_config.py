"""infra/chalice_config.py offline: resolving the template on a stack, and config.json both ways."""
from __future__ import annotations

import json
import os
from typing import Any

import pytest

from infra import chalice_config, deploy, moto_server
from tests.conftest import REPO
from tests.infra import support

ACCOUNT = "210987654321"


def _stack(template: dict, stage: str = "dev") -> chalice_config.Stack:
    """A stack as CloudFormation would report it: every resource named as its template names it."""
    physical = {}
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        name = next((properties[k] for k in ("TableName", "BucketName", "RoleName", "LogGroupName", "FunctionName",
                                             "GroupName") if k in properties), f"{logical_id}-physical")
        physical[logical_id] = support.sub(name, stage).replace("${AWS::AccountId}", ACCOUNT).replace(
            "${AWS::Region}", "eu-west-1") if isinstance(support.sub(name, stage), str) else f"{logical_id}-physical"
    outputs = {"UiUrl": "https://d111.cloudfront.net", "RunnerSubnets": "subnet-a,subnet-b"}
    parameters = {"Stage": stage, "Registration": "approval", "SingleUser": "false", "RunnerEphemeralStorage": "4096",
                  "SecretKey": "****"}
    return chalice_config.Stack(template, parameters, outputs, physical, "eu-west-1", ACCOUNT)


def test_the_environment_is_the_globals_resolved_with_the_key_by_its_parameter_name() -> None:
    template = support.template()
    variables, unresolved = chalice_config.api_environment(_stack(template), "dev", single_user=False)
    assert unresolved == []
    assert variables["PLYNX_BUCKET"] == f"plynx-dev-artifacts-{ACCOUNT}-eu-west-1"
    assert variables["PLYNX_STATE_MACHINE_ROLE_ARN"] == f"arn:aws:iam::{ACCOUNT}:role/plynx-dev-state-machine"
    assert variables["PLYNX_UI_URL"] == "https://d111.cloudfront.net"  # from the output of the same value
    assert variables["PLYNX_FARGATE_SUBNETS"] == "subnet-a,subnet-b"
    assert variables["PLYNX_REGISTRATION"] == "approval" and variables["PLYNX_LAMBDA_RUNNER_STORAGE_MB"] == "4096"
    assert variables["PLYNX_SECRET_KEY_PARAMETER"] == "/plynx/dev/secret-key"
    assert "PLYNX_SECRET_KEY" not in variables and "****" not in variables.values()
    single, _ = chalice_config.api_environment(_stack(template), "dev", single_user=True)
    assert "PLYNX_SECRET_KEY_PARAMETER" not in single and single["PLYNX_SINGLE_USER"] == "false"  # the parameter's


def test_a_variable_naming_what_the_stack_lacks_is_reported_not_guessed() -> None:
    stack = _stack(support.template())
    del stack.outputs["UiUrl"]
    del stack.physical["UiDistribution"]
    variables, unresolved = chalice_config.api_environment(stack, "dev", single_user=False)
    assert unresolved == ["PLYNX_UI_URL"] and "PLYNX_UI_URL" not in variables


@pytest.mark.parametrize("stage", support.STAGES)
def test_the_policy_names_real_arns_and_only_the_two_differences(stage: str) -> None:
    template = support.template()
    policy = chalice_config.api_policy(_stack(template, stage), stage, single_user=False)
    with open(os.path.join(REPO, ".chalice", f"policy-{stage}.json"), encoding="utf-8") as stream:
        packaged = json.load(stream)
    assert [s["Sid"] for s in policy["Statement"]] == [s["Sid"] for s in packaged["Statement"]] + [
        chalice_config.SECRET_KEY_STATEMENT]
    text = json.dumps(policy)
    assert "Fn::" not in text and "${" not in text and '"Ref"' not in text
    tables = next(s for s in policy["Statement"] if s["Sid"] == "Tables")["Resource"]
    assert f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/plynx-{stage}-nodes" in tables
    assert f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/plynx-{stage}-nodes/index/*" in tables
    logs = next(s for s in policy["Statement"] if s["Sid"] == "Logs")["Resource"]
    assert logs == [f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/plynx-{stage}:*",
                    f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/plynx-{stage}-execution_ended:*",
                    f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/plynx-{stage}-collect_garbage:*",
                    f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/plynx-{stage}-schedule_fired:*",
                    f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/plynx-{stage}-prepare_run:*"]
    # the same Effect, Action and Condition as make deploy's, statement by statement
    for want, got in zip(packaged["Statement"], policy["Statement"]):
        assert {k: v for k, v in want.items() if k != "Resource"} == {k: v for k, v in got.items() if k != "Resource"}
    single = chalice_config.api_policy(_stack(template, stage), stage, single_user=True)
    assert chalice_config.SECRET_KEY_STATEMENT not in {s["Sid"] for s in single["Statement"]}


def test_the_chalice_log_groups_are_the_functions_default_groups() -> None:
    """Chalice names its functions <app>-<stage> and <app>-<stage>-<handler>: the groups the stack makes."""
    config = chalice_config.load_config()
    resources = support.template()["Resources"]
    names = [support.sub(resources[g]["Properties"]["LogGroupName"], "dev") for g in chalice_config.CHALICE_LOG_GROUPS]
    handlers = list(config["stages"]["dev"]["lambda_functions"])
    assert names == [f"/aws/lambda/{config['app_name']}-dev"] + [
        f"/aws/lambda/{config['app_name']}-dev-{h}" for h in handlers]
    assert all(resources[g]["Condition"] == "ApiByChalice" for g in chalice_config.CHALICE_LOG_GROUPS)


def test_make_deploy_packages_the_config_without_what_make_infra_wrote(tmp_path: Any) -> None:
    template = support.template()
    original = chalice_config.load_config()
    for stage in support.STAGES:
        variables, _ = chalice_config.api_environment(_stack(template, stage), stage, single_user=False)
        written = chalice_config.with_stage(original, stage, variables, template, reserved_concurrency=20)
        assert written["stages"][stage]["iam_policy_file"] == f"deployed-policy-{stage}.json"
        assert written["stages"][stage]["reserved_concurrency"] == 20
        assert chalice_config.for_package(written, template) == chalice_config.for_package(original, template)
    # and what stage_project hands `chalice package`
    (tmp_path / ".chalice").mkdir()
    project = deploy.stage_project("dev", str(tmp_path))
    with open(os.path.join(project, ".chalice", "config.json"), encoding="utf-8") as stream:
        assert json.load(stream) == chalice_config.for_package(original, template)


def test_the_moto_server_relabels_swagger_2_for_its_importer_only() -> None:
    """infra/moto_server.py (the server runs its fixes in test_chalice_deploy.py; not patched in this process,
    which the session's local stack shares)."""
    document = {"swagger": "2.0", "info": {"title": "plynx"}, "paths": {"/x": {}}}
    relabelled = moto_server._as_openapi3(document)
    assert relabelled == {"openapi": "3.0.1", "info": {"title": "plynx"}, "paths": {"/x": {}}}
    assert document["swagger"] == "2.0"  # the caller's document is left as it was
    assert moto_server._as_openapi3(relabelled) == relabelled
