"""The seed's graph actions, single-action endpoints and graph-editing endpoints, through HTTP."""
from __future__ import annotations

import pytest

from chalicelib.domain.layout import node_size
from tests.helpers import graph, instance, operation

ONE = {"file_types": ["file"], "min_count": 1, "max_count": 1}


@pytest.fixture(scope="module")
def library(api) -> dict:
    """Approved operations to place in graphs: a csv producer, a csv consumer, a generic file consumer."""
    def approved(node: dict) -> dict:
        return api.ok("post", "nodes", json={"node": node, "actions": ["SAVE", "APPROVE"]})["node"]

    make_csv = operation("python", "Make csv", "open(outputs['table'], 'w').write('a,b\\n1,2\\n')\n")
    make_csv["outputs"] = [{"name": "table", "file_type": "csv"}]
    count = operation("python", "Count", "open(outputs['n'], 'w').write(str(len(open(inputs['rows']).read())))\n",
                      inputs=[{"name": "rows", **ONE}], outputs=["n"])
    only_csv = operation("python", "Only csv", "pass\n", inputs=[{"name": "table", **ONE, "file_types": ["csv"]}])
    return {"make_csv": approved(make_csv), "count": approved(count), "only_csv": approved(only_csv)}


def _saved(api, title: str, nodes: list[dict]) -> dict:
    return api.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE"]})["graph"]


def test_editing_endpoints_build_a_graph_that_runs(api, library) -> None:
    graph_id = _saved(api, "edited", [])["_id"]
    file_node = api.upload(b"x\ny\n", "lines")
    placed_file = api.ok("post", f"graphs/{graph_id}/nodes/insert_node",
                         json={"node_id": file_node["_id"], "x": 10, "y": 20})["node"]
    assert placed_file["parent_node_id"] == file_node["_id"] and (placed_file["x"], placed_file["y"]) == (10, 20)
    count = api.ok("post", f"graphs/{graph_id}/nodes/insert_node", json={"node_id": library["count"]["_id"]})["node"]
    link = {"from": {"node_id": placed_file["_id"], "resource": "out"}, "to": {"node_id": count["_id"], "resource": "rows"}}
    linked = api.ok("post", f"graphs/{graph_id}/nodes/create_link", json=link)["graph"]
    rows = next(n for n in linked["nodes"] if n["_id"] == count["_id"])["inputs"][0]["values"]
    assert rows == [{"node_id": placed_file["_id"], "output_id": "out", "resource_id": None}]

    listed = api.ok("get", f"graphs/{graph_id}/nodes/list_nodes")["nodes"]
    assert {n["_id"] for n in listed} == {placed_file["_id"], count["_id"]}

    # a second wire into a single-value input, a wire to a missing input, a cycle: refused with a reason
    again = api.post(f"graphs/{graph_id}/nodes/create_link", json=link)
    assert again.status_code == 400 and "already linked" in again.json()["Message"]
    wrong = dict(link, to={"node_id": count["_id"], "resource": "nope"})
    assert "has no input `nope`" in api.post(f"graphs/{graph_id}/nodes/create_link", json=wrong).json()["Message"]

    result = api.ok("post", f"graphs/{graph_id}/approve")
    assert result["status"] == "SUCCESS"
    done = api.wait(graph_id)
    assert done["graph_running_status"] == "SUCCESS"

    removed = api.ok("post", f"graphs/{graph_id}/nodes/remove_link", json=link)["graph"]
    assert next(n for n in removed["nodes"] if n["_id"] == count["_id"])["inputs"][0]["values"] == []
    missing = api.post(f"graphs/{graph_id}/nodes/remove_link", json=link)
    assert missing.status_code == 404
    left = api.ok("post", f"graphs/{graph_id}/nodes/remove_node", json={"node_id": placed_file["_id"]})["graph"]
    assert [n["_id"] for n in left["nodes"]] == [count["_id"]]


