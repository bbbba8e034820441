"""The local stack's full garbage collections on a schedule of their own, off its runs' critical paths.

CPython collects its oldest generation whenever ten younger passes have run and what survived them grew by a
quarter. The stack's state only grows (moto's items, S3 keys, executions and their histories: about 10,000
objects a run), so a run of a few hundred milliseconds met one every few runs, 70 ms at 150,000 objects, on the
interpreter lock that every request of the run needs. Here the interpreter never starts one itself; a thread
does, every `seconds` at most, when as many younger passes have run since the last one as the interpreter
would have waited for. The younger generations are collected as before.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Callable

NEVER = 1 << 30  # younger passes before the interpreter would start a full collection itself


def full_collections_every(seconds: float) -> Callable[[], None]:
    """Start the schedule; returns what undoes it (the interpreter's own thresholds again)."""
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(seconds):
            if gc.get_count()[2] >= full:  # as many passes of the middle generation as the interpreter waits for
                gc.collect()

    threading.Thread(target=loop, name="local-full-collections", daemon=True).start()

    def undo() -> None:
        stop.set()
        gc.set_threshold(young, middle, full)

    return undo
