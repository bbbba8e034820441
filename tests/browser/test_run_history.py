"""A workflow's run history in the editor, and an old run opened read-only with its own statuses and outputs."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import preview
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow

SAY = "open(outputs['out'], 'w').write(params['word'])\n"


def test_run_history_and_an_old_run(page, api) -> None:
    tag = secrets.token_hex(3)
    say = api.save_operation(operation("python", f"Say {tag}", SAY, outputs=["out"], params={"word": "first"}))
    stored = api.ok("post", "graphs", json={"graph": graph(f"history {tag}", [instance(say)]), "actions": ["SAVE"]})
    graph_id, node_id = stored["graph"]["_id"], stored["graph"]["nodes"][0]["_id"]
    first = api.ok("post", f"graphs/{graph_id}/approve")["run_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    api.ok("post", f"graphs/{graph_id}/nodes/change_parameter",
           json={"node_id": node_id, "parameter_name": "word", "parameter_value": "second"})
    second = api.ok("post", f"graphs/{graph_id}/approve")["run_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"

    page.goto(f"/graphs/{graph_id}")
    expect(page.get_by_test_id("graph-editor")).to_be_visible()
    page.get_by_role("button", name="Runs", exact=True).click()
    history = page.get_by_test_id("run-history")
    expect(history.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("run-count")).to_have_text("2 kept")
    newest, oldest = history.locator(f'tr[data-run="{second}"]'), history.locator(f'tr[data-run="{first}"]')
    expect(newest).to_contain_text("(latest)")
    expect(history.locator("tbody tr").first).to_have_attribute("data-run", second)  # newest first
    expect(oldest).to_contain_text("SUCCESS")
    expect(oldest).not_to_contain_text("(latest)")
    shot(page, "run-history")

    oldest.get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/runs/{first}$"))
    view = page.get_by_test_id("run-view")
    expect(view.get_by_test_id("run-status")).to_contain_text("SUCCESS")
    expect(view.get_by_test_id("run-facts")).to_contain_text("Version 1")
    expect(view.get_by_test_id("run-facts")).to_contain_text("(APPROVE)")
    expect(view.locator('[data-testid="pnode"]')).to_have_count(1)  # the graph as it ran, on a canvas
    row = view.get_by_test_id("run-operations").locator(f'tr[data-title="Say {tag}"]')
    expect(row).to_have_attribute("data-status", "SUCCESS")
    expect(row.locator("td").nth(4)).to_have_text("1")  # attempts
    expect(preview(row, f"run-resource-Say {tag}-out")).to_have_text("first")  # this run's own output
    expect(view.get_by_role("button", name="Cancel run")).to_have_count(0)  # ended: nothing to cancel
    expect(view.get_by_role("button", name="Save")).to_have_count(0)  # read-only
    shot(page, "run-view")

    page.goto(f"/runs/{second}")
    row = page.get_by_test_id("run-operations").locator(f'tr[data-title="Say {tag}"]')
    expect(preview(row, f"run-resource-Say {tag}-out")).to_have_text("second")
    expect(page.get_by_test_id("run-facts")).to_contain_text("Version 2")

    page.goto("/runs/no-such-run")
    expect(page.get_by_role("alert")).to_contain_text("no run")
