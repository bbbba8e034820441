"""A newcomer's first hour, walked as one path through the UI only (REST only reads back to assert): write
Sum, upload two files on the Files page, wire them into Sum, run and read 36, re-run from the cache, approve a
new version that replaces the old one, upgrade the workflow to it, break it and read the traceback at the
user's line 1. Screenshots newcomer-01 … newcomer-12 in test-artifacts/screenshots/."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import add_from_hub, new_graph, node, preview, select_node, wire

pytestmark = pytest.mark.slow

SUM = (  # the README's tour example
    "s = 0\n"
    'for f in inputs["input"]:\n'
    "    s += sum(int(l) for l in open(f))\n"
    'open(outputs["output"], "w").write(str(s))\n'
)
SUM_V2 = SUM.replace("write(str(s))", 'write(f"total: {s}")')
BROKEN = 'raise ValueError("boom")\n' + SUM_V2


def _code(container, code: str, testid: str = "operation-code") -> None:
    container.get_by_test_id(testid).locator(".cm-content").fill(code)


def _toolbar(page, name: str) -> None:
    """A toolbar action, inline or in the More menu when the row is narrow."""
    inline = page.get_by_role("button", name=name, exact=True)
    if inline.count() and inline.first.is_visible():
        inline.first.click()
        return
    page.get_by_role("button", name="More").click()
    page.get_by_role("menuitem", name=name).click()


UNCOVERED = """title => { const node = document.querySelector(`[data-testid="pnode"][data-title="${title}"]`);
    const panel = document.querySelector('[data-testid="properties"]');
    return node && panel && node.getBoundingClientRect().right <= panel.getBoundingClientRect().left; }"""


def test_a_newcomers_first_hour(page, api, tmp_path) -> None:
    tag = secrets.token_hex(3)

    # 1. write Sum (the tour's operation), approve it
    page.goto("/")
    page.get_by_role("link", name="New python operation").first.click()
    editor = page.get_by_test_id("operation-editor")
    editor.get_by_label("Title").fill("Sum")
    editor.get_by_label("Description").fill(f"Sums the integers in all files of its input ({tag})")
    editor.get_by_role("button", name="Add input").click()
    editor.get_by_label("Input name").fill("input")
    expect(editor.get_by_label("Minimum count")).to_have_value("1")
    editor.get_by_label("Array").check()  # max_count -1: any number of files
    editor.get_by_role("button", name="Add output").click()
    editor.get_by_label("Output name").fill("output")
    _code(editor, SUM)
    shot(page, "newcomer-01-operation")
    editor.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("op-notice")).to_contain_text("Approved")
    expect(page).to_have_url(re.compile(r"/nodes/[0-9a-zA-Z_-]+$"))
    v1 = page.url.rsplit("/", 1)[1]
    stored = api.ok("get", f"nodes/{v1}")["data"]
    assert stored["node_status"] == "READY"
    assert [(i["name"], i["file_types"], i["min_count"], i["max_count"]) for i in stored["inputs"]] == [
        ("input", ["file"], 1, -1)]
    assert [o["name"] for o in stored["outputs"]] == ["output"]
    shot(page, "newcomer-02-operation-approved")

    # 2. the Files page: upload the two files with its upload control
    one, two = tmp_path / f"one-{tag}.txt", tmp_path / f"two-{tag}.txt"
    one.write_text("1\n2\n3\n")
    two.write_text("10\n20\n")
    page.locator("header nav").get_by_role("link", name="Files").click()
    expect(page).to_have_url(re.compile(r"/files$"))
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("upload-panel").get_by_role("button", name="Upload files").click()
    chooser.value.set_files([str(one), str(two)])
    files = page.get_by_test_id("file-list")
    for name in (one.name, two.name):
        expect(files.locator("tbody tr").filter(has_text=name).filter(
            has=page.get_by_text("READY", exact=True))).to_have_count(1, timeout=30_000)
    expect(page.get_by_test_id("upload-note")).to_have_text(f'Uploaded "{one.name}" as file, "{two.name}" as file.')
    shot(page, "newcomer-03-files-uploaded")

    # 3. a new workflow: the two files and Sum from the hub, both files wired to Sum's input
    new_graph(page, f"sum {tag}")
    page.get_by_label("Search the hub").fill(tag)
    add_from_hub(page, one.name, at=(140, 80), tab="Files")
    add_from_hub(page, two.name, at=(140, 300), tab="Files")
    add_from_hub(page, "Sum", at=(520, 190), tab="Database hub")
    wire(page, one.name, "out", "Sum", "input")
    wire(page, two.name, "out", "Sum", "input")
    expect(page.locator(".react-flow__edge")).to_have_count(2)
    shot(page, "newcomer-04-graph-wired")

    # 4. run it; Sum's output reads 36
    page.get_by_role("button", name="Run", exact=True).click()
    expect(node(page, "Sum")).to_have_attribute("data-status", "SUCCESS", timeout=60_000)
    expect(page.get_by_test_id("graph-status")).to_contain_text("SUCCESS")
    expect(page).to_have_url(re.compile(r"/graphs/[0-9a-f]{24}$"))
    graph_id = page.url.rsplit("/", 1)[1]
    first_run = api.ok("get", f"graphs/{graph_id}")["data"]["run_id"]
    properties = select_node(page, "Sum")
    expect(preview(properties, "output-output")).to_have_text("36")
    shot(page, "newcomer-05-run-36")

    # 5. run again: nothing changed, so Sum's result comes from the first run's cache, and says so
    page.get_by_role("button", name="Run", exact=True).click()
    expect(node(page, "Sum")).to_have_attribute("data-status", "RESTORED", timeout=60_000)
    notice = page.get_by_test_id("notice")  # it fades after 5 s: read as the run ends
    expect(notice).to_contain_text("The run succeeded: its result came from the cache")
    expect(notice).to_contain_text(f"(run {first_run})")
    badge = node(page, "Sum").locator(".badge")
    expect(badge).to_have_attribute("title", f"From the cache: the results of run {first_run}")
    properties = select_node(page, "Sum")
    expect(properties.get_by_test_id("cached-from")).to_contain_text(f"From the cache (run {first_run}, ")
    expect(preview(properties, "output-output")).to_have_text("36")
    shot(page, "newcomer-06-rerun-from-cache")

    # 6. open Sum from its node, write a new version ("total: N"), approve it replacing the old one
    properties.get_by_role("link", name=v1).click()
    expect(page).to_have_url(re.compile(f"/nodes/{v1}$"))
    editor = page.get_by_test_id("operation-editor")
    editor.get_by_role("button", name="New version").click()
    _code(editor, SUM_V2)
    editor.get_by_role("button", name="Approve").click()
    dialog = page.get_by_test_id("approve-dialog")
    replace = dialog.get_by_role("checkbox", name=re.compile("Replace the version it came from"))
    expect(replace).to_be_checked()
    shot(page, "newcomer-07-approve-new-version")
    dialog.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("op-notice")).to_contain_text("replaces the version it came from")
    v2 = page.url.rsplit("/", 1)[1]
    assert v2 != v1
    old = api.ok("get", f"nodes/{v1}")["data"]
    assert old["node_status"] == "DEPRECATED" and old["successor_node_id"] == v2
    shot(page, "newcomer-08-new-version-approved")

    # 7. back in the workflow, Upgrade nodes moves Sum to the new version; run it and read the new output
    page.locator("header nav").get_by_role("link", name="Workflows").click()
    page.get_by_role("link", name=f"sum {tag}").first.click()
    expect(page).to_have_url(re.compile(f"/graphs/{graph_id}$"))
    expect(node(page, "Sum")).to_have_count(1)
    _toolbar(page, "Upgrade nodes")
    expect(notice).to_contain_text("1 node(s) upgraded")
    properties = select_node(page, "Sum")
    expect(properties.get_by_role("link", name=v2)).to_be_visible()
    page.wait_for_function(UNCOVERED, arg="Sum")  # the panel opened by selecting it does not cover it
    expect(page.locator(".react-flow__edge")).to_have_count(2)  # the upgraded node keeps its wires
    shot(page, "newcomer-09-upgraded")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(node(page, "Sum")).to_have_attribute("data-status", "SUCCESS", timeout=60_000)
    properties = select_node(page, "Sum")
    expect(preview(properties, "output-output")).to_have_text("total: 36")
    assert [n["parent_node_id"] for n in api.ok("get", f"graphs/{graph_id}")["data"]["nodes"]
            if n["title"] == "Sum"] == [v2]
    shot(page, "newcomer-10-new-version-output")

    # 8. break it on purpose in the workflow (line 1 raises), run: FAILED, the stderr at the user's line 1
    _code(properties, BROKEN, testid="code-_cmd")
    shot(page, "newcomer-11-broken")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("graph-status")).to_contain_text("FAILED", timeout=60_000)
    expect(node(page, "Sum")).to_have_attribute("data-status", "FAILED")
    expect(notice).to_contain_text('"Sum" failed')
    properties = page.get_by_test_id("properties")  # the failing node is selected, its stderr open
    expect(properties.get_by_label("Title", exact=True)).to_have_value("Sum")
    stderr = properties.get_by_test_id("log-stderr-preview")
    expect(stderr).to_contain_text("ValueError: boom")
    expect(stderr).to_contain_text('File "operation Sum", line 1, in <module>')
    expect(stderr).not_to_contain_text("exec.py")
    shot(page, "newcomer-12-traceback")
