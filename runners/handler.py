"""Runner entry points. Step Functions invokes `lambda_handler`; Fargate and the CLI call `main`."""
from __future__ import annotations

import base64
import collections
import concurrent.futures
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from typing import Any

from chalicelib.domain import permissions
from chalicelib.domain.config import ConfigError
from chalicelib.domain.cache_key import key
from chalicelib.domain.enums import NodeRunningStatus
from chalicelib.domain.graph import cacheable, dependencies, retries, timeout_seconds
from chalicelib.engine import cache, composite_runs, inputs, live_logs, placement, settle, transitions, waits
from chalicelib.engine.gc import grace_seconds
from chalicelib.store import graph_items, owners, storage, together
from stepfunctions.contract import Action, OperationFailed, RunnerEvent, event_from_environment

from . import executors, observe

logger = observe.log


def _timeout(node: dict, context: Any) -> float:
    timeout = float(timeout_seconds(node))
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is not None:
        # Leave time to upload outputs and logs before Lambda stops us.
        timeout = min(timeout, max(remaining() / 1000.0 - 10.0, 1.0))
    return timeout


# Content ids this warm runner has stored: resources are immutable and named by content, so an
# equal file (an empty stderr, a repeated output) needs no second PutObject.
_STORED: set[str] = set()
# (content id, holder) records this warm runner has written: records never change either.
_HELD: set[tuple[str, str]] = set()
# And the content of the small ones, newest last: the next operation of a chain, often run by this same
# warm runner, reads its input from here instead of S3.
_CONTENT: collections.OrderedDict[str, bytes] = collections.OrderedDict()
_CONTENT_BYTES = [0]  # their total size
CONTENT_ITEM_BYTES = 1024 * 1024
CONTENT_TOTAL_BYTES = 32 * 1024 * 1024


def _remember(resource_id: str, data: bytes) -> None:
    if len(data) > CONTENT_ITEM_BYTES:
        return
    if resource_id in _CONTENT:
        _CONTENT.move_to_end(resource_id)
        return
    _CONTENT[resource_id] = data
    _CONTENT_BYTES[0] += len(data)
    while _CONTENT_BYTES[0] > CONTENT_TOTAL_BYTES:
        _CONTENT_BYTES[0] -= len(_CONTENT.popitem(last=False)[1])


THREADS = 8  # the runner's requests at once: an operation's uploads, a join's downloads
_POOL: list[tuple[int, concurrent.futures.ThreadPoolExecutor]] = []  # (owner pid, this process's pool)


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    """This process's threads for the runner's overlapping requests, kept across invocations (starting two
    threads per operation cost more than an upload's round trip on a busy machine). The runner never forks
    (operations are forks of its zygote, a separate interpreter; a new zygote is a fork-exec), so idle
    threads are safe here; a fork of this process (a warm runner's worker) starts its own pool."""
    if not _POOL or _POOL[0][0] != os.getpid():
        _POOL[:] = [(os.getpid(), concurrent.futures.ThreadPoolExecutor(THREADS))]
    return _POOL[0][1]


