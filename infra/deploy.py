"""Package, deploy and tear down one stage of serverless PLynx: one CloudFormation stack per stage.

    python -m infra.deploy package  --stage dev             # offline, no credentials: build/dev/
    python -m infra.deploy infra    --stage dev [--dry-run] # the stack without the API, then `chalice deploy`
    python -m infra.deploy gateway  --stage dev             # after each `chalice deploy`: bytes for any Accept
    python -m infra.deploy deploy   --stage dev [--dry-run] [--alarm-email you@example.com]
    python -m infra.deploy teardown --stage dev [--dry-run] [--force]
    python -m infra.deploy users    --stage dev -- create alice --admin   # chalicelib/api/user_cli.py on it
    python -m infra.deploy transfer --stage dev -- export DIR             # chalicelib/api/transfer_cli.py on it

`package` runs `chalice package --merge-template infra/cloudformation/plynx.yaml` on a staged copy of
the project (Chalice packages app.py and chalicelib/; runners/, stepfunctions/ and plynx/ are added
to its zip), so the API, the event handler and the runner share one zip, and the UI is built next to it.
`infra` deploys the same template without the API (ApiDeployedBy=chalice) and writes what
`chalice deploy --stage <stage>` needs into .chalice/ (infra/chalice_config.py).
`deploy`, `infra` and `teardown` plan their steps first; `--dry-run` prints the plan and touches nothing.
"""
from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import json
import mimetypes
import os
import secrets
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import WaiterError

from infra import chalice_api, chalice_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(REPO, "infra", "cloudformation", "plynx.yaml")
BUILD = os.path.join(REPO, "build")
STAGES = ("dev", "prod")
# What Chalice packages from the project directory, and the top-level packages added to its zip.
PROJECT_FILES = ("app.py", "requirements.txt")
PROJECT_DIRS = ("chalicelib",)
# plynx/ (the python API) holds the demo hub's operations, which the default configuration loads.
VENDORED = chalice_config.VENDORED
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# Lambda's limits on a function's package (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
MIB = 1024 * 1024
ZIPPED_LIMIT = 50 * MIB
UNZIPPED_LIMIT = 250 * MIB
API_PATH = "plynx/api/v0"
MIN_SECRET_KEY_LENGTH = 32  # HS256's key should be at least as long as its 256-bit output (RFC 7518 3.2)
REGISTRATION_MODES = ("open", "approval", "closed")  # chalicelib/domain/accounts.py, the template's Registration
LAMBDA_RUNTIME = "python3.11"  # the functions' runtime (config.json's Python, plynx.yaml's Runtime)


def stack_name(stage: str) -> str:
    """One stack per stage, named as every resource in it is (plynx-<stage>-...)."""
    return f"plynx-{stage}"


@dataclass(frozen=True)
class Package:
    """The artifacts of one stage, all built offline."""

    stage: str
    directory: str  # build/<stage>
    zip_path: str  # the deployment package: API, event handler and runner
    template: str  # Chalice's SAM template merged with infra/cloudformation/plynx.yaml
    ui_dir: str | None  # the static site, without its config.json (written at deploy time)

    def sizes(self) -> tuple[int, int]:
        """The zip's size and the size of its contents, the two figures Lambda limits."""
        with zipfile.ZipFile(self.zip_path) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
        return os.path.getsize(self.zip_path), unzipped


# --- package (offline) ---------------------------------------------------------------------------


def _copytree(source: str, target: str) -> None:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def stage_project(stage: str, build: str = BUILD) -> str:
    """A copy of what Chalice packages (the directory is kept between builds: it holds Chalice's cache)."""
    project = os.path.join(build, stage, "project")
    os.makedirs(os.path.join(project, ".chalice"), exist_ok=True)
    for name in PROJECT_FILES:
        shutil.copy2(os.path.join(REPO, name), os.path.join(project, name))
    for name in PROJECT_DIRS:
        _copytree(os.path.join(REPO, name), os.path.join(project, name))
    # Chalice imports app.py while packaging, and app.py (through chalicelib) imports these.
    for name in VENDORED:
        _copytree(os.path.join(REPO, name), os.path.join(project, name))
    for name in os.listdir(os.path.join(REPO, ".chalice")):
        if name.startswith("policy-") and name.endswith(".json"):
            shutil.copy2(os.path.join(REPO, ".chalice", name), os.path.join(project, ".chalice", name))
    # What `make infra` wrote for `chalice deploy` is the stack's to give here (SAM Globals, Fn::GetAtt).
    config = chalice_config.for_package(chalice_config.load_config(), load_template(TEMPLATE))
    with open(os.path.join(project, ".chalice", "config.json"), "w", encoding="utf-8") as stream:
        json.dump(config, stream, indent=2)
    return project


def _chalice() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "chalice")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-c", "import sys; from chalice.cli import main; sys.exit(main())"]


def package_api(stage: str, build: str = BUILD, env: dict[str, str] | None = None,
                cache: str | None = None) -> tuple[str, str]:
    """`chalice package --merge-template`: needs a region but no credentials. Returns (zip, template).

    `cache`: a directory of Chalice's dependency builds shared by build directories (the tests build in
    temporary ones, so that concurrent runs do not share an output directory).
    """
    project = stage_project(stage, build)
    deployments = os.path.join(project, ".chalice", "deployments")
    if cache:
        _copy_new_zips(cache, deployments)
    out = os.path.join(build, stage, "out")
    shutil.rmtree(out, ignore_errors=True)
    # Chalice imports app.py to read its routes: the local stack's settings must not leak into that.
    run_env = {k: v for k, v in (os.environ if env is None else env).items() if not k.startswith("PLYNX_")}
    run_env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    subprocess.run([*_chalice(), "--project-dir", project, "package", "--stage", stage,
                    "--merge-template", TEMPLATE, out], check=True, env=run_env, cwd=project)
    _prune_cache(deployments)
    if cache:
        _copy_new_zips(deployments, cache)
        _prune_cache(cache, keep=4)
    _add_packages(os.path.join(out, "deployment.zip"), project)
    _add_bytecode(os.path.join(out, "deployment.zip"))
    # A YAML merge template makes Chalice write YAML.
    return os.path.join(out, "deployment.zip"), os.path.join(out, "sam.yaml")


