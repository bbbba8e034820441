"""A bash_jinja2 command is a template a user wrote: it renders in Jinja2's sandbox, in the API (PREVIEW_CMD,
VALIDATE, APPROVE) as in the runner, and nothing else in the API imports, unpickles or evaluates what a user sent.

Each payload, if evaluated, would run `id -un` (answering `root` here) and create a marker file: the tests
assert on both, so they fail on the code before the sandbox (where PREVIEW_CMD answered `echo root`).
"""
from __future__ import annotations

import ast
import os
import pickle
import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import REPO
from tests.helpers import by_title, graph, instance, log_id, operation

ONE = {"file_types": ["file"], "min_count": 1, "max_count": 1}
INPUT_ID, OUTPUT_ID = "2419f9f6d8b5da6e4bb8f8d4", "56a2bd3af3fe5ee6d63ac7dd"


@pytest.fixture()
def marker() -> Iterator[str]:
    path = f"/tmp/plynx-injection-{secrets.token_hex(6)}"
    yield path
    if os.path.exists(path):
        os.remove(path)


def payloads(marker: str) -> list[str]:
    """Ways out of a plain Jinja2 environment into the process: globals of functions, classes, formatters."""
    shell = f"id -un; touch {marker}"
    return [
        f"echo {{{{ lipsum.__globals__.os.popen('{shell}').read() }}}}",
        f"echo {{{{ cycler.__init__.__globals__.os.popen('{shell}').read() }}}}",
        f"echo {{{{ joiner.__init__.__globals__['os'].popen('{shell}').read() }}}}",
        "echo {{ ''.__class__.__mro__[1].__subclasses__() }}",
        "echo {{ '{0.__class__.__base__.__subclasses__}'.format(params) }}",
        "echo {{ self._TemplateReference__context }}",
    ]


def _bash(cmd: str, **extra: object) -> dict:
    return operation("bash_jinja2", "Injected", cmd, **extra)


def _cmd_errors(tree: dict) -> list[dict]:
    """Every PARAMETER `_cmd` entry of a validation tree."""
    found = [tree] if tree["target"] == "PARAMETER" and tree["object_id"] == "_cmd" else []
    for child in tree["children"]:
        found += _cmd_errors(child)
    return found


def test_preview_cmd_does_not_evaluate_a_template_that_reaches_for_internals(api, marker) -> None:
    for cmd in payloads(marker):
        response = api.post("nodes", json={"node": _bash(cmd), "actions": ["PREVIEW_CMD"]})
        assert response.status_code == 200, (cmd, response.text)  # a validation answer, not a 500
        body = response.json()
        assert "root" not in response.text and "preview_text" not in body, (cmd, body)
        assert body["status"] == "VALIDATION_FAILED", (cmd, body)
        assert body["validation_error"] == {"target": "PARAMETER", "object_id": "_cmd",
                                            "validation_code": "INVALID_VALUE", "children": []}
        assert "sandbox" in body["message"], body["message"]
    assert not os.path.exists(marker)


def test_preview_cmd_still_renders_an_honest_template(api) -> None:
    cmd = ("cp {{ inputs.src }} {{ outputs.dst }} # {{ params.n }} {{ '%03d' % params.n }} "
           "{% for f in [inputs.src] %}{{ loop.index }}{% endfor %} {{ 'a' ~ 'b' }}\n")
    body = api.ok("post", "nodes", json={"node": _bash(cmd, inputs=[{"name": "src", **ONE}], outputs=["dst"],
                                                       params={"n": 7}), "actions": ["PREVIEW_CMD"]})
    assert body["status"] == "SUCCESS"
    assert body["preview_text"].endswith("/o_0_dst # 7 007 1 ab\n")


@pytest.mark.parametrize("cmd", [
    "echo {{ 'a' * 10**9 }}",  # a gigabyte from one operator
    "echo {{ 2**10000000 }}",
    "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",  # 10^10 steps
    "echo {{ 'x'|center(10**9) }} {{ 'x'.ljust(10**9) }}",
    "echo {{ '{:>999999999}'.format(1) }}",
])
def test_preview_cmd_refuses_templates_that_would_exhaust_the_api(api, cmd: str) -> None:
    response = api.post("nodes", json={"node": _bash(cmd), "actions": ["PREVIEW_CMD"]})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "VALIDATION_FAILED"
    assert response.json()["validation_error"]["object_id"] == "_cmd"


def test_a_template_fault_is_a_validation_answer_not_a_500(api) -> None:
    for cmd in ("echo {{ 1 / 0 }}", "echo {{ params.n + 'x' }}", "echo {{ unclosed"):
        body = api.ok("post", "nodes", json={"node": _bash(cmd, params={"n": 1}), "actions": ["PREVIEW_CMD"]})
        assert body["status"] == "VALIDATION_FAILED" and body["validation_error"]["object_id"] == "_cmd", body


