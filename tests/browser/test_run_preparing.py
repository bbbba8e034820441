"""A run whose preparation is still going on after APPROVE answered shows `preparing`, in the editor, the dashboard
and the run view, until its execution starts; then the run view follows it to SUCCESS."""
from __future__ import annotations

import secrets
import threading
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow


def test_a_run_being_prepared_says_preparing(page, api, monkeypatch) -> None:
    from chalicelib.engine import preparation

    opened, plan = threading.Event(), preparation.cache.plan_restores

    def held(graph_: dict, principal: Any) -> Any:  # the preparation waits here until the page has been seen
        assert opened.wait(60), "the test never let the preparation go"
        return plan(graph_, principal)

    monkeypatch.setattr(preparation.cache, "plan_restores", held)
    try:
        tag = secrets.token_hex(3)
        say = api.save_operation(operation("python", f"Prepared {tag}", "open(outputs['out'], 'w').write('x')\n",
                                           outputs=["out"]))
        body = api.ok("post", "graphs", json={"graph": graph(f"preparing {tag}", [instance(say)]),
                                              "actions": ["SAVE", "APPROVE"]})
        graph_id, run_id = body["graph"]["_id"], body["run_id"]

        page.goto(f"/graphs/{graph_id}")
        badge = page.get_by_test_id("graph-status").locator(".badge")
        expect(badge).to_have_text("preparing")
        expect(badge).to_have_attribute("data-status", "READY")

        page.goto("/")  # the dashboard's running runs
        row = page.get_by_test_id("running-now").locator("tr", has_text=f"preparing {tag}")
        expect(row.locator(".badge")).to_have_text("preparing")

        page.goto(f"/runs/{run_id}")
        status = page.get_by_test_id("run-view").get_by_test_id("run-status")
        expect(status).to_have_text("preparing")
        expect(page.get_by_test_id("run-view").get_by_role("button", name="Cancel run")).to_be_visible()
        shot(page, "run-preparing")

        opened.set()  # the preparation goes on: the page follows the run to its end
        expect(status).to_have_text("SUCCESS", timeout=60_000)
    finally:
        opened.set()
