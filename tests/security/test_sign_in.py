"""Sign-in attacks and who may join (issue 12, items 4 and 5), on a multi-user stack of its own started as
`make up SECRET_KEY=...` starts it, plus API processes on the same tables (as other Lambda containers):

- an access token cannot renew itself at /token; a password change or a deactivation revokes every token;
- failed sign-ins are throttled per user and per client address (the connection's, never a header),
  and the count lives in DynamoDB, so a second API process sees it;
- an unknown user costs one scrypt, like a wrong password; passwords under 8 characters are refused;
- registration `open` (with configured default policies), `approval` and `closed`, end to end;
- an API without a secret key refuses to serve unless single-user mode is explicit; so does a deploy.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import tempfile
from typing import Any, Iterator

import boto3
import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.functional.test_users import Stack
from tests.helpers import graph
from tests.processes import stack_env, start, stop
from tests.security.api_process import ApiProcess

pytestmark = pytest.mark.slow

SECRET = "a-sign-in-test-secret-key-of-32-bytes-or-more"
# The main stack's new accounts get these (PLYNX_DEFAULT_POLICIES): no CAN_RUN_WORKFLOWS for strangers.
NARROW = ["CAN_CREATE_WORKFLOWS", "CAN_VIEW_OPERATIONS", "CAN_VIEW_WORKFLOWS"]
ADMIN, ADMIN_PASSWORD = "root", "root-password"


class _From(HTTPAdapter):
    """Connections from one loopback address (Linux routes all of 127.0.0.0/8 to lo)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client(address: str) -> requests.Session:
    """A session whose requests come from `address` (the API is called at 127.0.0.1, not `localhost`)."""
    session = requests.Session()
    session.mount("http://", _From(address))
    return session


