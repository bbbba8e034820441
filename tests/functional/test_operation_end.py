"""An operation's end is one transaction: its node's final status, who holds its results, its cache entry."""
from __future__ import annotations

import secrets
from typing import Any

import pytest
from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.enums import NodeRunningStatus as N
from chalicelib.engine import transitions
from chalicelib.store import together
from chalicelib.store.graph_items import run_items
from chalicelib.store.models import CacheModel, GraphNodeModel, OwnerModel


@pytest.fixture
def run(stack: Any) -> tuple[str, str, str]:
    """A running operation's node in a run of its own (graph id, run id, a word for its results' ids)."""
    word = secrets.token_hex(6)
    graph_id, run_id = f"g{word}", f"g{word}-run"
    GraphNodeModel(run_items(graph_id, run_id), "n", body={"_id": "n"}, run_id=run_id,
                   node_running_status=N.RUNNING).save()
    return graph_id, run_id, word


def _puts(word: str, run_id: str) -> list:
    return [OwnerModel(f"out-{word}", "workflow:alice", recorded="now"),
            OwnerModel(f"log-{word}", "workflow:alice", recorded="now"),
            CacheModel(f"key-{word}", insertion_date="now", outputs={"out": f"out-{word}"}, logs={}, run_id=run_id)]


def _exists(model: Any, *keys: str) -> bool:
    try:
        model.get(*keys, consistent_read=True)
        return True
    except DoesNotExist:
        return False


def test_an_end_writes_its_owners_and_cache_entry_with_it(run: tuple[str, str, str]) -> None:
    graph_id, run_id, word = run
    transitions.finish_node(graph_id, "n", run_id, N.SUCCESS, {"out": f"out-{word}"}, {"log": f"log-{word}"},
                            puts=_puts(word, run_id))
    node = GraphNodeModel.get(run_items(graph_id, run_id), "n", consistent_read=True)
    assert node.node_running_status == N.SUCCESS and node.outputs == {"out": f"out-{word}"} and node.ended
    assert OwnerModel.get(f"out-{word}", "workflow:alice").recorded == "now"
    assert _exists(OwnerModel, f"log-{word}", "workflow:alice")
    assert CacheModel.get(f"key-{word}").outputs == {"out": f"out-{word}"}


def test_a_refused_end_writes_none_of_them(run: tuple[str, str, str]) -> None:
    graph_id, run_id, word = run
    transitions.move_node(graph_id, "n", run_id, N.RUNNING, N.CANCELED)  # canceled while it ran
    with pytest.raises(transitions.Moved):
        transitions.finish_node(graph_id, "n", run_id, N.SUCCESS, {"out": f"out-{word}"}, {"log": f"log-{word}"},
                                puts=_puts(word, run_id))
    assert GraphNodeModel.get(run_items(graph_id, run_id), "n").node_running_status == N.CANCELED
    assert not _exists(OwnerModel, f"out-{word}", "workflow:alice")
    assert not _exists(OwnerModel, f"log-{word}", "workflow:alice") and not _exists(CacheModel, f"key-{word}")


def test_a_retried_attempt_keeps_its_logs_and_their_owners(run: tuple[str, str, str]) -> None:
    graph_id, run_id, word = run
    transitions.requeue_node(graph_id, "n", run_id, {"log": f"log-{word}"}, puts=_puts(word, run_id)[1:2])
    node = GraphNodeModel.get(run_items(graph_id, run_id), "n", consistent_read=True)
    assert node.node_running_status == N.IN_QUEUE and node.logs == {"log": f"log-{word}"}
    assert _exists(OwnerModel, f"log-{word}", "workflow:alice")
    assert not _exists(OwnerModel, f"out-{word}", "workflow:alice")


def _canceled(*codes: str | None) -> Any:
    from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

    cause = VerboseClientError({"Error": {"Code": "TransactionCanceledException", "Message": "canceled"}},
                               "TransactWriteItems",
                               cancellation_reasons=[CancellationReason(code) if code else None for code in codes])
    return TransactWriteError("canceled", cause=cause)