def test_links_are_type_checked_and_cycles_refused(api, library) -> None:
    op = api.ok("post", "nodes", json={"node": operation(
        "python", "Loop", "pass\n", inputs=[{"name": "a", **ONE}], outputs=["b"]), "actions": ["SAVE", "APPROVE"]})["node"]
    graph_id = _saved(api, "typed", [])["_id"]
    insert = lambda node_id: api.ok("post", f"graphs/{graph_id}/nodes/insert_node", json={"node_id": node_id})["node"]  # noqa: E731
    plain = insert(library["count"]["_id"])
    only_csv = insert(library["only_csv"]["_id"])
    make_csv = insert(library["make_csv"]["_id"])
    # a generic file output does not fit an input that takes csv only
    response = api.post(f"graphs/{graph_id}/nodes/create_link", json={
        "from": {"node_id": plain["_id"], "resource": "n"}, "to": {"node_id": only_csv["_id"], "resource": "table"}})
    assert response.status_code == 400
    assert "`file` but input `table` accepts csv" in response.json()["Message"]
    # csv fits csv, and a generic `file` input takes csv too
    api.ok("post", f"graphs/{graph_id}/nodes/create_link", json={
        "from": {"node_id": make_csv["_id"], "resource": "table"}, "to": {"node_id": only_csv["_id"], "resource": "table"}})
    api.ok("post", f"graphs/{graph_id}/nodes/create_link", json={
        "from": {"node_id": make_csv["_id"], "resource": "table"}, "to": {"node_id": plain["_id"], "resource": "rows"}})

    first, second = insert(op["_id"]), insert(op["_id"])
    api.ok("post", f"graphs/{graph_id}/nodes/create_link", json={
        "from": {"node_id": first["_id"], "resource": "b"}, "to": {"node_id": second["_id"], "resource": "a"}})
    cycle = api.post(f"graphs/{graph_id}/nodes/create_link", json={
        "from": {"node_id": second["_id"], "resource": "b"}, "to": {"node_id": first["_id"], "resource": "a"}})
    assert cycle.status_code == 400 and "cycle" in cycle.json()["Message"]
    # the refused link was not stored
    stored = api.ok("get", f"graphs/{graph_id}")["data"]
    assert next(n for n in stored["nodes"] if n["_id"] == first["_id"])["inputs"][0]["values"] == []

    # a graph posted with a wrongly typed link fails validation on that input
    bad = instance(library["only_csv"], table=[(plain, "n")])
    tree = api.ok("post", "graphs", json={"graph": graph("bad link", [plain, bad]), "actions": ["VALIDATE"]})
    node_errors = next(c for c in tree["validation_error"]["children"] if c["object_id"] == bad["_id"])
    assert {"target": "INPUT", "object_id": "table", "validation_code": "INVALID_VALUE", "children": []} in node_errors["children"]


def test_editing_endpoints_reject_bad_bodies(api, library) -> None:
    graph_id = _saved(api, "bad bodies", [])["_id"]
    for path, body in (("insert_node", {}), ("insert_node", {"node_id": 5}), ("insert_node", {"node_id": "x", "x": "1"}),
                       ("remove_node", {"node_id": ""}), ("create_link", {"from": "a", "to": {}}),
                       ("change_parameter", {"node_id": "n"}), ("insert_node", [1, 2])):
        response = api.post(f"graphs/{graph_id}/nodes/{path}", json=body)
        assert response.status_code == 400, (path, body, response.text)
    assert api.post(f"graphs/{graph_id}/nodes/insert_node", json={"node_id": "000000000000000000000000"}).status_code == 404
    assert api.post(f"graphs/{graph_id}/nodes/remove_node", json={"node_id": "nope"}).status_code == 404
    assert api.get("graphs/nope/nodes/list_nodes").status_code == 404
    draft = api.save_operation(operation("python", "Draft", "pass\n"), action="SAVE")
    response = api.post(f"graphs/{graph_id}/nodes/insert_node", json={"node_id": draft["_id"]})
    assert response.status_code == 400 and "CREATED" in response.json()["Message"]


def test_change_parameter_then_validation_judges_the_value(api) -> None:
    op = api.ok("post", "nodes", json={"node": operation("python", "P", "pass\n", params={"k": 1}),
                                       "actions": ["SAVE", "APPROVE"]})["node"]
    graph_id = _saved(api, "params", [])["_id"]
    node = api.ok("post", f"graphs/{graph_id}/nodes/insert_node", json={"node_id": op["_id"]})["node"]
    changed = api.ok("post", f"graphs/{graph_id}/nodes/change_parameter",
                     json={"node_id": node["_id"], "parameter_name": "k", "parameter_value": 7})["graph"]
    assert next(p for p in changed["nodes"][0]["parameters"] if p["name"] == "k")["value"] == 7
    assert api.post(f"graphs/{graph_id}/nodes/change_parameter", json={
        "node_id": node["_id"], "parameter_name": "nope", "parameter_value": 1}).status_code == 404
    api.ok("post", f"graphs/{graph_id}/nodes/change_parameter",
           json={"node_id": node["_id"], "parameter_name": "k", "parameter_value": "seven"})
    result = api.ok("post", f"graphs/{graph_id}/validate")
    assert result["status"] == "VALIDATION_FAILED"
    assert result["validation_error"]["children"][0]["children"][0] == {
        "target": "PARAMETER", "object_id": "k", "validation_code": "INVALID_VALUE", "children": []}


