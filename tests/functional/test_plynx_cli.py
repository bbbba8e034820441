"""The `plynx` command, installed with `pip install ./` into a fresh virtualenv, against the session's stack.

The virtualenv holds the client alone (no chalice, boto3, pynamodb, moto): everything goes through the
REST API, as from a user's laptop. pip reads this machine's configured indexes (no internet).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO
from tests.helpers import graph, instance, operation, output_id

pytestmark = pytest.mark.slow

PAYLOAD = "bytes\\x00\\xff of a run\\n"  # written by the operation below, with a NUL and a non-UTF-8 byte
WRITE = f"open(outputs['out'], 'wb').write(b'{PAYLOAD}' + params['word'].encode())\nprint('wrote', params['word'])\n"
FAIL = "import sys\nprint('going down', file=sys.stderr)\nsys.exit(3)\n"


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> dict:
    """A virtualenv with `pip install ./` of a copy of the project's client files; its `plynx` and python."""
    root = tmp_path_factory.mktemp("plynx-cli")
    source = root / "src"
    source.mkdir()
    shutil.copy(os.path.join(REPO, "pyproject.toml"), source)
    shutil.copytree(os.path.join(REPO, "plynx"), source / "plynx", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True, timeout=120)
    python = str(root / "venv" / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    installed = subprocess.run([python, "-m", "pip", "install", "--quiet", "./"], cwd=source, env=env,
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    return {"plynx": str(root / "venv" / "bin" / "plynx"), "python": python, "root": root, "env": env}


def _plynx(venv: dict, api, *args: str, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(venv["env"], PLYNX_API=api.base)
    return subprocess.run([venv["plynx"], *args], cwd=cwd or venv["root"], env=env, capture_output=True,
                          text=True, timeout=timeout)


def _saved(api, title: str, nodes: list[dict]) -> str:
    body = api.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE"]})
    assert body["status"] == "SUCCESS", body
    return body["graph"]["_id"]


def test_the_installed_client_has_no_server_in_it(venv) -> None:
    done = subprocess.run([venv["python"], "-c", "import importlib.util as u, plynx.api, plynx.cli; print("
                           "[m for m in ('chalice', 'chalicelib', 'boto3', 'botocore', 'pynamodb', 'moto', 'runners')"
                           " if u.find_spec(m)])"], cwd=venv["root"], env=venv["env"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_run_watch_list_logs_and_download_an_output(venv, api, tmp_path) -> None:
    writer = api.save_operation(operation("python", "Writer", WRITE, outputs=["out"], params={"word": "cli"}))
    node = instance(writer)
    graph_id = _saved(api, "cli run", [node])

    done = _plynx(venv, api, "run", graph_id, "--watch", "--poll", "0.2", "-u", "default:")
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    assert re.fullmatch(r"\S+", run_id) and f"run {run_id} ended SUCCESS" in done.stderr
    assert "[####################] 1/1" in done.stderr  # the progress bar reached the end
    record = api.ok("get", f"runs/{run_id}")["data"]
    assert record["graph_id"] == graph_id and record["run_status"] == "SUCCESS"

    listed = _plynx(venv, api, "runs", graph_id)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith(run_id))
    assert "SUCCESS" in row and "APPROVE" in row and "default" in row

    logs = _plynx(venv, api, "logs", run_id, "Writer")
    assert logs.returncode == 0 and "wrote cli" in logs.stdout

    target = tmp_path / "downloaded"
    got = _plynx(venv, api, "outputs", run_id, node["_id"], "--download", str(target))
    assert got.returncode == 0, got.stderr
    expected = api.resource(output_id(by_id(record, node["_id"]), "out"))
    assert (target / "out").read_bytes() == expected == b"bytes\x00\xff of a run\ncli"

    shown = _plynx(venv, api, "show", run_id)
    assert shown.returncode == 0 and "Writer" in shown.stdout and "SUCCESS" in shown.stdout
    missing = _plynx(venv, api, "outputs", run_id, "no-such-node")
    assert missing.returncode == 5 and "has no node `no-such-node`" in missing.stderr
    assert _plynx(venv, api, "logs", "no-such-run").returncode == 5
    ended = _plynx(venv, api, "cancel", run_id)  # an ended run: the API refuses (409)
    assert ended.returncode == 4 and "409" in ended.stderr


def test_a_watched_run_canceled_from_another_shell_exits_3(venv, api) -> None:
    sleeper = api.save_operation(operation("python", "Sleeps", "import time\ntime.sleep(60)\n"))
    graph_id = _saved(api, "cli cancel", [instance(sleeper)])
    env = dict(venv["env"], PLYNX_API=api.base, PYTHONUNBUFFERED="1")
    watcher = subprocess.Popen([venv["plynx"], "run", graph_id, "--watch", "--poll", "0.2"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run_id = watcher.stdout.readline().strip()  # printed before the watch begins
        deadline = time.monotonic() + 60
        while api.ok("get", f"runs/{run_id}")["data"]["graph"]["nodes"][0]["node_running_status"] != "RUNNING":
            assert time.monotonic() < deadline, "the operation never started"
            time.sleep(0.2)
        stopped = _plynx(venv, api, "cancel", run_id)
        assert stopped.returncode == 0 and f"run {run_id}: CANCELED" in stopped.stderr, stopped.stderr
        assert watcher.wait(timeout=60) == 3
        assert f"run {run_id} ended CANCELED" in watcher.stderr.read()
    finally:
        watcher.kill()
        watcher.wait()


def test_run_parameters_are_used_recorded_and_refused(venv, api) -> None:
    body = operation("python", "Writer", WRITE, outputs=["out"], params={"word": "stored"})
    body["parameters"][-1]["publicable"] = True  # a run parameter
    node = instance(api.save_operation(body))
    graph_id = _saved(api, "cli parameters", [node])
    done = _plynx(venv, api, "run", graph_id, "-p", f"{node['_id']}.word=given", "--watch", "-q", "--poll", "0.2")
    assert done.returncode == 0, done.stderr
    record = api.ok("get", f"runs/{done.stdout.strip()}")["data"]
    assert record["parameters"] == {f"{node['_id']}.word": "given"}
    assert api.resource(output_id(by_id(record, node["_id"]), "out")).endswith(b"given")  # the value was used
    shown = _plynx(venv, api, "show", record["_id"])
    assert f'parameters: {{"{node["_id"]}.word": "given"}}' in shown.stdout
    # a parameter the graph does not have: the API's 400, exit 4, no run
    refused = _plynx(venv, api, "run", graph_id, "-p", f"{node['_id']}.nope=1")
    assert refused.returncode == 4 and f"`{node['_id']}.nope`: node `{node['_id']}` has no parameter" in refused.stderr
    assert api.ok("get", f"graphs/{graph_id}/runs")["total_count"] == 1


def by_id(record: dict, node_id: str) -> dict:
    return next(n for n in record["graph"]["nodes"] if n["_id"] == node_id)


def test_a_failing_graph_from_a_file_exits_non_zero_and_retries(venv, api, tmp_path) -> None:
    bad = api.save_operation(operation("python", "Fails", FAIL, outputs=["out"]))
    path = tmp_path / "graph.json"
    path.write_text(json.dumps({"graph": graph("cli failure", [instance(bad)])}))

    done = _plynx(venv, api, "run", str(path), "--watch", "--poll", "0.2", "--quiet")
    assert done.returncode == 1, (done.stdout, done.stderr)
    run_id = done.stdout.strip()
    assert f"run {run_id} ended FAILED" in done.stderr and "FAILED Fails" in done.stderr
    assert "going down" in _plynx(venv, api, "logs", run_id, "Fails", "--log", "stderr").stdout

    retried = _plynx(venv, api, "retry", run_id, "--watch", "--poll", "0.2", "-q")
    assert retried.returncode == 1, retried.stderr
    new_run = retried.stdout.strip()
    assert new_run != run_id and api.ok("get", f"runs/{new_run}")["data"]["retry_of"] == run_id

    refused = _plynx(venv, api, "run", "no-such-graph", "--watch")
    assert refused.returncode == 5 and "404" in refused.stderr


def test_execute_runs_one_operation_with_local_inputs(venv, api, tmp_path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "words.txt").write_bytes(b"alpha\nbeta\ngamma\n")
    count = operation("python", "Count lines",
                      "n = len(open(inputs['text']).read().splitlines())\nprint('counted', n)\n"
                      "open(outputs['lines'], 'w').write(str(n * params['times']))\n",
                      inputs=[{"name": "text", "file_types": ["file"], "min_count": 1, "max_count": 1}],
                      outputs=["lines"], params={"times": 1})
    spec = tmp_path / "count.json"
    spec.write_text(json.dumps({"node": count, "inputs": {"text": "data/words.txt"}, "parameters": {"times": 2}}))

    out = tmp_path / "out"
    done = _plynx(venv, api, "execute", str(spec), "--download", str(out), "-q")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "counted 3\n" and (out / "lines").read_text() == "6"

    # the command line's inputs (relative to the current directory) and parameters win over the file's
    (tmp_path / "two.txt").write_text("one\ntwo\n")
    again = _plynx(venv, api, "execute", str(spec), "-i", "text=two.txt", "-p", "times=10", "--download",
                   str(out), "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (out / "lines").read_text() == "20"

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(operation("python", "Broken", FAIL)))
    failed = _plynx(venv, api, "execute", str(broken), "-q")
    assert failed.returncode == 1 and "going down" in failed.stderr and "ended FAILED" in failed.stderr


def test_try_runs_a_draft_as_a_trial_on_local_files_or_resource_ids(venv, api, tmp_path) -> None:
    from chalicelib.store.models import CacheModel, NodeModel

    (tmp_path / "words.txt").write_bytes(b"alpha\nbeta\n")
    count = operation("python", "Count for a trial",
                      "n = len(open(inputs['text']).read().splitlines())\nprint('counted', n)\n"
                      "open(outputs['lines'], 'w').write(str(n * params['times']) + '\\n' * n)\n",
                      inputs=[{"name": "text", "file_types": ["file"], "min_count": 1, "max_count": 1}],
                      outputs=["lines"], params={"times": 1})
    spec = tmp_path / "draft.json"
    spec.write_text(json.dumps(count))
    nodes, cache = NodeModel.count(), {entry.key for entry in CacheModel.scan()}
    out = tmp_path / "out"
    done = _plynx(venv, api, "try", str(spec), "-i", "text=words.txt", "-p", "times=3", "--download", str(out),
                  "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "counted 2\n" and (out / "lines").read_text() == "6\n\n"
    trial_id = re.search(r"trial (\S+)", done.stderr).group(1)
    assert api.ok("get", f"trials/{trial_id}")["data"]["kind"] == "trial"
    assert NodeModel.count() == nodes + 1  # the upload's file node; no operation version
    assert {entry.key for entry in CacheModel.scan()} == cache
    # an output of that trial, by its resource id, is the next trial's input
    made = output_id(api.ok("get", f"trials/{trial_id}")["data"]["operation"], "lines")
    again = _plynx(venv, api, "try", str(spec), "-i", f"text={made}", "--download", str(out), "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "counted 2\n" and (out / "lines").read_text() == "2\n\n"
    assert NodeModel.count() == nodes + 1
    # refused: an input it does not have (usage, 2), a parameter of the wrong type (the API's 400, 4)
    assert _plynx(venv, api, "try", str(spec), "-i", "nope=words.txt", cwd=tmp_path).returncode == 2
    refused = _plynx(venv, api, "try", str(spec), "-i", f"text={made}", "-p", "times=many", cwd=tmp_path)
    assert refused.returncode == 4 and "`times` (int)" in refused.stderr, refused.stderr


def test_the_readme_python_api_example_runs_from_anywhere(venv, api, tmp_path) -> None:
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    start = readme.index("from plynx.api import Client, Graph, input, operation, output, param")
    code = readme[start:readme.index("```", start)]
    env = dict(venv["env"], PLYNX_API_URL=api.base)
    done = subprocess.run([venv["python"], "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "8.0"


def test_archive_restore_delete_and_gc_dry_run(venv, api) -> None:
    stored = api.ok("post", "graphs", json={"graph": graph("cli archive", []), "actions": ["SAVE"]})["graph"]
    archived = _plynx(venv, api, "archive", "graph", stored["_id"])
    assert archived.returncode == 0, archived.stderr
    assert api.ok("get", f"graphs/{stored['_id']}")["data"]["archived"]
    assert _plynx(venv, api, "restore", "graph", stored["_id"]).returncode == 0
    assert api.ok("get", f"graphs/{stored['_id']}")["data"]["archived"] is None
    dry = _plynx(venv, api, "gc", "--dry-run")
    assert dry.returncode == 0 and "Garbage collection would remove (grace period 24 h)" in dry.stdout, dry
    report = json.loads(_plynx(venv, api, "gc", "--dry-run", "--json").stdout)
    assert report["dry_run"] is True and {"resource_count", "state_machine_count"} <= set(report)
    deleted = _plynx(venv, api, "delete", "graph", stored["_id"])
    assert deleted.returncode == 0 and "deleted" in deleted.stdout, deleted
    assert api.get(f"graphs/{stored['_id']}").status_code == 404
    assert _plynx(venv, api, "delete", "graph", stored["_id"]).returncode == 5  # NOT_FOUND
