"""Multi-user mode (`--secret-key`): registration, tokens, IAM policies and the permission matrix,
on a stack of its own started as `make up SECRET_KEY=...` starts it; admins come from the users CLI."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from typing import Any, Iterator

import jwt
import pytest
import requests

from tests.conftest import REPO
from tests.helpers import graph, instance, operation
from tests.processes import stack_env, start, stop

pytestmark = pytest.mark.slow
SECRET = "a-test-secret-key-of-at-least-32-bytes"


class Stack:
    def __init__(self, ports: dict[str, str], env: dict[str, str]) -> None:
        self.base = f"http://localhost:{ports['PLYNX_API_PORT']}/plynx/api/v0"
        self.moto = f"http://127.0.0.1:{ports['PLYNX_MOTO_PORT']}"
        self.env = env

    def call(self, method: str, path: str, auth: Any = None, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if isinstance(auth, str):  # an access token
            headers["Authorization"] = f"Bearer {auth}"
            auth = None
        return requests.request(method, f"{self.base}/{path}", auth=auth, headers=headers, timeout=30, **kwargs)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "chalicelib.api.user_cli", "--endpoint", self.moto, *args],
                              cwd=REPO, env=self.env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def multi() -> Iterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="plynx-multi-") as data_dir:
        env, ports = stack_env(data_dir)
        process = start(env, "--secret-key", SECRET)
        try:
            yield Stack(ports, env)
        finally:
            stop(process)


@pytest.fixture(scope="module")
def people(multi: Stack) -> dict[str, str]:
    """alice and bob registered through the API, root made an admin with the CLI; their access tokens."""
    tokens = {}
    for name in ("alice", "bob"):
        body = multi.call("post", "register", json={"username": name, "password": f"{name}-password",
                                                     "email": f"{name}@example.com"}).json()
        tokens[name] = body["access_token"]
    made = multi.cli("create", "root", "--password", "root-password", "--admin")
    assert made.returncode == 0, made.stderr
    assert "IS_ADMIN" in json.loads(made.stdout)["policies"]
    tokens["root"] = multi.call("get", "token", auth=("root", "root-password")).json()["access_token"]
    return tokens


def test_anonymous_and_bad_credentials_are_401(multi: Stack) -> None:
    for method, path in (("get", "graphs/new"), ("post", "search_nodes"), ("post", "search_graphs"),
                         ("get", "nodes/python"), ("get", "user"), ("get", "state"), ("get", "token")):
        response = multi.call(method, path, json={})
        assert response.status_code == 401, (path, response.text)
    # the single-user `default:` has no place in multi-user mode
    assert multi.call("get", "graphs/new", auth=("default", "")).status_code == 401
    assert multi.call("get", "graphs/new", auth="not.a.token").status_code == 401
    forged = jwt.encode({"sub": "alice", "type": "access", "exp": 9999999999}, "another-key-that-is-long-enough-for-hs256", "HS256")
    assert multi.call("get", "graphs/new", auth=forged).status_code == 401


def test_register_rejects_bad_input(multi: Stack, people: dict[str, str]) -> None:
    cases = [({"username": "", "password": "long-enough"}, 400, "EMPTY_USERNAME"),
             ({"username": "carl", "password": ""}, 400, "EMPTY_PASSWORD"),
             ({"username": "carl", "password": "7-chars"}, 400, "INVALID_LENGTH_OF_PASSWORD"),
             ({"username": "c", "password": "long-enough"}, 400, "INVALID_LENGTH_OF_USERNAME"),
             ({"username": "carl", "password": "long-enough", "email": "no-at"}, 400, "INVALID_EMAIL"),
             ({"username": "has space", "password": "long-enough"}, 400, "may contain"),
             ({"username": "alice", "password": "long-enough"}, 409, "USERNAME_ALREADY_EXISTS")]
    for body, status, text in cases:
        response = multi.call("post", "register", json=body)
        assert response.status_code == status and text in response.json()["Message"], (body, response.text)
    assert multi.call("post", "register", data="[1]").status_code == 400


def test_tokens_password_and_refresh_flow(multi: Stack, people: dict[str, str]) -> None:
    assert multi.call("get", "token", auth=("alice", "wrong")).status_code == 401
    tokens = multi.call("get", "token", auth=("alice", "alice-password")).json()
    access = jwt.decode(tokens["access_token"], SECRET, algorithms=["HS256"])
    refresh = jwt.decode(tokens["refresh_token"], SECRET, algorithms=["HS256"])
    assert access["sub"] == refresh["sub"] == "alice"
    assert access["type"] == "access" and refresh["type"] == "refresh"
    assert access["exp"] - access["iat"] <= 3600 < refresh["exp"] - refresh["iat"]
    # Basic `token:` (the seed's `-u TOKEN:`) and Bearer both work with an access token
    assert multi.call("get", "user", auth=(tokens["access_token"], "")).json()["user"]["username"] == "alice"
    # a refresh token gets new tokens from /token, and nothing else
    renewed = multi.call("get", "token", auth=(tokens["refresh_token"], ""))
    assert renewed.status_code == 200 and renewed.json()["access_token"]
    assert multi.call("get", "graphs/new", auth=tokens["refresh_token"]).status_code == 401
    expired = jwt.encode({"sub": "alice", "type": "access", "exp": 1}, SECRET, "HS256")
    response = multi.call("get", "graphs/new", auth=expired)
    assert response.status_code == 401 and "expired" in response.json()["Message"]


def test_user_profile_and_settings(multi: Stack, people: dict[str, str]) -> None:
    me = multi.call("get", "user", auth=people["alice"]).json()["user"]
    assert me["username"] == "alice" and me["email"] == "alice@example.com"
    assert "CAN_RUN_WORKFLOWS" in me["policies"] and "IS_ADMIN" not in me["policies"]
    changed = multi.call("post", "user", auth=people["alice"],
                         json={"user": {"display_name": "Alice A.", "settings": {"theme": "dark"}}})
    assert changed.status_code == 200 and changed.json()["user"]["settings"] == {"theme": "dark"}
    # others see the public fields only
    seen = multi.call("get", "user/alice", auth=people["bob"]).json()["user"]
    assert seen["display_name"] == "Alice A." and "email" not in seen and "policies" not in seen
    assert multi.call("get", "user/nobody", auth=people["bob"]).status_code == 404
    # nobody changes someone else, nor their own policies, unless admin
    assert multi.call("post", "user", auth=people["bob"], json={"user": {"username": "alice",
                                                                          "display_name": "x"}}).status_code == 403
    assert multi.call("post", "user", auth=people["bob"], json={"user": {"policies": ["IS_ADMIN"]}}).status_code == 403
    assert multi.call("post", "user", auth=people["bob"], json={"user": {"settings": "dark"}}).status_code == 400
    # password change needs the old one
    assert multi.call("post", "user", auth=people["bob"], json={"user": {"password": "n", "old_password": "x"}}
                      ).status_code == 403


def _graph(multi: Stack, token: str, title: str) -> dict:
    node = multi.call("post", "nodes", auth=token, json={"node": operation(
        "python", f"{title} op", "open(outputs['o'], 'w').write('1')\n", outputs=["o"]),
        "actions": ["SAVE", "APPROVE"]}).json()["node"]
    body = multi.call("post", "graphs", auth=token, json={"graph": graph(title, [instance(node)]),
                                                           "actions": ["SAVE"]})
    assert body.status_code == 200, body.text
    return {"node": node, "graph": body.json()["graph"]}


def test_permission_matrix(multi: Stack, people: dict[str, str]) -> None:
    alice = _graph(multi, people["alice"], "alice's")
    graph_id, node = alice["graph"]["_id"], alice["node"]
    bob, root = people["bob"], people["root"]

    # read: others' objects are visible but read only
    seen = multi.call("get", f"graphs/{graph_id}", auth=bob).json()["data"]
    assert seen["_readonly"] is True and seen["author"] == "alice"
    assert multi.call("get", f"nodes/{node['_id']}", auth=bob).json()["data"]["_readonly"] is True
    assert multi.call("get", f"graphs/{graph_id}", auth=people["alice"]).json()["data"]["_readonly"] is False
    found = multi.call("post", "search_graphs", auth=bob, json={"search": "author:alice"}).json()
    assert found["total_count"] >= 1 and all(item["_readonly"] for item in found["items"])

    # write: 403 for every way of changing alice's graph or operation
    stored = multi.call("get", f"graphs/{graph_id}", auth=bob).json()["data"]
    writes = [
        ("post", "graphs", {"graph": dict(stored, title="bob was here"), "actions": ["SAVE"]}),
        ("post", "graphs", {"graph": stored, "actions": ["APPROVE"]}),
        ("post", f"graphs/{graph_id}/approve", None),
        ("post", f"graphs/{graph_id}/rearrange", None),
        ("post", f"graphs/{graph_id}/upgrade_nodes", None),
        ("patch", f"graphs/{graph_id}/update", {"title": "x"}),
        ("post", f"graphs/{graph_id}/nodes/remove_node", {"node_id": stored["nodes"][0]["_id"]}),
        ("post", f"graphs/{graph_id}/nodes/change_parameter",
         {"node_id": stored["nodes"][0]["_id"], "parameter_name": "_cmd", "parameter_value": "x"}),
        ("post", "nodes", {"node": dict(node, title="mine now"), "actions": ["SAVE"]}),
        ("post", "nodes", {"node": node, "actions": ["DEPRECATE"]}),
    ]
    for method, path, body in writes:
        response = multi.call(method, path, auth=bob, json=body)
        assert response.status_code == 403, (path, response.text)
    assert multi.call("get", f"graphs/{graph_id}", auth=root).json()["data"]["title"] == "alice's"

    # anyone may clone what they see; the clone is theirs
    cloned = multi.call("post", f"graphs/{graph_id}/clone", auth=bob).json()
    assert cloned["graph"]["author"] == "bob" and cloned["graph"]["_readonly"] is False

    # admin may act, and the object stays alice's
    fixed = multi.call("post", "graphs", auth=root, json={"graph": dict(stored, title="fixed by root"),
                                                          "actions": ["SAVE"]})
    assert fixed.status_code == 200 and fixed.json()["graph"]["author"] == "alice"
    assert fixed.json()["graph"]["_readonly"] is False
    ran = multi.call("post", f"graphs/{graph_id}/approve", auth=root)
    assert ran.status_code == 200 and ran.json()["status"] == "SUCCESS", ran.text


def test_policies_limit_what_a_user_sees_and_does(multi: Stack, people: dict[str, str]) -> None:
    _graph(multi, people["alice"], "private to alice")
    multi.call("post", "register", json={"username": "carol", "password": "carol-password"})
    carol = multi.call("get", "token", auth=("carol", "carol-password")).json()["access_token"]
    others = _graph(multi, people["alice"], "another")
    limited = multi.cli("policies", "carol", "CAN_VIEW_OPERATIONS", "CAN_VIEW_WORKFLOWS", "CAN_CREATE_WORKFLOWS")
    assert limited.returncode == 0, limited.stderr
    assert multi.call("get", f"graphs/{others['graph']['_id']}", auth=carol).status_code == 403
    searched = multi.call("post", "search_graphs", auth=carol, json={"search": "author:alice"}).json()
    assert searched["total_count"] == 0
    own = multi.call("post", "graphs", auth=carol, json={"graph": graph("carol's", []), "actions": ["SAVE"]})
    assert own.status_code == 200
    assert multi.call("post", "search_graphs", auth=carol, json={}).json()["total_count"] == 1
    refused = multi.call("post", f"graphs/{own.json()['graph']['_id']}/approve", auth=carol)
    assert refused.status_code == 403 and "CAN_RUN_WORKFLOWS" in refused.json()["Message"]
    saved_op = multi.call("post", "nodes", auth=carol, json={"node": operation("python", "c", "pass\n"),
                                                              "actions": ["SAVE"]})
    assert saved_op.status_code == 403 and "CAN_CREATE_OPERATIONS" in saved_op.json()["Message"]
    assert multi.call("post", "user", auth=carol, json={"user": {"policies": []}}).status_code == 403


def test_others_graphs_are_not_edited_nor_their_runs_canceled(multi: Stack, people: dict[str, str]) -> None:
    """The graph editing endpoints and CANCEL, which the matrix above does not try (bob may view alice's)."""
    alice, bob = people["alice"], people["bob"]
    made = _graph(multi, alice, "alice's, to edit")
    graph_id, node_id = made["graph"]["_id"], made["graph"]["nodes"][0]["_id"]
    link = {"from": {"node_id": node_id, "resource": "o"}, "to": {"node_id": node_id, "resource": "o"}}
    for path, body in (("insert_node", {"node_id": made["node"]["_id"]}), ("create_link", link),
                       ("remove_link", link), ("remove_node", {"node_id": node_id})):
        response = multi.call("post", f"graphs/{graph_id}/nodes/{path}", auth=bob, json=body)
        assert response.status_code == 403, (path, response.text)
    slow = multi.call("post", "nodes", auth=alice, json={"node": operation("python", "slow", "import time\n"
                                                                           "time.sleep(60)\n"),
                                                         "actions": ["SAVE", "APPROVE"]}).json()["node"]
    running = multi.call("post", "graphs", auth=alice, json={"graph": graph("alice's long run", [instance(slow)]),
                                                             "actions": ["SAVE", "APPROVE"]}).json()["graph"]
    for method, path, body in (("post", f"graphs/{running['_id']}/cancel", None),
                               ("post", "graphs", {"graph": running, "actions": ["CANCEL"]})):
        response = multi.call(method, path, auth=bob, json=body)
        assert response.status_code == 403, (path, response.text)
    status = multi.call("get", f"graphs/{running['_id']}", auth=alice).json()["data"]["graph_running_status"]
    assert status in ("READY", "RUNNING")
    canceled = multi.call("post", f"graphs/{running['_id']}/cancel", auth=alice)
    assert canceled.status_code == 200 and canceled.json()["graph"]["graph_running_status"] == "CANCELED"


def test_only_a_files_author_retypes_it(multi: Stack, people: dict[str, str]) -> None:
    """The UI's "use as plain file" is APPROVE of a new version: bob may not do it to alice's file."""
    alice, bob = people["alice"], people["bob"]
    uploaded = multi.call("post", "upload_file", auth=alice, files={"data": ("d.json", b"{}")},
                          data={"title": "alice's json", "file_type": "json"}).json()["node"]
    retyped = dict(uploaded, outputs=[dict(uploaded["outputs"][0], file_type="file")])
    refused = multi.call("post", "nodes", auth=bob, json={"node": retyped, "actions": ["APPROVE"]})
    assert refused.status_code == 403, refused.text
    kept = multi.call("get", f"nodes/{uploaded['_id']}", auth=alice).json()["data"]
    assert kept["node_status"] == "READY" and kept["outputs"][0]["file_type"] == "json"
    done = multi.call("post", "nodes", auth=alice, json={"node": retyped, "actions": ["APPROVE"]})
    assert done.status_code == 200 and done.json()["node"]["outputs"][0]["file_type"] == "file", done.text


def test_owner_records_of_older_data_are_backfilled(multi: Stack, people: dict[str, str]) -> None:
    """Data stored before resource owners were recorded reads as missing until `backfill-owners` runs."""
    import boto3

    alice = people["alice"]
    node = multi.call("post", "upload_file", auth=alice, files={"data": ("old.txt", b"older data")},
                      data={"title": "old"}).json()["node"]
    resource_id = node["outputs"][0]["resource_id"]
    table = boto3.resource("dynamodb", endpoint_url=multi.moto, region_name="us-east-1",  # that stack's own key
                           aws_access_key_id=multi.env["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=multi.env["AWS_SECRET_ACCESS_KEY"]).Table("plynx-owners")
    for item in table.scan()["Items"]:  # as before the upgrade
        table.delete_item(Key={"resource_id": item["resource_id"], "holder": item["holder"]})
    assert multi.call("get", f"resources/{resource_id}", auth=alice).status_code == 404
    done = multi.cli("backfill-owners")
    assert done.returncode == 0 and json.loads(done.stdout)["owner_records"] >= 1, done.stderr
    assert multi.call("get", f"resources/{resource_id}", auth=alice).content == b"older data"


def test_cli_lists_deactivates_and_activates(multi: Stack, people: dict[str, str]) -> None:
    listed = multi.cli("list")
    assert listed.returncode == 0
    assert {"alice", "bob", "root"} <= {user["username"] for user in json.loads(listed.stdout)}
    assert multi.cli("deactivate", "bob").returncode == 0
    assert multi.call("get", "user", auth=people["bob"]).status_code == 401
    assert multi.call("get", "token", auth=("bob", "bob-password")).status_code == 401
    assert multi.cli("activate", "bob").returncode == 0
    # deactivating revoked bob's tokens for good; his password works again
    assert multi.call("get", "user", auth=people["bob"]).status_code == 401
    people["bob"] = multi.call("get", "token", auth=("bob", "bob-password")).json()["access_token"]
    assert multi.call("get", "user", auth=people["bob"]).status_code == 200
    duplicate = multi.cli("create", "alice", "--password", "long-enough")
    assert duplicate.returncode == 1 and "USERNAME_ALREADY_EXISTS" in duplicate.stderr
    assert multi.cli("policies", "bob", "NOT_A_POLICY").returncode == 1


def test_plynx_users_manages_accounts_through_the_api(multi: Stack, people: dict[str, str]) -> None:
    """`plynx users` (the client command) as an admin: REST routes only, no AWS credentials in its environment."""
    env = {k: v for k, v in multi.env.items() if not k.startswith("AWS_") and k != "PLYNX_AWS_ENDPOINT"}

    def plynx(*args: str, user: str = "root:root-password") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "plynx", "--api", multi.base, "-u", user, *args], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=60)

    made = plynx("users", "create", "dave", "--password", "dave-password", "--admin")
    assert made.returncode == 0, made.stderr
    assert "IS_ADMIN" in json.loads(made.stdout)["policies"]
    listed = plynx("users", "list")
    assert listed.returncode == 0 and {"alice", "dave", "root"} <= {
        line.split()[0] for line in listed.stdout.splitlines()[1:]}
    assert plynx("users", "deactivate", "dave").returncode == 0
    assert multi.call("get", "user", auth=("dave", "dave-password")).status_code == 401
    assert plynx("users", "activate", "dave").returncode == 0
    assert plynx("users", "policies", "dave", "CAN_VIEW_WORKFLOWS").returncode == 0
    me = plynx("whoami", user="dave:dave-password")
    assert me.returncode == 0 and json.loads(me.stdout)["policies"] == ["CAN_VIEW_WORKFLOWS"]
    refused = plynx("users", "list", user="alice:alice-password")  # not an admin
    assert refused.returncode == 4 and "403" in refused.stderr
    token = subprocess.run([sys.executable, "-m", "plynx", "--api", multi.base, "--token", people["alice"], "whoami"],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert token.returncode == 0 and json.loads(token.stdout)["username"] == "alice"
    refresh = multi.call("get", "token", auth=("alice", "alice-password")).json()["refresh_token"]
    renewed = subprocess.run([sys.executable, "-m", "plynx", "--api", multi.base, "whoami"], cwd=REPO,
                             env=dict(env, PLYNX_REFRESH_TOKEN=refresh), capture_output=True, text=True, timeout=60)
    assert renewed.returncode == 0 and json.loads(renewed.stdout)["username"] == "alice", renewed.stderr


def test_single_user_mode_has_no_registration(api) -> None:
    response = api.post("register", json={"username": "someone", "password": "x"})
    assert response.status_code == 400 and "single-user" in response.json()["Message"]
    me = api.ok("get", "user")["user"]
    assert me["username"] == "default" and "IS_ADMIN" in me["policies"]


def test_single_user_mode_keeps_default_open(api) -> None:
    for change in ({"password": "x"}, {"active": False}, {"policies": []}):
        response = api.post("user", json={"user": change})
        assert response.status_code == 400 and "Single-user" in response.json()["Message"], change
    assert api.ok("post", "user", json={"user": {"display_name": "Me"}})["user"]["display_name"] == "Me"
    assert api.ok("get", "graphs/new")["status"] == "SUCCESS"


def test_archive_delete_and_gc_rights(multi: Stack, people: dict[str, str]) -> None:
    """Archive and restore: who may change the object; delete: its author or an admin; a refusal names only the
    graphs the caller may see; the garbage collection route: admins only."""
    alice, bob, root = people["alice"], people["bob"], people["root"]
    made = _graph(multi, alice, "alice's, to archive")
    graph_id, node_id = made["graph"]["_id"], made["node"]["_id"]
    for path in (f"graphs/{graph_id}/archive", f"graphs/{graph_id}/restore", f"graphs/{graph_id}/delete",
                 f"nodes/{node_id}/archive", f"nodes/{node_id}/delete"):
        response = multi.call("post", path, auth=bob)
        assert response.status_code == 403, (path, response.text)
    refused = multi.call("post", "nodes", auth=bob, json={"node": {"_id": node_id}, "actions": ["DELETE"]})
    assert refused.status_code == 403 and "only they or an admin" in refused.json()["Message"]
    for body in ({"dry_run": True}, {}):
        assert multi.call("post", "gc", auth=bob, json=body).status_code == 403
    assert multi.call("post", "gc", auth=root, json={"dry_run": True}).json()["data"]["dry_run"] is True

    # archived: hidden from bob's lists, found by bob's "Archived" filter, still readable by id
    assert multi.call("post", f"graphs/{graph_id}/archive", auth=alice).status_code == 200
    listed = multi.call("post", "search_graphs", auth=bob, json={"search": "author:alice archive"}).json()
    assert graph_id not in [g["_id"] for g in listed["items"]]
    archived = multi.call("post", "search_graphs", auth=bob, json={"search": "author:alice", "archived": True})
    assert graph_id in [g["_id"] for g in archived.json()["items"]]
    assert multi.call("get", f"graphs/{graph_id}", auth=bob).json()["data"]["archived"]
    assert multi.call("post", f"graphs/{graph_id}/restore", auth=alice).json()["graph"]["archived"] is None

    # a tenant who may not see others' workflows: their operation in alice's graph is refused, unnamed
    multi.call("post", "register", json={"username": "dave", "password": "dave-password"})
    assert multi.cli("policies", "dave", "CAN_VIEW_OPERATIONS", "CAN_VIEW_WORKFLOWS", "CAN_CREATE_OPERATIONS",
                     "CAN_CREATE_WORKFLOWS").returncode == 0
    dave = multi.call("get", "token", auth=("dave", "dave-password")).json()["access_token"]
    daves = multi.call("post", "nodes", auth=dave, json={"node": operation("python", "dave's op", "pass\n"),
                                                         "actions": ["SAVE", "APPROVE"]}).json()["node"]
    bobs = multi.call("post", "nodes", auth=bob, json={"node": operation("python", "bob's op", "pass\n"),
                                                       "actions": ["SAVE", "APPROVE"]}).json()["node"]
    using = multi.call("post", "graphs", auth=alice, json={
        "graph": graph("alice's secret title", [instance(daves), instance(bobs)]), "actions": ["SAVE"]})
    assert using.status_code == 200, using.text
    unseen = multi.call("post", f"nodes/{daves['_id']}/delete", auth=dave)
    assert unseen.status_code == 409 and "1 graph(s) you may not see" in unseen.json()["Message"]
    assert "secret" not in unseen.json()["Message"] and using.json()["graph"]["_id"] not in unseen.json()["Message"]
    seen = multi.call("post", f"nodes/{bobs['_id']}/delete", auth=bob)
    assert seen.status_code == 409 and "`alice's secret title`" in seen.json()["Message"]

    # the admin may delete alice's graph; then alice's operation is free to go, by her
    deleted = multi.call("post", f"graphs/{graph_id}/delete", auth=root)
    assert deleted.status_code == 200 and deleted.json()["deleted"]["_id"] == graph_id
    assert multi.call("get", f"graphs/{graph_id}", auth=alice).status_code == 404
    assert multi.call("post", f"nodes/{node_id}/delete", auth=alice).status_code == 200