def _copy_new_zips(source: str, target: str) -> None:
    """Copy the cached builds `target` lacks; each lands whole (a temporary name, then a rename)."""
    if not os.path.isdir(source):
        return
    os.makedirs(target, exist_ok=True)
    for name in os.listdir(source):
        if name.endswith(".zip") and not os.path.exists(os.path.join(target, name)):
            partial = os.path.join(target, f".{name}.{os.getpid()}.partial")
            try:
                shutil.copy2(os.path.join(source, name), partial)
            except FileNotFoundError:
                continue  # pruned meanwhile by another build
            os.replace(partial, os.path.join(target, name))


def _add_packages(zip_path: str, project: str) -> None:
    """Put runners/, stepfunctions/ and plynx/ at the zip's root, beside app.py and chalicelib/.

    Chalice only packages app.py, chalicelib/ and vendor/, and it rebuilds every dependency when its
    cache key changes (a hash of requirements.txt, app.py, chalicelib/ and vendor/): added here, a change
    to these packages alone reuses the cached dependencies.
    """
    with zipfile.ZipFile(zip_path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        present = set(archive.namelist())
        for name in VENDORED:
            for root, dirs, files in os.walk(os.path.join(project, name)):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for filename in sorted(files):
                    if filename.endswith(".pyc"):
                        continue
                    path = os.path.join(root, filename)
                    arcname = os.path.relpath(path, project).replace(os.sep, "/")
                    if arcname in present:
                        raise SystemExit(f"{arcname} is in the package twice (a dependency named like ours?)")
                    info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
                    info.external_attr = 0o644 << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    with open(path, "rb") as stream:
                        archive.writestr(info, stream.read())


def _add_bytecode(zip_path: str) -> None:
    """Add every module's bytecode to the zip: /var/task is read-only, so without .pyc files each cold
    start compiles what it imports (bench/cloud_package.py: `import app` 1.1 s without, 0.35 s with).

    Unchecked-hash .pyc files are used whatever the files' times; only an interpreter of the runtime's
    version writes valid ones, so another Python leaves the zip as it is.
    """
    if f"python{sys.version_info[0]}.{sys.version_info[1]}" != LAMBDA_RUNTIME:
        print(f"    (no bytecode added: this is Python {sys.version.split()[0]}, the functions run {LAMBDA_RUNTIME})")
        return
    import importlib.util
    import marshal

    tag = sys.implementation.cache_tag  # cpython-311
    with zipfile.ZipFile(zip_path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        present = set(archive.namelist())
        for name in sorted(present):
            if not name.endswith(".py"):
                continue
            directory, _, filename = name.rpartition("/")
            pyc = f"{directory + '/' if directory else ''}__pycache__/{filename[:-3]}.{tag}.pyc"
            if pyc in present:
                continue
            source = archive.read(name)
            try:
                code = compile(source, f"/var/task/{name}", "exec", dont_inherit=True)
            except SyntaxError:
                continue  # a file no import reaches (templates, other Pythons' code): as compileall does
            # PEP 552: magic, flags (hash-based, unchecked), the source's hash, the marshalled code.
            data = importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little") + importlib.util.source_hash(source)
            info = zipfile.ZipInfo(pyc, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data + marshal.dumps(code))


def _prune_cache(directory: str, keep: int = 2) -> None:
    """Chalice caches one zip per requirements and vendor/ content: keep the newest few (about 27 MB each)."""
    if not os.path.isdir(directory):
        return
    cached = sorted((os.path.join(directory, n) for n in os.listdir(directory) if n.endswith(".zip")),
                    key=os.path.getmtime, reverse=True)
    for path in cached[keep:]:
        os.remove(path)


def build_ui(stage: str, build: str = BUILD) -> str | None:
    """The static site: ui/dist (`make ui` builds it; built here if missing), else ui/ as it is."""
    source = os.path.join(REPO, "ui")
    if not os.path.isdir(source):
        return None
    if os.path.exists(os.path.join(source, "package.json")):
        if not os.path.isdir(os.path.join(source, "dist")):
            if not os.path.isdir(os.path.join(source, "node_modules")):
                subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], check=True, cwd=source)
            subprocess.run(["npm", "run", "build"], check=True, cwd=source)
        source = os.path.join(source, "dist")
    target = os.path.join(build, stage, "ui")
    shutil.rmtree(target, ignore_errors=True)
    skip = shutil.ignore_patterns("node_modules", "src", "package*.json", "tsconfig*.json", "vite.config.*",
                                  "config.json", ".built")
    shutil.copytree(source, target, ignore=skip)
    return target


def package(stage: str, build: str = BUILD, ui: bool = True, cache: str | None = None) -> Package:
    """Every artifact of a stage, offline: the Lambda zip, the merged template, the static site."""
    zip_path, template = package_api(stage, build, cache=cache)
    result = Package(stage, os.path.join(build, stage), zip_path, template, build_ui(stage, build) if ui else None)
    zipped, unzipped = result.sizes()
    print(f"{stage}: {os.path.relpath(zip_path, REPO)}: {zipped / MIB:.1f} MiB zipped "
          f"(limit {ZIPPED_LIMIT / MIB:.0f}), {unzipped / MIB:.1f} MiB unzipped (limit {UNZIPPED_LIMIT / MIB:.0f})")
    if zipped > ZIPPED_LIMIT or unzipped > UNZIPPED_LIMIT:
        raise SystemExit(f"{zip_path} is over Lambda's package limits")
    return result


