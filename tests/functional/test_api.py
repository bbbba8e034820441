"""The REST surface of the skeleton: fields of the seed, and clear 4xx errors for bad input."""
from __future__ import annotations

import base64

import jwt
import requests

from tests.helpers import graph, instance, operation

ONE = {"file_types": ["file"], "min_count": 1, "max_count": 1}


def test_token_with_default_user(api) -> None:
    body = api.ok("get", "token")
    assert body["status"] == "SUCCESS"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "default" and claims["type"] == "access"
    # the token works as the seed's `-u TOKEN:` and as a Bearer token
    as_basic = requests.get(api.url("graphs/new"), auth=(body["access_token"], ""), timeout=10)
    assert as_basic.status_code == 200
    as_bearer = requests.get(api.url("graphs/new"), timeout=10,
                             headers={"Authorization": f"Bearer {body['access_token']}"})
    assert as_bearer.status_code == 200


def test_bad_credentials_are_401(api) -> None:
    assert requests.get(api.url("token"), auth=("default", "wrong"), timeout=10).status_code == 401
    assert requests.get(api.url("token"), auth=("nobody", ""), timeout=10).status_code == 401
    garbage = requests.get(api.url("token"), headers={"Authorization": "Basic !!!"}, timeout=10)
    assert garbage.status_code == 401
    assert requests.get(api.url("token"), auth=("a.b.c", ""), timeout=10).status_code == 401


def test_graphs_new_is_an_unsaved_empty_graph(api) -> None:
    body = api.ok("get", "graphs/new")
    assert body["status"] == "SUCCESS"
    data = body["data"]
    assert data["nodes"] == [] and data["graph_running_status"] == "CREATED" and data["author"] == "default"
    assert "file" in body["resources_dict"]
    assert api.get(f"graphs/{data['_id']}").status_code == 404


def test_default_operations(api) -> None:
    for base in ("python", "bash_jinja2", "file"):
        node = api.ok("get", f"nodes/{base}")["data"]
        assert node["base_node_name"] == base and node["node_status"] == "CREATED"
    python = api.ok("get", "nodes/python")["data"]
    assert {p["name"] for p in python["parameters"]} >= {"_cmd", "_cacheable", "_timeout"}
    assert [log["name"] for log in python["logs"]] == ["stderr", "stdout", "worker"]
    assert api.ok("get", "nodes/file")["data"]["node_running_status"] == "STATIC"


def test_node_save_get_validate_approve(api) -> None:
    node = operation("python", "Saved op", "print(1)\n", outputs=["out"], params={"n": 3})
    saved = api.ok("post", "nodes", json={"node": node, "action": "SAVE"})
    assert saved["status"] == "SUCCESS" and saved["node"]["node_status"] == "CREATED"
    node_id = saved["node"]["_id"]
    fetched = api.ok("get", f"nodes/{node_id}")["data"]
    assert fetched["title"] == "Saved op" and fetched["author"] == "default" and fetched["_readonly"] is False
    assert fetched["insertion_date"].endswith("Z")

    bad = dict(fetched, parameters=fetched["parameters"] + [{"name": "k", "parameter_type": "int", "value": "x1"}])
    result = api.ok("post", "nodes", json={"node": bad, "action": "VALIDATE"})
    assert result["status"] == "VALIDATION_FAILED"
    assert result["validation_error"]["children"] == [
        {"target": "PARAMETER", "object_id": "k", "validation_code": "INVALID_VALUE", "children": []}
    ]

    approved = api.ok("post", "nodes", json={"node": fetched, "action": "APPROVE"})["node"]
    assert approved["node_status"] == "READY" and approved["_version"] == fetched["_version"] + 1
    # saving from the version read before the approval is refused, not applied
    stale = api.post("nodes", json={"node": dict(fetched, title="changed"), "action": "SAVE"})
    assert stale.status_code == 409 and "reload" in stale.json()["Message"]
    # approved operations are immutable: editing one saves a new version that points back to it
    edited = api.ok("post", "nodes", json={"node": dict(approved, title="changed"), "action": "SAVE"})["node"]
    assert edited["_id"] != node_id and edited["parent_node_id"] == node_id
    assert edited["node_status"] == "CREATED" and edited["title"] == "changed"
    assert api.ok("get", f"nodes/{node_id}")["data"]["title"] == "Saved op"
    history = api.ok("get", f"nodes/{edited['_id']}/versions")["items"]
    assert [n["_id"] for n in history] == [edited["_id"], node_id]
    # an approved operation saved unchanged stays as it is
    same = api.ok("post", "nodes", json={"node": approved, "action": "SAVE"})["node"]
    assert same["_id"] == node_id and same["_version"] == approved["_version"]


