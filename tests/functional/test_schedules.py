"""Schedules through the REST API on the session's stack: each is an EventBridge Scheduler schedule on moto
(expression, zone, target, state as the API stored them), fired by the local firer with an injected clock
(no test waits a real minute), and once by the stack's own firer in real time (an `at(...)` a few seconds
ahead). A fire runs the graph as stored when it fires, through APPROVE's path, recorded as a SCHEDULE run."""
from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from tests.helpers import graph, instance, operation

WORD = "open(outputs['out'], 'w').write(params['word'])\nprint('word', params['word'])\n"


@pytest.fixture(scope="module")
def scheduler(stack):
    from chalicelib.store import aws

    return aws.client("scheduler")


@pytest.fixture(scope="module")
def word_graph(api) -> dict:
    body = operation("python", "word", WORD, outputs=["out"], params={"word": "saved"})
    for parameter in body["parameters"]:
        parameter["publicable"] = parameter["name"] == "word"
    node = api.save_operation(body)
    saved = api.ok("post", "graphs", json={"graph": graph("scheduled words", [instance(node)]), "actions": ["SAVE"]})
    assert saved["status"] == "SUCCESS", saved
    return saved["graph"]


def _ok(api, method: str, path: str, **kwargs) -> dict:
    response = api.session.request(method, api.url(path), timeout=30, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def _add(api, graph_id: str, **body) -> dict:
    answer = api.ok("post", f"graphs/{graph_id}/schedules", json=body)
    assert answer["status"] == "SUCCESS", answer
    return answer["data"]


def _remote(scheduler, schedule_id: str) -> dict:
    from chalicelib.store.settings import SETTINGS

    return scheduler.get_schedule(Name=f"plynx-{schedule_id}", GroupName=SETTINGS.schedule_group)


def _firer(clock: list[float]):
    """A local firer of the stack's group on a clock the test moves, with app.py's handler."""
    import app
    from chalicelib.store import aws
    from chalicelib.store.settings import SETTINGS
    from infra.local.scheduler import LocalScheduler

    return LocalScheduler(app.schedule_fired, aws.client("scheduler"), SETTINGS.schedule_group,
                          clock=lambda: clock[0])


def _idle(api, graph_id: str) -> None:
    """Wait for a run of the graph (an earlier test's fire) to end, if one is going."""
    if api.ok("get", f"graphs/{graph_id}")["data"]["graph_running_status"] not in ("CREATED", "SUCCESS", "FAILED",
                                                                                   "CANCELED"):
        api.wait(graph_id)


def _epoch(stamp: str) -> float:
    return dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc).timestamp()


def test_a_schedule_is_an_eventbridge_schedule_paused_resumed_and_deleted(api, word_graph, scheduler) -> None:
    from chalicelib.store.settings import SETTINGS

    graph_id, node_id = word_graph["_id"], word_graph["nodes"][0]["_id"]
    made = _add(api, graph_id, expression="cron(0 8 ? * MON-FRI *)", timezone="Europe/Berlin",
                parameters={f"{node_id}.word": "morning"})
    assert made["enabled"] is True and made["author"] == "default"
    assert made["parameters"] == {f"{node_id}.word": "morning"}
    assert len(made["next_fire_times"]) == 5
    for stamp in made["next_fire_times"]:
        when = dt.datetime.fromisoformat(stamp)
        assert (when.hour, when.minute) == (8, 0) and when.weekday() < 5 and when.utcoffset() in (
            dt.timedelta(hours=1), dt.timedelta(hours=2))
    remote = _remote(scheduler, made["_id"])
    assert remote["ScheduleExpression"] == "cron(0 8 ? * MON-FRI *)"
    assert remote["ScheduleExpressionTimezone"] == "Europe/Berlin" and remote["State"] == "ENABLED"
    assert remote["Target"]["Arn"] == SETTINGS.schedule_function
    assert "StartDate" not in remote  # a cron's times are its own
    assert remote["Target"]["RoleArn"] == SETTINGS.scheduler_role_arn
    assert json.loads(remote["Target"]["Input"]) == {
        "source": "plynx.schedule", "graph_id": graph_id, "schedule_id": made["_id"],
        "scheduled_time": "<aws.scheduler.scheduled-time>", "execution_id": "<aws.scheduler.execution-id>",
        "schedule_arn": "<aws.scheduler.schedule-arn>"}

    paused = _ok(api, "patch", f"schedules/{made['_id']}", json={"enabled": False})["data"]
    assert paused["enabled"] is False and paused["next_fire_times"] == []
    assert _remote(scheduler, made["_id"])["State"] == "DISABLED"
    changed = _ok(api, "patch", f"schedules/{made['_id']}", json={"enabled": True, "expression": "rate(2 hours)",
                                                                "timezone": "UTC"})["data"]
    remote = _remote(scheduler, made["_id"])
    assert (remote["State"], remote["ScheduleExpression"], remote["ScheduleExpressionTimezone"]) == (
        "ENABLED", "rate(2 hours)", "UTC")
    # a rate's first fire is a period on from its creation, kept in phase by an update (never at once)
    assert remote["StartDate"] > dt.datetime.now(dt.timezone.utc)
    assert abs((dt.datetime.fromisoformat(changed["next_fire_times"][0]) - remote["StartDate"]).total_seconds()) < 1
    assert changed["parameters"] == {f"{node_id}.word": "morning"}  # a PATCH changes only what it names
    listed = api.ok("get", f"graphs/{graph_id}/schedules")
    assert made["_id"] in [item["_id"] for item in listed["items"]]

    assert _ok(api, "delete", f"schedules/{made['_id']}")["data"]["_id"] == made["_id"]
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        _remote(scheduler, made["_id"])
    assert made["_id"] not in [item["_id"] for item in api.ok("get", f"graphs/{graph_id}/schedules")["items"]]
    assert api.session.delete(api.url(f"schedules/{made['_id']}")).status_code == 404
    assert api.session.patch(api.url(f"schedules/{made['_id']}"), json={"enabled": False}).status_code == 404