class Ahead:
    """The worker log stored while the operation runs: what it will hold if the operation succeeds is known as
    the script starts (executors.execute's `expect`: the script, then JOB SUCCEEDED), so its upload overlaps
    the operation, not the end. Any other ending (a failure, a note) hashes to other content, stored as usual;
    the content stored ahead is then named by nothing and the collector takes it (engine/gc.py).

    Only in a Lambda invocation shorter than the collector's grace period (`allowed`): the collector leaves
    unnamed content alone that long, and the invocation names it (or gives it up) before it ends; a Fargate
    task may run for days."""

    def __init__(self) -> None:
        self.resource_id: str | None = None
        self.future: concurrent.futures.Future | None = None

    def start(self, data: bytes) -> None:
        """Store `data` in the background (never raises: the end stores the log anyway)."""
        resource_id = storage.content_id(data)
        if resource_id in _STORED:
            return
        try:
            self.future = _pool().submit(storage.put_private, resource_id, data, len(data))
            self.resource_id = resource_id
        except Exception:  # noqa: BLE001 - the operation runs all the same
            logger.warning("The worker log could not be stored ahead", exc_info=True)

    def stored(self, resource_id: str) -> bool | None:
        """Whether storing this content ahead created it (True/False, as put_private); None: it was not this
        content, or its upload failed (then it is uploaded now, as any other)."""
        if self.future is None or resource_id != self.resource_id:
            return None
        try:
            return self.future.result()
        except Exception:  # noqa: BLE001 - uploaded again with the rest, which raises what is still wrong
            logger.warning("The worker log stored ahead failed; storing it again", exc_info=True)
            return None

    @staticmethod
    def allowed(context: Any) -> bool:
        """Whether this invocation ends before the collector could take what it stores ahead."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            return False
        try:
            return remaining() / 1000.0 < grace_seconds()
        except ConfigError:
            return False

    def settle(self) -> None:
        """Wait for the upload (one the end did not use too): nothing of this invocation runs after it returns."""
        if self.future is not None:
            concurrent.futures.wait([self.future])


def _store(reads: list[tuple[str, bytes | Any, int]], created: set[str] | None = None,
           ahead: Ahead | None = None) -> None:
    """Upload what `storage.read_private` read and is not stored yet (nor `ahead`), the uploads at once (an
    output and the worker log: their round trips overlap, one of them in this thread); `created` gains what
    they created."""
    todo: dict[str, tuple[str, bytes | Any, int]] = {}
    for resource_id, copy, size in reads:
        if resource_id in _STORED or resource_id in todo:
            if not isinstance(copy, bytes):
                copy.close()
        else:
            todo[resource_id] = (resource_id, copy, size)
    early = ahead.resource_id if ahead is not None and ahead.resource_id in todo else None
    later = todo.pop(early) if early is not None else None
    uploads = list(todo.values())
    pending = [_pool().submit(storage.put_private, *read) for read in uploads[1:]]
    try:
        made = [storage.put_private(*read) for read in uploads[:1]]
    except BaseException:
        concurrent.futures.wait(pending)  # none still running once we go on
        raise
    made += [future.result() for future in pending]
    if ahead is not None and early is not None and later is not None:
        new = ahead.stored(early)
        todo[early] = later
        made.append(storage.put_private(*later) if new is None else new)
    for resource_id, new in zip(todo, made):
        if new and created is not None:
            created.add(resource_id)
        if len(_STORED) > 10_000:
            _STORED.clear()
        _STORED.add(resource_id)
    for resource_id, copy, _ in reads:
        if isinstance(copy, bytes):
            _remember(resource_id, copy)


MIB = placement.MIB
DISK_MARGIN_BYTES = placement.DISK_MARGIN_BYTES


class InputsTooBig(Exception):
    """An operation's inputs do not fit on this runner's disk: it fails before it runs, saying why."""


class Room:
    """The disk this run's inputs may fill: the free space of its workdir's file system (on Lambda, the
    ephemeral storage the template configures), less DISK_MARGIN_BYTES."""

    def __init__(self, workdir: str) -> None:
        self.total = shutil.disk_usage(workdir).free
        configured = os.environ.get(placement.RUNNER_STORAGE_VARIABLE, "").strip()
        if configured.isdigit():
            self.total = min(self.total, int(configured) * MIB)
        self.left = max(self.total - DISK_MARGIN_BYTES, 0)
        self._lock = threading.Lock()  # inputs download at once: each takes its room before its first byte

    def admit(self, resource_id: str, size: int) -> None:
        """Take `size` bytes of the room for an input, or refuse it (InputsTooBig) when they are not left."""
        with self._lock:
            if size > self.left:
                raise self.refuse(resource_id, size)
            self.left -= size

    def refuse(self, resource_id: str, size: int) -> InputsTooBig:
        return InputsTooBig(
            f"The operation's inputs do not fit on this runner's disk: input `{resource_id}` has {size / MIB:.1f} MB, "
            f"and {max(self.left, 0) / MIB:.1f} MB are left of the {self.total / MIB:.0f} MB this runner has "
            f"(less {DISK_MARGIN_BYTES // MIB} MB kept for logs and outputs). Nothing ran. Run it on Fargate "
            "(parameter `_placement`: `fargate`, 40 GB), or deploy with a larger RunnerEphemeralStorage "
            "(Lambda's ephemeral storage, at most 10240 MB).")


def _take_inline(contents: dict[str, bytes]) -> None:
    """Keep the small inputs their upstream nodes' ends carried (inputs.upstream_read), those that hash to the id
    they are under: the others are read from S3, and checked, as any input."""
    for resource_id, data in contents.items():
        if storage.content_id(data) == resource_id:
            _remember(resource_id, data)


def _download(resource_id: str, path: str, room: Room | None = None) -> None:
    """From this runner's memory, else one streamed GetObject (the transfer manager's HeadObject and threads
    cost more than small inputs, and its ranged parts arrive out of order, so could not be hashed as they
    come); either way checked against its id (storage.IntegrityError), and refused (InputsTooBig) before a
    byte is written when it does not fit in `room`."""
    data = _CONTENT.get(resource_id)
    if data is not None:
        try:
            storage.check(resource_id, data)
        except storage.IntegrityError:
            if _CONTENT.pop(resource_id, None) is not None:
                _CONTENT_BYTES[0] -= len(data)
            raise
        if room is not None:
            room.admit(resource_id, len(data))
        with open(path, "wb") as target:
            target.write(data)
        return
    storage.download_to(resource_id, path, admit=None if room is None else lambda size: room.admit(resource_id, size))


def _download_all(wanted: list[tuple[str, str]], room: Room | None = None) -> None:
    """An operation's inputs (resource id, path), the GetObjects at once (a join reads one per branch); every
    download has ended, written or removed, before this returns or raises the first failure."""
    futures = [_pool().submit(_download, resource_id, path, room) for resource_id, path in wanted[1:]]
    try:
        for resource_id, path in wanted[:1]:
            _download(resource_id, path, room)
    finally:
        concurrent.futures.wait(futures)
    for future in futures:
        future.result()


def _read_outputs(paths: dict[str, Any]) -> dict[str, tuple[str, bytes | Any, int]]:
    """Each output file hashed (storage.UnsafeFile: the operation made one a link or a device)."""
    reads: dict[str, tuple[str, bytes | Any, int]] = {}
    try:
        for name, path in paths.items():
            if isinstance(path, str):
                reads[name] = storage.read_private(path)
    except BaseException:
        _close(reads.values())
        raise
    return reads


def _read_logs(paths: dict[str, str]) -> dict[str, tuple[str, bytes | Any, int]]:
    """The logs hashed; one the operation replaced by a link or removed is stored as a note saying so."""
    reads = {}
    for name, path in paths.items():
        try:
            reads[name] = storage.read_private(path)
        except (storage.UnsafeFile, OSError) as exc:
            note = f"The {name} log was not stored: {exc}\n".encode()
            reads[name] = (storage.content_id(note), note, len(note))
    return reads


def _close(reads: Any) -> None:
    for _, copy, _ in reads:
        if not isinstance(copy, bytes):
            copy.close()


def _upload(paths: dict[str, Any], created: set[str] | None = None) -> dict[str, str]:
    reads = _read_outputs(paths)
    _store(list(reads.values()), created)
    return {name: read[0] for name, read in reads.items()}


def _holdings(resource_ids: list[str], holder: str) -> list[Any]:
    """The records of who holds what this run stored that this warm runner has not written yet: written
    with the node's end, which points at them (transitions.finish_node), then _held."""
    return owners.records([resource_id for resource_id in resource_ids if (resource_id, holder) not in _HELD],
                          holder)


