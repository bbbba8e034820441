"""Persistence of the embedded moto's state: a snapshot of its backends, plus the journal since it.

moto has no snapshot of its own. The backends that hold the project's data (DynamoDB, S3, IAM and
Step Functions) are plain Python objects, so they are pickled with a pickler that

* re-creates ``threading.Lock``/``RLock`` on load (dispatch table),
* replaces an execution's live worker (interpreter environment, threads, boto clients) with a
  frozen copy of its event history, which is all that ``GetExecutionHistory`` reads afterwards, and
* writes an S3 key as its attributes and the name of its body's file (infra/local/s3_bodies.py):
  bodies live as files on disk, never in the snapshot.

Every acknowledged change since the snapshot is in the journal (infra/local/journal.py); the snapshot
records the first journal segment it does not hold (``journal_from``). Executions that were running
cannot resume; on load they are marked ABORTED with error ``Local.StackRestarted``.

Writes are atomic (temp file in the same directory, fsync, ``os.replace``).
"""
from __future__ import annotations

import copyreg
import datetime
import io
import logging
import os
import pickle
import tempfile
import threading
import time
from typing import Any, Callable

from . import s3_bodies

LOG = logging.getLogger(__name__)

SNAPSHOT_FILE = "moto-state.pickle"
FORMAT_VERSION = 2  # 1: S3 bodies inside the snapshot (still read: they move to files on load)
READABLE_FORMATS = (1, 2)
RESTART_ERROR = "Local.StackRestarted"
RESTART_CAUSE = "The local stack was restarted while this execution was running; it cannot resume."

_LOCK_TYPE = type(threading.Lock())
_RLOCK_TYPE = type(threading.RLock())


def _new_lock() -> Any:
    return threading.Lock()


def _new_rlock() -> Any:
    return threading.RLock()


def _reduce_lock(_lock: Any) -> tuple:
    return _new_lock, ()


def _reduce_rlock(_lock: Any) -> tuple:
    return _new_rlock, ()


class FrozenEventManager:
    """Stands in for an execution's event manager after a restart: the history, read-only."""

    def __init__(self, events: list) -> None:
        self._events = events

    def get_event_history(self) -> list:
        return list(self._events)


class FrozenEnvironment:
    def __init__(self, events: list) -> None:
        self.event_manager = FrozenEventManager(events)


class FrozenExecutionWorker:
    """What a pickled ExecutionWorker becomes: enough for GetExecutionHistory and StopExecution."""

    def __init__(self, events: list | None) -> None:
        self.env = FrozenEnvironment(events) if events is not None else None

    def stop(self, stop_date: Any = None, error: Any = None, cause: Any = None) -> None:
        """Nothing runs any more."""


def _frozen_worker(events: list | None) -> FrozenExecutionWorker:
    return FrozenExecutionWorker(events)


def _worker_events(worker: Any) -> list | None:
    env = getattr(worker, "env", None)
    if env is None:
        return None
    return list(env.event_manager.get_event_history())


def _dead_thread() -> None:
    return None


class _BackendPickler(pickle.Pickler):
    dispatch_table = copyreg.dispatch_table.copy()
    dispatch_table[_LOCK_TYPE] = _reduce_lock
    dispatch_table[_RLOCK_TYPE] = _reduce_rlock

    def __init__(self, file: Any, worker_types: tuple[type, ...], key_type: type | None = None) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._worker_types = worker_types
        self._key_type = key_type
        self.body_names: set[str] = set()  # the body files the pickled keys name

    def reducer_override(self, obj: Any) -> Any:
        if self._key_type is not None and isinstance(obj, self._key_type):
            return s3_bodies.reduce_key(obj, self.body_names)
        if self._worker_types and isinstance(obj, self._worker_types):
            return _frozen_worker, (_worker_events(obj),)
        if isinstance(obj, threading.Thread):
            return _dead_thread, ()
        return NotImplemented


