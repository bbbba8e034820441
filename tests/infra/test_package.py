"""The cloud artifacts, checked offline: `chalice package` with no credentials, the zip in a fresh
virtualenv, the infrastructure stack on moto's CloudFormation, and the packaged API and runner
running an operation against that stack's tables and bucket.

moto runs as its own server process here: in-process `mock_aws` would reset the backends the
session's local stack (tests/conftest.py) runs on.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import venv
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra import deploy
from tests.conftest import REPO
from tests.infra import support

STAGE = "dev"
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lambda_driver.py")
RECORDED_EVENT = os.path.join(REPO, "tests", "data", "sfn_runner_event.json")
# Multi-user mode, as `make deploy` deploys: a user made with `python -m infra.deploy users`.
AUTH = {"Authorization": "Basic " + base64.b64encode(b"alice:alice-password").decode()}
pytestmark = pytest.mark.slow


def _no_credentials_env() -> dict[str, str]:
    """The environment minus every way boto3 finds credentials: packaging must not need them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("PLYNX_")}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"})
    return env


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def package(build_dir: str) -> tuple[str, str]:
    started = time.monotonic()
    zip_path, template = deploy.package_api(STAGE, build=build_dir, env=_no_credentials_env(),
                                            cache=support.CHALICE_CACHE)
    print(f"\nchalice package --merge-template ({STAGE}): {time.monotonic() - started:.1f} s")
    return zip_path, template


