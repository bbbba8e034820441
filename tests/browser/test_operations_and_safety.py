"""The operation editor (validate, save, approve, new version, history) and previews that show what
an operation wrote as text, never as markup the page would run."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import add_from_hub, new_graph, preview, select_node
from tests.helpers import operation

pytestmark = pytest.mark.slow

HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>'


def test_operation_editor_validates_saves_approves_and_versions(page) -> None:
    tag = secrets.token_hex(3)
    page.goto("/nodes/new?kind=bash_jinja2")
    editor = page.get_by_test_id("operation-editor")
    editor.get_by_label("Title").fill(f"Greet {tag}")
    code = editor.get_by_test_id("operation-code").locator(".cm-content")
    code.fill(" ")
    editor.get_by_role("button", name="Validate").click()
    expect(page.get_by_test_id("op-errors")).to_contain_text('Parameter "_cmd" is empty')

    editor.get_by_role("button", name="Add output").click()
    editor.get_by_label("Output name").fill("out")
    editor.get_by_role("button", name="Add parameter").click()
    row = editor.get_by_test_id("parameter-row").last
    row.get_by_label("Parameter name").fill("greeting")
    row.locator('[data-testid="param-greeting"] input').fill("hello")
    code.fill("echo {{ params['greeting'] }} > {{ outputs.out }}\n")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("op-notice")).to_contain_text("Saved")
    expect(page).to_have_url(re.compile(r"/nodes/[0-9a-zA-Z_-]+$"))
    editor.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("op-notice")).to_contain_text("Approved")
    expect(editor.get_by_label("Title")).to_be_disabled()  # approved operations never change
    first_version = page.url.rsplit("/", 1)[1]

    editor.get_by_role("button", name="New version").click()
    expect(editor.get_by_label("Title")).to_be_enabled()
    editor.get_by_label("Title").fill(f"Greet {tag} v2")
    editor.get_by_role("button", name="Approve").click()
    page.get_by_test_id("approve-dialog").get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("op-notice")).to_contain_text("Approved")
    versions = editor.get_by_test_id("versions")
    expect(versions).to_contain_text(first_version)
    expect(versions.get_by_role("link", name=f"Greet {tag}")).to_be_visible()
    shot(page, "40-operation-versions")


def test_previews_show_markup_as_text(page, api) -> None:
    tag = secrets.token_hex(3)
    title = f"Hostile {tag}"
    cmd = f"print({HOSTILE!r})\nopen(outputs['out'], 'w').write({HOSTILE!r})\n"
    api.save_operation(operation("python", title, cmd, outputs=["out"]))
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    new_graph(page, f"safety {tag}")
    add_from_hub(page, title)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("graph-status")).to_contain_text("SUCCESS", timeout=60_000)
    properties = select_node(page, title)
    for testid in ("output-out", "log-stdout"):
        shown = preview(properties, testid)
        expect(shown).to_contain_text('<script>window.__pwned=2</script>')
        expect(shown.locator("script, img, b")).to_have_count(0)
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    shot(page, "41-safe-preview")
