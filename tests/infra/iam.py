"""Enough of IAM's policy evaluation to ask the template's policies what a role may do, offline.

Template references are resolved as CloudFormation would for one stage (a fixed account and region);
statements are matched on Action/NotAction, Resource and the condition operators the project's policies
use (String*, Arn*, Bool, Null). An explicit Deny wins, then any Allow; otherwise the request is denied.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.infra import support

ACCOUNT, REGION, PARTITION = "123456789012", "us-east-1", "aws"


@dataclass(frozen=True)
class Request:
    """One authorised call: the IAM action, the resource ARN and the request's condition context."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    origin: str = field(default="", compare=False)  # the SDK call it stands for, for messages

    def value(self, key: str) -> str | None:
        return next((v for k, v in self.context if k.lower() == key.lower()), None)


class Template:
    """The template's names, resolved for one stage."""

    def __init__(self, stage: str = "dev") -> None:
        self.stage = stage
        self.data = support.template()
        self.resources = self.data["Resources"]

    def name(self, logical_id: str) -> str:
        """A resource's physical name (`TableName`, `BucketName`, ...), or its logical id."""
        properties = self.resources[logical_id].get("Properties", {})
        for key in ("TableName", "BucketName", "RoleName", "ManagedPolicyName", "FunctionName", "LogGroupName"):
            if key in properties:
                return self.resolve(properties[key])
        return logical_id

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        name = self.name(logical_id)
        if kind == "AWS::DynamoDB::Table":
            return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        if kind == "AWS::S3::Bucket":
            return f"arn:{PARTITION}:s3:::{name}"
        if kind == "AWS::Lambda::Function":
            return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{name}"
        if kind == "AWS::IAM::Role":
            return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}"
        if kind == "AWS::SNS::Topic":
            return f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{self.resolve(self.resources[logical_id]['Properties']['TopicName'])}"
        return f"arn:{PARTITION}:cloudformation-only:{REGION}:{ACCOUNT}:{logical_id}"

    def resolve(self, value: Any) -> Any:
        """Fn::Sub, Fn::GetAtt .Arn and Ref of this template, as strings."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._variable(m.group(1)), text)
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            assert attribute == "Arn", value
            return self.arn(logical_id)
        if "Ref" in value:
            return self._variable(value["Ref"])
        return value

    def _variable(self, name: str) -> str:
        fixed = {"Stage": self.stage, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": PARTITION}
        if name in fixed:
            return fixed[name]
        if name.endswith(".Arn"):
            return self.arn(name[:-4])
        if self.resources.get(name, {}).get("Type") == "AWS::SNS::Topic":  # a topic's Ref is its ARN
            return self.arn(name)
        return self.name(name)

    def role_statements(self, logical_id: str) -> list[dict]:
        """Every statement of a role's inline and managed policies (managed ones of this template)."""
        properties = self.resources[logical_id]["Properties"]
        statements = [s for p in properties.get("Policies", []) for s in _listed(p["PolicyDocument"]["Statement"])]
        for reference in properties.get("ManagedPolicyArns", []):
            managed = self.resources[reference["Ref"]]["Properties"]["PolicyDocument"]
            statements += _listed(managed["Statement"])
        return [self.resolve_statement(s) for s in statements]

    def bucket_statements(self, bucket_logical_id: str) -> list[dict]:
        """The bucket policy's statements (resource-based: they apply to every caller)."""
        for resource in self.resources.values():
            if resource["Type"] == "AWS::S3::BucketPolicy" and resource["Properties"]["Bucket"] == {
                    "Ref": bucket_logical_id}:
                return [self.resolve_statement(s) for s in _listed(resource["Properties"]["PolicyDocument"]["Statement"])]
        return []

    def resolve_statement(self, statement: dict) -> dict:
        resolved = dict(statement)
        for key in ("Resource", "NotResource"):
            if key in resolved:
                resolved[key] = self.resolve(resolved[key])
        if "Condition" in resolved:
            resolved["Condition"] = {op: {k: self.resolve(v) for k, v in values.items()}
                                     for op, values in resolved["Condition"].items()}
        return resolved


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def _condition_holds(operator: str, key: str, expected: Any, request: Request) -> bool:
    actual = request.value(key)
    wanted = [str(v) for v in _listed(expected)]
    if operator == "Null":
        return (actual is None) == (wanted[0].lower() == "true")
    if operator.endswith("IfExists") and actual is None:
        return True
    operator = operator.removesuffix("IfExists")
    if actual is None:
        return operator.startswith("StringNot") or operator.startswith("ArnNot")
    if operator == "Bool":
        return actual.lower() in (w.lower() for w in wanted)
    if operator in ("StringEquals", "ArnEquals"):
        return actual in wanted
    if operator in ("StringLike", "ArnLike"):
        return any(_glob(w, actual) for w in wanted)
    if operator in ("StringNotEquals", "ArnNotEquals"):
        return actual not in wanted
    raise AssertionError(f"condition operator {operator} is not modelled here; add it")


def matches(statement: dict, request: Request) -> bool:
    """Whether a statement applies to a request (action, resource and every condition)."""
    if "Action" in statement:
        if not any(_glob(a, request.action, case=False) for a in _listed(statement["Action"])):
            return False
    elif any(_glob(a, request.action, case=False) for a in _listed(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(_glob(r, request.resource) for r in _listed(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(_glob(r, request.resource) for r in _listed(statement["NotResource"])):
        return False
    principal = statement.get("Principal")
    if principal not in (None, "*", {"AWS": "*"}):
        return False  # a service principal: not a role's own call
    for operator, values in statement.get("Condition", {}).items():
        for key, expected in values.items():
            if not _condition_holds(operator, key, expected, request):
                return False
    return True


def decide(statements: Iterable[dict], request: Request) -> str:
    """`allow`, or `deny` (explicit), or `implicit` (no statement allows it)."""
    allowed = False
    for statement in statements:
        if matches(statement, request):
            if statement["Effect"] == "Deny":
                return "deny"
            allowed = True
    return "allow" if allowed else "implicit"


def allowing(statements: Iterable[dict], request: Request) -> Iterator[dict]:
    """The Allow statements that grant a request."""
    return (s for s in statements if s["Effect"] == "Allow" and matches(s, request))
