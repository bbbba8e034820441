"""Who is calling: Basic `user:password`, Basic `token:` (the seed's `-u default:`), or Bearer JWT.

Without a secret key the project is single-user (asked for explicitly: PLYNX_SINGLE_USER): every request
is `default`, who may do anything. With one (`PLYNX_SECRET_KEY`), users sign in for JWTs and act within
their IAM policies. Sign-in rules: `/token` renews from a password or a refresh token only; every token
carries the user's token version, so a password change or a deactivation revokes all of them; an unknown
user costs one scrypt like a wrong password; failures are throttled per user and per client address
(chalicelib/store/throttle.py). Accounts (register, approve, change) live in chalicelib/api/accounts.py.
"""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
from typing import Any

import jwt
from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.domain import accounts as rules
from chalicelib.domain import passwords
from chalicelib.domain.enums import IAMPolicies
from chalicelib.domain.errors import ForbiddenError, ServiceUnavailableError, TooManyAttemptsError, UnauthorizedError
from chalicelib.domain.permissions import Caller
from chalicelib.domain.util import now
from chalicelib.store import throttle
from chalicelib.store.conditions import condition_failed
from chalicelib.store.models import UserModel
from chalicelib.store.settings import SETTINGS

__all__ = ["Caller", "DEFAULT_USER", "authenticate", "ensure_default_user", "get_model", "issue_tokens",
           "make_tokens", "policies_of", "require_mode"]

DEFAULT_USER = "default"
ACCESS_TTL = _dt.timedelta(minutes=30)
REFRESH_TTL = _dt.timedelta(days=30)
ACCESS, REFRESH = "access", "refresh"
# Without a secret key every request is `default` anyway; its tokens only need to be well-formed.
_SINGLE_USER_KEY = "plynx-single-user-mode-has-no-secret-key"
WRONG = "Wrong username or password"


def _key() -> str:
    return SETTINGS.secret_key or _SINGLE_USER_KEY


def require_mode() -> None:
    """No secret key serves only when single-user mode was asked for: a stage that lost its key stays shut."""
    if not SETTINGS.secret_key and not SETTINGS.single_user:
        raise ServiceUnavailableError(
            "This API has no secret key and single-user mode was not asked for (PLYNX_SINGLE_USER=true): "
            "it refuses to let everyone in as `default`. Deploy with a secret key, or with --single-user.")


def ensure_default_user() -> None:
    """The single-user mode's `default` user with an empty password (never in multi-user mode)."""
    if SETTINGS.secret_key:
        return
    try:
        UserModel(DEFAULT_USER, password_hash="", display_name="Default", insertion_date=now()).save(
            condition=UserModel.username.does_not_exist()
        )
    except PutError as exc:
        if not condition_failed(exc):  # only "it exists already" is expected here
            raise


def policies_of(model: UserModel) -> frozenset[str]:
    """What a user may do: in single-user mode everything; else their list (None: the configured defaults).
    (A process with neither a key nor single-user mode, the users CLI, shows what is stored.)"""
    if not SETTINGS.secret_key and SETTINGS.single_user:
        return frozenset({IAMPolicies.IS_ADMIN})
    return frozenset(SETTINGS.default_policies if model.policies is None else model.policies)


def _token(model: UserModel, kind: str, ttl: _dt.timedelta) -> str:
    issued = _dt.datetime.now(_dt.timezone.utc)
    claims = {"sub": model.username, "iat": issued, "exp": issued + ttl, "type": kind,
              "ver": int(model.token_version or 0)}
    return jwt.encode(claims, _key(), "HS256")


def make_tokens(model: UserModel) -> dict[str, str]:
    """Short-lived access and long-lived refresh JWTs, both at the user's current token version."""
    return {"access_token": _token(model, ACCESS, ACCESS_TTL), "refresh_token": _token(model, REFRESH, REFRESH_TTL)}


