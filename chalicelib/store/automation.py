"""Triggers and notification settings as stored (AutomationModel's items): a webhook trigger is two items
written in one transaction, its lookup by token hash and the graph's own record of it, so revoking or
rotating never leaves a token that still starts runs."""
from __future__ import annotations

from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.errors import ConflictError
from chalicelib.domain.util import now

from .conditions import condition_failed
from .models import AutomationModel
from .settings import SETTINGS

WEBHOOK, TRIGGER = "webhook", "trigger"


def _graph_key(graph_id: str) -> str:
    return f"graph#{graph_id}"


def _connection() -> Connection:
    return Connection(region=SETTINGS.region, host=SETTINGS.endpoint_url)


def webhook_of(graph_id: str) -> AutomationModel | None:
    """The graph's webhook trigger (its record: the token's hash, who made it, when), if any."""
    try:
        return AutomationModel.get(_graph_key(graph_id), WEBHOOK, consistent_read=True)
    except DoesNotExist:
        return None


def trigger_by_hash(digest: str) -> AutomationModel | None:
    """The webhook trigger whose token hashes to `digest`: one GetItem by the hash, the same work whether or
    not it exists (no comparison of secrets in this process, so no timing oracle)."""
    try:
        return AutomationModel.get(f"webhook#{digest}", TRIGGER, consistent_read=True)
    except DoesNotExist:
        return None


def put_webhook(graph_id: str, digest: str, username: str, previous: AutomationModel | None) -> AutomationModel:
    """Make (or rotate to) the trigger with token hash `digest`; the previous token's lookup goes in the same
    transaction. 409 when someone else rotated or revoked it meanwhile."""
    stamp = now()
    record = AutomationModel(_graph_key(graph_id), WEBHOOK, graph_id=graph_id, username=username,
                             token_hash=digest, created=stamp)
    lookup = AutomationModel(f"webhook#{digest}", TRIGGER, graph_id=graph_id, username=username, created=stamp)
    try:
        with TransactWrite(connection=_connection()) as transaction:
            if previous is None:
                transaction.save(record, condition=AutomationModel.key.does_not_exist())
            else:
                transaction.save(record, condition=AutomationModel.token_hash == previous.token_hash)
                transaction.delete(AutomationModel(f"webhook#{previous.token_hash}", TRIGGER))
            transaction.save(lookup, condition=AutomationModel.key.does_not_exist())
    except TransactWriteError as exc:
        raise ConflictError(f"The webhook trigger of graph `{graph_id}` was changed meanwhile; reload it") from exc
    return record


def delete_webhook(graph_id: str, previous: AutomationModel) -> None:
    """Revoke: both items go at once (409 when it was rotated meanwhile)."""
    try:
        with TransactWrite(connection=_connection()) as transaction:
            transaction.delete(AutomationModel(_graph_key(graph_id), WEBHOOK),
                               condition=AutomationModel.token_hash == previous.token_hash)
            transaction.delete(AutomationModel(f"webhook#{previous.token_hash}", TRIGGER))
    except TransactWriteError as exc:
        raise ConflictError(f"The webhook trigger of graph `{graph_id}` was changed meanwhile; reload it") from exc


def note_fired(key: str, item: str, fired: dict[str, Any]) -> None:
    """A trigger's last firing (run id or error), for its owner to see."""
    try:
        AutomationModel(key, item).update(actions=[AutomationModel.data.set(fired)],
                                          condition=AutomationModel.key.exists())
    except UpdateError as exc:  # revoked meanwhile: nothing to note
        if not condition_failed(exc):
            raise


# --- file triggers ------------------------------------------------------------------------------------


def file_triggers(graph_id: str) -> list[AutomationModel]:
    """The graph's file triggers (`graph#<id>`/`file#<node id>`)."""
    return list(AutomationModel.query(_graph_key(graph_id), AutomationModel.item.startswith("file#"),
                                      consistent_read=True))


def watchers(file_id: str) -> list[AutomationModel]:
    """Who watches a file node: one item per graph."""
    return list(AutomationModel.query(f"file#{file_id}", consistent_read=True))


def put_file_trigger(graph_id: str, file_id: str, username: str) -> AutomationModel:
    stamp = now()
    record = AutomationModel(_graph_key(graph_id), f"file#{file_id}", graph_id=graph_id, username=username,
                             created=stamp, data={"file_id": file_id})
    with TransactWrite(connection=_connection()) as transaction:
        transaction.save(record)
        transaction.save(AutomationModel(f"file#{file_id}", graph_id, graph_id=graph_id, username=username,
                                         created=stamp))
    return record


def move_file_trigger(graph_id: str, old_file: str, new_file: str, username: str, fired: dict) -> None:
    """A trigger follows its file to the new version (so the next version fires it again)."""
    stamp = now()
    with TransactWrite(connection=_connection()) as transaction:
        transaction.delete(AutomationModel(_graph_key(graph_id), f"file#{old_file}"))
        transaction.delete(AutomationModel(f"file#{old_file}", graph_id))
        transaction.save(AutomationModel(_graph_key(graph_id), f"file#{new_file}", graph_id=graph_id,
                                         username=username, created=stamp, data={"file_id": new_file, **fired}))
        transaction.save(AutomationModel(f"file#{new_file}", graph_id, graph_id=graph_id, username=username,
                                         created=stamp))


def delete_file_trigger(graph_id: str, file_id: str) -> None:
    with TransactWrite(connection=_connection()) as transaction:
        transaction.delete(AutomationModel(_graph_key(graph_id), f"file#{file_id}"))
        transaction.delete(AutomationModel(f"file#{file_id}", graph_id))


# --- notification settings ----------------------------------------------------------------------------


def settings_of(graph_id: str, username: str) -> AutomationModel | None:
    try:
        return AutomationModel.get(f"notify#{graph_id}", username, consistent_read=True)
    except DoesNotExist:
        return None


def all_settings(graph_id: str) -> list[AutomationModel]:
    """Every user's settings for a graph (the sender's one Query per run end)."""
    return list(AutomationModel.query(f"notify#{graph_id}"))


def put_settings(graph_id: str, username: str, settings: dict, secret: str) -> AutomationModel:
    record = AutomationModel(f"notify#{graph_id}", username, graph_id=graph_id, username=username,
                             data={**settings, "secret": secret}, created=now())
    record.save()
    return record


def delete_settings(graph_id: str, username: str) -> None:
    AutomationModel(f"notify#{graph_id}", username).delete()


def delete_of_graph(graph_id: str) -> int:
    """A deleted graph's triggers (and their lookups: its token is a 404 at once) and everyone's settings."""
    gone = 0
    for record in AutomationModel.query(_graph_key(graph_id), consistent_read=True):
        if record.item == WEBHOOK and record.token_hash:
            AutomationModel(f"webhook#{record.token_hash}", TRIGGER).delete()
        elif record.item.startswith("file#"):
            AutomationModel(record.item, graph_id).delete()
        record.delete()
        gone += 1
    for record in AutomationModel.query(f"notify#{graph_id}", consistent_read=True):
        record.delete()
        gone += 1
    return gone
