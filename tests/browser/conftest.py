"""Headless Chromium (Debian's package) driven by Playwright against the session's local stack.

The UI must be built (``make test`` builds ``ui/dist`` before pytest starts); screenshots of the key
screens go to ``test-artifacts/screenshots/``. The session's Chromium (``browser``) and ``ui_url`` live in
tests/conftest.py, so tests outside this folder (tests/security) share the one browser.
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCREENSHOTS = os.path.join(REPO, "test-artifacts", "screenshots")


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
