"""A canvas that helps: "+" places a node in free space, auto layout runs left to right as the wires do,
fit to view stays at or below 100 %, the minimap covers no node, and the toolbar keeps one row."""
from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import new_graph, node, wire
from tests.helpers import operation

pytestmark = pytest.mark.slow

HANDLE = 7  # a handle sticks out this far past its node's side (10 px wide, centred on the border)
MANY = {"file_types": ["file"], "min_count": 1, "max_count": -1}


def _boxes(page: Any) -> dict[str, list[dict]]:
    """Every canvas node's box on screen (its handles included), by title."""
    boxes: dict[str, list[dict]] = {}
    for element in page.get_by_test_id("pnode").all():
        box = element.bounding_box()
        assert box, "every node is drawn"
        wide = {**box, "x": box["x"] - HANDLE, "width": box["width"] + 2 * HANDLE}
        boxes.setdefault(element.get_attribute("data-title"), []).append(wide)
    return boxes


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def _no_two_overlap(boxes: dict[str, list[dict]]) -> None:
    flat = [(title, box) for title, found in boxes.items() for box in found]
    for i, (one, a) in enumerate(flat):
        for other, b in flat[i + 1:]:
            assert not _overlap(a, b), f"{one} {a} overlaps {other} {b}"


def _zoom(page: Any) -> float:
    """The canvas's zoom: the scale of React Flow's viewport transform."""
    return page.locator(".react-flow__viewport").evaluate("e => new DOMMatrix(getComputedStyle(e).transform).a")


def _settled(page: Any) -> None:
    """Wait until the nodes stop moving (fit-view and layout animate for 200 ms)."""
    page.wait_for_function("""() => {
        const now = JSON.stringify([...document.querySelectorAll('[data-testid=pnode]')].map(e => e.getBoundingClientRect()))
          + getComputedStyle(document.querySelector('.react-flow__viewport')).transform;
        const same = window.__lastBoxes === now;
        window.__lastBoxes = now;
        return same;
    }""", polling=150)


def test_plus_finds_free_space_layout_runs_left_to_right_fit_stays_at_100(page, api) -> None:
    tag = secrets.token_hex(3)
    source, step, sink = f"Source {tag}", f"Step {tag}", f"Sink {tag}"
    api.save_operation(operation("python", source, "open(outputs['y'], 'w').write('1')\n", outputs=["y"]))
    api.save_operation(operation("python", step, "pass\n", inputs=[{"name": "x", **MANY}], outputs=["y"]))
    api.save_operation(operation("python", sink, "pass\n", inputs=[{"name": "a", **MANY}, {"name": "b", **MANY}],
                                 outputs=["z"]))
    new_graph(page, f"canvas {tag}")

    # "+" twice: two nodes, neither on the other nor on its handles
    plus = page.locator(f'[data-testid="hub-item"][data-title="{source}"]').get_by_role("button", name=f"Add {source}")
    plus.click()
    plus.click()
    expect(node(page, source)).to_have_count(2)
    _settled(page)
    _no_two_overlap(_boxes(page))
    for title in (sink, step):  # added in an order that wires from right to left
        page.locator(f'[data-testid="hub-item"][data-title="{title}"]').get_by_role("button", name=f"Add {title}").click()
        expect(node(page, title)).to_have_count(1)
    _settled(page)
    boxes = _boxes(page)
    _no_two_overlap(boxes)
    pane = page.locator(".react-flow__pane").bounding_box()
    for found in boxes.values():  # all in view, where the user looks
        for box in found:
            assert pane["x"] <= box["x"] and box["x"] + box["width"] <= pane["x"] + pane["width"]
            assert pane["y"] <= box["y"] and box["y"] + box["height"] <= pane["y"] + pane["height"]
    shot(page, "40-plus-free-space")

    # wires: both sources into the step, the step and the first source into the sink
    first, second = node(page, source).nth(0), node(page, source).nth(1)
    _drag(page, first.locator('.handle-out[data-port="y"]'), node(page, step).locator('.handle-in[data-port="x"]'))
    _drag(page, second.locator('.handle-out[data-port="y"]'), node(page, step).locator('.handle-in[data-port="x"]'))
    _drag(page, first.locator('.handle-out[data-port="y"]'), node(page, sink).locator('.handle-in[data-port="b"]'))
    wire(page, step, "y", sink, "a")
    edges = page.locator(".react-flow__edge")
    expect(edges).to_have_count(4)

    page.get_by_role("button", name="Auto layout").click()
    _settled(page)
    boxes = _boxes(page)
    _no_two_overlap(boxes)
    (left, right), (middle,), (end,) = sorted(boxes[source], key=lambda b: b["y"]), boxes[step], boxes[sink]
    for a, b in [(left, middle), (right, middle), (middle, end), (left, end)]:  # every wire runs left to right
        assert a["x"] + a["width"] <= b["x"], (a, b)
    assert _zoom(page) <= 1.0  # the layout's fit stays at 100 % (a small graph in a big pane would zoom in)
    shot(page, "41-auto-layout-left-to-right")

    # fit to view with the button: still at most 100 %
    page.get_by_role("button", name="Zoom In").click()
    page.get_by_role("button", name="Zoom In").click()
    page.locator(".react-flow__controls-fitview").click()
    _settled(page)
    assert 0.5 < _zoom(page) <= 1.0

    # the minimap covers no node, nor any handle
    minimap = page.locator(".react-flow__minimap")
    expect(minimap).to_be_visible()
    map_box = minimap.bounding_box()
    for found in _boxes(page).values():
        for box in found:
            assert not _overlap(map_box, box), (map_box, box)
    # and it still steers the canvas: a drag on it pans the view
    before = page.locator(".react-flow__viewport").evaluate("e => getComputedStyle(e).transform")
    page.mouse.move(map_box["x"] + map_box["width"] / 2, map_box["y"] + map_box["height"] / 2)
    page.mouse.down()
    page.mouse.move(map_box["x"] + map_box["width"] / 2 + 30, map_box["y"] + map_box["height"] / 2 + 10, steps=5)
    page.mouse.up()
    expect(page.locator(".react-flow__viewport")).not_to_have_css("transform", before)