def site_config(api_url: str) -> bytes:
    """The UI's runtime /config.json, as the local stack serves it (infra/local/ui_server.py)."""
    return json.dumps({"api_url": api_url}).encode("utf-8")


def api_url(endpoint_url: str) -> str:
    """The API base URL from Chalice's `EndpointURL` output (https://<id>.execute-api.<region>.../api/)."""
    return endpoint_url.rstrip("/") + "/" + API_PATH


def load_template(path: str) -> dict:
    """A CloudFormation template, YAML short forms (!Ref, !Sub) expanded, as plain dicts and lists."""
    from cfnlint.decode import decode

    template, matches = decode(path)
    if matches:
        raise ValueError(f"{path}: {matches}")
    return json.loads(json.dumps(template))


def with_code_location(template: dict, bucket: str, key: str) -> dict:
    """What `aws cloudformation package` does: point Chalice's functions at the uploaded zip."""
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and isinstance(properties.get("CodeUri"), str):
            properties["CodeUri"] = {"Bucket": bucket, "Key": key}
    return template


PREFLIGHT_ORIGIN = "method.response.header.Access-Control-Allow-Origin"
STAGE_UI_ORIGIN = {"Fn::Sub": "'https://${UiDistribution.DomainName}'"}


def with_ui_origin(template: dict) -> dict:
    """API Gateway answers CORS preflights itself, with the origin Chalice saw at package time (no stage URL
    then): point every preflight at the stage's UI, as the API's own answers are (PLYNX_UI_URL)."""
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Api":
            continue
        for methods in resource["Properties"]["DefinitionBody"]["paths"].values():
            preflight = methods.get("options", {}).get("x-amazon-apigateway-integration", {})
            parameters = preflight.get("responses", {}).get("default", {}).get("responseParameters", {})
            if PREFLIGHT_ORIGIN in parameters:
                parameters[PREFLIGHT_ORIGIN] = STAGE_UI_ORIGIN
    return template


BINARY_MEDIA_TYPES = "x-amazon-apigateway-binary-media-types"


def with_any_binary_media_type(template: dict) -> dict:
    """API Gateway decodes a base64 answer (a resource's bytes) only for a request whose first Accept type is
    a binary media type: `*/*` makes that every request, so a client that sends no Accept (urllib) or a
    browser's own list gets the bytes, as locally. Request bodies then reach the API base64-encoded, which
    Chalice decodes (`raw_body`); JSON answers stay text (they are not base64-encoded). The preflights' MOCK
    integrations would then fail with a 500 (a binary body they cannot transform, aws/chalice#1310): they
    convert to text, request and answer. (`chalice deploy`'s API gets the same from infra/chalice_api.py.)"""
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Api":
            continue
        body = resource["Properties"]["DefinitionBody"]
        body[BINARY_MEDIA_TYPES] = [chalice_api.ANY_MEDIA_TYPE]
        for methods in body["paths"].values():
            preflight = methods.get("options", {}).get("x-amazon-apigateway-integration")
            if preflight and preflight.get("type") == "mock":
                preflight["contentHandling"] = chalice_api.TEXT
                for answer in preflight.get("responses", {}).values():
                    answer["contentHandling"] = chalice_api.TEXT
    return template


SCHEDULE_HANDLER = "app.schedule_fired"


def with_schedule_function_name(template: dict) -> dict:
    """Name the schedules' target as `chalice deploy` names it (plynx-<stage>-schedule_fired): the API hands
    that ARN to EventBridge Scheduler and the scheduler role may invoke only it (a generated name would need
    the function's own ARN in the Globals every function gets: a circular reference)."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function" and resource["Properties"].get("Handler") == SCHEDULE_HANDLER:
            resource["Properties"]["FunctionName"] = {"Fn::Sub": "plynx-${Stage}-schedule_fired"}
    return template


# Chalice's logical id of app.prepare_run, and the name `chalice deploy` gives it (<app>-<stage>-<handler>).
PREPARE_FUNCTION = "PrepareRun"
PREPARE_FUNCTION_NAME = {"Fn::Sub": "plynx-${Stage}-prepare_run"}
# app.collect_garbage: the API invokes it after a delete by the name .chalice/config.json gives (PLYNX_GC_FUNCTION).
GC_FUNCTION = "CollectGarbage"
GC_FUNCTION_NAME = {"Fn::Sub": "plynx-${Stage}-collect_garbage"}


def with_function_names(template: dict) -> dict:
    """`chalice package` leaves its functions unnamed (CloudFormation makes names up); the API invokes the run
    preparation by the name the template's Globals give it (PLYNX_PREPARE_FUNCTION) and the garbage collection
    by the one its config gives (PLYNX_GC_FUNCTION): the names `chalice deploy` gives them too."""
    for logical_id, name in ((PREPARE_FUNCTION, PREPARE_FUNCTION_NAME), (GC_FUNCTION, GC_FUNCTION_NAME)):
        function = template["Resources"].get(logical_id)
        if function is not None:
            function["Properties"]["FunctionName"] = name
    return template


def for_stage(template: dict) -> dict:
    """The merged template as a stage is deployed: preflights for its UI, bytes for every client, the schedules'
    target and the run preparation by their names."""
    return with_function_names(with_schedule_function_name(with_any_binary_media_type(with_ui_origin(template))))


# --- plans ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing a deploy or teardown does; `run` acts, `title` is what a dry run prints."""

    title: str
    run: Callable[[], None]


