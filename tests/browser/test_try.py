"""Try in the operation editor: a draft never saved runs once on a file picked and a parameter set; its
output and log show in the editor, and nothing reaches the library."""
from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import preview

pytestmark = pytest.mark.slow

CODE = ("text = open(inputs['in']).read()\n"
        "open(outputs['out'], 'w').write(text.upper() * int(params['times']))\n"
        "print('tried', params['times'], 'times')\n")


def test_try_runs_the_draft_on_a_picked_file_and_shows_its_output_and_log(page, api) -> None:
    tag = secrets.token_hex(3)
    api.upload(b"hello\n", f"try input {tag}")
    page.goto("/nodes/new?kind=python")
    editor = page.get_by_test_id("operation-editor")
    editor.get_by_label("Title").fill(f"Shout {tag}")
    editor.get_by_role("button", name="Add input").click()
    editor.get_by_label("Input name").fill("in")
    editor.get_by_role("button", name="Add output").click()
    editor.get_by_label("Output name").fill("out")
    editor.get_by_role("button", name="Add parameter").click()
    row = editor.get_by_test_id("parameter-row").last
    row.get_by_label("Parameter name").fill("times")
    row.locator('[data-testid="param-times"] input').fill("1")
    editor.get_by_test_id("operation-code").locator(".cm-content").fill(CODE)

    editor.get_by_role("button", name="Try", exact=True).click()
    panel = page.get_by_test_id("try-panel")
    panel.get_by_label("File for in").select_option(label=f"try input {tag} (file)")
    expect(panel.get_by_test_id("try-pick")).to_contain_text(f"try input {tag}")
    panel.locator('[data-testid="param-times"] input').fill("2")
    panel.get_by_role("button", name="Run the trial").click()

    result = panel.get_by_test_id("try-result")
    expect(result).to_have_attribute("data-status", "SUCCESS", timeout=60_000)
    expect(result.get_by_test_id("try-status")).to_contain_text("SUCCESS")
    expect(preview(result, "try-resource-out")).to_contain_text("HELLO\nHELLO")
    expect(result.get_by_test_id("try-resource-stdout-preview")).to_contain_text("tried 2 times")
    expect(page.get_by_test_id("op-notice")).to_have_count(0)  # nothing saved: the draft is still unsaved
    expect(editor.get_by_text("unsaved")).to_be_visible()
    shot(page, "try-operation")

    # nothing in the library: no operation of that title, the trial is listed for this draft
    assert api.ok("post", "search_nodes", json={"search": f"Shout {tag}"})["total_count"] == 0
    trial_id = result.get_by_role("link").first.inner_text()
    assert api.ok("get", f"trials/{trial_id}")["data"]["kind"] == "trial"
    # the trial's output is offered as the next trial's input (outputs of recent trials and runs)
    panel.get_by_role("button", name=f"Remove try input {tag}").click()
    choose = panel.get_by_label("File for in")
    made = choose.locator("option", has_text="out of the trial of")
    expect(made.first).to_be_attached()
    choose.select_option(value=made.first.get_attribute("value"))
    panel.get_by_role("button", name="Run the trial").click()
    expect(result.get_by_role("link").first).not_to_have_text(trial_id)
    expect(result).to_have_attribute("data-status", "SUCCESS", timeout=60_000)
    expect(preview(result, "try-resource-out")).to_contain_text("HELLO\nHELLO\nHELLO\nHELLO")
    # no file for the input: the API's 400 is shown, nothing runs
    panel.get_by_test_id("try-pick").get_by_role("button").click()
    panel.get_by_role("button", name="Run the trial").click()
    expect(panel.get_by_test_id("try-error")).to_contain_text("Input `in` needs 1 value; 0 given")
    assert len(api.ok("get", "trials")["items"]) >= 1
