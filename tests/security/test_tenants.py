"""A second user, on a multi-user stack, tries to read, run or restore from the cache what is not theirs;
each attempt is refused. tests/functional/test_users.py has the permission matrix of graphs and operations
(reading, writing, running and cancelling others' graphs, which the API refused before these attacks were
written down); this adds what was open: resources by id (bytes and preview), the side doors that name a
resource id so the runner hands it to an operation, and the cache.

`mallory` has the policies of a tenant who sees only their own objects (no CAN_VIEW_OTHERS_*), `bob`
the seed's defaults (who may view others' objects), `alice` is the victim, `root` the admin.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
import tempfile
import time
from typing import Any, Iterator

import pytest
import requests

from tests.conftest import REPO
from tests.helpers import by_title, graph, instance, log_id, operation, output_id
from tests.processes import stack_env, start, stop

pytestmark = pytest.mark.slow
SECRET = "a-tenant-test-secret-key-of-at-least-32-bytes"
OWN_ONLY = ("CAN_VIEW_OPERATIONS", "CAN_VIEW_WORKFLOWS", "CAN_CREATE_OPERATIONS", "CAN_CREATE_WORKFLOWS",
            "CAN_RUN_WORKFLOWS")
ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
UPPER = "open(outputs['out'], 'w').write(open(inputs['in']).read().upper())\nprint('ran', params['tag'])\n"


class User:
    """One signed-in user of the multi-user stack."""

    def __init__(self, base: str, name: str, token: str) -> None:
        self.base, self.name, self.token = base, name, token

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.base}/{path}", headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> dict:
        response = self.call(method, path, **kwargs)
        assert response.status_code == 200, (self.name, path, response.text)
        return response.json()

    def upload(self, content: bytes, title: str) -> dict:
        return self.ok("post", "upload_file", files={"data": (f"{title}.txt", content)},
                       data={"title": title, "file_type": "file"})["node"]

    def operation(self, node: dict) -> dict:
        body = self.ok("post", "nodes", json={"node": node, "actions": ["SAVE", "APPROVE"]})
        assert body["status"] == "SUCCESS", body
        return body["node"]

    def run(self, title: str, nodes: list[dict]) -> str:
        body = self.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE", "APPROVE"]})
        assert body["status"] == "SUCCESS", body
        return body["graph"]["_id"]

    def wait(self, graph_id: str, timeout: float = 90.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            data = self.ok("get", f"graphs/{graph_id}")["data"]
            if data["graph_running_status"] in ("SUCCESS", "FAILED", "CANCELED"):
                return data
            assert time.monotonic() < deadline, data
            time.sleep(0.2)


_MOTO_KEY: list[str] = []  # the tenants stack's moto key: it refuses requests signed with any other


@pytest.fixture(scope="module")
def tenants() -> Iterator[tuple[dict[str, User], str]]:
    """The users, and the stack's moto endpoint (to change stored data behind the API's back)."""
    with tempfile.TemporaryDirectory(prefix="plynx-tenants-") as data_dir:
        env, ports = stack_env(data_dir)
        process = start(env, "--secret-key", SECRET)
        base = f"http://localhost:{ports['PLYNX_API_PORT']}/plynx/api/v0"

        def cli(*args: str) -> None:
            done = subprocess.run([sys.executable, "-m", "chalicelib.api.user_cli", "--endpoint",
                                   f"http://127.0.0.1:{ports['PLYNX_MOTO_PORT']}", *args],
                                  cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr

        try:
            users = {}
            for name in ("alice", "bob", "mallory", "root"):
                cli("create", name, "--password", f"{name}-password-1", *(["--admin"] if name == "root" else []))
            cli("policies", "mallory", *OWN_ONLY)
            for name in ("alice", "bob", "mallory", "root"):
                tokens = requests.get(f"{base}/token", auth=(name, f"{name}-password-1"), timeout=30).json()
                users[name] = User(base, name, tokens["access_token"])
            _MOTO_KEY[:] = [env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]]  # that stack's own (start())
            yield users, f"http://127.0.0.1:{ports['PLYNX_MOTO_PORT']}"
        finally:
            stop(process)


@pytest.fixture(scope="module")
def people(tenants: tuple[dict[str, User], str]) -> dict[str, User]:
    return tenants[0]


@pytest.fixture(scope="module")
def alices(people: dict[str, User]) -> dict[str, Any]:
    """alice's secret upload and a finished run of hers that read it."""
    alice = people["alice"]
    secret = b"alice's secret " + secrets.token_hex(8).encode()
    data = alice.upload(secret, "secret")
    upper = alice.operation(operation("python", "upper", UPPER, inputs=[ONE], outputs=["out"],
                                      params={"tag": "alice"}))
    placed = instance(data)
    node = instance(upper, **{"in": [(placed, "out")]})
    ran = alice.wait(alice.run("alice's run", [placed, node]))
    assert ran["graph_running_status"] == "SUCCESS", ran
    done = by_title(ran, "upper")
    return {"secret": secret, "data": data, "upper": upper, "graph": ran,
            "file_id": data["outputs"][0]["resource_id"], "output_id": output_id(done, "out"),
            "log_id": log_id(done, "stdout")}