@dataclass
class Context:
    """What steps learn from AWS and pass on (account, stack outputs, uploaded keys)."""

    stage: str
    region: str
    session: Any = None
    account: str = "<account>"
    outputs: dict[str, str] = field(default_factory=dict)
    endpoint_url: str | None = None  # another AWS-compatible endpoint (the tests' moto server)
    api_concurrency: int = 20  # reserved for each of the API's functions (the template's ApiReservedConcurrency)
    runner_concurrency: int = 0  # reserved for (and capping) the runner; 0: none
    runner_storage: int = 2048  # MB of the runner Lambda's ephemeral storage (/tmp): its inputs must fit
    secret_key: str = ""  # the stage's token-signing key; empty only with single_user
    single_user: bool = False  # asked for with --single-user: no key, everyone is `default`
    registration: str | None = None  # --registration; None: the stack's current mode (a new stack: closed)

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.region, endpoint_url=self.endpoint_url)

    @property
    def deploy_bucket(self) -> str:
        return f"plynx-deploy-{self.account}-{self.region}"

    @property
    def secret_parameter(self) -> str:
        return f"/plynx/{self.stage}/secret-key"


def execute(steps: list[Step], dry_run: bool) -> None:
    """Run a plan, or only print it."""
    for number, step in enumerate(steps, 1):
        print(f"[{number}/{len(steps)}] {step.title}", flush=True)
        if not dry_run:
            step.run()


def _session(region: str | None) -> tuple[Any, str]:
    """boto3 only when talking to AWS: `package` runs without it being configured."""
    import boto3

    session = boto3.session.Session(region_name=region)
    return session, session.region_name or "us-east-1"


def _stack(ctx: Context) -> dict | None:
    cf = ctx.client("cloudformation")
    try:
        stack = cf.describe_stacks(StackName=stack_name(ctx.stage))["Stacks"][0]
    except cf.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stack


