"""A workflow's notifications and triggers in the editor: settings saved and read back with the signing secret,
a refused webhook URL said, the webhook trigger's URL shown once (and it starts a run), rotated (the old one
is a 404), revoked; a file trigger added, and a new version of its file uploaded on the file's page runs the workflow."""
from __future__ import annotations

import re
import secrets

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import toolbar_action
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow


def test_notification_settings_and_the_webhook_trigger(page, api) -> None:
    tag = secrets.token_hex(3)
    hello = api.save_operation(operation("python", f"Hello {tag}", "open(outputs['out'], 'w').write('hi')\n",
                                         outputs=["out"]))
    stored = api.ok("post", "graphs", json={"graph": graph(f"automated {tag}", [instance(hello)]), "actions": ["SAVE"]})
    graph_id = stored["graph"]["_id"]
    watched = api.upload(b"data", f"watched {tag}")

    page.goto(f"/graphs/{graph_id}")
    expect(page.get_by_test_id("graph-editor")).to_be_visible()
    toolbar_action(page, "Automation")
    dialog = page.get_by_role("dialog", name="Automation")
    settings = dialog.get_by_test_id("notify-settings")
    expect(settings.get_by_label("Notify on")).to_be_enabled()  # the stored settings have come
    expect(settings.get_by_label("Notify on")).to_have_value("never")

    settings.get_by_label("Webhook URL").fill("http://169.254.169.254/latest/meta-data/")
    settings.get_by_label("Notify on").select_option("failure")
    settings.get_by_role("button", name="Save notifications").click()
    expect(dialog.get_by_role("alert")).to_contain_text("link-local")
    settings.get_by_label("Webhook URL").fill("")
    settings.get_by_label("Email").fill(f"me-{tag}@example.com")
    settings.get_by_role("button", name="Save notifications").click()
    expect(dialog.get_by_role("status")).to_contain_text("saved")
    settings.get_by_role("button", name="Show").click()
    secret = api.ok("get", f"graphs/{graph_id}/notifications")["data"]
    assert secret["on"] == "failure" and secret["email"] == f"me-{tag}@example.com"
    expect(settings.get_by_test_id("signing-secret")).to_contain_text(secret["secret"])

    trigger = dialog.get_by_test_id("webhook-trigger")
    trigger.get_by_role("button", name="Create webhook trigger").click()
    url_box = dialog.get_by_test_id("trigger-url")
    expect(url_box).to_contain_text("/triggers/")
    first_url = re.search(r"(http\S+/triggers/\S+)", url_box.inner_text()).group(1)
    expect(trigger).to_contain_text("made by default")
    shot(page, "automation")
    fired = requests.post(first_url, timeout=30)  # no credentials
    assert fired.status_code == 200, fired.text
    api.wait(graph_id)

    trigger.get_by_role("button", name="Rotate URL").click()
    expect(dialog.get_by_role("status")).to_contain_text("old one no longer starts runs")
    second_url = re.search(r"(http\S+/triggers/\S+)", url_box.inner_text()).group(1)
    assert second_url != first_url
    assert requests.post(first_url, timeout=30).status_code == 404
    trigger.get_by_role("button", name="Revoke").click()
    expect(trigger.get_by_role("button", name="Create webhook trigger")).to_be_visible()
    assert requests.post(second_url, timeout=30).status_code == 404

    trigger.get_by_label("File id").fill(watched["_id"])
    trigger.get_by_role("button", name="Watch file").click()
    expect(trigger.get_by_test_id("file-triggers")).to_contain_text(watched["_id"])
    shot(page, "automation-triggers")

    # read back after a reload: the settings stay, the trigger URL is never shown again
    page.reload()
    toolbar_action(page, "Automation")
    dialog = page.get_by_role("dialog", name="Automation")
    expect(dialog.get_by_label("Notify on")).to_be_enabled()
    expect(dialog.get_by_label("Notify on")).to_have_value("failure")
    expect(dialog.get_by_label("Email")).to_have_value(f"me-{tag}@example.com")
    expect(dialog.get_by_test_id("trigger-url")).to_have_count(0)
    expect(dialog.get_by_test_id("file-triggers")).to_contain_text(watched["_id"])
    dialog.get_by_role("button", name="Close").click()

    # a new version of the watched file, uploaded on its page, runs the workflow on it
    page.goto(f"/files/{watched['_id']}")
    expect(page.get_by_role("button", name="Upload new version")).to_be_visible()
    page.get_by_test_id("new-version-input").set_input_files(
        files=[{"name": "v2.txt", "mimeType": "text/plain", "buffer": b"version two"}])
    expect(page.get_by_test_id("new-version-note")).to_contain_text(f"workflow {graph_id} runs")
    expect(page).not_to_have_url(re.compile(f"/files/{watched['_id']}$"))
    shot(page, "automation-new-version")
    new_id = page.url.rsplit("/", 1)[-1]
    api.wait(graph_id)
    [last] = api.ok("get", f"graphs/{graph_id}/runs")["items"][:1]
    assert last["how"] == "FILE" and last["run_status"] == "SUCCESS"
    files = api.ok("get", f"graphs/{graph_id}/triggers")["data"]["files"]
    assert [f["file_id"] for f in files] == [new_id]  # it watches the new version now
    api.session.delete(api.url(f"graphs/{graph_id}/triggers/files/{new_id}"), timeout=30).raise_for_status()
    for key in ("trigger#addr#127.0.0.1",):  # the 404s above count against this address
        from chalicelib.store import throttle

        throttle.forget(key)