def test_empty_command_is_missing_parameter(api) -> None:
    node = operation("bash_jinja2", "Empty", "   ")
    result = api.ok("post", "nodes", json={"node": node, "action": "APPROVE"})
    assert result["status"] == "VALIDATION_FAILED"
    assert result["validation_error"]["children"][0]["validation_code"] == "MISSING_PARAMETER"


def test_graph_save_and_get_round_trip(api) -> None:
    op = api.save_operation(operation("python", "Op", "pass\n", inputs=[{"name": "x", **ONE}], outputs=["y"]))
    file_node = instance(api.upload(b"abc", "f"))
    placed = instance(op, x=[(file_node, "out")])
    body = api.ok("post", "graphs", json={"graph": graph("round trip", [file_node, placed]),
                                          "actions": ["SAVE"]})
    assert body["status"] == "SUCCESS" and body["url"].endswith(f"/graphs/{body['graph']['_id']}")
    data = api.ok("get", f"graphs/{body['graph']['_id']}")["data"]
    assert data["title"] == "round trip" and data["graph_running_status"] == "CREATED"
    stored = next(n for n in data["nodes"] if n["_id"] == placed["_id"])
    assert stored["inputs"][0]["values"][0]["node_id"] == placed["inputs"][0]["values"][0]["node_id"]
    assert stored["node_running_status"] == "CREATED" and stored["parent_node_id"] == op["_id"]
    # saving again with one node removed removes it
    data["nodes"] = [n for n in data["nodes"] if n["_id"] != placed["_id"]]
    api.ok("post", "graphs", json={"graph": data, "actions": ["SAVE"]})
    assert len(api.ok("get", f"graphs/{data['_id']}")["data"]["nodes"]) == 1


def test_upload_and_resource(api) -> None:
    body = api.ok("post", "upload_file", files={"data": ("a.csv", b"x,y\n1,2\n")},
                  data={"title": "report", "description": "2019", "file_type": "csv"})
    assert body["status"] == "SUCCESS"
    node = body["node"]
    assert node["base_node_name"] == "file" and node["node_status"] == "READY"
    assert node["outputs"][0]["file_type"] == "csv" and node["outputs"][0]["resource_id"] == body["resource_id"]
    assert api.resource(body["resource_id"]) == b"x,y\n1,2\n"
    preview = api.get(f"resources/{body['resource_id']}", params={"preview": "true"})
    assert preview.status_code == 200 and preview.text == "x,y\n1,2\n"
    assert preview.headers["Content-Type"].startswith("text/plain")


def test_search_paging_and_author(api) -> None:
    for i in range(3):
        api.save_operation(operation("python", f"searchable {i}", "pass\n"), action="SAVE")
    page = api.ok("post", "search_nodes", json={"per_page": 2, "offset": 0, "search": "author:default searchable"})
    assert page["total_count"] == 3 and len(page["items"]) == 2
    assert [i["title"] for i in page["items"]] == ["searchable 2", "searchable 1"]  # newest first
    rest = api.ok("post", "search_nodes", json={"per_page": 2, "offset": 2, "search": "searchable"})
    assert [i["title"] for i in rest["items"]] == ["searchable 0"]
    nobody = api.ok("post", "search_nodes", json={"search": "author:nobody"})
    assert nobody["total_count"] == 0 and nobody["items"] == []
    files = api.ok("post", "search_nodes", json={"base_node_names": ["file"], "per_page": 100})
    assert files["items"] and all(i["base_node_name"] == "file" for i in files["items"])

    api.ok("post", "graphs", json={"graph": graph("findme graph", []), "actions": ["SAVE"]})
    graphs = api.ok("post", "search_graphs", json={"per_page": 1, "search": "author:default findme"})
    assert graphs["total_count"] == 1 and graphs["items"][0]["title"] == "findme graph"
    created = api.ok("post", "search_graphs", json={"status": ["SUCCESS"], "search": "findme"})
    assert created["total_count"] == 0