def test_validate_and_approve_of_an_operation_refuse_the_injection(api, marker) -> None:
    for cmd in payloads(marker)[:2]:
        for action in ("VALIDATE", "APPROVE"):
            body = api.ok("post", "nodes", json={"node": _bash(cmd), "actions": ["SAVE", action]})
            assert body["status"] == "VALIDATION_FAILED", (action, body)
            assert [e["validation_code"] for e in _cmd_errors(body["validation_error"])] == ["INVALID_VALUE"]
            stored = api.ok("get", f"nodes/{body['node']['_id']}")["data"]
            assert stored["node_status"] == "CREATED"  # not approved
    assert not os.path.exists(marker)


def test_validate_and_approve_of_a_graph_name_the_node_and_its_cmd(api, marker) -> None:
    text = instance(api.upload(b"hello\n", "text"))
    bad = _bash(payloads(marker)[0], inputs=[{"name": "text", **ONE}], outputs=["out"])
    bad["_id"] = secrets.token_hex(12)
    bad["inputs"][0]["values"] = [{"node_id": text["_id"], "output_id": "out"}]
    for actions in (["SAVE", "VALIDATE"], ["SAVE", "APPROVE"]):
        body = api.ok("post", "graphs", json={"graph": graph("injected", [text, bad]), "actions": actions})
        assert body["status"] == "VALIDATION_FAILED", body
        tree = body["validation_error"]
        (node_error,) = tree["children"]
        assert node_error["target"] == "NODE" and node_error["object_id"] == bad["_id"]
        assert node_error["children"] == [{"target": "PARAMETER", "object_id": "_cmd",
                                           "validation_code": "INVALID_VALUE", "children": []}]
        stored = api.ok("get", f"graphs/{body['graph']['_id']}")["data"]
        assert stored["graph_running_status"] not in ("READY", "RUNNING", "SUCCESS", "FAILED")
    assert not os.path.exists(marker)


def test_an_injection_inside_a_composite_is_named_on_its_inner_node(api, marker) -> None:
    inner = instance(api.save_operation(operation("python", "fine", "open(outputs['out'], 'w').write('1')\n",
                                                  outputs=["out"])))
    bad = _bash(payloads(marker)[1])
    bad["_id"] = secrets.token_hex(12)
    collector = {"_id": OUTPUT_ID, "base_node_name": "_output",
                 "inputs": [{"name": "result", "values": [{"node_id": inner["_id"], "output_id": "out"}]}]}
    node = {"base_node_name": "graph", "title": "hides it", "outputs": [{"name": "result", "file_type": "file"}],
            "parameters": [{"name": "_nodes", "parameter_type": "list_node",
                            "value": [{"_id": INPUT_ID, "base_node_name": "_input"}, inner, bad, collector]}]}
    body = api.ok("post", "nodes", json={"node": node, "action": "APPROVE"})
    assert body["status"] == "VALIDATION_FAILED", body
    (inner_error,) = [c for c in body["validation_error"]["children"] if c["object_id"] == bad["_id"]]
    assert [e["validation_code"] for e in _cmd_errors(inner_error)] == ["INVALID_VALUE"]
    assert not os.path.exists(marker)


@pytest.mark.slow
def test_a_run_whose_template_reaches_for_internals_at_run_time_fails_and_nothing_executes(api, marker) -> None:
    # The branch is taken only with the runner's real paths (a preview's are under /tmp/plynx/): validation
    # cannot see it, so the runner's own sandbox must stop it.
    reach = payloads(marker)[0].removeprefix("echo ")
    cmd = ("{% if not inputs.text.startswith('/tmp/plynx/') %}echo " + reach + " > {{ outputs.out }}"
           "{% else %}echo preview > {{ outputs.out }}{% endif %}\n")
    op = api.save_operation(_bash(cmd, inputs=[{"name": "text", **ONE}], outputs=["out"]))
    text = instance(api.upload(b"hello\n", "text"))
    body = api.ok("post", "graphs", json={"graph": graph("injected at run time", [text, instance(op, text=[(text, "out")])]),
                                          "actions": ["SAVE", "APPROVE"]})
    assert body["status"] == "SUCCESS", body.get("validation_error")
    result = api.wait(body["graph"]["_id"])
    assert result["graph_running_status"] == "FAILED"
    node = by_title(result, "Injected")
    assert node["node_running_status"] == "FAILED"
    worker = api.resource(log_id(node, "worker")).decode()
    assert "The command template was stopped by the sandbox" in worker and "__globals__" in worker, worker
    assert "Running script" not in worker  # nothing was run
    assert not os.path.exists(marker)


