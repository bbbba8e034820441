"""The run form: a workflow with run parameters asks for this run's values (prefilled, typed) before it runs;
the run uses and shows them, the workflow keeps its own; one without run parameters runs at once."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.helpers import graph, instance, operation, output_id

pytestmark = pytest.mark.slow

SAY = "open(outputs['out'], 'w').write(f\"{params['word']} x{params['times']} {params['mode']}\")\n"


def _operation(api, tag: str) -> dict:
    body = operation("python", f"Say {tag}", SAY, outputs=["out"], params={"word": "stored", "times": 1})
    for parameter in body["parameters"]:
        parameter["publicable"] = parameter["name"] != "_cmd"
    body["parameters"].append({"name": "mode", "parameter_type": "enum", "publicable": True,
                               "value": {"values": ["fast", "slow"], "index": 0}})
    return api.save_operation(body)


def test_the_run_form_runs_with_its_values_and_the_run_view_shows_them(page, api) -> None:
    tag = secrets.token_hex(3)
    stored = api.ok("post", "graphs", json={"graph": graph(f"form {tag}", [instance(_operation(api, tag))]),
                                            "actions": ["SAVE"]})["graph"]
    graph_id, node_id = stored["_id"], stored["nodes"][0]["_id"]

    page.goto(f"/graphs/{graph_id}")
    expect(page.get_by_test_id("graph-editor")).to_be_visible()
    page.get_by_role("button", name="Run", exact=True).click()
    form = page.get_by_role("dialog", name="Run parameters")
    fields = form.get_by_test_id(f"run-form-node-Say {tag}")
    expect(fields.locator('input[name="word"]')).to_have_value("stored")  # prefilled with the saved values
    expect(fields.locator('input[name="times"]')).to_have_value("1")
    expect(fields.locator('[data-testid="param-_timeout"]')).to_have_count(0)  # system parameters are not asked
    # Cancel starts nothing
    form.get_by_role("button", name="Cancel").click()
    expect(form).to_have_count(0)
    assert api.ok("get", f"graphs/{graph_id}/runs")["total_count"] == 0

    page.get_by_role("button", name="Run", exact=True).click()
    fields.locator('input[name="times"]').fill("many")
    expect(fields.get_by_role("alert")).to_contain_text("whole number")  # typed: a wrong value is named
    expect(form.get_by_role("button", name="Run", exact=True)).to_be_disabled()
    fields.locator('input[name="times"]').fill("4")
    fields.locator('input[name="word"]').fill("from the form")
    fields.locator('select[name="mode"]').select_option(label="slow")
    shot(page, "run-form")
    form.get_by_role("button", name="Run", exact=True).click()
    expect(form).to_have_count(0)

    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    runs = api.ok("get", f"graphs/{graph_id}/runs")
    assert runs["total_count"] == 1
    run_id = runs["items"][0]["_id"]
    record = api.ok("get", f"runs/{run_id}")["data"]
    assert record["parameters"] == {f"{node_id}.word": "from the form", f"{node_id}.times": 4,
                                    f"{node_id}.mode": {"values": ["fast", "slow"], "index": 1}}
    assert api.resource(output_id(record["graph"]["nodes"][0], "out")) == b"from the form x4 slow"
    saved = {p["name"]: p["value"] for p in api.ok("get", f"graphs/{graph_id}")["data"]["nodes"][0]["parameters"]}
    assert saved["word"] == "stored" and saved["times"] == 1  # the workflow keeps its own values
    page.reload()
    page.get_by_role("button", name="Run", exact=True).click()  # the form again offers the saved values
    expect(page.get_by_role("dialog", name="Run parameters").locator('input[name="word"]')).to_have_value("stored")
    page.get_by_role("dialog", name="Run parameters").get_by_role("button", name="Cancel").click()

    page.goto(f"/runs/{run_id}")
    shown = page.get_by_test_id("run-parameters")
    expect(shown.locator(f'tr[data-parameter="{node_id}.word"]')).to_contain_text("from the form")
    expect(shown.locator(f'tr[data-parameter="{node_id}.times"]')).to_contain_text("4")
    expect(shown.locator(f'tr[data-parameter="{node_id}.mode"]')).to_contain_text("slow")
    expect(shown.locator(f'tr[data-parameter="{node_id}.word"]')).to_contain_text(f"Say {tag}")
    shot(page, "run-view-parameters")
    assert not page.page_errors


def test_a_workflow_without_run_parameters_runs_at_once(page, api) -> None:
    tag = secrets.token_hex(3)
    plain = api.save_operation(operation("python", f"Plain {tag}", "open(outputs['out'], 'w').write('x')\n",
                                         outputs=["out"], params={"word": "not publicable"}))
    graph_id = api.ok("post", "graphs", json={"graph": graph(f"no form {tag}", [instance(plain)]),
                                              "actions": ["SAVE"]})["graph"]["_id"]
    page.goto(f"/graphs/{graph_id}")
    page.get_by_role("button", name="Run", exact=True).click()
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    expect(page.get_by_role("dialog", name="Run parameters")).to_have_count(0)
    record = api.ok("get", f"graphs/{graph_id}/runs")["items"][0]
    assert record["parameters"] == {}
    page.goto(f"/runs/{record['_id']}")
    expect(page.get_by_test_id("run-view")).to_be_visible()
    expect(page.get_by_test_id("run-parameters")).to_have_count(0)
    assert re.search("SUCCESS", page.get_by_test_id("run-status").inner_text())
