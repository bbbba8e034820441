"""What `chalice deploy --stage S` needs to know of the stage's infrastructure stack, written into .chalice/.

`make infra` (python -m infra.deploy infra) creates the stack `plynx-<stage>` from
infra/cloudformation/plynx.yaml without the API (ApiDeployedBy=chalice), then `write` resolves what the
template hands the API in the one-stack path (its SAM `Globals` environment, .chalice/policy-<stage>.json's
`Fn::GetAtt`s) against that stack, into concrete values:

* the stage's `environment_variables` in .chalice/config.json (bucket, state machine role ARN, subnets, ...),
* `.chalice/deployed-policy-<stage>.json`, the API role's policy with real ARNs, named by the stage's
  `iam_policy_file`, and its `reserved_concurrency`.

Two things differ from the one-stack path, on purpose, and only these (tests/infra/test_chalice_deploy.py
compares the two and fails on anything else):

* the secret key: the one-stack path hands the key to the API as a NoEcho stack parameter; config.json is
  a file in the repository, so Chalice's functions get the SSM parameter's *name*
  (PLYNX_SECRET_KEY_PARAMETER, read at a cold start by chalicelib/store/settings.py) and may read that one
  parameter (statement `SecretKeyParameter`);
* the log groups: SAM's functions log to the stack's ApiLogGroup (LoggingConfig); Chalice's functions log
  to Lambda's default groups /aws/lambda/<function>, which the stack makes (with the same retention) when
  ApiDeployedBy=chalice, and the `Logs` statement names those.

`for_package` undoes `write` for `make deploy`, whose stack supplies all of it.
"""
from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHALICE_DIR = os.path.join(REPO, ".chalice")
SECRET_KEY_VARIABLE = "PLYNX_SECRET_KEY"
SECRET_KEY_PARAMETER_VARIABLE = "PLYNX_SECRET_KEY_PARAMETER"
SECRET_KEY_STATEMENT = "SecretKeyParameter"
LOGS_STATEMENT = "Logs"
# The one-stack path's API log group, and the groups Chalice's functions write to instead (the template's
# ChaliceApiLogGroup, ChaliceEventsLogGroup, ChaliceGcLogGroup, ChaliceSchedulesLogGroup and ChalicePrepareLogGroup:
# /aws/lambda/<app>-<stage>[-<handler>]).
API_LOG_GROUP = "ApiLogGroup"
CHALICE_LOG_GROUPS = ("ChaliceApiLogGroup", "ChaliceEventsLogGroup", "ChaliceGcLogGroup", "ChaliceSchedulesLogGroup",
                      "ChalicePrepareLogGroup")
# Packages the API imports that Chalice does not package on its own (it takes app.py, chalicelib/ and
# vendor/): `make infra` links them into vendor/, `make package` adds them to its zip (infra/deploy.py).
VENDORED = ("runners", "stepfunctions", "plynx")
# ARNs of the resource types the API's policy names, as CloudFormation's Fn::GetAtt <id>.Arn gives them.
ARN_FORMATS = {
    "AWS::DynamoDB::Table": "arn:{partition}:dynamodb:{region}:{account}:table/{id}",
    "AWS::S3::Bucket": "arn:{partition}:s3:::{id}",
    "AWS::IAM::Role": "arn:{partition}:iam::{account}:role/{id}",
    "AWS::Logs::LogGroup": "arn:{partition}:logs:{region}:{account}:log-group:{id}:*",
    "AWS::Lambda::Function": "arn:{partition}:lambda:{region}:{account}:function:{id}",
}


def policy_file(stage: str) -> str:
    """The concrete policy `write` makes (git-ignored: it holds the account id)."""
    return f"deployed-policy-{stage}.json"


def secret_parameter(stage: str) -> str:
    """The stage's token-signing key in SSM (infra/deploy.py makes it once)."""
    return f"/plynx/{stage}/secret-key"


