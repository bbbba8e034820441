"""The schedule editor on a workflow: add one (expression, zone, a run parameter), its next fire times shown,
pause and resume it, delete it; each step is the REST API's too (the list reads the same)."""
from __future__ import annotations

import datetime as dt
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import toolbar_action
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow

SAY = "open(outputs['out'], 'w').write(params['word'])\n"


def _open_schedules(page) -> None:
    toolbar_action(page, "Schedules")
    expect(page.get_by_role("dialog", name="Schedules")).to_be_visible()


def test_the_schedule_editor_adds_shows_pauses_and_deletes(page, api) -> None:
    tag = secrets.token_hex(3)
    body = operation("python", f"Say {tag}", SAY, outputs=["out"], params={"word": "saved"})
    for parameter in body["parameters"]:
        parameter["publicable"] = parameter["name"] == "word"
    stored = api.ok("post", "graphs", json={"graph": graph(f"scheduled {tag}", [instance(api.save_operation(body))]),
                                            "actions": ["SAVE"]})["graph"]
    graph_id, node_id = stored["_id"], stored["nodes"][0]["_id"]

    page.goto(f"/graphs/{graph_id}")
    expect(page.get_by_test_id("graph-editor")).to_be_visible()
    _open_schedules(page)
    dialog = page.get_by_role("dialog", name="Schedules")
    expect(dialog.get_by_text("No schedules yet.")).to_be_visible()

    adding = dialog.get_by_test_id("schedule-add")
    adding.get_by_label("Schedule expression").fill("cron(0 8 ? * 99 *)")  # a day of the week that is not
    adding.get_by_label("Time zone").fill("Europe/Berlin")
    adding.get_by_role("button", name="Add schedule").click()
    expect(adding.get_by_role("alert")).to_contain_text("1-7 or SUN-SAT")
    adding.get_by_label("Schedule expression").fill("cron(0 8 ? * MON-FRI *)")
    adding.get_by_test_id("schedule-parameters").get_by_role("textbox").fill("scheduled")
    adding.get_by_role("button", name="Add schedule").click()

    row = dialog.get_by_test_id("schedule")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("schedule-expression")).to_have_text("cron(0 8 ? * MON-FRI *)")
    expect(row).to_contain_text("Europe/Berlin")
    expect(row.get_by_test_id("schedule-state")).to_have_text("enabled")
    times = row.get_by_test_id("next-fire-times").locator("li")
    expect(times).to_have_count(5)
    for text in times.all_inner_texts():
        assert " 08:00 (+0" in text and text.split()[0] in ("Mon", "Tue", "Wed", "Thu", "Fri"), text
    expect(row).to_contain_text("word = scheduled")
    expect(row.get_by_test_id("last-fire")).to_contain_text("Not fired yet.")
    shot(page, "schedules")
    [listed] = api.ok("get", f"graphs/{graph_id}/schedules")["items"]
    assert listed["parameters"] == {f"{node_id}.word": "scheduled"} and listed["timezone"] == "Europe/Berlin"
    first = dt.datetime.fromisoformat(listed["next_fire_times"][0])
    assert (first.hour, first.minute) == (8, 0)

    row.get_by_role("button", name="Pause").click()
    expect(row.get_by_test_id("schedule-state")).to_have_text("paused")
    expect(row.get_by_test_id("next-fire-times")).to_have_count(0)
    assert api.ok("get", f"graphs/{graph_id}/schedules")["items"][0]["enabled"] is False
    row.get_by_role("button", name="Resume").click()
    expect(row.get_by_test_id("schedule-state")).to_have_text("enabled")
    expect(row.get_by_test_id("next-fire-times").locator("li")).to_have_count(5)

    page.once("dialog", lambda confirm: confirm.accept())
    row.get_by_role("button", name="Delete").click()
    expect(dialog.get_by_test_id("schedule")).to_have_count(0)
    assert api.ok("get", f"graphs/{graph_id}/schedules")["items"] == []
    dialog.get_by_role("button", name="Close").click()
    expect(page.get_by_role("dialog", name="Schedules")).to_have_count(0)
