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
    expect(view.get_by_role("button", name="Save", exact=True)).to_have_count(0)  # read-only
    shot(page, "run-view")

    page.goto(f"/runs/{second}")
    row = page.get_by_test_id("run-operations").locator(f'tr[data-title="Say {tag}"]')
    expect(preview(row, f"run-resource-Say {tag}-out")).to_have_text("second")
    expect(page.get_by_test_id("run-facts")).to_contain_text("Version 2")

    page.goto("/runs/no-such-run")
    expect(page.get_by_role("alert")).to_contain_text("no run")


def test_retry_a_failed_run_from_its_failure(page, api, shared_tmp) -> None:
    tag = secrets.token_hex(3)
    flag = shared_tmp / "fixed"
    make = operation("python", f"Make {tag}", "open(outputs['out'], 'w').write('made')\n", outputs=["out"])
    make["parameters"].append({"name": "_cacheable", "parameter_type": "bool", "value": False})
    use = operation("python", f"Use {tag}", f"import os\nassert os.path.exists({str(flag)!r}), 'not fixed'\n"
                    "open(outputs['out'], 'w').write(open(inputs['in']).read() + ' and used')\n",
                    inputs=[{"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}], outputs=["out"])
    first = instance(api.save_operation(make))
    second = instance(api.save_operation(use), **{"in": [(first, "out")]})
    body = api.ok("post", "graphs", json={"graph": graph(f"retry {tag}", [first, second]),
                                          "actions": ["SAVE", "APPROVE"]})
    failed = body["run_id"]
    assert api.wait(body["graph"]["_id"])["graph_running_status"] == "FAILED"
    flag.write_text("yes")

    page.goto(f"/runs/{failed}")
    expect(page.get_by_test_id("run-status")).to_contain_text("FAILED")
    page.get_by_role("button", name="Retry from the failure").click()
    expect(page).not_to_have_url(re.compile(f"/runs/{failed}$"))
    expect(page.get_by_test_id("run-facts")).to_contain_text(f"retry of {failed}")
    expect(page.get_by_test_id("run-status")).to_contain_text("SUCCESS", timeout=30_000)  # polled while it runs
    rows = page.get_by_test_id("run-operations")
    expect(rows.locator(f'tr[data-title="Make {tag}"]')).to_have_attribute("data-status", "RESTORED")
    expect(rows.locator(f'tr[data-title="Use {tag}"]')).to_have_attribute("data-status", "SUCCESS")
    used = rows.locator(f'tr[data-title="Use {tag}"]')
    expect(preview(used, f"run-resource-Use {tag}-out")).to_have_text("made and used")
    expect(page.get_by_role("button", name="Retry from the failure")).to_have_count(0)
    shot(page, "run-retried")
