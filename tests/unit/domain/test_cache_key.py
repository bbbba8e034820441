"""Cache keys: equal exactly when a run would give the same results, whatever else changed."""
from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from chalicelib.domain.cache_key import IGNORED_PARAMETERS, key

from .builders import INPUTS, composite, file, link, operation, param, port

INPUT_IDS = {"rows": ["content-a", "content-b"], "config": ["content-c"]}


def _operation() -> dict:
    return operation("op", port("rows", link("f"), link("g"), max_count=-1), port("config", link("h")),
                     outputs=("model", "report"),
                     params=[param("rate", 0.5, "float"), param("seed", 7, "int"), param("_timeout", 60, "int"),
                             param("_cacheable", True, "bool")])


def _set(name: str, value: object, parameter_type: str = "str") -> Callable[[dict], None]:
    def change(node: dict) -> None:
        found = next((p for p in node["parameters"] if p["name"] == name), None)
        if found is None:
            node["parameters"].append(param(name, value, parameter_type))
        else:
            found["value"] = value
    return change


def _ran(node: dict) -> None:
    node["node_running_status"] = "SUCCESS"
    node["outputs"] = [dict(o, resource_id=f"res-{o['name']}") for o in node["outputs"]]
    node["logs"] = [dict(log, resource_id=f"log-{log['name']}") for log in node["logs"]]
    node["cache_url"] = "s3://somewhere"


SAME: dict[str, Callable[[dict], None]] = {
    "parameters-reordered": lambda n: n["parameters"].reverse(),
    "moved": lambda n: n.update(x=999, y=-5),
    "retitled": lambda n: n.update(title="Another title", description="described"),
    "run-results": _ran,
    "another-id": lambda n: n.update(_id="elsewhere", parent_node_id="lib-1"),  # the same operation in another graph
    "timeout": _set("_timeout", 5, "int"),
    "retries": _set("_retries", 3, "int"),
    "placement": _set("_placement", "fargate"),
    "cacheable": _set("cacheable", True, "bool"),
    "_cacheable-false": _set("_cacheable", False, "bool"),
    "starred": lambda n: n.update(starred=True),
    "widget": lambda n: n["parameters"][1].update(widget="slider", publicable=True),
}

DIFFERENT: dict[str, Callable[[dict], None]] = {
    "code": lambda n: n["parameters"][0]["value"].update(value="print('other')"),
    "a-parameter-value": _set("seed", 8, "int"),
    "a-parameter-type": lambda n: n["parameters"][2].update(parameter_type="str"),
    "a-new-parameter": _set("extra", "x"),
    "another-kind": lambda n: n.update(base_node_name="bash_jinja2"),
    "an-output-renamed": lambda n: n["outputs"][0].update(name="estimator"),
    "an-output-added": lambda n: n["outputs"].append({"name": "more", "file_type": "file", "resource_id": None}),
    "an-output-kind": lambda n: n["outputs"][0].update(file_type="directory"),  # prepared and post-processed differently
}


@pytest.mark.parametrize("change", SAME.values(), ids=SAME.keys())
def test_what_does_not_change_results_does_not_change_the_key(change: Callable[[dict], None]) -> None:
    node = _operation()
    changed = copy.deepcopy(node)
    change(changed)
    assert changed != node
    assert key(changed, INPUT_IDS) == key(node, INPUT_IDS)


@pytest.mark.parametrize("change", DIFFERENT.values(), ids=DIFFERENT.keys())
def test_what_changes_results_changes_the_key(change: Callable[[dict], None]) -> None:
    node = _operation()
    changed = copy.deepcopy(node)
    change(changed)
    assert key(changed, INPUT_IDS) != key(node, INPUT_IDS)


@pytest.mark.parametrize("input_ids", [
    {"rows": ["content-a", "content-x"], "config": ["content-c"]},  # another content
    {"rows": ["content-b", "content-a"], "config": ["content-c"]},  # an array input's order is what the script sees
    {"rows": ["content-a"], "config": ["content-c"]},
    {"rows": ["content-a", "content-b"], "settings": ["content-c"]},  # the same content under another input
    {"rows": ["content-a", "content-b"], "config": ["content-c"], "more": []},
], ids=["content", "order", "fewer", "renamed-input", "extra-input"])
def test_other_input_contents_give_another_key(input_ids: dict[str, list[str]]) -> None:
    assert key(_operation(), input_ids) != key(_operation(), INPUT_IDS)