def _resource(user: User, resource_id: str, **params: str) -> requests.Response:
    return user.call("get", f"resources/{resource_id}", params=params)


def test_a_resource_is_read_only_by_who_may_view_what_holds_it(people: dict[str, User], alices: dict) -> None:
    mallory, bob, alice, root = people["mallory"], people["bob"], people["alice"], people["root"]
    missing = hashlib.sha256(secrets.token_bytes(16)).hexdigest()
    for resource_id in (alices["file_id"], alices["output_id"], alices["log_id"]):
        for params in ({}, {"preview": "true"}, {"preview": "true", "file_type": "file"}):
            refused = _resource(mallory, resource_id, **params)
            absent = _resource(mallory, missing, **params)
            # 404, worded as for an id nobody stored: ids are no oracle of what others have
            assert refused.status_code == absent.status_code == 404, (params, refused.text)
            assert refused.json()["Message"].replace(resource_id, "ID") == absent.json()["Message"].replace(
                missing, "ID")
        assert _resource(alice, resource_id).status_code == 200  # hers: she uploaded it, or her run made it
        assert _resource(bob, resource_id).status_code == 200  # bob may view her workflows and operations
        assert _resource(root, resource_id).status_code == 200
    assert _resource(alice, alices["output_id"]).content == alices["secret"].upper()
    # who has the bytes may store them: equal content, one more holder, and then it is theirs to read
    assert mallory.upload(alices["secret"], "same bytes")["outputs"][0]["resource_id"] == alices["file_id"]
    assert _resource(mallory, alices["file_id"]).content == alices["secret"]
    assert _resource(mallory, alices["output_id"]).status_code == 404  # what her run made, still not


