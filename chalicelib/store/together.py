"""A conditional update and the puts that stand or fall with it, in one request (TransactWriteItems).

An operation's end is one such write: its node's final status with its outputs and logs, the records of who
holds those (owners), and its cache entry; one round trip instead of three, and never a node pointing at
content nobody is recorded to hold, nor a cache entry of a run whose end was refused.
"""
from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Sequence
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from .settings import SETTINGS

MAX_ITEMS = 100  # TransactWriteItems' limit on the items of one transaction
CONFLICT_ATTEMPTS = 4  # another transaction on one of its items (an equal log's owner record): tried again


@functools.cache
def connection() -> Connection:
    return Connection(region=SETTINGS.region, host=SETTINGS.endpoint_url)


def condition_failed(exc: TransactWriteError) -> bool:
    """The update's own condition refused it (the only condition in the transaction: puts carry none)."""
    reasons = exc.cancellation_reasons if exc.cause_response_code == "TransactionCanceledException" else []
    return any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons)


def update_with(item: Model, actions: list[Any], condition: Condition, puts: Sequence[Model]) -> None:
    """`item.update(actions, condition)` and `puts` saved (unconditionally), all or nothing; TransactWriteError
    if refused."""
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            # a token per attempt: botocore's resend of this very request is then applied once
            with TransactWrite(connection=connection(), client_request_token=secrets.token_hex(16)) as transaction:
                transaction.update(item, actions=actions, condition=condition)
                for model in puts:
                    transaction.save(model)
            return
        except TransactWriteError as exc:
            codes = {reason.code for reason in exc.cancellation_reasons or [] if reason is not None} \
                if exc.cause_response_code == "TransactionCanceledException" else set()
            if codes != {"TransactionConflict"} or attempt + 1 == CONFLICT_ATTEMPTS:
                raise
            time.sleep(0.02 * 2 ** attempt)
