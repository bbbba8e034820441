"""The runner's peak memory and throughput moving a big file: its memory does not grow with the file.

    .venv/bin/python bench/runner_memory.py [--mb 1024]

Starts its own local stack (no persistence). Then, each in a runner process of its own (the Fargate/CLI
entry point, as tests/functional/test_runner_streaming.py runs it), prints the process's peak RSS (VmHWM)
and wall time for:
- `store`: the runner's upload path alone, a file of --mb MiB hashed from disk and stored (multipart);
- `fetch`: its download path alone, the same resource streamed to disk and checked against its id;
- `make`: an operation writing --mb MiB of random bytes, its output stored;
- `use`: an operation reading that output and writing it again with one line before it (--mb in, --mb out).
The embedded S3 (moto) runs in this process: its own copies of the objects are not the runner's.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from infra.local.stack import free_port  # noqa: E402
from tests.helpers import graph, instance, operation  # noqa: E402

MIB = 1024 * 1024
_PEAK = "peak = next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
_RUN = ("import sys\nfrom runners.handler import main\ncode = main(sys.argv[1:])\n" + _PEAK
        + "print('PEAK_RSS_KB', peak, file=sys.stderr)\nsys.exit(code)\n")
_STORE = ("import sys\nfrom chalicelib.store import storage\nprint(storage.put_file(sys.argv[1]))\n" + _PEAK
          + "print('PEAK_RSS_KB', peak, file=sys.stderr)\n")
_FETCH = ("import sys\nfrom chalicelib.store import storage\nstorage.download_to(sys.argv[1], sys.argv[2])\n" + _PEAK
          + "print('PEAK_RSS_KB', peak, file=sys.stderr)\n")


def _measured(code: str, *args: str) -> tuple[float, int, str]:
    """Run `code` in a process of its own: (seconds, peak RSS in bytes, its stdout)."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {done.stderr[-2000:]}")
    peak = int(next(line for line in done.stderr.splitlines() if line.startswith("PEAK_RSS_KB ")).split()[1])
    return seconds, peak * 1024, done.stdout.strip()


def _line(name: str, seconds: float, peak: int, mb: int, what: str) -> None:
    print(f"{name:6} {what:40} peak RSS {peak / MIB:7.1f} MB   {seconds:6.1f} s   {mb / seconds:7.1f} MB/s",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024, help="MiB to move (default 1024)")
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from infra.local.stack import start_stack

    stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
    try:
        from chalicelib.engine import runs

        print(f"runner moving {args.mb} MiB (local stack, embedded S3)")
        with tempfile.TemporaryDirectory(prefix="plynx-bench-") as workdir:
            path = os.path.join(workdir, "big")
            with open(path, "wb") as handle:
                handle.writelines(os.urandom(MIB) for _ in range(args.mb))
            seconds, peak, resource_id = _measured(_STORE, path)
            _line("store", seconds, peak, args.mb, "hash from disk, multipart upload")
            os.remove(path)
            seconds, peak, _ = _measured(_FETCH, resource_id, path)
            _line("fetch", seconds, peak, args.mb, "streamed download, SHA-256 checked")
        session = requests.Session()
        session.auth = ("default", "")

        def saved(node: dict) -> dict:
            response = session.post(f"{stack.api_url}/nodes", json={"node": node, "action": "APPROVE"}, timeout=60)
            response.raise_for_status()
            return response.json()["node"]

        salt = os.urandom(8).hex()
        make = instance(saved(operation("python", "make", (
            f"import os\nwith open(outputs['out'], 'wb') as f:\n    for _ in range({args.mb}):\n"
            f"        f.write(os.urandom({MIB}))\n"), outputs=["out"], params={"salt": salt})))
        one = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
        use = instance(saved(operation("bash_jinja2", "use", "{ echo x; cat {{ inputs.in }}; } > {{ outputs.out }}\n",
                                       inputs=[one], outputs=["out"], params={"salt": salt})),
                       **{"in": [(make, "out")]})
        response = session.post(f"{stack.api_url}/graphs", timeout=60, json={
            "graph": graph("runner memory", [make, use]), "actions": ["SAVE"]})
        response.raise_for_status()
        graph_id = response.json()["graph"]["_id"]
        run_id = runs.queue_run(graph_id)
        for name, node, what in (("make", make, "operation writes it, output stored"),
                                 ("use", use, "input fetched, output stored")):
            event = json.dumps({"action": "run", "graph_id": graph_id, "node_id": node["_id"], "run_id": run_id})
            seconds, peak, _ = _measured(_RUN, event)
            _line(name, seconds, peak, args.mb * (2 if name == "use" else 1), what)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