def test_naming_a_resource_id_does_not_hand_it_over(tenants: tuple[dict[str, User], str], alices: dict) -> None:
    people, moto = tenants
    mallory = people["mallory"]
    target = alices["output_id"]  # seen, say, in a shared screenshot: mallory cannot read it
    steal = operation("python", "steal", "open(outputs['out'], 'w').write(open(inputs['in']).read())\n",
                      inputs=[ONE], outputs=["out"], params={"tag": "mallory"})
    thief = mallory.operation(steal)
    forged = {"base_node_name": "file", "title": "forged", "description": "",
              "outputs": [{"name": "out", "file_type": "file", "resource_id": target}]}
    # a graph's file node (SAVE, and APPROVE without SAVE)
    placed = dict(forged, _id=secrets.token_hex(12))
    nodes = [placed, instance(thief, **{"in": [(placed, "out")]})]
    for actions in (["SAVE"], ["APPROVE"], ["SAVE", "APPROVE"]):
        refused = mallory.call("post", "graphs", json={"graph": graph("steal", nodes), "actions": actions})
        assert refused.status_code == 400 and f"resource `{target}`, which was not found" in refused.text, actions
    # a library file (POST /nodes), and a file inside a composite operation
    assert mallory.call("post", "nodes", json={"node": forged, "actions": ["SAVE"]}).status_code == 400
    composite = {"base_node_name": "graph", "title": "wrapper", "inputs": [],
                 "outputs": [{"name": "result", "file_type": "file"}],
                 "parameters": [{"name": "_nodes", "parameter_type": "list_node", "value": [
                     {"_id": "2419f9f6d8b5da6e4bb8f8d4", "base_node_name": "_input"}, placed,
                     {"_id": "56a2bd3af3fe5ee6d63ac7dd", "base_node_name": "_output", "inputs": [
                         {"name": "result", "values": [{"node_id": placed["_id"], "output_id": "out"}]}]}]}]}
    assert mallory.call("post", "nodes", json={"node": composite, "actions": ["SAVE"]}).status_code == 400
    wrapped = dict(composite, _id=secrets.token_hex(12))
    assert mallory.call("post", "graphs", json={"graph": graph("wrapped", [wrapped]),
                                                "actions": ["SAVE"]}).status_code == 400
    # alice's library file, placed into mallory's graph: she may not view it
    own = mallory.ok("post", "graphs", json={"graph": graph("mine", []), "actions": ["SAVE"]})["graph"]
    inserted = mallory.call("post", f"graphs/{own['_id']}/nodes/insert_node", json={"node_id": alices["data"]["_id"]})
    assert inserted.status_code == 403
    # APPROVE of a stored graph checks the approver again: a graph stored before owners were recorded (here
    # its file node changed in DynamoDB behind the API's back) does not hand the file over either
    decoy = instance(mallory.upload(b"decoy " + secrets.token_hex(8).encode(), "decoy"))
    saved = mallory.ok("post", "graphs", json={"graph": graph("legacy", [decoy, instance(
        thief, **{"in": [(decoy, "out")]})]), "actions": ["SAVE"]})["graph"]
    _rewrite_file(moto, saved["_id"], decoy["_id"], target)
    # a version never changes once written, so the API keeps its latest two in memory (store/graph_items.py);
    # a legacy graph is not among them: two saves push this one out, and APPROVE reads the table
    for spare in range(2):
        mallory.ok("post", "graphs", json={"graph": graph(f"spare {spare}", []), "actions": ["SAVE"]})
    approved = mallory.call("post", f"graphs/{saved['_id']}/approve")
    assert approved.status_code == 400 and f"resource `{target}`, which was not found" in approved.text
    assert mallory.ok("get", f"graphs/{saved['_id']}")["data"]["graph_running_status"] == "CREATED"  # never ran
    assert _resource(mallory, target).status_code == 404


def _rewrite_file(moto: str, graph_id: str, node_id: str, resource_id: str) -> None:
    """Point a stored file node at another resource, in the table itself."""
    import json

    import boto3

    dynamodb = boto3.resource("dynamodb", endpoint_url=moto, region_name="us-east-1", aws_access_key_id=_MOTO_KEY[0],
                              aws_secret_access_key=_MOTO_KEY[1])
    header = dynamodb.Table("plynx-graphs").get_item(Key={"_id": graph_id})["Item"]
    key = {"graph_id": header.get("nodes") or graph_id, "node_id": node_id}  # the saved version's partition
    table = dynamodb.Table("plynx-graph-nodes")
    body = json.loads(table.get_item(Key=key)["Item"]["body"])
    body["outputs"][0]["resource_id"] = resource_id
    table.update_item(Key=key, UpdateExpression="SET body = :b", ExpressionAttributeValues={":b": json.dumps(body)})


def test_the_cache_restores_only_what_the_runs_author_may_view(people: dict[str, User], alices: dict) -> None:
    """alice's cached result is not restored for mallory, whose identical operation runs instead, both when
    APPROVE plans the restores (a file input) and when the runner looks up at run time (an input known only
    then); bob, who may view alice's workflows, gets it restored."""
    alice, bob, mallory = people["alice"], people["bob"], people["mallory"]
    content = b"shared input " + secrets.token_hex(8).encode()
    source_cmd = f"open(outputs['out'], 'w').write({content.decode()!r})\n"
    # two cache keys (the tags differ), each the same for every user: within one run neither restores the other
    code = {tag: operation("python", "upper", UPPER, inputs=[ONE], outputs=["out"], params={"tag": tag})
            for tag in ("planned", "at run time")}
    code["source"] = operation("python", "source", source_cmd, outputs=["out"], params={"tag": "source"})
    code["source"]["parameters"].append({"name": "_cacheable", "parameter_type": "bool", "value": False})

    def run(user: User) -> dict[str, dict]:
        """The same operations in the user's own graph: upper(file) and upper(source()), source uncached."""
        stored = {name: user.operation(node) for name, node in code.items()}
        data = instance(user.upload(content, "input"))
        planned = instance(stored["planned"], **{"in": [(data, "out")]})
        produced = instance(stored["source"])
        at_run_time = instance(stored["at run time"], **{"in": [(produced, "out")]})
        planned["title"], at_run_time["title"] = "planned", "at run time"
        ran = user.wait(user.run(f"{user.name}'s cache", [data, planned, produced, at_run_time]))
        assert ran["graph_running_status"] == "SUCCESS", ran
        return {title: by_title(ran, title) for title in ("planned", "at run time")}

    first = run(alice)
    assert {n["node_running_status"] for n in first.values()} == {"SUCCESS"}
    again = run(alice)  # the control: her own entries restore, at APPROVE and at run time
    assert {n["node_running_status"] for n in again.values()} == {"RESTORED"}
    theirs = run(mallory)
    for title, node in theirs.items():
        assert node["node_running_status"] == "SUCCESS", title  # ran instead of restoring alice's result
        assert _resource(mallory, log_id(node, "stdout")).content == f"ran {title}\n".encode()
        assert _resource(mallory, output_id(node, "out")).content == content.upper()
    assert {n["node_running_status"] for n in run(bob).values()} == {"RESTORED"}


