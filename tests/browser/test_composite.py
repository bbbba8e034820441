"""A workflow saved as a composite operation from the toolbar, approved, dropped into another workflow and run;
the operations inside show their statuses and results."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot
from tests.browser.ui import add_from_hub, new_graph, node, preview, select_node, wire
from tests.helpers import graph, instance, operation

pytestmark = pytest.mark.slow

PLUS = "n = int(open(inputs['in']).read())\nopen(outputs['out'], 'w').write(str(n + int(params['add'])))\n"
ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}


def test_save_a_workflow_as_an_operation_and_run_it_inside_another(page, api) -> None:
    tag = secrets.token_hex(3)
    plus = api.save_operation(operation("python", f"plus {tag}", PLUS, inputs=[ONE], outputs=["out"], params={"add": 1}))
    seed = api.upload(b"1", f"number {tag}")
    first = instance(plus, **{"in": [(seed, "out")]})
    second = instance(plus, **{"in": [(first, "out")]})
    second["title"] = f"plus again {tag}"
    inner = api.ok("post", "graphs", json={"graph": graph(f"plus two {tag}", [seed, first, second]),
                                           "actions": ["SAVE"]})["graph"]

    # 1. the toolbar's "Save as operation" opens the new composite in the operation editor
    page.goto(f"/graphs/{inner['_id']}")
    expect(node(page, f"plus again {tag}")).to_have_count(1)
    page.get_by_role("button", name="Make operation").click()
    expect(page).to_have_url(re.compile(r"/nodes/[0-9a-f]+$"))
    editor = page.get_by_test_id("operation-editor")
    inside = editor.get_by_test_id("composite-inside")
    expect(inside).to_contain_text("Inside: 2 operations")
    expect(inside).to_contain_text(f"input number {tag} → plus {tag}")
    expect(inside).to_contain_text(f"output out ← plus again {tag}.out")
    editor.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("op-notice")).to_contain_text("Approved")
    shot(page, "70-composite-operation")

    # 2. in a new workflow: a file wired into the composite, run to SUCCESS
    api.upload(b"40", f"forty {tag}")
    new_graph(page, f"uses plus two {tag}")
    add_from_hub(page, f"forty {tag}", at=(80, 80), tab="Files")
    add_from_hub(page, f"plus two {tag}", at=(420, 80), tab="Database hub")
    expect(node(page, f"plus two {tag}").locator(".pnode-kind")).to_have_text("composite")
    wire(page, f"forty {tag}", "out", f"plus two {tag}", f"number {tag}")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_test_id("graph-status")).to_contain_text("SUCCESS", timeout=90_000)
    expect(node(page, f"plus two {tag}")).to_have_attribute("data-status", "SUCCESS")

    # 3. its output, and the operations inside with theirs
    properties = select_node(page, f"plus two {tag}")
    expect(preview(properties, "output-out")).to_have_text("42")
    inner_nodes = properties.get_by_test_id("inner-node")
    expect(inner_nodes).to_have_count(2)
    expect(properties.locator(f'[data-testid="inner-node"][data-title="plus again {tag}"]')).to_have_attribute(
        "data-status", "SUCCESS")
    properties.get_by_role("button", name=f"plus again {tag}").click()
    expect(properties.get_by_test_id("composite-inside")).to_contain_text("stdout")
    shot(page, "71-composite-run")
