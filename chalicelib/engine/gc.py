"""Garbage collection: what no node, kept run or cache entry needs any more, and what a deleted graph left.

One pass (`collect`): it reads every graph header, the graph-nodes table, the library and the cache, and
decides what goes:

- trials past their retention (engine/trials.py: every user's, records, nodes, header and machine), first;
- run records past retention (run_records.expired: the newest `runs_keep`, younger than `runs_keep_days`;
  a graph's current run always stays), with their pointers and their nodes;
- partitions of the graph-nodes table nobody points to, older than the grace period: what a deleted graph
  left (a crash in the middle of a delete), a version a save replaced but did not drop (a crash between the
  flip and the drop), a run without a record that is not the graph's current one;
- S3 content (`resources/`) that no stored node, kept partition or cache entry names, older than the grace
  period (by S3's LastModified) and not held anew (an owner record written within the grace period: an
  upload being saved as a file, a run writing outputs that equal old content);
- state machines made by this stage (their role is this stage's) that no graph's header points to, directly
  or as a child of its machine, older than the grace period, of no running graph, with no running execution
  (asked again right before each delete): what every edit-then-run and every deleted graph left behind.

Every step is idempotent and each delete stands alone, so a pass that stops half way leaves nothing the
next pass does not finish. A reference is any 64-hex string in a stored item (over-counting only keeps).
Cost: a Scan of the graphs, nodes, graph-nodes and cache tables (and of the owners table when more than 25
contents are candidates; a Query each below), a ListObjectsV2 of `resources/` and a ListStateMachines (plus
one DescribeStateMachine per `plynx-` machine): meant for a schedule (daily) and for after a delete, never
for a request's hot path. bench/gc.py: 30 graphs (90 runs), 500 unreferenced resources, 15 machines left
behind, on the local stack at load 16 on 2 cores: a dry run 1.2 s, the pass 1.6 s, a pass with nothing to do 0.6 s.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.enums import GraphRunningStatus
from chalicelib.domain.util import now
from chalicelib.store import aws, run_records
from chalicelib.store import automation as automation_records
from chalicelib.store import schedules as schedule_records
from chalicelib.store.graph_items import RUN_PREFIX, run_items, saved_items
from chalicelib.store.models import CacheModel, GraphModel, GraphNodeModel, NodeModel, OwnerModel, RunModel
from chalicelib.store.settings import SETTINGS
from chalicelib.store.storage import PREFIX

from . import trials

LOG = logging.getLogger(__name__)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_VERSION = re.compile(r"^[^~.]+~\d+~[0-9a-f]+$")  # graph_items.version_items
_ARN = re.compile(r"arn:[\w-]+:states:[\w-]+:\d+:stateMachine:[\w-]+")
MACHINE_PREFIX = "plynx-"
_DELETE_OBJECTS = 1000  # S3 DeleteObjects takes at most 1000 keys a request
_SHOWN = 1000  # a report lists at most this many names of each kind (and counts them all)


def grace_seconds() -> float:
    """How old unreferenced content, partitions and state machines must be to go: PLYNX_GC_GRACE_HOURS, else
    the config's `gc: grace_hours`, else 24 hours (an upload, a save or a run never takes that long)."""
    from chalicelib.domain.config import ConfigError, setting

    value = os.environ.get("PLYNX_GC_GRACE_HOURS") or setting("gc", "grace_hours", 24)
    try:
        hours = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"PLYNX_GC_GRACE_HOURS / gc.grace_hours must be a number, not {value!r}") from exc
    if hours < 0:
        raise ConfigError("PLYNX_GC_GRACE_HOURS / gc.grace_hours must be 0 or more")
    return hours * 3600


