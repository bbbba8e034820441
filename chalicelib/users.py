"""Who is calling: Basic `user:password`, Basic `token:` (the seed's `-u default:`), or Bearer JWT."""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import hmac
import secrets

import jwt
from pynamodb.exceptions import DoesNotExist, PutError

from .errors import UnauthorizedError
from .models import UserModel
from .settings import SETTINGS
from .util import now

DEFAULT_USER = "default"
ACCESS_TTL = _dt.timedelta(minutes=30)
REFRESH_TTL = _dt.timedelta(days=30)
# Without a secret key the project is single-user; its tokens only need to be well-formed.
_SINGLE_USER_KEY = "plynx-single-user-mode-has-no-secret-key"


def _key() -> str:
    return SETTINGS.secret_key or _SINGLE_USER_KEY


def hash_password(password: str) -> str:
    """A salted scrypt hash: slow on purpose."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _check_password(password: str, stored: str) -> bool:
    if not stored:
        return password == ""
    _, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(candidate.hex(), digest)


def ensure_default_user() -> None:
    """The single-user mode's `default` user with an empty password."""
    try:
        UserModel(DEFAULT_USER, password_hash="", display_name="Default", insertion_date=now()).save(
            condition=UserModel.username.does_not_exist()
        )
    except PutError:
        pass  # it exists already


def make_tokens(username: str) -> dict[str, str]:
    """Short-lived access and long-lived refresh JWTs."""
    issued = _dt.datetime.now(_dt.timezone.utc)
    claims = {"sub": username, "iat": issued}
    return {
        "access_token": jwt.encode({**claims, "type": "access", "exp": issued + ACCESS_TTL}, _key(), "HS256"),
        "refresh_token": jwt.encode({**claims, "type": "refresh", "exp": issued + REFRESH_TTL}, _key(), "HS256"),
    }


def _from_token(token: str) -> str:
    try:
        claims = jwt.decode(token, _key(), algorithms=["HS256"])
    except jwt.PyJWTError as exc:
        raise UnauthorizedError(f"Invalid token: {exc}") from exc
    return _active(claims["sub"])


def _get_user(username: str) -> UserModel:
    """A stored user; in single-user mode `default` is created on first use (a fresh deployment)."""
    try:
        return UserModel.get(username)
    except DoesNotExist:
        if SETTINGS.secret_key or username != DEFAULT_USER:
            raise
    ensure_default_user()
    return UserModel.get(username)


def _active(username: str) -> str:
    try:
        user = _get_user(username)
    except DoesNotExist as exc:
        raise UnauthorizedError("Unknown user") from exc
    if not user.active:
        raise UnauthorizedError("User is deactivated")
    return username


def _from_password(username: str, password: str) -> str:
    try:
        user = _get_user(username)
    except DoesNotExist as exc:
        raise UnauthorizedError("Wrong username or password") from exc
    if not user.active or not _check_password(password, user.password_hash):
        raise UnauthorizedError("Wrong username or password")
    return username


def authenticate(header: str | None) -> str:
    """The username behind an Authorization header; single-user mode lets a bare request in as `default`."""
    if not header:
        if SETTINGS.secret_key:
            raise UnauthorizedError("Authentication required")
        return _active(DEFAULT_USER)
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return _from_token(value.strip())
    if scheme.lower() != "basic":
        raise UnauthorizedError(f"Unsupported authorization scheme `{scheme}`")
    try:
        username, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise UnauthorizedError("Malformed Basic credentials") from exc
    if not password and username.count(".") == 2:
        return _from_token(username)
    return _from_password(username, password)
