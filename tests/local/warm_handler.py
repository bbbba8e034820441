"""A Lambda handler for tests/local/test_warm_runner.py: reports the process it ran in, fails, or dies."""
from __future__ import annotations

import os
import tempfile
import threading
from typing import Any

CALLS: list[Any] = []  # what this worker served before (a warm process remembers)


def lambda_handler(event: dict, context: Any) -> dict:
    CALLS.append(event.get("n"))
    if event.get("fail"):
        raise KeyError(f"failed {event.get('n')}")
    if event.get("die"):
        os._exit(3)
    if event.get("unserialisable"):
        return {"value": object()}
    return {"pid": os.getpid(), "threads": threading.active_count(), "calls": list(CALLS),
            "function": context.function_name, "remaining": context.get_remaining_time_in_millis(),
            "tmp": tempfile.gettempdir(), "storage": os.environ.get("PLYNX_RUNNER_STORAGE_MB"),
            "wait": os.read(os.open(event["wait"], os.O_RDONLY), 1).decode() if event.get("wait") else None}
