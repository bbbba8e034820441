"""Previews of large resources read only what they show; live logs arrive within the upload interval.

    .venv/bin/python bench/previews.py [--mb 200]

Starts its own local stack (no persistence), stores large artifacts straight into S3 (past the upload
limit), and prints for each preview its wall time and how many bytes the API read from S3 for it,
next to the artifact's size. (The peak traced memory of the process is printed too: moto serves a
ranged GET by slicing the whole object in memory, which AWS S3 does not.)
Then it measures how long a line printed by a running operation takes to be readable through the API.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import free_port  # noqa: E402


def _write(path: str, mb: int, line: bytes) -> None:
    with open(path, "wb") as handle:
        block = line * (1024 * 1024 // len(line))
        handle.writelines(block for _ in range(mb))


def _artifacts(workdir: str, mb: int) -> dict[str, tuple[str, str]]:
    csv_path = os.path.join(workdir, "big.csv")
    _write(csv_path, mb, b"12345,some text,3.14159,another field\n")
    bin_path = os.path.join(workdir, "big.bin")
    with open(bin_path, "wb") as handle:
        handle.writelines(os.urandom(1024 * 1024) for _ in range(mb))
    json_path = os.path.join(workdir, "big.json")
    with open(json_path, "w") as handle:
        json.dump([{"id": i, "name": f"item {i}"} for i in range(mb * 20_000)], handle)
    zip_path = os.path.join(workdir, "big.zip")
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as archive:
        chunk = os.urandom(1024 * 1024)
        for i in range(mb):
            archive.writestr(f"part/{i:05d}.bin", chunk)
    return {"csv": (csv_path, "csv"), "file (binary)": (bin_path, "file"), "json": (json_path, "json"),
            "directory": (zip_path, "directory")}


def _count_s3_reads() -> list[int]:
    """Bytes our code receives from S3 GetObject calls (moto itself may read more on its side)."""
    from chalicelib.store import aws

    received = [0]

    def count(parsed: dict, **_: object) -> None:
        received[0] += int(parsed.get("ContentLength") or 0)

    aws.client("s3").meta.events.register("after-call.s3.GetObject", count)
    return received


def bench_previews(api: str, session: requests.Session, mb: int) -> None:
    from chalicelib.store import storage

    received = _count_s3_reads()

    with tempfile.TemporaryDirectory(prefix="plynx-bench-") as workdir:
        artifacts = _artifacts(workdir, mb)
        for label, (path, kind) in artifacts.items():
            resource_id = storage.put_file(path)
            size = os.path.getsize(path)
            os.remove(path)
            times, peaks = [], []
            received[0] = 0
            for _ in range(3):
                tracemalloc.start()
                start = time.perf_counter()
                response = session.get(f"{api}/resources/{resource_id}", params={"preview": "true",
                                                                                 "file_type": kind}, timeout=120)
                times.append(time.perf_counter() - start)
                peaks.append(tracemalloc.get_traced_memory()[1])
                tracemalloc.stop()
                assert response.status_code == 200, response.text
            print(f"preview {label:<14} of {size / 2**20:7.1f} MiB: {statistics.median(times) * 1000:7.1f} ms, "
                  f"read from S3 {received[0] / 3 / 1024:7.1f} KiB, page {len(response.text) / 1024:5.1f} KiB, "
                  f"peak traced memory {max(peaks) / 2**20:5.1f} MiB (moto slices ranges from the whole object)")


# A fresh nonce per run: an identical operation would be restored from the cache, not run.
LIVE_CMD = "import time\nprint(repr(time.time()), flush=True)\ntime.sleep({sleep})  # {nonce}\n"


def bench_live_logs(api: str, session: requests.Session, runs: int) -> None:
    from tests.helpers import graph

    delays = []
    for _ in range(runs):
        cmd = LIVE_CMD.format(sleep=8, nonce=os.urandom(8).hex())
        node = {"base_node_name": "python", "title": "Live", "_id": os.urandom(12).hex(),
                "parameters": [{"name": "_cmd", "parameter_type": "code",
                                "value": {"mode": "python", "value": cmd}}]}
        body = session.post(f"{api}/graphs", json={"graph": graph("live bench", [node]), "actions": ["APPROVE"]},
                            timeout=30).json()
        graph_id = body["graph"]["_id"]
        deadline = time.monotonic() + 60
        while True:
            data = session.get(f"{api}/graphs/{graph_id}", timeout=30).json()["data"]
            if time.monotonic() > deadline or data["graph_running_status"] in ("SUCCESS", "FAILED"):
                raise SystemExit(f"no live log seen while running: {json.dumps(data['nodes'][0])[:2000]}")
            stdout = next(log for log in data["nodes"][0]["logs"] if log["name"] == "stdout")
            if data["nodes"][0]["node_running_status"] == "RUNNING" and stdout.get("resource_id"):
                text = session.get(f"{api}/resources/{stdout['resource_id']}", timeout=30).text
                if text.strip():
                    delays.append(time.time() - float(text.split()[0]))
                    break
            time.sleep(0.05)
        while session.get(f"{api}/graphs/{graph_id}", timeout=30).json()["data"]["graph_running_status"] not in (
                "SUCCESS", "FAILED"):
            time.sleep(0.2)
    from chalicelib.domain import config

    interval = config.setting("runner", "log_upload_seconds")
    print(f"live logs, {runs} runs (upload every {interval} s): a printed line is readable through the API after "
          f"median {statistics.median(delays):.2f} s, max {max(delays):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--live-runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from infra.local.stack import start_stack

    stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
    try:
        session = requests.Session()
        session.auth = ("default", "")
        bench_previews(stack.api_url, session, args.mb)
        bench_live_logs(stack.api_url, session, args.live_runs)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