def _drag(page: Any, start_handle: Any, end_handle: Any) -> None:
    start, end = start_handle.bounding_box(), end_handle.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def _row(page: Any) -> list[dict]:
    """The toolbar's visible items' boxes; they must all sit on one line inside the toolbar once its layout has
    settled (a resize or a new status lays it out again on the next frames: up to 3 s for that)."""
    toolbar = page.get_by_test_id("toolbar")
    for attempt in range(30):
        bar = toolbar.bounding_box()
        boxes = [b for b in toolbar.locator(":scope > *").evaluate_all(
            "els => els.filter(e => e.offsetParent !== null).map(e => { const r = e.getBoundingClientRect();"
            " return {x: r.x, y: r.y, width: r.width, height: r.height}; })") if b["width"] > 0]
        middles = {round(b["y"] + b["height"] / 2) for b in boxes}
        one_row = max(middles) - min(middles) <= 2
        inside = all(bar["x"] <= b["x"] and b["x"] + b["width"] <= bar["x"] + bar["width"] + 0.5 for b in boxes)
        if (one_row and inside and bar["height"] < 50) or attempt == 29:
            break
        page.wait_for_timeout(100)
    assert one_row, f"not one row: {boxes}"
    assert inside, (bar, boxes)
    assert bar["height"] < 50
    return boxes


def test_the_toolbar_keeps_one_row_when_narrow_and_when_a_status_shows(page, api) -> None:
    tag = secrets.token_hex(3)
    title = f"Quick {tag}"
    api.save_operation(operation("python", title, "open(outputs['y'], 'w').write('1')\n", outputs=["y"]))
    page.set_viewport_size({"width": 1500, "height": 900})
    new_graph(page, f"toolbar {tag}")
    for name in ("Undo", "Auto layout", "Clone", "Upgrade nodes", "Generate code", "Make operation"):
        expect(page.get_by_role("button", name=name)).to_be_visible()  # at the tests' usual width, inline
    _row(page)
    page.locator(f'[data-testid="hub-item"][data-title="{title}"]').get_by_role("button", name=f"Add {title}").click()

    page.set_viewport_size({"width": 1024, "height": 768})
    more = page.get_by_role("button", name="More")
    expect(more).to_be_visible()
    _row(page)
    save = page.get_by_role("button", name="Save", exact=True).bounding_box()
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("graph-status")).to_contain_text("SUCCESS", timeout=60_000)
    expect(page.get_by_test_id("elapsed")).to_be_visible()
    _row(page)
    assert page.get_by_role("button", name="Save", exact=True).bounding_box() == save  # the status showing moved nothing
    shot(page, "42-toolbar-narrow-with-status")

    # what did not fit is in the menu, and works from there
    more.click()
    menu = page.get_by_test_id("toolbar-menu")
    expect(menu.get_by_role("menuitem", name="Upload file")).to_be_visible()
    expect(menu.get_by_role("menuitem", name="Generate code")).to_be_visible()
    shot(page, "43-toolbar-more-menu")
    menu.get_by_role("menuitem", name="Generate code").click()
    expect(menu).to_have_count(0)  # a choice closes the menu
    expect(page.get_by_role("dialog", name="Generated code")).to_be_visible()
