"""A graph save against a run start, a killed save, a reader against a save: each interleaving is driven
deterministically (a hook between a write and its flip, a SIGKILL after the first batch) on the real stack."""
from __future__ import annotations

import collections
import json
import os
import secrets
import subprocess
import sys
from typing import Any

import pytest

from tests.helpers import graph, instance, operation

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _partitions(graph_id: str) -> set[str]:
    """Every graph-nodes partition of a graph's versions and runs (a scan: tests only)."""
    from chalicelib.store.models import GraphNodeModel

    items = GraphNodeModel.scan(GraphNodeModel.graph_id.startswith(f"{graph_id}~")
                                | GraphNodeModel.graph_id.startswith(f"run~{graph_id[:48]}-"))
    return {item.graph_id for item in items}


def _saved(api: Any, title: str, count: int = 1) -> dict:
    op = api.save_operation(operation("python", "noop", f"pass  # {secrets.token_hex(4)}: not in the cache\n"))
    nodes = []
    for i in range(count):
        nodes.append(instance(op))
        nodes[-1]["title"] = f"v1-{i}"
    return api.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE"]})["graph"]


def _edited(saved: dict) -> dict:
    return dict(saved, title="v2", nodes=[dict(node, title=node["title"].replace("v1", "v2")) for node in saved["nodes"]])


def _titles(data: dict) -> list[str]:
    return sorted(node["title"] for node in data["nodes"])


@pytest.mark.parametrize("run_ended", [False, True], ids=["run active", "run ended"])
def test_a_save_overtaken_by_a_run_start_is_a_409_and_the_run_keeps_its_version(api, monkeypatch,
                                                                               run_ended: bool) -> None:
    from chalicelib.api import graphs
    from chalicelib.store.graph_items import run_items

    saved = _saved(api, "v1")
    graph_id, approved = saved["_id"], []
    write_nodes = graphs._write_nodes

    def write_then_approve(partition: str, nodes: list[dict], stamp: str) -> None:
        write_nodes(partition, nodes, stamp)
        if not approved:  # the run starts after the save wrote its nodes, before it flips the header
            approved.append(api.post(f"graphs/{graph_id}/approve"))
            if run_ended:  # not running any more when the save flips, yet started after the save read
                api.wait(graph_id)

    monkeypatch.setattr(graphs, "_write_nodes", write_then_approve)
    response = api.post("graphs", json={"graph": _edited(saved), "actions": ["SAVE"]})
    monkeypatch.undo()
    assert approved[0].status_code == 200, approved[0].text
    assert response.status_code == 409 and "started running while you saved it" in response.json()["Message"]
    run_id = approved[0].json()["graph"]["run_id"]
    data = api.wait(graph_id)  # the run's status and run_id were not overwritten by the save
    assert data["graph_running_status"] == "SUCCESS" and data["run_id"] == run_id
    assert data["title"] == "v1" and _titles(data) == ["v1-0"] and data["_version"] == saved["_version"]
    assert {n["node_running_status"] for n in data["nodes"]} == {"SUCCESS"}
    from chalicelib.store.models import GraphModel
    assert _partitions(graph_id) == {GraphModel.get(graph_id).nodes_key, run_items(graph_id, run_id)}  # the refused save's went


def test_a_run_start_overtaken_by_a_save_is_a_409_and_the_save_stands(api, monkeypatch) -> None:
    from chalicelib.engine import runs

    saved = _saved(api, "v1")
    graph_id, stored = saved["_id"], []
    unchanged = runs.unchanged

    def save_then_flip(model: Any) -> Any:
        if not stored:  # the save comes after APPROVE queued the run's nodes, before it flips the header
            stored.append(api.post("graphs", json={"graph": _edited(saved), "actions": ["SAVE"]}))
        return unchanged(model)

    monkeypatch.setattr(runs, "unchanged", save_then_flip)
    response = api.post(f"graphs/{graph_id}/approve")
    monkeypatch.undo()
    assert stored[0].status_code == 200, stored[0].text
    assert response.status_code == 409 and "changed by someone else while it was approved" in response.json()["Message"]
    data = api.ok("get", f"graphs/{graph_id}")["data"]  # the save happened wholly before: no run of either version
    assert data["graph_running_status"] == "CREATED" and data["run_id"] is None
    assert data["title"] == "v2" and _titles(data) == ["v2-0"] and data["_version"] == saved["_version"] + 1
    assert len(_partitions(graph_id)) == 1  # the refused run's nodes went, and the replaced version's
    api.ok("post", f"graphs/{graph_id}/approve")
    assert _titles(api.wait(graph_id)) == ["v2-0"]


KILLED_SAVE = """
import json, os, signal, sys
from pynamodb.connection.table import TableConnection
from chalicelib.api import graphs, users

batch_write_item = TableConnection.batch_write_item

def write_then_die(self, *args, **kwargs):
    result = batch_write_item(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # a Lambda timeout or a kill: no cleanup, no finally
    return result

TableConnection.batch_write_item = write_then_die
caller = users.authenticate("Basic ZGVmYXVsdDo=")  # default: (single-user mode signs every request too)
graphs.save_graph(graphs.clean_graph(json.loads(sys.stdin.read()), caller), caller)
"""


@pytest.mark.slow
def test_a_save_killed_halfway_leaves_the_previous_version_readable(api) -> None:
    saved = _saved(api, "v1", count=60)  # three BatchWriteItems of 25: the kill comes after the first
    done = subprocess.run([sys.executable, "-c", KILLED_SAVE], input=json.dumps(_edited(saved)), cwd=REPO,
                          env=os.environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    data = api.ok("get", f"graphs/{saved['_id']}")["data"]
    assert data["title"] == "v1" and data["_version"] == saved["_version"] and data["node_count"] == 60
    assert _titles(data) == sorted(f"v1-{i}" for i in range(60))  # not one node of the killed save
    # nothing was claimed by the dead save: the same edit from the same version saves and runs
    again = api.ok("post", "graphs", json={"graph": _edited(saved), "actions": ["SAVE", "APPROVE"]})["graph"]
    assert again["_version"] == saved["_version"] + 1
    assert _titles(api.wait(saved["_id"], timeout=120)) == sorted(f"v2-{i}" for i in range(60))


def test_a_reader_whose_version_is_dropped_under_it_reads_the_new_one_whole(api, monkeypatch) -> None:
    from chalicelib.store import graph_items

    saved = _saved(api, "v1", count=3)
    graph_id, saves = saved["_id"], []
    node_items = graph_items.node_items

    def save_then_read(partition: str) -> Any:
        if not saves:  # between the reader's header and its query, a save flips and drops what it read
            saves.append(None)  # (the save's own read comes through here too)
            saves[0] = api.post("graphs", json={"graph": _edited(saved), "actions": ["SAVE"]})
        return node_items(partition)

    monkeypatch.setattr(graph_items, "node_items", save_then_read)
    # versions read or written lately are kept in memory (graph_items.whole_items): this reader must query
    monkeypatch.setattr(graph_items, "_VERSIONS", collections.OrderedDict())
    monkeypatch.setattr(graph_items, "_VERSIONS_KEEP", 0)
    data = api.ok("get", f"graphs/{graph_id}")["data"]
    monkeypatch.undo()
    assert saves[0].status_code == 200, saves[0].text
    assert data["title"] == "v2" and _titles(data) == ["v2-0", "v2-1", "v2-2"]
    assert data["_version"] == saved["_version"] + 1