def test_bad_schedules_are_400s_and_nothing_is_stored(api, word_graph, scheduler) -> None:
    from chalicelib.store.settings import SETTINGS

    graph_id, node_id = word_graph["_id"], word_graph["nodes"][0]["_id"]
    before = scheduler.list_schedules(GroupName=SETTINGS.schedule_group)["Schedules"]
    refused = [
        ({"expression": "every day"}, "is not a schedule expression"),
        ({"expression": "rate(30 seconds)"}, "is not a schedule expression"),
        ({"expression": "rate(1 minutes)"}, "rate(1 minute)"),
        ({"expression": "cron(0 8 * * * *)"}, "must be `?`"),
        ({"expression": "cron(0 8 * *)"}, "six fields"),
        ({"expression": "cron(0 8 ? * 9 *)"}, "1-7 or SUN-SAT"),
        ({"expression": "cron(0 8 * * ? *)", "timezone": "Mars/Olympus"}, "IANA time zone"),
        ({"expression": "cron(0 8 * * ? *)", "timezone": 5}, "IANA time zone"),
        ({"expression": "rate(5 minutes)", "parameters": {f"{node_id}.word": ["x"]}}, "Run parameters refused"),
        ({"expression": "rate(5 minutes)", "parameters": {f"{node_id}.nope": "x"}}, "nope"),
        ({"expression": "rate(5 minutes)", "enabled": "yes"}, "`enabled`"),
        ({"expression": "rate(5 minutes)", "colour": "red"}, "Unknown schedule fields"),
        ({}, "`expression` is required"),
        ({"expression": "at(2020-01-01T08:00:00)", "timezone": "UTC"}, "is in the past in UTC"),
    ]
    for body, said in refused:
        response = api.post(f"graphs/{graph_id}/schedules", json=body)
        assert response.status_code == 400, (body, response.text)
        assert said in response.json()["Message"], (body, response.json())
    assert api.post(f"graphs/{graph_id}/schedules", data="[1]").status_code == 400
    assert api.get("graphs/nosuchgraph/schedules").status_code == 404
    assert api.post("graphs/nosuchgraph/schedules", json={"expression": "rate(5 minutes)"}).status_code == 404
    assert scheduler.list_schedules(GroupName=SETTINGS.schedule_group)["Schedules"] == before
    made = _add(api, graph_id, expression="rate(5 minutes)")
    try:
        response = api.session.patch(api.url(f"schedules/{made['_id']}"), json={"expression": "cron(bad)"})
        assert response.status_code == 400, response.text
        assert _remote(scheduler, made["_id"])["ScheduleExpression"] == "rate(5 minutes)"
    finally:
        _ok(api, "delete", f"schedules/{made['_id']}")


