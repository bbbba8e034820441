"""Run records (the seed's `runs`): what a run was, kept after newer runs and saves, in the graph-nodes table.

A graph's records are the items of its runs partition (`runs~<graph id>`), one per run keyed by run id (a
graph's run ids sort by their start, so a query reads newest first); `runid~<run id>` points from a run id
to its graph. The run's nodes stay in the run's own partition (graph_items.run_items), written by the engine.
Status fields of a record change only through chalicelib/engine/transitions.py.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.util import now

from .graph_items import drop, replaced_items, run_items
from .models import GraphModel, RunModel, RunPointerModel
from .settings import SETTINGS

# `~` is never in an id (domain.util.check_id): neither partition is a graph's, a version's or a run's nodes.
RUNS_PREFIX = "runs~"
POINTER_PREFIX = "runid~"
POINTER_KEY = "~"


def runs_partition(graph_id: str) -> str:
    return f"{RUNS_PREFIX}{graph_id}"


def new_record(graph_id: str, run_id: str, **fields: object) -> RunModel:
    """A record not yet stored; the engine gives it its first status (transitions.new_run)."""
    return RunModel(runs_partition(graph_id), run_id, graph=graph_id, **fields)


@functools.cache
def _connection() -> Connection:
    return Connection(region=SETTINGS.region, host=SETTINGS.endpoint_url)


def put(record: RunModel) -> None:
    """Store a new record and its pointer in one request (TransactWriteItems): a listed run is always found
    by its id, and APPROVE pays one round trip for both."""
    with TransactWrite(connection=_connection()) as transaction:
        transaction.save(RunPointerModel(f"{POINTER_PREFIX}{record.run_id}", POINTER_KEY, graph=record.graph))
        transaction.save(record, condition=RunModel.run_id.does_not_exist())


def find(run_id: str) -> RunModel:
    """A run's record by its id alone, or 404 (the same answer whether or not someone else's run has it)."""
    if not isinstance(run_id, str) or "~" in run_id or not 0 < len(run_id) <= 80:  # an execution name's 80
        raise NotFoundError(f"Run `{run_id}` not found")
    try:
        graph_id = RunPointerModel.get(f"{POINTER_PREFIX}{run_id}", POINTER_KEY, consistent_read=True).graph
        return RunModel.get(runs_partition(graph_id), run_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFoundError(f"Run `{run_id}` not found") from exc


def exists(graph_id: str, run_id: str) -> bool:
    """Whether a run has a record (a run queued before records existed has none)."""
    try:
        RunModel.get(runs_partition(graph_id), run_id, consistent_read=True, attributes_to_get=["node_id"])
        return True
    except DoesNotExist:
        return False


def replaced_run(model: GraphModel) -> tuple[str, str] | None:
    """The partition and id of the run a header names, which a new run or a save replaces (none before a
    run, or for a graph saved before versions had partitions: its run is in its version's partition)."""
    partition = replaced_items(model)
    return (partition, model.run_id) if partition and model.run_id else None


def unrecorded(model: GraphModel) -> str | None:
    """The partition of the header's run if it has no record (queued before records existed): a save or a
    new run drops it as before; a recorded run is kept (retention lets it go)."""
    replaced = replaced_run(model)
    return replaced[0] if replaced and not exists(model.id, replaced[1]) else None


def page(graph_id: str, offset: int, per_page: int) -> tuple[list[RunModel], int]:
    """A page of a graph's records, newest first, and how many there are (DynamoDB has no offset: the
    query reads past the first `offset`; retention keeps a graph's records few)."""
    found = list(RunModel.query(runs_partition(graph_id), scan_index_forward=False, consistent_read=True,
                                limit=offset + per_page))
    total = RunModel.count(runs_partition(graph_id), consistent_read=True)
    return found[offset:offset + per_page], total


def _newest_first(graph_id: str) -> list[RunModel]:
    return list(RunModel.query(runs_partition(graph_id), scan_index_forward=False, consistent_read=True))


def expired(graph_id: str, keep: set[str], newest: int | None = None, days: float | None = None,
            records: list[RunModel] | None = None) -> list[RunModel]:
    """The records retention lets go: past the newest `newest`, or older than `days`; never those in `keep`."""
    newest = SETTINGS.runs_keep if newest is None else newest
    days = SETTINGS.runs_keep_days if days is None else days
    before = now(days * 86400) if days else None
    gone = []
    for index, record in enumerate(_newest_first(graph_id) if records is None else records):
        if record.run_id in keep:
            continue
        if index >= newest or (before is not None and record.start < before):
            gone.append(record)
    return gone


def retain(graph_id: str, current: str, replaced: tuple[str, str] | None = None) -> int:
    """After a new run (one query): forget the runs retention no longer keeps, never `current`, and drop
    the nodes of the run it `replaced` if that one has no record (queued before records existed)."""
    records = _newest_first(graph_id)
    if replaced and replaced[1] not in {record.run_id for record in records}:
        drop(replaced[0])
    return delete(expired(graph_id, {current}, records=records))


def delete(records: Iterable[RunModel]) -> int:
    """Forget runs: the record and its pointer first (a reader gets a 404, never half a run), then their
    nodes; returns how many."""
    count = 0
    for record in records:
        record.delete()
        RunPointerModel(f"{POINTER_PREFIX}{record.run_id}", POINTER_KEY).delete()
        drop(run_items(record.graph, record.run_id))
        count += 1
    return count
