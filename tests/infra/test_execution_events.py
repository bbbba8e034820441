"""The EventBridge rule's handler closes a run whose execution ended without closing it (app.execution_ended)."""
from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from tests.helpers import graph, instance, operation


def _event(client: Client, status: str, graph_id: str, run_id: str, **detail: Any) -> dict:
    """An `aws.states` status change as EventBridge delivers it (the input is the one start_run sends)."""
    execution = f"arn:aws:states:us-east-1:123456789012:execution:plynx-{graph_id}-0123456789abcdef:{run_id}"
    return client.events.generate_cw_event(
        source="aws.states",
        detail_type="Step Functions Execution Status Change",
        resources=[execution],
        detail={"executionArn": execution, "name": run_id, "status": status,
                "stateMachineArn": execution.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0],
                "input": json.dumps({"graph_id": graph_id, "run_id": run_id}), **detail},
    )


def _queued(api: Any, title: str) -> tuple[str, str, str]:
    """A saved graph with one operation queued for a run that no execution will close."""
    from chalicelib.engine import runs

    op = api.save_operation(operation("bash_jinja2", title, "sleep 1\n"))
    node = instance(op)
    graph_id = api.ok("post", "graphs", json={"graph": graph(title, [node]), "actions": ["SAVE"]})["graph"]["_id"]
    return graph_id, node["_id"], runs.queue_run(graph_id)


def test_a_timed_out_execution_fails_its_graph_and_cancels_what_never_ran(api) -> None:
    import app

    graph_id, node_id, run_id = _queued(api, "Timed out")
    with Client(app.app) as client:
        result = client.lambda_.invoke("execution_ended", _event(client, "TIMED_OUT", graph_id, run_id,
                                                                 error="States.Timeout", cause="too slow"))
    assert result.payload == {"graph_id": graph_id}
    data = api.ok("get", f"graphs/{graph_id}")["data"]
    assert data["graph_running_status"] == "FAILED"
    assert {n["_id"]: n["node_running_status"] for n in data["nodes"]}[node_id] == "CANCELED"


def test_events_for_other_runs_stages_or_statuses_change_nothing(api) -> None:
    import app

    graph_id, node_id, run_id = _queued(api, "Untouched")
    with Client(app.app) as client:
        for event in (
            _event(client, "ABORTED", graph_id, "an-older-run"),  # a stale run
            _event(client, "FAILED", "a-graph-of-another-stage", run_id),  # not in this stage's table
            _event(client, "SUCCEEDED", graph_id, run_id),  # the state machine closes its own successes
            # a failed child execution of a split graph: the parent is still running its other parts
            _event(client, "FAILED", graph_id, run_id, input=json.dumps({"graph_id": graph_id, "run_id": run_id,
                                                                         "part": 2})),
        ):
            assert client.lambda_.invoke("execution_ended", event).payload == {"graph_id": None}
    data = api.ok("get", f"graphs/{graph_id}")["data"]
    assert data["graph_running_status"] == "READY"
    assert {n["_id"]: n["node_running_status"] for n in data["nodes"]}[node_id] == "IN_QUEUE"


def test_an_aborted_execution_is_closed_once(api) -> None:
    import app

    graph_id, _node_id, run_id = _queued(api, "Aborted twice")
    with Client(app.app) as client:
        event = _event(client, "ABORTED", graph_id, run_id)
        first = client.lambda_.invoke("execution_ended", event).payload
        second = client.lambda_.invoke("execution_ended", event).payload  # EventBridge delivers at least once
    assert first == {"graph_id": graph_id} and second == {"graph_id": None}
    data = api.ok("get", f"graphs/{graph_id}")["data"]
    assert data["graph_running_status"] == "FAILED"


def test_an_event_without_its_input_reads_it_from_the_execution(api) -> None:
    """EventBridge drops an execution's input when it is too big: the handler asks Step Functions."""
    import app
    from chalicelib.store import aws
    from chalicelib.store.settings import SETTINGS

    graph_id, _node_id, run_id = _queued(api, "Input from the execution")
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"plynx-{graph_id[:48]}-events-fallback", roleArn=SETTINGS.state_machine_role_arn,
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}))
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=run_id,
                                    input=json.dumps({"graph_id": graph_id, "run_id": run_id}))
    with Client(app.app) as client:
        event = _event(client, "TIMED_OUT", graph_id, run_id, executionArn=execution["executionArn"])
        del event["detail"]["input"]
        assert client.lambda_.invoke("execution_ended", event).payload == {"graph_id": graph_id}
    assert api.ok("get", f"graphs/{graph_id}")["data"]["graph_running_status"] == "FAILED"
    sfn.delete_state_machine(stateMachineArn=machine["stateMachineArn"])


def test_the_abort_of_a_canceled_run_leaves_it_canceled(api) -> None:
    """CANCEL marks the graph first and then stops the execution: the ABORTED event that follows is late."""
    import app

    graph_id, _node_id, run_id = _queued(api, "Canceled")
    api.ok("post", f"graphs/{graph_id}/cancel")
    with Client(app.app) as client:
        event = _event(client, "ABORTED", graph_id, run_id)
        assert client.lambda_.invoke("execution_ended", event).payload == {"graph_id": None}
    assert api.ok("get", f"graphs/{graph_id}")["data"]["graph_running_status"] == "CANCELED"
