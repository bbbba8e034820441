"""A widget per parameter type in the properties panel, and the values it writes are the JSON types
the API stores."""
from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import add_from_hub, new_graph, select_node

pytestmark = pytest.mark.slow

PARAMETERS = [
    ("s", "str", "text"),
    ("i", "int", 3),
    ("f", "float", 0.5),
    ("b", "bool", False),
    ("t", "text", "line one"),
    ("e", "enum", {"values": ["red", "green", "blue"], "index": 0}),
    ("ls", "list_str", ["a", "b"]),
    ("li", "list_int", [1, 2]),
    ("c", "color", "#336699"),
]


def test_each_parameter_type_has_its_widget_and_round_trips(page, api) -> None:
    tag = secrets.token_hex(3)
    title = f"Typed {tag}"
    node = {
        "base_node_name": "python", "title": title, "inputs": [], "outputs": [],
        "parameters": [{"name": "_cmd", "parameter_type": "code", "value": {"mode": "python", "value": "pass\n"}}]
        + [{"name": name, "parameter_type": kind, "value": value} for name, kind, value in PARAMETERS],
    }
    api.save_operation(node)
    new_graph(page, f"typed {tag}")
    add_from_hub(page, title)
    properties = select_node(page, title)

    def field(name: str):
        return properties.get_by_test_id(f"param-{name}")

    field("s").locator("input").fill("changed")
    field("i").locator("input").fill("42")
    field("f").locator("input").fill("2.25")
    field("b").locator('input[type="checkbox"]').check()
    field("t").locator("textarea").fill("line one\nline two")
    field("e").locator("select").select_option(label="blue")
    field("ls").locator("textarea").fill("x\ny\nz")
    field("li").locator("textarea").fill("7\n8")
    field("c").locator('input[type="color"]').fill("#ff0000")
    expect(field("_cmd").locator(".cm-content")).to_contain_text("pass")
    shot(page, "80-parameter-widgets")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")

    graph_id = page.url.rsplit("/", 1)[1]
    stored = api.ok("get", f"graphs/{graph_id}")["data"]["nodes"][0]
    values = {p["name"]: p["value"] for p in stored["parameters"]}
    assert values["s"] == "changed"
    assert values["i"] == 42 and values["f"] == 2.25 and values["b"] is True
    assert values["t"] == "line one\nline two"
    assert values["e"]["index"] == 2 and values["e"]["values"] == ["red", "green", "blue"]
    assert values["ls"] == ["x", "y", "z"] and values["li"] == [7, 8]
    assert values["c"] == "#ff0000"
