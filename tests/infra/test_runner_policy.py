"""The runner's role: what it may not do, read from the template, and that it grants every call the runner
really makes (each runner action driven in this process, its SDK calls recorded) and little more."""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import graph, instance, operation
from tests.infra import iam

TEMPLATE = iam.Template("dev")
RUNNER_ROLES = ("RunnerRole", "RunnerTaskRole")  # Lambda and Fargate: the same data policy
BUCKET = TEMPLATE.arn("ArtifactsBucket")
TLS = (("aws:SecureTransport", "true"),)
CREATE = (*TLS, ("s3:ObjectCreationOperation", "true"))  # PutObject, CopyObject, CompleteMultipartUpload
ONCE = (*CREATE, ("s3:if-none-match", "*"))
PART = (*TLS, ("s3:ObjectCreationOperation", "false"))  # CreateMultipartUpload, UploadPart
RUNNER_TABLES = {"GraphsTable", "GraphNodesTable", "CacheTable", "WaitsTable", "OwnersTable", "QuotasTable"}


def _statements(role: str) -> list[dict]:
    return TEMPLATE.role_statements(role) + TEMPLATE.bucket_statements("ArtifactsBucket")


def _table(logical_id: str) -> str:
    return TEMPLATE.arn(logical_id)


def _every_table_action(logical_id: str) -> Iterator[iam.Request]:
    for action in ("GetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem",
                   "BatchWriteItem", "DescribeTable", "DeleteTable"):
        yield iam.Request(f"dynamodb:{action}", _table(logical_id))


FORBIDDEN = [
    # the users table (password hashes, policies), the sign-in throttle and the library: nothing at all
    *_every_table_action("UsersTable"),
    *_every_table_action("NodesTable"),
    *_every_table_action("SignInFailuresTable"),
    iam.Request("dynamodb:Query", _table("NodesTable") + "/index/author-index"),
    # the quotas table: only freeing a run's slot (UpdateItem), never reading or taking slots
    *(iam.Request(f"dynamodb:{a}", _table("QuotasTable"))
      for a in ("GetItem", "Query", "PutItem", "BatchGetItem", "BatchWriteItem", "ConditionCheckItem")),
    # no scans, deletes or new items where the runner only updates
    *(iam.Request(f"dynamodb:{a}", _table(t)) for t in RUNNER_TABLES
      for a in ("Scan", "DeleteItem", "DeleteTable", "CreateTable", "UpdateTable")),
    iam.Request("dynamodb:PutItem", _table("GraphsTable")),
    iam.Request("dynamodb:PutItem", _table("GraphNodesTable")),
    iam.Request("dynamodb:BatchWriteItem", _table("GraphNodesTable")),
    iam.Request("dynamodb:Query", _table("GraphsTable") + "/index/listing-index"),
    iam.Request("dynamodb:Query", _table("CacheTable") + "/index/listing-index"),
    # artifacts: never overwrite a content id (a PutObject, CompleteMultipartUpload or CopyObject without
    # If-None-Match), never delete, nothing outside resources/
    iam.Request("s3:PutObject", f"{BUCKET}/resources/{'0' * 64}", CREATE),
    iam.Request("s3:PutObject", f"{BUCKET}/resources/{'0' * 64}", (*CREATE, ("s3:if-match", '"etag"'))),
    iam.Request("s3:DeleteObject", f"{BUCKET}/resources/{'0' * 64}", TLS),
    iam.Request("s3:DeleteObjectVersion", f"{BUCKET}/resources/{'0' * 64}", TLS),
    iam.Request("s3:PutObject", f"{BUCKET}/search/plynx-nodes/node.json.gz", ONCE),
    iam.Request("s3:GetObject", f"{BUCKET}/search/plynx-nodes/node.json.gz", TLS),
    iam.Request("s3:PutObject", f"{BUCKET}/elsewhere", ONCE),
    iam.Request("s3:PutBucketPolicy", BUCKET, TLS),
    iam.Request("s3:PutLifecycleConfiguration", BUCKET, TLS),
    iam.Request("s3:GetObject", "arn:aws:s3:::another-bucket/x", TLS),
    iam.Request("s3:GetObject", f"{BUCKET}/resources/{'0' * 64}", (("aws:SecureTransport", "false"),)),
    # no identity, no other compute, no state machines of its own
    *(iam.Request(f"iam:{a}", "*") for a in ("PassRole", "CreateRole", "AttachRolePolicy", "PutRolePolicy",
                                             "CreateAccessKey", "UpdateAssumeRolePolicy")),
    iam.Request("iam:PassRole", TEMPLATE.arn("StateMachineRole")),
    iam.Request("sts:AssumeRole", TEMPLATE.arn("StateMachineRole")),
    iam.Request("lambda:InvokeFunction", TEMPLATE.arn("RunnerFunction")),
    iam.Request("ecs:RunTask", "*"),
    iam.Request("states:StartExecution", "arn:aws:states:us-east-1:123456789012:stateMachine:plynx-g-1"),
    iam.Request("states:CreateStateMachine", "arn:aws:states:us-east-1:123456789012:stateMachine:plynx-g-1"),
    iam.Request("states:DeleteStateMachine", "arn:aws:states:us-east-1:123456789012:stateMachine:plynx-g-1"),
    iam.Request("states:StopExecution", "arn:aws:states:us-east-1:123456789012:execution:other-app:run"),
    iam.Request("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/plynx/dev/secret-key"),
]


