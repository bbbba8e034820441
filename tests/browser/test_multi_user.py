"""Multi-user mode in the browser, on a stack of its own started with a secret key (as
`make up SECRET_KEY=...` does): register, sign in and out, and another user's workflow is read only
until cloned."""
from __future__ import annotations

import re
import tempfile
from typing import Any, Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.processes import stack_env, start, stop

pytestmark = pytest.mark.slow

SECRET = "a-browser-test-secret-key-of-32-bytes-or-more"


@pytest.fixture(scope="module")
def multi_ui(browser: Any) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="plynx-multi-ui-") as data_dir:
        env, ports = stack_env(data_dir)
        process = start(env, "--secret-key", SECRET)
        try:
            yield f"http://localhost:{ports['PLYNX_UI_PORT']}"
        finally:
            stop(process)


def _page(browser: Any, base_url: str) -> Any:
    context = browser.new_context(viewport={"width": 1500, "height": 900}, base_url=base_url)
    context.set_default_timeout(15_000)
    return context.new_page()


def _register(page: Any, name: str) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()  # nothing opens without a login
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("User name").fill(name)
    page.get_by_label("Email").fill(f"{name}@example.com")
    page.get_by_label("Password").fill(f"{name}-password")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_test_id("dashboard")).to_be_visible()
    expect(page.get_by_test_id("user")).to_have_text(name)


def test_register_sign_in_and_others_workflows_are_read_only(browser, multi_ui) -> None:
    alice = _page(browser, multi_ui)
    _register(alice, "alice")
    alice.goto("/graphs/new")
    alice.get_by_label("Workflow title").fill("alice's experiment")
    alice.get_by_role("button", name="Save", exact=True).click()
    expect(alice.get_by_test_id("notice")).to_contain_text("Saved")
    graph_url = alice.url
    alice.get_by_role("button", name="Log out").click()
    expect(alice.get_by_role("heading", name="Sign in")).to_be_visible()
    alice.get_by_label("User name").fill("alice")
    alice.get_by_label("Password").fill("wrong")
    alice.get_by_role("button", name="Sign in").click()
    expect(alice.get_by_role("alert")).to_contain_text("Wrong username or password")
    alice.get_by_label("Password").fill("alice-password")
    alice.get_by_role("button", name="Sign in").click()
    expect(alice.get_by_test_id("dashboard")).to_be_visible()

    bob = _page(browser, multi_ui)
    _register(bob, "bob")
    bob.get_by_role("link", name="Workflows").click()
    bob.get_by_label("Search").fill("author:alice")
    bob.get_by_role("link", name="alice's experiment").click()
    expect(bob).to_have_url(graph_url)
    expect(bob.get_by_label("Workflow title")).to_be_disabled()
    expect(bob.get_by_role("button", name="Save", exact=True)).to_be_disabled()
    shot(bob, "90-read-only-for-another-user")
    bob.get_by_role("button", name="Clone").click()
    expect(bob).not_to_have_url(graph_url)
    expect(bob).to_have_url(re.compile(r"/graphs/[0-9a-zA-Z_-]+$"))
    expect(bob.get_by_label("Workflow title")).to_be_enabled()
    bob.get_by_role("link", name="Workflows").click()
    bob.get_by_label("Search").fill("author:me")
    expect(bob.get_by_test_id("page-info")).to_have_text("1–1 of 1")
