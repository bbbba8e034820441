"""`search_nodes` / `search_graphs` through the REST API: the search string, filters, paging, totals.

Every test tags what it stores with a word of its own, so the session's other objects never count.
"""
from __future__ import annotations

import secrets

import pytest

from tests.helpers import graph, operation


def _tag() -> str:
    return "t" + secrets.token_hex(6)


def _titles(body: dict) -> list[str]:
    return [item["title"] for item in body["items"]]


def test_free_text_matches_title_and_description_case_insensitively(api) -> None:
    tag = _tag()
    node = dict(operation("python", f"Alpha {tag.upper()}", "pass\n"), description="Reads the BETA table")
    api.save_operation(node, action="SAVE")
    for search in (tag, f"alpha {tag}", f"{tag} beta", f"ALPHA {tag} Table", f"{tag} reads"):
        found = api.ok("post", "search_nodes", json={"search": search})
        assert found["total_count"] == 1 and _titles(found) == [f"Alpha {tag.upper()}"], search
    for search in (f"{tag} gamma", f"{tag}x", f'{tag} "alpha table"'):  # every word must appear; a quoted phrase is one word
        assert api.ok("post", "search_nodes", json={"search": search})["total_count"] == 0, search
    phrase = api.ok("post", "search_nodes", json={"search": f'{tag} "the beta"'})
    assert phrase["total_count"] == 1


def test_paging_is_newest_first_consistent_and_counts_exactly(api) -> None:
    tag = _tag()
    for i in range(7):
        api.save_operation(operation("python", f"{tag} {i}", "pass\n"), action="SAVE")
    everything = api.ok("post", "search_nodes", json={"search": tag, "per_page": 100})
    assert _titles(everything) == [f"{tag} {i}" for i in reversed(range(7))]
    dates = [item["insertion_date"] for item in everything["items"]]
    assert dates == sorted(dates, reverse=True)
    pages = [api.ok("post", "search_nodes", json={"search": tag, "per_page": 3, "offset": offset})
             for offset in (0, 3, 6, 9)]
    assert [p["total_count"] for p in pages] == [7, 7, 7, 7]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0]
    assert sum((_titles(p) for p in pages), []) == _titles(everything)
    # per_page and offset also come as strings from form-encoded clients
    as_text = api.ok("post", "search_nodes", json={"search": tag, "per_page": "2", "offset": "1"})
    assert _titles(as_text) == _titles(everything)[1:3]


def test_author_status_and_base_node_names_combine(api) -> None:
    tag = _tag()
    api.save_operation(operation("python", f"{tag} draft", "pass\n"), action="SAVE")
    api.save_operation(operation("python", f"{tag} approved", "pass\n"), action="APPROVE")
    api.save_operation(operation("bash_jinja2", f"{tag} bash", "echo\n"), action="APPROVE")
    api.upload(b"1\n", f"{tag} file")

    def titles(**body: object) -> list[str]:
        found = api.ok("post", "search_nodes", json={"per_page": 100, **body})
        assert found["total_count"] == len(found["items"])
        return sorted(_titles(found))

    assert titles(search=tag) == sorted([f"{tag} draft", f"{tag} approved", f"{tag} bash", f"{tag} file"])
    assert titles(search=tag, status=["CREATED"]) == [f"{tag} draft"]
    assert titles(search=tag, status="READY", base_node_names=["python"]) == [f"{tag} approved"]
    assert titles(search=tag, base_node_names=["python", "bash_jinja2"]) == sorted(
        [f"{tag} draft", f"{tag} approved", f"{tag} bash"])
    assert titles(search=f"author:default {tag}", base_node_names="file") == [f"{tag} file"]
    assert titles(search=f"author:somebody_else {tag}") == []
    assert titles(search=f"{tag} approved", status=["CREATED", "DEPRECATED"]) == []
    for item in api.ok("post", "search_nodes", json={"search": tag, "status": ["READY"]})["items"]:
        assert item["node_status"] == "READY" and item["author"] == "default"


def test_changes_show_in_the_next_search(api) -> None:
    tag = _tag()
    node = api.save_operation(operation("python", f"{tag} before", "pass\n"), action="SAVE")
    assert _titles(api.ok("post", "search_nodes", json={"search": tag})) == [f"{tag} before"]
    renamed = api.save_operation(dict(node, title=f"{tag} after", description="renamed"), action="SAVE")
    assert api.ok("post", "search_nodes", json={"search": f"{tag} before"})["total_count"] == 0
    found = api.ok("post", "search_nodes", json={"search": f"{tag} renamed"})
    assert _titles(found) == [f"{tag} after"] and found["items"][0]["_id"] == node["_id"]
    api.save_operation(renamed, action="APPROVE")
    ready = api.ok("post", "search_nodes", json={"search": tag, "status": ["READY"]})
    assert ready["total_count"] == 1 and ready["items"][0]["node_status"] == "READY"
    assert api.ok("post", "search_nodes", json={"search": tag, "status": ["CREATED"]})["total_count"] == 0


def test_graph_search_follows_run_statuses(api) -> None:
    tag = _tag()
    op = operation("python", f"{tag} step", "pass\n")
    saved = api.ok("post", "graphs", json={"graph": graph(f"{tag} pipeline", [op]), "actions": ["SAVE"]})["graph"]
    api.ok("post", "graphs", json={"graph": graph(f"{tag} other", []), "actions": ["SAVE"]})
    assert sorted(_titles(api.ok("post", "search_graphs", json={"search": tag}))) == [
        f"{tag} other", f"{tag} pipeline"]
    api.ok("post", f"graphs/{saved['_id']}/approve")
    assert api.wait(saved["_id"])["graph_running_status"] == "SUCCESS"
    done = api.ok("post", "search_graphs", json={"search": tag, "status": ["SUCCESS"]})
    assert done["total_count"] == 1 and done["items"][0]["_id"] == saved["_id"]
    assert done["items"][0]["graph_running_status"] == "SUCCESS"
    created = api.ok("post", "search_graphs", json={"search": f"author:default {tag}", "status": "CREATED"})
    assert _titles(created) == [f"{tag} other"]
    paged = api.ok("post", "search_graphs", json={"search": tag, "per_page": 1, "offset": 1})
    assert paged["total_count"] == 2 and _titles(paged) == [f"{tag} pipeline"]


