"""Archive, restore and delete graphs, operations and files, and the garbage collection, through the REST API
(the session's single-user stack: `default` is an admin). A second user's rights: tests/functional/test_users.py."""
from __future__ import annotations

import json
import secrets
import time

from tests.helpers import by_title, graph, instance, operation, output_id

ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
COPY = "open(outputs['out'], 'w').write(open(inputs['in']).read() + params['tag'])\nprint('copied', params['tag'])\n"


def _word() -> str:
    return "w" + secrets.token_hex(5)


def _found(api, path: str, word: str, **body: object) -> list[str]:
    answer = api.ok("post", path, json={"search": word, **body})
    return [item["_id"] for item in answer["items"]]


def _hub_ids(api, word: str) -> list[str]:
    answer = api.ok("post", "search_in_hubs", json={"hub": "db-hub", "search": word})
    return [item["_id"] for item in answer["items"]]


def _setup(api, word: str) -> tuple[dict, dict, dict]:
    data = api.upload(f"hello {word}".encode(), f"file {word}")  # new content: nothing comes from the cache
    op = api.save_operation(operation("python", f"copy {word}", COPY, inputs=[ONE], outputs=["out"],
                                      params={"tag": "!"}))
    body = api.ok("post", "graphs", json={"graph": graph(f"graph {word}", [data, instance(op, **{"in": [(data, "out")]})]),
                                          "actions": ["SAVE"]})
    return data, op, body["graph"]


def test_archive_hides_from_lists_search_and_hubs_and_restore_shows(api) -> None:
    word = _word()
    data, op, stored = _setup(api, word)
    assert "db-hub" in {h["kind"] for h in api.ok("get", "hubs")["hubs"]} and _hub_ids(api, word) == [op["_id"]]
    assert _found(api, "search_nodes", word) == [op["_id"], data["_id"]]
    assert _found(api, "search_graphs", word) == [stored["_id"]]

    # the seed's style: an action in the POST body; the single-action routes do the same
    answer = api.ok("post", "nodes", json={"node": {"_id": op["_id"]}, "actions": ["ARCHIVE"]})
    assert answer["status"] == "SUCCESS" and answer["node"]["archived"], answer
    assert api.ok("post", f"nodes/{data['_id']}/archive")["node"]["archived"]
    assert api.ok("post", f"graphs/{stored['_id']}/archive")["graph"]["archived"]

    assert _found(api, "search_nodes", word) == [] and _hub_ids(api, word) == []
    assert _found(api, "search_nodes", word, base_node_names=["file"]) == []
    assert _found(api, "search_graphs", word) == []
    assert api.ok("post", "search_graphs", json={"search": word})["total_count"] == 0
    # the "Archived" filter finds them
    assert _found(api, "search_nodes", word, archived=True) == [op["_id"], data["_id"]]
    assert _found(api, "search_graphs", word, archived=True) == [stored["_id"]]
    assert api.post("search_nodes", json={"archived": "yes"}).status_code == 400
    # still readable by id, and a graph using them still runs (archived itself)
    assert api.ok("get", f"nodes/{op['_id']}")["data"]["archived"]
    assert api.ok("get", f"graphs/{stored['_id']}")["data"]["archived"]
    run = api.ok("post", f"graphs/{stored['_id']}/approve")
    assert run["status"] == "SUCCESS", run
    ran = api.wait(stored["_id"])
    assert ran["graph_running_status"] == "SUCCESS"
    assert api.resource(output_id(by_title(ran, f"copy {word}"), "out")) == f"hello {word}!".encode()
    # a save keeps the graph archived (a save is no restore)
    saved = api.ok("post", "graphs", json={"graph": api.ok("get", f"graphs/{stored['_id']}")["data"],
                                           "actions": ["SAVE"]})
    assert saved["graph"]["archived"]

    api.ok("post", "graphs", json={"graph": {"_id": stored["_id"]}, "actions": ["RESTORE"]})
    for node_id in (op["_id"], data["_id"]):
        assert api.ok("post", f"nodes/{node_id}/restore")["node"]["archived"] is None
    assert _found(api, "search_nodes", word) == [op["_id"], data["_id"]] and _hub_ids(api, word) == [op["_id"]]
    assert _found(api, "search_graphs", word) == [stored["_id"]]
    assert _found(api, "search_graphs", word, archived=True) == []

    # lifecycle actions act alone, on a stored object
    assert api.post("nodes", json={"node": {"_id": op["_id"]}, "actions": ["SAVE", "ARCHIVE"]}).status_code == 400
    assert api.post("nodes", json={"node": {"_id": op["_id"]}, "actions": ["DELETE", "RESTORE"]}).status_code == 400
    assert api.post("nodes/" + "f" * 24 + "/archive").status_code == 404
    assert api.post("graphs/" + "f" * 24 + "/restore").status_code == 404