def _decode(token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, _key(), algorithms=["HS256"], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise UnauthorizedError("Token expired; get a new one from /token with your refresh token") from exc
    except jwt.PyJWTError as exc:
        raise UnauthorizedError(f"Invalid token: {exc}") from exc
    return claims


def get_model(username: str) -> UserModel:
    """A stored user; in single-user mode `default` is created on first use (a fresh deployment)."""
    try:
        return UserModel.get(username)
    except DoesNotExist:
        if SETTINGS.secret_key or username != DEFAULT_USER:
            raise
    ensure_default_user()
    return UserModel.get(username)


def _from_token(token: str, kind: str) -> UserModel:
    """The user a token of `kind` names, if it is still valid: right kind, user active, version current."""
    claims = _decode(token)
    if claims.get("type", ACCESS) != kind:
        raise UnauthorizedError("A refresh token only gets new tokens from /token" if kind == ACCESS else
                                "/token renews from a password or a refresh token, not an access token")
    try:
        model = get_model(str(claims["sub"]))
    except DoesNotExist as exc:
        raise UnauthorizedError("Unknown user") from exc
    if not model.active:
        raise UnauthorizedError("User is deactivated")
    if int(claims.get("ver", 0)) != int(model.token_version or 0):
        raise UnauthorizedError("Token revoked (password changed or account deactivated); sign in again")
    return model


def _from_password(username: str, password: str, address: str | None) -> UserModel:
    """Check a password; throttled per user and per address, the same cost whether the user exists or not."""
    if not SETTINGS.secret_key:
        model = get_model(username) if username == DEFAULT_USER else None
        if model is None or password:
            raise UnauthorizedError(f"{WRONG} (single-user mode: `default` with an empty password)")
        return model
    valid = rules.is_username(username)
    counters = throttle.keys(username if valid else None, address)
    wait, failing = throttle.blocked(counters)
    if wait:
        raise TooManyAttemptsError(f"Too many failed sign-ins; try again in {wait} s", wait)
    model = None
    if valid:
        try:
            model = UserModel.get(username)
        except DoesNotExist:
            model = None
    # One scrypt on every path: an unknown user is checked against the dummy hash.
    if not passwords.verify(password, model.password_hash if model is not None else None):
        throttle.failed(counters)
        raise UnauthorizedError(WRONG)
    assert model is not None  # verify() never matches the dummy hash
    if f"user#{username}" in failing:
        throttle.forget(f"user#{username}")
    if not model.active:
        raise UnauthorizedError("User is deactivated")
    if model.pending:
        raise ForbiddenError(f"The account `{username}` awaits an admin's approval; you can sign in once approved")
    return model


def _credentials(header: str | None) -> tuple[str, str, str]:
    """(scheme, user or token, password) of an Authorization header: bearer, token (Basic `TOKEN:`) or basic."""
    if not header:
        return "", "", ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return "token", value.strip(), ""
    if scheme.lower() != "basic":
        raise UnauthorizedError(f"Unsupported authorization scheme `{scheme}`")
    try:
        username, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise UnauthorizedError("Malformed Basic credentials") from exc
    if not password and username.count(".") == 2:
        return "token", username, ""
    return "basic", username, password


# Every request names its user, in single-user mode too: a browser adds this header to a cross-site request only
# after a preflight the API refuses, so no web page can drive a local stack. No `WWW-Authenticate` is sent, so
# a browser never offers credentials of its own (not even `default:@localhost` ones from a link or a form).
SINGLE_USER_NEEDS_HEADER = ("Authentication required, in single-user mode too: send `Authorization: Basic "
                            "ZGVmYXVsdDo=` (`curl -u default: ...`), so that no web page can use this API")


def single_user() -> bool:
    """Single-user mode: no secret key, asked for explicitly; everyone signs as `default:`."""
    return not SETTINGS.secret_key and SETTINGS.single_user


def authenticate(header: str | None, address: str | None = None) -> Caller:
    """The user behind an Authorization header (a password or an access token); `address` is the client's,
    as API Gateway saw it (never a header the client sets). A bare request is a 401, single-user too."""
    model = _signed_in(header, address, ACCESS, "Authentication required: Basic user:password, Basic token: or Bearer")
    return Caller(model.username, policies_of(model))


def issue_tokens(header: str | None, address: str | None = None) -> dict[str, str]:
    """`GET /token`: new tokens for a password or a refresh token; an access token cannot renew itself."""
    model = _signed_in(header, address, REFRESH, "Sign in with Basic user:password, or renew with Basic REFRESH_TOKEN:")
    return make_tokens(model)


def _signed_in(header: str | None, address: str | None, token_kind: str, missing: str) -> UserModel:
    """The user a password, or a token of `token_kind`, names; `missing` is the 401 for a bare request."""
    require_mode()
    scheme, user, password = _credentials(header)
    if not scheme:
        raise UnauthorizedError(missing if SETTINGS.secret_key else SINGLE_USER_NEEDS_HEADER)
    if scheme == "token":
        return _from_token(user, token_kind)
    return _from_password(user, password, address)


def acting_for(username: str) -> Caller:
    """A user with their stored policies, for what is done on their behalf (a run of their graph that
    someone else approved); unknown or deactivated: no policies."""
    try:
        model = get_model(username)
    except DoesNotExist:
        return Caller(username, ())
    return Caller(username, policies_of(model) if model.active else ())
