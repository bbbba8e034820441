"""Failed sign-ins counted per user and per client address in DynamoDB, so the limit holds across every
Lambda container of the API: after LIMIT failures within WINDOW seconds, sign-ins are refused for BLOCK
seconds. Each count is one atomic update; items expire by TTL."""
from __future__ import annotations

import ipaddress
import math
import time
from datetime import datetime, timezone

from pynamodb.exceptions import UpdateError

from .models import SignInFailureModel

LIMIT = 5
WINDOW = 60  # seconds in which LIMIT failures block
BLOCK = 60  # seconds a block lasts from the failure that set it


def keys(username: str | None, address: str | None) -> list[str]:
    """The counters a sign-in attempt touches: the user's (a valid name only) and the client address's.

    An IPv6 client is counted by its /64: one host is routinely given a whole /64 to pick addresses from.
    """
    found = [f"user#{username}"] if username else []
    if address:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if isinstance(ip, ipaddress.IPv6Address):
            found.append(f"addr#{ipaddress.ip_network(f'{ip}/64', strict=False)}")
        elif ip is not None:
            found.append(f"addr#{ip}")
    return found


def blocked(counter_keys: list[str], now: float | None = None) -> tuple[int, set[str]]:
    """Seconds until every counter lets sign-ins in again (0: none blocks), and the counters that hold
    failures (one BatchGetItem)."""
    if not counter_keys:
        return 0, set()
    now = time.time() if now is None else now
    items = list(SignInFailureModel.batch_get(counter_keys))
    until = max((item.blocked_until or 0 for item in items), default=0)
    return max(0, math.ceil(until - now)), {item.key for item in items}


def failed(counter_keys: list[str], now: float | None = None) -> None:
    """Count one failure on each counter; the LIMIT-th within WINDOW blocks it for BLOCK seconds."""
    now = int(time.time() if now is None else now)
    for key in counter_keys:
        count = _count(key, now)
        if count >= LIMIT:
            SignInFailureModel(key).update(actions=[
                SignInFailureModel.blocked_until.set(now + BLOCK),
                SignInFailureModel.expires.set(_epoch(now + BLOCK + WINDOW)),
            ])


def forget(key: str) -> None:
    """Drop a counter (a user who signed in; their mistakes before do not add to later ones)."""
    SignInFailureModel(key).delete()


def _epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _count(key: str, now: int) -> int:
    """Add one failure to the counter's current window, or start a new window; the count after it.

    Both branches are conditional writes, so concurrent failures (other containers) are never lost: an
    increment only lands in a live window, a reset only replaces a missing or stale one; a reset that
    lost the race is retried as an increment.
    """
    cutoff = now - WINDOW
    for _ in range(3):
        counter = SignInFailureModel(key)
        try:
            counter.update(actions=[SignInFailureModel.failures.add(1),
                                    SignInFailureModel.expires.set(_epoch(now + WINDOW + BLOCK))],
                           condition=SignInFailureModel.window_start > cutoff)
            return int(counter.failures)
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
        try:
            # An update, not a put: a block still running (blocked_until) outlives its window.
            counter.update(actions=[SignInFailureModel.window_start.set(now), SignInFailureModel.failures.set(1),
                                    SignInFailureModel.expires.set(_epoch(now + WINDOW + BLOCK))],
                           condition=SignInFailureModel.window_start.does_not_exist()
                           | (SignInFailureModel.window_start <= cutoff))
            return 1
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    raise RuntimeError(f"sign-in counter {key}: three conditional writes lost their race")