def _machines(prefix: str) -> set[str]:
    from chalicelib.store import aws

    names: set[str] = set()
    for page in aws.client("stepfunctions").get_paginator("list_state_machines").paginate():
        names.update(m["name"] for m in page["stateMachines"] if m["name"].startswith(f"plynx-{prefix}"))
    return names


def test_delete_refuses_while_used_and_takes_the_graphs_runs_and_state_machines(api) -> None:
    word = _word()
    data, op, stored = _setup(api, word)
    graph_id = stored["_id"]
    other = api.ok("post", "graphs", json={"graph": graph(f"second {word}", [instance(op)]), "actions": ["SAVE"]})
    for node_id in (op["_id"], data["_id"]):
        refused = api.post(f"nodes/{node_id}/delete")
        assert refused.status_code == 409, refused.text
        assert f"`graph {word}` ({graph_id})" in refused.json()["Message"]
    assert f"`second {word}`" in api.post(f"nodes/{op['_id']}/delete").json()["Message"]
    api.ok("post", f"graphs/{other['graph']['_id']}/archive")  # archived graphs do not hold it

    runs = _leave_a_machine_behind(api, graph_id, op, data)
    assert len(_machines(graph_id)) == 2

    deleted = api.ok("post", "graphs", json={"graph": {"_id": graph_id}, "actions": ["DELETE"]})
    assert deleted["status"] == "SUCCESS" and deleted["deleted"]["run_records"] == 3, deleted
    assert _machines(graph_id) == set()
    assert api.get(f"graphs/{graph_id}").status_code == 404
    for run_id in runs:
        assert api.get(f"runs/{run_id}").status_code == 404
    assert api.post(f"graphs/{graph_id}/delete").status_code == 404
    # no non-archived graph uses them any more
    for node_id in (op["_id"], data["_id"]):
        assert api.ok("post", f"nodes/{node_id}/delete")["deleted"]["deleted"]
        assert api.get(f"nodes/{node_id}").status_code == 404
    assert _found(api, "search_nodes", word) == [] and _found(api, "search_nodes", word, archived=True) == []


def _leave_a_machine_behind(api, graph_id: str, op: dict, data: dict) -> list[str]:
    """Three runs that leave the graph two state machines: run it (the operation runs, or is restored whole, which
    needs no machine); save it with a second copy of the operation tagged otherwise (the save clears the header's
    machine, which is left behind) and run (the first copy restored, the second runs: a machine of another shape);
    re-tag the second copy and run again (the same shape: the header's machine)."""
    runs = [api.ok("post", f"graphs/{graph_id}/approve")["run_id"]]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    second = instance(op, **{"in": [(data, "out")]})
    second["title"] = f"{op['title']} again"
    for parameter in second["parameters"]:
        if parameter["name"] == "tag":
            parameter["value"] = "?"
    stored = api.ok("get", f"graphs/{graph_id}")["data"]
    api.ok("post", "graphs", json={"graph": dict(stored, nodes=[*stored["nodes"], second]), "actions": ["SAVE"]})
    for change in (None, "??"):
        if change:
            api.ok("post", f"graphs/{graph_id}/nodes/change_parameter",
                   json={"node_id": second["_id"], "parameter_name": "tag", "parameter_value": change})
        runs.append(api.ok("post", f"graphs/{graph_id}/approve")["run_id"])
        assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    return runs


def _resource_keys() -> set[str]:
    from chalicelib.store import aws
    from chalicelib.store.settings import SETTINGS

    keys: set[str] = set()
    for page in aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=SETTINGS.bucket,
                                                                           Prefix="resources/"):
        keys.update(entry["Key"][len("resources/"):] for entry in page.get("Contents", []))
    return keys


def _mentioned() -> str:
    """Every item of the tables that may name content, as text (the test's own reading of what is referenced)."""
    from chalicelib.store import aws
    from chalicelib.store.models import CacheModel
    from chalicelib.store.settings import SETTINGS

    texts = []
    for table in (SETTINGS.nodes_table, SETTINGS.graph_nodes_table, CacheModel.Meta.table_name):
        for page in aws.client("dynamodb").get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            texts.extend(json.dumps(item) for item in page["Items"])
    return "\n".join(texts)


