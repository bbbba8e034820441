"""The notifier Lambda: EventBridge hands it every end of a PLynx execution (asynchronously: the state
machine has ended, nothing waits on this); it sends the run's notifications (chalicelib/engine/notifications.py).

Its role reads the settings, the graph's header and the run's record, publishes to the stage's notification
topic, and nothing else: no runner, no state machine, no user data beyond what it sends. It retries each
webhook itself (capped backoff) and returns normally, so Lambda's own async retries never send twice to
receivers that already have it.
"""
from __future__ import annotations

from typing import Any

from chalicelib.engine import notifications

from . import observe


@observe.execution_event
def lambda_handler(event: dict, context: Any) -> dict:
    """An EventBridge event (`detail`: the execution's status change)."""
    detail = event.get("detail") if isinstance(event, dict) else None
    return {"sent": notifications.run_ended(detail if isinstance(detail, dict) else {})}