def test_rearrange_places_nodes_by_depth(api, library) -> None:
    a = instance(library["make_csv"])
    b = instance(library["count"], rows=[(a, "table")])
    c = instance(library["only_csv"], table=[(a, "table")])
    for node in (a, b, c):
        node["x"] = node["y"] = 999
    body = api.ok("post", "graphs", json={"graph": graph("layout", [c, b, a]), "actions": ["REARRANGE"]})
    placed = {n["_id"]: (n["x"], n["y"]) for n in body["graph"]["nodes"]}
    assert placed[a["_id"]][0] < placed[b["_id"]][0] == placed[c["_id"]][0]
    assert placed[b["_id"]][1] != placed[c["_id"]][1]
    # the action list alone does not store; the endpoint stores the stored graph rearranged
    graph_id = body["graph"]["_id"]
    assert api.get(f"graphs/{graph_id}").status_code == 404
    saved = _saved(api, "layout", [c, b, a])
    stored = api.ok("post", f"graphs/{saved['_id']}/rearrange")["graph"]
    assert {n["_id"]: (n["x"], n["y"]) for n in stored["nodes"]} == placed
    assert api.ok("get", f"graphs/{saved['_id']}")["data"]["nodes"][0]["x"] != 999


def test_rearrange_runs_left_to_right_and_sizes_columns_so_that_nodes_never_overlap(api) -> None:
    many = {"file_types": ["file"], "min_count": 0, "max_count": -1}
    first = api.save_operation(operation("python", "src", "pass\n", outputs=["out"]))
    long_title = api.save_operation(operation("python", "A very long title that is wider than the old column " * 2,
                                              "pass\n", inputs=[{"name": "x", **many}], outputs=["out"]))
    ports = api.save_operation(operation("python", "tall", "pass\n",
                                         inputs=[{"name": f"in{i}", **many} for i in range(8)], outputs=["out"]))
    src = instance(first)
    wide, tall = instance(long_title, x=[(src, "out")]), instance(ports, in0=[(src, "out")])
    sink = instance(ports, in0=[(wide, "out")], in1=[(tall, "out")])
    nodes = [sink, tall, wide, src]
    for node in nodes:
        node["x"] = node["y"] = 0
    saved = _saved(api, "wide layout", nodes)
    stored = api.ok("post", f"graphs/{saved['_id']}/rearrange")["graph"]["nodes"]
    boxes = {n["_id"]: (n["x"], n["y"], n["x"] + node_size(n)[0], n["y"] + node_size(n)[1]) for n in stored}
    ids = sorted(boxes)
    for i, one in enumerate(ids):  # no two nodes overlap, as the UI draws them
        for other in ids[i + 1:]:
            a, b = boxes[one], boxes[other]
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    for node in stored:  # every wire runs from a node's right to a node further right
        for node_input in node["inputs"]:
            for value in node_input["values"]:
                assert boxes[value["node_id"]][2] < boxes[node["_id"]][0]
    assert boxes[wide["_id"]][2] - boxes[wide["_id"]][0] > 300  # wider than the old fixed column


def test_clone_copies_without_results(api, library) -> None:
    a = instance(library["make_csv"])
    ran = api.ok("post", "graphs", json={"graph": graph("to clone", [a]), "actions": ["APPROVE"]})["graph"]
    original = api.wait(ran["_id"])
    assert original["nodes"][0]["outputs"][0]["resource_id"]
    cloned = api.ok("post", f"graphs/{ran['_id']}/clone")
    new_id = cloned["new_graph_id"]
    assert new_id != ran["_id"] and cloned["graph"]["_id"] == new_id
    copy = api.ok("get", f"graphs/{new_id}")["data"]
    assert copy["title"] == "to clone" and copy["graph_running_status"] == "CREATED"
    assert copy["nodes"][0]["node_running_status"] == "CREATED"
    assert copy["nodes"][0]["outputs"][0]["resource_id"] is None
    via_action = api.ok("post", "graphs", json={"graph": copy, "actions": ["CLONE"]})
    assert via_action["new_graph_id"] not in (new_id, ran["_id"])


