"""Graph actions from the toolbar: Clone, Upgrade nodes, Generate code; and the operation editor's
Preview command and Deprecate."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import node
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow


def test_clone_upgrade_and_generate_code(page, api) -> None:
    tag = secrets.token_hex(3)
    old = api.save_operation(operation("python", f"Old {tag}", "open(outputs['o'], 'w').write('1')\n", outputs=["o"]))
    new = api.save_operation(operation("python", f"New {tag}", "open(outputs['o'], 'w').write('2')\n", outputs=["o"]))
    body = api.ok("post", "nodes", json={"node": dict(old, successor_node_id=new["_id"]), "action": "DEPRECATE"})
    assert body["status"] == "SUCCESS", body
    saved = api.ok("post", "graphs", json={"graph": graph(f"actions {tag}", [instance(old)]), "actions": ["SAVE"]})
    graph_id = saved["graph"]["_id"]

    page.goto(f"/graphs/{graph_id}")
    expect(node(page, f"Old {tag}")).to_have_count(1)
    page.get_by_role("button", name="Upgrade nodes").click()
    expect(page.get_by_test_id("notice")).to_contain_text("1 node(s) upgraded")
    expect(node(page, f"New {tag}")).to_have_count(1)

    page.get_by_role("button", name="Generate code").click()
    dialog = page.get_by_role("dialog", name="Generated code")
    expect(dialog).to_contain_text("plynx")
    shot(page, "60-generated-code")
    dialog.get_by_role("button", name="Close").click()

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")
    page.get_by_role("button", name="Clone").click()
    expect(page).not_to_have_url(re.compile(f"/graphs/{graph_id}$"))
    expect(page).to_have_url(re.compile(r"/graphs/[0-9a-zA-Z_-]+$"))
    expect(node(page, f"New {tag}")).to_have_count(1)


def test_preview_command_and_deprecate(page, api) -> None:
    tag = secrets.token_hex(3)
    op = api.save_operation(operation("bash_jinja2", f"Echo {tag}", "echo {{ params['word'] }} > {{ outputs.out }}\n",
                                      outputs=["out"], params={"word": "hi"}))
    page.goto(f"/nodes/{op['_id']}")
    editor = page.get_by_test_id("operation-editor")
    editor.get_by_role("button", name="Preview command").click()
    expect(page.get_by_test_id("cmd-preview")).to_contain_text("echo hi >")
    editor.get_by_role("button", name="Deprecate", exact=True).click()
    expect(page.get_by_test_id("op-notice")).to_contain_text("Deprecated")
    expect(editor).to_contain_text("DEPRECATED")
