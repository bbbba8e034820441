"""One local stack per test session: real moto (Step Functions executing), the real API and runner.

The project's modules read their endpoints at import time, so the environment is set here,
before any test module imports them.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from typing import Any, Iterator

import pytest
import requests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)


from infra.local.stack import free_port as _free_port  # noqa: E402  (env-free import)

PORTS = {"api_port": _free_port(), "ui_port": _free_port(), "moto_port": _free_port()}
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "MOTO_PORT": str(PORTS["moto_port"]),
        "PLYNX_AWS_ENDPOINT": f"http://127.0.0.1:{PORTS['moto_port']}",
        "PLYNX_UI_URL": f"http://localhost:{PORTS['ui_port']}",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PLYNX_CONFIG": os.path.join(REPO, "tests", "data", "plynx-config.yaml"),  # adds a plugged-in resource
    }
)
os.environ.pop("PLYNX_SECRET_KEY", None)
os.environ["PLYNX_SINGLE_USER"] = "true"  # the session's stack is the laptop's single-user mode


# The fast subset (`make test PYTEST_ARGS='-m "not slow"'`) starts no stack: every test that needs one
# is `slow` without saying so itself. A test needs a stack when it asks for the `stack` fixture (directly
# or through `api`, `ui_url`, `page`), drives Chromium or starts stacks of its own (these folders), or
# starts `python -m infra.local` through tests/processes.py.
STACK_FIXTURES = frozenset({"stack"})
STACK_FOLDERS = frozenset({"browser", "local"})
_TESTS = os.path.dirname(os.path.abspath(__file__))


def needs_stack(item: pytest.Item) -> bool:
    """Whether a test starts (or shares) a running stack, from its fixtures, folder or module."""
    if STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    folder = os.path.relpath(str(item.path), _TESTS).split(os.sep)[0]
    if folder in STACK_FOLDERS:
        return True
    module = getattr(item, "module", None)
    return module is not None and any(
        getattr(value, "__name__", None) == "tests.processes" or getattr(value, "__module__", None) == "tests.processes"
        for value in vars(module).values())


def pytest_ignore_collect(collection_path: Any, config: pytest.Config) -> bool | None:
    """`-m "not slow"` does not even import the folders whose every test needs a stack (seconds saved)."""
    if config.getoption("markexpr", "").strip() != "not slow":
        return None
    relative = os.path.relpath(str(collection_path), _TESTS).split(os.sep)
    return True if len(relative) == 1 and relative[0] in STACK_FOLDERS else None


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if needs_stack(item):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def stack() -> Iterator[Any]:
    from infra.local.stack import start_stack

    with tempfile.TemporaryDirectory(prefix="plynx-test-") as data_dir:
        running = start_stack(data_dir=data_dir, **PORTS)
        try:
            yield running
        finally:
            running.stop()


class Api:
    """A client of the REST API as a script of a PLynx user would be: `-u default:`."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.auth = ("default", "")

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.url(path), timeout=30, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.url(path), timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> dict:
        response = getattr(self, method)(path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def upload(self, content: bytes, title: str, file_type: str = "file") -> dict:
        body = self.ok("post", "upload_file", files={"data": (f"{title}.txt", content)},
                       data={"title": title, "description": "test", "file_type": file_type})
        return body["node"]

    def save_operation(self, node: dict, action: str = "APPROVE") -> dict:
        body = self.ok("post", "nodes", json={"node": node, "action": action})
        assert body["status"] == "SUCCESS", body
        return body["node"]

    def wait(self, graph_id: str, timeout: float = 60.0) -> dict:
        """Poll until the graph's run has ended; returns the graph."""
        deadline = time.monotonic() + timeout
        while True:
            graph = self.ok("get", f"graphs/{graph_id}")["data"]
            if graph["graph_running_status"] in ("SUCCESS", "FAILED", "CANCELED"):
                return graph
            if time.monotonic() > deadline:
                raise AssertionError(f"graph still {graph['graph_running_status']}: {graph}")
            time.sleep(0.1)

    def resource(self, resource_id: str) -> bytes:
        response = self.get(f"resources/{resource_id}")
        assert response.status_code == 200, response.text
        return response.content


@pytest.fixture()
def shared_tmp() -> Iterator[Any]:
    """A directory the test's operations may write into. pytest's tmp_path is root's own (mode 0700), and a
    root runner runs each operation under a uid of its own (runners/zygote.py): this one is world-writable."""
    import pathlib
    import shutil

    path = pathlib.Path(tempfile.mkdtemp(prefix="plynx-shared-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def api(stack: Any) -> Api:
    return Api(stack.api_url)


# Headless Chromium (Debian's package) driven by Playwright, for tests/browser and tests/security: one per session.
CHROMIUM = os.environ.get("PLYNX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # a loaded 2-core CI machine: waits, not timings, decide

    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: `make test` installs Debian's chromium package"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def ui_url(stack: Any) -> str:
    index = os.path.join(stack.ui_dir, "index.html")
    assert stack.ui_dir.endswith(os.path.join("ui", "dist")) and os.path.exists(index), (
        f"the stack serves {stack.ui_dir}, not a build: run `make test` (it builds ui/dist)"
    )
    return stack.ui_url