def _name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _basic_token(token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{token}:".encode()).decode()}


class Api:
    """One API's base URL (127.0.0.1), called from a chosen client address."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, auth: Any = None, address: str = "127.0.0.1",
             **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if isinstance(auth, str):
            headers.update(_bearer(auth))
            auth = None
        with client(address) as session:
            return session.request(method, f"{self.base}/{path}", auth=auth, headers=headers, timeout=30, **kwargs)

    def sign_in(self, username: str, password: str, address: str = "127.0.0.1") -> dict:
        response = self.call("get", "token", auth=(username, password), address=address)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def multi() -> Iterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="plynx-sign-in-") as data_dir:
        env, _ports = stack_env(data_dir)
        env.update(PLYNX_REGISTRATION="open", PLYNX_DEFAULT_POLICIES=",".join(NARROW))
        process = start(env, "--secret-key", SECRET)
        try:
            yield Stack(_ports, env)
        finally:
            stop(process)


@pytest.fixture(scope="module")
def api(multi: Stack) -> Api:
    return Api(multi.base.replace("//localhost:", "//127.0.0.1:"))


@pytest.fixture(scope="module")
def admin(multi: Stack, api: Api) -> str:
    """An admin made with the users CLI; their access token."""
    made = multi.cli("create", ADMIN, "--password", ADMIN_PASSWORD, "--admin")
    assert made.returncode == 0, made.stderr
    return api.sign_in(ADMIN, ADMIN_PASSWORD)["access_token"]


@contextlib.contextmanager
def other_api(multi: Stack, **env: str) -> Iterator[Api]:
    """Another API process on the same tables (another Lambda container), with its own settings."""
    process = ApiProcess({**multi.env, "PLYNX_AWS_ENDPOINT": multi.moto, "PLYNX_SECRET_KEY": SECRET, **env})
    try:
        yield Api(process.base)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def approval(multi: Stack) -> Iterator[Api]:
    """A second API process on the main stack's tables, in `approval` mode."""
    with other_api(multi, PLYNX_REGISTRATION="approval") as second:
        yield second


def _register(api: Api, username: str, password: str) -> dict:
    response = api.call("post", "register", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


# --- tokens --------------------------------------------------------------------------------------


def test_an_access_token_does_not_renew_itself(api: Api) -> None:
    name = _name("renew")
    tokens = _register(api, name, "renew-password")
    # A stolen access token would otherwise live for ever, renewing itself every 30 minutes.
    for header in (_bearer(tokens["access_token"]), _basic_token(tokens["access_token"])):
        refused = api.call("get", "token", headers=header)
        assert refused.status_code == 401 and "access token" in refused.json()["Message"], refused.text
    # what /token is for still works: a refresh token, or the password
    renewed = api.call("get", "token", headers=_basic_token(tokens["refresh_token"]))
    assert renewed.status_code == 200 and renewed.json()["access_token"]
    assert api.call("get", "token", headers=_bearer(tokens["refresh_token"])).status_code == 200
    assert api.sign_in(name, "renew-password")["access_token"]
    # and a refresh token still opens nothing but /token
    assert api.call("get", "user", auth=tokens["refresh_token"]).status_code == 401


def test_a_password_change_revokes_every_earlier_token(api: Api) -> None:
    name = _name("change")
    first = _register(api, name, "first-password")
    second = api.sign_in(name, "first-password")  # another device
    changed = api.call("post", "user", auth=first["access_token"],
                       json={"user": {"password": "second-password", "old_password": "first-password"}})
    assert changed.status_code == 200, changed.text
    fresh = changed.json()
    for old in (first, second):
        revoked = api.call("get", "user", auth=old["access_token"])
        assert revoked.status_code == 401 and "revoked" in revoked.json()["Message"], revoked.text
        assert api.call("get", "token", headers=_basic_token(old["refresh_token"])).status_code == 401
    # the answer's new tokens work, and so does the new password; the old one does not
    assert api.call("get", "user", auth=fresh["access_token"]).json()["user"]["username"] == name
    assert api.call("get", "token", headers=_basic_token(fresh["refresh_token"])).status_code == 200
    assert api.call("get", "token", auth=(name, "first-password"), address="127.0.0.40").status_code == 401
    assert api.sign_in(name, "second-password")["access_token"]


def test_deactivation_revokes_tokens_for_good(api: Api, admin: str) -> None:
    name = _name("deact")
    tokens = _register(api, name, "deact-password")
    off = api.call("post", "user", auth=admin, json={"user": {"username": name, "active": False}})
    assert off.status_code == 200 and off.json()["user"]["active"] is False, off.text
    assert api.call("get", "user", auth=tokens["access_token"]).status_code == 401
    on = api.call("post", "user", auth=admin, json={"user": {"username": name, "active": True}})
    assert on.status_code == 200, on.text
    # Reactivation lets the user sign in again, but what was issued before stays revoked.
    assert api.call("get", "user", auth=tokens["access_token"]).status_code == 401
    assert api.call("get", "token", headers=_basic_token(tokens["refresh_token"])).status_code == 401
    assert api.call("get", "user", auth=api.sign_in(name, "deact-password")["access_token"]).status_code == 200


# --- throttling ----------------------------------------------------------------------------------


def _assert_throttled(response: requests.Response) -> None:
    assert response.status_code == 429, response.text
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins" in response.json()["Message"]


def test_five_failures_block_the_user_from_every_address(api: Api) -> None:
    name, other = _name("victim"), _name("bystander")
    _register(api, name, "victim-password")
    _register(api, other, "bystander-password")
    for i in range(5):  # one guess from each of five addresses: no address reaches its own limit
        assert api.call("get", "token", auth=(name, f"guess-{i}"), address=f"127.0.0.{2 + i}").status_code == 401
    # the sixth attempt, right password and a fresh address, is refused; so is Basic on any route
    _assert_throttled(api.call("get", "token", auth=(name, "victim-password"), address="127.0.0.7"))
    _assert_throttled(api.call("get", "user", auth=(name, "victim-password"), address="127.0.0.7"))
    # the address is not blocked: someone else signs in from it
    assert api.sign_in(other, "bystander-password", address="127.0.0.7")["access_token"]


def test_five_failures_block_the_address_for_every_user(api: Api) -> None:
    name = _name("known")
    _register(api, name, "known-password")
    for i in range(5):  # a spray: five names, one guess each, from one address
        guessed = api.call("get", "token", auth=(f"{name}-{i}" if i else name, "password1"), address="127.0.0.8")
        assert guessed.status_code == 401
    _assert_throttled(api.call("get", "token", auth=(name, "known-password"), address="127.0.0.8"))
    # the address is the connection's: a header the client writes changes nothing
    _assert_throttled(api.call("get", "token", auth=(name, "known-password"), address="127.0.0.8",
                               headers={"X-Forwarded-For": "10.1.2.3", "X-Real-IP": "10.1.2.3"}))
    # one failure only is counted on the user, so from elsewhere they sign in
    assert api.sign_in(name, "known-password", address="127.0.0.9")["access_token"]


def test_the_count_is_shared_by_every_api_process(multi: Stack, api: Api, approval: Api) -> None:
    name = _name("shared")
    _register(api, name, "shared-password")
    for i in range(5):  # alternate containers: each sees fewer than five failures in its own memory
        target = api if i % 2 else approval
        assert target.call("get", "token", auth=(name, f"guess-{i}"), address=f"127.0.0.{10 + i}").status_code == 401
    _assert_throttled(api.call("get", "token", auth=(name, "shared-password"), address="127.0.0.15"))
    _assert_throttled(approval.call("get", "token", auth=(name, "shared-password"), address="127.0.0.15"))
    # DynamoDB drops the counters by TTL
    ddb = boto3.client("dynamodb", endpoint_url=multi.moto, region_name="us-east-1",  # with that stack's own key
                       aws_access_key_id=multi.env["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=multi.env["AWS_SECRET_ACCESS_KEY"])
    ttl = ddb.describe_time_to_live(TableName="plynx-sign-in-failures")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    item = ddb.get_item(TableName="plynx-sign-in-failures", Key={"key": {"S": f"user#{name}"}})["Item"]
    assert int(item["expires"]["N"]) > int(item["blocked_until"]["N"])


def test_an_unknown_user_costs_one_scrypt_like_a_wrong_password(stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """In the API's own code (the session stack's tables): the same work and the same answer either way."""
    import dataclasses

    from chalicelib.api import users
    from chalicelib.domain.util import now
    from chalicelib.store.models import UserModel

    monkeypatch.setattr(users, "SETTINGS", dataclasses.replace(users.SETTINGS, secret_key=SECRET))
    name = _name("timing")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(b"timing-password", salt=salt, n=2**14, r=8, p=1)
    UserModel(name, password_hash=f"scrypt${salt.hex()}${digest.hex()}", insertion_date=now()).save()
    calls: list[tuple] = []
    real = hashlib.scrypt

    def counted(password: bytes, **kwargs: Any) -> bytes:
        calls.append((kwargs["n"], kwargs["r"], kwargs["p"], len(kwargs["salt"])))
        return real(password, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    answers = {}
    try:
        for who in (name, f"{name}-nobody"):
            calls.clear()
            header = "Basic " + base64.b64encode(f"{who}:not-the-password".encode()).decode()
            with pytest.raises(Exception) as refused:
                users.authenticate(header)
            answers[who] = (type(refused.value).__name__, str(refused.value), list(calls))
    finally:
        UserModel(name).delete()
    known, unknown = answers[name], answers[f"{name}-nobody"]
    assert known[2] == [(2**14, 8, 1, 16)], known  # the real check
    assert unknown == known, (unknown, known)  # same error, same message, same scrypt work


# --- passwords -----------------------------------------------------------------------------------


def test_passwords_under_eight_characters_are_refused(multi: Stack, api: Api, admin: str) -> None:
    name = _name("short")
    short = api.call("post", "register", json={"username": name, "password": "7-chars"})
    assert short.status_code == 400 and "INVALID_LENGTH_OF_PASSWORD" in short.json()["Message"], short.text
    tokens = _register(api, name, "eight-ch")  # exactly 8 is enough
    change = api.call("post", "user", auth=tokens["access_token"],
                      json={"user": {"password": "short", "old_password": "eight-ch"}})
    assert change.status_code == 400 and "at least 8" in change.json()["Message"], change.text
    assert api.sign_in(name, "eight-ch")["access_token"]  # unchanged
    by_admin = api.call("post", "users", auth=admin, json={"username": _name("made"), "password": "1234567"})
    assert by_admin.status_code == 400 and "INVALID_LENGTH_OF_PASSWORD" in by_admin.json()["Message"], by_admin.text
    cli = multi.cli("create", _name("cli"), "--password", "1234567")
    assert cli.returncode == 1 and "at least 8" in cli.stderr, cli.stderr


# --- who may join --------------------------------------------------------------------------------


def test_open_registration_grants_the_configured_default_policies(api: Api) -> None:
    name = _name("stranger")
    tokens = _register(api, name, "stranger-password")
    me = api.call("get", "user", auth=tokens["access_token"]).json()["user"]
    assert me["policies"] == NARROW and me["pending"] is False
    own = api.call("post", "graphs", auth=tokens["access_token"], json={"graph": graph("mine", []),
                                                                        "actions": ["SAVE"]})
    assert own.status_code == 200, own.text
    run = api.call("post", f"graphs/{own.json()['graph']['_id']}/approve", auth=tokens["access_token"])
    assert run.status_code == 403 and "CAN_RUN_WORKFLOWS" in run.json()["Message"], run.text


def test_approval_registration_waits_for_an_admin(api: Api, approval: Api, admin: str) -> None:
    name = _name("newcomer")
    registered = approval.call("post", "register", json={"username": name, "password": "newcomer-password"})
    assert registered.status_code == 200, registered.text
    body = registered.json()
    assert "access_token" not in body and "refresh_token" not in body
    assert body["pending"] is True and "approval" in body["message"]
    # the account exists but cannot sign in, and the answer says why
    waiting = approval.call("get", "token", auth=(name, "newcomer-password"))
    assert waiting.status_code == 403 and "awaits an admin's approval" in waiting.json()["Message"]
    assert approval.call("get", "graphs/new", auth=(name, "newcomer-password")).status_code == 403
    # a wrong password says only that
    assert approval.call("get", "token", auth=(name, "not-my-password"), address="127.0.0.20"
                         ).json()["Message"] == "Wrong username or password"
    # admins see it waiting; nobody else sees the list
    pending = approval.call("get", "users", auth=admin, params={"pending": "true"})
    assert pending.status_code == 200, pending.text
    assert name in [u["username"] for u in pending.json()["users"]]
    assert all(u["pending"] for u in pending.json()["users"])
    bystander = _register(api, _name("peer"), "peer-password")["access_token"]
    assert approval.call("get", "users", auth=bystander).status_code == 403
    assert approval.call("post", f"users/{name}/approve", auth=bystander).status_code == 403
    approved = approval.call("post", f"users/{name}/approve", auth=admin)
    assert approved.status_code == 200 and approved.json()["user"]["pending"] is False, approved.text
    tokens = approval.sign_in(name, "newcomer-password")
    assert approval.call("get", "user", auth=tokens["access_token"]).json()["user"]["username"] == name
    again = approval.call("post", f"users/{name}/approve", auth=admin)
    assert again.status_code == 409 and "not waiting" in again.json()["Message"]
    assert approval.call("get", "health").json()["registration"] == "approval"  # what the sign-in page reads


def test_closed_registration_leaves_accounts_to_admins(multi: Stack, admin: str) -> None:
    with other_api(multi, PLYNX_REGISTRATION="closed") as closed:
        refused = closed.call("post", "register", json={"username": _name("walk-in"), "password": "walk-in-pw"})
        assert refused.status_code == 403 and "closed" in refused.json()["Message"], refused.text
        name = _name("invited")
        made = closed.call("post", "users", auth=admin, json={"username": name, "password": "invited-password",
                                                              "policies": ["CAN_VIEW_WORKFLOWS"]})
        assert made.status_code == 200 and made.json()["user"]["policies"] == ["CAN_VIEW_WORKFLOWS"], made.text
        assert closed.call("get", "user", auth=closed.sign_in(name, "invited-password")["access_token"]
                           ).status_code == 200
        # the CLI creates accounts too
        cli_name = _name("cli-made")
        assert multi.cli("create", cli_name, "--password", "cli-made-password").returncode == 0
        assert closed.sign_in(cli_name, "cli-made-password")["access_token"]
        assert closed.call("get", "health").json()["registration"] == "closed"


def test_the_cli_lists_and_approves_pending_accounts(multi: Stack, approval: Api) -> None:
    name = _name("queued")
    assert approval.call("post", "register", json={"username": name, "password": "queued-password"}
                         ).status_code == 200
    listed = multi.cli("list", "--pending")
    assert listed.returncode == 0, listed.stderr
    assert name in [user["username"] for user in json.loads(listed.stdout)]
    approved = multi.cli("approve", name)
    assert approved.returncode == 0 and json.loads(approved.stdout)["pending"] is False, approved.stderr
    assert name not in [user["username"] for user in json.loads(multi.cli("list", "--pending").stdout)]
    assert approval.sign_in(name, "queued-password")["access_token"]


# --- no key, no entry ----------------------------------------------------------------------------


def test_an_api_without_a_key_refuses_unless_single_user_is_explicit(multi: Stack, stack: Any) -> None:
    with other_api(multi, PLYNX_SECRET_KEY="", PLYNX_SINGLE_USER="") as lost_its_key:
        refused = lost_its_key.call("get", "graphs/new", auth=("default", ""))
        assert refused.status_code == 503 and "PLYNX_SINGLE_USER" in refused.json()["Message"], refused.text
        assert lost_its_key.call("get", "token").status_code == 503
    # the laptop's stack (no key, PLYNX_SINGLE_USER=true as `make up` sets it) lets `default` in
    assert requests.get(f"{stack.api_url}/graphs/new", auth=("default", ""), timeout=30).status_code == 200


def test_a_deploy_with_an_empty_key_stops_unless_single_user(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra import deploy

    class Offline:
        """No AWS: the refusal must come before any call."""

        def client(self, service: str, **_: Any) -> Any:
            raise AssertionError(f"the deploy went on to call {service}")

    for key in ("", "   ", "too-short-for-hs256"):
        ctx = deploy.Context("dev", "us-east-1", session=Offline(), secret_key=key)
        with pytest.raises(SystemExit, match="secret key"):
            deploy._deploy_stack(ctx, pkg=None, alarm_email="")  # type: ignore[arg-type]
    asked = deploy.Context("dev", "us-east-1", session=Offline(), single_user=True)
    with pytest.raises(AssertionError, match="went on to call"):
        deploy._deploy_stack(asked, pkg=None, alarm_email="")  # type: ignore[arg-type]
