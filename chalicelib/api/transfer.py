"""Export and import: a stack's data as plain JSON plus content files, so it outlives the stack.

The layout of DIR (format 1; README, "Export and import"):

    manifest.json          {"format": "plynx-export", "version": 1, "exported_at", "counts"}
    nodes.jsonl            operations and files, one NodeModel a line
    users.jsonl            users (password hashes, policies, token versions), one UserModel a line
    owners.jsonl           who holds which content, one OwnerModel a line
    graphs/<id>.json       {"graph": GraphModel, "items": {partition: [GraphNodeModel, ...]}}: the header,
                           its saved version's nodes and its last run's (with its composites' partitions)
    resources/<sha256>     the content of every resource the above name, byte for byte

A line is a model's attributes by their python names (`Model.get_attributes()`), JSON attributes as
JSON, so the pynamodb models read them back and check their types; no DynamoDB wire JSON.

Import checks the whole directory (every line, every content file's hash) before it writes anything,
keeps ids, and writes with conditions: an item whose target copy changed later (`update_date`; a
user's `token_version`) is kept and reported, an equal one is left alone. Importing twice changes nothing.
"""
from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import json
import os
import re
from collections.abc import Iterator
from typing import Any

from pynamodb.attributes import Attribute, BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.models import Model

from chalicelib.domain.enums import BaseNodeNames, GraphRunningStatus, NodeRunningStatus
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.util import now
from chalicelib.engine.transitions import GRAPH_MOVES, Moved, end_nodes, move_graph, sources
from chalicelib.store import aws, graph_items, storage
from chalicelib.store.settings import SETTINGS
from chalicelib.store.conditions import condition_failed
from chalicelib.store.models import GraphModel, GraphNodeModel, NodeModel, OwnerModel, UserModel

FORMAT = "plynx-export"
VERSION = 1
MANIFEST = "manifest.json"
TABLES: dict[str, type[Model]] = {"nodes.jsonl": NodeModel, "users.jsonl": UserModel, "owners.jsonl": OwnerModel}
GRAPHS = "graphs"
RESOURCES = "resources"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CHUNK = 1024 * 1024
_THREADS, _IN_FLIGHT = 4, 32  # graphs read at once (botocore clients are thread-safe), graphs held
SEARCH_SNAPSHOTS = "search/"  # chalicelib/store/search.py's Mirror.snapshot_key


class TransferError(Exception):
    """The directory is not an export this code reads (names the file and what is wrong)."""


# ---- items <-> plain dicts, through the models' own attributes ----

def to_plain(item: Model) -> dict:
    """A model's attributes by python name, None left out; JSON attributes stay JSON."""
    return {name: getattr(item, name) for name in type(item).get_attributes()
            if getattr(item, name) is not None}


_TYPES: dict[type[Attribute], tuple[type, ...]] = {UnicodeAttribute: (str,), NumberAttribute: (int, float),
                                                   BooleanAttribute: (bool,)}


def from_plain(model: type[Model], data: Any, where: str) -> Model:
    """A model from a plain dict, its attribute names and types checked (TransferError names `where`)."""
    if not isinstance(data, dict):
        raise TransferError(f"{where}: expected an object, got {type(data).__name__}")
    attributes = model.get_attributes()
    unknown = sorted(set(data) - set(attributes))
    if unknown:
        raise TransferError(f"{where}: unknown field(s) {', '.join(unknown)} for {model.__name__}")
    for name, value in data.items():
        kind = type(attributes[name])
        expected = next((types for base, types in _TYPES.items() if issubclass(kind, base)), None)
        if kind is not JSONAttribute and expected is None:
            raise TransferError(f"{where}: field `{name}` of {model.__name__} cannot be imported")
        if expected and (not isinstance(value, expected) or (bool not in expected and isinstance(value, bool))):
            raise TransferError(f"{where}: field `{name}` must be {expected[0].__name__}")
    item = model(**data)
    try:
        item.serialize()  # checks every non-null attribute is there
    except ValueError as exc:
        raise TransferError(f"{where}: {exc}") from exc
    return item