def test_the_order_inputs_are_listed_in_does_not_matter() -> None:
    assert key(_operation(), {"config": ["content-c"], "rows": ["content-a", "content-b"]}) == key(_operation(), INPUT_IDS)


def test_the_key_is_a_sha256_hex_digest() -> None:
    digest = key(_operation(), INPUT_IDS)
    assert len(digest) == 64 and int(digest, 16) >= 0


def test_the_ignored_parameters_are_the_run_parameters() -> None:
    assert IGNORED_PARAMETERS == {"cacheable", "_cacheable", "_timeout", "_placement", "_retries"}


# --- composites --------------------------------------------------------------------------------


def _composite() -> dict:
    inner = [file("lookup", resource_id="content-l"),
             operation("prep", port("in", link(INPUTS, "x")), params=[param("k", 3, "int"), param("_timeout", 9, "int")]),
             operation("fit", port("in", link("prep")), port("table", link("lookup")))]
    return composite("c", inner, port("x", link("f")), outputs={"r": [link("fit")]})


def _inner(node: dict, node_id: str) -> dict:
    return next(n for n in node["parameters"][0]["value"] if n["_id"] == node_id)


COMPOSITE_SAME: dict[str, Callable[[dict], None]] = {
    "inner-positions": lambda c: [n.update(x=n["x"] + 100, y=7) for n in c["parameters"][0]["value"]],
    "inner-titles": lambda c: [n.update(title=f"renamed {n['_id']}", description="d") for n in c["parameters"][0]["value"]],
    "inner-run-results": lambda c: [_ran(_inner(c, node_id)) for node_id in ("prep", "fit")],
    "inner-timeout": lambda c: _set("_timeout", 100, "int")(_inner(c, "prep")),
    "inner-placement": lambda c: _set("_placement", "fargate")(_inner(c, "fit")),
    "inner-parameters-reordered": lambda c: _inner(c, "prep")["parameters"].reverse(),
    "composite-title": lambda c: c.update(title="Another"),
}

COMPOSITE_DIFFERENT: dict[str, Callable[[dict], None]] = {
    "inner-link": lambda c: _inner(c, "fit")["inputs"][0]["values"][0].update(node_id="lookup", output_id="out"),
    "inner-parameter": lambda c: _set("k", 4, "int")(_inner(c, "prep")),
    "inner-code": lambda c: _inner(c, "fit")["parameters"][0]["value"].update(value="print(2)"),
    "inner-file-content": lambda c: _inner(c, "lookup")["outputs"][0].update(resource_id="content-other"),
    "outputs-wiring": lambda c: _inner(c, "56a2bd3af3fe5ee6d63ac7dd")["inputs"][0]["values"][0].update(node_id="prep"),
    "inner-node-added": lambda c: c["parameters"][0]["value"].append(operation("extra")),
    "inner-output-kind": lambda c: _inner(c, "prep")["outputs"][0].update(file_type="json"),
}


@pytest.mark.parametrize("change", COMPOSITE_SAME.values(), ids=COMPOSITE_SAME.keys())
def test_a_composites_key_ignores_layout_titles_results_and_run_parameters_inside(change: Callable[[dict], None]) -> None:
    node = _composite()
    changed = copy.deepcopy(node)
    change(changed)
    assert changed != node
    assert key(changed, {"x": ["content-f"]}) == key(node, {"x": ["content-f"]})


@pytest.mark.parametrize("change", COMPOSITE_DIFFERENT.values(), ids=COMPOSITE_DIFFERENT.keys())
def test_a_composites_key_follows_its_sub_graphs_links_parameters_and_contents(change: Callable[[dict], None]) -> None:
    node = _composite()
    changed = copy.deepcopy(node)
    change(changed)
    assert key(changed, {"x": ["content-f"]}) != key(node, {"x": ["content-f"]})
