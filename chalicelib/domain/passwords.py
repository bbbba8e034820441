"""Password hashes: salted scrypt, slow on purpose, and a check that costs the same whether or not the
user exists (an unknown user is checked against a dummy hash), so timing tells no one which names exist."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from .enums import RegisterUserExceptionCode as Code
from .errors import BadRequestError

MIN_LENGTH = 8
MAX_LENGTH = 1024  # scrypt hashes any length; a megabyte "password" would only cost us time
# scrypt's cost: 16 MiB of memory and ~50 ms per check (hashlib's default memory cap is 32 MiB).
_N, _R, _P = 2**14, 8, 1
# The hash of a random password nobody knows, in the stored format: what an unknown user (or one with no
# password) is checked against, so that path runs exactly one scrypt of the same cost as a real check.
DUMMY_HASH = ("scrypt$9cdc28ebc21815467ac5bd9961711640$00dbb168106d90aad9189dc7f1a13e095aa69524bb93ccd460424c894e8c"
              "df8d8e69a3863a888ddea9f6b3895eea2f255c681e633731007f173721c8bac6b79a")


def _digest(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)


def hash_password(password: str) -> str:
    """A salted scrypt hash, as stored on the user."""
    salt = secrets.token_bytes(16)
    return f"scrypt${salt.hex()}${_digest(password, salt).hex()}"


def verify(password: str, stored: str | None) -> bool:
    """Whether `password` matches `stored`; one scrypt of the same cost whatever `stored` is (None or ""
    for an unknown user or one without a password, which never match)."""
    real = bool(stored) and stored.count("$") == 2
    _, salt, digest = (stored if real else DUMMY_HASH).split("$")
    candidate = _digest(password[:MAX_LENGTH], bytes.fromhex(salt))
    return hmac.compare_digest(candidate.hex(), digest) and real and len(password) <= MAX_LENGTH


def check_new(password: object) -> str:
    """A password a user may choose: a string of at least MIN_LENGTH characters (400 otherwise)."""
    if not isinstance(password, str) or not password:
        raise BadRequestError(f"{Code.EMPTY_PASSWORD}: `password` is required")
    if len(password) < MIN_LENGTH:
        raise BadRequestError(f"{Code.INVALID_LENGTH_OF_PASSWORD}: `password` must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise BadRequestError(f"{Code.INVALID_LENGTH_OF_PASSWORD}: `password` must be at most {MAX_LENGTH} characters")
    return password