def test_an_upload_is_its_creators_alone(people: dict[str, User]) -> None:
    """Another user (an admin too) cannot complete, abort or get part URLs of alice's direct upload."""
    alice = people["alice"]
    content = b"alice's big file " + secrets.token_bytes(16)
    created = alice.ok("post", "uploads", json={"size": len(content), "title": "hers"})
    etag = requests.put(created["parts"][0]["url"], data=content, timeout=30).headers["ETag"]
    upload_id, parts = created["upload_id"], [{"part_number": 1, "etag": etag}]
    for name in ("bob", "mallory", "root"):
        other = people[name]
        for method, path, body in (("post", f"uploads/{upload_id}/complete", {"parts": parts}),
                                   ("post", f"uploads/{upload_id}/parts", {"part_numbers": [1]}),
                                   ("delete", f"uploads/{upload_id}", None)):
            response = other.call(method, path, json=body)
            assert response.status_code == 404 and "not found" in response.json()["Message"], (name, path,
                                                                                              response.text)
    done = alice.ok("post", f"uploads/{upload_id}/complete", json={"parts": parts})
    assert done["resource_id"] == hashlib.sha256(content).hexdigest()
    assert people["mallory"].call("get", f"resources/{done['resource_id']}").status_code == 404


def test_a_run_is_seen_by_who_may_see_its_graph_and_canceled_or_retried_by_who_may_run_it(
        people: dict[str, User], alices: dict) -> None:
    """mallory (own objects only) gets a 404 for alice's run, as for a run id nobody has; bob (views others')
    reads it but may not cancel it; the run list of alice's graph answers mallory as the graph does."""
    alice, bob, mallory = people["alice"], people["bob"], people["mallory"]
    graph_id = alices["graph"]["_id"]
    run_id = alice.ok("get", f"graphs/{graph_id}")["data"]["latest_run_id"]
    assert run_id and alice.ok("get", f"runs/{run_id}")["data"]["run_status"] == "SUCCESS"
    absent = mallory.call("get", "runs/no-such-run-of-anyone")
    for method, path in (("get", f"runs/{run_id}"), ("post", f"runs/{run_id}/cancel"),
                         ("post", f"runs/{run_id}/retry")):
        refused = mallory.call(method, path)
        assert refused.status_code == absent.status_code == 404, refused.text
        assert run_id not in refused.text.replace(f"Run `{run_id}` not found", "")  # nothing but the id echoed
    assert mallory.call("get", f"graphs/{graph_id}/runs").status_code == \
        mallory.call("get", f"graphs/{graph_id}").status_code == 403
    seen = bob.ok("get", f"runs/{run_id}")["data"]
    assert seen["graph_id"] == graph_id and by_title(seen["graph"], "upper")["node_running_status"] == "SUCCESS"
    assert bob.ok("get", f"graphs/{graph_id}/runs")["total_count"] >= 1
    assert bob.call("post", f"runs/{run_id}/cancel").status_code == 403
    assert bob.call("post", f"runs/{run_id}/retry").status_code == 403  # before "it succeeded": a 409 for alice
    assert alice.call("post", f"runs/{run_id}/retry").status_code == 409
    # comparing runs: who may see both (bob), a 404 worded as for no run for who may not (mallory)
    assert bob.ok("get", f"runs/{run_id}/compare/{run_id}")["data"]["graph_id"] == graph_id
    refused = mallory.call("get", f"runs/{run_id}/compare/{run_id}")
    assert refused.status_code == 404 and "cost" not in refused.text, refused.text


