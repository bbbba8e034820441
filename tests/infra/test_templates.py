"""The templates lint clean, match the pynamodb models, and grant no more than the code needs."""
from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra import deploy
from tests.conftest import REPO
from tests.infra import support

# Actions IAM only accepts with Resource "*" (they take no resource ARN).
STAR_ONLY_ACTIONS = {"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat",
                     "ecr:GetAuthorizationToken", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
                     "xray:GetSamplingRules", "xray:GetSamplingTargets",
                     "states:ListStateMachines"}  # no resource type (the garbage collection lists the machines)
# What a traced Lambda function's role needs (Lambda refuses active tracing without it), and a traced state
# machine's (Step Functions docs, "X-Ray and Step Functions").
TRACE_WRITES = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
TRACED_EXECUTIONS = TRACE_WRITES | {"xray:GetSamplingRules", "xray:GetSamplingTargets"}
# Every name the API and the runner read from the environment (chalicelib/store/settings.py, chalicelib/engine/runs.py).
API_ENVIRONMENT = {"PLYNX_TABLE_PREFIX", "PLYNX_BUCKET", "PLYNX_RUNNER_FUNCTION", "PLYNX_STATE_MACHINE_ROLE_ARN",
                   "PLYNX_UI_URL", "PLYNX_FARGATE_CLUSTER", "PLYNX_FARGATE_TASK_DEFINITION",
                   "PLYNX_FARGATE_SUBNETS", "PLYNX_FARGATE_SECURITY_GROUPS", "PLYNX_SECRET_KEY",
                   "PLYNX_SINGLE_USER", "PLYNX_REGISTRATION", "PLYNX_PREPARE_FUNCTION",
                   "PLYNX_NOTIFY_FUNCTION"}
RUNNER_ENVIRONMENT = {"PLYNX_TABLE_PREFIX", "PLYNX_BUCKET"}


def test_every_template_passes_cfn_lint() -> None:
    assert support.TEMPLATES, "no templates under infra/cloudformation"
    result = support.cfn_lint(*support.TEMPLATES)
    print(f"cfn-lint {', '.join(os.path.relpath(t, REPO) for t in support.TEMPLATES)}: exit {result.returncode}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_tables_match_the_pynamodb_models() -> None:
    from pynamodb.attributes import TTLAttribute

    from chalicelib.store import models

    expected = support.model_schemas()
    tables = support.template_tables(support.template())
    missing = sorted(expected.keys() - tables.keys())
    assert not missing, "tables in chalicelib/store/models.py but not in infra/cloudformation/plynx.yaml:\n" + "\n\n".join(
        support.cfn_table_yaml(name, expected[name]) for name in missing)
    assert not tables.keys() - expected.keys(), f"tables with no model: {sorted(tables.keys() - expected.keys())}"
    by_table = {m.Meta.table_name.split("-", 1)[1]: m for m in models.ALL_MODELS}
    for name, (logical_id, properties) in tables.items():
        assert support.normalise(properties) == expected[name], f"{logical_id} differs from its pynamodb model"
        assert properties.get("BillingMode") == "PAY_PER_REQUEST", f"{logical_id}: on-demand costs nothing idle"
        assert "PointInTimeRecoverySpecification" in properties, f"{logical_id}: choose point-in-time recovery"
        model = by_table[name]
        ttl_attributes = [a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)]
        ttl = properties.get("TimeToLiveSpecification")
        if ttl_attributes:
            assert ttl == {"AttributeName": ttl_attributes[0], "Enabled": True}, f"{logical_id}: TTL"
        if ttl:
            attributes = {a.attr_name: a for a in model.get_attributes().values()}
            assert ttl["AttributeName"] in attributes, f"{logical_id}: TTL on an attribute the model lacks"
            assert type(attributes[ttl["AttributeName"]]).__name__ in ("NumberAttribute", "TTLAttribute")


