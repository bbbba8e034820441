"""Owner records of resources: who holds a content id, and through what (chalicelib/store/models.OwnerModel).

Writes are idempotent puts (a holder is there or not), so no read comes before them; reads are one
BatchGet for the caller's own records and, for callers who may view others' objects, one Query per kind.
"""
from __future__ import annotations

from collections.abc import Iterable

from chalicelib.domain.util import now

from .models import OwnerModel

_BATCH_GET = 100  # DynamoDB's BatchGetItem limit (pynamodb pages larger lists itself)


def records(resource_ids: Iterable[str | None], holder: str) -> list[OwnerModel]:
    """The records saying `holder` holds each of these contents, not yet written (a caller may write them
    with something else: chalicelib/store/together.py)."""
    stamp = now()  # a fresh holding: the garbage collector leaves this content alone for its grace period
    return [OwnerModel(resource_id, holder, recorded=stamp)
            for resource_id in sorted({resource_id for resource_id in resource_ids if resource_id})]


def record(resource_ids: Iterable[str | None], holder: str) -> None:
    """`holder` holds each of these contents (BatchWriteItem puts: one request per 25 items)."""
    models = records(resource_ids, holder)
    if len(models) == 1:
        models[0].save()
        return
    with OwnerModel.batch_write() as batch:
        for model in models:
            batch.save(model)


def held(resource_ids: Iterable[str], holders: Iterable[str]) -> set[str]:
    """The ids among `resource_ids` that any of `holders` holds."""
    keys = [(resource_id, holder) for resource_id in sorted(set(resource_ids)) for holder in sorted(set(holders))]
    found: set[str] = set()
    for i in range(0, len(keys), _BATCH_GET):
        found.update(item.resource_id for item in OwnerModel.batch_get(keys[i:i + _BATCH_GET], consistent_read=True))
    return found


def holders(resource_id: str, prefix: str, limit: int = 100) -> list[str]:
    """Up to `limit` holders of a content whose name starts with `prefix` (`workflow:`)."""
    return [item.holder for item in OwnerModel.query(resource_id, OwnerModel.holder.startswith(prefix),
                                                       consistent_read=True, limit=limit)]
