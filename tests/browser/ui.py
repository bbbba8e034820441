"""What a user does in the UI, as small steps the browser tests share."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect


def node(page: Any, title: str) -> Any:
    """The canvas node with this title."""
    return page.locator(f'[data-testid="pnode"][data-title="{title}"]')


def wire(page: Any, source: str, output: str, target: str, input_name: str) -> None:
    """Drag a wire from an output handle to an input handle with the mouse, as a user does."""
    start = node(page, source).locator(f'.handle-out[data-port="{output}"]').bounding_box()
    end = node(page, target).locator(f'.handle-in[data-port="{input_name}"]').bounding_box()
    assert start and end, "both handles must be on screen"
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def add_from_hub(page: Any, title: str, at: tuple[int, int] | None = None, tab: str | None = None) -> None:
    """Drag a hub item onto the canvas at a pane position (or add it with its + button).

    The first hub (the database's approved operations) is open unless another tab is named."""
    if tab:
        page.get_by_role("tab", name=tab).click()
    item = page.locator(f'[data-testid="hub-item"][data-title="{title}"]')
    expect(item).to_be_visible()
    if at is None:
        item.get_by_role("button", name=f"Add {title}").click()
    else:
        item.drag_to(page.locator(".react-flow__pane"), target_position={"x": at[0], "y": at[1]})
    expect(node(page, title)).to_have_count(1)


def new_graph(page: Any, title: str) -> None:
    page.goto("/graphs/new")
    expect(page.get_by_test_id("graph-editor")).to_be_visible()
    page.get_by_label("Workflow title").fill(title)


def select_node(page: Any, title: str) -> Any:
    node(page, title).locator(".pnode-title").click()
    properties = page.get_by_test_id("properties")
    expect(properties.get_by_label("Title", exact=True)).to_have_value(title)
    return properties


def preview(properties: Any, testid: str) -> Any:
    """Open the preview of an output or log and return its element."""
    block = properties.get_by_test_id(testid)
    shown = block.get_by_test_id(f"{testid}-preview")
    if not shown.is_visible():
        block.get_by_role("button", name="Preview").click()
    return shown


def toolbar_action(page: Any, name: str) -> None:
    """Click one of the editor toolbar's actions, inline or, when the row is full, in its More menu."""
    inline = page.get_by_test_id("toolbar").get_by_role("button", name=name, exact=True)
    if inline.count():
        inline.click()
    else:
        page.get_by_role("button", name="More").click()
        page.get_by_test_id("toolbar-menu").get_by_role("menuitem", name=name).click()