@dataclass
class Report:
    """What a pass removed (or, dry, would remove)."""

    dry_run: bool
    grace_seconds: float
    resources: list[str] = field(default_factory=list)
    resource_bytes: int = 0
    run_records: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    state_machines: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "grace_hours": self.grace_seconds / 3600,
                "resources": self.resources[:_SHOWN], "resource_count": len(self.resources),
                "resource_bytes": self.resource_bytes,
                "run_records": self.run_records[:_SHOWN], "run_record_count": len(self.run_records),
                "partitions": self.partitions[:_SHOWN], "partition_count": len(self.partitions),
                "state_machines": self.state_machines[:_SHOWN], "state_machine_count": len(self.state_machines)}


# --- references -----------------------------------------------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    """Every string in a raw DynamoDB item (S, SS, L, M, at any depth)."""
    if isinstance(value, dict):
        for kind, inner in value.items():
            if kind == "S":
                yield inner
            elif kind in ("SS",):
                yield from inner
            elif kind in ("L",):
                for item in inner:
                    yield from _strings(item)
            elif kind == "M":
                for item in inner.values():
                    yield from _strings(item)
            elif not kind.isupper():  # an item: attribute name -> value
                yield from _strings(inner)


def _ids_in(item: dict) -> set[str]:
    return {match for text in _strings(item) for match in _HEX64.findall(text)}


def _scan(table: str, attributes: str | None = None) -> Iterator[dict]:
    """Every raw item of a table (1 MB pages), consistent, so a write that landed before the pass is seen."""
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if attributes:
        kwargs["ProjectionExpression"] = attributes
    for page in aws.client("dynamodb").get_paginator("scan").paginate(**kwargs):
        yield from page.get("Items", [])


def _text(item: dict, name: str) -> str:
    return (item.get(name) or {}).get("S") or ""


# --- which graph-nodes partitions stay -----------------------------------------------------------


@dataclass
class _Partitions:
    """The graph-nodes table grouped by partition: the graph each belongs to, its newest date, its ids."""

    graph_of: dict[str, str] = field(default_factory=dict)
    newest: dict[str, str] = field(default_factory=dict)
    ids: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    records: dict[str, list[RunModel]] = field(default_factory=lambda: defaultdict(list))  # graph -> records
    pointers: dict[str, str] = field(default_factory=dict)  # run id -> graph


def _graph_of_run(run_id: str, pointers: dict[str, str]) -> str:
    # Run ids are `<graph id[:48]>-<stamp>-<hex>` (engine/runs._run_id); a pointer says it for sure.
    return pointers.get(run_id) or run_id.rsplit("-", 2)[0]


def _read_partitions() -> _Partitions:
    found = _Partitions()
    pending_runs: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for item in _scan(SETTINGS.graph_nodes_table):
        partition, key = _text(item, "graph_id"), _text(item, "node_id")
        date = _text(item, "update_date") or _text(item, "start")
        found.newest[partition] = max(found.newest.get(partition, ""), date)
        found.ids[partition] |= _ids_in(item)
        if partition.startswith(run_records.POINTER_PREFIX):
            found.pointers[partition[len(run_records.POINTER_PREFIX):]] = _text(item, "graph")
            found.graph_of[partition] = _text(item, "graph")
        elif partition.startswith(run_records.RUNS_PREFIX):
            graph_id = partition[len(run_records.RUNS_PREFIX):]
            found.graph_of[partition] = graph_id
            found.records[graph_id].append(RunModel.from_raw_data(item))
        elif partition.startswith(RUN_PREFIX):
            pending_runs[partition.split(".", 1)[0][len(RUN_PREFIX):]].append((partition, item))
        elif partition.startswith(schedule_records.PARTITION_PREFIX):  # a graph's schedules
            found.graph_of[partition] = partition[len(schedule_records.PARTITION_PREFIX):]
        elif partition.startswith(schedule_records.POINTER_PREFIX):
            found.graph_of[partition] = _text(item, "graph")
        elif _VERSION.match(partition) or "~" not in partition:  # a saved version; a graph saved before those
            found.graph_of[partition] = partition.split("~", 1)[0].split(".", 1)[0]
        # any other partition (what a later feature keeps in this table) is not the collector's: its ids count
        # as references above, and nothing of it is deleted
    for run_id, partitions in pending_runs.items():
        for partition, _ in partitions:
            found.graph_of[partition] = _graph_of_run(run_id, found.pointers)
    return found


