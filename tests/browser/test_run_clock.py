"""While a run is watched the elapsed time ticks in the toolbar, and the canvas renders only when a
poll brings news, never on the clock's tick (renders counted by tests/browser/render_probe.py)."""
from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser import render_probe
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow

WINDOW_MS = 2500


def test_the_run_clock_ticks_without_rendering_the_canvas(page, api) -> None:
    tag = secrets.token_hex(3)
    nap = api.save_operation(operation("bash_jinja2", f"Nap {tag}", "sleep 12\necho 1 > {{ outputs.out }}\n", outputs=["out"]))
    reader = api.save_operation(operation("python", f"Read {tag}", "open(outputs['y'], 'w').write('1')\n",
                                          inputs=[{"name": "x", "file_types": ["file"], "min_count": 1, "max_count": 1}],
                                          outputs=["y"]))
    first = instance(nap)
    nodes = [first] + [dict(instance(reader, x=[(first, "out")]), title=f"Read {i}") for i in range(5)]
    graph_id = api.ok("post", "graphs", json={"graph": graph(f"clock {tag}", nodes), "actions": ["SAVE"]})["graph"]["_id"]

    render_probe.install(page)
    page.goto(f"/graphs/{graph_id}")
    expect(page.get_by_test_id("pnode")).to_have_count(6)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("graph-status")).to_contain_text("RUNNING")
    expect(page.get_by_test_id("elapsed")).to_be_visible()
    page.get_by_test_id("notice").get_by_role("button", name="Dismiss").click()  # "Running…" would fade mid-count
    expect(page.get_by_test_id("notice")).to_have_count(0)

    since = render_probe.start(page)
    page.wait_for_timeout(WINDOW_MS)
    counts = render_probe.read(page, graph_id, since)
    expect(page.get_by_test_id("graph-status")).to_contain_text("RUNNING")  # the whole count saw a run
    api.ok("post", f"graphs/{graph_id}/cancel")
    api.wait(graph_id)

    assert counts["clock"] >= 5, counts  # it ticks every 200 ms
    # a poll answered just before the count may render just after it started: one more than the polls
    assert counts["reactFlow"] <= counts["polls"] + 1, counts
    # A poll's answer reaches the canvas in one commit, or two on a loaded machine (seen at load 5-9 on two
    # cores: 6 commits for 3 polls); a commit per tick of the clock would be 12 or more in this window.
    assert counts["canvasCommits"] <= 2 * counts["polls"] + 1, counts
    assert counts["canvasCommits"] < counts["clock"], counts