def test_a_graph_has_at_most_its_cap_of_schedules(api, word_graph) -> None:
    from chalicelib.domain.schedules import MAX_PER_GRAPH

    made = [_add(api, word_graph["_id"], expression="rate(1 day)", enabled=False)["_id"] for _ in range(MAX_PER_GRAPH)]
    try:
        response = api.post(f"graphs/{word_graph['_id']}/schedules", json={"expression": "rate(1 day)"})
        assert response.status_code == 400 and "the most a graph may have" in response.json()["Message"]
    finally:
        for schedule_id in made:
            _ok(api, "delete", f"schedules/{schedule_id}")


def test_a_one_minute_rate_fires_a_run_of_the_graph_as_stored_then(api, word_graph) -> None:
    graph_id, node_id = word_graph["_id"], word_graph["nodes"][0]["_id"]
    made = _add(api, graph_id, expression="rate(1 minute)", timezone="UTC", parameters={f"{node_id}.word": "tick"})
    paused = _add(api, graph_id, expression="rate(1 minute)", enabled=False)
    _idle(api, graph_id)
    created = _epoch(made["created"])
    clock = [created + 1]
    firer = _firer(clock)
    try:
        assert firer.tick(created + 59) == []  # not due yet
        # the graph changes after the schedule was made: the fire runs the version stored when it fires
        current = api.ok("get", f"graphs/{graph_id}")["data"]
        saved = api.ok("post", "graphs", json={"graph": dict(current, title="scheduled words v2"),
                                               "actions": ["SAVE"]})["graph"]
        fired = firer.tick(created + 61)
        assert [event["schedule_id"] for event in fired] == [made["_id"]]  # the paused one did not fire
        assert fired[0]["scheduled_time"].endswith("Z") and fired[0]["graph_id"] == graph_id
        schedule = next(item for item in api.ok("get", f"graphs/{graph_id}/schedules")["items"]
                        if item["_id"] == made["_id"])
        last = schedule["last_fire"]
        assert last["outcome"] == "STARTED" and schedule["fires"] == 1, last
        api.wait(graph_id)
        run = api.ok("get", f"runs/{last['run_id']}")["data"]
        assert (run["how"], run["schedule_id"], run["started_by"]) == ("SCHEDULE", made["_id"], "default")
        assert run["graph_version"] == saved["_version"] and run["title"] == "scheduled words v2"
        assert run["parameters"] == {f"{node_id}.word": "tick"} and run["run_status"] == "SUCCESS"
        paused_now = next(item for item in api.ok("get", f"graphs/{graph_id}/schedules")["items"]
                          if item["_id"] == paused["_id"])
        assert paused_now["last_fire"] is None and paused_now["fires"] == 0
    finally:
        _ok(api, "delete", f"schedules/{made['_id']}")
        _ok(api, "delete", f"schedules/{paused['_id']}")


def test_fires_missed_while_the_stack_was_down_are_not_replayed(api, word_graph) -> None:
    made = _add(api, word_graph["_id"], expression="rate(1 minute)")
    created = _epoch(made["created"])
    clock = [created + 5 * 60 + 10]  # a firer started five minutes after the schedule was made
    firer = _firer(clock)
    try:
        assert firer.tick(created + 5 * 60 + 50) == []  # five fires were due before it started: none replayed
        assert [event["schedule_id"] for event in firer.tick(created + 6 * 60 + 1)] == [made["_id"]]
        api.wait(word_graph["_id"])
    finally:
        _ok(api, "delete", f"schedules/{made['_id']}")


def test_a_fire_whose_author_may_no_longer_run_the_graph_is_refused_and_says_so(api, word_graph) -> None:
    from chalicelib.api import schedules
    from chalicelib.domain.enums import IAMPolicies
    from chalicelib.domain.permissions import Caller

    # an admin who made a schedule on default's graph, whose account is gone by the time it fires
    admin = Caller("gone-admin", [IAMPolicies.IS_ADMIN])
    made = schedules.create(word_graph["_id"], {"expression": "rate(1 minute)"}, admin)
    runs_before = api.ok("get", f"graphs/{word_graph['_id']}/runs")["total_count"]
    try:
        outcome = schedules.fire({"graph_id": word_graph["_id"], "schedule_id": made["_id"],
                                  "scheduled_time": "2026-12-01T08:00:00Z"})
        assert outcome["outcome"] == "REFUSED" and "gone-admin" in outcome["message"], outcome
        shown = next(item for item in api.ok("get", f"graphs/{word_graph['_id']}/schedules")["items"]
                     if item["_id"] == made["_id"])
        assert shown["last_fire"]["outcome"] == "REFUSED" and shown["last_fire"]["scheduled"] == "2026-12-01T08:00:00Z"
        assert shown["author"] == "gone-admin"
        assert api.ok("get", f"graphs/{word_graph['_id']}/runs")["total_count"] == runs_before
    finally:
        _ok(api, "delete", f"schedules/{made['_id']}")


