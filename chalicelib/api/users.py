"""Who is calling: Basic `user:password`, Basic `token:` (the seed's `-u default:`), or Bearer JWT.

Without a secret key the project is single-user: every request is `default`, who may do anything.
With one (`PLYNX_SECRET_KEY`), users register, sign in for JWTs and act within their IAM policies.
"""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import hmac
import re
import secrets
from typing import Any, Iterable

import jwt
from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.domain.enums import IAMPolicies, RegisterUserExceptionCode
from chalicelib.domain.errors import BadRequestError, ConflictError, ForbiddenError, NotFoundError, UnauthorizedError
from chalicelib.domain.permissions import Caller
from chalicelib.domain.util import now
from chalicelib.store.models import UserModel
from chalicelib.store.settings import SETTINGS

DEFAULT_USER = "default"
ACCESS_TTL = _dt.timedelta(minutes=30)
REFRESH_TTL = _dt.timedelta(days=30)
ACCESS, REFRESH = "access", "refresh"
# Without a secret key every request is `default` anyway; its tokens only need to be well-formed.
_SINGLE_USER_KEY = "plynx-single-user-mode-has-no-secret-key"
# Usernames end up in Basic credentials (no `:`), URLs and search strings (`author:NAME`, no spaces).
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME_LENGTH = (2, 64)
_MAX_SETTINGS_BYTES = 16_000


def _key() -> str:
    return SETTINGS.secret_key or _SINGLE_USER_KEY


def hash_password(password: str) -> str:
    """A salted scrypt hash: slow on purpose."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _check_password(password: str, stored: str) -> bool:
    if not stored:
        return password == "" and not SETTINGS.secret_key
    _, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(candidate.hex(), digest)


def ensure_default_user() -> None:
    """The single-user mode's `default` user with an empty password (never in multi-user mode)."""
    if SETTINGS.secret_key:
        return
    try:
        UserModel(DEFAULT_USER, password_hash="", display_name="Default", insertion_date=now()).save(
            condition=UserModel.username.does_not_exist()
        )
    except PutError:
        pass  # it exists already


def _policies(model: UserModel) -> frozenset[str]:
    if not SETTINGS.secret_key:
        return frozenset({IAMPolicies.IS_ADMIN})
    return frozenset(IAMPolicies.DEFAULT if model.policies is None else model.policies)


def _token(username: str, kind: str, ttl: _dt.timedelta) -> str:
    issued = _dt.datetime.now(_dt.timezone.utc)
    claims = {"sub": username, "iat": issued, "exp": issued + ttl, "type": kind}
    return jwt.encode(claims, _key(), "HS256")


def make_tokens(username: str) -> dict[str, str]:
    """Short-lived access and long-lived refresh JWTs."""
    return {"access_token": _token(username, ACCESS, ACCESS_TTL),
            "refresh_token": _token(username, REFRESH, REFRESH_TTL)}


