"""A workflow's notifications and triggers in the editor: settings saved and read back with the signing secret,
a refused webhook URL said, the webhook trigger's URL shown once (and it starts a run), rotated (the old one
is a 404), revoked; a file trigger added and removed."""
from __future__ import annotations

import re
import secrets

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import shot
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
    page.get_by_role("button", name="Automation", exact=True).click()
    dialog = page.get_by_role("dialog", name="Automation")
    settings = dialog.get_by_test_id("notify-settings")
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
    trigger.get_by_test_id("file-triggers").get_by_role("button", name="Remove").click()
    expect(trigger.get_by_test_id("file-triggers")).to_have_count(0)

    # read back after a reload: the settings stay, the trigger URL is never shown again
    page.reload()
    page.get_by_role("button", name="Automation", exact=True).click()
    dialog = page.get_by_role("dialog", name="Automation")
    expect(dialog.get_by_label("Notify on")).to_have_value("failure")
    expect(dialog.get_by_label("Email")).to_have_value(f"me-{tag}@example.com")
    expect(dialog.get_by_test_id("trigger-url")).to_have_count(0)
    for key in ("trigger#addr#127.0.0.1",):  # the 404s above count against this address
        from chalicelib.store import throttle

        throttle.forget(key)