def _headers() -> dict[str, dict]:
    return {_text(item, "_id"): item for item in _scan(SETTINGS.graphs_table)}


@dataclass
class _Plan:
    expired: list[RunModel] = field(default_factory=list)
    doomed: list[str] = field(default_factory=list)  # partitions to delete
    kept_ids: set[str] = field(default_factory=set)


def _plan_partitions(parts: _Partitions, headers: dict[str, dict], before: str) -> _Plan:
    plan = _Plan()
    kept_runs: dict[str, set[str]] = {}
    for graph_id, records in parts.records.items():
        header = headers.get(graph_id)
        if header is None:
            continue  # a deleted graph: its records go with its partitions below
        current = _text(header, "run_id")
        records.sort(key=lambda r: r.run_id, reverse=True)  # newest first, as run_records reads them
        gone = run_records.expired(graph_id, {current} if current else set(), records=records)
        plan.expired.extend(gone)
        kept_runs[graph_id] = {r.run_id for r in records} - {r.run_id for r in gone}
    expired_runs = {r.run_id for r in plan.expired}
    newest_of_graph: dict[str, str] = defaultdict(str)
    for partition, graph_id in parts.graph_of.items():
        newest_of_graph[graph_id] = max(newest_of_graph[graph_id], parts.newest.get(partition, ""))
    for partition, graph_id in parts.graph_of.items():
        header = headers.get(graph_id)
        if header is None:
            # A deleted graph (or a first save not flipped yet: young, so it waits out the grace period).
            if newest_of_graph[graph_id] < before:
                plan.doomed.append(partition)
                continue
        elif not _kept(partition, graph_id, header, kept_runs.get(graph_id, set()), expired_runs, parts, before):
            if not partition.startswith(RUN_PREFIX) or partition.split(".", 1)[0][len(RUN_PREFIX):] not in expired_runs:
                plan.doomed.append(partition)  # an expired run's nodes go with its record
            continue
        elif partition.startswith(run_records.POINTER_PREFIX) and partition[len(run_records.POINTER_PREFIX):] \
                in expired_runs:
            continue  # goes with its record
        plan.kept_ids |= parts.ids[partition]
    return plan


def _kept(partition: str, graph_id: str, header: dict, kept_runs: set[str], expired_runs: set[str],
          parts: _Partitions, before: str) -> bool:
    """Whether a partition of a live graph stays: its saved version, its runs partition, its current run and
    its kept runs (their nodes and pointers); anything else once it is older than the grace period."""
    current = _text(header, "run_id")
    if partition.startswith(run_records.RUNS_PREFIX):
        return True  # its records: expired ones go one by one
    if partition.startswith((schedule_records.PARTITION_PREFIX, schedule_records.POINTER_PREFIX)):
        return True  # a live graph's schedules go only when deleted (DELETE /schedules/{id})
    if partition.startswith(run_records.POINTER_PREFIX):
        # A pointer is written with its record (one transaction) but the Scan may meet it first: it goes only
        # when its run expired (with the record) or its record is really gone (a delete that stopped half way).
        run_id = partition[len(run_records.POINTER_PREFIX):]
        return run_id in kept_runs or run_id == current or run_id in expired_runs \
            or run_records.exists(graph_id, run_id)
    if partition.startswith(RUN_PREFIX):
        run_id = partition.split(".", 1)[0][len(RUN_PREFIX):]
        if run_id in expired_runs:
            return False
        return run_id in kept_runs or run_id == current or parts.newest.get(partition, "") >= before
    saved = _text(header, "nodes") or _text(header, "_id")
    return partition == saved or parts.newest.get(partition, "") >= before


def _drop_partition(partition: str) -> None:
    items = list(GraphNodeModel.query(partition, consistent_read=True, attributes_to_get=["graph_id", "node_id"]))
    with GraphNodeModel.batch_write() as batch:  # 25 items a BatchWriteItem: pynamodb cuts and resends
        for item in items:
            batch.delete(item)


