"""Watching runs: the dashboard shows what runs now and what ran; a second run of an unchanged graph
shows RESTORED nodes; an image output has a thumbnail."""
from __future__ import annotations

import secrets
import struct
import zlib

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import node, select_node
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow


def png(width: int = 24, height: int = 16) -> bytes:
    """A small valid RGB PNG (a gradient), written by hand."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"".join(bytes((x * 10 % 256, y * 15 % 256, 128)) for x in range(width))
                   for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_dashboard_shows_running_and_recent_runs_and_a_rerun_is_restored(page, api) -> None:
    tag = secrets.token_hex(3)
    title = f"watched {tag}"
    slow = api.save_operation(operation("bash_jinja2", f"Nap {tag}", "sleep 6\necho {{ params['n'] }} > {{ outputs.out }}\n",
                                        outputs=["out"], params={"n": 1}))
    saved = api.ok("post", "graphs", json={"graph": graph(title, [instance(slow)]), "actions": ["SAVE", "APPROVE"]})
    graph_id = saved["graph"]["_id"]
    page.goto("/")
    expect(page.get_by_test_id("running-now")).to_contain_text(title)
    shot(page, "70-dashboard-running")
    expect(page.get_by_test_id("recent-runs")).to_contain_text(title, timeout=30_000)
    expect(page.get_by_test_id("recent-runs").locator("tr", has_text=title)).to_contain_text("SUCCESS")

    # the same graph again: its operation's result comes from the cache
    page.get_by_test_id("recent-runs").get_by_role("link", name=title).click()
    expect(page).to_have_url(f"{page.url.split('/graphs')[0]}/graphs/{graph_id}")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("graph-status")).to_contain_text("SUCCESS", timeout=60_000)
    expect(node(page, f"Nap {tag}")).to_have_attribute("data-status", "RESTORED")
    shot(page, "71-restored")


def test_an_image_output_has_a_thumbnail(page, api) -> None:
    tag = secrets.token_hex(3)
    picture = api.upload(png(), f"picture-{tag}", file_type="image")
    saved = api.ok("post", "graphs", json={"graph": graph(f"image {tag}", [instance(picture)]), "actions": ["SAVE"]})
    page.goto(f"/graphs/{saved['graph']['_id']}")
    properties = select_node(page, f"picture-{tag}")
    thumb = properties.get_by_test_id("output-out").locator("img.thumb")
    expect(thumb).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth === 24", arg=thumb.element_handle())
    properties.get_by_test_id("output-out").get_by_role("button", name="Preview").click()
    frame = properties.get_by_test_id("output-out-preview").frame_locator("iframe")
    expect(frame.locator("body")).to_contain_text("24×16")
    shot(page, "72-image-thumbnail")
