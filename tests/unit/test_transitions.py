"""The state-transition table, and its one write path, without moto: botocore's Stubber answers DynamoDB.

Every allowed move is one UpdateItem conditioned on the statuses it comes from; every refused one is
refused before anything is written; only ConditionalCheckFailedException reads as "someone else moved it".
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from pynamodb.exceptions import UpdateError

from chalicelib.domain.enums import GraphRunningStatus as G
from chalicelib.domain.enums import NodeRunningStatus as N
from chalicelib.engine import transitions, waits
from chalicelib.engine.transitions import GRAPH_MOVES, NEW, NODE_MOVES, IllegalMove, Moved
from chalicelib.store.models import GraphModel, GraphNodeModel, RunModel, WaitModel

NODE_STATUSES = [N.STATIC, N.CREATED, N.READY, N.IN_QUEUE, N.RUNNING, N.SUCCESS, N.RESTORED, N.FAILED,
                 N.FAILED_WAITING, N.CANCELED, N.SPECIAL]
GRAPH_STATUSES = sorted(G.ALL)

# The specification, written out once more: changing the table means changing this.
NODE_ALLOWED = {
    (NEW, N.CREATED), (NEW, N.STATIC), (NEW, N.SPECIAL), (NEW, N.IN_QUEUE), (NEW, N.RESTORED),
    (N.IN_QUEUE, N.RUNNING), (N.IN_QUEUE, N.CANCELED),
    (N.RUNNING, N.RUNNING), (N.RUNNING, N.IN_QUEUE), (N.RUNNING, N.SUCCESS), (N.RUNNING, N.RESTORED),
    (N.RUNNING, N.FAILED), (N.RUNNING, N.CANCELED),
}
GRAPH_ALLOWED = {
    (NEW, G.CREATED),
    *((idle, target) for idle in (G.CREATED, G.SUCCESS, G.FAILED, G.CANCELED) for target in (G.CREATED, G.READY)),
    (G.READY, G.RUNNING), (G.READY, G.FAILED_WAITING), (G.READY, G.FAILED), (G.READY, G.CANCELED),
    (G.READY, G.SUCCESS),  # every operation restored: no execution; or the execution ended before it was recorded
    (G.RUNNING, G.RUNNING), (G.RUNNING, G.FAILED_WAITING), (G.RUNNING, G.SUCCESS), (G.RUNNING, G.FAILED),
    (G.RUNNING, G.CANCELED),
    (G.FAILED_WAITING, G.FAILED), (G.FAILED_WAITING, G.CANCELED),
}
NODE_PAIRS = list(itertools.product([NEW, *NODE_STATUSES], NODE_STATUSES))
GRAPH_PAIRS = list(itertools.product([NEW, *GRAPH_STATUSES], GRAPH_STATUSES))


def _id(pair: tuple[str | None, str]) -> str:
    return f"{pair[0] or 'NEW'}->{pair[1]}"


# --- the table as data -----------------------------------------------------------------------------

@pytest.mark.parametrize("pair", NODE_PAIRS, ids=_id)
def test_the_node_table_allows_exactly_the_specified_moves(pair: tuple[str | None, str]) -> None:
    frm, to = pair
    if pair in NODE_ALLOWED:
        transitions.check(NODE_MOVES, [frm], to)
    else:
        with pytest.raises(IllegalMove):
            transitions.check(NODE_MOVES, [frm], to)


@pytest.mark.parametrize("pair", GRAPH_PAIRS, ids=_id)
def test_the_graph_table_allows_exactly_the_specified_moves(pair: tuple[str | None, str]) -> None:
    frm, to = pair
    if pair in GRAPH_ALLOWED:
        transitions.check(GRAPH_MOVES, [frm], to)
    else:
        with pytest.raises(IllegalMove):
            transitions.check(GRAPH_MOVES, [frm], to)


def test_what_a_run_ends_with_never_moves_again() -> None:
    for status in (N.SUCCESS, N.RESTORED, N.FAILED, N.CANCELED, N.STATIC, N.SPECIAL, N.CREATED):
        assert not any(frm == status for frm, _ in NODE_ALLOWED)
        assert status not in NODE_MOVES


def test_an_active_graph_is_neither_saved_nor_queued_again() -> None:
    for status in G.ACTIVE:
        assert not GRAPH_MOVES[status] & {G.CREATED, G.READY}
    assert transitions.IDLE == {G.CREATED, G.SUCCESS, G.FAILED, G.CANCELED}


def test_a_move_from_several_statuses_needs_each_of_them_allowed() -> None:
    transitions.check(GRAPH_MOVES, G.ACTIVE, G.CANCELED)
    with pytest.raises(IllegalMove, match="FAILED_WAITING"):
        transitions.check(GRAPH_MOVES, G.ACTIVE, G.SUCCESS)
    with pytest.raises(IllegalMove):
        transitions.move_node("g", "n", "r", [], N.RUNNING)


# --- the write path --------------------------------------------------------------------------------

class Dynamo:
    """Stubbed DynamoDB clients of the tables the engine writes, and the UpdateItems they received."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.stubs: dict[type, Stubber] = {}
        for model in (GraphModel, GraphNodeModel, WaitModel, RunModel):
            monkeypatch.setattr(model, "_connection", None)  # a fresh connection (and client) for this test
            client = model._get_connection().connection.client
            client.meta.events.register_first(
                "before-parameter-build.dynamodb.*", lambda params, table=model, **_: self.calls.append((table, params)))
            self.stubs[model] = Stubber(client)
            self.stubs[model].activate()

    def updated(self, model: type, attributes: dict[str, Any] | None = None) -> None:
        self.stubs[model].add_response("update_item", {"Attributes": attributes or {}})

    def error(self, model: type, code: str, operation: str = "update_item") -> None:
        self.stubs[model].add_client_error(operation, service_error_code=code, http_status_code=400)

    def check_done(self) -> None:
        try:
            for stub in self.stubs.values():
                stub.assert_no_pending_responses()
        finally:  # a failed test leaves nothing queued for the next one
            for stub in self.stubs.values():
                stub._queue.clear()
            self.calls.clear()

    def close(self) -> None:
        for stub in self.stubs.values():
            stub.deactivate()


