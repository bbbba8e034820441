"""Versions a person can follow: approving a changed copy of an approved operation asks whether it replaces
the version it came from (yes by default); the Operations list, the hub and the drop-wire menu show one entry
per operation with its version, date and author, the older versions folded under it; Upgrade nodes moves a
workflow's node to the new version."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import node
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow


def _toolbar(page, name: str) -> None:
    """A toolbar action, inline or in the More menu when the row is narrow."""
    inline = page.get_by_role("button", name=name, exact=True)
    if inline.count() and inline.first.is_visible():
        inline.first.click()
        return
    page.get_by_role("button", name="More").click()
    page.get_by_role("menuitem", name=name).click()


def _write(editor, code: str) -> None:
    editor.get_by_test_id("operation-code").locator(".cm-content").fill(code)


def test_a_new_version_replaces_the_old_one_and_lists_fold_it(page, api) -> None:
    tag = secrets.token_hex(3)
    title = f"Shout {tag}"
    page.goto("/nodes/new?kind=python")
    editor = page.get_by_test_id("operation-editor")
    editor.get_by_label("Title").fill(title)
    editor.get_by_label("Description").fill("Writes a greeting, loudly")
    editor.get_by_role("button", name="Add output").click()
    editor.get_by_label("Output name").fill("out")
    _write(editor, "open(outputs['out'], 'w').write('hello')\n")
    editor.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("op-notice")).to_contain_text("Approved")
    expect(page).to_have_url(re.compile(r"/nodes/[0-9a-zA-Z_-]+$"))
    v1 = page.url.rsplit("/", 1)[1]
    # a workflow that uses v1 (and a reader of it, to drop a wire from)
    used = api.ok("post", "graphs", json={"graph": graph(f"uses {tag}", [instance(api.ok("get", f"nodes/{v1}")["data"])]),
                                          "actions": ["SAVE"]})["graph"]

    # change it, approve the new version: the dialog asks, replacing is the default
    editor.get_by_role("button", name="New version").click()
    _write(editor, "open(outputs['out'], 'w').write('HELLO')\n")
    editor.get_by_role("button", name="Approve").click()
    dialog = page.get_by_test_id("approve-dialog")
    expect(dialog).to_contain_text(title)
    replace = dialog.get_by_role("checkbox")
    expect(replace).to_be_checked()
    shot(page, "45-approve-new-version")
    dialog.get_by_role("button", name="Approve").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("op-notice")).to_contain_text("replaces the version it came from")
    v2 = page.url.rsplit("/", 1)[1]
    assert v2 != v1
    old = api.ok("get", f"nodes/{v1}")["data"]
    assert old["node_status"] == "DEPRECATED" and old["successor_node_id"] == v2

    # the Operations list: one row, v2, with v1 folded under it
    page.goto("/nodes")
    page.get_by_label("Search").fill(tag)
    listing = page.get_by_test_id("operation-list")
    rows = listing.get_by_test_id("list-row")
    expect(rows).to_have_count(1)
    expect(rows.get_by_test_id("version-number")).to_have_text("v2")
    expect(listing.get_by_test_id("older-row")).to_have_count(0)
    rows.get_by_role("button", name="1 older").click()
    expect(listing.get_by_test_id("older-row").get_by_test_id("version-number")).to_have_text("v1")
    shot(page, "46-operations-versions-folded")

    # the hub: one entry "v2 · … · author" with its description, v1 folded under it
    page.goto(f"/graphs/{used['_id']}")
    hub = page.get_by_test_id("hub")
    hub.get_by_label("Search the hub").fill(tag)
    entry = hub.locator(f'[data-testid="hub-item"][data-title="{title}"]')
    expect(entry).to_have_count(1)
    expect(entry.get_by_test_id("version-meta")).to_contain_text("v2 ·")
    expect(entry.get_by_test_id("version-meta")).to_contain_text(old["author"])
    expect(entry).to_contain_text("Writes a greeting, loudly")
    expect(hub.get_by_test_id("hub-item-older")).to_have_count(0)
    entry.get_by_role("button", name="1 older").click()
    expect(hub.get_by_test_id("hub-item-older").get_by_test_id("version-meta")).to_contain_text("v1 ·")
    shot(page, "47-hub-versions-folded")

    # Upgrade nodes moves the workflow's v1 node to v2
    _toolbar(page, "Upgrade nodes")
    expect(page.get_by_test_id("notice")).to_contain_text("1 node(s) upgraded")
    _toolbar(page, "Save")
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")
    stored = api.ok("get", f"graphs/{used['_id']}")["data"]["nodes"]
    assert [n["parent_node_id"] for n in stored] == [v2]
    expect(node(page, title)).to_have_count(1)


def test_the_drop_wire_menu_folds_versions(page, api) -> None:
    tag = secrets.token_hex(3)
    source = api.save_operation(operation("python", f"Make {tag}", "pass\n", outputs=["made"]))
    reader = operation("python", f"Read {tag}", "pass\n",
                       inputs=[{"name": "text", "file_types": ["file"], "min_count": 1, "max_count": 1}])
    v1 = api.save_operation(reader)
    v2 = api.ok("post", "nodes", json={"node": dict(v1, description="second"), "actions": ["SAVE", "APPROVE"]})
    assert v2["replaced_node_id"] == v1["_id"]
    used = api.ok("post", "graphs", json={"graph": graph(f"wire {tag}", [dict(instance(source), x=40, y=40)]),
                                          "actions": ["SAVE"]})["graph"]
    page.goto(f"/graphs/{used['_id']}")
    handle = node(page, f"Make {tag}").locator('.handle-out[data-port="made"]').bounding_box()
    page.mouse.move(handle["x"] + 3, handle["y"] + 3)
    page.mouse.down()
    page.mouse.move(handle["x"] + 260, handle["y"] + 240, steps=10)
    page.mouse.up()
    picker = page.get_by_test_id("type-picker")
    entry = picker.locator(f'[data-testid="picker-item"][data-title="Read {tag}"]')
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("v2 ·")
    expect(picker.get_by_test_id("picker-item-older")).to_have_count(0)
    family = picker.locator(".picker-entry", has=page.locator(f'[data-testid="picker-item"][data-title="Read {tag}"]'))
    family.get_by_role("button", name="1 older").click()
    older = picker.locator(f'[data-testid="picker-item-older"][data-title="Read {tag}"]')
    expect(older).to_contain_text("v1 ·")
    shot(page, "48-drop-wire-versions")
    entry.click()
    expect(node(page, f"Read {tag}")).to_have_count(1)
    expect(page.locator(".react-flow__edge")).to_have_count(1)

