"""The Chalice way of deploying a stage, on a moto server: `make infra`'s plan creates the stack without
the API and writes .chalice/, then `chalice deploy` / `chalice delete` (the real command line) make and
remove the API; and the two paths' API configurations (environment, policy, and API Gateway's binary media
types and content handling once infra/chalice_api.py has run) are compared.

moto cannot run the deployed functions (that needs Docker) nor create CloudFront, the VPC endpoints and
the other types support.moto_template drops: those are checked by reading the configuration only. The code
of `chalice deploy`'s zip runs here through tests/infra/lambda_driver.py, as API Gateway would call it.

The Chalice project is a copy with an empty requirements.txt: `chalice deploy` builds its dependencies by
downloading wheels for Lambda's platform (pip download), which tests must not need; the dependencies of the
one package both paths share are what tests/infra/test_package.py runs in a fresh virtualenv.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra import chalice_config, deploy
from tests.conftest import REPO
from tests.infra import support

STAGE = "dev"
ACCOUNT = "123456789012"
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lambda_driver.py")
# Multi-user mode, as `make infra` makes the stage: a user made with `python -m infra.deploy users`.
AUTH = {"Authorization": "Basic " + base64.b64encode(b"alice:alice-password").decode()}
# moto's CloudFormation makes no CloudFront distribution: the stage's UI domain is this stand-in (the form
# CloudFront gives), put where the template reads `${UiDistribution.DomainName}` (_with_ui_domain).
UI_DOMAIN = "d111111abcdef8.cloudfront.net"
UI_ORIGIN = f"https://{UI_DOMAIN}"
PREFLIGHT = "OPTIONS "
ALLOW_ORIGIN = deploy.PREFLIGHT_ORIGIN
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    yield from support.moto_server("infra.moto_server")


def _client(moto_url: str, service: str) -> Any:
    return support.aws_client(moto_url, service)


def _context(moto_url: str) -> deploy.Context:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    return deploy.Context(STAGE, "us-east-1", session, account=ACCOUNT, endpoint_url=moto_url)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Chalice project as a user has it (app.py, chalicelib/, .chalice/), requirements emptied."""
    root = str(tmp_path_factory.mktemp("chalice") / "project")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in (*deploy.PROJECT_DIRS, *deploy.VENDORED):
        shutil.copytree(os.path.join(REPO, name), os.path.join(root, name), ignore=ignore)
    shutil.copy2(os.path.join(REPO, "app.py"), root)
    with open(os.path.join(root, "requirements.txt"), "w", encoding="utf-8") as stream:
        stream.write("# emptied by the test: no wheel downloads (see the module's docstring)\n")
    os.makedirs(os.path.join(root, ".chalice"))
    for name in os.listdir(os.path.join(REPO, ".chalice")):
        if name == "config.json" or (name.startswith("policy-") and name.endswith(".json")):
            shutil.copy2(os.path.join(REPO, ".chalice", name), os.path.join(root, ".chalice", name))
    return root


def _with_ui_domain(template: dict) -> dict:
    """The template as CloudFormation resolves the UI distribution's domain (`${UiDistribution.DomainName}`):
    the stage's UI URL (PLYNX_UI_URL, the UiUrl output) then reaches both paths on moto too."""
    return json.loads(json.dumps(template).replace("${UiDistribution.DomainName}", UI_DOMAIN))


