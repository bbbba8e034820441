"""Dependency waits: an operation parked in a callback Task is released once all its inputs are done.

Race-free without locks: the parked branch (`park`) and each finishing dependency (`notify`) make one
atomic UpdateItem that returns the whole item. Whoever sees both the token and every dependency done
claims the release with a conditional write (`released` absent), and only the winner calls
SendTaskSuccess, so a branch is released exactly once whichever side comes last. Finished
dependencies are a set, so a retried runner that notifies twice counts once.
"""
from __future__ import annotations

import concurrent.futures
import json
import secrets
import time
from collections.abc import Iterable

from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from chalicelib.store import aws
from chalicelib.store.conditions import condition_failed
from chalicelib.store.models import WaitModel

WAIT_TTL_SECONDS = 14 * 24 * 3600  # a run's waits are useless once it ended; DynamoDB's TTL drops them


def _ready(item: WaitModel) -> bool:
    return bool(item.token) and item.needs is not None and len(item.done or ()) >= item.needs


def _mark() -> int:
    return secrets.randbelow(2**53 - 1) + 1  # a number DynamoDB stores exactly (never 0), this claimant's alone


def _claim(item: WaitModel) -> bool:
    """Claim the wait's release (once per wait); False when someone else did.

    Only a failed condition is someone else's claim (a throttled one raises: the branch would hang), and
    botocore resends a claim whose answer was lost: a claim that finds its own mark is its own.
    """
    mark = _mark()
    try:
        item.update(actions=[WaitModel.released.set(mark)], condition=WaitModel.released.does_not_exist())
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return WaitModel.get(item.run_id, item.node_id, consistent_read=True).released == mark
    return True


def _release(item: WaitModel) -> bool:
    """Claim the release (once per wait) and send the callback; False when someone else did."""
    if not _claim(item):
        return False
    try:
        aws.client("stepfunctions").send_task_success(taskToken=item.token, output=json.dumps({"released": True}))
    except ClientError as exc:
        # The execution ended meanwhile (failed, canceled): nobody waits for this token any more.
        if exc.response["Error"]["Code"] not in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
            raise
    return True


def park(run_id: str, node_id: str, needs: int, token: str) -> bool:
    """The branch of node_id waits on `token` until `needs` dependencies are done; True if released now."""
    item = WaitModel(run_id, node_id)
    item.update(actions=[WaitModel.token.set(token), WaitModel.needs.set(needs),
                         WaitModel.expires.set(int(time.time()) + WAIT_TTL_SECONDS)])
    return _ready(item) and _release(item)


NOTIFY_THREADS = 8


def _count(run_id: str, finished: str, node_id: str) -> bool:
    item = WaitModel(run_id, node_id)
    item.update(actions=[WaitModel.done.add({finished}), WaitModel.expires.set(int(time.time()) + WAIT_TTL_SECONDS)])
    return _ready(item) and _release(item)


def notify(run_id: str, finished: str, dependents: Iterable[str]) -> list[str]:
    """`finished` is done: count it for each dependent waiting in another chain; returns those released.

    Dependents are counted concurrently, so a wide fan-out releases its branches about at once; the
    threads are gone on return (a runner forks operations only while it is single-threaded).
    """
    dependents = list(dependents)
    if len(dependents) <= 1:
        return [node_id for node_id in dependents if _count(run_id, finished, node_id)]
    with concurrent.futures.ThreadPoolExecutor(min(NOTIFY_THREADS, len(dependents))) as pool:
        counted = list(pool.map(lambda node_id: _count(run_id, finished, node_id), dependents))
    return [node_id for node_id, released in zip(dependents, counted) if released]


def fail_parked(run_id: str, error: str, cause: str) -> int:
    """Fail every still-parked wait of a run (the run failed or was canceled), so no branch hangs."""
    count = 0
    for item in WaitModel.query(run_id, consistent_read=True):
        if not item.token or item.released:
            continue
        if not _claim(item):
            continue  # released meanwhile
        try:
            aws.client("stepfunctions").send_task_failure(taskToken=item.token, error=error, cause=cause[:32_000])
        except ClientError:
            pass  # that branch has already been stopped
        count += 1
    return count
