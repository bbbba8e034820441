"""Rules for accounts, pure: who may join (the registration mode), valid names and emails, and policies."""
from __future__ import annotations

import re
from typing import Any, Iterable

from .enums import IAMPolicies, RegisterUserExceptionCode as Code
from .errors import BadRequestError

# open: anyone registers and signs in at once; approval: a new account waits for an admin; closed: only
# an admin creates accounts (the users CLI, the admin view).
OPEN, APPROVAL, CLOSED = "open", "approval", "closed"
REGISTRATION_MODES = (OPEN, APPROVAL, CLOSED)
# Usernames end up in Basic credentials (no `:`), URLs and search strings (`author:NAME`, no spaces).
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME_LENGTH = (2, 64)
EMAIL_LENGTH = 254  # RFC 5321's limit on a path


def registration_mode(value: Any, source: str) -> str:
    """A registration mode from the config or the environment; a ValueError names the known ones."""
    mode = str(value or OPEN).strip().lower()
    if mode not in REGISTRATION_MODES:
        raise ValueError(f"{source}: registration mode `{value}` is none of {', '.join(REGISTRATION_MODES)}")
    return mode


def default_policies(value: Any, source: str) -> tuple[str, ...]:
    """The policies a new account gets: a list (or comma-separated string) of IAMPolicies names, never IS_ADMIN."""
    names = [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(isinstance(p, str) for p in names):
        raise ValueError(f"{source}: default policies must be a list of policy names")
    unknown = set(names) - IAMPolicies.ALL
    if unknown:
        raise ValueError(f"{source}: unknown policies {sorted(unknown)}; known: {sorted(IAMPolicies.ALL)}")
    if IAMPolicies.IS_ADMIN in names:
        raise ValueError(f"{source}: IS_ADMIN cannot be a default policy (anyone who registers would be an admin)")
    return tuple(dict.fromkeys(names))


def is_username(value: Any) -> bool:
    """Whether a string could be a stored username (checked before any lookup: no oversized keys)."""
    low, high = USERNAME_LENGTH
    return isinstance(value, str) and low <= len(value) <= high and bool(_USERNAME.match(value))


def check_username(username: Any) -> str:
    """A new account's name, or a 400 with the seed's RegisterUserExceptionCode."""
    if not isinstance(username, str) or not username.strip():
        raise BadRequestError(f"{Code.EMPTY_USERNAME}: `username` is required")
    low, high = USERNAME_LENGTH
    if not low <= len(username) <= high:
        raise BadRequestError(f"{Code.INVALID_LENGTH_OF_USERNAME}: `username` must be {low} to {high} characters")
    if not _USERNAME.match(username):
        raise BadRequestError("`username` may contain letters, digits and `_ . @ -` only")
    return username


def check_email(email: Any) -> str | None:
    """An optional email address, or a 400 INVALID_EMAIL."""
    if email in (None, ""):
        return None
    if not isinstance(email, str) or len(email) > EMAIL_LENGTH or not _EMAIL.match(email):
        raise BadRequestError(f"{Code.INVALID_EMAIL}: `{str(email)[:100]}` is not an email address")
    return email


def check_policies(policies: Any) -> list[str]:
    """A list of known policy names, sorted (400 otherwise)."""
    if not isinstance(policies, (list, tuple, set, frozenset)) or not all(isinstance(p, str) for p in policies):
        raise BadRequestError("`policies` must be a list of policy names")
    unknown = set(policies) - IAMPolicies.ALL
    if unknown:
        raise BadRequestError(f"Unknown policies {sorted(unknown)}; known: {sorted(IAMPolicies.ALL)}")
    return sorted(set(policies))


def with_admin(policies: Iterable[str]) -> list[str]:
    """Policies plus IS_ADMIN (the CLI's and the admin view's `admin` switch)."""
    return sorted({*policies, IAMPolicies.IS_ADMIN})
