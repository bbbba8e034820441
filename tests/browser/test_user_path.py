"""A new user's path through the UI in a real browser: write an operation, build a graph from it and an
uploaded file, run it, read its output and logs; a failing operation shows FAILED with its stderr."""
from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import add_from_hub, new_graph, node, preview, select_node, wire
from tests.helpers import operation

pytestmark = pytest.mark.slow

COUNT_CODE = (
    'with open(inputs["text"]) as f:\n'
    "    n = len(f.readlines())\n"
    'print("counted", n)\n'
    'with open(outputs["count"], "w") as out:\n'
    "    out.write(str(n))\n"
)


def test_new_user_writes_an_operation_runs_a_graph_and_reads_the_result(page, tmp_path) -> None:
    tag = secrets.token_hex(3)
    op_title = f"Line count {tag}"
    page.goto("/")
    expect(page.get_by_test_id("dashboard")).to_be_visible()
    expect(page.get_by_test_id("user")).to_contain_text("default")  # single-user mode opens straight in
    shot(page, "01-dashboard")

    # 1. the operation, in the operation editor
    page.get_by_role("link", name="New python operation").first.click()
    editor = page.get_by_test_id("operation-editor")
    expect(editor).to_be_visible()
    editor.get_by_label("Title").fill(op_title)
    editor.get_by_role("button", name="Add input").click()
    editor.get_by_label("Input name").fill("text")
    editor.get_by_role("button", name="Add output").click()
    editor.get_by_label("Output name").fill("count")
    editor.get_by_test_id("operation-code").locator(".cm-content").fill(COUNT_CODE)
    shot(page, "02-operation-editor")
    editor.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("op-notice")).to_contain_text("Approved")
    expect(editor.get_by_test_id("versions")).to_contain_text("READY")

    # 2. a new graph: upload a file onto the canvas, drag the operation from the hub, wire them
    new_graph(page, f"count lines {tag}")
    data = tmp_path / f"numbers-{tag}.txt"
    data.write_text("1\n2\n3\n")
    page.get_by_test_id("upload-input").set_input_files(str(data))
    expect(node(page, data.name)).to_have_count(1)
    add_from_hub(page, op_title, at=(120, 60))
    wire(page, data.name, "out", op_title, "text")
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    shot(page, "03-graph-wired")

    # 3. run it and watch it turn SUCCESS
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("graph-status")).to_contain_text("SUCCESS", timeout=60_000)
    expect(node(page, op_title)).to_have_attribute("data-status", "SUCCESS")
    expect(page.get_by_test_id("elapsed")).to_be_visible()

    # 4. the output's preview and the logs
    properties = select_node(page, op_title)
    expect(preview(properties, "output-count")).to_have_text("3")
    with page.expect_download() as download:
        properties.get_by_test_id("output-count").get_by_role("button", name="Download").click()
    assert open(download.value.path(), "rb").read() == b"3"
    expect(preview(properties, "log-stdout")).to_contain_text("counted 3")
    expect(preview(properties, "log-worker")).to_contain_text("JOB SUCCEEDED")
    shot(page, "04-run-success-output")

    # the run is listed with its status
    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_test_id("run-list")).to_contain_text(f"count lines {tag}")


def test_a_failing_operation_shows_failed_with_its_stderr(page, api) -> None:
    tag = secrets.token_hex(3)
    title = f"Boom {tag}"
    api.save_operation(operation("python", title, "raise ValueError('bad data')\nprint('never')\n",
                                 outputs=["out"]))
    new_graph(page, f"boom {tag}")
    add_from_hub(page, title)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("graph-status")).to_contain_text("FAILED", timeout=60_000)
    expect(node(page, title)).to_have_attribute("data-status", "FAILED")
    expect(page.get_by_test_id("notice")).to_contain_text(f'"{title}" failed')
    # the failed node is selected and its stderr open, without a click
    properties = page.get_by_test_id("properties")
    expect(properties.get_by_label("Title", exact=True)).to_have_value(title)
    stderr = properties.get_by_test_id("log-stderr-preview")
    expect(stderr).to_contain_text("ValueError: bad data")
    expect(stderr).to_contain_text("Traceback (most recent call last)")
    expect(stderr).to_contain_text(f'File "operation {title}", line 1, in <module>')  # the user's line, not exec.py's
    expect(stderr).not_to_contain_text("exec.py")
    shot(page, "05-run-failed-stderr")
