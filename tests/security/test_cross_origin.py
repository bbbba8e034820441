"""No cross-site use of a local stack: a page the developer visits on another origin cannot save or run
anything on the local API, in Debian's Chromium (the browser a developer would use), and a request without
`Authorization` is a 401 that says how to sign it.

The attacker's page is served from a local http server on a free port (another origin). On the code
before the fix, its `text/plain` form post saved and ran a graph (single-user mode took bare requests).
"""
from __future__ import annotations

import html
import http.server
import json
import os
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from infra.local.stack import free_port
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow
DEFAULT_BASIC = "Basic ZGVmYXVsdDo="  # default: (the seed's `curl -u default:`)


class _Page(http.server.BaseHTTPRequestHandler):
    html = b""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.html)))
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def evil_site() -> Iterator[tuple[str, type[_Page]]]:
    """A web server on another origin (127.0.0.1 and its own port) serving the attacker's page."""
    page_cls = type("EvilPage", (_Page,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), page_cls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", page_cls
    finally:
        server.shutdown()
        server.server_close()


def _form(action: str, enctype: str, body: dict | None, target: str = "sink") -> str:
    """A form that posts `body` as JSON: text/plain sends `name=value`, so the JSON is split so that the
    `=` lands inside a string."""
    if body is None:
        name, value = "x", "1"
    else:
        text = json.dumps(body)
        name, value = text[:-1] + ', "pad": "', '"}'
    return (f'<form target="{target}" method="POST" action="{html.escape(action)}" enctype="{enctype}">'
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}"></form>')


def _attacker_page(api: str, save: dict, overwrite: dict, target_graph: str) -> bytes:
    """Every way a page can send a request without reading the answer, and the preflighted ones."""
    forms = "".join([
        _form(f"{api}/graphs", "text/plain", save),  # save and run a new graph
        _form(f"{api}/graphs", "text/plain", overwrite),  # overwrite the developer's graph
        _form(f"{api}/graphs/{target_graph}/approve", "application/x-www-form-urlencoded", None),  # run it
        _form(f"{api.replace('http://', 'http://default:@')}/graphs", "text/plain", save, "_self"),  # user:@
    ])
    script = f"""
    window.results = {{}};
    const API = {json.dumps(api)}, BODY = {json.dumps(json.dumps(save))};
    async function attempt(name, url, init) {{
      try {{ const r = await fetch(url, init); window.results[name] = "answered " + r.type + " " + r.status; }}
      catch (error) {{ window.results[name] = "refused: " + error; }}
    }}
    window.attack = async () => {{
      const plain = {{"Content-Type": "text/plain"}};
      await attempt("no-cors save", API + "/graphs", {{method: "POST", mode: "no-cors", headers: plain, body: BODY}});
      await attempt("no-cors save with credentials", API + "/graphs",
                    {{method: "POST", mode: "no-cors", credentials: "include", headers: plain, body: BODY}});
      await attempt("simple cors save", API + "/graphs", {{method: "POST", headers: plain, body: BODY}});
      await attempt("no-cors run", API + "/graphs/{target_graph}/approve",
                    {{method: "POST", mode: "no-cors", credentials: "include"}});
      await attempt("preflighted json save", API + "/graphs", {{method: "POST", body: BODY,
                    headers: {{"Content-Type": "application/json", "Authorization": "{DEFAULT_BASIC}"}}}});
      await attempt("preflighted json save with credentials", API + "/graphs", {{method: "POST", body: BODY,
                    credentials: "include", headers: {{"Content-Type": "application/json"}}}});
      await attempt("preflighted run", API + "/graphs/{target_graph}/approve",
                    {{method: "POST", headers: {{"Authorization": "{DEFAULT_BASIC}"}}}});
      await attempt("read", API + "/graphs/{target_graph}", {{headers: {{"Authorization": "{DEFAULT_BASIC}"}}}});
      return window.results;
    }};
    """
    return (f'<!doctype html><html><body><iframe name="sink"></iframe>{forms}<script>{script}</script>'
            f"</body></html>").encode()


def test_a_page_on_another_origin_cannot_save_or_run_anything(browser, api, stack, evil_site, tmp_path) -> None:
    origin, page_cls = evil_site
    marker = tmp_path / "ran"
    tag = f"cross-site-{secrets.token_hex(4)}"
    # the developer's own graph, which the page tries to overwrite and run
    mine = api.ok("post", "graphs", json={"graph": graph(f"mine {tag}", [instance(api.save_operation(
        operation("python", "Mine", "print('mine')\n")))]), "actions": ["SAVE"]})["graph"]
    before = api.ok("get", f"graphs/{mine['_id']}")["data"]
    evil_graph = graph(f"evil {tag}", [operation("python", "Evil", f"open({str(marker)!r}, 'w').write('x')\n")])
    api_url = f"http://localhost:{stack.api_port}/plynx/api/v0"
    page_cls.html = _attacker_page(api_url, {"actions": ["SAVE", "APPROVE"], "graph": evil_graph},
                                   {"actions": ["SAVE", "APPROVE"], "graph": dict(before, title="owned")}, mine["_id"])

    context = browser.new_context()
    try:
        page = context.new_page()
        answers: list[tuple[str, str, int]] = []
        page.on("response", lambda r: answers.append((r.request.method, r.url, r.status))
                if f":{stack.api_port}/" in r.url else None)
        page.goto(origin + "/")
        results = page.evaluate("window.attack()")
        forms = page.locator("form")
        for index in range(3):  # into the hidden frame, each waited for
            with page.expect_response(lambda r: r.request.method == "POST" and f":{stack.api_port}/" in r.url):
                forms.nth(index).evaluate("form => form.submit()")
        with page.expect_navigation() as navigation:  # the page itself goes, with `default:@` in the URL
            forms.nth(3).evaluate("form => form.submit()")
        landed = navigation.value
        assert landed is not None and landed.status in (401, 403), landed
    finally:
        context.close()

    # nothing the page sent was taken: bare requests are 401, foreign preflights and origins 403
    posts = [(url, status) for method, url, status in answers if method == "POST"]
    assert len(posts) >= 7, answers  # four fetches and three forms reached the API (preflights did not)
    assert all(status in (401, 403) for _, _, status in answers), answers
    for name in ("preflighted json save", "preflighted json save with credentials", "preflighted run", "read"):
        assert results[name].startswith("refused: TypeError"), (name, results)
    for name in ("no-cors save", "no-cors save with credentials", "no-cors run"):
        assert results[name] == "answered opaque 0", (name, results)  # sent, answer unreadable, refused anyway
    # and nothing changed on the server
    found = api.ok("post", "search_graphs", json={"search": tag})
    assert [g["title"] for g in found["items"]] == [f"mine {tag}"], found
    after = api.ok("get", f"graphs/{mine['_id']}")["data"]
    assert after["title"] == before["title"] and after["_version"] == before["_version"]
    assert after["graph_running_status"] == before["graph_running_status"] == "CREATED"
    assert not marker.exists()


def test_the_preflight_is_refused_for_a_foreign_origin_and_granted_to_the_ui(stack) -> None:
    url = f"{stack.api_url}/graphs"
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    foreign = requests.options(url, headers={"Origin": "http://127.0.0.1:9", **ask}, timeout=10)
    assert foreign.status_code == 403
    assert not any(name.lower().startswith("access-control-") for name in foreign.headers), foreign.headers
    ui = requests.options(url, headers={"Origin": f"http://localhost:{stack.ui_port}", **ask}, timeout=10)
    assert ui.status_code == 200
    assert ui.headers["Access-Control-Allow-Origin"] == f"http://localhost:{stack.ui_port}"
    assert "Authorization" in ui.headers["Access-Control-Allow-Headers"]
    # an answer to the UI names only the UI; a request that names another origin is refused by the app
    answer = requests.get(f"{stack.api_url}/graphs/new", auth=("default", ""), timeout=10)
    assert answer.headers["Access-Control-Allow-Origin"] == f"http://localhost:{stack.ui_port}"
    refused = requests.post(url, auth=("default", ""), headers={"Origin": "http://127.0.0.1:9"}, timeout=10,
                            json={"graph": graph("via origin", []), "actions": ["SAVE"]})
    assert refused.status_code == 403 and "http://127.0.0.1:9" in refused.json()["Message"]


def test_a_request_without_authorization_is_401_and_says_to_use_default(stack) -> None:
    for method, path in (("get", "graphs/new"), ("post", "graphs"), ("get", "token"), ("post", "nodes")):
        response = requests.request(method, f"{stack.api_url}/{path}", timeout=10,
                                    json={"graph": graph("bare", []), "actions": ["SAVE"]})
        assert response.status_code == 401, (path, response.text)
        assert "-u default:" in response.json()["Message"]
        # no challenge: a browser never offers credentials of its own (nor `default:@` from a URL)
        assert "WWW-Authenticate" not in response.headers
    assert requests.get(f"{stack.api_url}/graphs/new", auth=("default", ""), timeout=10).status_code == 200
    health = requests.get(f"{stack.api_url}/health", timeout=10).json()
    assert health["single_user"] is True


def test_a_page_whose_name_was_rebound_to_localhost_is_refused(stack) -> None:
    # DNS rebinding: the browser thinks it talks to evil.example, so the page is same-origin with the API
    for host in (f"evil.example:{stack.api_port}", f"localhost.evil.example:{stack.api_port}"):
        response = requests.get(f"http://127.0.0.1:{stack.api_port}/plynx/api/v0/graphs/new",
                                headers={"Host": host}, auth=("default", ""), timeout=10)
        assert response.status_code == 403 and "not this machine's name" in response.json()["Message"]
    for host in (f"localhost:{stack.api_port}", f"127.0.0.1:{stack.api_port}"):
        response = requests.get(f"http://127.0.0.1:{stack.api_port}/plynx/api/v0/graphs/new",
                                headers={"Host": host}, auth=("default", ""), timeout=10)
        assert response.status_code == 200


def test_the_ui_signs_every_request_in_single_user_mode(browser, ui_url, stack) -> None:
    context = browser.new_context(base_url=ui_url)
    try:
        page = context.new_page()
        sent: list[tuple[str, str | None]] = []
        page.on("request", lambda r: sent.append((r.url, r.headers.get("authorization")))
                if f":{stack.api_port}/" in r.url and r.method != "OPTIONS" else None)
        page.goto("/")
        expect(page.get_by_test_id("dashboard")).to_be_visible()
        expect(page.get_by_role("button", name="Log out")).to_have_count(0)
        page.goto(ui_url.replace("localhost", "127.0.0.1") + "/graphs/new")  # moved to localhost
        expect(page.get_by_test_id("graph-editor")).to_be_visible()
        assert page.url.startswith(ui_url)
    finally:
        context.close()
    signed = [url for url, header in sent if header == DEFAULT_BASIC]
    unsigned = [url for url, header in sent if header is None and not url.endswith("/health")]
    assert signed and not unsigned, sent
    assert os.environ["PLYNX_UI_URL"] == ui_url