def resource_ids(value: Any) -> Iterator[str]:
    """Every content id a stored value names (files' outputs, run results, composites' inner files)."""
    if isinstance(value, str):
        if _HEX64.match(value):
            yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from resource_ids(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from resource_ids(inner)


# ---- export ----

def _partitions(model: GraphModel) -> list[str]:
    """The partitions a graph's header names: its saved version, its last run (graph_items.py)."""
    found = [graph_items.saved_items(model)]
    run = graph_items.replaced_items(model)
    if run:
        found.append(run)
    return found


def _graph_items(partition: str) -> dict[str, list[dict]]:
    """A partition's items, and those of the composites in it (`<partition>.<node id>`), by partition."""
    items = [to_plain(item) for item in graph_items.node_items(partition)]
    found = {partition: items} if items else {}
    for item in items:
        if item["body"].get("base_node_name") == BaseNodeNames.GRAPH:
            found.update(_graph_items(f"{partition}.{item['node_id']}"))
    return found


def _graph(header: GraphModel) -> dict:
    items: dict[str, list[dict]] = {}
    for partition in _partitions(header):
        items.update(_graph_items(partition))
    return {"graph": to_plain(header), "items": items}


def _graphs() -> Iterator[dict]:
    """Every graph with its items; a few graphs' queries in flight at once (each is a round trip), at most
    _IN_FLIGHT graphs held in memory."""
    with concurrent.futures.ThreadPoolExecutor(_THREADS) as pool:
        pending: collections.deque[concurrent.futures.Future] = collections.deque()
        for header in GraphModel.scan(consistent_read=True):
            if len(pending) >= _IN_FLIGHT:
                yield pending.popleft().result()
            pending.append(pool.submit(_graph, header))
        while pending:
            yield pending.popleft().result()


def _write_json(path: str, data: Any) -> None:
    """Write a file whole or not at all (a temp file renamed over it)."""
    with open(f"{path}.part", "w", encoding="utf-8") as out:
        json.dump(data, out, indent=1, sort_keys=True)
    os.replace(f"{path}.part", path)


def _hash_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _prepare(directory: str) -> None:
    """An empty or absent DIR, or a former export (overwritten); anything else is refused."""
    if os.path.exists(directory):
        entries = set(os.listdir(directory))
        if entries and MANIFEST not in entries:
            raise TransferError(f"{directory}: not empty and not an export (no {MANIFEST}); choose another directory")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)  # password hashes and every user's data: the operator's eyes only
    os.makedirs(os.path.join(directory, GRAPHS), exist_ok=True)
    os.makedirs(os.path.join(directory, RESOURCES), exist_ok=True)
    for name in os.listdir(os.path.join(directory, GRAPHS)):  # a former export's graphs
        os.remove(os.path.join(directory, GRAPHS, name))
    for name in os.listdir(os.path.join(directory, RESOURCES)):  # what an interrupted export left half-written
        if name.endswith(".part"):
            os.remove(os.path.join(directory, RESOURCES, name))


def export(directory: str) -> dict:
    """Write every graph, operation, file, user and owner record, and their contents, to `directory`."""
    _prepare(directory)
    manifest = os.path.join(directory, MANIFEST)
    if os.path.exists(manifest):
        os.remove(manifest)  # written last: a directory without one is an unfinished export
    referenced: set[str] = set()
    counts: dict[str, int] = {}
    for name, model in TABLES.items():
        count = 0
        with open(os.path.join(directory, f"{name}.part"), "w", encoding="utf-8") as out:
            for item in model.scan(consistent_read=True):  # pynamodb pages under DynamoDB's 1 MB scan pages
                plain = to_plain(item)
                referenced.update(resource_ids(plain))
                out.write(json.dumps(plain, sort_keys=True) + "\n")
                count += 1
        os.replace(os.path.join(directory, f"{name}.part"), os.path.join(directory, name))
        counts[name.split(".")[0]] = count
    counts["graphs"] = counts["graph_items"] = 0
    for plain in _graphs():
        referenced.update(resource_ids(plain))
        _write_json(os.path.join(directory, GRAPHS, f"{plain['graph']['id']}.json"), plain)
        counts["graphs"] += 1
        counts["graph_items"] += sum(len(partition) for partition in plain["items"].values())
    counts["resources"], missing = _export_resources(directory, referenced)
    _write_json(manifest, {"format": FORMAT, "version": VERSION, "exported_at": now(), "counts": counts,
                           "missing_resources": sorted(missing)})
    return {"directory": directory, "counts": counts, "missing_resources": sorted(missing)}