def test_only_a_failed_condition_reads_as_refused_and_a_conflict_is_tried_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert together.condition_failed(_canceled(None, None, "ConditionalCheckFailed"))  # pynamodb sends puts first
    assert not together.condition_failed(_canceled("TransactionConflict", None, None))
    attempts: list[str] = []

    class Transaction:  # another writer's transaction holds one of its items, twice
        def __init__(self, **_: Any) -> None:
            pass

        def __enter__(self) -> "Transaction":
            return self

        def __exit__(self, *exc: Any) -> None:
            attempts.append("sent")
            if len(attempts) <= 2:
                raise _canceled("TransactionConflict", None)

        def update(self, *_: Any, **__: Any) -> None:
            pass

        def save(self, *_: Any, **__: Any) -> None:
            pass

    monkeypatch.setattr(together, "TransactWrite", Transaction)
    monkeypatch.setattr(together.time, "sleep", lambda _: None)
    together.update_with(object(), [], None, [object()])
    assert attempts == ["sent"] * 3


def test_an_upload_says_whether_it_created_the_content(stack: Any) -> None:
    # the runner skips the cache lookup of an operation whose input it has just created (runners/handler.py)
    from chalicelib.store import storage

    data = f"fresh {secrets.token_hex(8)}".encode()
    resource_id = storage.read_private.__globals__["hashlib"].sha256(data).hexdigest()
    assert storage.put_private(resource_id, data, len(data)) is True
    assert storage.put_private(resource_id, data, len(data)) is False  # stored already (412): not created


def test_an_end_with_more_owners_than_a_transaction_takes_writes_them_first(run: tuple[str, str, str]) -> None:
    """Over TransactWriteItems' 100 items (an operation with many outputs), the owner records go first on their
    own, then the end with its cache entry (runners/handler.py _end)."""
    from runners import handler

    graph_id, run_id, word = run
    outputs = {f"o{i}": f"out{i}-{word}" for i in range(together.MAX_ITEMS)}
    holdings = [OwnerModel(resource_id, "workflow:alice", recorded="now") for resource_id in outputs.values()]
    entry = CacheModel(f"key-{word}", insertion_date="now", outputs=outputs, logs={}, run_id=run_id)
    handler._end(graph_id, "n", run_id, N.SUCCESS, outputs, {}, None, holdings, entry)
    node = GraphNodeModel.get(run_items(graph_id, run_id), "n", consistent_read=True)
    assert node.node_running_status == N.SUCCESS and node.outputs == outputs
    assert all(_exists(OwnerModel, resource_id, "workflow:alice") for resource_id in outputs.values())
    assert CacheModel.get(f"key-{word}").outputs == outputs


def test_an_end_records_the_small_outputs_and_created_content_within_bounds(run: tuple[str, str, str]) -> None:
    """What a node's end carries for its readers (the content it created, small outputs' bytes) stays small: its
    item keeps room for its results only (domain/nodes.py MAX_NODE_BYTES)."""
    import base64

    from chalicelib.store import storage
    from runners import handler

    graph_id, run_id, word = run
    small, big = b"s" * handler.INLINE_BYTES, b"b" * (handler.INLINE_BYTES + 1)
    reads = [(storage.content_id(small + bytes([i])), small[:-1] + bytes([i]), len(small)) for i in range(6)]
    reads.append((storage.content_id(big), big, len(big)))
    inline = handler._inline(reads)
    assert len(inline) == handler.INLINE_TOTAL_BYTES // handler.INLINE_BYTES  # the first four, not the big one
    assert all(base64.b64decode(text) == copy for (_, copy, _), text in zip(reads, inline.values()))
    outputs = {f"o{i}": f"{i:064x}" for i in range(handler.CREATED_IDS + 1)}
    handler._end(graph_id, "n", run_id, N.SUCCESS, outputs, {}, None, [], created={f"{0:064x}", "a log"},
                 small=inline)
    node = GraphNodeModel.get(run_items(graph_id, run_id), "n", consistent_read=True)
    assert node.created == [f"{0:064x}"] and node.inline == inline  # outputs only
    GraphNodeModel(run_items(graph_id, run_id), "n", body={"_id": "n"}, run_id=run_id,
                   node_running_status=N.RUNNING).save()
    handler._end(graph_id, "n", run_id, N.SUCCESS, outputs, {}, None, [], created=set(outputs.values()))
    assert GraphNodeModel.get(run_items(graph_id, run_id), "n", consistent_read=True).created is None  # too many