def _held(records: list[Any]) -> None:
    if len(_HELD) > 10_000:
        _HELD.clear()
    _HELD.update((record.resource_id, record.holder) for record in records)


# Nodes of runs this warm runner saw end (SUCCESS, RESTORED: final, their results never change), by
# (run partition, node id), with the outputs their upload created: the next operation of a chain, often run
# by this same runner, reads its inputs' ids and types from here instead of DynamoDB, and does not look up
# the cache when one of its inputs was created just now (no earlier run can have had it; at worst, content
# collected since an entry was written, it runs again instead of being restored).
_ENDED: collections.OrderedDict[tuple[str, str], tuple[dict, frozenset[str]]] = collections.OrderedDict()
ENDED_NODES = 2000


def _ended(partition: str, node: dict, status: str, outputs: dict[str, str], logs: dict[str, str],
           created: set[str]) -> None:
    results = {"outputs": outputs, "logs": logs}
    ended = dict(node, node_running_status=status, **{
        field: [dict(entry, resource_id=results[field].get(entry["name"], entry.get("resource_id")))
                for entry in node.get(field, [])] for field in results})
    _ENDED[(partition, node["_id"])] = ended, frozenset(created & set(outputs.values()))
    while len(_ENDED) > ENDED_NODES:
        _ENDED.popitem(last=False)