def test_gc_removes_exactly_unreferenced_content_and_unused_state_machines(api, monkeypatch) -> None:
    from chalicelib.engine import gc
    from chalicelib.store import owners, storage

    grace = 2.0
    gc.collect(grace=grace)  # what earlier tests left goes first: the passes below see only this test's
    word = _word()
    shared = api.upload(f"shared {word}".encode(), f"shared {word}")
    kept_data, kept_op, kept = _setup(api, word)
    doomed_file = api.upload(f"only the deleted graph's {word}".encode(), f"doomed {word}")
    doomed = api.ok("post", "graphs", json={"graph": graph(f"doomed {word}", [
        shared, doomed_file, instance(kept_op, **{"in": [(doomed_file, "out")]})]), "actions": ["SAVE", "APPROVE"]})
    doomed_id = doomed["graph"]["_id"]
    kept_id = kept["_id"]
    assert api.ok("post", f"graphs/{kept_id}/approve")["status"] == "SUCCESS"
    kept_run = api.wait(kept_id)
    doomed_run = api.wait(doomed_id)
    kept_output = output_id(by_title(kept_run, f"copy {word}"), "out")
    cached_output = output_id(by_title(doomed_run, f"copy {word}"), "out")  # its run goes, its cache entry stays
    _leave_a_machine_behind(api, kept_id, kept_op, kept_data)
    current = api.wait(kept_id)
    assert current["graph_running_status"] == "SUCCESS"
    kept_machines_before = _machines(kept_id)
    assert len(kept_machines_before) == 2
    api.ok("post", f"graphs/{doomed_id}/delete")
    api.ok("post", f"nodes/{doomed_file['_id']}/delete")
    planted = storage.put_bytes(f"nobody's {word}".encode())
    uploaded_again = storage.put_bytes(f"uploaded again {word}".encode())
    time.sleep(grace + 0.5)
    # the same bytes uploaded again now (the file node not saved yet): old content, held anew, stays
    owners.record([uploaded_again], "operation:default")
    monkeypatch.setattr(gc, "_QUERY_OWNERS_UP_TO", 0)  # one Scan of the owners table (a Query each: the tests below)

    keys_before, machines_before = _resource_keys(), _machines("")
    mentioned = _mentioned()
    unreferenced = {key for key in keys_before if key not in mentioned} - {uploaded_again}
    assert {planted, doomed_file["outputs"][0]["resource_id"]} <= unreferenced
    must_stay = {shared["outputs"][0]["resource_id"], kept_data["outputs"][0]["resource_id"], kept_output,
                 cached_output, uploaded_again}
    assert must_stay <= keys_before and not must_stay & unreferenced

    dry = gc.collect(dry_run=True, grace=grace)
    assert _resource_keys() == keys_before and _machines("") == machines_before  # a dry run changes nothing
    assert set(dry.resources) == unreferenced, (set(dry.resources) ^ unreferenced)
    old_machine = (kept_machines_before - {_current_machine(kept_id)}).pop()
    assert old_machine in dry.state_machines

    done = gc.collect(grace=grace)
    assert set(done.resources) == unreferenced and set(done.state_machines) == set(dry.state_machines)
    assert _resource_keys() == keys_before - unreferenced  # exactly the unreferenced content went
    assert _machines(kept_id) == {_current_machine(kept_id)}
    assert _machines("") == machines_before - set(dry.state_machines)
    for resource_id in must_stay:
        assert api.resource(resource_id)
    # the kept graph still runs (its current machine), and its run's outputs read
    assert api.ok("post", f"graphs/{kept_id}/approve")["status"] == "SUCCESS"
    assert api.wait(kept_id)["graph_running_status"] == "SUCCESS"
    # nothing else is collectible now; the bytes uploaded again were held anew, for the grace period only (on a
    # busy machine the run above outlasts it)
    assert set(gc.collect(dry_run=True, grace=grace).resources) <= {uploaded_again}


def _current_machine(graph_id: str) -> str:
    from chalicelib.store.models import GraphModel

    return GraphModel.get(graph_id, consistent_read=True).state_machine_arn.rsplit(":", 1)[1]


def test_gc_route_is_for_admins_and_a_dry_run_by_default_changes_nothing(api) -> None:
    keys = _resource_keys()
    answer = api.ok("post", "gc", json={"dry_run": True})
    assert answer["data"]["dry_run"] is True and answer["data"]["grace_hours"] == 24
    assert _resource_keys() == keys
    assert api.post("gc", json={"dry_run": "yes"}).status_code == 400
    assert api.post("gc", json={"now": True}).status_code == 400


