"""The runner streams inputs and outputs (memory bounded whatever their size), checks what it streams, and
refuses, before anything runs, inputs that do not fit on its disk.

The runner runs as the Fargate/CLI entry point (`python -m runners`'s `main`) in a process of its own, so
its peak RSS and its disk setting (PLYNX_RUNNER_STORAGE_MB, as the template sets it on Lambda) are its own.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO
from tests.helpers import graph, instance, log_id, operation, output_id

ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
MIB = 1024 * 1024
# Runs the runner's main, then says how much memory its own process took at its peak (children excluded):
# VmHWM, the peak of this process's own memory map. Not getrusage's ru_maxrss, which Linux carries over
# fork and exec, so it would start at this test process's size (which holds the embedded S3's objects).
_MEASURED = ("import sys\n"
             "from runners.handler import main\n"
             "code = main(sys.argv[1:])\n"
             "peak = next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
             "print('PEAK_RSS_KB', peak, file=sys.stderr)\n"
             "sys.exit(code)\n")


def run_node(graph_id: str, node_id: str, run_id: str, **environment: str) -> tuple[int, int, str]:
    """Run one node in a runner process of its own: (exit code, its peak RSS in bytes, its stderr)."""
    done = subprocess.run([sys.executable, "-c", _MEASURED, json.dumps(
        {"action": "run", "graph_id": graph_id, "node_id": node_id, "run_id": run_id})],
        cwd=REPO, env={**os.environ, **environment}, capture_output=True, text=True, timeout=600)
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK_RSS_KB ")]
    assert peak, done.stderr
    return done.returncode, int(peak[-1].split()[1]) * 1024, done.stderr


def _maker(api: Any, size_mib: int) -> dict:
    """An operation writing `size_mib` MiB of fresh random bytes, in 1 MiB writes (its own memory stays small)."""
    code = (f"import os\nwith open(outputs['out'], 'wb') as f:\n"
            f"    for _ in range({size_mib}):\n        f.write(os.urandom({MIB}))\n")
    return api.save_operation(operation("python", "make", code, outputs=["out"],
                                        params={"salt": secrets.token_hex(8)}))


def _two_step(api: Any, size_mib: int, cmd: str, title: str) -> tuple[str, str, dict, dict]:
    """A graph `make` → `use` (bash `cmd`), saved and queued, not run: (graph id, run id, make, use)."""
    from chalicelib.engine import runs

    make = instance(_maker(api, size_mib))
    use = instance(api.save_operation(operation("bash_jinja2", "use", cmd, inputs=[ONE], outputs=["out"],
                                                params={"salt": secrets.token_hex(8)})), **{"in": [(make, "out")]})
    graph_id = api.ok("post", "graphs", json={"graph": graph(title, [make, use]), "actions": ["SAVE"]})["graph"]["_id"]
    return graph_id, runs.queue_run(graph_id), make, use


def _nodes(api: Any, graph_id: str) -> dict[str, dict]:
    return {n["_id"]: n for n in api.ok("get", f"graphs/{graph_id}")["data"]["nodes"]}


def _size(resource_id: str) -> int:
    from chalicelib.store import aws, storage
    from chalicelib.store.settings import SETTINGS

    return aws.client("s3").head_object(Bucket=SETTINGS.bucket, Key=storage.key(resource_id))["ContentLength"]


def test_inputs_that_do_not_fit_on_the_runners_disk_fail_before_the_operation_runs(api) -> None:
    copy = "cat {{ inputs.in }} > {{ outputs.out }}\n"
    # 80 MB of disk less the 64 MB kept free: 16 MB for inputs, and the input has 12 MiB: it fits
    graph_id, run_id, make, use = _two_step(api, 12, copy, "fits")
    assert run_node(graph_id, make["_id"], run_id)[0] == 0
    code, _, stderr = run_node(graph_id, use["_id"], run_id, PLYNX_RUNNER_STORAGE_MB="80")
    assert code == 0, stderr
    # 72 MB: 8 MB for inputs, and it does not
    graph_id, run_id, make, use = _two_step(api, 12, copy, "too big")
    assert run_node(graph_id, make["_id"], run_id)[0] == 0
    code, _, stderr = run_node(graph_id, use["_id"], run_id, PLYNX_RUNNER_STORAGE_MB="72")
    assert code == 1, stderr
    node = _nodes(api, graph_id)[use["_id"]]
    assert node["node_running_status"] == "FAILED"
    worker = api.resource(log_id(node, "worker")).decode()
    assert "inputs do not fit on this runner's disk" in worker, worker
    assert "has 12.0 MB" in worker and "of the 72 MB this runner has" in worker, worker
    assert "`_placement`: `fargate`" in worker and "RunnerEphemeralStorage" in worker, worker
    assert "Running script" not in worker  # nothing ran
    assert not any(output.get("resource_id") for output in node["outputs"])


def test_a_tampered_big_input_is_caught_while_it_streams_and_nothing_of_it_is_left(api, tmp_path) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    from chalicelib.store import storage
    from chalicelib.store.settings import SETTINGS

    graph_id, run_id, make, use = _two_step(api, 20, "cat {{ inputs.in }} > {{ outputs.out }}\n", "tampered")
    assert run_node(graph_id, make["_id"], run_id)[0] == 0
    resource_id = output_id(_nodes(api, graph_id)[make["_id"]], "out")
    # same size, one byte changed in the middle: only hashing the whole stream can tell
    body = storage.open_stream(resource_id)[0].read()
    middle = len(body) // 2
    forged = body[:middle] + bytes([body[middle] ^ 1]) + body[middle + 1:]
    s3_backends[DEFAULT_ACCOUNT_ID]["global"].put_object(SETTINGS.bucket, storage.key(resource_id), forged)
    code, _, stderr = run_node(graph_id, use["_id"], run_id)
    assert code == 1, stderr
    node = _nodes(api, graph_id)[use["_id"]]
    worker = api.resource(log_id(node, "worker")).decode()
    assert f"Resource `{resource_id}` is corrupt" in worker and "Running script" not in worker, worker
    target = tmp_path / "input"
    with pytest.raises(storage.IntegrityError):
        storage.download_to(resource_id, str(target))
    assert not target.exists()  # the runner's own download function leaves nothing half-checked behind


@pytest.mark.slow
def test_the_runner_moves_files_many_times_its_memory(api) -> None:
    """512 MiB out of one operation, into the next and 512 MiB out of it: the runner's RSS stays bounded."""
    bound = 200 * MIB
    graph_id, run_id, make, use = _two_step(api, 512, "{ echo x; cat {{ inputs.in }}; } > {{ outputs.out }}\n",
                                            "big")
    code, made_peak, stderr = run_node(graph_id, make["_id"], run_id)  # a 512 MiB output uploaded
    assert code == 0, stderr
    code, used_peak, stderr = run_node(graph_id, use["_id"], run_id)  # 512 MiB in, 512 MiB + 2 out
    assert code == 0, stderr
    nodes = _nodes(api, graph_id)
    made, used = output_id(nodes[make["_id"]], "out"), output_id(nodes[use["_id"]], "out")
    assert nodes[use["_id"]]["node_running_status"] == "SUCCESS"
    assert _size(made) == 512 * MIB and _size(used) == 512 * MIB + 2
    from chalicelib.store import storage

    digest = hashlib.sha256()  # what was stored is what its id names, and is the input with "x\n" before it
    expected = hashlib.sha256(b"x\n")
    stream = storage.open_stream(used)[0]
    for chunk in storage.iter_chunks(stream):
        digest.update(chunk)
    source = storage.open_stream(made)[0]
    for chunk in storage.iter_chunks(source):
        expected.update(chunk)
    assert digest.hexdigest() == used == expected.hexdigest()
    assert made_peak < bound and used_peak < bound, (made_peak / MIB, used_peak / MIB)


def test_a_file_changed_between_its_hash_and_its_upload_is_not_stored(api, tmp_path) -> None:
    """The upload streams the file again (no copy on disk): bytes that no longer hash to the id never land."""
    from botocore.exceptions import ClientError

    from chalicelib.store import storage

    path = tmp_path / "out"
    path.write_bytes(os.urandom(20 * MIB))
    resource_id, source, size = storage.read_private(str(path))
    assert not isinstance(source, bytes) and size == 20 * MIB
    with open(path, "r+b") as changed:  # as a process left behind by the operation might
        changed.seek(15 * MIB)
        changed.write(b"changed")
    with pytest.raises(storage.IntegrityError, match="changed while it was stored"):
        storage.put_private(resource_id, source, size)
    assert source.closed
    with pytest.raises(ClientError):
        _size(resource_id)
    # left alone between its hash and its upload: stored, and what is stored hashes to its id
    resource_id = storage.put_file(str(path))
    assert _size(resource_id) == 20 * MIB
    assert hashlib.sha256(api.resource(resource_id)).hexdigest() == resource_id
