"""Archive and restore in the UI: a workflow, an operation and a file leave their lists when archived, the
"Archived" filter finds them, their pages say so, restore brings them back; delete is refused (the message
names the workflow) while a workflow uses the operation, and goes through once it does not."""
from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow


def _row(page, title: str):
    return page.locator("table.list tbody tr", has_text=title)


def test_archive_restore_and_delete_in_lists_and_pages(page, api) -> None:
    word = f"tapir{secrets.token_hex(3)}"
    op = api.save_operation(operation("python", f"{word} op", "print(1)\n"))
    data = api.upload(b"x", f"{word} file")
    stored = api.ok("post", "graphs", json={"graph": graph(f"{word} flow", [instance(op)]), "actions": ["SAVE"]})["graph"]

    # a workflow: archived from its row, found by the filter, restored from its page
    page.goto("/graphs")
    page.get_by_label("Search").fill(word)
    expect(page.get_by_test_id("page-info")).to_have_text("1–1 of 1")
    _row(page, f"{word} flow").get_by_test_id("archive").click()
    expect(page.get_by_test_id("lifecycle-notice")).to_contain_text("archived")
    expect(page.get_by_test_id("page-info")).to_have_text("0 of 0")
    page.get_by_test_id("archived-filter").click()
    expect(page.get_by_test_id("page-info")).to_have_text("1–1 of 1")
    shot(page, "archive-01-archived-filter")
    page.get_by_role("link", name=f"{word} flow").click()
    note = page.get_by_test_id("archived-note")
    expect(note).to_contain_text("Archived")
    shot(page, "archive-02-archived-workflow")
    note.get_by_test_id("restore").click()
    expect(note).to_have_count(0)
    assert api.ok("get", f"graphs/{stored['_id']}")["data"]["archived"] is None
    # ... and archived again from its page (the toolbar's Archive: the row's last action, in its More menu)
    page.get_by_role("button", name="More").click()
    page.get_by_test_id("toolbar-menu").get_by_role("menuitem", name="Archive").click()
    expect(note).to_contain_text("Archived")
    assert api.ok("get", f"graphs/{stored['_id']}")["data"]["archived"]
    note.get_by_test_id("restore").click()
    expect(note).to_have_count(0)

    # an operation in use: delete refused with the workflow named; archived and restored on its page
    page.goto(f"/nodes/{op['_id']}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("delete").click()
    expect(page.get_by_test_id("op-notice")).to_contain_text(f"`{word} flow`")
    page.get_by_test_id("archive").click()
    expect(page.get_by_test_id("archived-note")).to_be_visible()
    page.goto("/nodes")
    page.get_by_label("Search").fill(word)
    expect(page.get_by_test_id("page-info")).to_have_text("0 of 0")
    page.get_by_test_id("archived-filter").click()
    expect(_row(page, f"{word} op")).to_have_count(1)
    _row(page, f"{word} op").get_by_test_id("restore").click()
    expect(page.get_by_test_id("page-info")).to_have_text("0 of 0")  # no longer archived
    page.get_by_test_id("archived-filter").click()
    expect(_row(page, f"{word} op")).to_have_count(1)

    # a file: archived and restored in the Files list; deleted once nothing uses it
    page.goto("/files")
    page.get_by_label("Search").fill(word)
    _row(page, f"{word} file").get_by_test_id("archive").click()
    expect(_row(page, f"{word} file")).to_have_count(0)
    page.get_by_test_id("archived-filter").click()
    _row(page, f"{word} file").get_by_test_id("restore").click()
    expect(_row(page, f"{word} file")).to_have_count(0)
    page.get_by_test_id("archived-filter").click()
    page.once("dialog", lambda dialog: dialog.accept())
    _row(page, f"{word} file").get_by_test_id("delete").click()
    expect(page.get_by_test_id("lifecycle-notice")).to_contain_text("deleted")
    expect(_row(page, f"{word} file")).to_have_count(0)
    assert api.get(f"nodes/{data['_id']}").status_code == 404
    shot(page, "archive-03-file-deleted")