# --- content --------------------------------------------------------------------------------------


def _library_and_cache_ids() -> set[str]:
    ids: set[str] = set()
    for table in (SETTINGS.nodes_table, CacheModel.Meta.table_name):
        for item in _scan(table):
            ids |= _ids_in(item)
    return ids


def _stored_resources() -> Iterator[tuple[str, str, int]]:
    """(id, LastModified as util.now() formats it, size) of every object under `resources/`."""
    paginator = aws.client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=SETTINGS.bucket, Prefix=PREFIX):
        for entry in page.get("Contents", []):
            resource_id = entry["Key"][len(PREFIX):]
            if _HEX64.fullmatch(resource_id):
                stamp = entry["LastModified"]
                yield resource_id, stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z", \
                    entry["Size"]


_QUERY_OWNERS_UP_TO = 25  # candidates: one Query each up to this many; beyond, one Scan of the owners table


def _holders(candidates: set[str]) -> dict[str, list[OwnerModel]]:
    """The owner records of the candidate contents (one Query each for a few, one Scan for many)."""
    found: dict[str, list[OwnerModel]] = defaultdict(list)
    if len(candidates) <= _QUERY_OWNERS_UP_TO:
        for resource_id in sorted(candidates):
            found[resource_id].extend(OwnerModel.query(resource_id, consistent_read=True))
        return found
    for holder in OwnerModel.scan(consistent_read=True):
        if holder.resource_id in candidates:
            found[holder.resource_id].append(holder)
    return found


def _held_anew(holders: list[OwnerModel], before: str) -> bool:
    """A holder recorded it within the grace period (the same bytes uploaded or produced again)."""
    return any((holder.recorded or "") >= before for holder in holders)


def _delete_resources(resource_ids: list[str], holders: dict[str, list[OwnerModel]]) -> None:
    s3 = aws.client("s3")
    for start in range(0, len(resource_ids), _DELETE_OBJECTS):
        chunk = resource_ids[start:start + _DELETE_OBJECTS]
        s3.delete_objects(Bucket=SETTINGS.bucket, Delete={"Objects": [{"Key": PREFIX + i} for i in chunk],
                                                           "Quiet": True})
    with OwnerModel.batch_write() as batch:  # who held them: nothing left to hold (BatchWriteItem: 25 a request)
        for resource_id in resource_ids:
            for holder in holders.get(resource_id, []):
                batch.delete(holder)


# --- state machines -------------------------------------------------------------------------------


def machine_graph(name: str) -> str:
    """The (first 48 characters of the) graph id in a machine's name `plynx-<graph id[:48]>-<hash>`."""
    return name[len(MACHINE_PREFIX):].rsplit("-", 1)[0]


def _ours(sfn: Any, arn: str) -> dict | None:
    """The machine's description if this stage made it (its role is this stage's state machine role)."""
    try:
        described = sfn.describe_state_machine(stateMachineArn=arn)
    except ClientError:
        return None  # deleted meanwhile
    return described if described.get("roleArn") == SETTINGS.state_machine_role_arn else None


