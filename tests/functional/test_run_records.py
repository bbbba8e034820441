"""Runs you can look back on, through the REST API: every run keeps its record, its statuses, outputs and logs."""
from __future__ import annotations

import time

from tests.helpers import by_title, graph, instance, log_id, operation, output_id

SAY = "open(outputs['out'], 'w').write(params['word'])\nprint('said', params['word'])\n"


def _save(api, graph_body: dict) -> dict:
    body = api.ok("post", "graphs", json={"graph": graph_body, "actions": ["SAVE"]})
    assert body["status"] == "SUCCESS", body
    return body["graph"]


def _approve(api, graph_id: str) -> str:
    body = api.ok("post", f"graphs/{graph_id}/approve")
    assert body["status"] == "SUCCESS", body
    return body["run_id"]


def _set_word(api, graph_id: str, node_id: str, word: str) -> None:
    api.ok("post", f"graphs/{graph_id}/nodes/change_parameter",
           json={"node_id": node_id, "parameter_name": "word", "parameter_value": word})


def test_two_runs_of_one_graph_stay_readable_with_their_own_results(api) -> None:
    say = api.save_operation(operation("python", "say", SAY, outputs=["out"], params={"word": "first"}))
    stored = _save(api, graph("two runs", [instance(say)]))
    graph_id, node_id = stored["_id"], stored["nodes"][0]["_id"]
    first = _approve(api, graph_id)
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    _set_word(api, graph_id, node_id, "second")  # a new version: run 2 runs it
    saved = api.ok("get", f"graphs/{graph_id}")["data"]
    assert saved["latest_run_id"] == first and saved["run_id"] is None  # a save keeps the run, shows the version
    second = _approve(api, graph_id)
    assert second != first
    current = api.wait(graph_id)
    assert current["graph_running_status"] == "SUCCESS" and current["latest_run_id"] == current["run_id"] == second

    runs = {}
    for run_id, word in ((first, "first"), (second, "second")):
        data = api.ok("get", f"runs/{run_id}")["data"]
        assert data["_id"] == run_id and data["graph_id"] == graph_id and data["run_status"] == "SUCCESS"
        assert data["how"] == "APPROVE" and data["started_by"] == "default" and data["parameters"] == {}
        assert data["start"] <= data["end"]
        node = by_title(data["graph"], "say")
        assert node["node_running_status"] == "SUCCESS" and node["attempts"] == 1
        assert data["start"] <= node["started"] <= node["ended"] <= data["end"]
        assert api.resource(output_id(node, "out")) == word.encode()
        assert api.resource(log_id(node, "stdout")) == f"said {word}\n".encode()
        assert data["graph"]["_readonly"] and node["_readonly"]
        runs[run_id] = data
    assert runs[second]["graph_version"] == runs[first]["graph_version"] + 1
    assert runs[second]["latest"] and not runs[first]["latest"]

    # CREATE_RUN: a run of the stored graph (nothing changed: restored from the cache)
    created = api.ok("post", "graphs", json={"graph": {"_id": graph_id}, "actions": ["CREATE_RUN"]})
    assert created["status"] == "SUCCESS", created
    third = created["run_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    data = api.ok("get", f"runs/{third}")["data"]
    assert data["how"] == "CREATE_RUN" and by_title(data["graph"], "say")["node_running_status"] == "RESTORED"
    assert by_title(data["graph"], "say")["attempts"] == 0

    # newest first, paged like the searches, total_count
    page = api.ok("get", f"graphs/{graph_id}/runs", params={"per_page": 2})
    assert page["total_count"] == 3 and [r["_id"] for r in page["items"]] == [third, second]
    rest = api.ok("get", f"graphs/{graph_id}/runs", params={"per_page": 2, "offset": 2})
    assert rest["total_count"] == 3 and [r["_id"] for r in rest["items"]] == [first]
    assert "graph" not in rest["items"][0] and rest["items"][0]["run_status"] == "SUCCESS"
    assert api.get(f"graphs/{graph_id}/runs", params={"per_page": "x"}).status_code == 400
    for absent in ("no-such-run", "x" * 3000, "runs~" + graph_id):
        assert api.get(f"runs/{absent}").status_code == 404
    assert api.post(f"runs/{first}/cancel").status_code == 409  # ended long ago


def test_retention_lets_old_runs_go_and_keeps_the_current_one(api) -> None:
    from chalicelib.store import run_records
    from chalicelib.store.graph_items import node_items, run_items

    say = api.save_operation(operation("python", "say", SAY, outputs=["out"], params={"word": "kept"}))
    graph_id = _save(api, graph("retention", [instance(say)]))["_id"]
    run_ids = []
    for _ in range(3):
        run_ids.append(_approve(api, graph_id))
        assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    gone = run_records.expired(graph_id, keep={run_ids[-1]}, newest=1)
    assert [record.run_id for record in gone] == run_ids[1::-1]
    assert run_records.delete(gone) == 2
    assert api.get(f"runs/{run_ids[0]}").status_code == 404
    assert not list(node_items(run_items(graph_id, run_ids[0])))  # its nodes went with it
    assert api.ok("get", f"graphs/{graph_id}/runs")["total_count"] == 1
    assert not run_records.expired(graph_id, keep={run_ids[-1]}, newest=1, days=0.00001)  # never the current one
    # a run queued before records existed has none: the next run drops its nodes, as runs did before
    legacy = run_records.find(run_ids[-1])
    legacy.delete()
    assert list(node_items(run_items(graph_id, legacy.run_id)))
    _approve(api, graph_id)
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    # retention follows the run's start (or its end, restored whole) in its preparation: a moment after
    deadline = time.monotonic() + 10
    while list(node_items(run_items(graph_id, legacy.run_id))):
        assert time.monotonic() < deadline, "the replaced run's nodes were never dropped"
        time.sleep(0.05)


def test_cancel_a_run_by_its_id(api) -> None:
    sleepy = api.save_operation(operation("python", "sleepy", "import time\ntime.sleep(60)\n"))
    graph_id = _save(api, graph("cancel by run", [instance(sleepy)]))["_id"]
    run_id = _approve(api, graph_id)
    deadline = time.monotonic() + 30
    while by_title(api.ok("get", f"runs/{run_id}")["data"]["graph"], "sleepy")["node_running_status"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    body = api.ok("post", f"runs/{run_id}/cancel")
    assert body["data"]["run_status"] == "CANCELED"
    assert by_title(body["data"]["graph"], "sleepy")["node_running_status"] == "CANCELED"
    listed = api.ok("get", f"graphs/{graph_id}/runs")["items"][0]
    assert listed["_id"] == run_id and listed["run_status"] == "CANCELED" and listed["end"]
    assert api.post(f"runs/{run_id}/cancel").status_code == 409


def test_retry_restores_what_succeeded_and_runs_the_failure_again(api, stack, shared_tmp) -> None:
    """A (not cacheable, so only a retry can skip it) feeds B, which fails until a flag file exists."""
    flag = shared_tmp / "fixed"
    make = operation("python", "make", "open(outputs['out'], 'w').write('made')\n", outputs=["out"])
    make["parameters"].append({"name": "_cacheable", "parameter_type": "bool", "value": False})
    use = operation("python", "use", f"import os\nassert os.path.exists({str(flag)!r}), 'not fixed yet'\n"
                    "open(outputs['out'], 'w').write(open(inputs['in']).read() + ' and used')\n",
                    inputs=[{"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}], outputs=["out"])
    first = instance(api.save_operation(make))
    second = instance(api.save_operation(use), **{"in": [(first, "out")]})
    graph_id = _save(api, graph("retry", [first, second]))["_id"]
    failed = _approve(api, graph_id)
    assert api.wait(graph_id)["graph_running_status"] == "FAILED"
    made = output_id(by_title(api.ok("get", f"runs/{failed}")["data"]["graph"], "make"), "out")
    again = api.ok("post", f"runs/{failed}/retry")["data"]["_id"]  # not fixed yet: it fails again, as a run of its own
    assert api.wait(graph_id)["graph_running_status"] == "FAILED"
    assert api.ok("get", f"runs/{again}")["data"]["run_status"] == "FAILED"

    flag.write_text("yes")
    runs_before = stack.lambda_front.invocations["run"]
    body = api.ok("post", f"runs/{failed}/retry")["data"]
    retried = body["_id"]
    assert body["how"] == "RETRY" and body["retry_of"] == failed and retried != failed
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    assert stack.lambda_front.invocations["run"] == runs_before + 1  # only `use` ran: `make` was restored
    data = api.ok("get", f"runs/{retried}")["data"]
    assert data["run_status"] == "SUCCESS"
    assert data["graph_version"] == api.ok("get", f"runs/{failed}")["data"]["graph_version"]
    assert by_title(data["graph"], "make")["node_running_status"] == "RESTORED"
    assert output_id(by_title(data["graph"], "make"), "out") == made
    assert by_title(data["graph"], "make")["restored_from"] == {"run_id": failed, "graph_id": graph_id, "date": "",
                                                                "kind": "retry"}  # kept from it, not the cache
    assert api.resource(output_id(by_title(data["graph"], "use"), "out")) == b"made and used"
    assert api.ok("get", f"runs/{failed}")["data"]["run_status"] == "FAILED"  # the old run stays as it was
    assert api.post(f"runs/{retried}/retry").status_code == 409  # it succeeded: nothing to retry
