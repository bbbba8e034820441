"""`make export` / `make import`: a stack's data to a plain directory and into a fresh stack, equal through
the REST API (graphs, their runs, operations, files by hash, users); twice changes nothing; a tampered or
malformed directory is refused whole."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Iterator

import pytest

from tests.conftest import REPO, Api
from tests.helpers import by_title, graph, instance, operation, output_id
from tests.processes import stack_env, start, stop

pytestmark = pytest.mark.slow

INPUT_ID, OUTPUT_ID = "2419f9f6d8b5da6e4bb8f8d4", "56a2bd3af3fe5ee6d63ac7dd"
ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
DOUBLE = "open(outputs['out'], 'w').write(str(2 * int(open(inputs['in']).read())))\n"
SUM = ("a, b = (int(open(p).read()) for p in (inputs['a'], inputs['b']))\n"
       "open(outputs['out'], 'w').write(str(a + b))\n")


class Stack:
    """A local stack of its own (`make up`), its REST API and its control-plane CLIs."""

    def __init__(self, data_dir: str) -> None:
        self.env, ports = stack_env(data_dir)
        self.process = start(self.env)
        self.moto = f"http://127.0.0.1:{ports['PLYNX_MOTO_PORT']}"
        self.api = Api(f"http://localhost:{ports['PLYNX_API_PORT']}/plynx/api/v0")

    def cli(self, module: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", module, "--endpoint", self.moto, *args], cwd=REPO,
                              env=self.env, capture_output=True, text=True, timeout=300)

    def transfer(self, *args: str) -> dict:
        done = self.cli("chalicelib.api.transfer_cli", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def stacks() -> Iterator[tuple[Stack, Stack]]:
    with tempfile.TemporaryDirectory(prefix="plynx-from-") as source_dir, \
            tempfile.TemporaryDirectory(prefix="plynx-to-") as target_dir:
        source = Stack(source_dir)
        try:
            target = Stack(target_dir)
            try:
                yield source, target
            finally:
                stop(target.process)
        finally:
            stop(source.process)


def _run(api: Api, nodes: list[dict], title: str) -> str:
    body = api.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE", "APPROVE"]})
    assert body["status"] == "SUCCESS", body.get("validation_error")
    graph_id = body["graph"]["_id"]
    assert api.wait(graph_id, timeout=120)["graph_running_status"] == "SUCCESS"
    return graph_id


def _composite(api: Api) -> dict:
    """quadruple(data) = double(double(data)), saved as an operation."""
    double = api.save_operation(operation("python", "double", DOUBLE, inputs=[ONE], outputs=["out"]))
    first = instance(double, **{"in": [({"_id": INPUT_ID}, "data")]})
    second = instance(double, **{"in": [(first, "out")]})
    collector = {"_id": OUTPUT_ID, "base_node_name": "_output", "x": 500, "y": 0,
                 "inputs": [{"name": "result", "values": [{"node_id": second["_id"], "output_id": "out"}]}]}
    return api.save_operation({
        "base_node_name": "graph", "title": "quadruple",
        "inputs": [{"name": "data", "file_types": ["file"], "min_count": 1, "max_count": 1}],
        "outputs": [{"name": "result", "file_type": "file"}],
        "parameters": [{"name": "_nodes", "parameter_type": "list_node",
                        "value": [{"_id": INPUT_ID, "base_node_name": "_input"}, first, second, collector]}]})


@pytest.fixture(scope="module")
def content(stacks: tuple[Stack, Stack]) -> dict[str, Any]:
    """On the source: files, operations, a graph run to completion, one with a composite, one only saved, a user."""
    api = stacks[0].api
    three, five = api.upload(b"3", "three"), api.upload(b"5", "five")
    big = api.upload(os.urandom(3 * 1024 * 1024), "three megabytes")
    total = api.save_operation(operation("python", "sum", SUM, inputs=[dict(ONE, name="a"), dict(ONE, name="b")],
                                         outputs=["out"]))
    quadruple = _composite(api)
    summed = _run(api, [three, five, instance(total, a=[(three, "out")], b=[(five, "out")])], "sum run")
    composite = _run(api, [five, instance(quadruple, data=[(five, "out")])], "composite run")
    saved = api.ok("post", "graphs", json={"graph": graph("only saved", [big]), "actions": ["SAVE"]})["graph"]["_id"]
    slow = api.ok("post", "graphs", json={"graph": graph("going", [operation("bash_jinja2", "slow", "sleep 60\n")]),
                                          "actions": ["SAVE", "APPROVE"]})["graph"]["_id"]
    deadline = time.monotonic() + 60
    while api.ok("get", f"graphs/{slow}")["data"]["nodes"][0]["node_running_status"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    made = stacks[0].cli("chalicelib.api.user_cli", "create", "carol", "--password", "carol-password",
                         "--email", "carol@example.com")
    assert made.returncode == 0, made.stderr
    return {"graphs": [summed, composite, saved], "nodes": [three["_id"], five["_id"], big["_id"], total["_id"],
                                                              quadruple["_id"]], "users": ["carol"],
            "running": slow}


def _resources(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["resource_id"]} if isinstance(value.get("resource_id"), str) else set()
        return found.union(*(_resources(inner) for inner in value.values()))
    if isinstance(value, list):
        return set().union(*(_resources(inner) for inner in value))
    return set()


def _view(api: Api, content: dict[str, Any]) -> dict[str, Any]:
    """What a user reads through the REST API of the objects made, and the bytes of every content named."""
    view: dict[str, Any] = {
        "graphs": {graph_id: api.ok("get", f"graphs/{graph_id}")["data"] for graph_id in content["graphs"]},
        "nodes": {node_id: api.ok("get", f"nodes/{node_id}")["data"] for node_id in content["nodes"]},
        "users": {name: api.ok("get", f"user/{name}") for name in content["users"]}}
    ids = _resources([view["graphs"], view["nodes"]])
    view["resources"] = {resource_id: hashlib.sha256(api.resource(resource_id)).hexdigest() for resource_id in ids}
    return view


@pytest.fixture(scope="module")
def exported(stacks: tuple[Stack, Stack], content: dict[str, Any]) -> Iterator[str]:
    """`make export DIR=...` against the source stack, as an operator runs it (its data dir's key, its moto port)."""
    with tempfile.TemporaryDirectory(prefix="plynx-export-") as directory:
        path = os.path.join(directory, "out")
        done = subprocess.run(["make", "--silent", "--no-print-directory", "export", f"DIR={path}"], cwd=REPO,
                              env=stacks[0].env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(done.stdout)
        print("export", report["seconds"], "s", report["counts"])
        yield path


def test_a_round_trip_gives_equal_graphs_runs_nodes_files_and_users(stacks, content, exported) -> None:
    source, target = stacks
    with open(os.path.join(exported, "manifest.json")) as stream:
        manifest = json.load(stream)
    assert manifest["format"] == "plynx-export" and manifest["version"] == 1
    assert os.stat(exported).st_mode & 0o777 == 0o700  # it holds password hashes
    assert manifest["counts"]["graphs"] == 4 and manifest["counts"]["nodes"] >= 6
    for resource_id in os.listdir(os.path.join(exported, "resources")):
        with open(os.path.join(exported, "resources", resource_id), "rb") as stream:
            assert hashlib.sha256(stream.read()).hexdigest() == resource_id
    users = [json.loads(line) for line in open(os.path.join(exported, "users.jsonl"))]
    assert next(u for u in users if u["username"] == "carol")["password_hash"]  # the operator's own data, whole

    for graph_id in content["graphs"]:
        assert target.api.get(f"graphs/{graph_id}").status_code == 404
    report = target.transfer("import", exported)
    print("import", report["seconds"], "s", report["counts"])
    assert report["counts"]["graphs"]["written"] == 4 and report["counts"]["resources"]["written"] >= 5

    before, after = _view(source.api, content), _view(target.api, content)
    assert before == after
    assert len(after["resources"]) >= 8 and all(k == v for k, v in after["resources"].items())
    runs = {g["title"]: g for g in after["graphs"].values()}
    assert runs["sum run"]["graph_running_status"] == runs["composite run"]["graph_running_status"] == "SUCCESS"
    assert target.api.resource(output_id(by_title(runs["sum run"], "sum"), "out")) == b"8"
    assert target.api.resource(output_id(by_title(runs["composite run"], "quadruple"), "result")) == b"20"
    inner = next(p["value"] for p in by_title(runs["composite run"], "quadruple")["parameters"] if p["name"] == "_nodes")
    assert {n["node_running_status"] for n in inner if n["base_node_name"] == "python"} == {"SUCCESS"}

    # the run going at export time: its execution stayed with the source, so it ends FAILED here, saying why
    assert report["closed_runs"] == [content["running"]]
    going = target.api.ok("get", f"graphs/{content['running']}")["data"]
    assert going["graph_running_status"] == "FAILED"
    assert going["nodes"][0]["node_running_status"] == "FAILED"
    assert source.api.ok("get", f"graphs/{content['running']}")["data"]["graph_running_status"] == "RUNNING"

    # twice changes nothing: every item is found equal, nothing written but the (idempotent) owner records
    again = target.transfer("import", exported)
    for kind in ("graphs", "nodes", "users", "resources"):
        assert again["counts"][kind]["written"] == 0, json.dumps(again)
    assert [item for item in again["kept"] if "user `default`" not in item] == [
        item for item in again["kept"] if content["running"] in item]  # the run closed here is newer here
    assert again["closed_runs"] == []
    assert _view(target.api, content) == after


def test_a_newer_copy_in_the_target_is_kept_and_reported(stacks, content, exported) -> None:
    target = stacks[1]
    target.transfer("import", exported)
    graph_id = content["graphs"][2]
    data = target.api.ok("get", f"graphs/{graph_id}")["data"]
    data["title"] = "renamed in the target"
    assert target.api.ok("post", "graphs", json={"graph": data, "actions": ["SAVE"]})["status"] == "SUCCESS"
    report = target.transfer("import", exported)
    assert report["counts"]["graphs"]["kept"] == 2  # this one, and the run the first import closed
    assert any(graph_id in note and "kept the target's" in note for note in report["kept"])
    assert target.api.ok("get", f"graphs/{graph_id}")["data"]["title"] == "renamed in the target"


def _copy(exported: str, into: str) -> str:
    path = os.path.join(into, "copy")
    shutil.copytree(exported, path)
    return path


def test_a_tampered_content_file_is_refused_and_nothing_is_written(stacks, content, exported, tmp_path) -> None:
    target = stacks[1]
    path = _copy(exported, str(tmp_path))
    # a change import would write, were the directory whole: a node renamed later than the target's copy
    lines = [json.loads(line) for line in open(os.path.join(path, "nodes.jsonl"))]
    renamed = next(line for line in lines if line["id"] == content["nodes"][3])
    renamed["title"], renamed["update_date"] = "renamed in the export", "2999-01-01 00:00:00.000Z"
    with open(os.path.join(path, "nodes.jsonl"), "w") as stream:
        stream.writelines(json.dumps(line) + "\n" for line in lines)
    victim = sorted(os.listdir(os.path.join(path, "resources")))[0]
    with open(os.path.join(path, "resources", victim), "ab") as stream:
        stream.write(b"tampered")
    done = target.cli("chalicelib.api.transfer_cli", "import", path)
    assert done.returncode == 1
    assert victim in done.stderr and "hash" in done.stderr, done.stderr
    assert target.api.ok("get", f"nodes/{content['nodes'][3]}")["data"]["title"] == "sum"


def _foreign_partition(path: str) -> None:
    """A graph file that would write another graph's saved nodes."""
    first, second = sorted(os.listdir(os.path.join(path, "graphs")))[:2]
    with open(os.path.join(path, "graphs", second)) as stream:
        other = json.load(stream)
    with open(os.path.join(path, "graphs", first)) as stream:
        mine = json.load(stream)
    partition = other["graph"]["nodes_key"]
    mine["items"][partition] = other["items"][partition]
    with open(os.path.join(path, "graphs", first), "w") as stream:
        json.dump(mine, stream)


@pytest.mark.parametrize("damage, names", [
    (_foreign_partition, "not a partition of graph"),
    (lambda p: open(os.path.join(p, "nodes.jsonl"), "a").write("{not json\n"), "nodes.jsonl, line"),
    (lambda p: open(os.path.join(p, "users.jsonl"), "a").write('{"username": 7}\n'), "users.jsonl, line"),
    (lambda p: os.remove(os.path.join(p, "manifest.json")), "manifest.json: missing"),
    (lambda p: open(os.path.join(p, "resources", "not-a-hash"), "w").write("x"), "not-a-hash"),
])
def test_a_malformed_directory_is_a_clear_error_naming_the_file(stacks, exported, tmp_path, damage, names) -> None:
    path = _copy(exported, str(tmp_path))
    damage(path)
    done = stacks[1].cli("chalicelib.api.transfer_cli", "import", path)
    assert done.returncode == 1 and names in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_search_lists_what_an_import_brought_once_the_api_restarts(stacks, content, exported, tmp_path) -> None:
    """Imported items keep their update_date, older than a warm search mirror's watermark: import drops the
    search snapshots, so the API's next start reads the whole index and lists them."""
    source, target = stacks
    tag = "imported-later"
    later = source.api.ok("post", "graphs", json={"graph": graph(f"{tag} graph", []), "actions": ["SAVE"]})["graph"]["_id"]
    target.api.ok("post", "graphs", json={"graph": graph("made in the target", []), "actions": ["SAVE"]})
    time.sleep(2.5)  # past search.MARGIN: the target's mirror, warmed now, holds a watermark later than the graph
    assert target.api.ok("post", "search_graphs", json={"search": tag})["total_count"] == 0
    path = str(tmp_path / "later")
    source.transfer("export", path)
    target.transfer("import", path)
    assert target.api.ok("get", f"graphs/{later}")["data"]["title"] == f"{tag} graph"  # by id: at once
    # an API that was running during the import may not list it yet (README, "Export and import")
    stop(target.process)
    target.process = start(target.env)
    found = target.api.ok("post", "search_graphs", json={"search": tag})
    assert [item["_id"] for item in found["items"]] == [later]