def backend_dicts() -> dict[str, Any]:
    """The moto BackendDicts that are persisted, by a stable name."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends
    from moto.scheduler.models import scheduler_backends
    from moto.stepfunctions.models import stepfunctions_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    return {
        "dynamodb": dynamodb_backends,
        "s3": s3_backends,
        "iam": iam_backends,
        "scheduler": scheduler_backends,  # graphs' schedules (EventBridge Scheduler): a change costs a snapshot
        # The parser backend serves Step Functions when execute_state_machine is on (always, here);
        # the plain one is kept too in case the switch is ever turned off.
        "stepfunctions": stepfunctions_parser_backends,
        "stepfunctions-basic": stepfunctions_backends,
    }


def _worker_types() -> tuple[type, ...]:
    try:
        from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    except ImportError:  # pragma: no cover - other moto versions
        return ()
    return (ExecutionWorker,)


def reset_backends() -> None:
    """Empty the persisted backends (a new stack in the same process starts from its snapshot only)."""
    for backend_dict in backend_dicts().values():
        backend_dict.clear()
    from moto.s3.models import s3_backends

    s3_backends.bucket_accounts.clear()


def _capture(journal_from: int) -> dict:
    backends: dict[str, dict[str, dict[str, Any]]] = {}
    for name, backend_dict in backend_dicts().items():
        accounts: dict[str, dict[str, Any]] = {}
        for account_id, account_backends in list(backend_dict.items()):
            regions = dict(account_backends.items())
            if regions:
                accounts[account_id] = regions
        backends[name] = accounts
    from moto.s3.models import s3_backends

    return {
        "format": FORMAT_VERSION,
        "moto_version": _moto_version(),
        "saved_at": time.time(),
        "journal_from": journal_from,
        "backends": backends,
        "s3_bucket_accounts": dict(s3_backends.bucket_accounts),
    }


def pickler(file: Any) -> _BackendPickler:
    """The pickler of the snapshot and of the journal's records."""
    from moto.s3.models import FakeKey

    return _BackendPickler(file, _worker_types(), FakeKey)


def dumps_backends(journal_from: int = 0, attempts: int = 5) -> tuple[bytes, set[str]]:
    """Pickle the persisted backends (and the body files they name); retried when a concurrent request
    mutates a dict mid-pickle."""
    last_error: Exception | None = None
    for _ in range(attempts):
        buffer = io.BytesIO()
        try:
            backend_pickler = pickler(buffer)
            backend_pickler.dump(_capture(journal_from))
            return buffer.getvalue(), backend_pickler.body_names
        except RuntimeError as exc:  # "dictionary changed size during iteration" and the like
            last_error = exc
            time.sleep(0.05)
    raise RuntimeError(f"could not snapshot moto's state: {last_error}") from last_error


def save(path: str, journal_from: int = 0) -> tuple[int, set[str]]:
    """Write the snapshot atomically; return its size in bytes and the body files it names."""
    data, body_names = dumps_backends(journal_from)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix=".moto-state-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp_path, path)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a power cut before the journal is trimmed
        finally:
            os.close(dir_fd)
    except BaseException:
        try:
            os.unlink(tmp_path)
        except OSError:
            pass
        raise
    return len(data), body_names


