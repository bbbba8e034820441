"""The admin view in the browser, on a stack of its own in `approval` mode (PLYNX_REGISTRATION=approval,
`make up SECRET_KEY=...`): a newcomer registers and waits, an admin approves them, they sign in."""
from __future__ import annotations

import subprocess
import sys
import tempfile
from typing import Any, Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO, shot
from tests.processes import stack_env, start, stop

pytestmark = pytest.mark.slow

SECRET = "a-browser-test-secret-key-of-32-bytes-or-more"


@pytest.fixture(scope="module")
def approval_ui(browser: Any) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="plynx-admin-ui-") as data_dir:
        env, ports = stack_env(data_dir)
        env["PLYNX_REGISTRATION"] = "approval"
        process = start(env, "--secret-key", SECRET)
        try:
            made = subprocess.run([sys.executable, "-m", "chalicelib.api.user_cli", "--endpoint",
                                   f"http://127.0.0.1:{ports['PLYNX_MOTO_PORT']}", "create", "boss", "--password",
                                   "boss-password", "--admin"], cwd=REPO, env=env, capture_output=True, text=True,
                                  timeout=60)
            assert made.returncode == 0, made.stderr
            yield f"http://localhost:{ports['PLYNX_UI_PORT']}"
        finally:
            stop(process)


def _page(browser: Any, base_url: str) -> Any:
    context = browser.new_context(viewport={"width": 1500, "height": 900}, base_url=base_url)
    context.set_default_timeout(15_000)
    return context.new_page()


def _sign_in(page: Any, name: str, password: str) -> None:
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_admin_approves_a_pending_user(browser: Any, approval_ui: str) -> None:
    newcomer = _page(browser, approval_ui)
    newcomer.goto("/register")
    expect(newcomer.get_by_text("New accounts wait for an admin's approval")).to_be_visible()
    newcomer.get_by_label("User name").fill("newcomer")
    newcomer.get_by_label("Password").fill("newcomer-password")
    newcomer.get_by_role("button", name="Register").click()
    expect(newcomer.get_by_test_id("registration-pending")).to_contain_text("awaits an admin's approval")
    expect(newcomer.get_by_test_id("dashboard")).to_have_count(0)  # registered, not signed in
    newcomer.get_by_role("link", name="I have an account").click()
    _sign_in(newcomer, "newcomer", "newcomer-password")
    expect(newcomer.get_by_role("alert")).to_contain_text("awaits an admin's approval")
    shot(newcomer, "95-registration-awaits-approval")

    boss = _page(browser, approval_ui)
    boss.goto("/")
    _sign_in(boss, "boss", "boss-password")
    expect(boss.get_by_test_id("dashboard")).to_be_visible()
    boss.get_by_role("link", name="Users").click()
    expect(boss.get_by_test_id("registration-mode")).to_have_text("Registration: approval")
    row = boss.get_by_test_id("user-newcomer")
    expect(row.get_by_test_id("status")).to_have_text("Pending approval")
    boss.get_by_text("Pending only (1)").click()
    expect(boss.get_by_test_id("user-boss")).to_have_count(0)
    shot(boss, "96-admin-view-pending")
    row.get_by_role("button", name="Approve").click()
    expect(boss.get_by_role("status")).to_contain_text("newcomer approved")
    expect(boss.get_by_text("Nobody is waiting for approval.")).to_be_visible()
    boss.get_by_text("Pending only (0)").click()
    expect(row.get_by_test_id("status")).to_have_text("Active")
    expect(row.get_by_role("button", name="Approve")).to_have_count(0)

    _sign_in(newcomer, "newcomer", "newcomer-password")
    expect(newcomer.get_by_test_id("dashboard")).to_be_visible()
    expect(newcomer.get_by_test_id("user")).to_have_text("newcomer")
    expect(newcomer.get_by_role("link", name="Users")).to_have_count(0)  # not an admin
