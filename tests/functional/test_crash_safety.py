"""`make up` killed with -9 right after an answer keeps everything it acknowledged (infra/local/journal.py)."""
from __future__ import annotations

import hashlib
import os
import signal
import time

import pytest
import requests

from tests.processes import stack_env
from tests.processes import start as _start
from tests.processes import stop as _stop

pytestmark = pytest.mark.slow

AUTH = ("default", "")
MB = 1024 * 1024


def _save(api: str, title: str) -> tuple[str, str]:
    response = requests.post(f"{api}/graphs", auth=AUTH, timeout=30,
                             json={"graph": {"title": title, "nodes": []}, "actions": ["SAVE"]})
    assert response.status_code == 200, response.text
    return "graph", response.json()["graph"]["_id"]


def _upload(api: str, index: int) -> tuple[str, str]:
    data = f"upload {index}\n".encode() * (index + 1)
    response = requests.post(f"{api}/upload_file", auth=AUTH, timeout=30, files={"data": (f"f{index}.txt", data)},
                             data={"title": f"file {index}", "file_type": "file"})
    assert response.status_code == 200, response.text
    resource_id = response.json()["resource_id"]
    assert resource_id == hashlib.sha256(data).hexdigest()
    return response.json()["node"]["_id"], resource_id


def _direct_upload(api: str, index: int) -> tuple[str, str]:
    """The presigned flow: parts straight to the stack's S3, then complete."""
    data = os.urandom(6 * MB) + f"direct {index}".encode()
    created = requests.post(f"{api}/uploads", auth=AUTH, timeout=30,
                            json={"title": f"direct {index}", "size": len(data), "file_type": "file"}).json()
    parts = []
    for part in created["parts"]:
        start = (part["part_number"] - 1) * created["part_size"]
        put = requests.put(part["url"], data=data[start:start + created["part_size"]], timeout=60)
        assert put.status_code == 200, put.text
        parts.append({"part_number": part["part_number"], "etag": put.headers["ETag"]})
    done = requests.post(f"{api}/uploads/{created['upload_id']}/complete", auth=AUTH, timeout=60,
                         json={"parts": parts})
    assert done.status_code == 200, done.text
    assert done.json()["resource_id"] == hashlib.sha256(data).hexdigest()
    return done.json()["node"]["_id"], done.json()["resource_id"]


def test_kill_9_right_after_50_acknowledged_saves_and_uploads_loses_none(tmp_path) -> None:
    env, ports = stack_env(str(tmp_path / "data"))
    api = f"http://localhost:{ports['PLYNX_API_PORT']}/plynx/api/v0"
    process = _start(env)
    acknowledged: list[tuple[str, str, str]] = []  # ("graph" or a file node's id, id, what to read back)
    try:
        for index in range(50):
            if index % 10 == 9:
                kind, ident = _direct_upload(api, index)
                expected = f"direct {index}"
            elif index % 2:
                kind, ident = _upload(api, index)
                expected = f"upload {index}\n" * (index + 1)
            else:
                kind, ident = _save(api, f"saved {index}")
                expected = f"saved {index}"
            acknowledged.append((kind, ident, expected))
        # The 50th answer is in: kill at once (no Ctrl-C, no final snapshot), well within 100 ms of it.
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    journal = [path.stat().st_size for path in (tmp_path / "data" / "journal").glob("*.log")]

    process = _start(env)
    try:
        for kind, ident, expected in acknowledged:
            if kind == "graph":
                got = requests.get(f"{api}/graphs/{ident}", auth=AUTH, timeout=30)
                assert got.status_code == 200, (ident, got.text)
                assert got.json()["data"]["title"] == expected
            else:
                node = requests.get(f"{api}/nodes/{kind}", auth=AUTH, timeout=30)
                assert node.status_code == 200, (kind, node.text)
                assert node.json()["data"]["outputs"][0]["resource_id"] == ident
                got = requests.get(f"{api}/resources/{ident}", auth=AUTH, timeout=60)
                assert got.status_code == 200, (ident, got.text[:200])
                assert hashlib.sha256(got.content).hexdigest() == ident
                assert got.content.endswith(expected.encode())
        # and the restarted stack goes on taking writes
        _save(api, "after the crash")
    finally:
        _stop(process)
    assert sum(journal) > 0  # they came back from the journal, not from a snapshot taken in time