def load(path: str) -> int | None:
    """Load a snapshot into moto's backends (replacing what they hold); return the first journal segment
    it does not hold, or None when there is no snapshot."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as stream:
            state = pickle.load(stream)
    except Exception as exc:
        raise RuntimeError(
            f"could not load the local stack's snapshot {path} ({type(exc).__name__}: {exc}); "
            "move it away to start with an empty state"
        ) from exc
    if not isinstance(state, dict) or state.get("format") not in READABLE_FORMATS:
        raise RuntimeError(f"{path}: not a local stack snapshot of format {FORMAT_VERSION}; move it away")
    if state.get("moto_version") != _moto_version():
        LOG.warning(
            "%s was written by moto %s, this is moto %s; loading it anyway",
            path,
            state.get("moto_version"),
            _moto_version(),
        )
    reset_backends()
    dicts = backend_dicts()
    for name, accounts in state["backends"].items():
        backend_dict = dicts.get(name)
        if backend_dict is None:
            LOG.warning("%s: skipping unknown backend %s", path, name)
            continue
        for account_id, regions in accounts.items():
            account_backends = backend_dict[account_id]  # creates the account-level dict
            for region, backend in regions.items():
                account_backends[region] = backend
    from moto.s3.models import s3_backends

    s3_backends.bucket_accounts.update(state.get("s3_bucket_accounts", {}))
    return int(state.get("journal_from", 0))


def abort_interrupted_executions() -> None:
    """Executions that were RUNNING when the stack stopped cannot resume: mark them ABORTED."""
    _abort_interrupted_executions()


def _abort_interrupted_executions() -> None:
    """Executions that were RUNNING at snapshot time cannot resume: mark them ABORTED."""
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    now = datetime.datetime.now(tz=datetime.timezone.utc)
    for _account, _region, backend in stepfunctions_parser_backends.iter_backends():
        for execution in backend._get_executions():
            if getattr(execution, "exec_status", None) == ExecutionStatus.RUNNING:
                execution.exec_status = ExecutionStatus.ABORTED
                execution.stop_date = now
                execution.error = RESTART_ERROR
                execution.cause = RESTART_CAUSE


def has_running_executions() -> bool:
    """Cheap check used by the snapshotter: running executions change state without requests."""
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    try:
        for _account, _region, backend in stepfunctions_parser_backends.iter_backends():
            for execution in backend._get_executions():
                if getattr(execution, "exec_status", None) == ExecutionStatus.RUNNING:
                    return True
    except RuntimeError:  # a dict changed while iterating: something is going on
        return True
    return False


def _moto_version() -> str:
    import moto

    return getattr(moto, "__version__", "unknown")


class Snapshotter:
    """Folds the journal into a new snapshot: every `interval` seconds when something changed (a journal
    record, or an execution that ran), when the journal segment passes `fold_bytes`, on demand (a change
    the journal does not cover), and at stop."""

    def __init__(self, path: str, journal: Any, interval: float = 30.0, fold_bytes: int = 32 * 1024 * 1024) -> None:
        self.path = path
        self.journal = journal
        self._interval = interval
        self._fold_bytes = fold_bytes
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._was_running = False
        self._last_save = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="moto-snapshot", daemon=True)
        self.saves = 0
        self.last_seconds = 0.0

    def start(self) -> None:
        self._thread.start()

    def _dirty(self) -> bool:
        running = has_running_executions()
        dirty = running or self._was_running or self.journal.segment_bytes > 0
        self._was_running = running
        return dirty

    def save_now(self, final: bool = False) -> None:
        """Rotate the journal, write the snapshot, then drop the segments and body files it made redundant.

        final: nothing serves requests any more, so no body file can belong to a key still being made."""
        with self._lock:
            started, clock = time.time(), time.monotonic()
            journal_from = self.journal.rotate()
            s3_bodies.sync_pending()  # the snapshot names them: on disk before it
            _size, body_names = save(self.path, journal_from)
            self.journal.discard_before(journal_from)
            s3_bodies.collect(body_names | s3_bodies.live_names(),
                              older_than=None if final else s3_bodies.grace_cutoff(started))
            self.saves += 1
            self._last_save = time.monotonic()
            self.last_seconds = self._last_save - clock

    def _loop(self) -> None:
        while not self._stop.wait(min(self._interval, 1.0)):
            try:
                big = self.journal.segment_bytes >= self._fold_bytes
                due = time.monotonic() - self._last_save >= self._interval
                if (big or due) and self._dirty():
                    self.save_now()
            except Exception:  # noqa: BLE001 - keep saving on the next tick
                LOG.exception("saving the local stack snapshot to %s failed", self.path)

    def stop(self) -> None:
        """Stop the timer and write the final snapshot."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.save_now(final=True)
