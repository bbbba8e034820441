"""Uploads where files live: the Files page (button and drop) with the editor's progress bar, a type picker
that says what each type is for, and a file no approved operation takes warned of, made a plain file in
one click."""
from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import add_from_hub, new_graph, node, wire
from tests.helpers import operation

pytestmark = pytest.mark.slow
PART_PUT = re.compile(r".*/uploads/.*[?&]partNumber=.*")
MB = 1024 * 1024
MAKE = """([name, size]) => { const bytes = new Uint8Array(size); for (let i = 0; i < size; i++) bytes[i] = i % 251;
    const dt = new DataTransfer(); dt.items.add(new File([bytes], name)); return dt; }"""


def _row(page: Any, title: str, status: str = "READY") -> Any:
    rows = page.get_by_test_id("file-list").locator("tbody tr").filter(has_text=title)
    return rows.filter(has=page.get_by_text(status, exact=True))


def test_a_file_dropped_on_the_files_page_uploads_with_the_progress_bar(page) -> None:
    name = f"dropped-{secrets.token_hex(3)}.bin"
    held: list[Any] = []  # the first part waits until the bar has been seen

    def hold_first(route: Any) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(PART_PUT, hold_first)
    page.goto("/files")
    panel = page.get_by_test_id("upload-panel")
    expect(panel).to_be_visible()
    transfer = page.evaluate_handle(MAKE, [name, 12 * MB])
    panel.dispatch_event("drop", {"dataTransfer": transfer})
    progress = page.get_by_test_id("upload-progress")
    expect(progress).to_contain_text(name)
    for _ in range(200):  # until the first part's PUT is held (the page dispatches routes while it waits)
        if held:
            break
        page.wait_for_timeout(50)
    expect(page.get_by_test_id("upload-bar")).to_be_visible()
    expect(page.get_by_test_id("upload-numbers")).to_contain_text("/ 12.6 MB")
    shot(page, "45-files-page-upload-progress")
    held[0].continue_()
    expect(progress).to_have_count(0, timeout=60_000)
    expect(page.get_by_test_id("upload-note")).to_contain_text(f'Uploaded "{name}" as file')
    expect(_row(page, name)).to_have_count(1)


def test_a_json_upload_is_warned_of_and_used_as_a_plain_file(page, api) -> None:
    tag = secrets.token_hex(3)
    name = f"data-{tag}.json"
    reader = api.save_operation(operation("python", f"reads a file {tag}", "print(open(inputs['in']).read())\n",
                                          inputs=[{"name": "in", "file_types": ["file"], "min_count": 1,
                                                   "max_count": 1}]))
    page.goto("/files")
    picker = page.get_by_label("Type of the uploaded file")
    picker.select_option("json")  # the picker says what a type is for
    expect(page.get_by_test_id("file-type-help")).to_contain_text("JSON document")
    picker.select_option("auto")
    expect(page.get_by_test_id("file-type-help")).to_contain_text("extension")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload files").click()
    chooser.value.set_files(files=[{"name": name, "mimeType": "application/json", "buffer": b'{"a": 1}'}])
    row = _row(page, name)
    expect(row).to_contain_text("json")
    warning = row.get_by_test_id("file-type-warning")
    expect(warning).to_contain_text("no operation takes json")
    shot(page, "46-files-page-json-warning")
    warning.get_by_role("button", name="Use as plain file").click()
    plain = _row(page, name)
    expect(plain.locator("td").nth(1)).to_have_text("file")
    expect(plain.get_by_test_id("file-type-warning")).to_have_count(0)
    expect(_row(page, name, "DEPRECATED")).to_have_count(1)  # the json version, its successor the plain one
    # the plain file wires to an operation that takes `file`
    new_graph(page, f"plain file {tag}")
    add_from_hub(page, name, at=(150, 150), tab="Files")
    add_from_hub(page, reader["title"], at=(550, 150), tab="Database hub")
    wire(page, name, "out", reader["title"], "in")
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    expect(node(page, reader["title"])).to_be_visible()


def test_the_hubs_files_tab_uploads_and_a_files_page_warns(page) -> None:
    name = f"hub-{secrets.token_hex(3)}.json"
    new_graph(page, f"hub upload {name}")
    page.get_by_role("tab", name="Files").click()
    panel = page.get_by_test_id("hub").get_by_test_id("upload-panel")
    with page.expect_file_chooser() as chooser:
        panel.get_by_role("button", name="Upload files").click()
    chooser.value.set_files(files=[{"name": name, "mimeType": "application/json", "buffer": b"[1, 2]"}])
    expect(panel.get_by_test_id("upload-note")).to_contain_text(f'Uploaded "{name}" as json')
    item = page.locator(f'[data-testid="hub-item"][data-title="{name}"]')
    expect(item).to_be_visible()
    page.goto("/files")
    _row(page, name).get_by_role("link", name=name).click()
    expect(page).to_have_url(re.compile(r"/files/[0-9a-f]{24}$"))
    warning = page.get_by_test_id("file-type-warning")
    expect(warning).to_contain_text("No approved operation takes JSON file (json) files")
    warning.get_by_role("button", name="Use as plain file").click()
    expect(page.get_by_test_id("file-type-warning")).to_have_count(0)
    expect(page.get_by_test_id("operation-editor")).to_contain_text("READY")