def _partitions_of(graph_id: str, run_ids: list[str]) -> set[str]:
    """The graph-nodes partitions that belong to a graph: its versions, runs, records and pointers."""
    from chalicelib.store import aws
    from chalicelib.store.settings import SETTINGS

    wanted = (graph_id, f"runs~{graph_id}", *(f"run~{r}" for r in run_ids), *(f"runid~{r}" for r in run_ids))
    found: set[str] = set()
    for page in aws.client("dynamodb").get_paginator("scan").paginate(
            TableName=SETTINGS.graph_nodes_table, ProjectionExpression="graph_id", ConsistentRead=True):
        found.update(item["graph_id"]["S"] for item in page["Items"]
                     if item["graph_id"]["S"].split(".", 1)[0].split("~", 1)[0] == graph_id
                     or item["graph_id"]["S"].split(".", 1)[0] in wanted)
    return found


def test_a_delete_that_stopped_after_its_header_is_finished_by_the_next_pass(api) -> None:
    from chalicelib.engine import gc
    from chalicelib.store.models import GraphModel

    word = _word()
    data, op, stored = _setup(api, word)
    graph_id = stored["_id"]
    runs = _leave_a_machine_behind(api, graph_id, op, data)
    left = _partitions_of(graph_id, runs)
    assert {f"runs~{graph_id}", *(f"run~{r}" for r in runs), *(f"runid~{r}" for r in runs)} <= left
    assert len(_machines(graph_id)) == 2
    GraphModel.get(graph_id, consistent_read=True).delete()  # DELETE's first write, then a crash
    time.sleep(1.5)
    dry = gc.collect(dry_run=True, grace=1.0)
    assert left <= set(dry.partitions) and _partitions_of(graph_id, runs) == left
    done = gc.collect(grace=1.0)
    assert left <= set(done.partitions) and _machines(graph_id) == set() and set(done.state_machines) >= {
        m for m in dry.state_machines if m.startswith(f"plynx-{graph_id}")}
    assert _partitions_of(graph_id, runs) == set()
    for run_id in runs:
        assert api.get(f"runs/{run_id}").status_code == 404


def test_a_pass_lets_runs_past_retention_go(api, monkeypatch) -> None:
    import dataclasses

    from chalicelib.engine import gc
    from chalicelib.store import run_records

    word = _word()
    _, _, stored = _setup(api, word)
    graph_id = stored["_id"]
    first = api.ok("post", f"graphs/{graph_id}/approve")["run_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    second = api.ok("post", f"graphs/{graph_id}/approve")["run_id"]
    assert api.wait(graph_id)["graph_running_status"] == "SUCCESS"
    # retention lowered after the runs (runs: keep 1): the next pass applies it, no new run needed
    monkeypatch.setattr(run_records, "SETTINGS", dataclasses.replace(run_records.SETTINGS, runs_keep=1))
    dry = gc.collect(dry_run=True, grace=3600)
    assert first in dry.run_records and second not in dry.run_records
    assert api.get(f"runs/{first}").status_code == 200  # a dry run changes nothing
    done = gc.collect(grace=3600)
    assert first in done.run_records
    assert api.get(f"runs/{first}").status_code == 404 and api.ok("get", f"runs/{second}")["data"]["_id"] == second
    assert _partitions_of(graph_id, [first]) & {f"run~{first}", f"runid~{first}"} == set()


def test_a_state_machine_with_a_running_execution_or_of_another_stage_is_never_deleted(api) -> None:
    import json as _json

    from chalicelib.engine import gc
    from chalicelib.store import aws
    from chalicelib.store.settings import SETTINGS

    sfn = aws.client("stepfunctions")
    name = f"plynx-{secrets.token_hex(12)}-{secrets.token_hex(8)}"  # a graph nobody has (deleted): no grace
    definition = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 60, "End": True}}}
    arn = sfn.create_state_machine(name=name, definition=_json.dumps(definition),
                                   roleArn=SETTINGS.state_machine_role_arn)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, name="holding")["executionArn"]
    try:
        assert name in gc.collect(dry_run=True, grace=3600).state_machines  # planned ...
        assert name not in gc.collect(grace=3600).state_machines  # ... but asked again: it runs, it stays
        assert name in _machines("")
    finally:
        sfn.stop_execution(executionArn=execution)
    # another stage's machine (same account and region, same name prefix, its own role) is never ours to delete
    other = f"plynx-{secrets.token_hex(12)}-{secrets.token_hex(8)}"
    sfn.create_state_machine(name=other, definition=_json.dumps(definition),
                             roleArn=SETTINGS.state_machine_role_arn.replace("plynx-", "plynx-another-stage-"))
    done = gc.collect(grace=3600)
    assert name in done.state_machines and other not in done.state_machines
    assert name not in _machines("") and other in _machines("")
    sfn.delete_state_machine(stateMachineArn=arn.replace(name, other))