@pytest.mark.parametrize("role", RUNNER_ROLES)
@pytest.mark.parametrize("request_", FORBIDDEN, ids=[f"{r.action} {r.resource.rsplit(':', 1)[-1]}" for r in FORBIDDEN])
def test_the_runner_role_may_not(role: str, request_: iam.Request) -> None:
    assert iam.decide(_statements(role), request_) != "allow"


def test_the_runner_role_names_only_the_tables_a_run_needs() -> None:
    granted = set()
    for statement in TEMPLATE.data["Resources"]["RunnerDataPolicy"]["Properties"]["PolicyDocument"]["Statement"]:
        for resource in iam._listed(statement["Resource"]):
            if isinstance(resource, dict) and "Fn::GetAtt" in resource and resource["Fn::GetAtt"][0].endswith("Table"):
                granted.add(resource["Fn::GetAtt"][0])
    assert granted == RUNNER_TABLES


def test_artifacts_are_created_write_once_by_every_role() -> None:
    key = f"{BUCKET}/resources/{'a' * 64}"
    with open(os.path.join(os.path.dirname(__file__), "..", "..", ".chalice", "policy-dev.json"),
              encoding="utf-8") as stream:
        api = [TEMPLATE.resolve_statement(s) for s in json.load(stream)["Statement"]]
    bucket = TEMPLATE.bucket_statements("ArtifactsBucket")
    for name, statements in (("runner", _statements("RunnerRole")), ("api", api + bucket)):
        assert iam.decide(statements, iam.Request("s3:PutObject", key, ONCE)) == "allow", name
        assert iam.decide(statements, iam.Request("s3:PutObject", key, CREATE)) != "allow", name
        assert iam.decide(statements, iam.Request("s3:GetObject", key, TLS)) == "allow", name
    # multipart: the parts take no conditional header; the completion does
    runner = _statements("RunnerRole")
    assert iam.decide(runner, iam.Request("s3:PutObject", key, PART)) == "allow"
    # the bucket itself refuses an overwrite to anyone, an administrator's role included
    assert iam.decide(bucket + [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                      iam.Request("s3:PutObject", key, CREATE)) == "deny"
    assert iam.decide(bucket + [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                      iam.Request("s3:PutObject", key, PART)) == "allow"
    # the API's own search snapshots are no content ids: replaced freely
    snapshot = f"{BUCKET}/search/plynx-dev-nodes/node.json.gz"
    assert iam.decide(api + bucket, iam.Request("s3:PutObject", snapshot, CREATE)) == "allow"


def test_every_action_in_the_policies_exists() -> None:
    """cfn-lint's action check (W3037) is off under the SAM transform; its copy of IAM's reference is not."""
    from cfnlint.data import AdditionalSpecs
    from cfnlint.helpers import load_resource

    known = load_resource(AdditionalSpecs, "Policies.json")
    documents = [TEMPLATE.data["Resources"][r]["Properties"]["PolicyDocument"] for r, v in
                 TEMPLATE.data["Resources"].items() if v["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy")]
    documents += [p["PolicyDocument"] for v in TEMPLATE.data["Resources"].values()
                  for p in v.get("Properties", {}).get("Policies", [])]
    for stage in ("dev", "prod"):
        with open(os.path.join(os.path.dirname(__file__), "..", "..", ".chalice", f"policy-{stage}.json"),
                  encoding="utf-8") as stream:
            documents.append(json.load(stream))
    for document in documents:
        for statement in iam._listed(document["Statement"]):
            for action in iam._listed(statement.get("Action", [])):
                if action == "*" or action.endswith(":*"):
                    continue
                service, name = action.lower().split(":", 1)
                assert name in known[service]["Actions"], f"{action} is not an IAM action"


# --- every call of every runner action, recorded ---------------------------------------------------------

_IAM_SERVICE = {"stepfunctions": "states"}


def _local_to_stage(text: str) -> str:
    """A local name (`plynx-nodes`, the local bucket) as the dev stage's."""
    from chalicelib.store.settings import SETTINGS

    if text == SETTINGS.bucket:
        return TEMPLATE.name("ArtifactsBucket")
    prefix = SETTINGS.table_prefix + "-"
    return "plynx-dev-" + text[len(prefix):] if text.startswith(prefix) else text


def _requests(service: str, operation: str, params: dict[str, Any]) -> list[iam.Request]:
    """The IAM requests one SDK call makes (S3's multipart steps are s3:PutObject; HEAD is s3:GetObject)."""
    origin = f"{service}.{operation}"
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):  # IAM authorises each item's own action
            kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
            return [iam.Request(f"dynamodb:{kinds[kind]}",
                                f"arn:aws:dynamodb:{iam.REGION}:{iam.ACCOUNT}:table/{_local_to_stage(part['TableName'])}",
                                origin=origin)
                    for item in params["TransactItems"] for kind, part in item.items()]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            tables = list(params["RequestItems"])
        else:
            tables = [params["TableName"]]
        index = f"/index/{params['IndexName']}" if params.get("IndexName") else ""
        return [iam.Request(f"dynamodb:{operation}",
                            f"arn:aws:dynamodb:{iam.REGION}:{iam.ACCOUNT}:table/{_local_to_stage(t)}{index}",
                            origin=origin) for t in tables]
    if service == "s3":
        bucket = f"arn:aws:s3:::{_local_to_stage(params['Bucket'])}"
        obj = f"{bucket}/{params.get('Key', '')}"
        header = (("s3:if-none-match", params["IfNoneMatch"]),) if "IfNoneMatch" in params else ()
        action, resource, context = {
            "GetObject": ("s3:GetObject", obj, TLS), "HeadObject": ("s3:GetObject", obj, TLS),
            "PutObject": ("s3:PutObject", obj, (*CREATE, *header)),
            "CompleteMultipartUpload": ("s3:PutObject", obj, (*CREATE, *header)),
            "CreateMultipartUpload": ("s3:PutObject", obj, PART), "UploadPart": ("s3:PutObject", obj, PART),
            "AbortMultipartUpload": ("s3:AbortMultipartUpload", obj, TLS),
            "ListObjectsV2": ("s3:ListBucket", bucket, TLS), "HeadBucket": ("s3:ListBucket", bucket, TLS),
        }[operation]
        return [iam.Request(action, resource, context, origin=origin)]
    prefix = _IAM_SERVICE.get(service, service)
    if operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
        return [iam.Request(f"{prefix}:{operation}", "*", origin=origin)]
    if operation in ("StopExecution", "DescribeExecution"):
        return [iam.Request(f"{prefix}:{operation}", params["executionArn"], origin=origin)]
    return [iam.Request(f"{prefix}:{operation}", "*", origin=origin)]


class Recorder:
    """Every SDK call made by this thread (and the pools it starts) while recording."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        self._thread = threading.current_thread()
        self.also: tuple[str, ...] = ()  # names of other threads to record (a Lambda the API invokes, served here)
        self.paused = False

    def __call__(self, client: Any, operation: str, params: dict) -> None:
        current = threading.current_thread()
        if not self.paused and (current is self._thread or current.name.startswith(("ThreadPoolExecutor", *self.also))):
            self.calls.append((client.meta.service_model.service_name, operation, params))

    def queue(self, graph_id: str, principal: Any) -> str:
        """What APPROVE does (the API's calls, not the runner's): a new run queued, holding a user's run slot
        (the run's end frees it)."""
        from chalicelib.engine import runs

        self.paused = True
        try:
            return runs.queue_run(graph_id, principal=principal, quota_user="policy-tenant")
        finally:
            self.paused = False


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    import botocore.client

    record = Recorder()
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: dict) -> Any:
        record(self, operation_name, api_params)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return record


INPUT_ID, OUTPUT_ID = "2419f9f6d8b5da6e4bb8f8d4", "56a2bd3af3fe5ee6d63ac7dd"
ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
DOUBLE = ("import sys, time\nn = int(open(inputs['in']).read())\nprint('doubling', n)\nsys.stdout.flush()\n"
          "time.sleep(float(params['sleep']))\nopen(outputs['out'], 'w').write(str(2 * n))\n")


def _build(api: Any, tmp_path: Any) -> dict[str, Any]:
    """A graph with what every runner action touches: a file, a chain with a wait, a failure, a big output
    (multipart), and two instances of a composite."""
    salt = {"salt": str(tmp_path)}
    data = instance(api.upload(b"3", "policy input"))
    slow = api.save_operation(operation("python", "double", DOUBLE, inputs=[ONE], outputs=["out"],
                                        params={"sleep": 2.5, **salt}))  # beats once: live logs
    quick = api.save_operation(operation("python", "double quick", DOUBLE, inputs=[ONE], outputs=["out"],
                                         params={"sleep": 0.0, **salt}))
    big = api.save_operation(operation("python", "big", "open(outputs['out'], 'wb').write(b'x' * (9 << 20))\n",
                                       outputs=["out"], params=salt))
    bad = api.save_operation(operation("bash_jinja2", "bad", "exit 3\n", inputs=[ONE], params=salt))
    first = instance(quick, **{"in": [({"_id": INPUT_ID}, "data")]})
    second = instance(quick, **{"in": [(first, "out")]})
    collector = {"_id": OUTPUT_ID, "base_node_name": "_output", "x": 500, "y": 0,
                 "inputs": [{"name": "result", "values": [{"node_id": second["_id"], "output_id": "out"}]}]}
    composite = api.ok("post", "nodes", json={"node": {
        "base_node_name": "graph", "title": "quadruple",
        "inputs": [{"name": "data", "file_types": ["file"], "min_count": 1, "max_count": 1}],
        "outputs": [{"name": "result", "file_type": "file"}],
        "parameters": [{"name": "_nodes", "parameter_type": "list_node",
                        "value": [{"_id": INPUT_ID, "base_node_name": "_input"}, first, second, collector]},
                       {"name": "salt", "parameter_type": "str", "value": str(tmp_path)}]},
        "action": "APPROVE"})["node"]
    nodes = {"data": data, "double": instance(slow, **{"in": [(data, "out")]}), "big": instance(big),
             "c1": instance(composite, data=[(data, "out")]), "c2": instance(composite, data=[(data, "out")])}
    nodes["bad"] = instance(bad, **{"in": [(nodes["double"], "out")]})
    graph_id = api.ok("post", "graphs", json={"graph": graph("policy", list(nodes.values())),
                                              "actions": ["SAVE"]})["graph"]["_id"]
    return {"graph_id": graph_id, "nodes": nodes, "inner": [first["_id"], second["_id"]]}


def _drive(built: dict[str, Any], recorder: Recorder) -> None:
    """Each runner action as Step Functions sends it, in this process: start, wait, run (with a release,
    a failure, a big output), open and close a composite, settle and finalize a failed run; then a second
    run whose operation the cache restores at run time."""
    from chalicelib.domain.permissions import RunPrincipal
    from chalicelib.engine import settle
    from runners import handler
    from chalicelib.domain.graph import sub_graph_id

    graph_id, nodes = built["graph_id"], built["nodes"]
    ids = {name: node["_id"] for name, node in nodes.items()}
    principal = RunPrincipal("default", True)
    run_id = recorder.queue(graph_id, principal)

    def act(action: str, **event: Any) -> Any:
        return handler.handle({"action": action, "graph_id": graph_id, "run_id": run_id, **event})

    act("start")
    act("wait", node_id=ids["bad"], needs=1, token="a-token-nobody-waits-on")
    act("wait", node_id="never-released", needs=5, token="another-token")
    act("run", node_id=ids["double"], notify=[ids["bad"]])
    act("run", node_id=ids["big"])
    arn = "arn:aws:states:us-east-1:123456789012:execution:plynx-{}:{}"
    for composite, close in (("c1", True), ("c2", False)):
        sub = sub_graph_id(graph_id, ids[composite])
        handler.handle({"action": "open", "graph_id": sub, "parent_graph_id": graph_id, "node_id": ids[composite],
                        "run_id": run_id, "execution_arn": arn.format(composite, run_id)})
        if close:
            for inner in built["inner"]:
                handler.handle({"action": "run", "graph_id": sub, "node_id": inner, "run_id": run_id})
            handler.handle({"action": "close", "graph_id": sub, "parent_graph_id": graph_id,
                            "node_id": ids[composite], "run_id": run_id, "status": "SUCCESS", "notify": []})
    with pytest.raises(handler.OperationFailed):
        act("run", node_id=ids["bad"])
    error = {"Error": "OperationFailed", "Cause": "bad"}
    with pytest.raises(settle.StillRunning):  # the second composite is still open: the state machine retries
        act("settle", error=error)
    act("finalize", status="FAILED", error=error)  # ... and stops the composite's nested execution

    run_id = recorder.queue(graph_id, principal)
    act("start")
    assert act("run", node_id=ids["double"])["status"] == "RESTORED"  # found in the cache at run time


@pytest.mark.slow
def test_the_runner_role_grants_every_call_of_every_runner_action(api, recorder: Recorder, tmp_path) -> None:
    built = _build(api, tmp_path)
    recorder.calls.clear()
    _drive(built, recorder)
    requests = [r for service, operation, params in recorder.calls for r in _requests(service, operation, params)]
    assert {r.origin for r in requests} >= {"s3.CreateMultipartUpload", "s3.UploadPart",
                                            "s3.CompleteMultipartUpload", "stepfunctions.SendTaskSuccess",
                                            "stepfunctions.SendTaskFailure", "stepfunctions.StopExecution",
                                            "dynamodb.BatchWriteItem", "dynamodb.PutItem"}
    for role in RUNNER_ROLES:
        statements = _statements(role)
        refused = sorted({(r.origin, r.action, r.resource) for r in requests if iam.decide(statements, r) != "allow"})
        assert not refused, f"{role} refuses calls the runner makes: {refused}"
    # and grants little more: every action of every Allow statement of the data policy was used
    unused = []
    for statement in TEMPLATE.role_statements("RunnerTaskRole"):
        for action in iam._listed(statement["Action"]):
            single = dict(statement, Action=action)
            if not any(iam.matches(single, r) for r in requests):
                unused.append((statement.get("Sid"), action))
    # AbortMultipartUpload runs only when an upload fails midway; ListBucket is no call of its own, it makes
    # a GetObject of a missing key a 404 rather than a 403
    assert set(unused) <= {("AbortArtifactUploads", "s3:AbortMultipartUpload"), ("ListArtifacts", "s3:ListBucket")}, \
        unused