def test_approving_a_version_of_someone_elses_operation_leaves_theirs_alone(people: dict[str, User]) -> None:
    """bob's approved clone of alice's operation, or mallory's node naming it as its parent, do not deprecate
    it; the answer says the parent was left as it is, in the same words as for an id that does not exist."""
    alice, bob, mallory = people["alice"], people["bob"], people["mallory"]
    hers = alice.operation(operation("python", "hers", "pass\n"))
    on_hers = bob.ok("post", "graphs", json={"graph": graph("bob uses hers", [instance(hers)]),
                                             "actions": ["SAVE"]})["graph"]
    clone = bob.ok("post", "nodes", json={"node": hers, "actions": ["CLONE"]})["node"]
    assert clone["parent_node_id"] == hers["_id"] and clone["author"] == "bob"
    answers = [bob.ok("post", "nodes", json={"node": dict(clone, title="bob's"), "actions": ["SAVE", "APPROVE"]})]
    forged = dict(operation("python", "mallory's", "pass\n"), parent_node_id=hers["_id"])
    answers.append(mallory.ok("post", "nodes", json={"node": forged, "actions": ["SAVE", "APPROVE"]}))
    for answer in answers:
        assert answer["status"] == "SUCCESS" and "replaced_node_id" not in answer, answer
        assert answer["replace_skipped"] == (f"Node `{hers['_id']}` is not an approved operation of this "
                                             "operation's author; it is left as it is")
    unknown = mallory.ok("post", "nodes", json={"node": dict(forged, parent_node_id="0" * 24),
                                                "actions": ["SAVE", "APPROVE"]})
    assert unknown["replace_skipped"] == answers[1]["replace_skipped"].replace(hers["_id"], "0" * 24)
    stored = alice.ok("get", f"nodes/{hers['_id']}")["data"]
    assert stored["node_status"] == "READY" and stored["successor_node_id"] is None
    assert bob.ok("post", f"graphs/{on_hers['_id']}/upgrade_nodes")["upgraded_nodes_count"] == 0


def test_a_trial_is_its_authors_only_and_takes_only_inputs_they_may_read(people: dict[str, User],
                                                                         alices: dict) -> None:
    """alice tries a draft on her secret: bob (who may view her workflows) and mallory get 404s for the trial,
    its run and its graph, as for ids nobody has, and neither lists it; mallory may not try on alice's output
    (a 404 worded as for a missing id); root (admin) reads it."""
    alice, bob, mallory, root = people["alice"], people["bob"], people["mallory"], people["root"]
    draft = operation("python", "tried upper", UPPER, inputs=[ONE], outputs=["out"], params={"tag": "trial"})
    draft["_id"] = secrets.token_hex(12)
    started = alice.ok("post", "nodes/try", json={"node": draft, "inputs": {"in": alices["file_id"]},
                                                  "parameters": {"tag": "tried"}})
    trial_id, graph_id = started["trial_id"], started["graph_id"]
    deadline = time.monotonic() + 90
    while (trial := alice.ok("get", f"trials/{trial_id}")["data"])["run_status"] not in ("SUCCESS", "FAILED"):
        assert time.monotonic() < deadline, trial
        time.sleep(0.2)
    assert trial["run_status"] == "SUCCESS", trial
    assert alice.call("get", f"resources/{output_id(trial['operation'], 'out')}").content == alices["secret"].upper()
    for other in (bob, mallory):
        for path in (f"trials/{trial_id}", f"runs/{trial_id}", f"graphs/{graph_id}", f"graphs/{graph_id}/runs",
                     f"runs/{trial_id}/compare/{trial_id}"):
            refused = other.call("get", path)
            assert refused.status_code == 404 and "not found" in refused.json()["Message"], (other.name, path,
                                                                                            refused.text)
        for method, path in (("post", f"runs/{trial_id}/cancel"), ("post", f"runs/{trial_id}/retry"),
                             ("post", f"graphs/{graph_id}/approve")):
            assert other.call(method, path).status_code == 404, (other.name, path)
        assert trial_id not in [t["trial_id"] for t in other.ok("get", "trials")["items"]]
        hijack = other.call("post", "graphs", json={"graph": dict(graph("mine now", []), _id=graph_id),
                                                    "actions": ["SAVE"]})
        assert hijack.status_code == 404, hijack.text  # not 403 "belongs to alice": no oracle
    assert trial_id in [t["trial_id"] for t in alice.ok("get", "trials")["items"]]
    assert root.ok("get", f"trials/{trial_id}")["data"]["run_status"] == "SUCCESS"
    # mallory's own draft on alice's output: refused as for an id nobody stored, and nothing runs
    missing = hashlib.sha256(secrets.token_bytes(16)).hexdigest()
    for resource_id in (alices["output_id"], missing):
        refused = mallory.call("post", "nodes/try", json={"node": draft, "inputs": {"in": resource_id}})
        assert refused.status_code == 404, refused.text
        assert refused.json()["Message"] == f"Resource `{resource_id}` not found"
    assert mallory.ok("get", "trials")["items"] == []
    # her own trial, on her own upload: hers to read, and no workflow in her /state (her author index holds it)
    own = mallory.upload(b"mallory's own", "own")["outputs"][0]["resource_id"]
    mine = mallory.ok("post", "nodes/try", json={"node": draft, "inputs": {"in": own}})
    state = mallory.ok("get", "state")
    assert mine["graph_id"] not in [run["graph_id"] for run in state["active_runs"] + state["recent_runs"]]
    assert [t["trial_id"] for t in mallory.ok("get", "trials")["items"]] == [mine["trial_id"]]
    # bob may view alice's workflows, so her output is his to try on; his trial is his, not hers
    his = bob.ok("post", "nodes/try", json={"node": draft, "inputs": {"in": alices["output_id"]}})
    assert alice.call("get", f"trials/{his['trial_id']}").status_code == 404


