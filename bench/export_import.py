"""Export and import times and peak memory: a local stack's graphs, files and one big content to a
directory, and into a second, fresh stack.

    .venv/bin/python bench/export_import.py [--graphs 200] [--mb 256]

Starts both stacks itself (free ports), fills the first through the REST API and the python API
(`--graphs` saved graphs of three nodes, one `--mb` MB file), then runs the CLI as an operator would and
prints seconds and the CLI's peak RSS for export, import, and a second import (which writes nothing).
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from tests.helpers import graph, instance, operation  # noqa: E402
from tests.processes import stack_env, start, stop  # noqa: E402

MB = 1024 * 1024
# The CLI in a child that reports its own peak RSS (KiB on Linux) on its last stderr line.
_MEASURED = ("import resource, runpy, sys\nsys.argv = ['transfer_cli'] + sys.argv[1:]\ntry:\n"
             "    runpy.run_module('chalicelib.api.transfer_cli', run_name='__main__')\nfinally:\n"
             "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n")


def _cli(env: dict[str, str], moto: str, *args: str) -> tuple[dict, float, int]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _MEASURED, "--endpoint", moto, *args], cwd=REPO, env=env,
                          capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout), seconds, int(done.stderr.strip().splitlines()[-1]) // 1024


def _fill(api: str, graphs: int, mb: int, directory: str) -> None:
    import requests

    from plynx.api import Client

    session = requests.Session()
    session.auth = ("default", "")
    path = os.path.join(directory, "big.bin")
    with open(path, "wb") as stream:
        for _ in range(mb):
            stream.write(os.urandom(MB))
    Client(api).upload_file(path, title="big", stream=io.StringIO())
    saved = session.post(f"{api}/nodes", timeout=30, json={"node": operation(
        "bash_jinja2", "echo", "echo {{ params.word }}\n", params={"word": "hi"}), "action": "APPROVE"}).json()["node"]
    for i in range(graphs):
        nodes = [instance(saved) for _ in range(3)]
        body = session.post(f"{api}/graphs", timeout=30,
                            json={"graph": graph(f"bench {i}", nodes), "actions": ["SAVE"]}).json()
        assert body["status"] == "SUCCESS", body


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=200)
    parser.add_argument("--mb", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plynx-bench-") as scratch:
        stacks = []
        try:
            for name in ("source", "target"):
                os.makedirs(os.path.join(scratch, name))
                env, ports = stack_env(os.path.join(scratch, name))
                stacks.append((start(env), env, f"http://127.0.0.1:{ports['PLYNX_MOTO_PORT']}",
                               f"http://localhost:{ports['PLYNX_API_PORT']}/plynx/api/v0"))
            (_, source_env, source_moto, source_api), (_, target_env, target_moto, _) = stacks
            _fill(source_api, args.graphs, args.mb, scratch)
            out = os.path.join(scratch, "export")
            report, seconds, rss = _cli(source_env, source_moto, "export", out)
            print(f"export: {seconds:.1f} s, peak RSS {rss} MB, {report['counts']}")
            for label in ("import", "import again"):
                report, seconds, rss = _cli(target_env, target_moto, "import", out)
                written = {kind: counts["written"] for kind, counts in report["counts"].items()}
                print(f"{label}: {seconds:.1f} s, peak RSS {rss} MB, written {written}")
        finally:
            for process, *_ in stacks:
                stop(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
