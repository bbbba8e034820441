"""Logs of a running operation reach storage every few seconds, so a user can watch a long job."""
from __future__ import annotations

import os
import shutil
import tempfile
import time

from pynamodb.exceptions import UpdateError

from . import storage
from .enums import NodeRunningStatus
from .models import GraphNodeModel
from .util import now


BIG_LOG_BYTES = 20 * 1024 * 1024
BIG_LOG_SECONDS = 30.0


class LogPublisher:
    """Uploads the log files that changed since the last call and points the running node at them."""

    def __init__(self, graph_id: str, node_id: str, run_id: str) -> None:
        self.graph_id, self.node_id, self.run_id = graph_id, node_id, run_id
        self._seen: dict[str, tuple[int, int]] = {}
        self._ids: dict[str, str] = {}
        self._uploaded_at: dict[str, float] = {}

    def __call__(self, logs: dict[str, str]) -> bool:
        """Publish; False when nothing changed or the node is no longer running in this run."""
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
            self._ids[name] = _snapshot_upload(path)
            self._uploaded_at[name] = time.monotonic()
            changed = True
        if not changed:
            return False
        item = GraphNodeModel(self.graph_id, self.node_id)
        try:
            item.update(
                actions=[GraphNodeModel.logs.set(dict(self._ids)), GraphNodeModel.update_date.set(now())],
                condition=(GraphNodeModel.run_id == self.run_id)
                & (GraphNodeModel.node_running_status == NodeRunningStatus.RUNNING),
            )
        except UpdateError:
            return False  # the run moved on (stopped, or a newer run): the final logs win
        return True


def _snapshot_upload(path: str) -> str:
    """Upload a copy: the file grows while we read it, and its id must match the bytes stored."""
    with tempfile.NamedTemporaryFile(prefix="plynx-log-", delete=False) as copy, open(path, "rb") as source:
        shutil.copyfileobj(source, copy, 1024 * 1024)
    try:
        return storage.put_file(copy.name)
    finally:
        os.remove(copy.name)
