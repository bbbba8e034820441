"""A local stack in its own process, as `make up` runs it (for modes the session's stack is not in)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.conftest import REPO, _free_port


def stack_env(data_dir: str) -> tuple[dict[str, str], dict[str, str]]:
    """A clean environment with free ports; returns it and the ports by variable name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLYNX_", "MOTO_"))}
    ports = {name: str(_free_port()) for name in ("PLYNX_API_PORT", "PLYNX_UI_PORT", "PLYNX_MOTO_PORT")}
    env.update(ports, PLYNX_DATA_DIR=data_dir)
    return env, ports


def start(env: dict[str, str], *args: str) -> subprocess.Popen:
    """`python -m infra.local ARGS`, returned once it says it is up."""
    process = subprocess.Popen([sys.executable, "-m", "infra.local", *args], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C" in line:
            return process
    process.kill()
    raise AssertionError("the local stack did not start:\n" + "".join(lines))


def stop(process: subprocess.Popen) -> str:
    """Ctrl-C, and the output of a clean stop."""
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    return out
