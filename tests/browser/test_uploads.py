"""Uploads from the browser go straight to S3 in parts: a progress bar with bytes and rate, retry, cancel."""
from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import new_graph, node
from tests.functional.test_uploads import MB, _download_sha, _run_reverse

pytestmark = pytest.mark.slow
SIZE = 64 * MB
# The file is made in the page (no 64 MB through the test's pipe): byte i is (i * 31 + seed) mod 251.
MAKE = """([name, size, seed]) => { const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) % 251;
    const dt = new DataTransfer(); dt.items.add(new File([bytes], name)); return dt; }"""
PART_PUT = re.compile(r".*/uploads/.*[?&]partNumber=.*")


def _content(size: int, seed: int) -> bytes:
    period = bytes((i * 31 + seed) % 251 for i in range(251))
    return (period * (size // 251 + 1))[:size]


def _drop(page: Any, name: str, size: int, seed: int) -> None:
    transfer = page.evaluate_handle(MAKE, [name, size, seed])
    pane = page.locator(".react-flow__pane")
    box = pane.bounding_box()
    pane.dispatch_event("drop", {"dataTransfer": transfer, "clientX": box["x"] + 200, "clientY": box["y"] + 150})


def _file_node(api: Any, title: str) -> dict:
    found = api.ok("post", "search_nodes", json={"search": title, "per_page": 5})["items"]
    return next(item for item in found if item["title"] == title)


def test_a_64_mb_file_dropped_on_the_canvas_goes_to_s3_with_a_progress_bar(page, api) -> None:
    tag, seed = secrets.token_hex(3), secrets.randbelow(251)
    name = f"big-{tag}.bin"
    failed: list[str] = []

    def fail_part_two_once(route: Any) -> None:  # storage refuses part 2 once: the UI sends it again
        if "partNumber=2" in route.request.url and not failed:
            failed.append(route.request.url)
            route.fulfill(status=500, body="InternalError")
        else:
            route.continue_()

    page.route(PART_PUT, fail_part_two_once)
    new_graph(page, f"upload {tag}")
    _drop(page, name, SIZE, seed)
    progress = page.get_by_test_id("upload-progress")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text(name)
    # bytes move (not 0.0) of the total, at a rate
    expect(page.get_by_test_id("upload-numbers")).to_contain_text(
        re.compile(r"(?!0\.0 )\d+\.\d / 67\.1 MB · (?!0\.0 )\d+\.\d MB/s"))
    shot(page, "40-upload-progress")
    expect(node(page, name)).to_have_count(1, timeout=120_000)
    expect(progress).to_have_count(0)
    assert failed, "the part PUT was never refused, so the retry was not exercised"
    stored = _file_node(api, name)
    sha = hashlib.sha256(_content(SIZE, seed)).hexdigest()
    assert stored["outputs"][0]["resource_id"] == sha
    reverse = _run_reverse(api, stored)
    expected = hashlib.sha256(b"".join(block[::-1] for block in (
        _content(SIZE, seed)[i:i + MB] for i in range(0, SIZE, MB)))).hexdigest()
    assert _download_sha(api, reverse["outputs"][0]["resource_id"]) == expected


def test_an_upload_can_be_cancelled(page, api) -> None:
    tag = secrets.token_hex(3)
    name = f"cancelled-{tag}.bin"
    page.route(PART_PUT, lambda route: route.abort())  # storage unreachable: the UI keeps retrying part 1
    new_graph(page, f"cancel {tag}")
    _drop(page, name, 9 * MB, 1)
    expect(page.get_by_test_id("upload-progress")).to_be_visible()
    with page.expect_request(lambda request: request.method == "DELETE" and "/uploads/" in request.url):
        page.get_by_test_id("upload-cancel").click()
    expect(page.get_by_test_id("notice")).to_contain_text("cancelled")
    expect(page.get_by_test_id("upload-progress")).to_have_count(0)
    expect(node(page, name)).to_have_count(0)
    assert not [item for item in api.ok("post", "search_nodes", json={"search": name})["items"]
                if item["title"] == name]


def test_a_part_storage_keeps_refusing_fails_the_upload_with_a_message(page, api) -> None:
    tag = secrets.token_hex(3)
    name = f"refused-{tag}.bin"
    page.route(PART_PUT, lambda route: route.fulfill(status=503, body="SlowDown"))
    new_graph(page, f"refused {tag}")
    with page.expect_request(lambda request: request.method == "DELETE" and "/uploads/" in request.url,
                             timeout=30_000):
        _drop(page, name, 1000, 2)
    expect(page.get_by_test_id("notice")).to_contain_text(f'Upload of "{name}" failed')
    expect(page.get_by_test_id("notice")).to_contain_text("refused by storage (503)")
    expect(node(page, name)).to_have_count(0)