@pytest.mark.parametrize("stage", support.STAGES)
def test_chalice_config_names_what_the_template_creates(stage: str) -> None:
    config = support.chalice_config()
    tmpl = support.template()
    settings = config["stages"][stage]
    env = {**config.get("environment_variables", {}), **settings.get("environment_variables", {})}
    resources = tmpl["Resources"]
    globals_env = tmpl["Globals"]["Function"]["Environment"]["Variables"]

    assert env["PLYNX_TABLE_PREFIX"] == f"plynx-{stage}"
    assert env["PLYNX_RUNNER_FUNCTION"] == support.sub(resources["RunnerFunction"]["Properties"]["FunctionName"], stage)
    assert env["PLYNX_FARGATE_CLUSTER"] == support.sub(resources["RunnerCluster"]["Properties"]["ClusterName"], stage)
    assert env["PLYNX_FARGATE_TASK_DEFINITION"] == support.sub(
        resources["RunnerTaskDefinition"]["Properties"]["Family"], stage)
    # The run preparation is invoked by the name both deploy paths give app.prepare_run (infra/deploy.py).
    assert support.sub(globals_env["PLYNX_PREPARE_FUNCTION"], stage) == f"plynx-{stage}-prepare_run"
    assert globals_env["PLYNX_PREPARE_FUNCTION"] == deploy.PREPARE_FUNCTION_NAME
    # ... and the notifier, for runs that end without an execution, by its own name
    assert support.sub(globals_env["PLYNX_NOTIFY_FUNCTION"], stage) == support.sub(
        resources["NotifierFunction"]["Properties"]["FunctionName"], stage)
    assert config["stages"][stage]["lambda_functions"]["prepare_run"]["lambda_timeout"] == 900  # Lambda's most
    # SAM lets a function's own variables win over Globals: config.json must not shadow the template's.
    assert not env.keys() & globals_env.keys()
    assert API_ENVIRONMENT <= env.keys() | globals_env.keys()
    runner_env = resources["RunnerFunction"]["Properties"]["Environment"]["Variables"]
    assert RUNNER_ENVIRONMENT <= runner_env.keys()
    task_env = {e["Name"] for e in resources["RunnerTaskDefinition"]["Properties"]["ContainerDefinitions"][0][
        "Environment"]}
    assert RUNNER_ENVIRONMENT <= task_env
    assert config["autogen_policy"] is False
    assert globals_env["PLYNX_SECRET_KEY"] == {"Ref": "SecretKey"} and tmpl["Parameters"]["SecretKey"]["NoEcho"]
    # A deployed stage is closed to strangers and never keyless by accident (chalicelib/api/users.py).
    assert globals_env["PLYNX_REGISTRATION"] == {"Ref": "Registration"}
    assert tmpl["Parameters"]["Registration"]["Default"] == "closed"
    assert globals_env["PLYNX_SINGLE_USER"] == {"Ref": "SingleUser"}
    assert tmpl["Parameters"]["SingleUser"]["Default"] == "false"
    assert os.path.exists(os.path.join(REPO, ".chalice", settings["iam_policy_file"]))


