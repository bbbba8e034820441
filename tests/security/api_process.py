"""Another API process on the tables of a running local stack, as a second Lambda container would be:
`python -m tests.security.api_process PORT` with PLYNX_AWS_ENDPOINT naming the stack's moto. Its own
settings (secret key, registration mode) come from its environment."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import requests

# Not tests.conftest: importing it sets the test session's environment, which this process must not take.
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ApiProcess:
    """A started API process: its base URL and how to stop it."""

    output = ""

    def __init__(self, env: dict[str, str]) -> None:
        from infra.local.stack import free_port

        port = free_port()
        self.base = f"http://127.0.0.1:{port}/plynx/api/v0"
        # A file, not a pipe: nobody reads the access log while it runs, and a full pipe would stall it.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen([sys.executable, "-m", "tests.security.api_process", str(port)], cwd=REPO,
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if requests.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"the API process did not start:\n{self.output}")

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.base}/{path}", timeout=30, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.seek(0)
        self.output = self.log.read()
        self.log.close()


def main() -> int:
    port = int(sys.argv[1])
    from infra.local.stack import _make_api_server

    import app

    server = _make_api_server(app.app, "127.0.0.1", port, quiet=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
