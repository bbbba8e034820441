"""The end one operation's runner answers (`ended`) is what the next in its branch reads its inputs from
(`upstream`), and only when it is an input of that operation and an end."""
from __future__ import annotations

import base64

from chalicelib.domain.enums import NodeRunningStatus as N
from chalicelib.domain.graph import input_types, resolve_inputs
from runners import handler

UP = {"_id": "up", "outputs": [{"name": "out", "file_type": "csv"}, {"name": "none", "file_type": "file"}]}
DOWN = {"_id": "down", "inputs": [{"name": "x", "values": [{"node_id": "up", "output_id": "out"}]}]}


def test_an_answered_end_is_what_the_next_operation_reads_its_inputs_from() -> None:
    small = base64.b64encode(b"tiny").decode()
    ended = handler._answer_ended(UP, N.SUCCESS, {"out": "a" * 64}, {"a" * 64, "l" * 64}, {"a" * 64: small})
    assert ended == {"node_id": "up", "status": N.SUCCESS,
                     "outputs": [{"name": "out", "resource_id": "a" * 64, "file_type": "csv"},
                                 {"name": "none", "resource_id": None, "file_type": "file"}],
                     "created": ["a" * 64], "inline": {"a" * 64: small}}  # the log's id is no output's
    node_id, (node, created), inline = handler._carried(ended, DOWN)
    assert node_id == "up" and created == frozenset({"a" * 64}) and inline == {"a" * 64: b"tiny"}
    assert resolve_inputs(DOWN, {"up": node}) == {"x": ["a" * 64]}
    assert input_types(DOWN, {"up": node}) == {"x": ["csv"]}


def test_an_end_that_is_not_an_input_or_not_an_end_is_not_used() -> None:
    ended = handler._answer_ended(UP, N.SUCCESS, {"out": "a" * 64}, set(), None)
    assert handler._carried(dict(ended, node_id="other"), DOWN) is None  # not an input of this operation
    assert handler._carried(dict(ended, status=N.RUNNING), DOWN) is None
    assert handler._carried(dict(ended, outputs="nope"), DOWN) is None
    assert handler._carried(dict(ended, outputs=[{"resource_id": "x"}]), DOWN) is None  # no name
    assert handler._carried(None, DOWN) is None and handler._carried("up", DOWN) is None
    restored = handler._answer_ended(UP, N.RESTORED, {"out": "a" * 64}, set(), None)
    assert handler._carried(restored, DOWN)[1][0]["node_running_status"] == N.RESTORED