def _with_the_end(holdings: list[Any], others: int) -> list[Any]:
    """The owner records to write in the node's end's transaction; past its 100 items (with the node's own
    update and `others`), written first on their own (the node does not point at them yet), and none."""
    if 1 + len(holdings) + others <= together.MAX_ITEMS:
        return holdings
    owners.record([record.resource_id for record in holdings], holdings[0].holder)
    return []


# What an end carries besides its results stays within the room a node's item keeps for them (domain/nodes.py
# MAX_NODE_BYTES): an output this small travels with it (base64), up to INLINE_TOTAL_BYTES; and the ids of the
# content it created, up to CREATED_IDS (more: its readers look up the cache, as before).
INLINE_BYTES = 1024
INLINE_TOTAL_BYTES = 4 * 1024
CREATED_IDS = 50


def _end(graph_id: str, node_id: str, run_id: str, status: str, outputs: dict[str, str], logs: dict[str, str],
         restored_from: dict[str, str] | None, holdings: list[Any], entry: Any = None,
         created: Iterable[str] = (), small: dict[str, str] | None = None) -> None:
    """The operation's end, its owner records and its cache entry in one write (transitions.finish_node), with
    the outputs whose content its upload `created` and the bytes of its `small` ones."""
    extra = [entry] if entry is not None else []
    puts = [*_with_the_end(holdings, len(extra)), *extra]
    transitions.finish_node(graph_id, node_id, run_id, status, outputs, logs, restored_from, puts=puts,
                            created=_fresh(created, outputs), inline=small)
    _held(holdings)


def _inline(reads: Iterable[tuple[str, bytes | Any, int]]) -> dict[str, str]:
    """The small outputs' bytes as the node's `inline` (its readers need no GetObject for them)."""
    small: dict[str, str] = {}
    total = 0
    for resource_id, copy, size in reads:
        if isinstance(copy, bytes) and size <= INLINE_BYTES and total + size <= INLINE_TOTAL_BYTES:
            small[resource_id] = base64.b64encode(copy).decode("ascii")
            total += size
    return small


def _carried(upstream: Any, node: dict) -> tuple[str, tuple[dict, frozenset[str]], dict[str, bytes]] | None:
    """The end the operation before this one in its branch answered (`ended`, which Step Functions carried
    here as `upstream`) when it is an input of this one: (its id, (its node as _ENDED keeps it, the outputs
    its upload created), its small outputs' bytes by id); None when it is not, or not an end."""
    if not isinstance(upstream, dict) or upstream.get("node_id") not in dependencies(node):
        return None
    if upstream.get("status") not in (NodeRunningStatus.SUCCESS, NodeRunningStatus.RESTORED):
        return None
    outputs, created, inline = upstream.get("outputs"), upstream.get("created") or [], upstream.get("inline") or {}
    if not (isinstance(outputs, list) and all(isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs)
            and isinstance(created, list) and isinstance(inline, dict)):
        return None
    node_id = upstream["node_id"]
    ended = {"_id": node_id, "node_running_status": upstream["status"],
             "outputs": [{"name": o["name"], "resource_id": o.get("resource_id"), "file_type": o.get("file_type")}
                         for o in outputs]}
    return node_id, (ended, frozenset(str(c) for c in created)), inputs.decoded(inline)


def _fresh(created: Iterable[str], outputs: dict[str, str]) -> list[str]:
    """The outputs whose content the upload created, as an end records them: none past CREATED_IDS (their
    readers then look up the cache, as before)."""
    fresh = sorted(set(created) & set(outputs.values()))
    return fresh if len(fresh) <= CREATED_IDS else []