# --- bad input: clear 4xx, never a 500 -------------------------------------------------------------


def test_malformed_json_is_400(api) -> None:
    for path in ("graphs", "nodes", "search_nodes", "search_graphs"):
        response = api.post(path, data="{not json", headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (path, response.text)
        assert "JSON" in response.json()["Message"]


def test_wrong_shapes_are_400(api) -> None:
    cases = [
        ("graphs", {"graph": {"nodes": "no"}, "actions": ["SAVE"]}, "graph.nodes"),
        ("graphs", {"graph": {"nodes": [{"base_node_name": "nope"}]}, "actions": ["SAVE"]}, "base_node_name"),
        ("graphs", {"graph": {"nodes": [{"base_node_name": "python", "inputs": [{"name": "a", "min_count": "x"}]}]},
                    "actions": ["SAVE"]}, "min_count"),
        ("graphs", {"actions": ["SAVE"]}, "graph"),
        ("graphs", [1, 2], "object"),
        ("nodes", {"node": {"base_node_name": "python", "parameters": [{"name": "p", "parameter_type": "weird"}]},
                   "action": "SAVE"}, "parameter_type"),
        ("search_nodes", {"per_page": "many"}, "per_page"),
        ("search_graphs", {"status": ["NOT_A_STATUS"]}, "status"),
    ]
    for path, body, word in cases:
        response = api.post(path, json=body)
        assert response.status_code == 400, (path, body, response.text)
        assert word in response.json()["Message"], response.text


def test_unknown_action_is_400(api) -> None:
    response = api.post("graphs", json={"graph": graph("x", []), "actions": ["DANCE"]})
    assert response.status_code == 400 and "DANCE" in response.json()["Message"]
    response = api.post("nodes", json={"node": operation("python", "x", "pass"), "action": "FLY"})
    assert response.status_code == 400 and "FLY" in response.json()["Message"]


def test_unknown_ids_are_404(api) -> None:
    assert api.get("graphs/5d1b8469705c1865e288a664").status_code == 404
    assert api.get("nodes/5d1b8469705c1865e288a664").status_code == 404
    assert api.post("graphs/5d1b8469705c1865e288a664/approve").status_code == 404
    assert api.get("resources/" + "0" * 64).status_code == 404
    assert api.get("resources/not-an-id").status_code == 404


def test_cycle_fails_validation(api) -> None:
    op = api.save_operation(operation("python", "Loop", "pass\n", inputs=[{"name": "x", **ONE}], outputs=["y"]))
    a, b = instance(op), instance(op)
    a["inputs"][0]["values"] = [{"node_id": b["_id"], "output_id": "y"}]
    b["inputs"][0]["values"] = [{"node_id": a["_id"], "output_id": "y"}]
    body = api.ok("post", "graphs", json={"graph": graph("cycle", [a, b]), "actions": ["APPROVE"]})
    assert body["status"] == "VALIDATION_FAILED"
    error = body["validation_error"]
    assert error["target"] == "GRAPH" and error["validation_code"] == "IN_DEPENDENTS"
    assert {c["object_id"] for c in error["children"]} == {a["_id"], b["_id"]}
    assert all(c["children"][0]["validation_code"] == "IN_DEPENDENTS" for c in error["children"])
    # saved, but not run
    assert api.ok("get", f"graphs/{body['graph']['_id']}")["data"]["graph_running_status"] == "CREATED"


def test_missing_required_input(api) -> None:
    op = api.save_operation(operation("python", "Needs", "pass\n", inputs=[{"name": "data", **ONE}]))
    body = api.ok("post", "graphs", json={"graph": graph("missing", [instance(op)]), "actions": ["VALIDATE"]})
    assert body["status"] == "VALIDATION_FAILED"
    node_error = body["validation_error"]["children"][0]
    assert node_error["children"] == [
        {"target": "INPUT", "object_id": "data", "validation_code": "MISSING_INPUT", "children": []}
    ]
    approve = api.ok("post", "graphs", json={"graph": graph("missing", [instance(op)]), "actions": ["APPROVE"]})
    assert approve["status"] == "VALIDATION_FAILED"


def test_empty_graph_cannot_run(api) -> None:
    body = api.ok("post", "graphs", json={"graph": graph("empty", []), "actions": ["APPROVE"]})
    assert body["status"] == "VALIDATION_FAILED"
    assert body["validation_error"]["validation_code"] == "EMPTY_GRAPH"


def test_bad_upload_is_400(api) -> None:
    no_data = api.post("upload_file", files={"other": ("a", b"x")}, data={"title": "t"})
    assert no_data.status_code == 400 and "data" in no_data.json()["Message"]
    bad_type = api.post("upload_file", files={"data": ("a", b"x")}, data={"file_type": "spreadsheet"})
    assert bad_type.status_code == 400 and "file_type" in bad_type.json()["Message"]
    not_multipart = api.post("upload_file", data=b"raw", headers={"Content-Type": "multipart/form-data"})
    assert not_multipart.status_code == 400


def test_curl_style_form_encoded_json_is_accepted(api) -> None:
    # `curl -d '{...}'` without a Content-Type header sends application/x-www-form-urlencoded
    response = api.post("search_graphs", data='{"per_page":1, "search":"author:default"}',
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and response.json()["status"] == "SUCCESS"


def test_basic_header_built_by_hand(api) -> None:
    header = "Basic " + base64.b64encode(b"default:").decode()
    response = requests.get(api.url("graphs/new"), headers={"Authorization": header}, timeout=10)
    assert response.status_code == 200


def test_oversized_or_odd_ids_are_400(api) -> None:
    huge = operation("python", "Huge", "x = 1\n" * 60_000)
    response = api.post("nodes", json={"node": huge, "action": "SAVE"})
    assert response.status_code == 400 and "at most" in response.json()["Message"]
    long_id = dict(operation("python", "Long", "pass"), _id="x" * 65)
    response = api.post("graphs", json={"graph": graph("long", [long_id]), "actions": ["SAVE"]})
    assert response.status_code == 400 and "_id" in response.json()["Message"]
    for odd in ("has space", "slash/y", "ünï", ""):
        body = {"graph": dict(graph("odd", []), _id=odd or 5), "actions": ["APPROVE"]}
        response = api.post("graphs", json=body)
        assert response.status_code == 400 and "graph._id" in response.json()["Message"], (odd, response.text)


def test_a_1000_node_graph_saves_and_loads(api) -> None:
    source = instance(api.upload(b"1\n", "source"))
    op = api.save_operation(operation("python", "Step", "pass\n" + "# padding\n" * 30,
                                      inputs=[{"name": "x", **ONE}], outputs=["y"]))
    nodes = [source]
    for _ in range(999):
        nodes.append(instance(op, x=[(nodes[-1], "out" if len(nodes) == 1 else "y")]))
    body = api.ok("post", "graphs", json={"graph": graph("big", nodes), "actions": ["SAVE", "VALIDATE"]})
    assert body["status"] == "SUCCESS", body.get("validation_error")
    data = api.ok("get", f"graphs/{body['graph']['_id']}")["data"]
    assert len(data["nodes"]) == 1000
    assert {n["_id"] for n in data["nodes"]} == {n["_id"] for n in nodes}


def test_a_resource_goes_to_clients_that_send_no_accept_header(api) -> None:
    """urllib sends no Accept; HTTP reads that as any media type, so it gets the bytes as curl does."""
    import subprocess
    import urllib.request

    content = bytes(range(256)) * 4 + b"\x00end"
    resource_id = api.ok("post", "upload_file", files={"data": ("b.bin", content)}, data={"title": "b"})["resource_id"]
    request = urllib.request.Request(api.url(f"resources/{resource_id}"),
                                     headers={"Authorization": "Basic " + base64.b64encode(b"default:").decode()})
    assert "Accept" not in request.headers
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the local stack
        assert answer.status == 200 and answer.headers["Content-Type"] == "application/octet-stream"
        assert answer.read() == content
    bare = requests.get(api.url(f"resources/{resource_id}"), auth=("default", ""), timeout=30,
                        headers={"Accept": None})  # requests drops a header set to None
    assert bare.status_code == 200 and bare.content == content
    curl = subprocess.run(["curl", "-sS", "-u", "default:", api.url(f"resources/{resource_id}")],
                          capture_output=True, timeout=30, check=True)  # the seed's example, as typed
    assert curl.stdout == content
    # an Accept that names only other types is still refused with the reason (HTTP 400 from Chalice)
    refused = api.get(f"resources/{resource_id}", headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "Accept header" in refused.json()["Message"]
    # and an answer that is JSON is unchanged for a client without Accept
    with urllib.request.urlopen(urllib.request.Request(api.url("user"), headers=request.headers),  # noqa: S310
                                timeout=30) as answer:
        assert answer.headers["Content-Type"].startswith("application/json")


def test_large_resource_redirects_to_a_presigned_url(api) -> None:
    content = bytes(range(256)) * (22 * 1024)  # 5.5 MiB: over what a Lambda response may carry
    body = api.ok("post", "upload_file", files={"data": ("big.bin", content)}, data={"title": "big"})
    response = api.get(f"resources/{body['resource_id']}", allow_redirects=False)
    assert response.status_code == 302 and "X-Amz-Signature" in response.headers["Location"]
    followed = requests.get(response.headers["Location"], timeout=30)
    assert followed.status_code == 200 and followed.content == content
    preview = api.get(f"resources/{body['resource_id']}", params={"preview": "true"})
    assert preview.status_code == 200 and preview.headers["X-Resource-Size"] == str(len(content))
    assert len(preview.text) <= 64 * 1024


def test_a_graph_over_step_functions_quotas_ends_failed_with_why(api, monkeypatch) -> None:
    # Big graphs run split across child executions; what even splitting cannot fit is refused by the
    # run's preparation (the compile runs after APPROVE answered: chalicelib/engine/preparation.py), and
    # the run ends FAILED saying so. A lowered per-execution budget stands in for the quotas (a
    # 20-operation chain over it), so the test needs no 4,000-node graph (tests/unit/test_compiler.py
    # covers the real limits).
    import stepfunctions
    from chalicelib.engine import preparation

    monkeypatch.setattr(preparation, "LIMITS", stepfunctions.Limits(history_events=50))
    op = operation("python", "Tiny", "pass\n", outputs=["out"])
    link = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
    nodes = [dict(op, _id="n00")] + [
        dict(op, _id=f"n{i:02d}", inputs=[dict(link, values=[{"node_id": f"n{i - 1:02d}", "output_id": "out"}])])
        for i in range(1, 20)]
    body = api.ok("post", "graphs", json={"graph": graph("too big", nodes), "actions": ["APPROVE"]})
    graph_id = body["graph"]["_id"]
    data = api.wait(graph_id)
    assert data["graph_running_status"] == "FAILED", data
    error = api.ok("get", f"runs/{body['run_id']}")["data"]["error"]
    assert "GraphCannotRun" in error and "limit" in error, error
    assert {node["node_running_status"] for node in data["nodes"]} == {"CANCELED"}  # nothing ran
    # the graph is saved and can still be edited
    assert api.ok("post", "graphs", json={"graph": data, "actions": ["SAVE"]})["graph"]["graph_running_status"] == "CREATED"


def test_single_user_mode_recreates_default_on_a_fresh_deployment(api) -> None:
    from chalicelib.store.models import UserModel

    UserModel.get("default").delete()
    assert api.ok("get", "token")["status"] == "SUCCESS"
    assert UserModel.get("default").password_hash == ""


def test_concurrent_requests_each_see_their_own_body(api) -> None:
    """The local server is threaded; chalice keeps the current request on the app (one per Lambda container)."""
    import concurrent.futures

    import requests

    def validate(i: int) -> str:
        with requests.Session() as session:
            session.auth = ("default", "")
            body = {"graph": {"title": f"concurrent {i}", "nodes": []}, "actions": ["VALIDATE"]}
            response = session.post(api.url("graphs"), json=body, timeout=30)
            return response.json()["graph"]["title"] if response.status_code == 200 else response.text

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        titles = list(pool.map(validate, range(160)))
    assert titles == [f"concurrent {i}" for i in range(160)]