def test_patch_update_changes_title_only(api, library) -> None:
    saved = _saved(api, "before", [instance(library["make_csv"])])
    response = api.session.patch(api.url(f"graphs/{saved['_id']}/update"), timeout=30,
                                 json={"title": "Custom title", "description": "Custom Description"})
    assert response.status_code == 200, response.text
    stored = api.ok("get", f"graphs/{saved['_id']}")["data"]
    assert (stored["title"], stored["description"]) == ("Custom title", "Custom Description")
    assert len(stored["nodes"]) == 1
    bad = api.session.patch(api.url(f"graphs/{saved['_id']}/update"), json={"nodes": []}, timeout=30)
    assert bad.status_code == 400 and "nodes" in bad.json()["Message"]
    stale = api.session.patch(api.url(f"graphs/{saved['_id']}/update"), timeout=30,
                              json={"title": "x", "_version": saved["_version"]})
    assert stale.status_code == 409


def test_saving_from_a_stale_version_is_409_never_an_overwrite(api, library) -> None:
    saved = _saved(api, "v1", [instance(library["make_csv"])])
    first = api.ok("post", "graphs", json={"graph": dict(saved, title="first edit"), "actions": ["SAVE"]})["graph"]
    assert first["_version"] == saved["_version"] + 1
    second = api.post("graphs", json={"graph": dict(saved, title="second edit"), "actions": ["SAVE"]})
    assert second.status_code == 409 and "reload" in second.json()["Message"]
    assert api.ok("get", f"graphs/{saved['_id']}")["data"]["title"] == "first edit"
    assert api.post("graphs", json={"graph": dict(saved, _version="1"), "actions": ["SAVE"]}).status_code == 400


def test_deprecation_and_upgrade_nodes(api) -> None:
    v1 = api.ok("post", "nodes", json={"node": operation("python", "Step", "pass\n", params={"k": 1}),
                                       "actions": ["SAVE", "APPROVE"]})["node"]
    v2 = api.ok("post", "nodes", json={"node": dict(v1, title="Step v2"), "actions": ["SAVE", "APPROVE"],
                                       "make_successor": False})["node"]
    assert v2["parent_node_id"] == v1["_id"] and v2["node_status"] == "READY"
    placed = instance(v1)
    next(p for p in placed["parameters"] if p["name"] == "k")["value"] = 5
    saved = _saved(api, "upgrade me", [placed])

    no_successor = api.ok("post", "nodes", json={"node": v1, "actions": ["MANDATORY_DEPRECATE"]})
    assert no_successor["status"] == "VALIDATION_FAILED"
    assert no_successor["validation_error"]["validation_code"] == "MISSING_PARAMETER"
    deprecated = api.ok("post", "nodes", json={"node": dict(v1, successor_node_id=v2["_id"]),
                                               "actions": ["DEPRECATE"]})["node"]
    assert deprecated["node_status"] == "DEPRECATED" and deprecated["successor_node_id"] == v2["_id"]
    # still usable while only deprecated
    assert api.ok("post", f"graphs/{saved['_id']}/validate")["status"] == "SUCCESS"
    api.ok("post", "nodes", json={"node": dict(v1, successor_node_id=v2["_id"]), "actions": ["MANDATORY_DEPRECATE"]})
    tree = api.ok("post", f"graphs/{saved['_id']}/validate")["validation_error"]
    assert tree["children"][0]["children"] == [
        {"target": "NODE", "object_id": placed["_id"], "validation_code": "DEPRECATED_NODE", "children": []}]

    upgraded = api.ok("post", f"graphs/{saved['_id']}/upgrade_nodes")
    assert upgraded["upgraded_nodes_count"] == 1
    node = upgraded["graph"]["nodes"][0]
    assert node["_id"] == placed["_id"] and node["parent_node_id"] == v2["_id"] and node["title"] == "Step v2"
    assert next(p for p in node["parameters"] if p["name"] == "k")["value"] == 5
    assert api.ok("post", f"graphs/{saved['_id']}/validate")["status"] == "SUCCESS"
    assert api.ok("post", f"graphs/{saved['_id']}/upgrade_nodes")["upgraded_nodes_count"] == 0


def _approve(api, node: dict, **body: object) -> dict:
    answer = api.ok("post", "nodes", json={"node": node, "actions": ["SAVE", "APPROVE"], **body})
    assert answer["status"] == "SUCCESS", answer
    return answer


def _stored(api, node: dict) -> dict:
    return api.ok("get", f"nodes/{node['_id']}")["data"]


