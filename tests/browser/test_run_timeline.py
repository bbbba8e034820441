"""Where a run's time went: the run view's timeline, one bar per operation, cached ones marked; its cost."""
from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow

ONE = {"file_types": ["file"], "min_count": 1, "max_count": 1}


def _slow(title: str, seconds: float, cacheable: bool = True) -> dict:
    cmd = f"import time\ntime.sleep({seconds})\nopen(outputs['out'], 'w').write({title!r})\n"
    node = operation("python", title, cmd, inputs=[{"name": "in", **ONE}] if title.startswith("Use") else [],
                     outputs=["out"])
    if not cacheable:
        node["parameters"].append({"name": "_cacheable", "parameter_type": "bool", "value": False})
    return node


def test_the_timeline_has_a_bar_per_operation_and_marks_the_cached_ones(page, api) -> None:
    tag = secrets.token_hex(3)
    make = instance(api.save_operation(_slow(f"Make {tag}", 0.3)))
    fresh = instance(api.save_operation(_slow(f"Fresh {tag}", 0.2, cacheable=False)))
    use = instance(api.save_operation(_slow(f"Use {tag}", 0.4)), **{"in": [(make, "out")]})
    body = api.ok("post", "graphs", json={"graph": graph(f"timeline {tag}", [make, fresh, use]),
                                          "actions": ["SAVE", "APPROVE"]})
    graph_id = body["graph"]["_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    again = api.ok("post", "graphs", json={"graph": {"_id": graph_id}, "actions": ["CREATE_RUN"]})["run_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"

    page.goto(f"/runs/{body['run_id']}")
    timeline = page.get_by_test_id("run-timeline")
    bars = timeline.get_by_test_id("timeline-bar")
    expect(bars).to_have_count(3)  # one per operation
    expect(timeline.locator('[data-cached="true"]')).to_have_count(0)
    expect(timeline.locator(f'[data-title="Use {tag}"] rect')).to_have_attribute("fill", "#2f9e57")  # SUCCESS
    make_box = timeline.locator(f'[data-title="Make {tag}"] rect').bounding_box()
    use_box = timeline.locator(f'[data-title="Use {tag}"] rect').bounding_box()
    assert make_box and use_box and use_box["x"] >= make_box["x"] + make_box["width"] - 1  # Use waited for Make
    ticks = timeline.get_by_test_id("timeline-axis").locator("text").all_text_contents()
    seconds = [float(text.removesuffix(" s")) for text in ticks]  # a sub-minute run: "0.25 s"
    assert len(ticks) >= 3 and seconds[0] == 0 and seconds == sorted(set(seconds)), ticks  # round, none twice
    expect(page.get_by_test_id("run-cost")).to_contain_text("GB-s")
    assert page.get_by_test_id("run-cost-usd").inner_text() != "$0.000000"
    shot(page, "run-timeline-ran")

    page.goto(f"/runs/{again}")  # the re-run: Make and Use from the cache, Fresh ran again
    timeline = page.get_by_test_id("run-timeline")
    expect(timeline.get_by_test_id("timeline-bar")).to_have_count(3)
    cached = timeline.locator('[data-cached="true"]')
    expect(cached).to_have_count(2)
    expect(timeline.locator(f'[data-title="Make {tag}"]')).to_have_attribute("data-cached", "true")
    expect(timeline.locator(f'[data-title="Make {tag}"] rect')).to_have_attribute("fill", "url(#timeline-cached)")
    expect(timeline.locator(f'[data-title="Make {tag}"]')).to_contain_text("from the cache")
    expect(timeline.locator(f'[data-title="Fresh {tag}"]')).to_have_attribute("data-status", "SUCCESS")
    expect(page.get_by_test_id("run-cost")).to_contain_text("Lambda")
    shot(page, "run-timeline")
