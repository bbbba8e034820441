"""The hub panel's tabs, groups and search, and a demo graph built from the static hub that runs."""
from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import add_from_hub, new_graph, node, preview, select_node, wire
from tests.helpers import operation

pytestmark = pytest.mark.slow


def test_hello_world_from_the_demo_hub(page) -> None:
    new_graph(page, f"hello {secrets.token_hex(3)}")
    hub = page.get_by_test_id("hub")
    hub.get_by_role("tab", name="Demo operations").click()
    expect(hub.get_by_role("button", name="Hello world")).to_be_visible()  # a group
    expect(hub.get_by_role("button", name="Basic functions")).to_be_visible()
    hub.get_by_label("Search the hub").fill("print message")
    expect(hub.get_by_test_id("hub-item")).to_have_count(1)
    hub.get_by_label("Search the hub").fill("")
    add_from_hub(page, "Get name", at=(40, 60))
    pane = page.locator(".react-flow__pane").bounding_box()
    placed = node(page, "Get name").bounding_box()
    assert abs(placed["x"] - (pane["x"] + 40)) < 25 and abs(placed["y"] - (pane["y"] + 60)) < 25  # where it was dropped
    add_from_hub(page, "Print message", at=(420, 60))
    properties = select_node(page, "Get name")
    properties.get_by_test_id("param-your_name").locator("input").fill("PLynx user")
    wire(page, "Get name", "name", "Print message", "name")
    shot(page, "50-demo-hub")
    page.get_by_role("button", name="Run", exact=True).click()
    # its parameters are publicable (the demo's): the run form asks, prefilled with the canvas's values
    form = page.get_by_role("dialog", name="Run parameters")
    expect(form.get_by_test_id("param-your_name").locator("input")).to_have_value("PLynx user")
    form.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("graph-status")).to_contain_text("SUCCESS", timeout=60_000)
    expect(node(page, "Print message")).to_have_attribute("data-status", "SUCCESS")
    properties = select_node(page, "Print message")
    expect(preview(properties, "output-message")).to_contain_text("Hello, PLynx user!")


def test_the_hub_says_loading_until_it_has_answered_and_what_a_search_missed(page, api) -> None:
    """Until the hub's search answers it says so, never "Nothing here yet" (read as "the operation I just
    approved is missing"); a search that matches nothing says so, not "approve an operation"."""
    tag = secrets.token_hex(3)
    api.save_operation(operation("python", f"Listed {tag}", "pass\n", outputs=["out"]))
    held: list = []
    page.route("**/search_in_hubs", lambda route: held.append(route) if not held else route.continue_())
    new_graph(page, f"hub loading {tag}")
    hub = page.get_by_test_id("hub")
    expect(hub.get_by_test_id("hub-loading")).to_have_text("Loading…")
    for _ in range(200):  # until the first search is held (the page dispatches routes while it waits)
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the hub searched"
    expect(hub.get_by_test_id("hub-loading")).to_have_text("Loading…")  # still, while the answer is held
    expect(hub.get_by_test_id("hub-empty")).to_have_count(0)
    held[0].continue_()
    expect(hub.locator(f'[data-testid="hub-item"][data-title="Listed {tag}"]')).to_be_visible()
    expect(hub.get_by_test_id("hub-loading")).to_have_count(0)
    hub.get_by_label("Search the hub").fill(f"no such thing {tag}")
    expect(hub.get_by_test_id("hub-empty")).to_have_text(f'Nothing matches "no such thing {tag}".')
