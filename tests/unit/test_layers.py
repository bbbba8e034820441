"""The architecture as the imports draw it: every import points down a layer, and none goes round in a circle.

Layers, top down: app.py; chalicelib/api, chalicelib/hubs and runners/; chalicelib/engine; chalicelib/store
and stepfunctions/; chalicelib/domain and chalicelib/resource_types (pure). Imports inside functions
count too: a lazy import is still a dependency.
"""
from __future__ import annotations

import ast
import os
from collections.abc import Iterator

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOTS = ("app.py", "chalicelib", "runners", "stepfunctions", "plynx")

# What each layer may import (besides the standard library and third-party packages).
ALLOWED = {
    "domain": {"domain", "resource_types"},
    "resource_types": {"resource_types", "domain"},
    "stepfunctions": {"stepfunctions", "domain"},
    "store": {"store", "domain"},
    "engine": {"engine", "store", "domain", "stepfunctions"},
    "api": {"api", "engine", "store", "domain", "stepfunctions", "resource_types"},
    "hubs": {"hubs", "api", "store", "domain", "plynx"},  # the demo hub lists operations written with plynx/
    "runners": {"runners", "engine", "store", "domain", "stepfunctions", "resource_types"},
    "app": {"app", "api", "hubs", "engine", "domain"},
    "plynx": {"plynx"},  # the python API is a client: no server code
}
# The pure layers reach no cloud: no AWS SDK, no DynamoDB mapper.
PURE = {"domain", "resource_types", "stepfunctions"}
CLOUD_PACKAGES = {"boto3", "botocore", "pynamodb", "moto"}


def _modules() -> dict[str, str]:
    """Dotted module name -> file path, for every first-party module."""
    found = {}
    for root in ROOTS:
        path = os.path.join(REPO, root)
        if root.endswith(".py"):
            if os.path.exists(path):
                found[root[:-3]] = path
            continue
        for folder, _, files in os.walk(path):
            for name in files:
                if name.endswith(".py"):
                    relative = os.path.relpath(os.path.join(folder, name), REPO)[:-3].split(os.sep)
                    if relative[-1] == "__init__":
                        relative = relative[:-1]
                    found[".".join(relative)] = os.path.join(folder, name)
    return found


def _imports(module: str, path: str, known: set[str]) -> Iterator[tuple[str, int]]:
    """Every module this one imports (absolute names), with the line, anywhere in the file."""
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from package import module` imports the module
                candidate = f"{target}.{alias.name}"
                yield (candidate if candidate in known else target), node.lineno


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "chalicelib":
        return parts[1] if len(parts) > 1 else None
    return {"app": "app", "runners": "runners", "stepfunctions": "stepfunctions", "plynx": "plynx"}.get(parts[0])


def _first_party(name: str, known: set[str]) -> str | None:
    """The known module an imported name is, or lives in."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    known = set(modules)
    edges: dict[str, set[str]] = {module: set() for module in modules}
    problems = []
    for module, path in modules.items():
        layer = _layer(module)
        for name, line in _imports(module, path, known):
            where = f"{os.path.relpath(path, REPO)}:{line}"
            if layer in PURE and name.split(".")[0] in CLOUD_PACKAGES:
                problems.append(f"{where}: the pure layer `{layer}` imports `{name}`")
            target = _first_party(name, known)
            if target is None or target == module:
                continue
            edges[module].add(target)
            if _layer(target) not in ALLOWED.get(layer, set()):
                problems.append(f"{where}: `{module}` ({layer}) imports `{target}` ({_layer(target)})")
    return edges, problems


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_imports_point_down_the_layers() -> None:
    _, problems = _graph()
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def test_no_import_cycles() -> None:
    edges, _ = _graph()
    cycles = _cycles(edges)
    assert not cycles, "modules that import each other, directly or round about:\n" + "\n".join(
        " ⇄ ".join(cycle) for cycle in cycles)


def test_the_checks_see_what_they_check(tmp_path, monkeypatch) -> None:
    """A wrong-way import and a cycle in a throwaway tree are both reported (the checks can fail)."""
    for folder in ("chalicelib/domain", "chalicelib/engine"):
        os.makedirs(tmp_path / folder)
    (tmp_path / "chalicelib/domain/a.py").write_text("from chalicelib.engine import b\nimport boto3\n")
    (tmp_path / "chalicelib/engine/b.py").write_text("def f():\n    from chalicelib.domain import a\n")
    monkeypatch.setattr(f"{__name__}.REPO", str(tmp_path))
    edges, problems = _graph()
    assert any("(domain) imports `chalicelib.engine.b` (engine)" in p for p in problems), problems
    assert any("imports `boto3`" in p for p in problems), problems
    assert _cycles(edges) == [["chalicelib.domain.a", "chalicelib.engine.b"]]


def test_the_zygote_imports_the_standard_library_only() -> None:
    """Operations are forks of runners/zygote.py: whatever it imports, every user's code holds in memory."""
    import sys

    path = os.path.join(REPO, "runners", "zygote.py")
    imported = {name.split(".")[0] for name, _ in _imports("runners.zygote", path, set(_modules()))}
    assert imported and imported <= set(sys.stdlib_module_names) | {"__future__"}, imported - set(sys.stdlib_module_names)