@pytest.fixture(scope="module")
def stubbed_dynamo() -> Iterator[Dynamo]:
    with pytest.MonkeyPatch.context() as monkeypatch:  # clients are slow to build: one set for the module
        stubbed = Dynamo(monkeypatch)
        yield stubbed
        stubbed.close()


@pytest.fixture
def dynamo(stubbed_dynamo: Dynamo) -> Iterator[Dynamo]:
    stubbed_dynamo.calls.clear()
    yield stubbed_dynamo
    stubbed_dynamo.check_done()


def _value(value: dict) -> str:
    return repr(next(iter(value.values())))


def readable(params: dict) -> tuple[str, str]:
    """An UpdateItem's update and condition with the names and values put back in."""
    names, values = params.get("ExpressionAttributeNames", {}), params.get("ExpressionAttributeValues", {})

    def fill(expression: str) -> str:
        expression = re.sub(r"#\w+", lambda m: names[m.group(0)], expression)
        return re.sub(r":\w+", lambda m: _value(values[m.group(0)]), expression)

    return fill(params["UpdateExpression"]), fill(params.get("ConditionExpression", ""))


def _item(status: str) -> dict:
    return {"graph_id": {"S": "g"}, "node_id": {"S": "n"}, "node_running_status": {"S": status},
            "run_id": {"S": "r"}, "body": {"S": '{"_id": "n", "outputs": [], "logs": []}'}}


@pytest.mark.parametrize("pair", sorted((p for p in NODE_ALLOWED if p[0] is not NEW), key=_id), ids=_id)
def test_an_allowed_node_move_is_one_update_conditioned_on_run_and_status(dynamo: Dynamo, pair: tuple) -> None:
    frm, to = pair
    dynamo.updated(GraphNodeModel, _item(to))
    item = transitions.move_node("g", "n", "r", frm, to, logs={"worker": "abc"})
    assert item.node_running_status == to
    [(model, params)] = dynamo.calls
    update, condition = readable(params)
    assert model is GraphNodeModel and params["Key"] == {"graph_id": {"S": "run~r"}, "node_id": {"S": "n"}}
    assert f"node_running_status = '{to}'" in update and "logs = " in update and "update_date = " in update
    assert condition == f"(run_id = 'r' AND node_running_status IN ('{frm}'))"


@pytest.mark.parametrize("pair", sorted((p for p in NODE_PAIRS if p not in NODE_ALLOWED), key=_id), ids=_id)
def test_a_refused_node_move_writes_nothing(dynamo: Dynamo, pair: tuple) -> None:
    frm, to = pair
    with pytest.raises(IllegalMove):
        transitions.move_node("g", "n", "r", frm, to)
    assert dynamo.calls == []


def test_a_node_item_is_created_by_new_node_not_moved(dynamo: Dynamo) -> None:
    assert transitions.new_node(N.IN_QUEUE) == N.IN_QUEUE
    with pytest.raises(IllegalMove):
        transitions.new_node(N.RUNNING)
    with pytest.raises(IllegalMove):
        transitions.move_node("g", "n", "r", NEW, N.CREATED)
    assert dynamo.calls == []