def _answer_ended(node: dict, status: str, outputs: dict[str, str], created: set[str],
                  small: dict[str, str] | None) -> dict:
    """What the next operation of the branch needs of this one's end (its `upstream`): a few ids, and the
    bytes of small outputs, as its node's end records them (well within a state's 256 KB)."""
    return {"node_id": node["_id"], "status": status,
            "outputs": [{"name": entry["name"], "resource_id": outputs.get(entry["name"], entry.get("resource_id")),
                         "file_type": entry.get("file_type")} for entry in node.get("outputs", [])],
            "created": _fresh(created, outputs), "inline": small or {}}


def run_node(graph_id: str, node_id: str, run_id: str, context: Any = None, notify: list[str] | None = None,
             attempt: int = 0, upstream: Any = None) -> dict:
    """Run one operation of a graph run (or restore it from the cache), record it, release its dependents;
    `upstream`: the end of the operation before it in its branch (RunnerEvent.upstream)."""
    started = time.monotonic()
    executors.seal()  # before any user content is in reach: this process holds the role
    executors.prestart()  # the operation's zygote starts while the node is claimed and its inputs fetched
    node, principal = transitions.claim(graph_id, node_id, run_id)
    ahead = Ahead()
    try:
        return _run_claimed(graph_id, node_id, run_id, node, principal, context, notify, attempt, started, ahead,
                            previous=upstream)
    finally:
        ahead.settle()


def _run_claimed(graph_id: str, node_id: str, run_id: str, node: dict, principal: Any, context: Any,
                 notify: list[str] | None, attempt: int, started: float, ahead: Ahead, previous: Any = None) -> dict:
    """run_node once the node is claimed: its inputs, the operation (or its restore), its end (`previous`: the
    end of the operation before it in its branch, as run_node's `upstream`)."""
    holder = permissions.holder(permissions.GRAPH, principal.author)
    entry = cache_key = None
    ok, holdings, partition, created = False, [], graph_items.run_items(graph_id, run_id), set()
    small: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="plynx-") as workdir:
        space = executors.Workspace(workdir)
        try:
            # one read for the inputs' ids and types (none when this runner saw them end, or was told)
            seen = {d: _ENDED[(partition, d)] for d in dependencies(node) if (partition, d) in _ENDED}
            carried = _carried(previous, node)
            if carried is not None and carried[0] not in seen:
                seen[carried[0]] = carried[1]
                _take_inline(carried[2])
            above = inputs.upstream_read(partition, node, {d: ended for d, (ended, _) in seen.items()})
            upstream = above.nodes
            _take_inline(above.contents)
            input_ids = inputs.input_resources(partition, node, upstream)
            cache_key = key(node, input_ids) if cacheable(node) else None
            # inputs known only now may still match an earlier run: restore without running the code (no
            # lookup when an input is content its upstream operation has just created, as this runner saw or
            # as its end says: no earlier run had it)
            fresh = above.created.union(*(created_here for _, created_here in seen.values()))
            new = any(resource_id in fresh for ids in input_ids.values() for resource_id in ids)
            entry = cache.lookup(cache_key, principal) if cache_key and not new else None
            if entry is None:
                room = Room(workdir)
                space = executors.prepare(node, input_ids, workdir,
                                          lambda wanted: _download_all(wanted, room),
                                          inputs.upstream_types(partition, node, upstream))
                ok = executors.execute(node, space, _timeout(node, context),
                                       publish=live_logs.LogPublisher(graph_id, node_id, run_id, holder),
                                       expect=ahead.start if Ahead.allowed(context) else None)
        except Exception as exc:  # the worker's own failure still ends in the node's logs
            logger.exception("Runner failed before the operation finished")
            entry = None
            space.logs.setdefault("worker", os.path.join(workdir, "l_worker"))
            space.worker_log(f"JOB FAILED\n{type(exc).__name__}: {exc}")
            ok = False
        if entry is None:
            try:
                output_reads = _read_outputs(space.outputs) if ok else {}
            except storage.UnsafeFile as exc:
                space.worker_log(f"JOB FAILED\nOutput {exc}")
                ok, output_reads = False, {}
            log_reads = _read_logs(space.logs)  # the worker log is whole only now
            _store([*output_reads.values(), *log_reads.values()], created, ahead)  # the uploads at once
            outputs = {name: read[0] for name, read in output_reads.items()}
            small = _inline(output_reads.values())
            logs = {name: read[0] for name, read in log_reads.items()}
            holdings = _holdings([*outputs.values(), *logs.values()], holder)
    if entry is not None:
        ok, status, outputs, logs = True, NodeRunningStatus.RESTORED, dict(entry.outputs), dict(entry.logs)
    else:
        status = NodeRunningStatus.SUCCESS if ok else NodeRunningStatus.FAILED
    observe.operation_ended(status, started, graph_id, run_id, node_id, attempt)
    if not ok and attempt < retries(node):
        # Step Functions retries it (the node asked)
        transitions.requeue_node(graph_id, node_id, run_id, logs, puts=_with_the_end(holdings, 0))
        _held(holdings)
        raise OperationFailed(f"Operation `{node.get('title')}` ({node_id}) failed, attempt {attempt + 1}")
    stored = cache.entry(cache_key, node, outputs, logs, graph_id, run_id, principal.author) \
        if status == NodeRunningStatus.SUCCESS and cache_key else None
    succeeded = status == NodeRunningStatus.SUCCESS
    _end(graph_id, node_id, run_id, status, outputs, logs, cache.source(entry) if entry is not None else None,
         holdings, stored, created if succeeded else (), small if succeeded else None)
    if not ok:
        transitions.mark_failed_waiting(graph_id, run_id)
        raise OperationFailed(f"Operation `{node.get('title')}` ({node_id}) failed")
    _ended(partition, node, status, outputs, logs, created)
    waits.notify(run_id, node_id, notify or [])
    return {"node_id": node_id, "status": status,
            "ended": _answer_ended(node, status, outputs, created if succeeded else set(), small if succeeded else None)}


