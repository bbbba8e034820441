"""Runs started from outside, through the REST API: a webhook trigger's secret URL (no credentials) starts a run
with its parameters; rotated and revoked tokens are 404s; a new version of a watched file starts a run on it."""
from __future__ import annotations

import json

import requests

from tests.helpers import by_title, graph, instance, operation, output_id

ECHO = "open(outputs['out'], 'w').write(params['word'])\n"
ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
UPPER = "open(outputs['out'], 'w').write(open(inputs['in']).read().upper())\n"


def _saved(api, title: str, nodes: list[dict]) -> dict:
    body = api.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE"]})
    assert body["status"] == "SUCCESS", body
    return body["graph"]


def _echo_graph(api, title: str) -> dict:
    body = operation("python", "echo", ECHO, outputs=["out"], params={"word": "stored"})
    for parameter in body["parameters"]:
        parameter["publicable"] = parameter["name"] == "word"
    return _saved(api, title, [instance(api.save_operation(body))])


def _fire(url: str, json_body: dict | None = None) -> requests.Response:
    # no session, no Authorization: what a CI job sends
    return requests.post(url, json=json_body, timeout=30)


def test_a_webhook_trigger_starts_a_run_with_its_parameters_and_a_revoked_token_is_a_404(api) -> None:
    stored = _echo_graph(api, "triggered by webhook")
    graph_id, node_id = stored["_id"], stored["nodes"][0]["_id"]
    made = api.ok("post", f"graphs/{graph_id}/triggers/webhook")["data"]
    token, url = made["token"], api.url(f"triggers/{made['token']}")
    assert made["url"].endswith(f"/plynx/api/v0/triggers/{token}") and len(token) >= 40
    shown = api.ok("get", f"graphs/{graph_id}/triggers")["data"]["webhook"]
    assert "token" not in shown and "url" not in shown and shown["created_by"] == "default"  # shown once only
    assert api.post(f"graphs/{graph_id}/triggers/webhook").status_code == 409  # one per graph: rotate it

    bad = _fire(url, {"parameters": {f"{node_id}.nope": "x"}})  # validated as run parameters are
    assert bad.status_code == 400 and "Run parameters refused" in bad.json()["Message"], bad.text
    started = _fire(url, {"parameters": {f"{node_id}.word": "from-ci"}})
    assert started.status_code == 200, started.text
    run_id = started.json()["run_id"]
    api.wait(graph_id)
    run = api.ok("get", f"runs/{run_id}")["data"]
    assert run["how"] == "WEBHOOK" and run["started_by"] == "default" and run["run_status"] == "SUCCESS"
    assert run["parameters"] == {f"{node_id}.word": "from-ci"}
    out = by_title(api.ok("get", f"runs/{run_id}")["data"]["graph"], "echo")
    assert api.resource(output_id(out, "out")) == b"from-ci"
    assert api.ok("get", f"graphs/{graph_id}/triggers")["data"]["webhook"]["last"]["run_id"] == run_id

    rotated = api.ok("post", f"graphs/{graph_id}/triggers/webhook/rotate")["data"]
    assert rotated["token"] != token
    assert _fire(url).status_code == 404  # the old token
    assert _fire(api.url("triggers/not-a-token-anyone-made")).status_code == 404
    api.session.delete(api.url(f"graphs/{graph_id}/triggers/webhook"), timeout=30).raise_for_status()
    revoked = _fire(api.url(f"triggers/{rotated['token']}"))
    unknown = _fire(api.url("triggers/" + "x" * 43))
    assert revoked.status_code == unknown.status_code == 404
    assert revoked.json() == unknown.json()  # the same answer: no telling revoked from never made
    assert api.ok("get", f"graphs/{graph_id}/triggers")["data"]["webhook"] is None
    _forget()


def _forget() -> None:
    """This address's failures so far (the session's other tests fire from here too)."""
    from chalicelib.store import throttle

    for key in ("trigger#addr#127.0.0.1", "trigger#addr#::1/64"):
        throttle.forget(key)


def test_unknown_trigger_urls_are_throttled_per_address(api) -> None:
    from chalicelib.store import throttle

    _forget()
    url = api.url("triggers/guess-")
    answers = [_fire(url + str(i)).status_code for i in range(throttle.LIMIT + 1)]
    assert answers[:throttle.LIMIT] == [404] * throttle.LIMIT and answers[-1] == 429, answers
    assert int(_fire(url + "again").headers["Retry-After"]) > 0
    _forget()


