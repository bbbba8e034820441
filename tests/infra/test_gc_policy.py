"""The garbage collection's permissions: what the API's policy (which the scheduled collect_garbage function
shares) grants for it and no more, read from .chalice/policy-<stage>.json; and every call of a real pass
(deleting content and a state machine) recorded and checked against it."""
from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

from tests.helpers import graph, instance, operation
from tests.infra import iam
from tests.infra.test_runner_policy import TLS, Recorder, _local_to_stage, _requests, recorder  # noqa: F401

TEMPLATE = iam.Template("dev")
BUCKET = TEMPLATE.arn("ArtifactsBucket")
MACHINES = f"arn:aws:states:{iam.REGION}:{iam.ACCOUNT}:stateMachine"


def _api(stage: str = "dev") -> list[dict]:
    with open(os.path.join(os.path.dirname(__file__), "..", "..", ".chalice", f"policy-{stage}.json"),
              encoding="utf-8") as stream:
        document = json.load(stream)
    return [iam.Template(stage).resolve_statement(s) for s in document["Statement"]] + \
        iam.Template(stage).bucket_statements("ArtifactsBucket")


def _allowed(statements: list[dict], action: str, resource: str, context: tuple = TLS) -> bool:
    return iam.decide(statements, iam.Request(action, resource, context)) == "allow"


@pytest.mark.parametrize("stage", ("dev", "prod"))
def test_the_api_may_collect_garbage_and_no_more(stage: str) -> None:
    api, bucket = _api(stage), iam.Template(stage).arn("ArtifactsBucket")
    assert _allowed(api, "s3:DeleteObject", f"{bucket}/resources/{'a' * 64}")
    for elsewhere in (f"{bucket}/search/plynx-{stage}-nodes/node.json.gz", f"{bucket}/other",
                      f"arn:aws:s3:::another-bucket/resources/{'a' * 64}"):
        assert not _allowed(api, "s3:DeleteObject", elsewhere), elsewhere
    assert not _allowed(api, "s3:DeleteBucket", bucket)
    assert _allowed(api, "states:ListStateMachines", "*")
    assert _allowed(api, "states:DeleteStateMachine", f"{MACHINES}:plynx-g-1")
    assert not _allowed(api, "states:DeleteStateMachine", f"{MACHINES}:someone-elses")
    function = f"arn:aws:lambda:{iam.REGION}:{iam.ACCOUNT}:function:plynx-{stage}-collect_garbage"
    assert _allowed(api, "lambda:InvokeFunction", function)
    for other in ("runner", "execution_ended", "api"):
        assert not _allowed(api, "lambda:InvokeFunction", function.replace("collect_garbage", other))
    # the runner's role still deletes nothing
    runner = TEMPLATE.role_statements("RunnerRole") + TEMPLATE.bucket_statements("ArtifactsBucket")
    assert not _allowed(runner, "s3:DeleteObject", f"{BUCKET}/resources/{'a' * 64}")
    assert not _allowed(runner, "states:ListStateMachines", "*")


def _gc_requests(service: str, operation: str, params: dict[str, Any]) -> list[iam.Request]:
    origin = f"{service}.{operation}"
    if service == "s3" and operation == "DeleteObjects":
        bucket = f"arn:aws:s3:::{_local_to_stage(params['Bucket'])}"
        return [iam.Request("s3:DeleteObject", f"{bucket}/{o['Key']}", TLS, origin=origin)
                for o in params["Delete"]["Objects"]]
    if service == "stepfunctions" and "stateMachineArn" in params:
        return [iam.Request(f"states:{operation}", params["stateMachineArn"], origin=origin)]
    return _requests(service, operation, params)


def test_every_call_of_a_pass_is_granted(api, recorder: Recorder) -> None:  # noqa: F811
    from chalicelib.engine import gc
    from chalicelib.store import storage
    from chalicelib.store.models import GraphModel

    op = api.save_operation(operation("python", "gc policy", "print('x')\n", params={"n": time.time()}))
    stored = api.ok("post", "graphs", json={"graph": graph("gc policy", [instance(op)]),
                                            "actions": ["SAVE", "APPROVE"]})["graph"]
    assert api.wait(stored["_id"])["graph_running_status"] == "SUCCESS"
    storage.put_bytes(f"garbage {time.time()}".encode())
    time.sleep(1.2)
    recorder.calls.clear()
    deleted = gc.delete_graph(GraphModel.get(stored["_id"], consistent_read=True))  # as DELETE does
    report = gc.collect(grace=1.0)
    assert deleted["state_machines"] and report.resources  # DeleteStateMachine and DeleteObjects were called
    requests = [r for call in recorder.calls for r in _gc_requests(*call)]
    assert {"s3.DeleteObjects", "s3.ListObjectsV2", "dynamodb.Scan", "stepfunctions.ListStateMachines",
            "stepfunctions.DeleteStateMachine", "stepfunctions.ListExecutions"} <= {
        r.origin for r in requests}
    statements = _api("dev")
    refused = sorted({(r.origin, r.action, r.resource) for r in requests if iam.decide(statements, r) != "allow"})
    assert not refused, f"the API's policy refuses calls a pass makes: {refused}"