class _Bomb:
    """Unpickling this creates the marker file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.path}",))


def test_the_api_never_unpickles_a_shipped_function(api, marker) -> None:
    # The python API ships functions as a cloudpickle in `_pickled_fn`: only the operation's own process may
    # load it. Everything the API does with such a node short of running it must leave it unopened.
    bomb = pickle.dumps(_Bomb(marker)).hex()
    node = operation("python", "Shipped", "fn = __import__('pickle').loads(bytes.fromhex(params['_pickled_fn']))\n",
                     outputs=["out"], params={"_pickled_fn": bomb})
    for action in ("SAVE", "VALIDATE", "PREVIEW_CMD", "APPROVE"):
        response = api.post("nodes", json={"node": node, "actions": [action]})
        assert response.status_code == 200, response.text
    saved = api.save_operation(node, action="SAVE")
    api.ok("post", "nodes", json={"node": saved, "actions": ["CLONE"]})
    body = api.ok("post", "graphs", json={"graph": graph("shipped", [instance(saved)]),
                                          "actions": ["SAVE", "VALIDATE", "GENERATE_CODE", "REARRANGE"]})
    graph_id = body["graph"]["_id"]
    for action in ("validate", "generate_code", "clone", "as_operation"):
        api.ok("post", f"graphs/{graph_id}/{action}")
    api.ok("post", "search_nodes", json={"search": "Shipped"})
    api.ok("get", f"graphs/{graph_id}")
    assert not os.path.exists(marker)


# What evaluates, imports or unpickles: none of it may be applied to a request's content in the API.
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile"}
FORBIDDEN_MODULES = {"pickle", "cloudpickle", "dill", "marshal", "shelve", "subprocess", "runpy", "code"}
FORBIDDEN_ATTRIBUTES = {
    ("yaml", "load"), ("yaml", "unsafe_load"), ("yaml", "full_load"), ("yaml", "load_all"),
    ("os", "system"), ("os", "popen"), ("jinja2", "Environment"), ("jinja2", "Template"),
}
# The one dynamic import: classes the operator's configuration names (never a request's content).
ALLOWED_IMPORT_MODULE = {os.path.join("chalicelib", "domain", "config.py")}
API_LAYERS = ["app.py", "chalicelib"]


def _python_files() -> Iterator[str]:
    for entry in API_LAYERS:
        path = os.path.join(REPO, entry)
        if path.endswith(".py"):
            yield path
            continue
        for root, _, files in os.walk(path):
            yield from (os.path.join(root, name) for name in files if name.endswith(".py"))


def _problems(path: str) -> list[str]:
    relative = os.path.relpath(path, REPO)
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    found = []
    for node in ast.walk(tree):
        where = f"{relative}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            found.append(f"{where} calls {node.func.id}()")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{where} imports {name}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
            if (owner, node.func.attr) in FORBIDDEN_ATTRIBUTES:
                found.append(f"{where} calls {owner}.{node.func.attr}()")
            if node.func.attr == "import_module" and relative not in ALLOWED_IMPORT_MODULE:
                found.append(f"{where} imports a module by name")
        if isinstance(node, ast.ImportFrom) and node.module == "jinja2" and any(
                alias.name in ("Environment", "Template") for alias in node.names):
            found.append(f"{where} imports a non-sandboxed jinja2 environment")
    return found


def test_the_api_layers_never_evaluate_import_or_unpickle_what_a_user_sent() -> None:
    problems = [problem for path in _python_files() for problem in _problems(path)]
    assert not problems, "\n".join(problems)


def test_the_scan_catches_what_it_looks_for(tmp_path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import pickle\nimport yaml\nimport importlib\nfrom jinja2 import Environment\n"
                      "eval('1')\nyaml.load('a')\nimportlib.import_module('os')\n")
    found = _problems(str(sample))
    assert len(found) == 5, found


def test_every_jinja2_rendering_goes_through_the_sandbox() -> None:
    # the API's preview and validation, and the runner, share scripts.script_text → template_sandbox.render
    from chalicelib.domain import scripts, template_sandbox
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from runners import executors

    assert isinstance(template_sandbox._SANDBOX, ImmutableSandboxedEnvironment)
    assert executors.script_text is scripts.script_text
    users = [path for path in [*_python_files(), *(os.path.join(REPO, "runners", name)
                                                     for name in os.listdir(os.path.join(REPO, "runners")))]
             if path.endswith(".py") and ".from_string(" in open(path, encoding="utf-8").read()]
    assert [os.path.relpath(p, REPO) for p in users] == [os.path.join("chalicelib", "domain", "template_sandbox.py")]