@observe.invocation
def handle(payload: dict, context: Any = None) -> dict:
    """Dispatch one Step Functions payload (stepfunctions/contract.py says what each action carries)."""
    event = RunnerEvent.from_payload(payload)
    action = event.action
    if action is Action.RUN:
        return run_node(event.graph_id, event.node_id, event.run_id, context, notify=list(event.notify),
                        attempt=event.attempt, upstream=event.upstream)
    if action is Action.WAIT:
        released = waits.park(event.run_id, event.node_id, event.needs, event.token)
        return {"node_id": event.node_id, "released": released}
    if action is Action.SETTLE:
        settle.settle(event.graph_id, event.run_id, event.error)
        return {"graph_id": event.graph_id, "status": "FAILED_WAITING"}
    if action is Action.OPEN:
        return composite_runs.open_run(event.graph_id, event.parent_graph_id, event.node_id, event.run_id,
                                       event.execution_arn)
    if action is Action.CLOSE:
        return composite_runs.close_run(event.graph_id, event.parent_graph_id, event.node_id, event.run_id,
                                        event.status, list(event.notify), event.error)
    if action is Action.START:
        transitions.mark_graph_running(event.graph_id, event.run_id)
        return {"graph_id": event.graph_id, "status": "RUNNING"}
    settle.finalize(event.graph_id, event.run_id, event.status, event.error)  # Action.FINALIZE
    return {"graph_id": event.graph_id, "status": event.status}


def warm_start() -> None:
    """A process that serves the runner alone (a Lambda container, a Fargate task, a local warm runner)."""
    executors.seal(dedicated=True)
    executors.prestart()


def lambda_handler(event: dict, context: Any) -> dict:
    """AWS Lambda (and the local runtime) entry point."""
    warm_start()
    return handle(event, context)


def _event_from_environment() -> dict:
    """The Fargate task's event: PLYNX_EVENT (JSON), or the compiler's environment overrides."""
    if "PLYNX_EVENT" in os.environ:
        return json.loads(os.environ["PLYNX_EVENT"])
    event = event_from_environment(os.environ)
    return {"action": event.action.value, "graph_id": event.graph_id, "node_id": event.node_id,
            "run_id": event.run_id, "attempt": event.attempt, "notify": list(event.notify)}


def main(argv: list[str] | None = None) -> int:
    """Fargate/CLI entry point: the event is the first argument, or comes from the environment."""
    args = sys.argv[1:] if argv is None else argv
    warm_start()
    event = json.loads(args[0]) if args else _event_from_environment()
    try:
        print(json.dumps(handle(event)))
    except OperationFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0