@pytest.mark.parametrize("pair", sorted(GRAPH_ALLOWED, key=_id), ids=_id)
def test_an_allowed_graph_move_is_one_update_conditioned_on_status(dynamo: Dynamo, pair: tuple) -> None:
    frm, to = pair
    dynamo.updated(GraphModel)
    if frm is not NEW:
        dynamo.updated(RunModel)
    transitions.move_graph("g", frm, to, run_id=None if frm is NEW else "r")
    (model, params), *record = dynamo.calls
    update, condition = readable(params)
    assert model is GraphModel and params["Key"] == {"_id": {"S": "g"}}
    assert f"graph_running_status = '{to}'" in update
    if frm is NEW:
        assert condition == "attribute_not_exists (_id)" and not record
    else:
        assert condition == f"(graph_running_status IN ('{frm}') AND run_id = 'r')"
        # the run's record follows, from any status a run may come from (movers racing end at the later one)
        [(model, params)] = record
        update, condition = readable(params)
        assert model is RunModel and params["Key"] == {"graph_id": {"S": "runs~g"}, "node_id": {"S": "r"}}
        assert f"run_status = '{to}'" in update and ("end = " in update) == (to not in G.ACTIVE)
        sources = sorted(s for s in transitions.sources(GRAPH_MOVES, to) if s in G.ACTIVE)
        assert condition == f"run_status IN ({', '.join(repr(s) for s in sources)})"


def test_a_record_already_past_the_move_is_left_alone(dynamo: Dynamo) -> None:
    dynamo.updated(GraphModel)
    dynamo.error(RunModel, "ConditionalCheckFailedException")
    transitions.mark_failed_waiting("g", "r")  # the header moved; the record had ended meanwhile: no error


def test_a_claim_records_the_first_start_and_counts_the_attempt_in_the_same_write(dynamo: Dynamo) -> None:
    dynamo.updated(GraphNodeModel, dict(_item(N.RUNNING), run_author={"S": "a"}))
    transitions.claim_node("g", "n", "r")
    [(_, params)] = dynamo.calls
    update, _ = readable(params)
    assert "started = if_not_exists (started, " in update and "attempts = if_not_exists (attempts, '0') + '1'" in update
    assert "ended" not in update
    dynamo.calls.clear()
    dynamo.updated(GraphNodeModel, _item(N.SUCCESS))
    transitions.finish_node("g", "n", "r", N.SUCCESS, {}, {})
    update, _ = readable(dynamo.calls[0][1])
    assert "ended = " in update and "attempts" not in update


@pytest.mark.parametrize("pair", sorted((p for p in GRAPH_PAIRS if p not in GRAPH_ALLOWED), key=_id), ids=_id)
def test_a_refused_graph_move_writes_nothing(dynamo: Dynamo, pair: tuple) -> None:
    frm, to = pair
    with pytest.raises(IllegalMove):
        transitions.move_graph("g", frm, to)
    assert dynamo.calls == []


def test_only_a_failed_condition_means_someone_else_moved_it(dynamo: Dynamo) -> None:
    dynamo.error(GraphNodeModel, "ConditionalCheckFailedException")
    dynamo.stubs[GraphNodeModel].add_response("get_item", {"Item": dict(_item(N.CANCELED))})
    with pytest.raises(Moved, match="not IN_QUEUE/RUNNING in run `r`"):
        transitions.claim_node("g", "n", "r")
    dynamo.error(GraphModel, "ConditionalCheckFailedException")
    dynamo.stubs[GraphModel].add_response("get_item", {})  # no such graph
    transitions.mark_failed_waiting("g", "r")  # already failing, canceled, or another run: nothing to do


def test_a_failure_inside_a_composite_marks_its_top_graph_failed_waiting(dynamo: Dynamo) -> None:
    """The runner reports a composite's inner operation under its sub-graph id; clients watch the top graph."""
    dynamo.updated(GraphModel)
    dynamo.updated(RunModel)
    transitions.mark_failed_waiting("g.c1.c2", "r")
    (model, params), (record, record_params) = dynamo.calls
    assert record is RunModel and record_params["Key"]["graph_id"] == {"S": "runs~g"}
    update, condition = readable(params)
    assert model is GraphModel and params["Key"] == {"_id": {"S": "g"}}
    assert f"graph_running_status = '{G.FAILED_WAITING}'" in update and "run_id = 'r'" in condition