@pytest.fixture(scope="module")
def infra(moto_url: str, project: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`make infra`'s plan on moto: deployment bucket, secret key, the stack (what moto can create), .chalice/."""
    build = tmp_path_factory.mktemp("build")
    template, unsupported = support.moto_template(_with_ui_domain(support.template()))
    template_path = str(build / "plynx.moto.json")
    with open(template_path, "w", encoding="utf-8") as stream:
        json.dump(template, stream)
    zip_path = str(build / "deployment.zip")  # the runner's code: moto never runs it
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("runners/__init__.py", "")
    ctx = _context(moto_url)
    plan = deploy.infra_plan(ctx, deploy.Package(STAGE, str(build), zip_path, template_path, None),
                             template=template_path, chalice_dir=os.path.join(project, ".chalice"), project=project)
    started = time.monotonic()
    # No Docker here: the image step is `make deploy`'s, unchanged (test_deploy_plan.py).
    deploy.execute([s for s in plan if not s.title.startswith("build runners/Dockerfile")], dry_run=False)
    print(f"\nmake infra's plan on moto: {time.monotonic() - started:.1f} s; not created by moto's CloudFormation "
          f"(linted only): {', '.join(unsupported)}")
    return {"ctx": ctx, "template": template, "template_path": template_path, "plan": plan}


def _chalice(project: str, moto_url: str, *arguments: str) -> str:
    """The `chalice` command line, as a user runs it, with AWS_ENDPOINT_URL at moto and fake credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PLYNX_"))}
    env.update({"AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    result = subprocess.run([*deploy._chalice(), *arguments, "--stage", STAGE], cwd=project, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    return result.stdout


@pytest.fixture(scope="module")
def deployed(infra: dict, project: str, moto_url: str) -> dict[str, Any]:
    started = time.monotonic()
    output = _chalice(project, moto_url, "deploy")
    print(f"\nchalice deploy: {time.monotonic() - started:.1f} s")
    with open(os.path.join(project, ".chalice", "deployed", f"{STAGE}.json"), encoding="utf-8") as stream:
        state = json.load(stream)
    resources = {r["name"]: r for r in state["resources"]}
    # the REST API as `chalice deploy` alone leaves it (infra/chalice_api.py changes it afterwards)
    return {"output": output, "resources": resources,
            "gateway": _gateway(moto_url, resources["rest_api"]["rest_api_id"])}


def _gateway(moto_url: str, rest_api_id: str) -> dict[str, Any]:
    """What API Gateway holds of the REST API's binary content: its binary media types, and each method's
    integration content handling, of the request and of each answer (by status code); and the headers each
    CORS preflight answers (its integration's answers' header mappings, by status code: API Gateway answers
    preflights itself)."""
    apigw = _client(moto_url, "apigateway")
    methods, preflights = {}, {}
    for resource in apigw.get_resources(restApiId=rest_api_id, limit=500)["items"]:
        for method in resource.get("resourceMethods", {}):
            integration = apigw.get_integration(restApiId=rest_api_id, resourceId=resource["id"], httpMethod=method)
            answers = integration.get("integrationResponses") or {}
            methods[f"{method} {resource['path']}"] = (integration.get("contentHandling"), {
                status: answer.get("contentHandling") for status, answer in answers.items()})
            if method == "OPTIONS":
                preflights[f"{PREFLIGHT}{resource['path']}"] = {
                    status: answer.get("responseParameters", {}) for status, answer in answers.items()}
    binary = apigw.get_rest_api(restApiId=rest_api_id).get("binaryMediaTypes", [])
    return {"binary_media_types": sorted(binary), "methods": methods, "preflight_headers": preflights}


def _make_deploy_gateway(project: str) -> dict[str, Any]:
    """The same of `make deploy`'s API: the document `chalice package` writes (CFNSwaggerGenerator,
    chalice/package.py) as infra/deploy.py stages it (test_package.py checks that on the real package)."""
    code = ("import json, app; from chalice.deploy.swagger import CFNSwaggerGenerator; "
            "print(json.dumps(CFNSwaggerGenerator().generate_swagger(app.app)))")
    generated = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=60,
                               check=True, env={k: v for k, v in os.environ.items()
                                                if not k.startswith(("AWS_", "PLYNX_"))})
    document = json.loads(generated.stdout.strip().splitlines()[-1])
    staged = deploy.for_stage({"Resources": {"RestAPI": {"Type": "AWS::Serverless::Api",
                                                         "Properties": {"DefinitionBody": document}}}})
    body = staged["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    methods, preflights = {}, {}
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            integration = operation["x-amazon-apigateway-integration"]
            answers = integration.get("responses", {}).values()
            methods[f"{method.upper()} {path}"] = (integration.get("contentHandling"), {
                str(answer["statusCode"]): answer.get("contentHandling") for answer in answers})
            if method == "options":
                preflights[f"{PREFLIGHT}{path}"] = {str(answer["statusCode"]): {
                    name: _stage_value(value) for name, value in answer.get("responseParameters", {}).items()}
                    for answer in answers}
    return {"binary_media_types": sorted(body[deploy.BINARY_MEDIA_TYPES]), "methods": methods,
            "preflight_headers": preflights}


def _stage_value(value: Any) -> str:
    """A header mapping of make deploy's document as CloudFormation resolves it on the stage (the UI's origin is
    an `Fn::Sub` of the distribution's domain)."""
    if isinstance(value, str):
        return value
    assert list(value) == ["Fn::Sub"] and value["Fn::Sub"].count("${") == 1, value
    return value["Fn::Sub"].replace("${UiDistribution.DomainName}", UI_DOMAIN)


def _functions(moto_url: str) -> dict[str, dict]:
    return {f["FunctionName"]: f for f in _client(moto_url, "lambda").list_functions()["Functions"]}


