"""Hubs: the database hub and the demo operations' static hub, searched with the seed's syntax."""
from __future__ import annotations

from plynx.api import Client, Graph
from tests.functional.test_resources import op


def _titles(items: list[dict]) -> list[str]:
    titles = []
    for item in items:
        titles.extend(_titles(item["items"]) if item.get("_type") == "Group" else [item["title"]])
    return titles


def _search(api, **body) -> dict:
    return api.ok("post", "search_in_hubs", json=body)


def test_hubs_are_listed_from_the_config(api) -> None:
    kinds = [h["kind"] for h in api.ok("get", "hubs")["hubs"]]
    assert kinds[:2] == ["db-hub", "demo-hub"]


def test_demo_hub_offers_the_seed_demo_operations(api) -> None:
    everything = _search(api, hub="demo-hub", per_page=100)
    assert [g["title"] for g in everything["items"]] == ["Hello world", "Basic functions", "Types"]
    titles = _titles(everything["items"])
    assert {"Get name", "Print message", "Make int", "Sleep", "Statefull", "All types", "Dict to file"} <= set(titles)
    assert everything["total_count"] == len(titles) and "int" in everything["resources_dict"]
    printers = _search(api, hub="demo-hub", search="print")
    assert set(_titles(printers["items"])) == {"Print message", "Print int", "Print str", "Print dict", "Print float",
                                               "Print bool", "Print color"}
    assert [g["title"] for g in printers["items"]] == ["Hello world", "Types"]  # empty groups are left out
    ints_out = _search(api, hub="demo-hub", search="output_file_type:int")
    assert set(_titles(ints_out["items"])) == {"Make int", "Sleep", "Error", "Statefull", "All types"}
    json_in = _search(api, hub="demo-hub", search="input_file_type:json")
    assert _titles(json_in["items"]) == ["File to dict"]
    both = _search(api, hub="demo-hub", search="input_file_type:int output_file_type:int sleep")
    assert _titles(both["items"]) == ["Sleep"]


def test_demo_operations_run_as_they_come_from_the_hub(api) -> None:
    items = {}
    for group in _search(api, hub="demo-hub", per_page=100)["items"]:
        items.update({item["title"]: item for item in group["items"]})
    client = Client(api.base)
    graph = Graph(title="hello from the hub")
    name = graph.add(items["Get name"], your_name="PLynx")
    message = graph.add(items["Print message"], name=name["name"])
    values = graph.add(items["All types"])
    as_file = graph.add(items["Dict to file"], value=values["dict"])
    back = graph.add(items["File to dict"], value=as_file["out"])
    printed = graph.add(items["Print color"], value=values["color"])
    stateful = graph.add(items["Statefull"], x=graph.add(items["Make int"], value=7)["out"])
    run = client.run(graph, progress=False, poll=0.1, timeout=120)
    assert run.output(message, "message") == b"Hello, PLynx!\n"
    assert "Hello, PLynx!" in run.log(message, "stdout")
    assert run.output(back, "out") == {"foo": "woo"}
    assert run.output(printed, "printed") == b"str: '#ff8800'\n"
    assert run.output(stateful, "out") == 8
    assert run.node(name)["parent_node_id"] == items["Get name"]["_id"]


def test_database_hub_searches_stored_operations(api) -> None:
    reader = op("python", "Hub CSV reader", "pass\n", inputs={"table": "csv"}, outputs={"n": "int"})
    writer = op("python", "Hub JSON writer", "pass\n", outputs={"doc": "json"})
    draft = op("python", "Hub draft", "pass\n", inputs={"table": "csv"})
    stored = [api.save_operation(reader), api.save_operation(writer), api.save_operation(draft, action="SAVE")]
    found = _search(api, hub="db-hub", search="Hub")
    assert _titles(found["items"]) == ["Hub JSON writer", "Hub CSV reader"]  # approved only, newest first
    assert _titles(_search(api, hub="db-hub", search="hub input_file_type:csv")["items"]) == ["Hub CSV reader"]
    assert _titles(_search(api, hub="db-hub", search="output_file_type:json hub")["items"]) == ["Hub JSON writer"]
    assert _search(api, hub="db-hub", search="author:nobody hub")["total_count"] == 0
    paged = _search(api, hub="db-hub", search="hub", per_page=1, offset=1)
    assert _titles(paged["items"]) == ["Hub CSV reader"] and paged["total_count"] == 2
    assert stored[0]["_id"] in [i["_id"] for i in found["items"]]


def test_bad_hub_searches_are_400(api) -> None:
    for body, word in (({"hub": "nope"}, "nope"), ({"hub": 3}, "hub"), ({"hub": "demo-hub", "per_page": "x"},
                                                                          "per_page")):
        response = api.post("search_in_hubs", json=body)
        assert response.status_code == 400 and word in response.json()["Message"], response.text
    assert api.post("search_in_hubs", data="[1]", headers={"Content-Type": "application/json"}).status_code == 400


def test_a_workflow_kind_offers_the_hubs_its_config_lists(api) -> None:
    listed = api.ok("get", "hubs", params={"workflow": "basic-dag-workflow"})["hubs"]
    assert [h["kind"] for h in listed] == ["db-hub", "demo-hub"]  # not the test config's test-hub
    unknown = api.get("hubs", params={"workflow": "nope"})
    assert unknown.status_code == 400 and "basic-dag-workflow" in unknown.json()["Message"]