DEFAULT_POLICIES = ["CAN_VIEW_OTHERS_OPERATIONS", "CAN_VIEW_OTHERS_WORKFLOWS", "CAN_VIEW_OPERATIONS",
                    "CAN_VIEW_WORKFLOWS", "CAN_CREATE_OPERATIONS", "CAN_CREATE_WORKFLOWS", "CAN_RUN_WORKFLOWS"]


def _policies(root: User, name: str, policies: list[str]) -> None:
    root.ok("post", "user", json={"user": {"username": name, "policies": policies}})


def test_triggers_are_made_by_who_may_run_the_graph_and_fire_only_while_their_maker_may(
        people: dict[str, User], alices: dict) -> None:
    alice, bob, mallory, root = people["alice"], people["bob"], people["mallory"], people["root"]
    graph_id = alices["graph"]["_id"]
    # mallory may not see alice's graph: not its triggers either; bob may see them but not change them
    for method, path in (("get", "triggers"), ("post", "triggers/webhook"), ("post", "triggers/webhook/rotate"),
                         ("delete", "triggers/webhook"), ("post", "triggers/files")):
        assert mallory.call(method, f"graphs/{graph_id}/{path}", json={"file_id": alices["data"]["_id"]}
                            ).status_code == 403, path
    for method, path in (("post", "triggers/webhook"), ("post", "triggers/files")):
        assert bob.call(method, f"graphs/{graph_id}/{path}", json={"file_id": alices["data"]["_id"]}
                        ).status_code == 403, path
    # no credentials: every route of triggers and notifications is a 401, but the trigger URL itself
    for method, path in (("get", "triggers"), ("post", "triggers/webhook"), ("post", "triggers/webhook/rotate"),
                         ("delete", "triggers/webhook"), ("post", "triggers/files"),
                         ("delete", f"triggers/files/{alices['data']['_id']}"), ("get", "notifications"),
                         ("put", "notifications"), ("delete", "notifications")):
        anonymous = requests.request(method, f"{alice.base}/graphs/{graph_id}/{path}", json={}, timeout=30)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
    made = alice.ok("post", f"graphs/{graph_id}/triggers/webhook")["data"]
    url = f"{alice.base}/triggers/{made['token']}"
    shown = bob.ok("get", f"graphs/{graph_id}/triggers")["data"]["webhook"]
    assert shown["created_by"] == "alice" and "token" not in shown
    for method, path in (("post", "triggers/webhook/rotate"), ("delete", "triggers/webhook")):
        assert bob.call(method, f"graphs/{graph_id}/{path}").status_code == 403, path
    # mallory's file trigger on her own graph may not watch alice's file (she may not see it)
    own = mallory.ok("post", "graphs", json={"graph": graph("mine to trigger", []), "actions": ["SAVE"]})["graph"]
    assert mallory.call("post", f"graphs/{own['_id']}/triggers/files",
                        json={"file_id": alices["data"]["_id"]}).status_code == 403
    # nor upload a "new version" of it
    assert mallory.call("post", "upload_file", files={"data": ("x.txt", b"x")},
                        data={"title": "x", "file_type": "file", "replaces": alices["data"]["_id"]}).status_code == 403

    # alice loses the right to run workflows: her trigger is refused; given back, it runs for her again
    _policies(root, "alice", [p for p in DEFAULT_POLICIES if p != "CAN_RUN_WORKFLOWS"])
    try:
        refused = requests.post(url, timeout=30)
        assert refused.status_code == 403 and "CAN_RUN_WORKFLOWS" in refused.text, refused.text
    finally:
        _policies(root, "alice", DEFAULT_POLICIES)
    started = requests.post(url, timeout=30)
    assert started.status_code == 200, started.text
    alice.wait(graph_id)
    run = alice.ok("get", f"runs/{started.json()['run_id']}")["data"]
    assert run["how"] == "WEBHOOK" and run["started_by"] == "alice" and run["acting_for"] == "alice"
    alice.ok("delete", f"graphs/{graph_id}/triggers/webhook")
    assert requests.post(url, timeout=30).status_code == 404


