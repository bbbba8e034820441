"""The export's lines: a model's attributes as plain JSON and back, checked field by field (no table touched)."""
from __future__ import annotations

import pytest

from chalicelib.api.transfer import TransferError, from_plain, resource_ids, to_plain
from chalicelib.store.models import GraphNodeModel, NodeModel, UserModel

NODE = {"id": "abc", "listing": "operation", "author": "alice", "title": "t", "description": "",
        "base_node_name": "python", "node_status": "READY", "insertion_date": "2026-01-01 00:00:00.000Z",
        "update_date": "2026-01-02 00:00:00.000Z", "body": {"_id": "abc", "outputs": [{"resource_id": "0" * 64}]},
        "version": 3}


def test_a_line_reads_back_to_the_same_item() -> None:
    item = from_plain(NodeModel, NODE, "nodes.jsonl, line 1")
    assert to_plain(item) == NODE
    user = from_plain(UserModel, {"username": "bob", "insertion_date": "x", "token_version": 2, "policies": ["A"]}, "u")
    assert to_plain(user)["policies"] == ["A"] and user.token_version == 2


@pytest.mark.parametrize("change, message", [
    ({"colour": "red"}, "unknown field(s) colour"),
    ({"title": 7}, "field `title` must be str"),
    ({"version": True}, "field `version` must be int"),
    ({"version": "3"}, "field `version` must be int"),
    ({"author": None}, "author"),
])
def test_a_bad_line_names_the_file_the_line_and_the_field(change: dict, message: str) -> None:
    line = {k: v for k, v in {**NODE, **change}.items() if v is not None}
    with pytest.raises(TransferError, match="nodes.jsonl, line 4") as raised:
        from_plain(NodeModel, line, "nodes.jsonl, line 4")
    assert message in str(raised.value)


def test_not_an_object_is_refused() -> None:
    with pytest.raises(TransferError, match="expected an object, got list"):
        from_plain(GraphNodeModel, [], "graphs/x.json, items `x`[0]")


def test_content_ids_are_found_wherever_a_value_names_one() -> None:
    value = {"outputs": [{"resource_id": "a" * 64}], "logs": {"worker": "b" * 64}, "short": "c" * 63, "n": 5}
    assert sorted(resource_ids(value)) == ["a" * 64, "b" * 64]