def test_a_resent_move_whose_first_attempt_landed_is_done_not_moved(dynamo: Dynamo) -> None:
    """botocore resends a write whose answer was lost; the resend fails the condition on our own first write."""
    logs = {"worker": "abc"}
    dynamo.error(GraphNodeModel, "ConditionalCheckFailedException")
    dynamo.stubs[GraphNodeModel].add_response("get_item", {"Item": dict(_item(N.SUCCESS), logs={"S": '{"worker": "abc"}'},
                                                                       outputs={"S": "{}"})})
    transitions.finish_node("g", "n", "r", N.SUCCESS, {}, logs)
    assert [params.get("ConsistentRead") for _, params in dynamo.calls] == [None, True]
    dynamo.calls.clear()
    dynamo.error(GraphNodeModel, "ConditionalCheckFailedException")  # SUCCESS, but with other logs: not ours
    dynamo.stubs[GraphNodeModel].add_response("get_item", {"Item": dict(_item(N.SUCCESS), logs={"S": '{"worker": "x"}'},
                                                                       outputs={"S": "{}"})})
    with pytest.raises(Moved):
        transitions.finish_node("g", "n", "r", N.SUCCESS, {}, logs)


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException",
                                  "InternalServerError", "ResourceNotFoundException"])
def test_a_throttled_or_failed_write_is_raised_never_read_as_moved(dynamo: Dynamo, code: str) -> None:
    dynamo.error(GraphModel, code)
    with pytest.raises(UpdateError) as raised:
        transitions.mark_failed_waiting("g", "r")  # swallows Moved only
    assert raised.value.cause_response_code == code and not isinstance(raised.value, Moved)
    dynamo.error(GraphNodeModel, code)
    with pytest.raises(UpdateError):
        transitions.finish_node("g", "n", "r", N.SUCCESS, {}, {})
    dynamo.error(WaitModel, code)
    with pytest.raises(UpdateError):  # a throttled release claim would leave the parked branch hanging
        waits._release(WaitModel("r", "n", token="t", needs=1, done={"a"}))


def test_a_finalize_that_is_throttled_raises_instead_of_leaving_the_graph_running(dynamo: Dynamo) -> None:
    from chalicelib.engine import settle

    header = {"_id": {"S": "g"}, "run_id": {"S": "r"}, "graph_running_status": {"S": G.RUNNING},
              "listing": {"S": "graph"}, "author": {"S": "a"}, "insertion_date": {"S": "x"}, "update_date": {"S": "x"}}
    dynamo.error(GraphModel, "ProvisionedThroughputExceededException")  # a success's move: no read before it
    with pytest.raises(UpdateError):
        settle.finalize("g", "r", G.SUCCESS)
    dynamo.updated(GraphModel, header)
    dynamo.updated(RunModel)
    assert settle.finalize("g", "r", G.SUCCESS).run_id == "r"  # one conditional write, no read first
    assert [model for model, _ in dynamo.calls] == [GraphModel, GraphModel, RunModel]  # throttled; the move, its record
    update, condition = readable(dynamo.calls[-2][1])
    # READY too: an execution may end before its preparation recorded it (or there is none: all restored)
    assert "graph_running_status = 'SUCCESS'" in update
    assert condition == "(graph_running_status IN ('READY', 'RUNNING') AND run_id = 'r')"


def test_a_run_and_each_saved_version_have_partitions_of_their_own() -> None:
    from chalicelib.store import graph_items

    assert graph_items.run_items("g", "r1") == "run~r1"
    assert graph_items.run_items("g.c1.c2", "r1") == "run~r1.c1.c2"  # a composite's operations, inside the run's
    first, second = graph_items.version_items("g", 2), graph_items.version_items("g", 2)
    assert first.startswith("g~2~") and first != second  # two saves racing from one version never mix
    header = GraphModel("g", nodes_key=first, run_id="r1")
    assert graph_items.shown_items(header) == "run~r1" and graph_items.saved_items(header) == first
    assert graph_items.replaced_items(header) == "run~r1"
    header.run_id = None
    assert graph_items.shown_items(header) == first and graph_items.replaced_items(header) is None
    legacy = GraphModel("g", run_id="r0")  # saved before versions had partitions: all under its id
    assert graph_items.shown_items(legacy) == graph_items.saved_items(legacy) == "g"
    assert graph_items.replaced_items(legacy) is None


def test_a_resent_release_claim_that_finds_its_own_mark_is_its_own(dynamo: Dynamo, monkeypatch) -> None:
    monkeypatch.setattr(waits, "_mark", lambda: 7)
    wait = {"run_id": {"S": "r"}, "node_id": {"S": "n"}}
    dynamo.error(WaitModel, "ConditionalCheckFailedException")
    dynamo.stubs[WaitModel].add_response("get_item", {"Item": dict(wait, released={"N": "7"})})
    assert waits._claim(WaitModel("r", "n"))  # our first attempt landed: we release the branch
    dynamo.error(WaitModel, "ConditionalCheckFailedException")
    dynamo.stubs[WaitModel].add_response("get_item", {"Item": dict(wait, released={"N": "8"})})
    assert not waits._claim(WaitModel("r", "n"))  # another claimant's: it releases the branch