def test_each_user_sets_their_own_notifications_and_is_told_only_while_they_may_see_the_graph(
        people: dict[str, User], alices: dict) -> None:
    from tests.functional.test_notifications import Receiver

    alice, bob, mallory, root = people["alice"], people["bob"], people["mallory"], people["root"]
    graph_id = alices["graph"]["_id"]
    for method in ("get", "put", "delete"):  # mallory may not see the graph
        assert mallory.call(method, f"graphs/{graph_id}/notifications", json={"on": "both"}).status_code == 403
    receiver = Receiver([])
    try:
        mine = bob.ok("put", f"graphs/{graph_id}/notifications", json={"on": "both", "webhook_url": receiver.url})
        hers = alice.ok("put", f"graphs/{graph_id}/notifications", json={"on": "never"})["data"]
        assert mine["data"]["secret"] != hers["secret"]
        # each reads their own: alice never sees bob's URL or secret, an admin neither
        assert alice.ok("get", f"graphs/{graph_id}/notifications")["data"]["webhook_url"] is None
        assert root.ok("get", f"graphs/{graph_id}/notifications")["data"]["secret"] is None

        alice.ok("post", f"graphs/{graph_id}/approve")
        alice.wait(graph_id)
        [told] = receiver.wait_for(1)
        assert json.loads(told["body"])["graph_id"] == graph_id

        _policies(root, "bob", [p for p in DEFAULT_POLICIES if p != "CAN_VIEW_OTHERS_WORKFLOWS"])
        try:
            assert bob.call("get", f"graphs/{graph_id}/notifications").status_code == 403
            alice.ok("post", f"graphs/{graph_id}/approve")
            alice.wait(graph_id)
            time.sleep(1.0)  # the notifier had its chance
            assert len(receiver.received) == 1  # bob may no longer see the graph: not told
        finally:
            _policies(root, "bob", DEFAULT_POLICIES)
        bob.ok("delete", f"graphs/{graph_id}/notifications")
    finally:
        receiver.close()


