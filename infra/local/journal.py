"""The local stack's write-ahead journal: what each acknowledged request changed, on disk before the answer.

Hooks on moto's backend methods (:func:`install`) note what a request touches: a DynamoDB item, an S3
key or multipart upload, a Step Functions state machine or execution. When moto has answered, and
before the answer leaves (infra/local/lambda_front.py), :meth:`Journal.finish_request` appends the
touched objects' current images to the journal: a kill of the process cannot lose it any more. When it
reaches the disk is the FSYNC_MODES choice: before the answer ("always", one fdatasync covering every
request waiting at that moment) or within SYNC_INTERVAL by a syncer thread ("interval", the default). At start the snapshot is loaded and the journal replayed over it
(:func:`replay`); the snapshotter folds the journal into a new snapshot from time to time.

Images, not requests: replaying a request would mint new ids (upload ids, execution ARNs) and run its
executions again. An image is read under the journal's lock after the change, so for every object the
last record holds its last acknowledged state, whatever the interleaving; replaying an image twice, or
over a snapshot that already has it, changes nothing. A mutating request the hooks do not cover
(CreateTable, PutBucketCors, IAM: the bootstrap's) is made durable by a snapshot before its answer.

An execution's end is journaled when the interpreter reaches it; its progress before that is not: an
execution running at a crash cannot resume anyway (it comes back ABORTED), and the engine's statuses,
which it writes to DynamoDB, are journaled.
"""
from __future__ import annotations

import copy
import io
import json
import logging
import os
import pickle
import re
import struct
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)

JOURNAL_DIR = "journal"
# PLYNX_LOCAL_FSYNC: "always" syncs before each answer (a power cut loses nothing acknowledged); "interval"
# (the default) syncs every SYNC_INTERVAL (a kill loses nothing, a power cut at most that much); "off" never.
FSYNC_MODES = ("always", "interval", "off")
SYNC_INTERVAL = 0.2
_HEADER = struct.Struct("<II")  # payload length, crc32 of the payload
_SEGMENT = re.compile(r"^(\d{8})\.log$")
# Services whose state persists (snapshot.py's backends); a change to another one is not kept.
PERSISTED_SERVICES = frozenset({"dynamodb", "s3", "iam", "states", "scheduler"})
# Step Functions calls that move an execution on, as the interpreter does: not journaled (see above).
_EXECUTION_PROGRESS = frozenset({"SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"})
# Operations of the JSON and query protocols that change nothing (S3's reads are GET and HEAD).
_READ_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "TransactGet", "Validate", "Test",
                  "Simulate")
_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_CREDENTIAL = re.compile(r"X-Amz-Credential=[^&]*?(?:/|%2F)\d{8}(?:/|%2F)[^&/%]+(?:/|%2F)([a-z0-9-]+)(?:/|%2F)aws4_request",
                               re.IGNORECASE)

Path = tuple
_datasync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync
_LOCAL = threading.local()
_ACTIVE: list["Journal"] = []  # the running stack's journal, while its hooks are installed


def touched(path: Path, at_once: bool = False) -> None:
    """Note that the current request changed `path`; `at_once`: outside a request, journal it now.

    Otherwise nothing is noted outside a request (a test driving moto in-process, the snapshot's load):
    every change the product makes reaches moto as a request through the Lambda front, except an
    execution's end, which the interpreter reaches on its own thread (journaled at once)."""
    marks = getattr(_LOCAL, "marks", None)
    if marks is not None:
        marks[path] = None
    elif at_once and _ACTIVE:
        journal = _ACTIVE[-1]
        journal.sync(journal.commit([path]))