def _read_outputs(ctx: Context) -> None:
    stack = _stack(ctx)
    ctx.outputs = {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


# --- deploy --------------------------------------------------------------------------------------


def _ensure_deploy_bucket(ctx: Context) -> None:
    """A private, encrypted bucket for packages and templates (shared by stages, kept by teardown)."""
    s3 = ctx.client("s3")
    try:
        s3.head_bucket(Bucket=ctx.deploy_bucket)
        return
    except s3.exceptions.ClientError:
        pass
    kwargs: dict[str, Any] = {"Bucket": ctx.deploy_bucket}
    if ctx.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
    s3.create_bucket(**kwargs)
    s3.put_public_access_block(Bucket=ctx.deploy_bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=ctx.deploy_bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_lifecycle_configuration(Bucket=ctx.deploy_bucket, LifecycleConfiguration={"Rules": [
        {"ID": "old-packages", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 90}}]})


def _digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_secret_key(ctx: Context) -> None:
    """The stage's token-signing key, kept as an SSM SecureString (free) and made once: a redeploy keeps
    users' tokens valid. It reaches the API as a NoEcho parameter of the stack."""
    ssm = ctx.client("ssm")
    try:
        ctx.secret_key = ssm.get_parameter(Name=ctx.secret_parameter, WithDecryption=True)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        ctx.secret_key = secrets.token_urlsafe(48)
        ssm.put_parameter(Name=ctx.secret_parameter, Value=ctx.secret_key, Type="SecureString",
                          Description=f"PLynx {ctx.stage}: signs users' tokens (infra/deploy.py)")
    check_secret_key(ctx)


def check_secret_key(ctx: Context) -> None:
    """Refuse a keyless (or guessable) multi-user stage: without a key the API would let everyone in as
    `default`. Single-user mode is only ever what --single-user asks for."""
    if ctx.single_user:
        return
    key = ctx.secret_key.strip()
    if not key:
        raise SystemExit(f"The stage's secret key is empty ({ctx.secret_parameter}): refusing to deploy an API that "
                         "anyone could use as `default`. Fix the key, or pass --single-user if that is what you mean.")
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise SystemExit(f"The stage's secret key {ctx.secret_parameter} is {len(key)} characters; HS256 tokens need "
                         f"at least {MIN_SECRET_KEY_LENGTH} (delete the parameter and deploy: a new one is made)")


def _deploy_stack(ctx: Context, pkg: Package, alarm_email: str, api: str = "package") -> None:
    """Upload the zip and the template, then create or update the stack through a change set.

    `api`: the template's ApiDeployedBy; with "chalice" the stack holds no API function, so the secret key
    stays out of it (`chalice deploy`'s functions read it from SSM).
    """
    check_secret_key(ctx)
    s3, cf = ctx.client("s3"), ctx.client("cloudformation")
    digest = _digest(pkg.zip_path)
    code_key = f"{ctx.stage}/{digest}.zip"
    s3.upload_file(pkg.zip_path, ctx.deploy_bucket, code_key)
    template = for_stage(with_code_location(load_template(pkg.template), ctx.deploy_bucket, code_key))
    body = json.dumps(template, separators=(",", ":")).encode("utf-8")
    template_key = f"{ctx.stage}/{hashlib.sha256(body).hexdigest()}.template.json"
    # Templates over 51,200 bytes must come from S3; the merged one is about 100 KB.
    s3.put_object(Bucket=ctx.deploy_bucket, Key=template_key, Body=body)
    template_url = f"https://{ctx.deploy_bucket}.s3.{ctx.region}.amazonaws.com/{template_key}"
    stack = _stack(ctx)
    status = (stack or {}).get("StackStatus", "")
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"):
        raise SystemExit(f"stack {stack_name(ctx.stage)} is {status} after a failed create: `make teardown` first")
    exists = stack is not None and status != "REVIEW_IN_PROGRESS"  # a never-executed change set: still CREATE
    parameters: list[dict[str, Any]] = [
        {"ParameterKey": key, "ParameterValue": value} for key, value in (
            ("Stage", ctx.stage), ("CodeBucket", ctx.deploy_bucket), ("CodeKey", code_key),
            ("AlarmEmail", alarm_email),
            ("SecretKey", "" if ctx.single_user or api == "chalice" else ctx.secret_key),
            ("ApiDeployedBy", api),
            ("SingleUser", "true" if ctx.single_user else "false"),
            ("ApiReservedConcurrency", str(ctx.api_concurrency)),
            ("RunnerReservedConcurrency", str(ctx.runner_concurrency)),
            ("RunnerEphemeralStorage", str(ctx.runner_storage)))]
    if ctx.registration:
        parameters.append({"ParameterKey": "Registration", "ParameterValue": ctx.registration})
    elif exists:
        parameters.append({"ParameterKey": "Registration", "UsePreviousValue": True})  # keep what was chosen
    if shutil.which("docker"):
        parameters.append({"ParameterKey": "RunnerImageTag", "ParameterValue": digest[:16]})  # pushed next
    elif exists:
        parameters.append({"ParameterKey": "RunnerImageTag", "UsePreviousValue": True})
    change_set = f"deploy-{time.strftime('%Y%m%d%H%M%S')}"
    cf.create_change_set(
        StackName=stack_name(ctx.stage), ChangeSetName=change_set, ChangeSetType="UPDATE" if exists else "CREATE",
        TemplateURL=template_url, Capabilities=CAPABILITIES, Parameters=parameters,
        Tags=[{"Key": "app", "Value": "plynx"}, {"Key": "stage", "Value": ctx.stage}],
    )
    try:
        cf.get_waiter("change_set_create_complete").wait(
            StackName=stack_name(ctx.stage), ChangeSetName=change_set, WaiterConfig={"Delay": 5, "MaxAttempts": 120})
    except WaiterError:
        described = cf.describe_change_set(StackName=stack_name(ctx.stage), ChangeSetName=change_set)
        if "didn't contain changes" in described.get("StatusReason", "") or "No updates" in described.get(
                "StatusReason", ""):
            print("    stack unchanged")
            cf.delete_change_set(StackName=stack_name(ctx.stage), ChangeSetName=change_set)
            _read_outputs(ctx)
            return
        raise SystemExit(f"change set failed: {described.get('StatusReason')}")
    cf.execute_change_set(StackName=stack_name(ctx.stage), ChangeSetName=change_set)
    # CloudFront distributions take minutes: wait up to an hour.
    waiter = "stack_update_complete" if exists else "stack_create_complete"
    cf.get_waiter(waiter).wait(StackName=stack_name(ctx.stage), WaiterConfig={"Delay": 15, "MaxAttempts": 240})
    _read_outputs(ctx)


def _push_runner_image(ctx: Context, pkg: Package) -> None:
    """Build runners/Dockerfile around the same zip and push it to the stage's ECR repository."""
    if shutil.which("docker") is None:
        print("    docker not found: the Fargate task keeps its previous image (none on a first deploy: "
              "operations placed on Fargate fail until one is pushed); the Lambda runner is deployed")
        return
    repository = ctx.outputs["RunnerRepositoryUri"]
    image = f"{repository}:{_digest(pkg.zip_path)[:16]}"
    token = ctx.client("ecr").get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
    subprocess.run(["docker", "login", "--username", user, "--password-stdin", token["proxyEndpoint"]],
                   input=password.encode(), check=True)
    subprocess.run(["docker", "build", "--platform", "linux/amd64", "-f", os.path.join(REPO, "runners", "Dockerfile"),
                    "-t", image, os.path.dirname(pkg.zip_path)], check=True)
    subprocess.run(["docker", "push", image], check=True)


def _upload_ui(ctx: Context, pkg: Package) -> None:
    """The site to its bucket, /config.json naming this stage's API, then a CloudFront invalidation."""
    if pkg.ui_dir is None:
        print("    no ui/ to upload")
        return
    s3, bucket = ctx.client("s3"), ctx.outputs["UiBucketName"]
    for root, _dirs, files in os.walk(pkg.ui_dir):
        for name in files:
            path = os.path.join(root, name)
            key = os.path.relpath(path, pkg.ui_dir).replace(os.sep, "/")
            # Vite names assets by content hash: cache them for good; index.html must be revalidated.
            cache = "public, max-age=31536000, immutable" if key.startswith("assets/") else "no-cache"
            s3.upload_file(path, bucket, key, ExtraArgs={
                "ContentType": mimetypes.guess_type(name)[0] or "application/octet-stream", "CacheControl": cache})
    s3.put_object(Bucket=bucket, Key="config.json", Body=site_config(api_url(ctx.outputs["EndpointURL"])),
                  ContentType="application/json", CacheControl="no-cache")
    ctx.client("cloudfront").create_invalidation(DistributionId=ctx.outputs["UiDistributionId"], InvalidationBatch={
        "Paths": {"Quantity": 2, "Items": ["/index.html", "/config.json"]}, "CallerReference": str(time.time())})


def _mode_step(ctx: Context, single_user: bool) -> Step:
    """Multi-user (the stage's secret key, made once) or, only when asked for, single-user."""
    ctx.single_user = single_user
    registration = f"registration {ctx.registration}" if ctx.registration else "registration as before (new: closed)"
    if single_user:
        return Step("single-user mode (--single-user): no secret key, anyone who reaches the API acts as `default`",
                    lambda: None)
    return Step(f"ensure the stage's secret key {ctx.secret_parameter} (SSM SecureString): multi-user mode, "
                f"{registration}; an empty key stops the deploy", lambda: ensure_secret_key(ctx))


def deploy_plan(ctx: Context, pkg: Package, alarm_email: str = "", single_user: bool = False) -> list[Step]:
    """API, infrastructure, runner image and UI of one stage, in order."""
    name = stack_name(ctx.stage)
    mode = _mode_step(ctx, single_user)
    return [
        Step(f"ensure deployment bucket {ctx.deploy_bucket}", lambda: _ensure_deploy_bucket(ctx)),
        mode,
        Step(f"upload {os.path.relpath(pkg.zip_path, REPO)} and the merged template; create or update stack "
             f"{name} (API, tables, buckets, roles, runner, Fargate, UI distribution, alarms; reserved concurrency: "
             f"{ctx.api_concurrency or 'none'} per API function, {ctx.runner_concurrency or 'none'} for the runner)",
             lambda: _deploy_stack(ctx, pkg, alarm_email)),
        Step(f"build runners/Dockerfile and push it to ECR repository {name}-runner",
             lambda: _push_runner_image(ctx, pkg)),
        Step("upload the UI with /config.json pointing at the stage's API; invalidate CloudFront",
             lambda: _upload_ui(ctx, pkg)),
        Step("print the URLs", lambda: print(f"    API {api_url(ctx.outputs['EndpointURL'])}\n"
                                             f"    UI  {ctx.outputs['UiUrl']}")),
    ]


# --- infra: the stack without the API, for `chalice deploy` ----------------------------------------


def stack_for_chalice(ctx: Context, template: dict) -> chalice_config.Stack:
    """The deployed stack as infra/chalice_config.py resolves it."""
    cf = ctx.client("cloudformation")
    described = cf.describe_stacks(StackName=stack_name(ctx.stage))["Stacks"][0]
    parameters = {p["ParameterKey"]: p.get("ResolvedValue", p["ParameterValue"]) for p in described["Parameters"]}
    physical = {}
    for page in cf.get_paginator("list_stack_resources").paginate(StackName=stack_name(ctx.stage)):
        for resource in page["StackResourceSummaries"]:
            if "LogicalResourceId" in resource:  # (moto also lists resources whose Condition is false, unnamed)
                physical[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    partition = described["StackId"].split(":")[1]
    return chalice_config.Stack(template, parameters, outputs, physical, ctx.region, ctx.account, partition)


def write_chalice_config(ctx: Context, template_path: str = TEMPLATE, chalice_dir: str = chalice_config.CHALICE_DIR,
                         project: str = REPO) -> list[str]:
    """.chalice/config.json's stage and its concrete policy from the stack; vendor/ links for Chalice's zip."""
    stack = stack_for_chalice(ctx, load_template(template_path))
    unresolved = chalice_config.write(stack, ctx.stage, ctx.single_user, ctx.api_concurrency, chalice_dir)
    linked = chalice_config.link_vendored(project)
    if linked:
        print(f"    vendor/: linked {', '.join(linked)} (Chalice zips vendor/ with app.py and chalicelib/)")
    return unresolved


def chalice_api_url(stage: str, chalice_dir: str = chalice_config.CHALICE_DIR) -> str | None:
    """The REST API `chalice deploy` made, from its state file .chalice/deployed/<stage>.json (None: not yet)."""
    path = os.path.join(chalice_dir, "deployed", f"{stage}.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as stream:
        deployed = json.load(stream)
    return next((r["rest_api_url"] for r in deployed.get("resources", []) if r.get("resource_type") == "rest_api"),
                None)


def settle_chalice_api(ctx: Context, chalice_dir: str = chalice_config.CHALICE_DIR, strict: bool = False) -> list[str]:
    """The REST API `chalice deploy` made answers bytes to any Accept, as make deploy's (infra/chalice_api.py);
    then whether the stage's UI can use it (`strict`: stop if not, else warn)."""
    deployed = chalice_api.deployed_rest_api(ctx.stage, chalice_dir)
    if deployed is None:
        print(f"    no .chalice/deployed/{ctx.stage}.json: no API before `chalice deploy --stage {ctx.stage}`")
        return []
    # API Gateway's control plane throttles a few requests a second per account: retry with backoff.
    apigw = ctx.session.client("apigateway", region_name=ctx.region, endpoint_url=ctx.endpoint_url,
                               config=Config(retries={"mode": "standard", "max_attempts": 10}))
    changes = chalice_api.settle(apigw, *deployed)
    print(f"    REST API {deployed[0]}, stage {deployed[1]}: " + (
        f"{len(changes)} changes, deployed ({changes[0]}, ...)" if changes else "already as make deploy's"))
    _check_ui_origin(ctx, apigw, deployed[0], chalice_dir, strict)
    return changes


def _check_ui_origin(ctx: Context, apigw: Any, rest_api_id: str, chalice_dir: str, strict: bool) -> None:
    """The preflights and the API function name the stage's UI (the stack's UiUrl, as make deploy's document)."""
    ui_url = {o["OutputKey"]: o["OutputValue"] for o in (_stack(ctx) or {}).get("Outputs", [])}.get("UiUrl")
    function = chalice_api.deployed_function(ctx.stage, chalice_dir)
    if ui_url is None or function is None:
        print(f"    the stack has no UiUrl output or .chalice/deployed/{ctx.stage}.json no API function: "
              "the API's CORS origin is not checked")
        return
    ui_origin = chalice_api.origin(ui_url)
    environment = ctx.client("lambda").get_function_configuration(FunctionName=function).get("Environment", {})
    problems = chalice_api.origin_drift(apigw, rest_api_id, ui_origin, environment.get("Variables", {}))
    if not problems:
        print(f"    CORS: the preflights and the API function allow the stage's UI, {ui_origin}")
        return
    message = (f"the stage's UI at {ui_origin} cannot use the API `chalice deploy` made: {'; '.join(problems)}. "
               f"Run `make infra STAGE={ctx.stage}` if .chalice/config.json's stage {ctx.stage} lacks "
               f"PLYNX_UI_URL={ui_url}, then `chalice deploy --stage {ctx.stage}` (it imports app.py with that "
               "stage's environment: the preflights and the function get the URL together), then this command.")
    if strict:
        raise SystemExit(message)
    print(f"    WARNING: {message}")


def _upload_ui_for_chalice(ctx: Context, pkg: Package, chalice_dir: str) -> None:
    url = chalice_api_url(ctx.stage, chalice_dir)
    if url is None:
        print(f"    no .chalice/deployed/{ctx.stage}.json yet: after `chalice deploy --stage {ctx.stage}`, "
              "run `make infra` again to publish the UI")
        return
    ctx.outputs = {**ctx.outputs, "EndpointURL": url}
    _upload_ui(ctx, pkg)


def infra_plan(ctx: Context, pkg: Package, alarm_email: str = "", single_user: bool = False,
               template: str = TEMPLATE, chalice_dir: str = chalice_config.CHALICE_DIR,
               project: str = REPO) -> list[Step]:
    """The stage's stack without the API, then what `chalice deploy --stage <stage>` needs in .chalice/.

    `template`: infra/cloudformation/plynx.yaml itself, not Chalice's merge (the tests pass what moto's
    CloudFormation can create); `chalice_dir`, `project`: where the Chalice project is.
    """
    name = stack_name(ctx.stage)
    infrastructure = dataclasses.replace(pkg, template=template)
    return [
        Step(f"ensure deployment bucket {ctx.deploy_bucket}", lambda: _ensure_deploy_bucket(ctx)),
        _mode_step(ctx, single_user),
        Step(f"upload {os.path.relpath(pkg.zip_path, REPO)} (the runner's code) and the template; create or update "
             f"stack {name} without the API (ApiDeployedBy=chalice: tables, buckets, roles, runner, Fargate, UI "
             "distribution, alarms, the log groups of Chalice's functions)",
             lambda: _deploy_stack(ctx, infrastructure, alarm_email, api="chalice")),
        Step(f"build runners/Dockerfile and push it to ECR repository {name}-runner",
             lambda: _push_runner_image(ctx, pkg)),
        Step(f"write stage {ctx.stage} of .chalice/config.json (environment, reserved concurrency) and "
             f".chalice/{chalice_config.policy_file(ctx.stage)} (the API's policy, concrete ARNs); link vendor/",
             lambda: write_chalice_config(ctx, template, chalice_dir, project)),
        Step("upload the UI with /config.json pointing at the API `chalice deploy` made (if it has); invalidate "
             "CloudFront", lambda: _upload_ui_for_chalice(ctx, pkg, chalice_dir)),
        Step(f"that API (if made): binary media type {chalice_api.ANY_MEDIA_TYPE}, CORS preflights to text, as "
             "make deploy's (infra/chalice_api.py); warn if it does not allow the stage's UI",
             lambda: settle_chalice_api(ctx, chalice_dir)),
        Step("next", lambda: print(f"    make chalice-deploy STAGE={ctx.stage}    (chalice deploy --stage {ctx.stage}, "
                                   f"then python -m infra.deploy gateway --stage {ctx.stage}; `.venv/bin/chalice "
                                   f"delete --stage {ctx.stage}` removes the API)")),
    ]


# --- teardown ------------------------------------------------------------------------------------


def _empty_bucket(ctx: Context, output: str) -> None:
    bucket = ctx.outputs.get(output)
    if not bucket:
        return
    s3 = ctx.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                   for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})


def _delete_graph_state_machines(ctx: Context) -> None:
    """The API creates one state machine per graph, outside the stack: delete this stage's (by role)."""
    role = ctx.outputs.get("StateMachineRoleArn")
    if not role:
        return
    sfn = ctx.client("stepfunctions")
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if not machine["name"].startswith("plynx-"):
                continue
            arn = machine["stateMachineArn"]
            if sfn.describe_state_machine(stateMachineArn=arn)["roleArn"] != role:
                continue  # another stage's graph
            for running in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, statusFilter="RUNNING"):
                for execution in running["executions"]:
                    sfn.stop_execution(executionArn=execution["executionArn"], cause="teardown")
            sfn.delete_state_machine(stateMachineArn=arn)