def test_approving_a_new_version_makes_it_the_successor_along_the_chain(api) -> None:
    v1 = _approve(api, operation("python", "Chain", "pass\n", params={"k": 1}))["node"]
    placed = instance(v1)
    next(p for p in placed["parameters"] if p["name"] == "k")["value"] = 7
    first = _saved(api, "follows v1", [placed])
    answer = _approve(api, dict(v1, title="Chain v2"))
    v2 = answer["node"]
    assert v2["parent_node_id"] == v1["_id"] and answer["replaced_node_id"] == v1["_id"]
    assert "replace_skipped" not in answer and f"replaces Node(_id=`{v1['_id']}`)" in answer["message"]
    old = _stored(api, v1)
    assert old["node_status"] == "DEPRECATED" and old["successor_node_id"] == v2["_id"]

    upgraded = api.ok("post", f"graphs/{first['_id']}/upgrade_nodes")
    assert upgraded["upgraded_nodes_count"] == 1
    node = upgraded["graph"]["nodes"][0]
    assert node["parent_node_id"] == v2["_id"] and node["title"] == "Chain v2"
    assert next(p for p in node["parameters"] if p["name"] == "k")["value"] == 7

    # v1 -> v2 -> v3: a graph still on v1 goes straight to v3
    second = _saved(api, "still on v1", [instance(v1)])
    v3 = _approve(api, dict(v2, title="Chain v3"))["node"]
    assert _stored(api, v2)["successor_node_id"] == v3["_id"] and _stored(api, v2)["node_status"] == "DEPRECATED"
    moved = api.ok("post", f"graphs/{second['_id']}/upgrade_nodes")
    assert moved["upgraded_nodes_count"] == 1 and moved["graph"]["nodes"][0]["parent_node_id"] == v3["_id"]
    # approving v3 again changes nothing (it approves nothing new) and v3 stays the newest
    again = _approve(api, _stored(api, v3))
    assert "replaced_node_id" not in again and _stored(api, v3)["node_status"] == "READY"
    # search numbers the versions, for lists that fold the older ones under the newest
    found = api.ok("post", "search_nodes", json={"search": "Chain", "per_page": 100})["items"]
    numbered = {n["_id"]: (n["version_number"], n["first_version_id"]) for n in found}
    assert [numbered[v["_id"]] for v in (v1, v2, v3)] == [(1, v1["_id"]), (2, v1["_id"]), (3, v1["_id"])]
    # a version the listing shows posts back as it was read
    assert api.ok("post", "nodes", json={"node": found[0], "actions": ["VALIDATE"]})["status"] == "SUCCESS"


def test_make_successor_false_keeps_the_old_version(api) -> None:
    v1 = _approve(api, operation("python", "Kept", "pass\n"))["node"]
    on_v1 = _saved(api, "keeps v1", [instance(v1)])
    bad = api.post("nodes", json={"node": dict(v1, title="Kept v2"), "actions": ["APPROVE"], "make_successor": "no"})
    assert bad.status_code == 400 and "make_successor" in bad.json()["Message"]
    answer = _approve(api, dict(v1, title="Kept v2"), make_successor=False)
    assert answer["node"]["parent_node_id"] == v1["_id"] and "replaced_node_id" not in answer
    assert _stored(api, v1)["node_status"] == "READY"
    assert api.ok("post", f"graphs/{on_v1['_id']}/upgrade_nodes")["upgraded_nodes_count"] == 0


def test_a_draft_or_deprecated_parent_is_left_as_it_is(api) -> None:
    draft = api.save_operation(operation("python", "Draft parent", "pass\n"), action="SAVE")
    child = operation("python", "Child of a draft", "pass\n")
    answer = _approve(api, dict(child, parent_node_id=draft["_id"]))
    assert "replaced_node_id" not in answer and draft["_id"] in answer["replace_skipped"]
    assert _stored(api, draft)["node_status"] == "CREATED"
    missing = _approve(api, dict(child, parent_node_id="5" * 24))
    assert missing["replace_skipped"] == answer["replace_skipped"].replace(draft["_id"], "5" * 24)
    # a second new version of v1 does not take the successor from the first one
    v1 = _approve(api, operation("python", "Forked", "pass\n"))["node"]
    v2 = _approve(api, dict(v1, title="Forked a"))["node"]
    other = _approve(api, dict(_stored(api, v1), title="Forked b"))
    assert "replace_skipped" in other and _stored(api, v1)["successor_node_id"] == v2["_id"]


