"""Say what happened: a cached result names the run it came from (a link), the re-run's notice says the
cache; notices stack without overlapping; an empty workflow's Run saves nothing; a file's page lights the
Files tab; no page load logs a 404; Preview command comes into view; input types are checkboxes."""
from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import new_graph, select_node
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow


def _overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def _no_overlaps(page: Any) -> int:
    boxes = [box for box in (item.bounding_box() for item in page.locator(".notices > *").all()) if box]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not _overlap(a, b), (a, b)
    return len(boxes)


def test_a_rerun_says_its_results_came_from_the_cache_of_a_named_run(page, api) -> None:
    tag = secrets.token_hex(3)
    op = api.save_operation(operation("python", f"Twice {tag}", "open(outputs['out'], 'w').write('2')\n",
                                      outputs=["out"], params={"salt": tag}))
    saved = api.ok("post", "graphs", json={"graph": graph(f"cached {tag}", [instance(op)]),
                                           "actions": ["SAVE", "APPROVE"]})
    graph_id = saved["graph"]["_id"]
    first = api.wait(graph_id)
    assert first["graph_running_status"] == "SUCCESS"
    page.goto(f"/graphs/{graph_id}")
    page.get_by_role("button", name="Run", exact=True).click()
    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text("The run succeeded: its result came from the cache", timeout=30_000)
    expect(notice).to_contain_text(f"(run {first['run_id']})")
    properties = select_node(page, f"Twice {tag}")
    cached = properties.get_by_test_id("cached-from")
    expect(cached).to_contain_text(f"From the cache (run {first['run_id']}, ")
    shot(page, "75-cached-result-from-run")
    cached.get_by_role("link", name=first["run_id"]).click()
    expect(page).to_have_url(re.compile(f"/runs/{first['run_id']}$"))
    expect(page.get_by_test_id("run-operations").locator(f'tr[data-title="Twice {tag}"]')).to_have_attribute(
        "data-status", "SUCCESS")


def test_an_empty_workflow_runs_nothing_saves_nothing_and_notices_never_overlap(page, api) -> None:
    title = f"empty {secrets.token_hex(3)}"
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)
    new_graph(page, title)
    page.get_by_role("button", name="Run", exact=True).click()
    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text("Nothing to run: the workflow is empty (nothing was saved)")
    expect(page.locator(".notices .hint")).to_be_visible()
    assert _no_overlaps(page) == 2  # the notice above the empty canvas's hint, apart
    shot(page, "76-empty-run-one-notice")
    assert not [url for url in posted if url.endswith("/graphs")], posted
    found = api.ok("post", "search_graphs", json={"search": title})["items"]
    assert not [g for g in found if g["title"] == title]
    page.get_by_role("button", name="Validate").click()  # a second notice replaces the first
    expect(notice).to_contain_text("valid")
    expect(page.get_by_test_id("notice")).to_have_count(1)
    _no_overlaps(page)


def test_a_page_load_logs_no_404(page) -> None:
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    page.on("console", lambda message: missing.append(message.text) if "404" in message.text else None)
    for path in ("/", "/files", "/graphs/new", "/nodes"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert not missing, missing
    # a browser with a window asks for the page's icon (headless Chromium does not): the one named is there
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon and page.request.get(icon).status == 200, icon


def test_a_files_page_lights_the_files_tab(page, api) -> None:
    uploaded = api.upload(b"x", f"lit {secrets.token_hex(3)}")
    page.goto(f"/nodes/{uploaded['_id']}")  # an old link to a file: it moves to /files/<id>
    expect(page).to_have_url(re.compile(f"/files/{uploaded['_id']}$"))
    nav = page.locator("header nav")
    expect(nav.get_by_role("link", name="Files")).to_have_class("active")
    expect(nav.get_by_role("link", name="Operations")).not_to_have_class("active")


def test_input_types_are_checkboxes_and_preview_command_comes_into_view(page) -> None:
    page.set_viewport_size({"width": 1500, "height": 700})
    page.goto("/nodes/new?kind=bash_jinja2")
    page.get_by_role("button", name="Add input").click()
    types = page.get_by_role("group", name="Input types").first
    types.get_by_role("checkbox", name="csv").check()
    types.get_by_role("checkbox", name="file").uncheck()
    expect(types.get_by_role("checkbox", name="csv")).to_be_checked()
    shot(page, "77-operation-editor-type-checkboxes")
    page.get_by_role("button", name="Preview command").click()
    expect(page.get_by_test_id("cmd-preview")).to_be_in_viewport()