class Stack:
    """A deployed stack as `write` reads it: its template, parameters, outputs and physical ids."""

    def __init__(self, template: dict, parameters: dict[str, str], outputs: dict[str, str],
                 physical: dict[str, str], region: str, account: str, partition: str = "aws") -> None:
        self.template = template
        self.parameters = parameters
        self.outputs = outputs
        self.physical = physical
        self.pseudo = {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": partition}

    def arn(self, logical_id: str) -> str | None:
        """Fn::GetAtt <id>.Arn, from the resource's physical id (None: not in the stack)."""
        if logical_id not in self.physical:
            return None
        kind = self.template["Resources"][logical_id]["Type"]
        if kind not in ARN_FORMATS:
            raise ValueError(f"no ARN format for {logical_id} ({kind}): add it to ARN_FORMATS")
        return ARN_FORMATS[kind].format(partition=self.pseudo["AWS::Partition"], region=self.pseudo["AWS::Region"],
                                        account=self.pseudo["AWS::AccountId"], id=self.physical[logical_id])

    def resolve(self, value: Any) -> str | None:
        """A template value as CloudFormation resolves it on this stack; None when it names something the
        stack lacks (moto's CloudFormation cannot create every type)."""
        if isinstance(value, (str, int)):
            return str(value)
        # What an output already resolves, CloudFormation resolved (the UI's domain, joined subnet ids).
        for key, output in self.template.get("Outputs", {}).items():
            if output["Value"] == value and key in self.outputs:
                return self.outputs[key]
        if "Ref" in value:
            name = value["Ref"]
            if name in self.pseudo:
                return self.pseudo[name]
            if name in self.parameters:
                return self.parameters[name]
            return self.physical.get(name)
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            if logical_id not in self.physical:
                return None
            if attribute != "Arn":
                raise ValueError(f"cannot resolve {value}: give the template an output with this value")
            return self.arn(logical_id)
        if "Fn::Join" in value:
            separator, items = value["Fn::Join"]
            parts = [self.resolve(item) for item in items]
            return None if None in parts else separator.join(parts)  # type: ignore[arg-type]
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            missing: list[str] = []

            def name(match: re.Match) -> str:
                ref, _, attribute = match.group(1).partition(".")
                resolved = self.resolve({"Fn::GetAtt": [ref, attribute]} if attribute else {"Ref": ref})
                if resolved is None:
                    missing.append(ref)
                return resolved or ""

            text = re.sub(r"\$\{([^}!]+)\}", name, value["Fn::Sub"])
            return None if missing else text
        raise ValueError(f"cannot resolve {value}")


# --- the environment --------------------------------------------------------------------------


def globals_environment(template: dict) -> dict[str, Any]:
    """What the template's SAM Globals give every API function in the one-stack path."""
    return template["Globals"]["Function"]["Environment"]["Variables"]


def api_environment(stack: Stack, stage: str, single_user: bool) -> tuple[dict[str, str], list[str]]:
    """The Globals resolved on the stack, the secret key by its parameter's name. Returns (variables,
    names left out because the stack lacks what they name)."""
    variables: dict[str, str] = {}
    unresolved: list[str] = []
    for name, value in globals_environment(stack.template).items():
        if name == SECRET_KEY_VARIABLE:
            if not single_user:
                variables[SECRET_KEY_PARAMETER_VARIABLE] = secret_parameter(stage)
            continue
        resolved = stack.resolve(value)
        if resolved is None:
            unresolved.append(name)
        else:
            variables[name] = resolved
    return variables, unresolved


def generated_variables(template: dict) -> set[str]:
    """Every name `write` may add to a stage's environment (what `for_package` removes)."""
    return (set(globals_environment(template)) - {SECRET_KEY_VARIABLE}) | {SECRET_KEY_PARAMETER_VARIABLE}


# --- the policy -------------------------------------------------------------------------------


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def api_policy(stack: Stack, stage: str, single_user: bool) -> dict:
    """.chalice/policy-<stage>.json with every reference resolved on the stack, logging to Chalice's groups."""
    with open(os.path.join(CHALICE_DIR, f"policy-{stage}.json"), encoding="utf-8") as stream:
        document = json.load(stream)
    statements = []
    for statement in document["Statement"]:
        statement = copy.deepcopy(statement)
        if statement.get("Sid") == LOGS_STATEMENT:
            if statement["Resource"] != {"Fn::GetAtt": [API_LOG_GROUP, "Arn"]}:
                raise ValueError(f"the Logs statement names {statement['Resource']}, not {API_LOG_GROUP}")
            statement["Resource"] = [stack.arn(group) for group in CHALICE_LOG_GROUPS]
        else:
            resources = [stack.resolve(r) for r in _listed(statement["Resource"])]
            statement["Resource"] = resources if isinstance(statement["Resource"], list) else resources[0]
        unresolved = [r for r in _listed(statement["Resource"]) if r is None]
        if unresolved:
            raise ValueError(f"statement {statement.get('Sid')} names resources the stack lacks")
        statements.append(statement)
    if not single_user:
        statements.append({
            "Sid": SECRET_KEY_STATEMENT, "Effect": "Allow", "Action": "ssm:GetParameter",
            "Resource": "arn:{p}:ssm:{r}:{a}:parameter{n}".format(
                p=stack.pseudo["AWS::Partition"], r=stack.pseudo["AWS::Region"], a=stack.pseudo["AWS::AccountId"],
                n=secret_parameter(stage))})
    return {**document, "Statement": statements}


# --- config.json ------------------------------------------------------------------------------


def load_config(chalice_dir: str = CHALICE_DIR) -> dict:
    with open(os.path.join(chalice_dir, "config.json"), encoding="utf-8") as stream:
        return json.load(stream)


def with_stage(config: dict, stage: str, variables: dict[str, str], template: dict,
               reserved_concurrency: int) -> dict:
    """The configuration with the stage set up for `chalice deploy` (earlier generated values replaced)."""
    config = for_package(config, template, stages=(stage,))
    settings = config["stages"][stage]
    settings["environment_variables"] = {**settings.get("environment_variables", {}), **variables}
    settings["iam_policy_file"] = policy_file(stage)
    if reserved_concurrency:
        settings["reserved_concurrency"] = reserved_concurrency
    return config


def for_package(config: dict, template: dict, stages: Iterable[str] | None = None) -> dict:
    """The configuration as `make deploy` packages it: what `write` added is the stack's to give there."""
    config = copy.deepcopy(config)
    generated = generated_variables(template)
    for stage in stages if stages is not None else list(config.get("stages", {})):
        settings = config["stages"].get(stage)
        if settings is None:
            continue
        settings["environment_variables"] = {k: v for k, v in settings.get("environment_variables", {}).items()
                                             if k not in generated}
        if settings.get("iam_policy_file") == policy_file(stage):
            settings["iam_policy_file"] = f"policy-{stage}.json"
        settings.pop("reserved_concurrency", None)
    return config


def write(stack: Stack, stage: str, single_user: bool, reserved_concurrency: int,
          chalice_dir: str = CHALICE_DIR, say: Callable[[str], None] = print) -> list[str]:
    """Write the stage's Chalice configuration and concrete policy; returns the variables left out."""
    variables, unresolved = api_environment(stack, stage, single_user)
    policy = api_policy(stack, stage, single_user)
    config = with_stage(load_config(chalice_dir), stage, variables, stack.template, reserved_concurrency)
    _write_json(os.path.join(chalice_dir, policy_file(stage)), policy)
    _write_json(os.path.join(chalice_dir, "config.json"), config)
    say(f"    .chalice/config.json stage {stage}: {len(variables)} variables from the stack"
        + (f" (left out, the stack lacks what they name: {', '.join(unresolved)})" if unresolved else ""))
    say(f"    .chalice/{policy_file(stage)}: {len(policy['Statement'])} statements, concrete ARNs")
    return unresolved


def _write_json(path: str, value: Any) -> None:
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as stream:
        json.dump(value, stream, indent=2)
        stream.write("\n")
    os.replace(partial, path)


def link_vendored(project: str = REPO) -> list[str]:
    """vendor/<package> -> ../<package>: Chalice zips vendor/'s contents at the package's root, following
    links, so `chalice deploy` ships the packages app.py imports beyond chalicelib/ as they are now."""
    vendor = os.path.join(project, "vendor")
    os.makedirs(vendor, exist_ok=True)
    linked = []
    for name in VENDORED:
        link = os.path.join(vendor, name)
        target = os.path.join("..", name)
        if os.path.islink(link) and os.readlink(link) == target:
            continue
        if os.path.lexists(link):
            raise SystemExit(f"{link} exists and is not a link to {target}: move it away")
        os.symlink(target, link)
        linked.append(name)
    return linked