def test_make_infra_creates_the_stack_without_the_api_and_writes_chalice_config(
        moto_url: str, infra: dict, project: str) -> None:
    cf = _client(moto_url, "cloudformation")
    stack = cf.describe_stacks(StackName=deploy.stack_name(STAGE))["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["ApiDeployedBy"] == "chalice"
    assert parameters["SecretKey"] in ("", "****")  # the key stays in SSM, out of the stack
    kinds = {r["ResourceType"] for r in cf.describe_stack_resources(StackName=stack["StackName"])["StackResources"]}
    assert "AWS::DynamoDB::Table" in kinds and "AWS::Lambda::Function" in kinds  # the runner
    assert not {"AWS::Serverless::Function", "AWS::ApiGateway::RestApi"} & kinds
    # the stack's own functions (the runner, the notifier) and no API before `chalice deploy`
    assert set(_functions(moto_url)) == {f"plynx-{STAGE}-runner", f"plynx-{STAGE}-notifier"}
    groups = {g["logGroupName"] for g in _client(moto_url, "logs").describe_log_groups()["logGroups"]}
    assert {f"/aws/lambda/plynx-{STAGE}", f"/aws/lambda/plynx-{STAGE}-execution_ended",
            f"/aws/lambda/plynx-{STAGE}-collect_garbage",
            f"/aws/lambda/plynx-{STAGE}-prepare_run"} <= groups

    config = chalice_config.load_config(os.path.join(project, ".chalice"))
    settings = config["stages"][STAGE]
    assert settings["iam_policy_file"] == chalice_config.policy_file(STAGE)
    assert settings["reserved_concurrency"] == 20
    env = settings["environment_variables"]
    assert env["PLYNX_BUCKET"] == f"plynx-{STAGE}-artifacts-{ACCOUNT}-us-east-1"
    assert env["PLYNX_SECRET_KEY_PARAMETER"] == f"/plynx/{STAGE}/secret-key" and "PLYNX_SECRET_KEY" not in env
    assert env["PLYNX_UI_URL"] == UI_ORIGIN  # the stack's UiUrl output
    with open(os.path.join(project, ".chalice", chalice_config.policy_file(STAGE)), encoding="utf-8") as stream:
        policy = json.load(stream)
    for statement in policy["Statement"]:
        for resource in statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]:
            assert isinstance(resource, str) and (resource == "*" or resource.startswith("arn:aws:")), statement
            assert "<" not in resource and "${" not in resource
    # `make deploy` packages the configuration without any of it.
    with open(os.path.join(REPO, ".chalice", "config.json"), encoding="utf-8") as stream:
        checked_in = json.load(stream)
    assert chalice_config.for_package(config, infra["template"]) == chalice_config.for_package(
        checked_in, infra["template"])
    links = {n: os.readlink(os.path.join(project, "vendor", n)) for n in os.listdir(os.path.join(project, "vendor"))}
    assert links == {n: os.path.join("..", n) for n in deploy.VENDORED}


