"""Logs of a running operation reach storage every few seconds, so a user can watch a long job.

Each call is also the operation's heartbeat (its `update_date`), and the moment a runner learns that
the run no longer wants the operation (CANCEL, a newer run, a failed run's end): it then stops it.
"""
from __future__ import annotations

import os
import time

from chalicelib.domain.enums import NodeRunningStatus
from chalicelib.store import owners, storage

from .transitions import Moved, move_node

BIG_LOG_BYTES = 20 * 1024 * 1024
BIG_LOG_SECONDS = 30.0


class Stopped(Exception):
    """The node is no longer RUNNING in this run: the runner kills the operation's process."""


class LogPublisher:
    """Uploads the log files that changed since the last call and points the running node at them."""

    def __init__(self, graph_id: str, node_id: str, run_id: str, holder: str | None = None) -> None:
        self.graph_id, self.node_id, self.run_id = graph_id, node_id, run_id
        self.holder = holder  # who holds the logs (the run's author), recorded before the node points at them
        self._seen: dict[str, tuple[int, int]] = {}
        self._ids: dict[str, str] = {}
        self._uploaded_at: dict[str, float] = {}

    def __call__(self, logs: dict[str, str]) -> bool:
        """Publish what changed and beat; False when nothing changed, Stopped when the run moved on."""
        changed = False
        for name, path in logs.items():
            try:
                stat = os.stat(path)
            except OSError:
                continue
            mark = (stat.st_size, stat.st_mtime_ns)
            if self._seen.get(name) == mark:
                continue
            if stat.st_size > BIG_LOG_BYTES and time.monotonic() - self._uploaded_at.get(name, 0.0) < BIG_LOG_SECONDS:
                continue  # each upload copies the whole log: a big one is refreshed less often
            self._seen[name] = mark
            # hashed to its current end, then that many bytes sent and checked: what it grows by later waits
            self._ids[name] = storage.put_file(path)
            self._uploaded_at[name] = time.monotonic()
            changed = True
        if changed and self.holder:
            owners.record(self._ids.values(), self.holder)
        fields = {"logs": dict(self._ids)} if changed else {}
        try:  # a beat: RUNNING stays RUNNING, or the run moved it (CANCEL, a newer run, the run's end)
            move_node(self.graph_id, self.node_id, self.run_id, NodeRunningStatus.RUNNING, NodeRunningStatus.RUNNING,
                      **fields)
        except Moved as exc:
            raise Stopped(f"Node `{self.node_id}` is no longer running in run `{self.run_id}`") from exc
        return changed