def test_a_new_version_of_a_watched_file_starts_a_run_on_it(api) -> None:
    first = api.upload(b"first", "watched")
    upper = api.save_operation(operation("python", "upper", UPPER, inputs=[ONE], outputs=["out"]))
    file_instance = instance(first)
    stored = _saved(api, "triggered by file", [file_instance, instance(upper, **{"in": [(file_instance, "out")]})])
    graph_id = stored["_id"]
    trigger = api.ok("post", f"graphs/{graph_id}/triggers/files", json={"file_id": first["_id"]})["data"]
    assert trigger["file_id"] == first["_id"]
    assert api.post(f"graphs/{graph_id}/triggers/files", json={"file_id": upper["_id"]}).status_code == 400

    body = api.ok("post", "upload_file", files={"data": ("watched.txt", b"second version")},
                  data={"title": "watched", "file_type": "file", "replaces": first["_id"]})
    assert body["replaced_node_id"] == first["_id"], body
    [fired] = body["triggered"]
    assert fired["graph_id"] == graph_id and fired["run_id"], fired
    api.wait(graph_id)
    run = api.ok("get", f"runs/{fired['run_id']}")["data"]
    assert run["how"] == "FILE" and run["run_status"] == "SUCCESS"
    assert api.resource(output_id(by_title(run["graph"], "upper"), "out")) == b"SECOND VERSION"
    # the trigger follows the file: it now watches the new version, and the saved graph uses it
    files = api.ok("get", f"graphs/{graph_id}/triggers")["data"]["files"]
    assert [f["file_id"] for f in files] == [body["node"]["_id"]]
    saved = api.ok("get", f"graphs/{graph_id}")["data"]
    assert by_title(saved, "watched")["parent_node_id"] == body["node"]["_id"]

    # an upload that is no new version of a watched file fires nothing
    assert "triggered" not in api.ok("post", "upload_file", files={"data": ("other.txt", b"x")},
                                     data={"title": "other", "file_type": "file"})
    api.session.delete(api.url(f"graphs/{graph_id}/triggers/files/{body['node']['_id']}"), timeout=30).raise_for_status()
    assert api.ok("get", f"graphs/{graph_id}/triggers")["data"]["files"] == []


def test_the_plynx_command_makes_fires_and_revokes_a_trigger_and_sets_notifications(api, capsys) -> None:
    from plynx.cli import main

    stored = _echo_graph(api, "triggered from the command line")
    graph_id, node_id = stored["_id"], stored["nodes"][0]["_id"]
    base = ["--api", api.base, "-u", "default:"]
    assert main([*base[:2], "trigger", "create", graph_id, *base[2:]]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith(api.base + "/triggers/")
    assert main(["trigger", "fire", url, "-p", f"{node_id}.word=cli"]) == 0  # no credentials given
    run_id = capsys.readouterr().out.strip()
    api.wait(graph_id)
    assert api.ok("get", f"runs/{run_id}")["data"]["parameters"] == {f"{node_id}.word": "cli"}
    assert main(["trigger", "show", graph_id, *base]) == 0
    assert json.loads(capsys.readouterr().out)["webhook"]["last"]["run_id"] == run_id
    assert main(["trigger", "revoke", graph_id, *base]) == 0
    assert main(["trigger", "fire", url]) == 5  # NOT_FOUND
    assert main(["notify", "set", graph_id, "--on", "failure", "--email", "ci@example.com", *base]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["on"] == "failure" and shown["email"] == "ci@example.com" and shown["secret"].startswith("whsec_")
    assert main(["notify", "off", graph_id, *base]) == 0
    assert api.ok("get", f"graphs/{graph_id}/notifications")["data"]["on"] == "never"
    _forget()


def test_deleting_a_graph_deletes_its_triggers_and_everyones_settings(api) -> None:
    from chalicelib.store.models import AutomationModel

    stored = _echo_graph(api, "deleted with its triggers")
    graph_id = stored["_id"]
    watched = api.upload(b"watched", "watched by a deleted graph")
    token = api.ok("post", f"graphs/{graph_id}/triggers/webhook")["data"]["token"]
    api.ok("post", f"graphs/{graph_id}/triggers/files", json={"file_id": watched["_id"]})
    api.session.put(api.url(f"graphs/{graph_id}/notifications"), json={"on": "both"}, timeout=30).raise_for_status()
    keys = (f"graph#{graph_id}", f"notify#{graph_id}", f"file#{watched['_id']}")
    assert all(list(AutomationModel.query(key)) for key in keys)

    api.ok("post", f"graphs/{graph_id}/delete")
    assert _fire(api.url(f"triggers/{token}")).status_code == 404
    assert not any(list(AutomationModel.query(key, consistent_read=True)) for key in keys)
    # a new version of the file it watched fires nothing
    body = api.ok("post", "upload_file", files={"data": ("w.txt", b"v2")},
                  data={"title": "watched", "file_type": "file", "replaces": watched["_id"]})
    assert body["replaced_node_id"] == watched["_id"] and "triggered" not in body
    _forget()