def _unprotect_tables(ctx: Context) -> None:
    ddb = ctx.client("dynamodb")
    cf = ctx.client("cloudformation")
    for page in cf.get_paginator("list_stack_resources").paginate(StackName=stack_name(ctx.stage)):
        for resource in page["StackResourceSummaries"]:
            if resource.get("ResourceType") == "AWS::DynamoDB::Table":
                ddb.update_table(TableName=resource["PhysicalResourceId"], DeletionProtectionEnabled=False)


def _delete_stack(ctx: Context) -> None:
    cf = ctx.client("cloudformation")
    cf.delete_stack(StackName=stack_name(ctx.stage))
    cf.get_waiter("stack_delete_complete").wait(StackName=stack_name(ctx.stage),
                                                WaiterConfig={"Delay": 15, "MaxAttempts": 240})


def _delete_packages(ctx: Context) -> None:
    s3 = ctx.client("s3")
    try:
        pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=ctx.deploy_bucket, Prefix=f"{ctx.stage}/"))
    except s3.exceptions.NoSuchBucket:
        return
    for page in pages:
        objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if objects:
            s3.delete_objects(Bucket=ctx.deploy_bucket, Delete={"Objects": objects, "Quiet": True})


def _delete_secret_key(ctx: Context) -> None:
    ssm = ctx.client("ssm")
    try:
        ssm.delete_parameter(Name=ctx.secret_parameter)
    except ssm.exceptions.ParameterNotFound:
        pass


