"""Conditional writes: only DynamoDB's ConditionalCheckFailedException means another writer got there first.

Throttling and transient errors were already retried by botocore (pynamodb's client: standard mode,
`max_retry_attempts` retries with exponential backoff); what is left of them is a real error and is
raised, never read as "the condition failed" (a swallowed write, or a 409 for a busy table).
"""
from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

CONDITION_FAILED = "ConditionalCheckFailedException"


def condition_failed(exc: PynamoDBException) -> bool:
    """True if the write was refused by its condition (the only refusal a caller may act on)."""
    return exc.cause_response_code == CONDITION_FAILED


__all__ = ["CONDITION_FAILED", "condition_failed"]
