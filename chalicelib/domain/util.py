"""Small helpers shared by the domain modules."""
from __future__ import annotations

import datetime as _dt
import re
import secrets

from .errors import BadRequestError

# Ids become DynamoDB keys, URL segments and parts of Step Functions names (letters, digits, - and _).
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def new_id() -> str:
    """A 24-hex id, the shape of the seed's ObjectIds, so clients written for PLynx accept it."""
    return secrets.token_hex(12)


def now(seconds_ago: float = 0.0) -> str:
    """Timestamps in the seed's `%Y-%m-%d %H:%M:%S.%LZ` format; they also sort as strings."""
    stamp = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(seconds=seconds_ago)
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def check_id(value: object, where: str) -> str:
    """An id a client chose, checked before it reaches a key, a URL or a state machine name."""
    if not isinstance(value, str) or not _ID.match(value):
        raise BadRequestError(f"`{where}` must be 1 to 64 letters, digits, `-` or `_`")
    return value