def _running(sfn: Any, arn: str) -> bool:
    try:
        return bool(sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING", maxResults=1)["executions"])
    except ClientError:
        return False  # the machine is gone


def _machines() -> Iterator[dict]:
    for page in aws.client("stepfunctions").get_paginator("list_state_machines").paginate():
        for machine in page.get("stateMachines", []):
            if machine["name"].startswith(MACHINE_PREFIX):
                yield machine


def _kept_machines(sfn: Any, headers: dict[str, dict], machines: dict[str, int]) -> tuple[set[str], set[str]]:
    """The machines the headers point to (and the children their definitions start), and the graphs (by their
    first 48 characters) whose run is active: none of their machines goes. `machines`: how many machines each
    graph prefix has; a main machine's definition is read only when its graph has others (its children are
    named for its graph too), so a pass describes few machines, not one per graph."""
    kept: set[str] = set()
    active: set[str] = set()
    for graph_id, header in headers.items():
        if _text(header, "graph_running_status") in GraphRunningStatus.ACTIVE:
            active.add(graph_id[:48])
        arn = _text(header, "state_machine_arn")
        if arn:
            kept.add(arn)
            if machines.get(graph_id[:48], 0) > 1:
                try:
                    kept.update(_ARN.findall(sfn.describe_state_machine(stateMachineArn=arn)["definition"]))
                except ClientError:
                    pass
    return kept, active


def _still_unused(graph_ids: Iterable[str], arn: str) -> bool:
    """Right before a delete: no header of its graph points to it now and that graph is not running."""
    for graph_id in graph_ids:
        try:
            model = GraphModel.get(graph_id, consistent_read=True)
        except GraphModel.DoesNotExist:
            continue
        if model.state_machine_arn == arn or model.graph_running_status in GraphRunningStatus.ACTIVE:
            return False
    return True


def _plan_machines(headers: dict[str, dict], before_seconds: float, graph_id: str | None = None) -> list[dict]:
    sfn = aws.client("stepfunctions")
    machines = list(_machines())
    counts: dict[str, int] = defaultdict(int)
    for machine in machines:
        counts[machine_graph(machine["name"])] += 1
    kept, active = _kept_machines(sfn, headers, counts) if graph_id is None else (set(), set())
    by_prefix = {gid[:48] for gid in headers}
    doomed = []
    for machine in machines:
        prefix = machine_graph(machine["name"])
        if graph_id is not None and prefix != graph_id[:48]:
            continue
        if machine["stateMachineArn"] in kept or prefix in active:
            continue
        age = (now_utc() - machine["creationDate"]).total_seconds()
        if prefix in by_prefix and age < before_seconds:
            continue  # young: an APPROVE may be about to start it
        if _ours(sfn, machine["stateMachineArn"]) is None:
            continue  # another stage's (same account and region, same name prefix)
        doomed.append(machine)
    return doomed


def now_utc() -> Any:
    import datetime as _dt

    return _dt.datetime.now(_dt.timezone.utc)


def _delete_machines(machines: list[dict], report: Report, graph_ids: Iterable[str]) -> None:
    sfn = aws.client("stepfunctions")
    by_prefix: dict[str, list[str]] = defaultdict(list)
    for graph_id in graph_ids:
        by_prefix[graph_id[:48]].append(graph_id)
    for machine in machines:
        arn, prefix = machine["stateMachineArn"], machine_graph(machine["name"])
        if _running(sfn, arn) or not _still_unused(by_prefix.get(prefix) or [prefix], arn):
            continue
        try:
            sfn.delete_state_machine(stateMachineArn=arn)
        except ClientError as exc:
            LOG.warning("state machine %s not deleted: %s", arn, exc)
            continue
        report.state_machines.append(machine["name"])


def drop_machines(graph_id: str) -> list[str]:
    """Delete a deleted graph's state machines (main and children) that run nothing; their names."""
    report = Report(dry_run=False, grace_seconds=0)
    _delete_machines(_plan_machines({}, 0, graph_id=graph_id), report, [graph_id])
    return report.state_machines


# --- a pass ---------------------------------------------------------------------------------------


def collect(dry_run: bool = False, grace: float | None = None) -> Report:
    """One garbage collection pass; `dry_run` only says what it would remove."""
    grace = grace_seconds() if grace is None else grace
    before = now(grace)
    report = Report(dry_run=dry_run, grace_seconds=grace)
    if not dry_run:  # trials past retention go first (records, nodes, header, machine); their outputs below
        trials.expire()
    headers = _headers()
    plan = _plan_partitions(_read_partitions(), headers, before)
    report.run_records = sorted(r.run_id for r in plan.expired)
    report.partitions = sorted(plan.doomed)
    referenced = plan.kept_ids | _library_and_cache_ids()
    candidates = [(resource_id, size) for resource_id, stamp, size in _stored_resources()
                  if resource_id not in referenced and stamp < before]
    holders = _holders({resource_id for resource_id, _ in candidates})
    gone = [(resource_id, size) for resource_id, size in candidates
            if not _held_anew(holders.get(resource_id, []), before)]
    report.resources = sorted(resource_id for resource_id, _ in gone)
    report.resource_bytes = sum(size for _, size in gone)
    machines = _plan_machines(headers, grace)
    if dry_run:
        report.state_machines = sorted(m["name"] for m in machines)
        return report
    run_records.delete(plan.expired)  # record and pointer first, then its nodes
    for partition in plan.doomed:
        if partition.startswith(schedule_records.PARTITION_PREFIX):  # a deleted graph's: EventBridge's go first
            schedule_records.delete_of_graph(partition[len(schedule_records.PARTITION_PREFIX):])
        _drop_partition(partition)
    _delete_resources(report.resources, holders)
    _delete_machines(machines, report, headers)
    report.state_machines.sort()
    LOG.info("garbage collected: %s", {k: v for k, v in report.as_dict().items() if k.endswith(("count", "bytes"))})
    return report


def request_pass() -> None:
    """After a delete: a pass in the background. In the cloud the scheduled function, invoked asynchronously
    (PLYNX_GC_FUNCTION); locally a thread of this process runs the same handler."""
    function = os.environ.get("PLYNX_GC_FUNCTION")
    if function:
        try:
            aws.client("lambda").invoke(FunctionName=function, InvocationType="Event", Payload=b"{}")
        except ClientError as exc:  # the schedule's next pass collects it
            LOG.warning("garbage collection not requested: %s", exc)
        return
    threading.Thread(target=_pass_quietly, name="plynx-gc", daemon=True).start()


_PASS_LOCK = threading.Lock()


def every(interval: float) -> Callable[[], None]:
    """A pass every `interval` seconds in a daemon thread (the local stack's daily rule); returns its stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            _pass_quietly()

    threading.Thread(target=loop, name="plynx-gc-daily", daemon=True).start()
    return stop.set


def _pass_quietly() -> None:
    if not _PASS_LOCK.acquire(blocking=False):
        return  # one is under way; it collects this delete's leftovers, or the next one will
    try:
        collect()
    except Exception:  # noqa: BLE001 - a background pass must not kill the stack; the next one retries
        LOG.exception("garbage collection pass failed")
    finally:
        _PASS_LOCK.release()


# --- deleting a graph -----------------------------------------------------------------------------


def delete_graph(model: GraphModel) -> dict:
    """Delete a graph that is not running: its header first (one conditional write: not running, not saved
    or run since `model` was read), then its runs, versions and state machines. What a crash leaves after
    the header is gone, the next pass finds headerless and finishes."""
    from pynamodb.exceptions import DeleteError

    from chalicelib.domain.errors import ConflictError
    from chalicelib.store.conditions import condition_failed
    from chalicelib.store.graph_items import drop, unchanged

    graph_id = model.id
    try:
        model.delete(condition=unchanged(model) & ~GraphModel.graph_running_status.is_in(*GraphRunningStatus.ACTIVE))
    except DeleteError as exc:
        if not condition_failed(exc):
            raise
        raise ConflictError(f"Graph `{graph_id}` started running or was changed while it was deleted; "
                            "reload it") from exc
    records = list(RunModel.query(run_records.runs_partition(graph_id), consistent_read=True))
    run_records.delete(records)  # record and pointer first, then the run's nodes
    dropped = len(records)
    if model.run_id and model.run_id not in {r.run_id for r in records}:
        drop(run_items(graph_id, model.run_id))
    drop(saved_items(model))
    schedule_records.delete_of_graph(graph_id)  # nothing fires for it once the answer is given
    automation_records.delete_of_graph(graph_id)  # nor its triggers; nobody is told of it any more
    machines = drop_machines(graph_id)
    return {"run_records": dropped, "state_machines": machines}
