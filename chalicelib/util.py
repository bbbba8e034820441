"""Small helpers shared by the domain modules."""
from __future__ import annotations

import datetime as _dt
import secrets


def new_id() -> str:
    """A 24-hex id, the shape of the seed's ObjectIds, so clients written for PLynx accept it."""
    return secrets.token_hex(12)


def now() -> str:
    """Timestamps in the seed's `%Y-%m-%d %H:%M:%S.%LZ` format; they also sort as strings."""
    stamp = _dt.datetime.now(_dt.timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
