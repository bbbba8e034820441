"""Every run status change of a graph or a node: the moves allowed, as a table, and the one conditional write.

A move is one UpdateItem conditioned on the run and on the statuses the item may come from. Only
ConditionalCheckFailedException means someone else moved the item first (`Moved`); anything else
(throttling that outlived botocore's retries, a missing table) is raised (chalicelib/store/conditions.py).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.expressions.condition import Condition

from chalicelib.domain.enums import BaseNodeNames
from chalicelib.domain.enums import GraphRunningStatus as G
from chalicelib.domain.enums import NodeRunningStatus as N
from chalicelib.domain.graph import sub_graph_id, top_graph_id
from chalicelib.domain.permissions import RunPrincipal
from chalicelib.domain.util import now
from chalicelib.store.conditions import condition_failed
from chalicelib.store import run_records, telemetry, together
from chalicelib.store.graph_items import node_from_item, node_items, run_items
from chalicelib.store.models import GraphModel, GraphNodeModel, RunModel

M = TypeVar("M", GraphModel, GraphNodeModel)
NEW = None  # no item yet: a graph's first save, a node of a saved graph or of a queued run


def _table(rows: dict[str | None, set[str]]) -> Mapping[str | None, frozenset[str]]:
    return MappingProxyType({status: frozenset(targets) for status, targets in rows.items()})


# From each status (left), the statuses a node may move to. Not listed: never moves (a final status).
NODE_MOVES = _table({
    NEW:        {N.CREATED, N.STATIC, N.SPECIAL, N.IN_QUEUE, N.RESTORED},     # saved; queued for a run
    N.IN_QUEUE: {N.RUNNING, N.CANCELED},                                      # claimed; ended unrun
    N.RUNNING:  {N.RUNNING, N.IN_QUEUE, N.SUCCESS, N.RESTORED, N.FAILED, N.CANCELED},
})  # RUNNING again: a retried invocation claims it again, and each heartbeat; IN_QUEUE: a retry it asked for

# From each status (left), the statuses a graph may move to.
GRAPH_MOVES = _table({
    NEW:              {G.CREATED},                                            # the first save
    G.CREATED:        {G.CREATED, G.READY},                                   # saved again; APPROVE
    G.SUCCESS:        {G.CREATED, G.READY},
    G.FAILED:         {G.CREATED, G.READY},
    G.CANCELED:       {G.CREATED, G.READY},
    # its execution begins; SUCCESS: every operation was restored (no execution), or the execution ended before
    # its preparation recorded it (the preparation marks the run RUNNING just after StartExecution)
    G.READY:          {G.RUNNING, G.FAILED_WAITING, G.SUCCESS, G.FAILED, G.CANCELED},
    G.RUNNING:        {G.RUNNING, G.FAILED_WAITING, G.SUCCESS, G.FAILED, G.CANCELED},  # again: a retried start
    G.FAILED_WAITING: {G.FAILED, G.CANCELED},                                 # what still ran has ended
})

IDLE = frozenset(status for status, targets in GRAPH_MOVES.items() if G.READY in targets)  # a run may start


class Moved(Exception):
    """Someone else moved the item first (its condition failed): this move did not happen."""


class IllegalMove(ValueError):
    """A move the table does not allow: a bug in the caller, refused before anything is written."""


def sources(table: Mapping[str | None, frozenset[str]], to: str) -> frozenset[str | None]:
    """Every status that may move to `to`."""
    return frozenset(status for status, targets in table.items() if to in targets)


def check(table: Mapping[str | None, frozenset[str]], frm: Iterable[str | None], to: str) -> None:
    """IllegalMove unless the table allows every move from `frm` to `to`."""
    wrong = sorted(str(status) for status in frm if to not in table.get(status, ()))
    if wrong:
        raise IllegalMove(f"{'/'.join(wrong)} may not move to {to}")


def _statuses(frm: str | Iterable[str | None] | None) -> frozenset[str | None]:
    start = frozenset([frm] if frm is None or isinstance(frm, str) else frm)
    if not start:
        raise IllegalMove("a move needs the statuses it comes from")
    return start


def _write(item: M, actions: list, condition: Condition, refused: str, landed: Callable[[M], bool],
           puts: Sequence[Model] = ()) -> M:
    """The conditional write of every move (with `puts` that stand or fall with it: one transaction); returns
    the item as it now is (as written, without `puts`; with them, only its keys: a transaction returns none)."""
    try:
        if puts:
            together.update_with(item, actions, condition, puts)
        else:
            item.update(actions=actions, condition=condition)
        return item
    except (UpdateError, TransactWriteError) as exc:
        if not (together.condition_failed(exc) if isinstance(exc, TransactWriteError) else condition_failed(exc)):
            raise
        # botocore resends a write whose answer was lost (a timeout, a 500): the condition may have failed on
        # our own first attempt. One read tells: an item already as this write leaves it was moved by us.
        try:
            keys = (item.graph_id, item.node_id) if isinstance(item, GraphNodeModel) else (item.id,)
            now_is = type(item).get(*keys, consistent_read=True)
        except DoesNotExist:
            raise Moved(refused) from exc
        if not landed(now_is):
            raise Moved(refused) from exc
        return now_is


def new_node(status: str) -> str:
    """The status of a node item written for the first time (a save, a queued run), checked against the table."""
    check(NODE_MOVES, [NEW], status)
    return status


def move_node(graph_id: str, node_id: str, run_id: str, frm: str | Iterable[str], to: str,
              also: Iterable[Any] = (), puts: Sequence[Model] = (), **fields: Any) -> GraphNodeModel:
    """Move a node of run `run_id` from one of `frm` to `to`, setting `fields` (outputs, logs) with it, and
    `also` (update actions a resent write may have applied already); a final status records its end. `puts`:
    items written in the same transaction (at most together.MAX_ITEMS - 1), only if the move is.

    Returns the item as written; Moved if it was not in `frm` in this run.
    """
    start = _statuses(frm)
    if NEW in start:
        raise IllegalMove("a node item is created by a save or a queued run (new_node), not moved")
    check(NODE_MOVES, start, to)
    item, stamp = GraphNodeModel(run_items(graph_id, run_id), node_id), now()
    actions = [GraphNodeModel.node_running_status.set(to), GraphNodeModel.update_date.set(stamp), *also]
    if to not in NODE_MOVES:  # a final status: the run record's end of this operation (same write)
        actions.append(GraphNodeModel.ended.set(stamp))
    actions += [getattr(GraphNodeModel, name).set(value) for name, value in fields.items()]
    condition = (GraphNodeModel.run_id == run_id) & GraphNodeModel.node_running_status.is_in(*sorted(start))
    return _write(item, actions, condition, f"Node `{node_id}` is not {'/'.join(sorted(start))} in run `{run_id}`",
                  lambda now_is: now_is.run_id == run_id and now_is.node_running_status == to
                  and all(getattr(now_is, name) == value for name, value in fields.items()), puts)


def record_node(graph_id: str, node_id: str, run_id: str, **fields: Any) -> None:
    """Set fields of a node of run `run_id` without moving it (a composite's inputs, its nested execution);
    Moved if the run's nodes are gone (a newer run or a save replaced them)."""
    actions = [getattr(GraphNodeModel, name).set(value) for name, value in fields.items()]
    _write(GraphNodeModel(run_items(graph_id, run_id), node_id), actions, GraphNodeModel.run_id == run_id,
           f"Node `{node_id}` is not in run `{run_id}`", lambda now_is: now_is.run_id == run_id)


def new_run(record: RunModel) -> None:
    """Store a run's record (before the header names the run), READY as the run's first move."""
    check(GRAPH_MOVES, IDLE, G.READY)
    record.run_status = G.READY
    run_records.put(record)
    telemetry.run_started(graph_id=record.graph, run_id=record.run_id)


def _move_record(graph_id: str, run_id: str, to: str, at: str, error: str | None) -> None:
    """The run's record follows its header's move. Conditioned on the statuses a run may come from, so
    records written out of order (two movers racing) still end at the later status; a run without a
    record (queued before records existed) or already past `to` is left alone."""
    actions = [RunModel.run_status.set(to)]
    if to not in G.ACTIVE:
        actions.append(RunModel.end.set(at))
    if error is not None:
        actions.append(RunModel.error.set(error))
    within_run = sorted(status for status in sources(GRAPH_MOVES, to) if status in G.ACTIVE)
    record = RunModel(run_records.runs_partition(graph_id), run_id)
    try:
        record.update(actions=actions, condition=RunModel.run_status.is_in(*within_run))
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return
    if to not in G.ACTIVE:  # the run's end, counted once: the write that ended its record
        telemetry.run_ended(to, record.start, at, graph_id=graph_id, run_id=run_id)


def move_graph(graph_id: str, frm: str | None | Iterable[str | None], to: str, *, run_id: str | None = None,
               actions: Iterable[Any] = (), condition: Condition | None = None, at: str | None = None,
               landed: Callable[[GraphModel], bool] | None = None, error: str | None = None) -> GraphModel:
    """Move a graph from one of `frm` (NEW: it does not exist) to `to` at time `at` (now), in run `run_id` if
    given, with `actions`, an extra `condition` and the run's `error`; Moved if it was not there. Returns the
    header as written. A move in run `run_id` moves the run's record too (after the header: it follows).

    `landed`: how to tell the header this move leaves (default: in `to`, in run `run_id`) when the write
    was resent; a move whose actions make it unique (a new run, a new version) says what marks it."""
    at = at or now()
    if error is not None:
        actions = [*actions, GraphModel.error.set(error)]
    start = _statuses(frm)
    check(GRAPH_MOVES, start, to)
    known = sorted(status for status in start if status is not NEW)
    where = GraphModel.graph_running_status.is_in(*known) if known else None
    if NEW in start:
        where = GraphModel.id.does_not_exist() if where is None else (where | GraphModel.id.does_not_exist())
    if run_id is not None:
        where = where & (GraphModel.run_id == run_id)
    if condition is not None:
        where = where & condition
    if landed is None:
        landed = lambda now_is: now_is.graph_running_status == to and (run_id is None or now_is.run_id == run_id)
    moved = _write(GraphModel(graph_id), [GraphModel.graph_running_status.set(to),
                                          GraphModel.update_date.set(at), *actions], where,
                   f"Graph `{graph_id}` is not {'/'.join(str(s) for s in sorted(start, key=str))}"
                   + (f" in run `{run_id}`" if run_id else ""), landed)
    if run_id is not None:
        _move_record(graph_id, run_id, to, at, error)
    return moved


# --- the moves the engine makes -------------------------------------------------------------------

def mark_graph_running(graph_id: str, run_id: str) -> None:
    """The execution has begun (a run canceled before it began stays canceled); Moved if not this run's."""
    move_graph(graph_id, (G.READY, G.RUNNING), G.RUNNING, run_id=run_id)


def mark_failed_waiting(graph_id: str, run_id: str) -> None:
    """The first failed operation: FAILED_WAITING while operations already running finish.

    `graph_id` may be a composite's sub-graph: the status is its top graph's, the only one a client sees."""
    try:
        move_graph(top_graph_id(graph_id), (G.READY, G.RUNNING), G.FAILED_WAITING, run_id=run_id)
    except Moved:
        pass  # already failing, canceled, or another run


def claim_node(graph_id: str, node_id: str, run_id: str) -> dict:
    """Mark a queued operation RUNNING for this run and return it; a canceled one is never claimed.

    RUNNING may be claimed again: Step Functions retries an invocation that failed transiently.
    """
    return claim(graph_id, node_id, run_id)[0]


def claim(graph_id: str, node_id: str, run_id: str) -> tuple[dict, RunPrincipal]:
    """claim_node, and who the run acts for (read with the claim: no extra request)."""
    # The first claim's time and one more attempt, in the claim's own write (no extra request).
    item = move_node(graph_id, node_id, run_id, (N.IN_QUEUE, N.RUNNING), N.RUNNING, also=[
        GraphNodeModel.started.set(GraphNodeModel.started | now()),
        GraphNodeModel.attempts.set((GraphNodeModel.attempts | 0) + 1)])
    return node_from_item(item), run_principal(graph_id, item)


def run_principal(graph_id: str, item: GraphNodeModel | None) -> RunPrincipal:
    """Who the run of a queued item acts for. An item queued without one (before owners were recorded):
    the graph's author, restoring only their own cache entries."""
    if item is not None and item.run_author:
        return RunPrincipal(item.run_author, bool(item.run_sees_others))
    try:
        author = GraphModel.get(top_graph_id(graph_id), consistent_read=True).author
    except GraphModel.DoesNotExist:
        author = ""
    return RunPrincipal(author, False)


def requeue_node(graph_id: str, node_id: str, run_id: str, logs: dict[str, str], puts: Sequence[Model] = ()) -> None:
    """A failed attempt of an operation that asked for retries: queued again, its logs kept (`puts`: as
    finish_node's)."""
    move_node(graph_id, node_id, run_id, N.RUNNING, N.IN_QUEUE, puts=puts, logs=logs)


def finish_node(graph_id: str, node_id: str, run_id: str, status: str,
                outputs: dict[str, str], logs: dict[str, str], restored_from: dict[str, str] | None = None,
                puts: Sequence[Model] = (), created: Sequence[str] = (), inline: Mapping[str, str] | None = None) -> None:
    """Record a running operation's final status with its output and log resources (not if canceled), and
    for a restore the run its results came from, which outputs' content its upload `created`, and the bytes of
    its small outputs (`inline`, base64 by id); `puts` (who holds those resources, the cache entry) are written
    with it, in one transaction, or not at all."""
    extra: dict[str, Any] = {"restored_from": restored_from} if restored_from else {}
    if created:
        extra["created"] = sorted(created)
    if inline:
        extra["inline"] = dict(inline)
    move_node(graph_id, node_id, run_id, N.RUNNING, status, puts=puts, outputs=outputs, logs=logs, **extra)


def end_nodes(graph_id: str, run_id: str, ends: dict[str, str]) -> list[str]:
    """Move this run's nodes, and those inside its composites, from each status in `ends` to its end
    status; returns the nested executions of the composites it moved (to stop them)."""
    for status, end in ends.items():
        check(NODE_MOVES, [status], end)
    nested = []
    for item in node_items(run_items(graph_id, run_id)):
        if item.run_id != run_id:
            continue
        if item.body.get("base_node_name") == BaseNodeNames.GRAPH:
            nested += end_nodes(sub_graph_id(graph_id, item.node_id), run_id, ends)
            if item.node_running_status in ends and item.execution_arn:
                nested.append(item.execution_arn)
        if item.node_running_status in ends:
            try:
                move_node(graph_id, item.node_id, run_id, item.node_running_status, ends[item.node_running_status])
            except Moved:
                pass  # it moved on meanwhile; its runner records its own end
    return nested


__all__ = [
    "GRAPH_MOVES", "IDLE", "NEW", "NODE_MOVES", "IllegalMove", "Moved", "check", "claim_node", "end_nodes",
    "finish_node", "mark_failed_waiting", "mark_graph_running", "move_graph", "move_node", "new_node", "new_run",
    "record_node", "requeue_node", "sources",
]