@pytest.fixture(scope="module")
def fresh_python(package: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A virtualenv with nothing installed, and the zip unzipped as Lambda would (/var/task)."""
    root = tmp_path_factory.mktemp("lambda")
    started = time.monotonic()
    venv.EnvBuilder(with_pip=False, clear=True).create(str(root / "venv"))
    with zipfile.ZipFile(package[0]) as archive:
        archive.extractall(root / "task")
    shutil.copy(DRIVER, root / "driver.py")
    (root / "runtime").mkdir()
    print(f"\nfresh virtualenv and unzip: {time.monotonic() - started:.1f} s")
    return {"python": str(root / "venv" / "bin" / "python"), "task": str(root / "task"),
            "driver": str(root / "driver.py"), "runtime": str(root / "runtime"), "cwd": str(root)}


def _in_lambda(fresh: dict[str, str], command: dict, env: dict[str, str] | None = None) -> Any:
    """One command of tests/infra/lambda_driver.py in the fresh virtualenv, laid out as Lambda's:
    LAMBDA_TASK_ROOT the unzipped package, /var/task and /var/runtime in a function's variables mapped
    to it and to an empty directory."""
    mapped = {k: v.replace("/var/task", fresh["task"]).replace("/var/runtime", fresh["runtime"])
              for k, v in (env or {}).items()}
    run_env = {"PATH": os.environ["PATH"], "LAMBDA_TASK_ROOT": fresh["task"], "PYTHONNOUSERSITE": "1",
               "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_LOG_LEVEL": "WARNING", **mapped}
    result = subprocess.run([fresh["python"], fresh["driver"]], input=json.dumps(command), capture_output=True,
                            text=True, env=run_env, check=False, cwd=fresh["cwd"], timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_merged_template_passes_cfn_lint(package: tuple[str, str]) -> None:
    result = support.cfn_lint(package[1])
    assert result.returncode == 0, result.stdout + result.stderr
    merged = deploy.load_template(package[1])
    # The merge kept Chalice's API and event handler, and added the infrastructure to them.
    assert {"APIHandler", "RestAPI", "ExecutionEnded", "RunnerFunction", "NodesTable", "UiDistribution"} <= set(
        merged["Resources"])
    handler = merged["Resources"]["ExecutionEnded"]["Properties"]
    assert handler["Events"]["ExecutionEndedEvent"]["Properties"]["Pattern"]["source"] == ["aws.states"]
    # the garbage collection: daily (EventBridge), one pass at a time, up to Lambda's 15 minutes
    collector = merged["Resources"]["CollectGarbage"]["Properties"]
    assert collector["Handler"] == "app.collect_garbage" and collector["Timeout"] == 900
    assert collector["ReservedConcurrentExecutions"] == 1
    assert [e["Properties"]["Schedule"] for e in collector["Events"].values()] == ["rate(1 day)"]
    # ... deployed under the name the API invokes after a delete (PLYNX_GC_FUNCTION, as `chalice deploy` names it)
    named = deploy.for_stage(merged)["Resources"]["CollectGarbage"]["Properties"]["FunctionName"]
    with open(os.path.join(REPO, ".chalice", "config.json")) as config:
        gc_name = json.load(config)["stages"][STAGE]["environment_variables"]["PLYNX_GC_FUNCTION"]
    assert named == deploy.GC_FUNCTION_NAME and named["Fn::Sub"].replace("${Stage}", STAGE) == gc_name
    assert "EndpointURL" in merged["Outputs"]
    # the schedules' target: named as `chalice deploy` names it once deployed, the name the scheduler role invokes
    deployed = deploy.for_stage(merged)["Resources"]["ScheduleFired"]["Properties"]
    assert deployed["Handler"] == "app.schedule_fired"
    assert deployed["FunctionName"] == {"Fn::Sub": "plynx-${Stage}-schedule_fired"}
    assert {"ScheduleGroup", "SchedulerRole"} <= set(merged["Resources"])
    # the run preparation, deployed under the name the API invokes (Globals' PLYNX_PREPARE_FUNCTION)
    prepare = deploy.for_stage(merged)["Resources"][deploy.PREPARE_FUNCTION]["Properties"]
    assert prepare["FunctionName"] == merged["Globals"]["Function"]["Environment"]["Variables"][
        "PLYNX_PREPARE_FUNCTION"] == deploy.PREPARE_FUNCTION_NAME
    assert (prepare["Handler"], prepare["Timeout"]) == ("app.prepare_run", 900)


def test_the_stages_preflights_answer_only_its_ui(package: tuple[str, str], tmp_path: Any) -> None:
    merged = deploy.load_template(package[1])
    before = [methods["options"] for methods in merged["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
        "paths"].values() if "options" in methods]
    assert before  # Chalice answers preflights in API Gateway, with the origin it saw while packaging
    staged = deploy.for_stage(merged)
    origins = [o["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"][
        deploy.PREFLIGHT_ORIGIN] for o in before]
    assert origins and all(origin == deploy.STAGE_UI_ORIGIN for origin in origins)
    assert "*" not in json.dumps(origins)
    path = tmp_path / "staged.json"
    path.write_text(json.dumps(staged))
    result = support.cfn_lint(str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_stage_answers_bytes_to_any_accept(package: tuple[str, str]) -> None:
    """API Gateway decodes a base64 answer only when the request's first Accept type is a binary media type."""
    merged = deploy.load_template(package[1])
    body = merged["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert "*/*" not in body[deploy.BINARY_MEDIA_TYPES]  # Chalice's list: a client without Accept got base64
    staged = deploy.for_stage(merged)["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert staged[deploy.BINARY_MEDIA_TYPES] == ["*/*"]
    # a preflight's MOCK integration must not take the (now binary) request for one it transforms
    mocks = [m["options"]["x-amazon-apigateway-integration"] for m in staged["paths"].values() if "options" in m]
    assert mocks and all(mock["type"] == "mock" and mock["contentHandling"] == "CONVERT_TO_TEXT" and
                         all(r["contentHandling"] == "CONVERT_TO_TEXT" for r in mock["responses"].values())
                         for mock in mocks)


def test_package_fits_lambda_limits(package: tuple[str, str]) -> None:
    zipped, unzipped = deploy.Package(STAGE, "", package[0], package[1], None).sizes()
    print(f"\ndeployment.zip: {zipped / deploy.MIB:.1f} MiB zipped (limit 50), "
          f"{unzipped / deploy.MIB:.1f} MiB unzipped (limit 250)")
    assert zipped < deploy.ZIPPED_LIMIT and unzipped < deploy.UNZIPPED_LIMIT


def _plugin_modules() -> list[str]:
    """The modules the default configuration names by dotted path (classes, executors, hub lists)."""
    import yaml

    from chalicelib.domain import config

    def paths(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("cls", "executor", "list_module") and isinstance(item, str):
                    yield item
                else:
                    yield from paths(item)
        elif isinstance(value, list):
            for item in value:
                yield from paths(item)

    return sorted({path.rsplit(".", 1)[0] for path in paths(yaml.safe_load(config.DEFAULT_CONFIG_YAML))})


def test_packaged_api_imports_in_a_fresh_virtualenv_and_answers(fresh_python: dict[str, str]) -> None:
    plugins = _plugin_modules()
    probe = _in_lambda(fresh_python, {"kind": "probe", "modules": ["app", "runners.handler", "chalice", "moto",
                                                                   "pytest", "aws_xray_sdk.core", *plugins]})
    task = fresh_python["task"]
    assert probe["app"].startswith(task) and probe["runners.handler"].startswith(task), probe
    missing = [name for name in plugins if not (probe[name] or "").startswith(task)]
    assert not missing, f"the default configuration's plugins are not in the zip: {missing}"
    assert probe["chalice"].startswith(task), "the runner's chalicelib needs chalice's runtime in the zip"
    # the Powertools Tracer imports it on Lambda (active tracing): without it every invocation would fail
    assert (probe["aws_xray_sdk.core"] or "").startswith(task), "the X-Ray SDK is not in the zip"
    assert probe["moto"] is None and probe["pytest"] is None, "the virtualenv must hold nothing of the project's"
    started = time.monotonic()
    [health] = _in_lambda(fresh_python, {"kind": "api", "requests": [
        {"method": "GET", "path": "/plynx/api/v0/health", "headers": {}}]})
    print(f"\nimport app + one request in a fresh process: {time.monotonic() - started:.2f} s")
    assert health["status"] == 200
    # no secret key in this environment: nobody may register (and every other route answers 503)
    assert json.loads(base64.b64decode(health["body_b64"])) == {"status": "SUCCESS", "registration": "closed",
                                                                      "single_user": False}


# --- the infrastructure stack on moto -----------------------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    yield from support.moto_server("moto.server")


def _client(moto_url: str, service: str) -> Any:
    return support.aws_client(moto_url, service)


@pytest.fixture(scope="module")
def stack(moto_url: str, package: tuple[str, str]) -> dict[str, Any]:
    """infra/cloudformation/plynx.yaml created on moto, its runner's code the packaged zip."""
    s3, cf = _client(moto_url, "s3"), _client(moto_url, "cloudformation")
    s3.create_bucket(Bucket="plynx-deploy")
    s3.upload_file(package[0], "plynx-deploy", "dev/deployment.zip")
    template, unsupported = support.moto_template(support.template())
    print(f"\nnot created by moto's CloudFormation (linted only): {', '.join(unsupported)}")
    # The secret key as `make deploy` makes it (an SSM SecureString), passed as the NoEcho parameter.
    ctx = _context(moto_url)
    deploy.ensure_secret_key(ctx)
    defaults = {k: p.get("Default") for k, p in template["Parameters"].items()}
    parameters = {**{k: None if v is None else str(v) for k, v in defaults.items()},  # Numbers too: strings
                  "Stage": STAGE, "CodeBucket": "plynx-deploy", "CodeKey": "dev/deployment.zip",
                  "SecretKey": ctx.secret_key}
    started = time.monotonic()
    cf.create_stack(StackName=deploy.stack_name(STAGE), TemplateBody=json.dumps(template),
                    Capabilities=deploy.CAPABILITIES, Parameters=[
                        {"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items() if v is not None])
    described = cf.describe_stacks(StackName=deploy.stack_name(STAGE))["Stacks"][0]
    print(f"stack {described['StackName']}: {described['StackStatus']} in {time.monotonic() - started:.1f} s")
    assert described["StackStatus"] == "CREATE_COMPLETE", described
    assert deploy.users(ctx, ["create", "alice", "--password", "alice-password"]) == 0
    resources = cf.describe_stack_resources(StackName=deploy.stack_name(STAGE))["StackResources"]
    return {"outputs": {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]},
            # (moto also lists the resources whose Condition is false, with no ids: ApiByChalice's log groups)
        "physical": {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources  # (and a Lambda::Permission)
                         if "LogicalResourceId" in r and "PhysicalResourceId" in r},
            "parameters": parameters, "template": template}


def _context(moto_url: str) -> deploy.Context:
    """infra/deploy.py's context, talking to the moto server."""
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    return deploy.Context(STAGE, "us-east-1", session, account="123456789012", endpoint_url=moto_url)


def test_infrastructure_stack_creates_tables_bucket_roles_and_runners_on_moto(moto_url: str, stack: dict) -> None:
    ddb, s3, iam = _client(moto_url, "dynamodb"), _client(moto_url, "s3"), _client(moto_url, "iam")
    prefix = stack["outputs"]["TablePrefix"]
    assert prefix == f"plynx-{STAGE}"
    for name, expected in support.model_schemas().items():
        table = ddb.describe_table(TableName=f"{prefix}-{name}")["Table"]
        assert support.normalise(table) == expected, name
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table.get("DeletionProtectionEnabled") is False  # dev; prod's tables are protected
    # moto's CloudFormation does not apply TTL or point-in-time recovery: test_templates.py checks those.

    bucket = stack["outputs"]["ArtifactsBucketName"]
    assert bucket == f"plynx-{STAGE}-artifacts-123456789012-us-east-1"
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # moto applies a bucket's encryption from CloudFormation, not its public access block or lifecycle
    # rules: test_templates.py checks those in the template.

    trusted = {"state-machine": "states.amazonaws.com", "runner": "lambda.amazonaws.com",
               "runner-task": "ecs-tasks.amazonaws.com", "runner-task-execution": "ecs-tasks.amazonaws.com"}
    for suffix, service in trusted.items():
        role = iam.get_role(RoleName=f"plynx-{STAGE}-{suffix}")["Role"]
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": service}
    assert stack["outputs"]["StateMachineRoleArn"] == f"arn:aws:iam::123456789012:role/plynx-{STAGE}-state-machine"
    granted = iam.get_role_policy(RoleName=f"plynx-{STAGE}-state-machine", PolicyName="run-operations")
    # (moto keeps a CloudFormation inline policy as the repr of a dict: look for the resolved ARN in it)
    assert f"'Resource': ['{stack['outputs']['RunnerFunctionArn']}'" in str(granted["PolicyDocument"])

    function = _client(moto_url, "lambda").get_function_configuration(FunctionName=f"plynx-{STAGE}-runner")
    assert (function["Handler"], function["Runtime"], function["Timeout"]) == (
        "runners.handler.lambda_handler", "python3.11", 900)
    assert function["Role"].endswith(f"role/plynx-{STAGE}-runner")
    task = _client(moto_url, "ecs").describe_task_definition(taskDefinition=f"plynx-{STAGE}-runner")["taskDefinition"]
    # (moto's CloudFormation keeps a task definition's family, containers and memory only)
    [container] = task["containerDefinitions"]
    assert container["name"] == "runner" and container["image"].endswith(f"/plynx-{STAGE}-runner:latest")
    assert container["logConfiguration"]["options"]["awslogs-group"] == f"/ecs/plynx-{STAGE}-runner"
    groups = {g["logGroupName"] for g in _client(moto_url, "logs").describe_log_groups(
        logGroupNamePrefix="/")["logGroups"]}
    assert {f"/aws/lambda/plynx-{STAGE}-{name}" for name in ("runner", "api")} <= groups
    assert f"/ecs/plynx-{STAGE}-runner" in groups


def _resolve(value: Any, stack: dict, iam: Any) -> str | None:
    """A Globals value as CloudFormation would resolve it on this stack (None: not created on moto)."""
    physical = stack["physical"]
    if isinstance(value, str):
        return value
    if "Ref" in value:
        if value["Ref"] in stack["parameters"]:
            return stack["parameters"][value["Ref"]]
        return physical.get(value["Ref"])
    if "Fn::GetAtt" in value:
        logical, attribute = value["Fn::GetAtt"]
        if logical not in physical:
            return None
        assert (stack["template"]["Resources"][logical]["Type"], attribute) == ("AWS::IAM::Role", "Arn")
        return iam.get_role(RoleName=physical[logical])["Role"]["Arn"]
    if "Fn::Join" in value:
        separator, items = value["Fn::Join"]
        parts = [_resolve(item, stack, iam) for item in items]
        return None if None in parts else separator.join(parts)
    if "Fn::Sub" in value:
        return None if any(f"${{{k}" in value["Fn::Sub"] for k in ("UiDistribution",)) else value["Fn::Sub"]
    raise AssertionError(f"unexpected intrinsic {value}")


def _api_env(moto_url: str, stack: dict) -> dict[str, str]:
    """The API function's environment: config.json's stage variables plus the template's Globals."""
    config = support.chalice_config()
    env = {**config.get("environment_variables", {}), **config["stages"][STAGE]["environment_variables"]}
    iam = _client(moto_url, "iam")
    for name, value in stack["template"]["Globals"]["Function"]["Environment"]["Variables"].items():
        resolved = _resolve(value, stack, iam)
        if resolved is None:
            assert name == "PLYNX_UI_URL", f"{name} names something moto did not create"
            continue
        env[name] = resolved
    return env


def _moto_env(moto_url: str) -> dict[str, str]:
    """What differs from Lambda: the endpoint, and moto's dummy keys in place of the role's."""
    return {"PLYNX_AWS_ENDPOINT": moto_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _sum_graph(recorded: dict, file_ids: list[str]) -> dict:
    """Two files and two python operations summing them (×1, ×2); ids as the recorded event names them."""
    # The operation's own process imports a library of the package, as python-API operations do.
    code = ('import cloudpickle\ns = 0\nfor f in inputs["input"]:\n    s += sum(int(l) for l in open(f))\n'
            'open(outputs["output"], "w").write(str(s * {factor}))\n')
    files = [{"_id": f"f{i}", "base_node_name": "file", "title": f"file {i}",
              "outputs": [{"name": "out", "file_type": "file", "resource_id": rid}]} for i, rid in enumerate(file_ids)]
    operations = [{"_id": node_id, "base_node_name": "python", "title": f"Sum {node_id}",
                   "inputs": [{"name": "input", "file_types": ["file"], "min_count": 1, "max_count": -1,
                               "values": [{"node_id": f["_id"], "output_id": "out"} for f in files]}],
                   "outputs": [{"name": "output", "file_type": "file"}],
                   "parameters": [{"name": "_cmd", "parameter_type": "code",
                                   "value": {"mode": "python", "value": code.format(factor=factor)}}]}
                  for node_id, factor in ((recorded["node_id"], 1), (recorded["node_id"] + "b", 2))]
    return {"_id": recorded["graph_id"], "title": "cloud sum", "nodes": files + operations}


def _upload_request(content: bytes, title: str) -> dict:
    boundary = "plynxboundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in (("title", title), ("description", "cloud test"), ("file_type", "file"))]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="data"; filename="{title}.txt"\r\n'
                 f"Content-Type: text/plain\r\n\r\n".encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {"method": "POST", "path": "/plynx/api/v0/upload_file", "body_b64": base64.b64encode(body).decode(),
            "headers": {**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"}}


def _json(response: dict) -> Any:
    assert response["status"] == 200, base64.b64decode(response["body_b64"])
    return json.loads(base64.b64decode(response["body_b64"]))


def test_packaged_api_and_runner_run_an_operation_on_the_moto_stack(
        moto_url: str, stack: dict, package: tuple[str, str], fresh_python: dict[str, str]) -> None:
    with open(RECORDED_EVENT, encoding="utf-8") as stream:
        recorded = json.load(stream)
    api_env = {**_api_env(moto_url, stack), **_moto_env(moto_url)}
    # The run preparation APPROVE invokes asynchronously (app.prepare_run, as `make deploy` names it): moto takes
    # the Event invocation but cannot run it (no Docker), so the test runs the handler as Lambda would, below.
    lam = _client(moto_url, "lambda")
    lam.create_function(FunctionName=api_env["PLYNX_PREPARE_FUNCTION"], Runtime=deploy.LAMBDA_RUNTIME,
                        Role=lam.get_function_configuration(FunctionName=f"plynx-{STAGE}-runner")["Role"],
                        Handler="app.prepare_run", Code={"S3Bucket": "plynx-deploy", "S3Key": "dev/deployment.zip"})

    # The packaged API, as API Gateway calls it: two uploads, then the graph saved and approved.
    uploads = _in_lambda(fresh_python, {"kind": "api", "requests": [
        _upload_request(b"1\n2\n3\n", "one"), _upload_request(b"10\n20\n", "two")]}, api_env)
    file_ids = [_json(r)["node"]["outputs"][0]["resource_id"] for r in uploads]
    graph = _sum_graph(recorded, file_ids)
    [approved] = _in_lambda(fresh_python, {"kind": "api", "requests": [{
        "method": "POST", "path": "/plynx/api/v0/graphs", "headers": {**AUTH, "Content-Type": "application/json"},
        "body_b64": base64.b64encode(json.dumps({"actions": ["SAVE", "APPROVE"], "graph": graph}).encode()).decode(),
    }]}, api_env)
    assert _json(approved)["status"] == "SUCCESS", _json(approved)
    assert _json(approved)["graph"]["preparing"] is True
    run_id = _json(approved)["run_id"]
    prepared = _in_lambda(fresh_python, {"kind": "invoke", "handler": "app.prepare_run", "event": {
        "action": "prepare", "graph_id": recorded["graph_id"], "run_id": run_id}}, api_env)
    # it started the execution and marked the run RUNNING (the state machine has no "Mark running" Task)
    assert prepared == {"graph_id": recorded["graph_id"], "run_id": run_id, "status": "RUNNING"}, prepared

    # The preparation created the graph's state machine on moto with the stack's role, and started it.
    item = _client(moto_url, "dynamodb").get_item(TableName=f"{stack['outputs']['TablePrefix']}-graphs",
                                                  Key={"_id": {"S": recorded["graph_id"]}})["Item"]
    assert item["run_id"]["S"] == run_id and "prepare_by" not in item
    sfn = _client(moto_url, "stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=item["state_machine_arn"]["S"])
    assert machine["roleArn"] == stack["outputs"]["StateMachineRoleArn"]
    # The recording is what Step Functions sends for this node's Task: the same keys the compiler emits.
    payloads = [state["Parameters"]["Payload"] for state in _task_states(json.loads(machine["definition"]))
                if state.get("Parameters", {}).get("Payload", {}).get("node_id") == recorded["node_id"]]
    assert payloads and {k.removesuffix(".$") for k in payloads[0]} == set(recorded), payloads

    # The runner Lambda, as configured by the stack, invoked with the recorded event; then the
    # Fargate entry point on the same package with the task definition's environment.
    function = _client(moto_url, "lambda").get_function_configuration(FunctionName=f"plynx-{STAGE}-runner")
    runner_env = {**function["Environment"]["Variables"], **_moto_env(moto_url)}
    event = {**recorded, "run_id": run_id}
    result = _in_lambda(fresh_python, {"kind": "invoke", "handler": function["Handler"], "event": event}, runner_env)
    assert result["node_id"] == recorded["node_id"] and result["status"] == "SUCCESS"
    assert result["ended"]["node_id"] == recorded["node_id"]  # what the state keeps for the next operation
    container = _client(moto_url, "ecs").describe_task_definition(
        taskDefinition=f"plynx-{STAGE}-runner")["taskDefinition"]["containerDefinitions"][0]
    fargate_env = {**{e["name"]: e["value"] for e in container["environment"]}, **_moto_env(moto_url),
                   "PLYNX_EVENT": json.dumps({**event, "node_id": recorded["node_id"] + "b"})}
    # As runners/Dockerfile runs it: WORKDIR and PYTHONPATH the unzipped package, `python -m runners`.
    container_env = {"PATH": os.environ["PATH"], "PYTHONPATH": fresh_python["task"], "PYTHONNOUSERSITE": "1",
                     "AWS_DEFAULT_REGION": "us-east-1", **fargate_env}
    fargate = subprocess.run([fresh_python["python"], "-m", "runners"], capture_output=True, text=True, timeout=120,
                             check=False, cwd=fresh_python["task"], env=container_env)
    assert fargate.returncode == 0, fargate.stderr[-4000:]

    # Both outputs are in the stack's bucket on moto, and the packaged API serves them.
    [got] = _in_lambda(fresh_python, {"kind": "api", "requests": [
        {"method": "GET", "path": f"/plynx/api/v0/graphs/{recorded['graph_id']}", "headers": AUTH}]}, api_env)
    nodes = {n["_id"]: n for n in _json(got)["data"]["nodes"]}
    for node_id, expected in ((recorded["node_id"], b"36"), (recorded["node_id"] + "b", b"72")):
        assert nodes[node_id]["node_running_status"] == "SUCCESS", nodes[node_id]
        resource_id = next(o["resource_id"] for o in nodes[node_id]["outputs"] if o["name"] == "output")
        stored = _client(moto_url, "s3").get_object(Bucket=stack["outputs"]["ArtifactsBucketName"],
                                                    Key=f"resources/{resource_id}")["Body"].read()
        assert stored == expected
    # curl's Accept, and none at all (urllib): the bytes, base64 for API Gateway to decode (the stage's binary
    # media type is */*, test_the_stage_answers_bytes_to_any_accept); a JSON answer stays text.
    served = _in_lambda(fresh_python, {"kind": "api", "requests": [
        {"method": "GET", "path": f"/plynx/api/v0/resources/{resource_id}", "headers": {**AUTH, "Accept": "*/*"}},
        {"method": "GET", "path": f"/plynx/api/v0/resources/{resource_id}", "headers": AUTH}]}, api_env)
    staged = deploy.for_stage(deploy.load_template(package[1]))["Resources"]["RestAPI"]["Properties"]
    binary_media_types = staged["DefinitionBody"][deploy.BINARY_MEDIA_TYPES]
    for accept, answer in zip(("*/*", None), served):
        assert answer["status"] == 200 and answer["base64"], answer
        assert support.api_gateway_delivers(answer, accept, binary_media_types) == b"72"  # what the client gets
    assert not got["base64"]


def _task_states(definition: dict) -> Iterator[dict]:
    """Every Task state of a definition, Parallel branches and Map iterators included."""
    for state in definition.get("States", {}).values():
        if state.get("Type") == "Task":
            yield state
        for branch in state.get("Branches", []):
            yield from _task_states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _task_states(state[key])


def test_packaged_api_serves_the_demo_hub_from_the_zip(moto_url: str, stack: dict,
                                                      fresh_python: dict[str, str]) -> None:
    """The default configuration names plugins by dotted path (plynx.demo): they must be in the zip."""
    body = base64.b64encode(json.dumps({"hub": "demo-hub", "search": "print"}).encode()).decode()
    [hub] = _in_lambda(fresh_python, {"kind": "api", "requests": [{
        "method": "POST", "path": "/plynx/api/v0/search_in_hubs", "body_b64": body,
        "headers": {**AUTH, "Content-Type": "application/json"}}]},
        {**_api_env(moto_url, stack), **_moto_env(moto_url)})
    assert [g["title"] for g in _json(hub)["items"]] == ["Hello world", "Types"]



def test_deploy_uploads_the_ui_with_its_config_and_invalidates_it(moto_url: str, stack: dict,
                                                                  package: tuple[str, str], build_dir: str) -> None:
    """`make deploy`'s UI step on the moto stack's UI bucket (moto's CloudFormation makes no distribution:
    one is made here for the invalidation)."""
    distribution = _client(moto_url, "cloudfront").create_distribution(DistributionConfig={
        "CallerReference": "plynx-test", "Comment": "", "Enabled": True, "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 1, "Items": [{"Id": "ui", "DomainName": "ui.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "ui", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})["Distribution"]
    ui_dir = deploy.build_ui(STAGE, build_dir)
    assert ui_dir and os.path.exists(os.path.join(ui_dir, "index.html"))
    ctx = _context(moto_url)
    ctx.outputs = {**stack["outputs"], "UiDistributionId": distribution["Id"],
                   "EndpointURL": "https://abc123.execute-api.us-east-1.amazonaws.com/api/"}
    deploy.execute([s for s in deploy.deploy_plan(ctx, deploy.Package(STAGE, "", *package, ui_dir))
                    if s.title.startswith("upload the UI")], dry_run=False)

    s3, bucket = _client(moto_url, "s3"), stack["outputs"]["UiBucketName"]
    index = s3.get_object(Bucket=bucket, Key="index.html")
    assert index["ContentType"] == "text/html" and index["CacheControl"] == "no-cache"
    config = s3.get_object(Bucket=bucket, Key="config.json")
    assert json.loads(config["Body"].read()) == {
        "api_url": "https://abc123.execute-api.us-east-1.amazonaws.com/api/plynx/api/v0"}
    assets = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="assets/").get("Contents", [])]
    if assets:  # a Vite build: content-hashed names, cached for good
        assert s3.head_object(Bucket=bucket, Key=assets[0])["CacheControl"].endswith("immutable")
    invalidations = _client(moto_url, "cloudfront").list_invalidations(DistributionId=distribution["Id"])
    assert invalidations["InvalidationList"]["Quantity"] == 1

def test_transfer_exports_the_stage_and_imports_it_again_unchanged(moto_url: str, stack: dict, tmp_path: Any,
                                                                   capfd: Any) -> None:
    """`python -m infra.deploy transfer -- export DIR`: the stage's own tables and bucket, found from its outputs."""
    ctx = _context(moto_url)
    out = str(tmp_path / "stage")
    capfd.readouterr()
    assert deploy.transfer(ctx, ["export", out]) == 0
    assert json.loads(capfd.readouterr().out)["counts"]["users"] >= 1
    with open(os.path.join(out, "users.jsonl")) as stream:
        assert "alice" in {json.loads(line)["username"] for line in stream}
    assert deploy.transfer(ctx, ["import", out]) == 0
    report = json.loads(capfd.readouterr().out)
    assert report["counts"]["users"] == {"written": 0, "unchanged": report["counts"]["users"]["unchanged"], "kept": 0}
    assert deploy.transfer(deploy.Context("prod", "us-east-1", ctx.session, account=ctx.account,
                                          endpoint_url=moto_url), ["export", out]) == 1  # not deployed


def test_teardown_deletes_the_stage_and_only_its_state_machines(moto_url: str, stack: dict) -> None:
    """`make teardown`'s plan, run on the moto stack (the last test of this module: it empties the stack)."""
    sfn, s3 = _client(moto_url, "stepfunctions"), _client(moto_url, "s3")
    other_stage = sfn.create_state_machine(
        name="plynx-another-stages-graph-0123456789abcdef", roleArn="arn:aws:iam::123456789012:role/plynx-prod-state"
        "-machine", definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    ours = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]
            if sfn.describe_state_machine(stateMachineArn=m["stateMachineArn"])["roleArn"]
            == stack["outputs"]["StateMachineRoleArn"]]
    assert ours, "the previous test's graph made a state machine with this stage's role"
    ctx = _context(moto_url)
    plan = deploy.teardown_plan(ctx)
    # moto's DeleteStack stops at the VPC ("has dependencies"; AWS orders the deletes): that one call is
    # left to AWS, the rest of the plan runs here.
    deploy.execute([step for step in plan if not step.title.startswith("delete stack")], dry_run=False)
    assert any(step.title == f"delete stack plynx-{STAGE} and wait" for step in plan)

    left = {m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    assert other_stage["stateMachineArn"] in left and not left & set(ours)
    for bucket in (stack["outputs"]["ArtifactsBucketName"], stack["outputs"]["UiBucketName"]):
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0, f"{bucket} must be empty to be deleted"
    assert not _client(moto_url, "ssm").get_parameters(Names=[ctx.secret_parameter])["Parameters"]