def teardown_plan(ctx: Context, force: bool = False) -> list[Step]:
    """Everything of one stage, data included; prod only with --force."""
    if ctx.stage == "prod" and not force:
        raise SystemExit("Tearing down prod deletes its graphs and artifacts: add --force to mean it")
    steps = [Step(f"read stack {stack_name(ctx.stage)}'s outputs", lambda: _read_outputs(ctx))]
    if chalice_api_url(ctx.stage):
        # The stack does not hold what `chalice deploy` made: it would stay, its tables gone.
        steps.insert(0, Step(f"note: .chalice/deployed/{ctx.stage}.json names an API `chalice deploy` made; "
                             f"`chalice delete --stage {ctx.stage}` removes it (this teardown does not)", lambda: None))
    if force:
        steps.append(Step("turn off the tables' deletion protection", lambda: _unprotect_tables(ctx)))
    return steps + [
        Step("stop and delete this stage's graph state machines (created by the API, not the stack)",
             lambda: _delete_graph_state_machines(ctx)),
        Step("empty the artifacts and UI buckets", lambda: (_empty_bucket(ctx, "ArtifactsBucketName"),
                                                             _empty_bucket(ctx, "UiBucketName"))),
        Step(f"delete stack {stack_name(ctx.stage)} and wait", lambda: _delete_stack(ctx)),
        Step("delete this stage's packages from the deployment bucket", lambda: _delete_packages(ctx)),
        Step(f"delete the stage's secret key {ctx.secret_parameter}", lambda: _delete_secret_key(ctx)),
    ]


