"""The local stack's full collections run on their schedule, never on the interpreter's own."""
from __future__ import annotations

import gc
import time

from infra.local import collector


def _full_collections(during: float, make_garbage: bool = True) -> int:
    seen: list[int] = []

    def count(phase: str, info: dict) -> None:
        if phase == "stop" and info["generation"] == 2:
            seen.append(1)

    gc.callbacks.append(count)
    try:
        deadline = time.monotonic() + during
        while time.monotonic() < deadline:
            if make_garbage:
                for _ in range(20_000):
                    cycle: list = []
                    cycle.append(cycle)  # only the cyclic collector frees it
            time.sleep(0.01)
    finally:
        gc.callbacks.remove(count)
    return len(seen)


def test_full_collections_wait_for_the_schedule_and_the_thresholds_come_back() -> None:
    before = gc.get_threshold()
    undo = collector.full_collections_every(3600.0)
    try:
        assert gc.get_threshold() == (before[0], before[1], collector.NEVER)
        assert _full_collections(0.5, make_garbage=True) == 0  # the interpreter's own never start
    finally:
        undo()
    assert gc.get_threshold() == before


def test_the_schedule_collects_once_enough_younger_passes_ran() -> None:
    undo = collector.full_collections_every(0.05)
    try:
        assert _full_collections(1.0, make_garbage=True) >= 1
    finally:
        undo()
