"""Restart time and memory of `make up` holding many nodes and a lot of artifact bytes.

    .venv/bin/python bench/restart.py [--nodes 10000] [--mb 1024]

Starts the local stack as `make up` does (`python -m infra.local`, its own data dir, free ports), fills it
through the REST API and the python API (`--nodes` graph nodes in graphs of 200, a `--mb` MB file), then
prints the stack's resident memory, the snapshot's size against the bodies' bytes on disk, and the time
from starting the process to "up" after a clean stop (Ctrl-C: a fresh snapshot) and after `kill -9`
(the snapshot and the journal since it).
"""
from __future__ import annotations

import io
import os
import re
import signal
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from tests.helpers import graph, instance, operation  # noqa: E402
from tests.processes import stack_env, start, stop  # noqa: E402

MB = 1024 * 1024
PER_GRAPH = 200


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory now (VmRSS) or at its peak so far (VmHWM), in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as stream:
        for line in stream:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _bytes_under(path: str) -> int:
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names)


def _timed_start(env: dict[str, str]) -> tuple[object, float, str]:
    """The process, seconds from its start to "up", and how long it said restoring took."""
    from tests.processes import _OUTPUT

    started = time.monotonic()
    process = start(env)
    seconds = time.monotonic() - started
    banner = "".join(_OUTPUT[process.pid][0])
    restored = re.search(r"restored in ([0-9.]+ s with \d+ journal record\(s\))", banner)
    return process, seconds, restored.group(1) if restored else "nothing to restore"


def _fill(api: str, nodes: int, mb: int, scratch: str) -> int:
    import requests

    from plynx.api import Client

    session = requests.Session()
    session.auth = ("default", "")
    if mb:
        path = os.path.join(scratch, "big.bin")
        with open(path, "wb") as stream:
            for _ in range(mb):
                stream.write(os.urandom(MB))
        Client(api).upload_file(path, title="big", stream=io.StringIO())
        os.unlink(path)
    saved = session.post(f"{api}/nodes", timeout=60, json={"node": operation(
        "bash_jinja2", "echo", "echo {{ params.word }}\n", params={"word": "hi"}), "action": "APPROVE"}).json()["node"]
    made = 0
    while made < nodes:
        count = min(PER_GRAPH, nodes - made)
        body = session.post(f"{api}/graphs", timeout=120, json={
            "graph": graph(f"bench {made}", [instance(saved) for _ in range(count)]), "actions": ["SAVE"]}).json()
        assert body["status"] == "SUCCESS", body
        made += count
    return made


def main() -> int:
    import argparse

    import requests

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--mb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plynx-bench-", dir=os.environ.get("TMPDIR", "/tmp")) as scratch:
        data_dir = os.path.join(scratch, "data")
        env, ports = stack_env(data_dir)
        api = f"http://localhost:{ports['PLYNX_API_PORT']}/plynx/api/v0"
        process, first, _ = _timed_start(env)
        try:
            empty_rss = _rss_mb(process.pid)
            filled_at = time.monotonic()
            made = _fill(api, args.nodes, args.mb, scratch)
            print(f"filled {made} nodes and {args.mb} MB in {time.monotonic() - filled_at:.0f} s; "
                  f"stack RSS {empty_rss:.0f} MB empty -> {_rss_mb(process.pid):.0f} MB filled "
                  f"(peak while filling {_rss_mb(process.pid, 'VmHWM'):.0f} MB)")
        finally:
            stop(process)
        snapshot = os.path.getsize(os.path.join(data_dir, "moto-state.pickle"))
        print(f"on disk: snapshot {snapshot / MB:.1f} MB, S3 bodies {_bytes_under(os.path.join(data_dir, 's3-bodies')) / MB:.0f} MB")

        process, clean, clean_restore = _timed_start(env)
        try:
            rss = _rss_mb(process.pid)
            for i in range(20):  # in the journal only, when the kill comes
                requests.post(f"{api}/graphs", auth=("default", ""), timeout=60,
                              json={"graph": {"title": f"after {i}", "nodes": []}, "actions": ["SAVE"]}).raise_for_status()
            journal = _bytes_under(os.path.join(data_dir, "journal"))
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        process, killed, killed_restore = _timed_start(env)
        try:
            after_kill_rss = _rss_mb(process.pid)
            count = requests.post(f"{api}/search_graphs", auth=("default", ""), timeout=60,
                                  json={"search": "after", "per_page": 100}).json()["total_count"]
        finally:
            stop(process)
        print(f"start to up: first {first:.1f} s; after a clean stop {clean:.1f} s (restored in {clean_restore}; "
              f"RSS {rss:.0f} MB); after kill -9 with {journal / 1024:.0f} KB of journal {killed:.1f} s (restored in "
              f"{killed_restore}; RSS {after_kill_rss:.0f} MB; {count}/20 journaled graphs back)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