def test_chalice_deploy_creates_the_api_the_functions_and_the_rule(moto_url: str, deployed: dict,
                                                                   project: str) -> None:
    functions = _functions(moto_url)
    api, handler = functions[f"plynx-{STAGE}"], functions[f"plynx-{STAGE}-execution_ended"]
    assert (api["Handler"], handler["Handler"]) == ("app.app", "app.execution_ended")
    assert api["Runtime"] == handler["Runtime"] == deploy.LAMBDA_RUNTIME
    assert (api["MemorySize"], api["Timeout"], handler["MemorySize"], handler["Timeout"]) == (1024, 30, 512, 120)
    scheduled = functions[f"plynx-{STAGE}-schedule_fired"]  # the name the template's scheduler role may invoke
    assert (scheduled["Handler"], scheduled["MemorySize"], scheduled["Timeout"]) == ("app.schedule_fired", 1024, 60)
    # the run preparation APPROVE invokes asynchronously: the API's rights, Lambda's 15 minutes
    prepare = functions[f"plynx-{STAGE}-prepare_run"]
    assert (prepare["Handler"], prepare["MemorySize"], prepare["Timeout"]) == ("app.prepare_run", 2048, 900)
    assert api["Environment"]["Variables"]["PLYNX_PREPARE_FUNCTION"] == prepare["FunctionName"]
    # autogen_policy false: a role per function, each with the concrete policy `make infra` wrote
    with open(os.path.join(project, ".chalice", chalice_config.policy_file(STAGE)), encoding="utf-8") as stream:
        written = json.load(stream)
    for function, role_name in ((api, f"plynx-{STAGE}-api_handler"), (handler, f"plynx-{STAGE}-execution_ended"),
                                (prepare, f"plynx-{STAGE}-prepare_run")):
        assert function["Role"] == _client(moto_url, "iam").get_role(RoleName=role_name)["Role"]["Arn"]
        assert _granted(moto_url, role_name) == written
    lam = _client(moto_url, "lambda")
    for function in (api, handler, prepare):
        concurrency = lam.get_function_concurrency(FunctionName=function["FunctionName"])
        assert concurrency["ReservedConcurrentExecutions"] == 20
    # the garbage collection: daily, one pass at a time, its own role with the API's policy
    collector = functions[f"plynx-{STAGE}-collect_garbage"]
    assert (collector["Handler"], collector["MemorySize"], collector["Timeout"]) == ("app.collect_garbage", 1024, 900)
    assert lam.get_function_concurrency(FunctionName=collector["FunctionName"])["ReservedConcurrentExecutions"] == 1
    assert _granted(moto_url, f"plynx-{STAGE}-collect_garbage") == written
    [daily] = [r for r in _client(moto_url, "events").list_rules()["Rules"]
               if r["Name"] == f"plynx-{STAGE}-collect_garbage-event"]
    assert daily["ScheduleExpression"] == "rate(1 day)"
    [target] = _client(moto_url, "events").list_targets_by_rule(Rule=daily["Name"])["Targets"]
    assert target["Arn"] == collector["FunctionArn"]

    rest_api = deployed["resources"]["rest_api"]
    apigw = _client(moto_url, "apigateway")
    paths = {r["path"] for r in apigw.get_resources(restApiId=rest_api["rest_api_id"], limit=500)["items"]}
    assert {"/plynx/api/v0/health", "/plynx/api/v0/graphs", "/plynx/api/v0/graphs/{graph_id}"} <= paths
    routes = subprocess.run([sys.executable, "-c", "import json, app; print(json.dumps(sorted(app.app.routes)))"],
                            cwd=project, capture_output=True, text=True, timeout=60, check=True, env={
                                k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PLYNX_"))})
    assert set(json.loads(routes.stdout.strip().splitlines()[-1])) <= paths  # every route of app.py
    assert rest_api["rest_api_url"].endswith(".amazonaws.com/api/")
    # what a second `make infra` reads to publish the UI
    assert deploy.chalice_api_url(STAGE, os.path.join(project, ".chalice")) == rest_api["rest_api_url"]

    rules = _client(moto_url, "events").list_rules()["Rules"]
    [rule] = [r for r in rules if r["Name"] == f"plynx-{STAGE}-execution_ended-event"]
    assert json.loads(rule["EventPattern"])["source"] == ["aws.states"]
    [target] = _client(moto_url, "events").list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == handler["FunctionArn"]

    # Chalice's zip holds what app.py imports beyond chalicelib/ (through vendor/'s links).
    [package] = [n for n in os.listdir(os.path.join(project, ".chalice", "deployments")) if n.endswith(".zip")]
    with zipfile.ZipFile(os.path.join(project, ".chalice", "deployments", package)) as archive:
        names = set(archive.namelist())
    assert {"app.py", "chalicelib/store/settings.py", "runners/handler.py", "stepfunctions/__init__.py",
            "plynx/__init__.py"} <= names


def _granted(moto_url: str, role_name: str) -> dict:
    """The role's one inline policy document."""
    iam = _client(moto_url, "iam")
    [policy_name] = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    return iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]


def _make_deploy_environment(moto_url: str, infra: dict) -> dict[str, str]:
    """The one-stack path's API environment on this stack, resolved with moto's own answers (not
    infra/chalice_config.py's): config.json's variables as `make deploy` packages them, then SAM's Globals."""
    config = chalice_config.for_package(chalice_config.load_config(), infra["template"])
    env = {**config.get("environment_variables", {}), **config["stages"][STAGE]["environment_variables"]}
    cf, iam = _client(moto_url, "cloudformation"), _client(moto_url, "iam")
    stack = cf.describe_stacks(StackName=deploy.stack_name(STAGE))["Stacks"][0]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]  # (moto gives a Lambda::Permission none)
                for r in cf.describe_stack_resources(StackName=stack["StackName"])["StackResources"]
                if "PhysicalResourceId" in r}
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    secret = _client(moto_url, "ssm").get_parameter(Name=f"/plynx/{STAGE}/secret-key", WithDecryption=True)
    parameters["SecretKey"] = secret["Parameter"]["Value"]  # what `make deploy` passes

    def resolve(value: Any) -> str | None:
        if isinstance(value, str):
            return value
        if "Ref" in value:
            return parameters.get(value["Ref"], physical.get(value["Ref"]))
        if "Fn::GetAtt" in value:
            return iam.get_role(RoleName=physical[value["Fn::GetAtt"][0]])["Role"]["Arn"]
        if "Fn::Join" in value:
            parts = [resolve(v) for v in value["Fn::Join"][1]]
            return None if None in parts else value["Fn::Join"][0].join(parts)  # type: ignore[arg-type]
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]
            if "UiDistribution" in text:
                return None  # no CloudFront on moto
            for name, given in (*parameters.items(), ("AWS::Partition", "aws"), ("AWS::Region", "us-east-1"),
                                ("AWS::AccountId", ACCOUNT)):
                text = text.replace("${" + name + "}", given)
            return text
        raise AssertionError(value)

    for name, value in chalice_config.globals_environment(infra["template"]).items():
        resolved = resolve(value)
        if resolved is not None:
            env[name] = resolved
    return env


