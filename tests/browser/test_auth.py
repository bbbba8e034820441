"""Sign-in in multi-user mode and a token refresh that keeps the user's unsaved work.

The session's stack runs single-user, so the browser is told otherwise: GET /health answers
`single_user: false` (as a multi-user API does) and one request answers 401 as an expired token would.
Everything else, the login and the refresh included, goes to the real API."""
from __future__ import annotations

import base64
import secrets

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow


def test_login_then_refresh_keeps_unsaved_work(page, api, stack) -> None:
    token_calls = []

    def token(route):
        token_calls.append(route.request.headers.get("authorization"))
        route.continue_()

    page.route(f"{stack.api_url}/health", lambda route: route.fulfill(json={"status": "SUCCESS", "single_user": False}))
    page.route(f"{stack.api_url}/token", token)
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("User name").fill("nobody-here")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    page.get_by_label("User name").fill("default")
    page.get_by_label("Password").fill("")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("dashboard")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # unsaved work, then the access token "expires" on the save: refreshed, retried, saved
    title = f"kept {secrets.token_hex(3)}"
    page.goto("/graphs/new")
    page.get_by_label("Workflow title").fill(title)
    expired = []

    def expire_once(route):
        if route.request.method == "POST" and not expired:
            expired.append(route.request.headers.get("authorization"))
            route.fulfill(status=401, json={"Code": "UnauthorizedError", "Message": "Invalid token: Signature has expired"})
        else:
            route.continue_()

    page.route(f"{stack.api_url}/graphs", expire_once)
    calls_before = len(token_calls)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")
    assert expired and expired[0].startswith("Bearer ")
    assert len(token_calls) == calls_before + 1 and token_calls[-1].startswith("Basic ")  # the refresh
    graph_id = page.url.rsplit("/", 1)[1]
    assert api.ok("get", f"graphs/{graph_id}")["data"]["title"] == title

    # the session ends for good (the refresh is refused too): a login on top of the page, work kept
    page.get_by_label("Workflow title").fill(f"{title} again")
    refused = []

    def end_session(route):
        header = route.request.headers.get("authorization") or ""
        if not refused and (header.startswith("Bearer ") or header.startswith("Basic ")):
            refused.append(header)
            route.fulfill(status=401, json={"Code": "UnauthorizedError", "Message": "Invalid token: Signature has expired"})
        else:
            route.continue_()

    page.unroute(f"{stack.api_url}/graphs")
    page.route(f"{stack.api_url}/graphs", end_session)
    page.unroute(f"{stack.api_url}/token")

    def refuse_refresh(route):
        header = route.request.headers.get("authorization", "")
        user = base64.b64decode(header[len("Basic "):]).decode().partition(":")[0] if header.startswith("Basic ") else ""
        if user.count(".") == 2:  # a refresh token, not a user name
            route.fulfill(status=401, json={"Code": "UnauthorizedError", "Message": "Invalid token: Signature has expired"})
        else:
            route.continue_()

    page.route(f"{stack.api_url}/token", refuse_refresh)
    page.get_by_role("button", name="Save", exact=True).click()
    dialog = page.get_by_role("dialog", name="Sign in again")
    expect(dialog).to_contain_text("your unsaved changes are kept")
    dialog.get_by_label("User name").fill("default")
    dialog.get_by_role("button", name="Sign in").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_label("Workflow title")).to_have_value(f"{title} again")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")
    assert api.ok("get", f"graphs/{graph_id}")["data"]["title"] == f"{title} again"

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