def test_the_stacks_own_firer_starts_an_at_schedule_in_real_time(api, word_graph) -> None:
    graph_id = word_graph["_id"]
    _idle(api, graph_id)
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=5)
    made = _add(api, graph_id, expression=f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})", timezone="UTC")
    assert made["next_fire_times"] == [when.isoformat()]
    try:
        deadline = time.monotonic() + 60
        while True:
            shown = next(item for item in api.ok("get", f"graphs/{graph_id}/schedules")["items"]
                         if item["_id"] == made["_id"])
            if shown["last_fire"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert shown["last_fire"] and shown["last_fire"]["outcome"] == "STARTED", shown
        assert shown["next_fire_times"] == []
        run = api.ok("get", f"runs/{shown['last_fire']['run_id']}")["data"]
        assert run["how"] == "SCHEDULE" and run["schedule_id"] == made["_id"]
        api.wait(graph_id)
    finally:
        _ok(api, "delete", f"schedules/{made['_id']}")


def test_plynx_schedule_adds_lists_pauses_resumes_and_deletes(api, word_graph, scheduler, capsys) -> None:
    from plynx.cli import main

    graph_id, node_id = word_graph["_id"], word_graph["nodes"][0]["_id"]
    connection = ["--api", api.base, "-u", "default:"]
    assert main(["schedule", "add", graph_id, "cron(30 6 ? * 2#1 *)", "-z", "America/New_York",
                 "-p", f"{node_id}.word=monthly", *connection]) == 0
    out, err = capsys.readouterr()
    schedule_id = out.strip()
    assert "cron(30 6 ? * 2#1 *) (America/New_York), enabled; next: " in err
    assert _remote(scheduler, schedule_id)["ScheduleExpressionTimezone"] == "America/New_York"
    assert main(["schedule", "list", graph_id, "--json", *connection]) == 0
    [listed] = [item for item in json.loads(capsys.readouterr().out)["items"] if item["_id"] == schedule_id]
    assert listed["parameters"] == {f"{node_id}.word": "monthly"}
    assert dt.datetime.fromisoformat(listed["next_fire_times"][0]).weekday() == 0  # the first Monday
    assert main(["schedule", "pause", schedule_id, *connection]) == 0
    assert "paused" in capsys.readouterr().err and _remote(scheduler, schedule_id)["State"] == "DISABLED"
    assert main(["schedule", "resume", schedule_id, *connection]) == 0
    assert "enabled" in capsys.readouterr().err and _remote(scheduler, schedule_id)["State"] == "ENABLED"
    assert main(["schedule", "list", graph_id, *connection]) == 0
    assert schedule_id in capsys.readouterr().out
    assert main(["schedule", "add", graph_id, "cron(0 8 * * * *)", *connection]) != 0
    assert "must be `?`" in capsys.readouterr().err
    assert main(["schedule", "delete", schedule_id, *connection]) == 0
    capsys.readouterr()
    assert main(["schedule", "delete", schedule_id, *connection]) == 5  # gone: the CLI's not-found code
    assert "404" in capsys.readouterr().err


def test_a_gc_pass_keeps_a_live_graphs_schedules_and_deleting_the_graph_deletes_them(api, scheduler) -> None:
    node = api.save_operation(operation("python", "noop", "print('x')\n"))
    saved = api.ok("post", "graphs", json={"graph": graph("deleted with its schedules", [instance(node)]),
                                           "actions": ["SAVE"]})["graph"]
    made = _add(api, saved["_id"], expression="rate(1 day)")
    assert api.ok("post", "gc", json={})["status"] == "SUCCESS"
    assert _remote(scheduler, made["_id"])["State"] == "ENABLED"
    assert [item["_id"] for item in api.ok("get", f"graphs/{saved['_id']}/schedules")["items"]] == [made["_id"]]
    assert api.session.patch(api.url(f"schedules/{made['_id']}"), json={"enabled": False}).status_code == 200

    assert api.ok("post", f"graphs/{saved['_id']}/delete", json={})["status"] == "SUCCESS"
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        _remote(scheduler, made["_id"])
    assert api.session.delete(api.url(f"schedules/{made['_id']}")).status_code == 404
