"""Headless Chromium (Debian's package) driven by Playwright against the session's local stack.

The UI must be built (``make test`` builds ``ui/dist`` before pytest starts); screenshots of the key
screens go to ``test-artifacts/screenshots/``.
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import pytest

CHROMIUM = os.environ.get("PLYNX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCREENSHOTS = os.path.join(REPO, "test-artifacts", "screenshots")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # a loaded 2-core CI machine: waits, not timings, decide

    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: `make test` installs Debian's chromium package"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def ui_url(stack: Any) -> str:
    index = os.path.join(stack.ui_dir, "index.html")
    assert stack.ui_dir.endswith(os.path.join("ui", "dist")) and os.path.exists(index), (
        f"the stack serves {stack.ui_dir}, not a build: run `make test` (it builds ui/dist)"
    )
    return stack.ui_url


@pytest.fixture()
def page(browser: Any, ui_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 900}, base_url=ui_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.page_errors = []  # uncaught exceptions in the page: a test fails on any
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not page.page_errors, page.page_errors


def shot(page: Any, name: str) -> str:
    """Save a screenshot of the page as test-artifacts/screenshots/<name>.png."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, f"{name}.png")
    page.screenshot(path=path)
    return path
