"""Bad input in the UI gets a clear message where the user is looking, and the page never goes blank:
an incompatible link, a cycle, an invalid parameter value, the API down, an endpoint not there yet."""
from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import add_from_hub, new_graph, node, select_node, wire
from tests.helpers import operation

pytestmark = pytest.mark.slow

ONE_FILE = {"file_types": ["file"], "min_count": 1, "max_count": 1}
ONE_CSV = {"file_types": ["csv"], "min_count": 1, "max_count": 1}


def test_incompatible_link_is_refused_with_the_reason(page, api) -> None:
    tag = secrets.token_hex(3)
    api.save_operation(operation("python", f"Make text {tag}", "open(outputs['out'], 'w').write('x')\n", outputs=["out"]))
    api.save_operation(operation("python", f"Read csv {tag}", "pass\n", inputs=[{"name": "table", **ONE_CSV}]))
    new_graph(page, f"types {tag}")
    add_from_hub(page, f"Make text {tag}", at=(60, 60))
    add_from_hub(page, f"Read csv {tag}", at=(420, 60))
    wire(page, f"Make text {tag}", "out", f"Read csv {tag}", "table")
    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text("Types do not match")
    expect(notice).to_contain_text('accepts csv')
    expect(page.locator(".react-flow__edge")).to_have_count(0)
    shot(page, "10-incompatible-link")


def test_a_cycle_is_refused_and_a_stored_cycle_is_shown_on_its_nodes(page, api) -> None:
    tag = secrets.token_hex(3)
    step = api.save_operation(operation("python", f"Step {tag}", "pass\n", inputs=[{"name": "x", **ONE_FILE}],
                                        outputs=["y"]))
    new_graph(page, f"cycle {tag}")
    add_from_hub(page, step["title"], at=(60, 60))
    page.locator('[data-testid="pnode"]').first.locator(".pnode-title").click()
    page.get_by_test_id("properties").get_by_label("Title", exact=True).fill("A")
    add_from_hub(page, step["title"], at=(420, 200))
    page.get_by_test_id("properties").get_by_label("Title", exact=True).fill("B")
    wire(page, "A", "y", "B", "x")
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    wire(page, "B", "y", "A", "x")
    expect(page.get_by_test_id("notice")).to_contain_text("would make a cycle")
    expect(page.locator(".react-flow__edge")).to_have_count(1)

    # a cycle that came in through the API is shown on the nodes by Validate
    a, b = (dict(step, _id=f"{name}{tag}", title=name, parent_node_id=step["_id"]) for name in ("A", "B"))
    a["inputs"] = [dict(ONE_FILE, name="x", values=[{"node_id": b["_id"], "output_id": "y"}])]
    b["inputs"] = [dict(ONE_FILE, name="x", values=[{"node_id": a["_id"], "output_id": "y"}])]
    saved = api.ok("post", "graphs", json={"graph": {"title": f"stored cycle {tag}", "nodes": [a, b]}, "actions": ["SAVE"]})
    page.goto(f"/graphs/{saved['graph']['_id']}")
    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_test_id("notice")).to_contain_text("not valid")
    expect(node(page, "A").get_by_test_id("node-errors")).to_contain_text("part of a cycle")
    expect(node(page, "B").get_by_test_id("node-errors")).to_contain_text("part of a cycle")
    a_box, b_box = node(page, "A").bounding_box(), node(page, "B").bounding_box()
    assert (a_box["x"], a_box["y"]) != (b_box["x"], b_box["y"])  # stacked API nodes are laid out on load
    shot(page, "11-cycle")


def test_invalid_parameter_value_is_named_in_the_panel_and_on_the_node(page, api) -> None:
    tag = secrets.token_hex(3)
    title = f"Repeat {tag}"
    api.save_operation(operation("python", title, "open(outputs['out'], 'w').write('x' * int(params['times']))\n",
                                 outputs=["out"], params={"times": 3}))
    new_graph(page, f"params {tag}")
    add_from_hub(page, title)
    properties = select_node(page, title)
    field = properties.get_by_test_id("param-times")
    field.locator("input").fill("three")
    expect(field).to_contain_text("must be a whole number")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("notice")).to_contain_text("Not started")
    expect(node(page, title).get_by_test_id("node-errors")).to_contain_text('Parameter "times" has an invalid value')
    shot(page, "12-invalid-parameter")
    field.locator("input").fill("4")
    expect(field).not_to_contain_text("must be")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("graph-status")).to_contain_text("SUCCESS", timeout=60_000)


def test_api_down_shows_a_banner_and_the_page_stays(page, stack) -> None:
    page.goto("/graphs")
    expect(page.get_by_test_id("graph-list")).to_be_visible()
    page.route(f"{stack.api_url}/**", lambda route: route.abort("connectionrefused"))
    page.get_by_role("link", name="Operations").click()
    banner = page.get_by_test_id("api-down")
    expect(banner).to_contain_text("Cannot reach the PLynx API")
    expect(page.get_by_role("link", name="Workflows")).to_be_visible()  # the shell is still there
    expect(page.get_by_test_id("operation-list").get_by_role("alert")).to_contain_text("Cannot reach")
    shot(page, "13-api-down")
    page.unroute(f"{stack.api_url}/**")
    banner.get_by_role("button", name="Retry").click()
    expect(banner).to_have_count(0)

    # the API already down when the page opens, on the graph editor: the shell and the reason show
    page.route(f"{stack.api_url}/**", lambda route: route.abort("connectionrefused"))
    page.goto("/graphs/new")
    expect(page.get_by_test_id("api-down")).to_contain_text("Is the server running?")
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(page.locator("main").get_by_role("alert")).to_contain_text("Cannot reach")


def test_a_missing_endpoint_is_a_message_not_a_blank_page(page, api) -> None:
    new_graph(page, "missing endpoint")
    page.route("**/graphs", lambda route: route.fulfill(status=403, content_type="application/json",
                                                         body='{"message": "Missing Authentication Token"}')
               if route.request.method == "POST" else route.continue_())
    page.get_by_role("button", name="Generate code").click()
    expect(page.get_by_test_id("notice")).to_contain_text("is not available on this server yet")
    expect(page.get_by_test_id("graph-editor")).to_be_visible()


def test_saving_over_a_newer_version_says_so_and_keeps_the_work(page, api) -> None:
    tag = secrets.token_hex(3)
    saved = api.ok("post", "graphs", json={"graph": {"title": f"shared {tag}", "nodes": []}, "actions": ["SAVE"]})
    graph_id = saved["graph"]["_id"]
    page.goto(f"/graphs/{graph_id}")
    page.get_by_label("Workflow title").fill(f"mine {tag}")
    other = page.context.new_page()  # the same user in another tab saves first
    other.goto(f"/graphs/{graph_id}")
    other.get_by_label("Workflow title").fill(f"theirs {tag}")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other.get_by_test_id("notice")).to_contain_text("Saved")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("notice")).to_contain_text("changed by someone else")
    expect(page.get_by_label("Workflow title")).to_have_value(f"mine {tag}")  # nothing lost
    assert api.ok("get", f"graphs/{graph_id}")["data"]["title"] == f"theirs {tag}"