class Journal:
    """Append-only segments ``journal/NNNNNNNN.log`` of records ``[length][crc32][pickled images]``."""

    def __init__(self, directory: str, seq: int, dumps: Callable[[Any], bytes], fsync: str = "interval") -> None:
        if fsync not in FSYNC_MODES:
            raise ValueError(f"PLYNX_LOCAL_FSYNC must be one of {', '.join(FSYNC_MODES)}, not {fsync!r}")
        self.directory = directory
        self.fsync = fsync
        self._dumps = dumps
        self._lock = threading.Lock()  # appends, in the order images are read
        self._sync_lock = threading.Lock()  # taken before _lock when both are needed
        self._seq = seq
        self._fd = self._open(seq)
        self._written = 0  # bytes appended since start, over all segments
        self._synced = 0
        self.segment_bytes = 0
        self.records = 0
        self.on_unjournaled: Callable[[str], None] | None = None
        self._closing = threading.Event()
        self._syncer: threading.Thread | None = None
        self.unjournaled: list[str] = []  # what needed a snapshot instead (tests and logs read it)

    def _open(self, seq: int) -> int:
        os.makedirs(self.directory, exist_ok=True)
        fd = os.open(segment_path(self.directory, seq), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if self.fsync != "off":
            sync_directory(self.directory)  # the new segment's name survives a power cut too
        return fd

    @property
    def seq(self) -> int:
        return self._seq

    def commit(self, paths: list[Path]) -> int:
        """Append the current images of `paths` as one record; return the position to sync to."""
        with self._lock:
            payload = self._dumps([(path, capture(path)) for path in paths])
            record = _HEADER.pack(len(payload), zlib.crc32(payload)) + payload
            view = memoryview(record)
            while view:
                view = view[os.write(self._fd, view):]
            self._written += len(record)
            self.segment_bytes += len(record)
            self.records += 1
            return self._written

    def sync(self, position: int) -> None:
        """Make everything up to `position` durable before the answer ("always"; one fdatasync serves every
        request waiting for it). Otherwise the record is in the operating system's hands already: a kill
        cannot lose it; the syncer thread puts it on the disk within SYNC_INTERVAL ("interval")."""
        if self.fsync != "always":
            return
        self._sync_to(position)

    def _sync_to(self, position: int) -> None:
        with self._sync_lock:
            if self._synced >= position:
                return
            with self._lock:
                target, fd = self._written, self._fd
            _datasync(fd)
            self._synced = target

    def rotate(self) -> int:
        """Start a new segment; return its number (a snapshot taken now holds everything before it)."""
        with self._sync_lock, self._lock:
            _datasync(self._fd)
            os.close(self._fd)
            self._synced = self._written
            self._seq += 1
            self._fd = self._open(self._seq)
            self.segment_bytes = 0
            return self._seq

    def discard_before(self, seq: int) -> None:
        """Delete the segments a snapshot on disk now holds."""
        for number, path in segments(self.directory):
            if number < seq:
                os.unlink(path)

    def start_syncer(self) -> None:
        """ "interval": every SYNC_INTERVAL, the bodies written since, their directory, then the journal."""
        if self.fsync != "interval" or self._syncer is not None:
            return
        self._syncer = threading.Thread(target=self._sync_loop, name="journal-sync", daemon=True)
        self._syncer.start()

    def _sync_loop(self) -> None:
        from . import s3_bodies

        while not self._closing.wait(SYNC_INTERVAL):
            try:
                with self._lock:
                    position = self._written
                s3_bodies.sync_pending()  # every body a record up to `position` names was written before it
                self._sync_to(position)
            except Exception:  # noqa: BLE001 - try again on the next pass
                LOG.exception("syncing the journal failed")

    def close(self) -> None:
        self._closing.set()
        if self._syncer is not None:
            self._syncer.join()
        from . import s3_bodies

        s3_bodies.sync_pending()
        with self._sync_lock, self._lock:
            if self._fd >= 0:
                _datasync(self._fd)
                os.close(self._fd)
                self._fd = -1

    # -- one request ----------------------------------------------------------------------------

    def begin_request(self) -> dict:
        marks: dict = {}
        # a request served within another one on its thread (direct.py) has marks of its own, then the outer's again
        _LOCAL.outer = [*getattr(_LOCAL, "outer", ()), getattr(_LOCAL, "marks", None)]
        _LOCAL.marks = marks
        return marks

    def finish_request(self, marks: dict, environ: dict, status: str | None) -> None:
        """Before the answer: journal what the request touched, or snapshot a change the hooks miss."""
        outer = getattr(_LOCAL, "outer", None) or [None]
        _LOCAL.marks, _LOCAL.outer = outer[-1], outer[:-1]
        if marks:
            try:
                self.sync(self.commit(list(marks)))
                return
            except Exception:  # noqa: BLE001 - an image that would not pickle: the snapshot keeps it
                LOG.exception("journaling %s failed; taking a snapshot instead", list(marks))
        elif not (status or "").startswith("2") or not _may_change_persisted_state(environ):
            return
        operation = _operation(environ)
        self.unjournaled.append(operation)
        if self.on_unjournaled is not None:
            self.on_unjournaled(operation)


def sync_directory(directory: str) -> None:
    """fsync a directory: a file created in it keeps its name after a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def segment_path(directory: str, seq: int) -> str:
    return os.path.join(directory, f"{seq:08d}.log")


def segments(directory: str) -> list[tuple[int, str]]:
    """The journal's segments, oldest first."""
    if not os.path.isdir(directory):
        return []
    found = []
    for name in os.listdir(directory):
        match = _SEGMENT.match(name)
        if match:
            found.append((int(match.group(1)), os.path.join(directory, name)))
    return sorted(found)


def replay(directory: str, from_seq: int) -> tuple[int, int]:
    """Apply the records of segments from `from_seq` on; return (records applied, next segment number).

    A record cut short by a kill (its answer never left) ends its segment's replay."""
    applied, last = 0, from_seq - 1
    for number, path in segments(directory):
        last = max(last, number)
        if number < from_seq:
            continue
        with open(path, "rb") as stream:
            data = stream.read()
        offset = 0
        while offset + _HEADER.size <= len(data):
            length, crc = _HEADER.unpack_from(data, offset)
            payload = data[offset + _HEADER.size: offset + _HEADER.size + length]
            if len(payload) < length or zlib.crc32(payload) != crc:
                LOG.warning("%s: a record cut short at byte %d (never acknowledged): ignored", path, offset)
                break
            try:
                for record_path, image in pickle.loads(payload):
                    apply(record_path, image)
            except Exception as exc:
                raise RuntimeError(
                    f"could not replay the local stack's journal {path} at byte {offset} ({type(exc).__name__}: "
                    f"{exc}); move the data dir away to start empty, or keep it for another try") from exc
            applied += 1
            offset += _HEADER.size + length
    return applied, last + 1


# -- images -----------------------------------------------------------------------------------------


def _backend(path: Path) -> Any:
    from .snapshot import backend_dicts

    service, account, region = path[:3]
    return backend_dicts()[service][account][region]


def capture(path: Path) -> Any:
    """The object at `path` as it is now (None: it does not exist)."""
    backend = _backend(path)
    kind, *names = path[3:]
    if kind == "item":
        from . import patches

        table_name, key = names
        with patches.dynamodb_write_lock():
            table = backend.tables.get(table_name)
            if table is None:
                return None
            item = table.get_item(*backend.get_keys_value(table, json.loads(key)))
            return None if item is None else item.to_json()["Attributes"]
    if kind == "key":
        bucket = backend.buckets.get(names[0])
        versions = None if bucket is None else bucket.keys.getlist(names[1])
        return list(versions) if versions else None
    if kind == "multipart":
        bucket = backend.buckets.get(names[0])
        return None if bucket is None else bucket.multiparts.get(names[1])
    if kind == "machine":
        machine = _machine(backend, names[0])
        if machine is None:
            return None
        image = copy.copy(machine)
        image.executions = []  # journaled one by one ("execution")
        return image
    if kind == "execution":
        machine = _machine(backend, names[0])
        if machine is None:
            return None
        return next((e for e in list(machine.executions) if e.execution_arn == names[1]), None)
    raise ValueError(f"unknown journal path {path}")


def apply(path: Path, image: Any) -> None:
    """Put an image back (replay)."""
    backend = _backend(path)
    kind, *names = path[3:]
    if kind == "item":
        table = backend.tables.get(names[0])
        if table is None:
            return
        hash_key, range_key = backend.get_keys_value(table, json.loads(names[1]))
        if image is None:
            table.delete_item(hash_key, range_key)
        else:
            table.put_item(image)
    elif kind in ("key", "multipart"):
        bucket = backend.buckets.get(names[0])
        if bucket is None:
            return
        store = bucket.keys if kind == "key" else bucket.multiparts
        if image is None:
            dict.pop(store, names[1], None)
        else:
            dict.__setitem__(store, names[1], image)
    elif kind == "machine":
        machine = _machine(backend, names[0])
        if machine is not None:
            backend.state_machines.remove(machine)
        if image is not None:
            image.executions = machine.executions if machine is not None else []
            backend.state_machines.append(image)
    elif kind == "execution":
        machine = _machine(backend, names[0])
        if machine is None or image is None:
            return
        machine.executions[:] = [e for e in machine.executions if e.execution_arn != names[1]] + [image]
    else:
        raise ValueError(f"unknown journal path {path}")


def _machine(backend: Any, arn: str) -> Any:
    return next((machine for machine in list(backend.state_machines) if machine.arn == arn), None)


# -- hooks on moto's backends -----------------------------------------------------------------------


def _service_of(backend: Any) -> str:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    module = type(backend).__module__
    if module.startswith("moto.dynamodb"):
        return "dynamodb"
    if module.startswith("moto.s3"):
        return "s3"
    return "stepfunctions" if isinstance(backend, StepFunctionsParserBackend) else "stepfunctions-basic"


def _path(backend: Any, *rest: Any) -> Path:
    return (_service_of(backend), backend.account_id, backend.region_name, *rest)


def _item(backend: Any, table_name: str, attributes: Any) -> None:
    try:
        table = backend.get_table(table_name)
        key = {table.hash_key_attr: attributes[table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = attributes[table.range_key_attr]
    except Exception:  # noqa: BLE001 - no such table, or no key: moto refuses the request itself
        return
    touched(_path(backend, "item", table.name, json.dumps(key, sort_keys=True)))


def _s3_key(backend: Any, bucket: Any, key: Any) -> None:
    if isinstance(bucket, str) and isinstance(key, str):
        touched(_path(backend, "key", bucket, key))


def _s3_upload(backend: Any, bucket: Any, upload_id: Any) -> None:
    if isinstance(bucket, str) and isinstance(upload_id, str):
        touched(_path(backend, "multipart", bucket, upload_id))


def _execution(backend: Any, execution: Any, at_once: bool = False) -> None:
    for machine in list(backend.state_machines):
        if any(e is execution for e in list(machine.executions)):
            touched(_path(backend, "execution", machine.arn, execution.execution_arn), at_once)
            return


def _arg(args: tuple, kwargs: dict, index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


# What each hooked method touches: (self, args, kwargs, result or None) -> None, called after the call.
def _put_item(b: Any, a: tuple, k: dict, r: Any) -> None:
    _item(b, _arg(a, k, 0, "table_name"), _arg(a, k, 1, "item_attrs"))


def _keyed_item(b: Any, a: tuple, k: dict, r: Any) -> None:
    _item(b, _arg(a, k, 0, "table_name"), _arg(a, k, 1, "key"))


def _transaction(b: Any, a: tuple, k: dict, r: Any) -> None:
    for entry in _arg(a, k, 0, "transact_items") or []:
        try:
            operation, body = next(iter(entry.items()))
            _item(b, body["TableName"], body["Item"] if operation == "Put" else body["Key"])
        except Exception:  # noqa: BLE001 - malformed: refused by moto
            continue


def _key_by_name(b: Any, a: tuple, k: dict, r: Any) -> None:
    _s3_key(b, _arg(a, k, 0, "bucket_name"), _arg(a, k, 1, "key_name"))


def _keys_deleted(b: Any, a: tuple, k: dict, r: Any) -> None:
    for entry in _arg(a, k, 1, "objects") or []:
        if isinstance(entry, dict):
            _s3_key(b, _arg(a, k, 0, "bucket_name"), entry.get("Key"))


def _key_copied(b: Any, a: tuple, k: dict, r: Any) -> None:
    _s3_key(b, _arg(a, k, 1, "dest_bucket_name"), _arg(a, k, 2, "dest_key_name"))


def _key_object(b: Any, a: tuple, k: dict, r: Any) -> None:
    key = _arg(a, k, 0, "key")
    if key is not None:
        _s3_key(b, getattr(key, "bucket_name", None), getattr(key, "name", None))


def _upload_created(b: Any, a: tuple, k: dict, r: Any) -> None:
    _s3_upload(b, _arg(a, k, 0, "bucket_name"), getattr(r, "id", None))


def _upload(b: Any, a: tuple, k: dict, r: Any) -> None:
    _s3_upload(b, _arg(a, k, 0, "bucket_name"), _arg(a, k, 1, "multipart_id"))


def _upload_copy(b: Any, a: tuple, k: dict, r: Any) -> None:
    _s3_upload(b, _arg(a, k, 0, "dest_bucket_name"), _arg(a, k, 1, "multipart_id"))


def _machine_created(b: Any, a: tuple, k: dict, r: Any) -> None:
    if r is not None:
        touched(_path(b, "machine", r.arn))


def _machine_by_arn(b: Any, a: tuple, k: dict, r: Any) -> None:
    arn = _arg(a, k, 0, "arn")
    if isinstance(arn, str):
        touched(_path(b, "machine", arn))


def _execution_result(b: Any, a: tuple, k: dict, r: Any) -> None:
    if r is not None:
        _execution(b, r)


def _execution_ended(communication: Any, a: tuple, k: dict, r: Any) -> None:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    execution = communication.execution
    try:
        backend = stepfunctions_parser_backends[execution.account_id][execution.region_name]
    except KeyError:
        return
    _execution(backend, execution, at_once=True)


def _hooks() -> list[tuple[type, str, Callable]]:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.s3.models import S3Backend
    from moto.stepfunctions.models import StepFunctionBackend
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    return [
        (DynamoDBBackend, "put_item", _put_item),
        (DynamoDBBackend, "update_item", _keyed_item),
        (DynamoDBBackend, "delete_item", _keyed_item),
        (DynamoDBBackend, "transact_write_items", _transaction),
        (S3Backend, "put_object", _key_by_name),
        (S3Backend, "put_object_acl", _key_by_name),
        (S3Backend, "delete_object", _key_by_name),
        (S3Backend, "delete_object_tagging", _key_by_name),
        (S3Backend, "put_object_legal_hold", _key_by_name),
        (S3Backend, "put_object_retention", _key_by_name),
        (S3Backend, "delete_objects", _keys_deleted),
        (S3Backend, "copy_object", _key_copied),
        (S3Backend, "put_object_tagging", _key_object),
        (S3Backend, "create_multipart_upload", _upload_created),
        (S3Backend, "upload_part", _upload),
        (S3Backend, "abort_multipart_upload", _upload),
        (S3Backend, "complete_multipart_upload", _upload),
        (S3Backend, "upload_part_copy", _upload_copy),
        (StepFunctionsParserBackend, "create_state_machine", _machine_created),
        (StepFunctionsParserBackend, "update_state_machine", _machine_by_arn),
        (StepFunctionBackend, "delete_state_machine", _machine_by_arn),
        (StepFunctionsParserBackend, "start_execution", _execution_result),
        (StepFunctionBackend, "stop_execution", _execution_result),
        (BaseExecutionWorkerCommunication, "terminated", _execution_ended),
    ]


def install(journal: Journal, set_attribute: Callable[[Any, str, Any], None]) -> None:
    """Hook moto's backends so that requests note what they change (undone with the other patches)."""
    for owner, name, note in _hooks():
        original = getattr(owner, name)

        def hooked(self: Any, *args: Any, __original: Callable = original, __note: Callable = note,
                   **kwargs: Any) -> Any:
            result = None
            try:
                result = __original(self, *args, **kwargs)
                return result
            finally:  # a refused or rolled-back write is journaled too: its image is the state as it is
                __note(self, args, kwargs, result)

        hooked.__name__ = name
        set_attribute(owner, name, hooked)
    _ACTIVE.append(journal)


def uninstall() -> None:
    _ACTIVE.clear()


# -- requests the hooks do not cover ----------------------------------------------------------------


def _may_change_persisted_state(environ: dict) -> bool:
    if _service(environ) not in PERSISTED_SERVICES:
        return False
    operation = _operation(environ)
    return operation not in _EXECUTION_PROGRESS and not operation.startswith(_READ_PREFIXES)


def _service(environ: dict) -> str | None:
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION") or "")
    if match is None:
        match = _QUERY_CREDENTIAL.search(environ.get("QUERY_STRING") or "")
    return match.group(1) if match else None


def _operation(environ: dict) -> str:
    """The API operation: a JSON protocol's target, a query protocol's Action (IAM), else method and path."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    body = environ.get("wsgi.input")
    if (environ.get("CONTENT_TYPE") or "").startswith("application/x-www-form-urlencoded") and isinstance(
            body, io.BytesIO):  # buffered by the signature check (lambda_front.py)
        action = urllib.parse.parse_qs(body.getvalue().decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    return f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}?{environ.get('QUERY_STRING', '')}"[:200]


def dumps_with(pickler_factory: Callable[[io.BytesIO], Any]) -> Callable[[Any], bytes]:
    """A dumps for journal records, retried when a running execution changes what is being pickled."""

    def dumps(value: Any) -> bytes:
        last: Exception | None = None
        for _ in range(20):
            buffer = io.BytesIO()
            try:
                pickler_factory(buffer).dump(value)
                return buffer.getvalue()
            except RuntimeError as exc:  # "changed size during iteration"
                last = exc
                time.sleep(0.001)
        raise RuntimeError(f"could not journal {value!r:.200}: {last}") from last

    return dumps
