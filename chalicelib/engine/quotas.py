"""Per-user quotas at APPROVE, and the concurrent-runs slots a run holds until it ends.

A user's running runs are one DynamoDB item holding the set of their `graph_id/run_id`s. APPROVE adds
its run only while the set is smaller than the cap, in one conditional UpdateItem, so two APPROVEs
cannot both take the last slot. Whatever ends the run removes it (settle.finalize, runs.cancel_run,
the execution-ended event); removing is idempotent, so a run ended twice frees one slot. A slot that
was never freed (a process killed in between) is found stale by the next APPROVE that meets a full
set, which checks each entry against its graph and drops the runs that have ended.
"""
from __future__ import annotations

import logging

from pynamodb.exceptions import DoesNotExist, PynamoDBException, UpdateError
from pynamodb.expressions.condition import size

import stepfunctions
from chalicelib.domain import quotas as caps_of
from chalicelib.domain.enums import GraphRunningStatus
from chalicelib.domain.errors import BadRequestError
from chalicelib.store.conditions import condition_failed
from chalicelib.store.models import GraphModel, QuotaModel

LOG = logging.getLogger(__name__)


def parameter_problems(graph: dict, user: str) -> tuple[list[dict], list[str]]:
    """NODE entries for `_timeout`/`_retries` over this user's caps, and a sentence for each."""
    caps = caps_of.capped(user)
    if caps is None:
        return [], []
    return caps_of.parameter_problems(graph, caps, stepfunctions.placement)


def check_size(graph: dict, user: str) -> None:
    """A 400 naming `operations_per_graph` when the graph is bigger than this user may run."""
    caps = caps_of.capped(user)
    if caps is not None:
        caps_of.check_size(graph, caps)


def _entry(graph_id: str, run_id: str) -> str:
    return f"{graph_id}/{run_id}"


def _add(user: str, entry: str, cap: int) -> bool:
    try:
        QuotaModel(user).update(
            actions=[QuotaModel.runs.add({entry})],
            condition=QuotaModel.runs.does_not_exist() | QuotaModel.runs.contains(entry) | (size(QuotaModel.runs) < cap),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _ended(entry: str) -> bool:
    """Whether a held slot's run is over: its graph is gone, has a newer run, or this run is not active.

    Run ids of one graph sort by their start time (runs._run_id), so a newer run is a greater id; a slot
    whose run is newer than the graph's (an APPROVE between its slot and its queueing) is kept.
    """
    graph_id, _, run_id = entry.partition("/")
    try:
        model = GraphModel.get(graph_id, consistent_read=True)
    except DoesNotExist:
        return True
    if model.run_id == run_id:
        return model.graph_running_status not in GraphRunningStatus.ACTIVE
    return (model.run_id or "") > run_id


def acquire(user: str, graph_id: str, run_id: str) -> str | None:
    """Take one of the user's concurrent-run slots for this run; the user to release it for, or None when
    the user is exempt. A 400 naming `concurrent_runs` when all are taken by runs still going."""
    caps = caps_of.capped(user)
    if caps is None:
        return None
    entry = _entry(graph_id, run_id)
    if caps.concurrent_runs > 0 and _add(user, entry, caps.concurrent_runs):
        return str(user)
    try:
        held = QuotaModel.get(str(user), consistent_read=True).runs or set()
    except DoesNotExist:
        held = set()
    stale = {other for other in held if _ended(other)}
    if stale:
        QuotaModel(str(user)).update(actions=[QuotaModel.runs.delete(stale)])
        if _add(user, entry, caps.concurrent_runs):
            return str(user)
    going = len(held - stale)
    raise BadRequestError(f"`{user}` has {going} run(s) going, the quota `concurrent_runs` "
                          f"({caps.concurrent_runs}): wait for one to end or cancel one")


def release(user: str | None, graph_id: str, run_id: str) -> None:
    """Free the run's slot (nothing when the run held none, or was freed already)."""
    if not user:
        return
    try:
        QuotaModel(user).update(actions=[QuotaModel.runs.delete({_entry(graph_id, run_id)})],
                                condition=QuotaModel.username.exists())
    except UpdateError as exc:
        if not condition_failed(exc):  # else the user holds no slot at all: nothing to free
            LOG.warning("Could not free the run slot of %s/%s for %s: %s", graph_id, run_id, user, exc)
    except PynamoDBException as exc:
        # The run has ended whatever this says; the next APPROVE that finds the set full reclaims the slot.
        LOG.warning("Could not free the run slot of %s/%s for %s: %s", graph_id, run_id, user, exc)