@pytest.mark.parametrize("path, body, word", [
    ("search_nodes", {"per_page": 0}, "per_page"),
    ("search_nodes", {"per_page": 1001}, "per_page"),
    ("search_nodes", {"per_page": True}, "per_page"),
    ("search_nodes", {"offset": -1}, "offset"),
    ("search_nodes", {"offset": 1.5}, "offset"),
    ("search_nodes", {"search": 5}, "search"),
    ("search_nodes", {"search": 'unbalanced "quote'}, "search"),
    ("search_nodes", {"status": 3}, "status"),
    ("search_nodes", {"status": ["SLEEPING"]}, "node status"),
    ("search_nodes", {"base_node_names": ["cobol"]}, "base node name"),
    ("search_nodes", {"base_node_names": [1]}, "base_node_names"),
    ("search_nodes", [1, 2], "object"),
    ("search_graphs", {"status": ["READY", "NOPE"]}, "graph status"),
    ("search_graphs", {"per_page": "lots"}, "per_page"),
    ("search_graphs", "just a string", "object"),
])
def test_bad_search_input_is_400(api, path: str, body: object, word: str) -> None:
    response = api.post(path, json=body)
    assert response.status_code == 400, response.text
    assert word in response.json()["Message"], response.text


def test_empty_body_lists_newest_first(api) -> None:
    tag = _tag()
    api.save_operation(operation("python", f"{tag} newest", "pass\n"), action="SAVE")
    response = api.post("search_nodes", data="", headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["items"][0]["title"] == f"{tag} newest" and len(body["items"]) <= 20
    assert body["total_count"] >= len(body["items"]) and "resources_dict" in body


def _cold_mirrors(monkeypatch) -> None:
    """As in a new process (a fresh Lambda container, a restarted local stack): no mirror in memory."""
    from chalicelib.store import search

    monkeypatch.setattr(search, "_MIRRORS", {})


def test_a_cold_process_starts_from_the_snapshot_and_reads_changes_since(api, monkeypatch) -> None:
    from chalicelib.api import library
    from chalicelib.store import search
    from chalicelib.store.models import NodeModel

    monkeypatch.setattr(search, "SNAPSHOT_AFTER", 1)  # store a snapshot after any refresh that read something
    tag = _tag()
    api.save_operation(operation("python", f"{tag} early", "pass\n"), action="SAVE")
    assert api.ok("post", "search_nodes", json={"search": tag})["total_count"] == 1
    total_before = api.ok("post", "search_nodes", json={})["total_count"]
    _cold_mirrors(monkeypatch)
    monkeypatch.setattr(search, "SNAPSHOT_AFTER", 10**9)
    api.save_operation(operation("python", f"{tag} late", "pass\n"), action="SAVE")
    found = api.ok("post", "search_nodes", json={"search": tag})
    assert sorted(_titles(found)) == [f"{tag} early", f"{tag} late"] and found["total_count"] == 2
    assert api.ok("post", "search_nodes", json={})["total_count"] == total_before + 1
    source = search.mirror(NodeModel.by_change, library.LISTING, "node_status", "base_node_name")
    assert source.snapshots_loaded == 1


def test_an_unreadable_snapshot_costs_only_a_full_read(api, monkeypatch) -> None:
    from chalicelib.store import aws, graph_items, search
    from chalicelib.store.models import GraphModel
    from chalicelib.store.settings import SETTINGS

    tag = _tag()
    api.ok("post", "graphs", json={"graph": graph(f"{tag} kept", []), "actions": ["SAVE"]})
    before = api.ok("post", "search_graphs", json={"per_page": 1})["total_count"]
    source = search.mirror(GraphModel.by_change, graph_items.LISTING, "graph_running_status")
    aws.client("s3").put_object(Bucket=SETTINGS.bucket, Key=source.snapshot_key, Body=b"not gzip")
    _cold_mirrors(monkeypatch)
    assert api.ok("post", "search_graphs", json={"per_page": 1})["total_count"] == before
    assert _titles(api.ok("post", "search_graphs", json={"search": tag})) == [f"{tag} kept"]
    assert search.mirror(GraphModel.by_change, graph_items.LISTING, "graph_running_status").snapshots_loaded == 0


def test_an_item_gone_from_the_table_leaves_the_results(api) -> None:
    # Nothing in the API deletes nodes (they are deprecated); a restored backup or a hand-made delete can.
    from chalicelib.store.models import NodeModel

    tag = _tag()
    kept = api.save_operation(operation("python", f"{tag} kept", "pass\n"), action="SAVE")
    gone = api.save_operation(operation("python", f"{tag} gone", "pass\n"), action="SAVE")
    total = api.ok("post", "search_nodes", json={})["total_count"]
    assert api.ok("post", "search_nodes", json={"search": tag})["total_count"] == 2
    NodeModel.get(gone["_id"]).delete()
    found = api.ok("post", "search_nodes", json={"search": tag})
    assert found["total_count"] == 1 and [i["_id"] for i in found["items"]] == [kept["_id"]]
    assert api.ok("post", "search_nodes", json={})["total_count"] == total - 1
