"""The graph editor's canvas: wires, delete and undo, copy and paste, auto layout, a wire dropped on
empty canvas offering operations of its type, save and reload; live statuses and Cancel."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import add_from_hub, new_graph, node, preview, select_node, wire
from tests.helpers import operation

pytestmark = pytest.mark.slow

ONE_FILE = {"file_types": ["file"], "min_count": 1, "max_count": 1}


def test_edit_undo_paste_layout_pick_by_type_and_reload(page, api) -> None:
    tag = secrets.token_hex(3)
    source = f"Source {tag}"
    sink = f"Sink {tag}"
    api.save_operation(operation("python", source, "open(outputs['y'], 'w').write('1')\n", outputs=["y"]))
    api.save_operation(operation("python", sink, "pass\n", inputs=[{"name": "x", **ONE_FILE}], outputs=["z"]))
    new_graph(page, f"editing {tag}")
    add_from_hub(page, source, at=(40, 40))
    add_from_hub(page, sink, at=(400, 40))
    wire(page, source, "y", sink, "x")
    edges = page.locator(".react-flow__edge")
    expect(edges).to_have_count(1)

    # delete a node (its wire goes with it), then undo brings both back
    node(page, sink).locator(".pnode-title").click()
    page.keyboard.press("Delete")
    expect(node(page, sink)).to_have_count(0)
    expect(edges).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(node(page, sink)).to_have_count(1)
    expect(edges).to_have_count(1)

    # a wire dropped on empty canvas offers the operations that read its type
    handle = node(page, source).locator('.handle-out[data-port="y"]').bounding_box()
    page.mouse.move(handle["x"] + 5, handle["y"] + 5)
    page.mouse.down()
    page.mouse.move(handle["x"] + 120, handle["y"] + 320, steps=10)
    page.mouse.up()
    picker = page.get_by_test_id("type-picker")
    expect(picker).to_contain_text("Operations reading file")
    expect(picker.get_by_role("button", name=source)).to_have_count(0)  # it has no input
    shot(page, "30-pick-by-type")
    picker.get_by_role("button", name=sink).click()
    expect(page.get_by_test_id("pnode")).to_have_count(3)
    expect(edges).to_have_count(2)

    # select all, copy and paste: the wires among the copies come along
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 400})
    page.keyboard.press("Control+a")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(page.get_by_test_id("pnode")).to_have_count(6)
    expect(edges).to_have_count(4)
    page.get_by_role("button", name="Auto layout").click()
    page.get_by_role("button", name="Undo").click()  # the layout
    page.get_by_role("button", name="Undo").click()  # the paste
    expect(page.get_by_test_id("pnode")).to_have_count(3)
    expect(edges).to_have_count(2)

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")
    expect(page).not_to_have_url(re.compile(r"/graphs/new$"))
    page.reload()
    expect(page.get_by_test_id("pnode")).to_have_count(3)
    expect(edges).to_have_count(2)
    expect(page.get_by_label("Workflow title")).to_have_value(f"editing {tag}")


def test_statuses_update_live_and_cancel_stops_the_run(page, api) -> None:
    tag = secrets.token_hex(3)
    slow = f"Slow {tag}"
    after = f"After {tag}"
    api.save_operation(operation("bash_jinja2", slow, "sleep 10\necho done > {{ outputs.out }}\n", outputs=["out"]))
    api.save_operation(operation("bash_jinja2", after, "cat {{ inputs.x }} > {{ outputs.out }}\n",
                                 inputs=[{"name": "x", **ONE_FILE}], outputs=["out"]))
    new_graph(page, f"cancel {tag}")
    add_from_hub(page, slow, at=(40, 40))
    add_from_hub(page, after, at=(400, 40))
    wire(page, slow, "out", after, "x")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(node(page, slow)).to_have_attribute("data-status", "RUNNING", timeout=20_000)
    expect(page.get_by_test_id("graph-status")).to_contain_text("RUNNING")
    expect(node(page, after)).to_have_attribute("data-status", "IN_QUEUE")
    expect(page.get_by_test_id("elapsed")).to_be_visible()
    properties = select_node(page, slow)
    expect(properties.get_by_label("Title", exact=True)).to_be_disabled()  # a running graph is read only
    shot(page, "31-running")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("graph-status")).to_contain_text("CANCELED", timeout=45_000)
    expect(node(page, after)).to_have_attribute("data-status", "CANCELED")
    shot(page, "32-canceled")


def test_a_file_dropped_from_the_desktop_is_uploaded_onto_the_canvas(page, api) -> None:
    tag = secrets.token_hex(3)
    name = f"table-{tag}.csv"
    new_graph(page, f"drop {tag}")
    transfer = page.evaluate_handle(
        """(name) => { const dt = new DataTransfer();
                     dt.items.add(new File(["a,b\\n1,2\\n"], name, { type: "text/csv" })); return dt; }""", name)
    pane = page.locator(".react-flow__pane")
    box = pane.bounding_box()
    pane.dispatch_event("drop", {"dataTransfer": transfer, "clientX": box["x"] + 200, "clientY": box["y"] + 150})
    expect(node(page, name)).to_have_count(1)
    expect(node(page, name)).to_contain_text("csv")  # typed by its extension
    page.get_by_test_id("hub").get_by_role("tab", name="Files").click()
    expect(page.locator(f'[data-testid="hub-item"][data-title="{name}"]')).to_be_visible()
    properties = select_node(page, name)
    shown = preview(properties, "output-out")
    frame = shown.locator("iframe")
    expect(frame).to_have_attribute("sandbox", "")  # the API's HTML preview runs in a sandbox
    expect(shown.frame_locator("iframe").locator("table")).to_contain_text("1")
    shot(page, "33-csv-preview")