def _export_resources(directory: str, referenced: set[str]) -> tuple[int, set[str]]:
    """Stream each content into resources/<id>, checked against its id; a file there already is kept if
    it hashes to its name. Ids no object has (a 64-hex parameter value, say) are returned."""
    count, missing = 0, set()
    for resource_id in sorted(referenced):
        path = os.path.join(directory, RESOURCES, resource_id)
        if os.path.exists(path) and _hash_file(path) == resource_id:
            count += 1
            continue
        try:
            storage.download_to(resource_id, f"{path}.part")
        except NotFoundError:
            missing.add(resource_id)
            continue
        os.replace(f"{path}.part", path)
        count += 1
    return count, missing


# ---- import ----

def _lines(path: str) -> Iterator[tuple[int, Any]]:
    with open(path, encoding="utf-8") as source:
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise TransferError(f"{path}, line {number}: not JSON ({exc.msg})") from exc


def _read_json(path: str) -> Any:
    """A JSON file of the export; one that does not parse is a TransferError naming it."""
    try:
        with open(path, encoding="utf-8") as source:
            return json.load(source)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TransferError(f"{path}: not JSON ({exc})") from exc


def _read_manifest(directory: str) -> dict:
    path = os.path.join(directory, MANIFEST)
    if not os.path.isfile(path):
        raise TransferError(f"{path}: missing (not an export, or an unfinished one)")
    manifest = _read_json(path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise TransferError(f"{path}: not a PLynx export (`format` is not `{FORMAT}`)")
    if manifest.get("version") != VERSION:
        raise TransferError(f"{path}: format version {manifest.get('version')!r}; this PLynx reads version {VERSION}")
    return manifest


def _table_items(directory: str, name: str) -> Iterator[Model]:
    path = os.path.join(directory, name)
    if not os.path.isfile(path):
        raise TransferError(f"{path}: missing")
    for number, data in _lines(path):
        item = from_plain(TABLES[name], data, f"{path}, line {number}")
        if isinstance(item, NodeModel) and not _NAME.match(item.id):
            raise TransferError(f"{path}, line {number}: `id` must be 1 to 64 letters, digits, `-` or `_`")
        yield item


def _graph_files(directory: str) -> Iterator[tuple[GraphModel, dict[str, list[GraphNodeModel]]]]:
    folder = os.path.join(directory, GRAPHS)
    if not os.path.isdir(folder):
        raise TransferError(f"{folder}: missing")
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not name.endswith(".json") or not _NAME.match(name[:-5]):
            raise TransferError(f"{path}: not a graph file (graphs/<graph id>.json)")
        data = _read_json(path)
        if not isinstance(data, dict) or set(data) != {"graph", "items"} or not isinstance(data["items"], dict):
            raise TransferError(f"{path}: expected {{\"graph\": ..., \"items\": {{partition: [...]}}}}")
        header = from_plain(GraphModel, data["graph"], f"{path}, graph")
        if header.id != name[:-5]:
            raise TransferError(f"{path}: holds graph `{header.id}`, not `{name[:-5]}`")
        partitions: dict[str, list[GraphNodeModel]] = {}
        own = _partitions(header)
        for partition, items in data["items"].items():
            if not any(partition == mine or partition.startswith(f"{mine}.") for mine in own):
                # a graph file writes only its own graph's nodes, never another graph's
                raise TransferError(f"{path}, items `{partition}`: not a partition of graph `{header.id}` "
                                    f"(its header names {', '.join(own)})")
            if not isinstance(items, list):
                raise TransferError(f"{path}, items `{partition}`: expected a list")
            partitions[partition] = [from_plain(GraphNodeModel, item, f"{path}, items `{partition}`[{i}]")
                                     for i, item in enumerate(items)]
            if any(item.graph_id != partition for item in partitions[partition]):
                raise TransferError(f"{path}, items `{partition}`: an item of another partition")
        if graph_items.saved_items(header) not in partitions and header.node_count:
            raise TransferError(f"{path}: the nodes of its saved version (`{graph_items.saved_items(header)}`) "
                                "are missing")
        yield header, partitions


def _resource_files(directory: str) -> list[str]:
    folder = os.path.join(directory, RESOURCES)
    if not os.path.isdir(folder):
        raise TransferError(f"{folder}: missing")
    names = sorted(os.listdir(folder))
    for name in names:
        if not _HEX64.match(name):
            raise TransferError(f"{os.path.join(folder, name)}: not a content file (resources/<sha256>)")
    return names


def check(directory: str) -> dict:
    """Read the whole directory as import will, writing nothing: TransferError names what is wrong."""
    manifest = _read_manifest(directory)
    counts = {name.split(".")[0]: sum(1 for _ in _table_items(directory, name)) for name in TABLES}
    counts["graphs"] = sum(1 for _ in _graph_files(directory))
    names = _resource_files(directory)
    for name in names:
        path = os.path.join(directory, RESOURCES, name)
        actual = _hash_file(path)
        if actual != name:
            raise TransferError(f"{path}: its bytes hash to `{actual}`, not to its name (changed or corrupt); "
                                "nothing was imported")
    counts["resources"] = len(names)
    return {"manifest": manifest, "counts": counts}


class _Report:
    """What import did, by kind: written, unchanged (equal already), kept (the target's is newer or differs)."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        self.kept: list[str] = []
        self.closed: list[str] = []  # graphs whose run was going when exported, ended FAILED here

    def add(self, kind: str, outcome: str, note: str | None = None) -> None:
        self.counts.setdefault(kind, {"written": 0, "unchanged": 0, "kept": 0})[outcome] += 1
        if note:
            self.kept.append(note)


def _put(item: Model, condition: Any) -> bool:
    """A conditional put; False when the condition refused it."""
    try:
        item.save(condition=condition)
        return True
    except PutError as exc:
        if condition_failed(exc):
            return False
        raise


def _current(model: type[Model], item: Model) -> Model | None:
    keys = [getattr(item, name) for name, attribute in model.get_attributes().items()
            if attribute.is_hash_key or attribute.is_range_key]
    try:
        return model.get(*keys, consistent_read=True)
    except DoesNotExist:
        return None


def _import_dated(kind: str, item: NodeModel | GraphModel, report: _Report, label: str) -> bool:
    """Write an item unless the target's copy is as new or newer (update_date); report which."""
    model = type(item)
    if _put(item, model.id.does_not_exist() | (model.update_date < item.update_date)):
        report.add(kind, "written")
        return True
    current = _current(model, item)
    if current is not None and to_plain(current) == to_plain(item):
        report.add(kind, "unchanged")
    else:
        when = current.update_date if current is not None else "?"
        report.add(kind, "kept", f"{label}: the target's copy (updated {when}) is newer than or differs from "
                                 f"the export's ({item.update_date}); kept the target's")
    return False


def _import_user(user: UserModel, report: _Report) -> None:
    """A user is written if absent, or if the export's token version is later (a password change since)."""
    if _put(user, UserModel.username.does_not_exist() | (UserModel.token_version < user.token_version)):
        report.add("users", "written")
        return
    current = _current(UserModel, user)
    if current is not None and to_plain(current) == to_plain(user):
        report.add("users", "unchanged")
    else:
        report.add("users", "kept", f"user `{user.username}`: exists in the target with other fields and no "
                                    "earlier token version; kept the target's")


def _import_graph(header: GraphModel, partitions: dict[str, list[GraphNodeModel]], report: _Report) -> None:
    """Nodes first, then the header that names them, so a reader never follows a header to missing nodes."""
    current = _current(GraphModel, header)
    if current is not None and current.update_date >= header.update_date:
        if to_plain(current) == to_plain(header):
            report.add("graphs", "unchanged")
        else:
            report.add("graphs", "kept", f"graph `{header.id}`: the target's copy (updated {current.update_date}) "
                                         f"is newer than or differs from the export's ({header.update_date}); "
                                         "kept the target's")
        return
    with GraphNodeModel.batch_write() as batch:  # BatchWriteItem: 25 puts a request, pynamodb cuts and resends
        for items in partitions.values():
            for item in items:
                batch.save(item)
    if not _import_dated("graphs", header, report, f"graph `{header.id}`"):
        return
    if current is not None:
        for replaced in set(_partitions(current)) - set(partitions):  # as a save's flip drops them
            graph_items.drop(replaced)
    if header.run_id and header.graph_running_status in GraphRunningStatus.ACTIVE:
        _close_run(header, report)


def _close_run(header: GraphModel, report: _Report) -> None:
    """A run that was going when it was exported: its execution stayed with the source (never stopped from
    here: it may be another stage's), so it ends FAILED in the target, through the transitions table."""
    end_nodes(header.id, header.run_id, {NodeRunningStatus.IN_QUEUE: NodeRunningStatus.CANCELED,
                                         NodeRunningStatus.RUNNING: NodeRunningStatus.FAILED})
    error = {"Error": "Imported", "Cause": "The run was going when it was exported; its execution stayed "
                                           "with the stack it was exported from"}
    try:
        move_graph(header.id, GraphRunningStatus.ACTIVE & sources(GRAPH_MOVES, GraphRunningStatus.FAILED),
                   GraphRunningStatus.FAILED, run_id=header.run_id, actions=[GraphModel.error.set(json.dumps(error))])
    except Moved:
        return
    report.closed.append(header.id)


def _import_resource(directory: str, name: str, report: _Report) -> None:
    """Write-once through storage's put path, checked against the name again as it is sent."""
    if storage.stored_size(name) is not None:  # write-once: what is there under this id is this content
        report.add("resources", "unchanged")
        return
    resource_id, copy, size = storage.read_private(os.path.join(directory, RESOURCES, name))
    if resource_id != name:
        if not isinstance(copy, bytes):
            copy.close()
        raise TransferError(f"{os.path.join(directory, RESOURCES, name)}: changed during the import "
                            f"(now hashes to `{resource_id}`)")
    storage.put_private(resource_id, copy, size)
    report.add("resources", "written")


def _drop_search_snapshots() -> None:
    """Imported items keep their update_date, older than a search snapshot's watermark: without the
    snapshots a process that starts reads the whole index once, and lists them."""
    s3 = aws.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=SETTINGS.bucket, Prefix=SEARCH_SNAPSHOTS):
        for entry in page.get("Contents", []):
            s3.delete_object(Bucket=SETTINGS.bucket, Key=entry["Key"])


def import_(directory: str) -> dict:
    """Check the whole directory, then write it: contents, owner records, users, operations and files, graphs."""
    checked = check(directory)
    report = _Report()
    for name in _resource_files(directory):
        _import_resource(directory, name, report)
    owners = list(_table_items(directory, "owners.jsonl"))
    with OwnerModel.batch_write() as batch:  # idempotent puts: a holder is there or not
        for owner in owners:
            batch.save(owner)
    report.counts["owners"] = {"written": len(owners), "unchanged": 0, "kept": 0}
    for user in _table_items(directory, "users.jsonl"):
        _import_user(user, report)
    for node in _table_items(directory, "nodes.jsonl"):
        _import_dated("nodes", node, report, f"node `{node.id}`")
    for header, partitions in _graph_files(directory):
        _import_graph(header, partitions, report)
    _drop_search_snapshots()
    return {"directory": directory, "exported_at": checked["manifest"].get("exported_at"),
            "counts": report.counts, "kept": report.kept, "closed_runs": report.closed}