def test_a_graphs_schedules_are_read_by_who_may_see_it_and_managed_by_who_may_run_it(
        tenants: tuple[dict[str, User], str], alices: dict) -> None:
    """Schedules answer as the graph's runs do: mallory (own objects only) gets a 403 on the list and a 404
    for a schedule id, as for one nobody has; bob (views others') reads them, read only, and may not add,
    pause or delete one; root (admin) may; alice's schedule fires on alice's behalf."""
    import boto3

    people, moto = tenants
    alice, bob, mallory, root = people["alice"], people["bob"], people["mallory"], people["root"]
    graph_id = alices["graph"]["_id"]
    made = alice.ok("post", f"graphs/{graph_id}/schedules",
                    json={"expression": "cron(0 6 ? * SUN *)", "timezone": "Asia/Tokyo"})["data"]
    assert made["author"] == "alice" and len(made["next_fire_times"]) == 5
    schedule_id = made["_id"]
    scheduler = boto3.client("scheduler", endpoint_url=moto, region_name="us-east-1", aws_access_key_id=_MOTO_KEY[0],
                             aws_secret_access_key=_MOTO_KEY[1])

    def state() -> str:
        return scheduler.get_schedule(Name=f"plynx-{schedule_id}", GroupName="plynx")["State"]

    assert mallory.call("get", f"graphs/{graph_id}/schedules").status_code == 403
    assert mallory.call("post", f"graphs/{graph_id}/schedules", json={"expression": "rate(1 day)"}).status_code == 403
    absent = mallory.call("patch", "schedules/0123456789abcdef01234567", json={"enabled": False})
    for method in ("patch", "delete"):
        refused = mallory.call(method, f"schedules/{schedule_id}", json={"enabled": False})
        assert refused.status_code == absent.status_code == 404, refused.text
        assert "cron" not in refused.text and graph_id not in refused.text
    [seen] = bob.ok("get", f"graphs/{graph_id}/schedules")["items"]
    assert seen["_id"] == schedule_id and seen["_readonly"] is True and seen["next_fire_times"] == made["next_fire_times"]
    assert bob.call("post", f"graphs/{graph_id}/schedules", json={"expression": "rate(1 day)"}).status_code == 403
    assert bob.call("patch", f"schedules/{schedule_id}", json={"enabled": False}).status_code == 403
    assert bob.call("delete", f"schedules/{schedule_id}").status_code == 403
    assert state() == "ENABLED"
    assert alice.ok("get", f"graphs/{graph_id}/schedules")["items"][0]["_readonly"] is False

    paused = root.ok("patch", f"schedules/{schedule_id}", json={"enabled": False})["data"]
    assert paused["enabled"] is False and paused["updated_by"] == "root" and paused["author"] == "alice"
    assert state() == "DISABLED"
    assert root.ok("delete", f"schedules/{schedule_id}")["data"]["_id"] == schedule_id
    assert alice.call("get", f"graphs/{graph_id}/schedules").json()["items"] == []


def test_a_schedule_fires_only_while_its_author_may_run_the_graph(people: dict[str, User], alices: dict) -> None:
    """The stack's own firer, in real time: alice's `at(...)` schedule fires after root took her right to run
    workflows, and the fire is refused and says so; given back, her next one starts a run on her behalf."""
    import datetime as dt

    alice, root = people["alice"], people["root"]
    graph_id = alices["graph"]["_id"]
    alice.wait(graph_id)

    def add(seconds: int) -> str:
        due = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=seconds)
        return alice.ok("post", f"graphs/{graph_id}/schedules", json={
            "expression": f"at({due.strftime('%Y-%m-%dT%H:%M:%S')})", "timezone": "UTC"})["data"]["_id"]

    def fired(schedule_id: str) -> dict:
        deadline = time.monotonic() + 60
        while True:
            [shown] = [s for s in alice.ok("get", f"graphs/{graph_id}/schedules")["items"] if s["_id"] == schedule_id]
            if shown["last_fire"] or time.monotonic() > deadline:
                return shown
            time.sleep(0.3)

    runs_before = alice.ok("get", f"graphs/{graph_id}/runs")["total_count"]
    first = add(6)
    _policies(root, "alice", [p for p in DEFAULT_POLICIES if p != "CAN_RUN_WORKFLOWS"])
    try:
        refused = fired(first)
    finally:
        _policies(root, "alice", DEFAULT_POLICIES)
    alice.ok("delete", f"schedules/{first}")
    assert refused["last_fire"]["outcome"] == "REFUSED" and "CAN_RUN_WORKFLOWS" in refused["last_fire"]["message"]
    assert alice.ok("get", f"graphs/{graph_id}/runs")["total_count"] == runs_before
    started = fired(add(4))
    alice.ok("delete", f"schedules/{started['_id']}")
    assert started["last_fire"]["outcome"] == "STARTED", started
    alice.wait(graph_id)
    run = alice.ok("get", f"runs/{started['last_fire']['run_id']}")["data"]
    assert (run["how"], run["started_by"], run["acting_for"], run["schedule_id"]) == (
        "SCHEDULE", "alice", "alice", started["_id"])
