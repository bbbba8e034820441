"""Lists: search with the seed's syntax (and `author:me`), status filters, paging, newest first, rows
that open their editor."""
from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.helpers import graph

pytestmark = pytest.mark.slow


def test_workflows_search_pages_and_open(page, api) -> None:
    word = f"zebra{secrets.token_hex(3)}"
    for i in range(23):
        api.ok("post", "graphs", json={"graph": graph(f"{word} number {i:02d}", []), "actions": ["SAVE"]})
    page.goto("/graphs")
    page.get_by_label("Search").fill(f"{word} author:me")
    info = page.get_by_test_id("page-info")
    expect(info).to_have_text("1–20 of 23")
    rows = page.locator("table.list tbody tr")
    expect(rows.first).to_contain_text(f"{word} number 22")  # newest first
    shot(page, "20-workflows-search")
    page.get_by_role("button", name="Older →").click()
    expect(info).to_have_text("21–23 of 23")
    expect(rows).to_have_count(3)
    page.get_by_label("Search").fill(f"{word} author:nobody-{word}")
    expect(info).to_have_text("0 of 0")
    page.get_by_label("Search").fill(f"{word} number 07")
    page.get_by_role("link", name=f"{word} number 07").click()
    expect(page.get_by_label("Workflow title")).to_have_value(f"{word} number 07")


def test_status_filter_and_operations_list(page, api) -> None:
    word = f"okapi{secrets.token_hex(3)}"
    api.ok("post", "graphs", json={"graph": graph(f"{word} draft", []), "actions": ["SAVE"]})
    page.goto("/graphs")
    page.get_by_label("Search").fill(word)
    expect(page.get_by_test_id("page-info")).to_have_text("1–1 of 1")
    page.locator("label.chip", has_text="SUCCESS").click()
    expect(page.get_by_test_id("page-info")).to_have_text("0 of 0")
    page.locator("label.chip", has_text="CREATED").click()
    expect(page.get_by_test_id("page-info")).to_have_text("1–1 of 1")
    page.get_by_role("link", name="Operations").click()
    expect(page.get_by_test_id("operation-list")).to_be_visible()
    page.get_by_role("link", name="New bash operation").click()
    expect(page.get_by_test_id("operation-editor")).to_contain_text("bash_jinja2")
