"""Two runs of one workflow side by side, reached from its run history."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow

# The tag in the code keeps other tests' cache entries (same code, same values) out of this one's runs.
SAY = "open(outputs['out'], 'w').write(params['word'])  # {tag}\n"
KEEP = "open(outputs['out'], 'w').write('kept')  # {tag}\n"


def test_compare_two_runs_from_the_history(page, api) -> None:
    tag = secrets.token_hex(3)
    say = api.save_operation(operation("python", f"Say {tag}", SAY.format(tag=tag), outputs=["out"],
                                       params={"word": "first"}))
    keep = api.save_operation(operation("python", f"Keep {tag}", KEEP.format(tag=tag), outputs=["out"]))
    stored = api.ok("post", "graphs", json={"graph": graph(f"compare {tag}", [instance(say), instance(keep)]),
                                           "actions": ["SAVE"]})["graph"]
    graph_id = stored["_id"]
    say_id = next(n["_id"] for n in stored["nodes"] if n["title"] == f"Say {tag}")
    first = api.ok("post", f"graphs/{graph_id}/approve")["run_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    api.ok("post", f"graphs/{graph_id}/nodes/change_parameter",
           json={"node_id": say_id, "parameter_name": "word", "parameter_value": "second"})
    second = api.ok("post", f"graphs/{graph_id}/approve")["run_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"

    page.goto(f"/graphs/{graph_id}")
    page.get_by_role("button", name="Runs", exact=True).click()
    history = page.get_by_test_id("run-history")
    expect(history.locator("tbody tr")).to_have_count(2)
    compare = page.get_by_role("button", name="Compare", exact=True)
    expect(compare).to_be_disabled()
    history.locator(f'tr[data-run="{second}"] input[type="checkbox"]').check()
    expect(compare).to_be_disabled()  # two runs make a comparison
    history.locator(f'tr[data-run="{first}"] input[type="checkbox"]').check()
    compare.click()

    expect(page).to_have_url(re.compile(f"/runs/{first}/compare/{second}$"))  # the older on the left
    view = page.get_by_test_id("run-compare")
    expect(view.get_by_test_id("compare-left")).to_contain_text("Version 1")
    expect(view.get_by_test_id("compare-right")).to_contain_text("Version 2")
    rows = view.get_by_test_id("compare-operations")
    said, kept = rows.locator(f'tr[data-title="Say {tag}"]'), rows.locator(f'tr[data-title="Keep {tag}"]')
    expect(said).to_have_attribute("data-same-outputs", "false")  # other words, other bytes
    expect(said).to_contain_text("different")
    expect(said.locator('[data-side="left"]')).to_contain_text("SUCCESS")
    expect(kept).to_have_attribute("data-same-outputs", "true")  # restored in run 2: the same bytes
    expect(kept.locator('[data-side="right"]')).to_contain_text("RESTORED")
    expect(kept).to_contain_text("the same bytes")
    shot(page, "run-compare")

    view.get_by_test_id("compare-right").get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/runs/{second}$"))