def _decode(token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, _key(), algorithms=["HS256"], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise UnauthorizedError("Token expired; get a new one from /token with your refresh token") from exc
    except jwt.PyJWTError as exc:
        raise UnauthorizedError(f"Invalid token: {exc}") from exc
    return claims


def _get_model(username: str) -> UserModel:
    """A stored user; in single-user mode `default` is created on first use (a fresh deployment)."""
    try:
        return UserModel.get(username)
    except DoesNotExist:
        if SETTINGS.secret_key or username != DEFAULT_USER:
            raise
    ensure_default_user()
    return UserModel.get(username)


def _active(username: str) -> Caller:
    try:
        model = _get_model(username)
    except DoesNotExist as exc:
        raise UnauthorizedError("Unknown user") from exc
    if not model.active:
        raise UnauthorizedError("User is deactivated")
    return Caller(username, _policies(model))


def _from_token(token: str, allow_refresh: bool) -> Caller:
    claims = _decode(token)
    kind = claims.get("type", ACCESS)
    if kind == REFRESH and not allow_refresh:
        raise UnauthorizedError("A refresh token only gets new access tokens from /token")
    return _active(claims["sub"])


def _from_password(username: str, password: str) -> Caller:
    try:
        model = _get_model(username)
    except DoesNotExist as exc:
        raise UnauthorizedError("Wrong username or password") from exc
    if not model.active or not _check_password(password, model.password_hash):
        raise UnauthorizedError("Wrong username or password")
    return Caller(username, _policies(model))


def authenticate(header: str | None, allow_refresh: bool = False) -> Caller:
    """The user behind an Authorization header; single-user mode lets a bare request in as `default`."""
    if not header:
        if SETTINGS.secret_key:
            raise UnauthorizedError("Authentication required: Basic user:password, Basic token: or Bearer")
        return _active(DEFAULT_USER)
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return _from_token(value.strip(), allow_refresh)
    if scheme.lower() != "basic":
        raise UnauthorizedError(f"Unsupported authorization scheme `{scheme}`")
    try:
        username, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise UnauthorizedError("Malformed Basic credentials") from exc
    if not password and username.count(".") == 2:
        return _from_token(username, allow_refresh)
    return _from_password(username, password)


# --- accounts ----------------------------------------------------------------------------------


def _register_error(code: str, message: str) -> BadRequestError:
    return BadRequestError(f"{code}: {message}")


def _check_username(username: Any) -> str:
    if not isinstance(username, str) or not username.strip():
        raise _register_error(RegisterUserExceptionCode.EMPTY_USERNAME, "`username` is required")
    low, high = USERNAME_LENGTH
    if not low <= len(username) <= high:
        raise _register_error(RegisterUserExceptionCode.INVALID_LENGTH_OF_USERNAME,
                              f"`username` must be {low} to {high} characters")
    if not _USERNAME.match(username):
        raise BadRequestError("`username` may contain letters, digits and `_ . @ -` only")
    return username


def create_user(username: Any, password: Any, email: Any = None, display_name: Any = None,
                policies: Iterable[str] | None = None) -> dict:
    """Store a new user; the seed's RegisterUserExceptionCode names what is wrong."""
    username = _check_username(username)
    if not isinstance(password, str) or not password:
        raise _register_error(RegisterUserExceptionCode.EMPTY_PASSWORD, "`password` is required")
    if email not in (None, "") and (not isinstance(email, str) or not _EMAIL.match(email)):
        raise _register_error(RegisterUserExceptionCode.INVALID_EMAIL, f"`{email}` is not an email address")
    if display_name is not None and not isinstance(display_name, str):
        raise BadRequestError("`display_name` must be a string")
    model = UserModel(
        username,
        password_hash=hash_password(password),
        display_name=display_name or username,
        email=email or None,
        policies=None if policies is None else sorted(_check_policies(policies)),
        settings={},
        insertion_date=now(),
    )
    try:
        model.save(condition=UserModel.username.does_not_exist())
    except PutError as exc:
        raise ConflictError(f"{RegisterUserExceptionCode.USERNAME_ALREADY_EXISTS}: `{username}` is taken") from exc
    return user_dict(model, with_private=True)


def register(body: dict) -> dict:
    """`POST /register`: a new user with the default policies, signed in at once."""
    if not SETTINGS.secret_key:
        raise BadRequestError("This deployment is single-user (no secret key); everyone is `default`")
    user = create_user(body.get("username"), body.get("password"), body.get("email"), body.get("display_name"))
    return {"user": user, **make_tokens(user["username"])}


def _check_policies(policies: Any) -> list[str]:
    if not isinstance(policies, (list, tuple, set, frozenset)) or not all(isinstance(p, str) for p in policies):
        raise BadRequestError("`policies` must be a list of policy names")
    unknown = set(policies) - IAMPolicies.ALL
    if unknown:
        raise BadRequestError(f"Unknown policies {sorted(unknown)}; known: {sorted(IAMPolicies.ALL)}")
    return list(policies)


def user_dict(model: UserModel, with_private: bool) -> dict:
    """A user as the API shows it; email, policies and settings only to the user and admins."""
    user = {"username": model.username, "display_name": model.display_name or model.username,
            "active": bool(model.active), "insertion_date": model.insertion_date}
    if with_private:
        user.update(email=model.email, policies=sorted(_policies(model)), settings=model.settings or {})
    return user


def _load(username: str) -> UserModel:
    try:
        return _get_model(username)
    except DoesNotExist as exc:
        raise NotFoundError(f"User `{username}` not found") from exc


def get_user(username: str, caller: Caller) -> dict:
    """`GET /user[/{username}]`: yourself in full, others by their public fields (admins see all)."""
    return user_dict(_load(username), username == caller or caller.can(IAMPolicies.IS_ADMIN))


def update_user(body: dict, caller: Caller) -> dict:
    """`POST /user`: change display name, settings or password; admins also policies and `active`."""
    raw = body.get("user", body)
    if not isinstance(raw, dict):
        raise BadRequestError("`user` must be a JSON object")
    username = raw.get("username") or str(caller)
    is_admin = caller.can(IAMPolicies.IS_ADMIN)
    if username != caller and not is_admin:
        raise ForbiddenError(f"`{caller}` may not change user `{username}` (needs IS_ADMIN)")
    if not SETTINGS.secret_key and {"password", "policies", "active"} & set(raw):
        raise BadRequestError("Single-user mode (no secret key): `default` keeps an empty password, every "
                              "policy and stays active; only `display_name` and `settings` change")
    model = _load(username)
    actions = []
    if "display_name" in raw:
        if not isinstance(raw["display_name"], str):
            raise BadRequestError("`display_name` must be a string")
        actions.append(UserModel.display_name.set(raw["display_name"]))
    if "settings" in raw:
        settings = raw["settings"]
        if not isinstance(settings, dict) or len(str(settings)) > _MAX_SETTINGS_BYTES:
            raise BadRequestError(f"`settings` must be a JSON object under {_MAX_SETTINGS_BYTES} bytes")
        actions.append(UserModel.settings.set(settings))
    if "password" in raw:
        if not is_admin and not _check_password(str(raw.get("old_password", "")), model.password_hash):
            raise ForbiddenError("`old_password` is wrong")
        if not isinstance(raw["password"], str) or not raw["password"]:
            raise BadRequestError("`password` must be a non-empty string")
        actions.append(UserModel.password_hash.set(hash_password(raw["password"])))
    for admin_field in ("policies", "active"):
        if admin_field in raw and not is_admin:
            raise ForbiddenError(f"Only admins may change `{admin_field}` (needs IS_ADMIN)")
    if "policies" in raw:
        actions.append(UserModel.policies.set(sorted(_check_policies(raw["policies"]))))
    if "active" in raw:
        actions.append(UserModel.active.set(1 if raw["active"] else 0))
    if actions:
        model.update(actions=actions)
    return user_dict(model, True)


def list_users() -> list[dict]:
    """Every user (the users CLI; the table is small)."""
    return [user_dict(model, True) for model in UserModel.scan()]


def set_policies(username: str, policies: Iterable[str]) -> dict:
    """An admin's (or the CLI's) choice of what a user may do."""
    model = _load(username)
    model.update(actions=[UserModel.policies.set(sorted(_check_policies(list(policies))))])
    return user_dict(model, True)


def set_active(username: str, active: bool) -> dict:
    """Let a user in again, or keep them out without deleting what they made."""
    model = _load(username)
    model.update(actions=[UserModel.active.set(1 if active else 0)])
    return user_dict(model, True)