@pytest.mark.parametrize("logical_id", ["ArtifactsBucket", "UiBucket"])
def test_buckets_are_private_and_encrypted(logical_id: str) -> None:
    resources = support.template()["Resources"]
    properties = resources[logical_id]["Properties"]
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    encryption = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    policies = [r["Properties"] for r in resources.values()
                if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": logical_id}]
    assert len(policies) == 1
    if logical_id == "ArtifactsBucket":
        rules = {r["Id"]: r for r in properties["LifecycleConfiguration"]["Rules"]}
        assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
        assert policies[0]["PolicyDocument"]["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    else:
        # Only CloudFront, through origin access control, reads the UI bucket.
        [statement] = policies[0]["PolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert "UiDistribution" in json.dumps(statement["Condition"])
        origin = resources["UiDistribution"]["Properties"]["DistributionConfig"]["Origins"][0]
        assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["UiOriginAccessControl", "Id"]}


def _policies() -> Iterator[tuple[str, dict]]:
    """Every IAM policy document: the API's per stage, and the template's inline and managed ones."""
    for stage in support.STAGES:
        with open(os.path.join(REPO, ".chalice", f"policy-{stage}.json"), encoding="utf-8") as stream:
            yield f"policy-{stage}.json", json.load(stream)
    for logical_id, resource in support.template()["Resources"].items():
        properties = resource.get("Properties", {})
        for policy in properties.get("Policies", []):
            yield f"{logical_id}/{policy['PolicyName']}", policy["PolicyDocument"]
        if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy"):
            yield logical_id, properties["PolicyDocument"]


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _references(value: Any) -> Iterator[str]:
    """Logical ids a policy refers to (GetAtt, Ref, ${X.Arn} in a Sub)."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            yield value["Fn::GetAtt"][0]
        elif "Ref" in value:
            yield value["Ref"]
        elif "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            yield from (m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text) if "::" not in m)
        else:
            for item in value.values():
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


@pytest.mark.parametrize("name,document", list(_policies()), ids=[name for name, _ in _policies()])
def test_policies_name_their_resources(name: str, document: dict) -> None:
    resources = support.template()["Resources"]
    parameters = set(support.template()["Parameters"])
    for statement in document["Statement"]:
        actions = _listed(statement["Action"])
        if statement["Effect"] == "Deny":
            continue
        assert all(a != "*" and not a.endswith(":*") for a in actions), f"{name}: wildcard action in {statement}"
        for resource in _listed(statement["Resource"]):
            if resource == "*":
                assert set(actions) <= STAR_ONLY_ACTIONS, f"{name}: Resource * for {actions}"
            else:
                assert isinstance(resource, dict), f"{name}: {resource} is not tied to this stack's resources"
        for reference in _references(statement["Resource"]):
            assert reference in resources or reference in parameters, f"{name}: {reference} is not in the template"


def test_every_table_is_in_the_api_policy() -> None:
    """The API reaches every table; the runner only those a run needs (tests/infra/test_runner_policy.py)."""
    tables = support.template_tables(support.template())
    with open(os.path.join(REPO, ".chalice", "policy-dev.json"), encoding="utf-8") as stream:
        api = json.load(stream)
    statement = next(s for s in api["Statement"] if s.get("Sid") == "Tables")
    granted = set(_references(statement["Resource"]))
    indexed = {json.dumps(r) for r in statement["Resource"] if "/index/" in json.dumps(r)}
    for logical_id, properties in tables.values():
        assert logical_id in granted, f"the API policy does not grant {logical_id}"
        if properties.get("GlobalSecondaryIndexes"):
            assert any(logical_id in r for r in indexed), f"the API policy misses {logical_id}'s indexes"


def test_the_runner_may_only_free_run_slots_in_the_quotas_table() -> None:
    runner = support.template()["Resources"]["RunnerDataPolicy"]["Properties"]["PolicyDocument"]
    touching = [s for s in runner["Statement"] if "QuotasTable" in set(_references(s["Resource"]))]
    assert [(s["Effect"], _listed(s["Action"])) for s in touching] == [("Allow", ["dynamodb:UpdateItem"])]


def test_the_api_functions_have_reserved_concurrency_and_the_runner_may() -> None:
    template = support.template()
    assert template["Globals"]["Function"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReservesApiConcurrency", {"Ref": "ApiReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    assert template["Parameters"]["ApiReservedConcurrency"]["Default"] == 20
    runner = template["Resources"]["RunnerFunction"]["Properties"]["ReservedConcurrentExecutions"]
    assert runner == {"Fn::If": ["ReservesRunnerConcurrency", {"Ref": "RunnerReservedConcurrency"},
                                 {"Ref": "AWS::NoValue"}]}
    assert template["Parameters"]["RunnerReservedConcurrency"]["Default"] == 0


def test_stage_policies_differ_only_by_stage() -> None:
    """Both stages name resources through their own stack, so one policy text serves both."""
    texts = []
    for stage in support.STAGES:
        with open(os.path.join(REPO, ".chalice", f"policy-{stage}.json"), encoding="utf-8") as stream:
            texts.append(stream.read().replace(stage, "<stage>"))
    assert len(set(texts)) == 1


# What each service integration the compiler emits needs of the state machine's role (Step Functions docs,
# "IAM policies for integrated services").
INTEGRATION_ACTIONS = {
    "lambda:invoke": {"lambda:InvokeFunction"},
    "lambda:invoke.waitForTaskToken": {"lambda:InvokeFunction"},
    "ecs:runTask.sync": {"ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks", "iam:PassRole",
                         "events:PutTargets", "events:PutRule", "events:DescribeRule"},
    "states:startExecution.sync:2": {"states:StartExecution", "states:DescribeExecution", "states:StopExecution",
                                     "events:PutTargets", "events:PutRule", "events:DescribeRule"},
}


def test_state_machine_role_grants_every_integration_the_compiler_emits() -> None:
    emitted = set()
    for path in glob.glob(os.path.join(REPO, "stepfunctions", "*.py")):
        with open(path, encoding="utf-8") as stream:
            emitted |= set(re.findall(r"arn:aws:states:::([A-Za-z]+:[A-Za-z.]+(?::\d+)?)", stream.read()))
    assert emitted, "the compiler emits no service integration?"
    unknown = emitted - INTEGRATION_ACTIONS.keys()
    assert not unknown, f"new integrations {unknown}: grant their actions to StateMachineRole and list them here"
    role = support.template()["Resources"]["StateMachineRole"]["Properties"]
    granted = {action for policy in role["Policies"] for statement in policy["PolicyDocument"]["Statement"]
               for action in _listed(statement["Action"])}
    for integration in emitted:
        assert INTEGRATION_ACTIONS[integration] <= granted, f"{integration} needs " \
            f"{sorted(INTEGRATION_ACTIONS[integration] - granted)}"


def _granted(document: dict) -> set[str]:
    return {action for statement in document["Statement"] if statement["Effect"] == "Allow"
            for action in _listed(statement["Action"])}


def test_functions_and_executions_are_traced() -> None:
    """Active X-Ray tracing: the runner, the API's functions (both deploy paths), every graph's state machine."""
    template = support.template()
    resources = template["Resources"]
    functions = {logical_id: resource["Properties"] for logical_id, resource in resources.items()
                 if resource["Type"] == "AWS::Lambda::Function"}
    assert "RunnerFunction" in functions
    for logical_id, function in functions.items():
        assert function.get("TracingConfig") == {"Mode": "Active"}, f"{logical_id} is not traced"
        role = resources[function["Role"]["Fn::GetAtt"][0]]["Properties"]
        granted = set().union(*(_granted(policy["PolicyDocument"]) for policy in role.get("Policies", [])))
        assert TRACE_WRITES <= granted, f"{logical_id}'s role may not write traces (Lambda then refuses the tracing)"
    # the API's functions: SAM's Globals in the one-stack path, Chalice's own setting with `chalice deploy`
    assert template["Globals"]["Function"]["Tracing"] == "Active"
    assert support.chalice_config()["xray"] is True
    for stage in support.STAGES:
        with open(os.path.join(REPO, ".chalice", f"policy-{stage}.json"), encoding="utf-8") as stream:
            assert TRACE_WRITES <= _granted(json.load(stream)), f"policy-{stage}.json cannot write traces"
    # the state machines the engine creates are traced, and their role may write the traces
    from chalicelib.engine import preparation

    assert preparation.TRACING == {"enabled": True}
    role = resources["StateMachineRole"]["Properties"]["Policies"]
    assert TRACED_EXECUTIONS <= set().union(*(_granted(policy["PolicyDocument"]) for policy in role))


def test_runner_image_runs_the_lambda_package_on_the_lambda_python() -> None:
    """No Docker here: check the Dockerfile against what it wraps (the zip, the runtime, the entry point)."""
    with open(os.path.join(REPO, "runners", "Dockerfile"), encoding="utf-8") as stream:
        dockerfile = stream.read()
    runtime = support.template()["Resources"]["RunnerFunction"]["Properties"]["Runtime"]  # python3.11
    assert re.search(rf"^FROM \S+/python:{runtime.removeprefix('python')}-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"^COPY deployment\.zip ", dockerfile, re.MULTILINE)  # the file `chalice package` writes
    assert 'ENTRYPOINT ["python", "-m", "runners"]' in dockerfile  # runners/__main__.py
    container = support.template()["Resources"]["RunnerTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    import stepfunctions

    assert container["Name"] == stepfunctions.Fargate("cluster", "task").container  # what the ECS overrides name


def test_the_artifacts_bucket_takes_upload_parts_from_the_ui_and_expires_abandoned_staging() -> None:
    bucket = support.template()["Resources"]["ArtifactsBucket"]["Properties"]
    (rule,) = bucket["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == [{"Fn::Sub": "https://${UiDistribution.DomainName}"}]
    assert rule["AllowedMethods"] == ["PUT"] and rule["ExposedHeaders"] == ["ETag"]
    staging = next(r for r in bucket["LifecycleConfiguration"]["Rules"] if r.get("Prefix") == "uploads/")
    assert staging["ExpirationInDays"] == 1 and staging["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # the runner never reads or writes the staging prefix; only the API does
    runner = json.dumps(support.template()["Resources"]["RunnerDataPolicy"]["Properties"]["PolicyDocument"])
    assert "uploads/" not in runner
    with open(os.path.join(REPO, ".chalice", "policy-dev.json"), encoding="utf-8") as stream:
        assert "/uploads/*" in stream.read()


def test_the_local_runner_gets_the_templates_storage_under_the_names_the_code_reads() -> None:
    from chalicelib.engine import placement
    from infra.local import scratch

    assert support.template()["Parameters"]["RunnerEphemeralStorage"]["Default"] == scratch.DEFAULT_STORAGE_MB
    assert deploy.Context("dev", "us-east-1").runner_storage == scratch.DEFAULT_STORAGE_MB
    assert (scratch.RUNNER_STORAGE_VARIABLE, scratch.LAMBDA_STORAGE_VARIABLE, scratch.MIB) == (
        placement.RUNNER_STORAGE_VARIABLE, placement.LAMBDA_STORAGE_VARIABLE, placement.MIB)
