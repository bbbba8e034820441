"""A local stack in its own process, as `make up` runs it (for modes the session's stack is not in)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from tests.conftest import REPO, _free_port


def stack_env(data_dir: str) -> tuple[dict[str, str], dict[str, str]]:
    """A clean environment with free ports; returns it and the ports by variable name."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLYNX_", "MOTO_"))}
    ports = {name: str(_free_port()) for name in ("PLYNX_API_PORT", "PLYNX_UI_PORT", "PLYNX_MOTO_PORT")}
    env.update(ports, PLYNX_DATA_DIR=data_dir)
    return env, ports


_OUTPUT: dict[int, tuple[list[str], threading.Thread]] = {}


def start(env: dict[str, str], *args: str) -> subprocess.Popen:
    """`python -m infra.local ARGS`, returned once it says it is up.

    Its output is read all along (kept for stop()): a pipe nobody reads fills up, and the stack's threads
    then block in their log writes while holding the logging lock, so every request hangs. Its moto takes
    only requests signed with its own key (infra/local/auth.py), which it writes to its data dir: `env`
    gets it, so the CLIs and API processes a test starts with `env` reach that moto.
    """
    process = subprocess.Popen([sys.executable, "-m", "infra.local", *args], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C" in line:
            reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
            reader.start()
            _OUTPUT[process.pid] = (lines, reader)
            _take_key(env)
            return process
    process.kill()
    raise AssertionError("the local stack did not start:\n" + "".join(lines))


def stop(process: subprocess.Popen) -> str:
    """Ctrl-C, and the output of a clean stop."""
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    lines, reader = _OUTPUT.pop(process.pid)
    reader.join(timeout=10)
    out = "".join(lines)
    assert process.returncode == 0, out[-20_000:]
    return out


def _take_key(env: dict[str, str]) -> None:
    """The started stack's moto key (its data dir's aws-credentials file), into `env`."""
    import configparser

    path = os.path.join(env.get("PLYNX_DATA_DIR") or "", "aws-credentials")
    if not env.get("PLYNX_DATA_DIR") or not os.path.exists(path):
        return
    key = configparser.ConfigParser()
    key.read(path)
    env.update(AWS_ACCESS_KEY_ID=key["default"]["aws_access_key_id"],
               AWS_SECRET_ACCESS_KEY=key["default"]["aws_secret_access_key"])
    env.pop("AWS_SESSION_TOKEN", None)