def _moto_arn(moto_url: str, infra: dict, logical_id: str) -> str:
    """A resource's ARN as moto's own API answers it."""
    cf = _client(moto_url, "cloudformation")
    resource = cf.describe_stack_resource(StackName=deploy.stack_name(STAGE),
                                          LogicalResourceId=logical_id)["StackResourceDetail"]
    name, kind = resource["PhysicalResourceId"], resource["ResourceType"]
    if kind == "AWS::DynamoDB::Table":
        return _client(moto_url, "dynamodb").describe_table(TableName=name)["Table"]["TableArn"]
    if kind == "AWS::IAM::Role":
        return _client(moto_url, "iam").get_role(RoleName=name)["Role"]["Arn"]
    if kind == "AWS::Logs::LogGroup":
        [group] = [g for g in _client(moto_url, "logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
                   if g["logGroupName"] == name]
        return group["arn"]
    if kind == "AWS::S3::Bucket":
        _client(moto_url, "s3").head_bucket(Bucket=name)
        return f"arn:aws:s3:::{name}"  # S3 has no API that answers a bucket's ARN
    if kind == "AWS::SNS::Topic":
        return _client(moto_url, "sns").get_topic_attributes(TopicArn=name)["Attributes"]["TopicArn"]
    raise AssertionError(f"{logical_id}: {kind}")


def _make_deploy_resource(moto_url: str, infra: dict, value: Any) -> str:
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        return _moto_arn(moto_url, infra, value["Fn::GetAtt"][0])
    if "Ref" in value:  # a topic's Ref is its ARN
        return _moto_arn(moto_url, infra, value["Ref"])
    text = value["Fn::Sub"]
    for name, given in (("AWS::Partition", "aws"), ("AWS::Region", "us-east-1"), ("AWS::AccountId", ACCOUNT),
                        ("Stage", STAGE)):
        text = text.replace("${" + name + "}", given)
    while "${" in text:
        reference = text[text.index("${") + 2:text.index("}", text.index("${"))]
        text = text.replace("${" + reference + "}", _moto_arn(moto_url, infra, reference.split(".")[0]))
    return text


def test_the_two_paths_give_the_api_the_same_environment_and_permissions(moto_url: str, infra: dict,
                                                                         deployed: dict) -> None:
    """Drift between `make deploy`'s API and `chalice deploy`'s fails here; the two differences by design
    (infra/chalice_config.py's docstring) are each checked for exactly what they are."""
    functions = _functions(moto_url)
    expected = _make_deploy_environment(moto_url, infra)
    secret = expected.pop("PLYNX_SECRET_KEY")
    for name in (f"plynx-{STAGE}", f"plynx-{STAGE}-execution_ended", f"plynx-{STAGE}-collect_garbage",
                 f"plynx-{STAGE}-schedule_fired",
                 f"plynx-{STAGE}-prepare_run"):
        got = dict(functions[name]["Environment"]["Variables"])
        parameter = got.pop("PLYNX_SECRET_KEY_PARAMETER")
        assert _client(moto_url, "ssm").get_parameter(Name=parameter, WithDecryption=True)[
            "Parameter"]["Value"] == secret
        assert got == expected, name
    assert expected["PLYNX_UI_URL"] == UI_ORIGIN

    with open(os.path.join(REPO, ".chalice", f"policy-{STAGE}.json"), encoding="utf-8") as stream:
        packaged = json.load(stream)["Statement"]
    granted = _granted(moto_url, f"plynx-{STAGE}-api_handler")["Statement"]
    assert _granted(moto_url, f"plynx-{STAGE}-execution_ended")["Statement"] == granted
    assert _granted(moto_url, f"plynx-{STAGE}-collect_garbage")["Statement"] == granted
    assert _granted(moto_url, f"plynx-{STAGE}-schedule_fired")["Statement"] == granted
    assert _granted(moto_url, f"plynx-{STAGE}-prepare_run")["Statement"] == granted
    assert [s.get("Sid") for s in granted] == [s.get("Sid") for s in packaged] + [chalice_config.SECRET_KEY_STATEMENT]
    for want, got in zip(packaged, granted):
        if want["Sid"] == chalice_config.LOGS_STATEMENT:
            # each function writes to /aws/lambda/<its name>, made by the stack
            groups = [_moto_arn(moto_url, infra, g) for g in chalice_config.CHALICE_LOG_GROUPS]
            assert sorted(g.split(":log-group:")[1].split(":")[0] for g in groups) == sorted(
                f"/aws/lambda/{n}" for n in (f"plynx-{STAGE}", f"plynx-{STAGE}-execution_ended",
                                             f"plynx-{STAGE}-collect_garbage", f"plynx-{STAGE}-schedule_fired",
                                             f"plynx-{STAGE}-prepare_run"))
            want = {**want, "Resource": groups}
        else:
            resources = [_make_deploy_resource(moto_url, infra, r) for r in
                         (want["Resource"] if isinstance(want["Resource"], list) else [want["Resource"]])]
            want = {**want, "Resource": resources if isinstance(want["Resource"], list) else resources[0]}
        assert got == want
    assert granted[-1] == {"Sid": chalice_config.SECRET_KEY_STATEMENT, "Effect": "Allow", "Action": "ssm:GetParameter",
                           "Resource": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/plynx/{STAGE}/secret-key"}


def test_a_deployed_function_reads_its_secret_key_from_ssm(moto_url: str, deployed: dict) -> None:
    """chalicelib/store/settings.py with the deployed function's environment, as a cold start runs it."""
    function = _functions(moto_url)[f"plynx-{STAGE}"]
    env = {"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "PLYNX_AWS_ENDPOINT": moto_url,
           **function["Environment"]["Variables"]}
    code = "from chalicelib.store.settings import SETTINGS; print(SETTINGS.secret_key)"
    key = _client(moto_url, "ssm").get_parameter(Name=f"/plynx/{STAGE}/secret-key", WithDecryption=True)
    outside = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                             timeout=60, check=True)
    assert outside.stdout.strip() == "None"  # where `chalice deploy` imports app.py: no secret read
    inside = subprocess.run([sys.executable, "-c", code], env={**env, "AWS_LAMBDA_FUNCTION_NAME": function[
        "FunctionName"]}, cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    assert inside.stdout.strip() == key["Parameter"]["Value"]


def test_the_two_paths_give_api_gateway_the_same_binary_media_types_and_content_handling(
        moto_url: str, infra: dict, deployed: dict, project: str) -> None:
    """`chalice deploy` alone leaves Chalice's binary media types and preflight answers that API Gateway does
    not convert; infra/chalice_api.py (`python -m infra.deploy gateway`, and `make infra`) makes the REST API
    what `make deploy`'s document says, and deploys the stage; a second run changes nothing."""
    expected = _make_deploy_gateway(project)
    assert expected["binary_media_types"] == ["*/*"]
    preflights = [k for k in expected["methods"] if k.startswith("OPTIONS ")]
    assert preflights and all(expected["methods"][k] == ("CONVERT_TO_TEXT", {"200": "CONVERT_TO_TEXT"})
                              for k in preflights)
    # every preflight answers the stage's UI origin, and the rest of Chalice's CORS headers
    headers = ("Allow-Origin", "Allow-Methods", "Allow-Headers", "Max-Age")
    for preflight, answers in expected["preflight_headers"].items():
        assert list(answers) == ["200"], preflight
        assert {f"method.response.header.Access-Control-{h}" for h in headers} <= set(answers["200"]), preflight
        assert answers["200"][ALLOW_ORIGIN] == f"'{UI_ORIGIN}'", preflight
    alone = deployed["gateway"]
    assert alone["methods"].keys() == expected["methods"].keys()  # the same routes and preflights
    # Chalice imports app.py with the stage's environment_variables (chalice/cli/factory.py, load_chalice_app),
    # PLYNX_UI_URL among them (make infra wrote it): its preflights already name the stage's UI, as make deploy's
    assert {a["200"].get(ALLOW_ORIGIN) for a in alone["preflight_headers"].values()} == {f"'{UI_ORIGIN}'"}
    assert alone["preflight_headers"] == expected["preflight_headers"]
    assert "*/*" not in alone["binary_media_types"] and "application/octet-stream" in alone["binary_media_types"]
    assert alone != expected  # the gap: curl's `Accept: */*` got a resource's bytes base64-encoded

    rest_api_id = deployed["resources"]["rest_api"]["rest_api_id"]
    apigw = _client(moto_url, "apigateway")
    before = apigw.get_stage(restApiId=rest_api_id, stageName="api")["deploymentId"]
    changes = deploy.settle_chalice_api(infra["ctx"], os.path.join(project, ".chalice"))
    assert changes
    assert _gateway(moto_url, rest_api_id) == expected
    assert apigw.get_stage(restApiId=rest_api_id, stageName="api")["deploymentId"] != before  # live
    chalice_dir = os.path.join(project, ".chalice")
    assert deploy.settle_chalice_api(infra["ctx"], chalice_dir, strict=True) == []  # the UI's origin checked too

    # What `python -m infra.deploy gateway` stops on (`make infra` warns): a preflight, or the API function, not
    # naming the stage's UI, as a `chalice deploy` from a configuration without PLYNX_UI_URL would leave both.
    [graphs] = [r for r in apigw.get_resources(restApiId=rest_api_id, limit=500)["items"]
                if r["path"] == "/plynx/api/v0/graphs"]
    where = {"restApiId": rest_api_id, "resourceId": graphs["id"], "httpMethod": "OPTIONS", "statusCode": "200"}
    answer = apigw.get_integration_response(**where)

    def answer_with(parameters: dict[str, str]) -> None:
        apigw.put_integration_response(**where, responseParameters=parameters, contentHandling="CONVERT_TO_TEXT",
                                       responseTemplates=answer.get("responseTemplates") or {})

    answer_with({**answer["responseParameters"], ALLOW_ORIGIN: "'http://localhost:3001'"})
    with pytest.raises(SystemExit) as stopped:
        deploy.settle_chalice_api(infra["ctx"], chalice_dir, strict=True)
    assert str(stopped.value).startswith(
        f"the stage's UI at {UI_ORIGIN} cannot use the API `chalice deploy` made: 1 CORS preflights answer "
        "Access-Control-Allow-Origin 'http://localhost:3001' (OPTIONS /plynx/api/v0/graphs, ...). Run "), stopped.value
    answer_with(answer["responseParameters"])
    lam = _client(moto_url, "lambda")
    variables = lam.get_function_configuration(FunctionName=f"plynx-{STAGE}")["Environment"]["Variables"]
    lam.update_function_configuration(FunctionName=f"plynx-{STAGE}", Environment={
        "Variables": {k: v for k, v in variables.items() if k != "PLYNX_UI_URL"}})
    with pytest.raises(SystemExit, match="the API function's PLYNX_UI_URL is unset"):
        deploy.settle_chalice_api(infra["ctx"], chalice_dir, strict=True)
    assert deploy.settle_chalice_api(infra["ctx"], chalice_dir) == []  # make infra's step: a warning only
    lam.update_function_configuration(FunctionName=f"plynx-{STAGE}", Environment={"Variables": variables})
    assert deploy.settle_chalice_api(infra["ctx"], chalice_dir, strict=True) == []
    assert _gateway(moto_url, rest_api_id) == expected


def _multipart_upload(content: bytes, title: str) -> dict:
    """POST /upload_file as API Gateway hands it over with binary media type `*/*`: the body base64-encoded."""
    boundary = "plynxboundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in (("title", title), ("description", "chalice deploy"), ("file_type", "file"))]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="data"; filename="{title}.bin"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {"method": "POST", "path": "/plynx/api/v0/upload_file", "body_b64": base64.b64encode(body).decode(),
            "headers": {**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"}}


def test_the_chalice_deployed_api_gives_a_resources_bytes_to_any_accept(
        moto_url: str, infra: dict, deployed: dict, project: str, tmp_path: Any) -> None:
    """API Gateway's event form (tests/infra/lambda_driver.py) through the zip `chalice deploy` made, with the
    deployed function's environment (its dependencies from this virtualenv: the test project's requirements are
    empty), then what API Gateway hands the client with the REST API's binary media types."""
    function = _functions(moto_url)[f"plynx-{STAGE}"]
    [package] = [n for n in os.listdir(os.path.join(project, ".chalice", "deployments")) if n.endswith(".zip")]
    with zipfile.ZipFile(os.path.join(project, ".chalice", "deployments", package)) as archive:
        archive.extractall(tmp_path / "task")
    env = {"PATH": os.environ["PATH"], "LAMBDA_TASK_ROOT": str(tmp_path / "task"), "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_LAMBDA_FUNCTION_NAME": function["FunctionName"], "POWERTOOLS_LOG_LEVEL": "WARNING",
           **function["Environment"]["Variables"],
           "PLYNX_AWS_ENDPOINT": moto_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

    def api(*requests: dict) -> list[dict]:
        result = subprocess.run([sys.executable, DRIVER], input=json.dumps({"kind": "api", "requests": requests}),
                                capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120, check=False)
        assert result.returncode == 0, result.stderr[-4000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    assert deploy.users(infra["ctx"], ["create", "alice", "--password", "alice-password"]) == 0
    content = bytes(range(256)) + b"\x00not text\xff"
    [uploaded] = api(_multipart_upload(content, "bytes"))
    assert uploaded["status"] == 200, base64.b64decode(uploaded["body_b64"])
    resource_id = json.loads(base64.b64decode(uploaded["body_b64"]))["node"]["outputs"][0]["resource_id"]

    # curl, Python's urllib (no Accept), fetch() and a browser's navigation
    accepts = ["*/*", None, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"]
    answers = api(*[{"method": "GET", "path": f"/plynx/api/v0/resources/{resource_id}",
                     "headers": {**AUTH, **({"Accept": a} if a else {})}} for a in accepts],
                  *[{"method": "GET", "path": "/plynx/api/v0/user", "headers": {**AUTH, **({"Accept": a} if a else {})}}
                    for a in accepts])
    deploy.settle_chalice_api(infra["ctx"], os.path.join(project, ".chalice"))
    settled = _gateway(moto_url, deployed["resources"]["rest_api"]["rest_api_id"])["binary_media_types"]
    alone = deployed["gateway"]["binary_media_types"]
    for accept, answer in zip(accepts, answers[:len(accepts)]):
        assert answer["status"] == 200 and answer["base64"], (accept, answer)
        assert support.api_gateway_delivers(answer, accept, settled) == content, accept
        # what `chalice deploy` alone gave every one of them: the base64 text
        assert support.api_gateway_delivers(answer, accept, alone) == base64.b64encode(content), accept
    for accept, answer in zip(accepts, answers[len(accepts):]):  # JSON stays text, either way
        assert answer["status"] == 200 and not answer["base64"], (accept, answer)
        assert json.loads(support.api_gateway_delivers(answer, accept, settled))["user"]["username"] == "alice"


def test_a_second_chalice_deploy_updates_in_place_and_chalice_delete_removes_the_api(
        moto_url: str, infra: dict, deployed: dict, project: str) -> None:
    """The last test of the module: it deletes the API."""
    before = _functions(moto_url)
    with open(os.path.join(project, "app.py"), "a", encoding="utf-8") as stream:
        stream.write("\n# a code change\n")
    _chalice(project, moto_url, "deploy")
    after = _functions(moto_url)
    for name in (f"plynx-{STAGE}", f"plynx-{STAGE}-execution_ended", f"plynx-{STAGE}-collect_garbage",
                 f"plynx-{STAGE}-prepare_run"):
        assert after[name]["FunctionArn"] == before[name]["FunctionArn"]
        assert after[name]["CodeSha256"] != before[name]["CodeSha256"], f"{name} kept its old code"
    apis = _client(moto_url, "apigateway").get_rest_apis()["items"]
    assert [a["id"] for a in apis] == [deployed["resources"]["rest_api"]["rest_api_id"]]
    # Chalice overwrites the REST API with its own document: its binary media types are back
    # (`python -m infra.deploy gateway` after each `chalice deploy`; `make infra` also runs it, below)
    gateway = _gateway(moto_url, apis[0]["id"])
    assert "*/*" not in gateway["binary_media_types"]

    # `make infra` again (the stack updated or left unchanged): the same configuration, the API untouched
    config_path = os.path.join(project, ".chalice", "config.json")
    with open(config_path, encoding="utf-8") as stream:
        config = json.load(stream)
    deploy.execute([s for s in infra["plan"] if not s.title.startswith("build runners/Dockerfile")], dry_run=False)
    with open(config_path, encoding="utf-8") as stream:
        assert json.load(stream) == config
    assert _gateway(moto_url, apis[0]["id"]) == _make_deploy_gateway(project)
    stack = _client(moto_url, "cloudformation").describe_stacks(StackName=deploy.stack_name(STAGE))["Stacks"][0]
    assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    assert set(_functions(moto_url)) == set(after)

    _chalice(project, moto_url, "delete")
    assert set(_functions(moto_url)) == {f"plynx-{STAGE}-runner", f"plynx-{STAGE}-notifier"}  # the stack's stay
    assert not _client(moto_url, "apigateway").get_rest_apis()["items"]
    rules = {r["Name"] for r in _client(moto_url, "events").list_rules()["Rules"]}
    assert not {f"plynx-{STAGE}-execution_ended-event", f"plynx-{STAGE}-collect_garbage-event"} & rules
    roles = {r["RoleName"] for r in _client(moto_url, "iam").list_roles()["Roles"]}
    assert not {f"plynx-{STAGE}-api_handler", f"plynx-{STAGE}-execution_ended",
                f"plynx-{STAGE}-collect_garbage", f"plynx-{STAGE}-prepare_run"} & roles
    assert f"plynx-{STAGE}-runner" in roles