# --- command line --------------------------------------------------------------------------------


def users(ctx: Context, arguments: list[str]) -> int:
    """chalicelib/api/user_cli.py against a deployed stage: its tables and its secret key (from SSM)."""
    ensure_secret_key(ctx)
    env = {**os.environ, "PLYNX_TABLE_PREFIX": f"plynx-{ctx.stage}", "PLYNX_SECRET_KEY": ctx.secret_key,
           "AWS_DEFAULT_REGION": ctx.region}
    if ctx.endpoint_url:
        env["PLYNX_AWS_ENDPOINT"] = ctx.endpoint_url
    return subprocess.run([sys.executable, "-m", "chalicelib.api.user_cli", *arguments], env=env, cwd=REPO,
                          check=False).returncode


def transfer(ctx: Context, arguments: list[str]) -> int:
    """chalicelib/api/transfer_cli.py (export/import/check DIR) against a deployed stage: its tables and bucket."""
    _read_outputs(ctx)
    bucket = ctx.outputs.get("ArtifactsBucketName")
    if not bucket:
        print(f"error: stage `{ctx.stage}` is not deployed (no ArtifactsBucketName output)", file=sys.stderr)
        return 1
    env = {**os.environ, "PLYNX_TABLE_PREFIX": f"plynx-{ctx.stage}", "PLYNX_BUCKET": bucket,
           "AWS_DEFAULT_REGION": ctx.region}
    if ctx.endpoint_url:
        env["PLYNX_AWS_ENDPOINT"] = ctx.endpoint_url
    return subprocess.run([sys.executable, "-m", "chalicelib.api.transfer_cli", *arguments], env=env, cwd=REPO,
                          check=False).returncode


def main(argv: list[str] | None = None) -> int:
    """`package`, `deploy`, `infra` (for `chalice deploy`), `gateway` (after it), `teardown`, manage the `users`
    of one stage or `transfer` its data (export/import)."""
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["package", "deploy", "infra", "gateway", "teardown", "users",
                                            "transfer"])
    parser.add_argument("--stage", choices=STAGES, default="dev")
    parser.add_argument("--region", default=None, help="default: the AWS configuration's, else us-east-1")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument("--force", action="store_true", help="teardown: allowed on prod, drops deletion protection")
    parser.add_argument("--alarm-email", default="", help="deploy: subscribe this address to the alarms")
    parser.add_argument("--no-ui", action="store_true", help="package/deploy: leave the UI out")
    parser.add_argument("--build-dir", default=BUILD, help="where artifacts go (default: build/)")
    parser.add_argument("--cache-dir", default=None, help="Chalice's dependency builds, shared between build dirs")
    parser.add_argument("--single-user", action="store_true",
                        help="deploy: no secret key (anyone who reaches the API is `default`)")
    parser.add_argument("--registration", choices=REGISTRATION_MODES, default=None,
                        help="deploy: who may join (default: the stage's current mode; a new stage is closed)")
    parser.add_argument("--api-concurrency", type=int, default=20,
                        help="deploy: concurrency reserved for each API function (0: none; needs an account "
                             "limit of at least 100 + twice this)")
    parser.add_argument("--runner-concurrency", type=int, default=0,
                        help="deploy: concurrency reserved for, and capping, the runner Lambda (0: none)")
    parser.add_argument("--runner-storage", type=int, default=2048,
                        help="deploy: MB of the runner Lambda's ephemeral storage, 512 to 10240 (an operation's "
                             "inputs must fit in it, less 64 MB)")
    argv = sys.argv[1:] if argv is None else argv
    # users, transfer: user_cli's or transfer_cli's own arguments follow a `--`
    own, user_arguments = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    args = parser.parse_args(own)

    if args.command == "package":
        package(args.stage, args.build_dir, ui=not args.no_ui, cache=args.cache_dir)
        return 0
    session, region = _session(args.region)
    ctx = Context(args.stage, region, session, registration=args.registration,
                  api_concurrency=args.api_concurrency, runner_concurrency=args.runner_concurrency,
                  runner_storage=args.runner_storage)
    if not args.dry_run:
        ctx.account = ctx.client("sts").get_caller_identity()["Account"]
    if args.command == "users":
        return users(ctx, user_arguments)
    if args.command == "transfer":
        return transfer(ctx, user_arguments)
    if args.command == "gateway":
        execute([Step(f"the REST API `chalice deploy --stage {args.stage}` made: binary media type "
                      f"{chalice_api.ANY_MEDIA_TYPE}, CORS preflights to text; check they allow the stage's UI",
                      lambda: settle_chalice_api(ctx, strict=True))], args.dry_run)
        return 0
    if args.command in ("deploy", "infra"):
        pkg = package(args.stage, args.build_dir, ui=not args.no_ui, cache=args.cache_dir)
        plan = deploy_plan if args.command == "deploy" else infra_plan
        execute(plan(ctx, pkg, args.alarm_email, args.single_user), args.dry_run)
    else:
        execute(teardown_plan(ctx, args.force), args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
