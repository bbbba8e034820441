"""Trials as stored: a user's trial headers, and retention (api/trials.py starts them; the GC expires them too).

A user keeps their newest PLYNX_TRIALS_KEEP (20) trials, none older than PLYNX_TRIALS_KEEP_DAYS (7; 0: any age):
checked at each new trial of theirs and at each garbage collection pass (engine/gc.py), for everyone. An
expired trial's records, nodes, header and state machine go; its outputs are then referenced by nothing,
and the GC's next pass removes them.
"""
from __future__ import annotations

import logging
import os

from botocore.exceptions import ClientError
from pynamodb.exceptions import DeleteError

from chalicelib.domain import trials
from chalicelib.domain.enums import GraphRunningStatus
from chalicelib.domain.util import now
from chalicelib.store import aws, run_records
from chalicelib.store.graph_items import drop, saved_items
from chalicelib.store.models import GraphModel, RunModel

LOG = logging.getLogger(__name__)


def retention() -> tuple[int, float]:
    """How many trials a user keeps, and for how many days (0: no age limit)."""
    try:
        keep = int(os.environ.get("PLYNX_TRIALS_KEEP") or 20)
        days = float(os.environ.get("PLYNX_TRIALS_KEEP_DAYS") or 7)
    except ValueError as exc:
        LOG.warning("PLYNX_TRIALS_KEEP / PLYNX_TRIALS_KEEP_DAYS are not numbers (%s): 20 and 7 days", exc)
        return 20, 7.0
    return max(keep, 1), max(days, 0.0)


def mine(author: str) -> list[GraphModel]:
    """The author's trial headers, newest first (the author index, filtered to trials)."""
    return list(GraphModel.by_author.query(author, scan_index_forward=False,
                                           filter_condition=GraphModel.listing == trials.LISTING))


def forget(model: GraphModel) -> bool:
    """Delete a trial that is not running: its run records and nodes, its saved nodes, its state machine, its
    header (last, conditional on its status: a trial started meanwhile stays). False when it is running."""
    if model.graph_running_status in GraphRunningStatus.ACTIVE:
        return False
    run_records.delete(list(RunModel.query(run_records.runs_partition(model.id), consistent_read=True)))
    partition = saved_items(model)
    if partition:
        drop(partition)
    if model.state_machine_arn:
        try:
            aws.client("stepfunctions").delete_state_machine(stateMachineArn=model.state_machine_arn)
        except ClientError:
            pass  # already gone; its executions have ended (AWS deletes it once they have)
    try:
        model.delete(condition=GraphModel.graph_running_status.is_in(
            *(set(GraphRunningStatus.ALL) - set(GraphRunningStatus.ACTIVE))) & (GraphModel.listing == trials.LISTING))
    except DeleteError:
        return False
    return True


def expire(author: str | None = None, keep: int | None = None, days: float | None = None) -> int:
    """Forget the trials retention lets go (of one author, or of everyone); returns how many went."""
    default_keep, default_days = retention()
    keep = default_keep if keep is None else keep
    days = default_days if days is None else days
    before = now(days * 86400) if days else None
    if author is not None:
        groups = [mine(author)]
    else:
        by_author: dict[str, list[GraphModel]] = {}
        for model in GraphModel.by_listing.query(trials.LISTING, scan_index_forward=False):
            by_author.setdefault(model.author, []).append(model)
        groups = list(by_author.values())
    count = 0
    for models in groups:
        for index, model in enumerate(models):
            if index >= keep or (before is not None and (model.insertion_date or "") < before):
                count += forget(model)
    return count
