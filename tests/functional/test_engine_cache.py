"""The cache: a second run of the same operation on the same inputs invokes no runner and shows RESTORED."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO
from tests.helpers import by_title, graph, instance, log_id, operation, output_id

ONE = {"file_types": ["file"], "min_count": 1, "max_count": 1}
DOUBLE = "open(outputs['out'], 'w').write(open(inputs['x']).read() * 2)\nprint('doubled')\n"


def _approve(api, graph_id: str) -> dict:
    body = api.ok("post", f"graphs/{graph_id}/approve")
    assert body["status"] == "SUCCESS", body
    return api.wait(graph_id)


def test_second_run_restores_without_invoking_a_runner(api, stack, tmp_path) -> None:
    data = instance(api.upload(b"ab\n", "cache input"))
    double = api.save_operation(operation("python", "double", DOUBLE, inputs=[{"name": "x", **ONE}],
                                          outputs=["out"], params={"salt": str(tmp_path)}))
    first = instance(double, x=[(data, "out")])
    second = instance(double, x=[(first, "out")])
    second["title"] = "double again"
    body = api.ok("post", "graphs", json={"graph": graph("cached", [data, first, second]),
                                          "actions": ["SAVE", "APPROVE"]})
    graph_id = body["graph"]["_id"]
    run1 = api.wait(graph_id)
    assert run1["graph_running_status"] == "SUCCESS"
    assert by_title(run1, "double again")["node_running_status"] == "SUCCESS"

    runs_before = stack.lambda_front.invocations["run"]
    run2 = _approve(api, graph_id)
    assert stack.lambda_front.invocations["run"] == runs_before  # no runner was invoked
    assert run2["graph_running_status"] == "SUCCESS"
    for title in ("double", "double again"):
        restored, original = by_title(run2, title), by_title(run1, title)
        assert restored["node_running_status"] == "RESTORED"
        assert output_id(restored, "out") == output_id(original, "out")
        assert log_id(restored, "stdout") == log_id(original, "stdout")
    assert api.resource(output_id(by_title(run2, "double again"), "out")) == b"ab\nab\nab\nab\n"
    # each restored operation names the run its results came from, and that run is readable
    for title in ("double", "double again"):
        source = by_title(run2, title)["restored_from"]
        assert source["run_id"] == run1["run_id"] != run2["run_id"] and source["graph_id"] == graph_id
        assert source["kind"] == "cache"
        assert source["date"] >= run1["insertion_date"]  # stored by the first run, after its save
    assert "restored_from" not in by_title(run1, "double")
    assert api.ok("get", f"runs/{run1['run_id']}")["data"]["_id"] == run1["run_id"]
    as_ran = api.ok("get", f"runs/{run2['run_id']}")["data"]["graph"]["nodes"]
    assert next(n for n in as_ran if n["title"] == "double")["restored_from"]["run_id"] == run1["run_id"]
    # restored whole: no execution at all (its preparation ended it; a partly restored run's execution shows
    # the skip as Pass states, tests/unit/test_compiler.py)
    from chalicelib.store.models import GraphModel

    assert GraphModel.get(graph_id, consistent_read=True).execution_arn is None
    # the graph as read (with restored_from) posts back as is: the field is accepted and not stored
    saved = api.ok("post", "graphs", json={"graph": api.ok("get", f"graphs/{graph_id}")["data"], "actions": ["SAVE"]})
    assert all("restored_from" not in n for n in saved["graph"]["nodes"])


def test_cacheable_false_opts_out(api, stack, tmp_path) -> None:
    op = operation("python", "fresh", "import time\nopen(outputs['out'], 'w').write('x')\n", outputs=["out"],
                   params={"salt": str(tmp_path)})
    op["parameters"].append({"name": "_cacheable", "parameter_type": "bool", "value": False})
    node = instance(api.save_operation(op))
    graph_id = api.ok("post", "graphs", json={"graph": graph("fresh", [node]),
                                              "actions": ["SAVE", "APPROVE"]})["graph"]["_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    runs_before = stack.lambda_front.invocations["run"]
    again = _approve(api, graph_id)
    assert by_title(again, "fresh")["node_running_status"] == "SUCCESS"
    assert stack.lambda_front.invocations["run"] == runs_before + 1


def test_inputs_known_only_at_run_time_still_hit_the_cache(api, tmp_path) -> None:
    # `source` opts out, so it runs every time, but writes the same content: `double` then hits at run time
    source = operation("python", "source", "open(outputs['out'], 'w').write('same')\n", outputs=["out"],
                       params={"salt": str(tmp_path)})
    source["parameters"].append({"name": "_cacheable", "parameter_type": "bool", "value": False})
    source = instance(api.save_operation(source))
    double = api.save_operation(operation("python", "double", DOUBLE, inputs=[{"name": "x", **ONE}],
                                          outputs=["out"], params={"salt": str(tmp_path)}))
    node = instance(double, x=[(source, "out")])
    graph_id = api.ok("post", "graphs", json={"graph": graph("late hit", [source, node]),
                                              "actions": ["SAVE", "APPROVE"]})["graph"]["_id"]
    assert by_title(api.wait(graph_id), "double")["node_running_status"] == "SUCCESS"
    again = _approve(api, graph_id)
    assert by_title(again, "source")["node_running_status"] == "SUCCESS"
    assert by_title(again, "double")["node_running_status"] == "RESTORED"
    assert by_title(again, "double")["restored_from"]["run_id"] != again["run_id"]  # the first run, found at run time
    assert api.resource(output_id(by_title(again, "double"), "out")) == b"samesame"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chalicelib.engine.cache", *args], cwd=REPO, env=dict(os.environ),
                          capture_output=True, text=True, timeout=60, check=False)


def test_cache_cli_lists_and_cleans_by_date_range(api, tmp_path) -> None:
    op = api.save_operation(operation("python", "listed", "open(outputs['out'], 'w').write('l')\n",
                                      outputs=["out"], params={"salt": str(tmp_path)}))
    graph_id = api.ok("post", "graphs", json={"graph": graph("cli", [instance(op)]),
                                              "actions": ["SAVE", "APPROVE"]})["graph"]["_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    listed = _cli("list")
    assert listed.returncode == 0, listed.stderr
    entries = [json.loads(line) for line in listed.stdout.splitlines()]
    assert any(e["title"] == "listed" for e in entries)
    assert _cli("list", "--end-datetime", "2000-01-01").stdout == ""  # nothing that old
    cleaned = _cli("clean", "--start-datetime", "2000-01-01", "--end-datetime", "2999-12-31")
    assert cleaned.returncode == 0 and "Removed" in cleaned.stdout
    assert not any(json.loads(line)["title"] == "listed" for line in _cli("list").stdout.splitlines())
    again = _approve(api, graph_id)
    assert by_title(again, "listed")["node_running_status"] == "SUCCESS"  # ran again
    bad = _cli("list", "--start-datetime")
    assert bad.returncode != 0


def test_a_fan_out_looks_up_the_cache_only_for_content_an_earlier_run_may_have_had(api, tmp_path, monkeypatch) -> None:
    """A branch whose input its upstream operation's upload just created (the node's `created`, read with its
    results) has no earlier run to restore: no lookup. The same content produced again is looked up, and hits."""
    from moto.dynamodb.responses import DynamoHandler

    from chalicelib.store.models import CacheModel

    looked_up: list[str] = []  # the keys of GetItem requests to the cache table (the runner's lookups)
    get_item = DynamoHandler.get_item

    def spy(self):
        request = self.body if isinstance(self.body, dict) else json.loads(self.body)
        if request["TableName"] == CacheModel.Meta.table_name:
            looked_up.append(request["Key"]["key"]["S"])
        return get_item(self)

    monkeypatch.setattr(DynamoHandler, "get_item", spy)
    source = operation("python", "fan source", f"open(outputs['out'], 'w').write('fan {tmp_path}')\n",
                       outputs=["out"], params={"salt": str(tmp_path)})
    source["parameters"].append({"name": "_cacheable", "parameter_type": "bool", "value": False})  # runs each time
    source = instance(api.save_operation(source))
    branches = []
    for i in range(3):
        branch = api.save_operation(operation("python", f"branch {i}", DOUBLE, inputs=[{"name": "x", **ONE}],
                                              outputs=["out"], params={"salt": f"{tmp_path}-{i}"}))
        branches.append(instance(branch, x=[(source, "out")]))
    graph_id = api.ok("post", "graphs", json={"graph": graph("fan lookups", [source, *branches]),
                                              "actions": ["SAVE", "APPROVE"]})["graph"]["_id"]
    first = api.wait(graph_id)
    assert [by_title(first, f"branch {i}")["node_running_status"] for i in range(3)] == ["SUCCESS"] * 3
    keys = {entry.key for entry in CacheModel.scan(CacheModel.run_id == first["run_id"])}
    assert len(keys) == 3  # the branches' entries (the source is not cacheable)
    assert not keys & set(looked_up)  # new content: none was looked up, whichever runner ran them
    again = _approve(api, graph_id)
    assert by_title(again, "fan source")["node_running_status"] == "SUCCESS"  # the same content again
    assert [by_title(again, f"branch {i}")["node_running_status"] for i in range(3)] == ["RESTORED"] * 3
    assert sorted(key for key in looked_up if key in keys) == sorted(keys)  # each looked up once, and hit


def test_small_outputs_reach_the_operations_reading_them_with_their_upstream_results(api, tmp_path, monkeypatch) -> None:
    """A small output's bytes travel with its node's end (checked against its id when used): a fan-out's branches
    and its join read none of them from S3, whichever runner ran what; a bigger one does not travel."""
    from moto.s3.responses import S3Response

    got: list[str] = []  # the keys of the GetObject requests while the graph runs
    key_response_get = S3Response._key_response_get

    def spy(self, query, key_name):
        got.append(key_name)
        return key_response_get(self, query, key_name)

    monkeypatch.setattr(S3Response, "_key_response_get", spy)
    big = 4096  # over INLINE_BYTES (runners/handler.py)
    source = instance(api.save_operation(operation(
        "python", "small source", f"open(outputs['out'], 'w').write('small {tmp_path}')\n"
                                  f"open(outputs['big'], 'w').write('b' * {big} + '{tmp_path}')\n",
        outputs=["out", "big"], params={"salt": str(tmp_path)})))
    many = {"name": "x", "file_types": ["file"], "min_count": 1, "max_count": -1}
    branches = [instance(api.save_operation(operation(
        "python", f"small branch {i}", DOUBLE, inputs=[{"name": "x", **ONE}], outputs=["out"],
        params={"salt": f"{tmp_path}-{i}"})), x=[(source, "out")]) for i in range(3)]
    join = instance(api.save_operation(operation(
        "python", "small join", "open(outputs['out'], 'w').write(''.join(open(p).read() for p in inputs['x']))\n",
        inputs=[many], outputs=["out"], params={"salt": str(tmp_path)})), x=[(b, "out") for b in branches])
    reader = instance(api.save_operation(operation(
        "python", "big reader", DOUBLE, inputs=[{"name": "x", **ONE}], outputs=["out"],
        params={"salt": str(tmp_path)})), x=[(source, "big")])
    graph_id = api.ok("post", "graphs", json={"graph": graph("small outputs", [source, *branches, join, reader]),
                                              "actions": ["SAVE", "APPROVE"]})["graph"]["_id"]
    done = api.wait(graph_id)
    assert done["graph_running_status"] == "SUCCESS"
    small = f"small {tmp_path}".encode()
    assert api.resource(output_id(by_title(done, "small join"), "out")) == small * 6
    small_ids = {output_id(by_title(done, "small source"), "out"),
                 *(output_id(by_title(done, f"small branch {i}"), "out") for i in range(3))}
    read = [key.rsplit("/", 1)[-1] for key in got]
    assert not small_ids & set(read), read
    from chalicelib.store.graph_items import run_items
    from chalicelib.store.models import GraphNodeModel

    ended = GraphNodeModel.get(run_items(graph_id, done["run_id"]), by_title(done, "small source")["_id"])
    assert set(ended.inline) == {output_id(by_title(done, "small source"), "out")}  # not the 4 KB one
    assert "inline" not in by_title(done, "small source") and "created" not in by_title(done, "small source")


def test_inline_bytes_that_do_not_hash_to_their_id_are_read_from_s3(stack, tmp_path) -> None:
    """What an upstream node's end carries is used only when it hashes to the id it is under."""
    import base64
    import secrets

    from chalicelib.domain.enums import NodeRunningStatus
    from chalicelib.engine import inputs
    from chalicelib.store import storage
    from chalicelib.store.graph_items import run_items
    from chalicelib.store.models import GraphNodeModel
    from runners import handler

    good, forged = b"good bytes", b"forged bytes"
    good_id, other_id = storage.content_id(good), storage.content_id(b"other " + secrets.token_bytes(8))
    partition = run_items(f"g{secrets.token_hex(6)}", "r1")
    GraphNodeModel(partition, "up", body={"_id": "up", "outputs": [{"name": "a"}, {"name": "b"}]}, run_id="r1",
                   node_running_status=NodeRunningStatus.SUCCESS, outputs={"a": good_id, "b": other_id},
                   inline={good_id: base64.b64encode(good).decode(), other_id: base64.b64encode(forged).decode(),
                           "x" * 64: "not base64!"}).save()
    read = inputs.upstream_read(partition, {"_id": "down", "inputs": [{"name": "x", "values": [
        {"node_id": "up", "output_id": "a"}, {"node_id": "up", "output_id": "b"}]}]})
    assert read.contents == {good_id: good, other_id: forged}  # as written; the malformed one left out
    handler._CONTENT.pop(good_id, None)
    handler._CONTENT.pop(other_id, None)
    handler._take_inline(read.contents)
    assert handler._CONTENT.get(good_id) == good and other_id not in handler._CONTENT