def test_node_clone_and_bad_deprecations(api) -> None:
    draft = api.save_operation(operation("python", "Draft op", "pass\n"), action="SAVE")
    refused = api.post("nodes", json={"node": draft, "actions": ["DEPRECATE"]})
    assert refused.status_code == 409 and "not approved" in refused.json()["Message"]
    cloned = api.ok("post", "nodes", json={"node": draft, "actions": ["CLONE"]})
    assert cloned["new_node_id"] != draft["_id"] and cloned["node"]["parent_node_id"] == draft["_id"]
    approved = api.ok("post", "nodes", json={"node": draft, "actions": ["APPROVE"]})["node"]
    to_draft = api.ok("post", "nodes", json={"node": dict(approved, successor_node_id=cloned["new_node_id"]),
                                             "actions": ["MANDATORY_DEPRECATE"]})
    assert to_draft["status"] == "VALIDATION_FAILED"
    assert to_draft["validation_error"]["object_id"] == "successor_node_id"


def test_unknown_fields_and_empty_titles_are_400(api) -> None:
    node = operation("python", "Typo", "pass\n")
    response = api.post("nodes", json={"node": dict(node, paramters=[]), "actions": ["SAVE"]})
    assert response.status_code == 400 and "unknown fields ['paramters']" in response.json()["Message"]
    response = api.post("nodes", json={"node": dict(node, title="  "), "actions": ["SAVE"]})
    assert response.status_code == 400 and "title` must not be empty" in response.json()["Message"]
    response = api.post("graphs", json={"graph": {"title": "t", "node": []}, "actions": ["SAVE"]})
    assert response.status_code == 400 and "unknown fields ['node']" in response.json()["Message"]
    response = api.post("graphs", json={"graph": {"title": ""}, "actions": ["SAVE"]})
    assert response.status_code == 400 and "graph.title" in response.json()["Message"]
    # what the API returns posts back as is, including the seed's fields it ignores
    stored = api.ok("post", "graphs", json={"graph": graph("round", [dict(node, kind="python", code_hash="")]),
                                            "actions": ["SAVE"]})["graph"]
    assert api.ok("post", "graphs", json={"graph": stored, "actions": ["SAVE"]})["status"] == "SUCCESS"


def test_preview_cmd_renders_with_placeholder_paths(api) -> None:
    bash = operation("bash_jinja2", "Copy", "cp {{ inputs.src }} {{ outputs.dst }} # {{ params.n }}\n",
                     inputs=[{"name": "src", **ONE}], outputs=["dst"], params={"n": 3})
    shown = api.ok("post", "nodes", json={"node": bash, "actions": ["PREVIEW_CMD"]})
    assert shown["status"] == "SUCCESS"
    assert shown["preview_text"].startswith("cp /tmp/plynx/") and "/i_0_0_src /tmp/plynx/" in shown["preview_text"]
    assert shown["preview_text"].rstrip().endswith("/o_0_dst # 3")
    python = operation("python", "Py", "print(params['n'])\n", outputs=["o"], params={"n": 2})
    text = api.ok("post", "nodes", json={"node": python, "actions": ["PREVIEW_CMD"]})["preview_text"]
    assert "params = param = " in text and text.rstrip().endswith("print(params['n'])")
    broken = operation("bash_jinja2", "Broken", "echo {{ params.missing }}\n")
    result = api.ok("post", "nodes", json={"node": broken, "actions": ["PREVIEW_CMD"]})
    assert result["status"] == "VALIDATION_FAILED" and "missing" in result["message"]
    assert result["validation_error"]["object_id"] == "_cmd"


def test_state_shows_running_and_recent_runs(api) -> None:
    slow = operation("bash_jinja2", "Slow", "sleep 2\n")
    graph_id = api.ok("post", "graphs", json={"graph": graph("watched", [slow]), "actions": ["APPROVE"]})["graph"]["_id"]
    state = api.ok("get", "state")
    assert graph_id in {run["graph_id"] for run in state["active_runs"]}
    assert state["active_count"] == len(state["active_runs"])
    api.wait(graph_id)
    after = api.ok("get", "master_state")
    assert graph_id not in {run["graph_id"] for run in after["active_runs"]}
    recent = next(run for run in after["recent_runs"] if run["graph_id"] == graph_id)
    assert recent["graph_running_status"] == "SUCCESS" and recent["title"] == "watched"
    assert api.ok("get", "health")["status"] == "SUCCESS"