def test_a_fan_outs_branches_and_a_chains_next_operation_read_no_upstream_item(api, tmp_path, monkeypatch) -> None:
    """The end of the operation before one in its branch travels in the execution's state (its runner's answer,
    carried as the next payload's `upstream`): a fan-out's branches get their source's, a chain's next operation
    its predecessor's, and none of them reads those nodes from DynamoDB, whichever runner ran what."""
    from moto.dynamodb.responses import DynamoHandler

    from chalicelib.store.models import GraphNodeModel

    read: list[str] = []  # the node ids BatchGetItem asked the graph nodes' table for while the graph ran
    batch_get_item = DynamoHandler.batch_get_item

    def spy(self):
        request = self.body if isinstance(self.body, dict) else json.loads(self.body)
        for key in request["RequestItems"].get(GraphNodeModel.Meta.table_name, {}).get("Keys", []):
            read.append(key["node_id"]["S"])
        return batch_get_item(self)

    monkeypatch.setattr(DynamoHandler, "batch_get_item", spy)
    source = instance(api.save_operation(operation(
        "python", "carried source", f"open(outputs['out'], 'w').write('{tmp_path}' * 100)\n", outputs=["out"],
        params={"salt": str(tmp_path)})))  # 4 KB and more: not carried inline, read from S3
    branches = [instance(api.save_operation(operation(
        "python", f"carried branch {i}", DOUBLE, inputs=[{"name": "x", **ONE}], outputs=["out"],
        params={"salt": f"{tmp_path}-{i}"})), x=[(source, "out")]) for i in range(3)]
    after = instance(api.save_operation(operation(
        "python", "carried next", DOUBLE, inputs=[{"name": "x", **ONE}], outputs=["out"],
        params={"salt": str(tmp_path)})), x=[(branches[0], "out")])
    graph_id = api.ok("post", "graphs", json={"graph": graph("carried ends", [source, *branches, after]),
                                              "actions": ["SAVE", "APPROVE"]})["graph"]["_id"]
    done = api.wait(graph_id)
    assert done["graph_running_status"] == "SUCCESS"
    content = f"{tmp_path}".encode() * 100
    assert api.resource(output_id(by_title(done, "carried branch 2"), "out")) == content * 2  # its input, as made
    assert api.resource(output_id(by_title(done, "carried next"), "out")) == content * 4
    upstream = {by_title(done, "carried source")["_id"], by_title(done, "carried branch 0")["_id"]}
    assert not upstream & set(read), read
