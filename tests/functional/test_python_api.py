"""The python API: plain functions become operations, graphs are built and run from python, code is generated."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import pytest

import plynx.node
from plynx.api import Client, Graph, Group, PlynxError, input, operation, output, param
from tests.conftest import REPO

FACTOR = 10  # a module global: cloudpickle ships it with the function


def _rows(path):
    with open(path) as handle:
        return sum(1 for line in handle if line.strip())


@input(name="table", var_type="csv")
@output(name="rows", var_type=int)
@operation(title="Count rows")
def count_rows(table):
    return {"rows": _rows(table) - 1}  # helper function and header handling travel by value


@input(name="n", var_type=int)
@param(name="coef", var_type=float, default=1.5)
@output(name="scaled", var_type=float)
@output(name="label", var_type=str)
@operation(title="Scale", ship="source")
def scale(n, coef):
    return {"scaled": n * coef, "label": f"{n} x {coef}"}


@input(name="values", var_type=float, is_array=True)
@output(name="summary", var_type="json")
@output(name="folder", var_type="directory")
@operation(title="Summarise")
def summarise(values):
    import os
    import tempfile

    folder = tempfile.mkdtemp()
    for i, value in enumerate(values):
        with open(os.path.join(folder, f"v{i}.txt"), "w") as handle:
            handle.write(str(value * FACTOR))
    return {"summary": json.dumps({"total": sum(values), "count": len(values)}), "folder": folder}


@input(name="x", var_type=int)
@output(name="y", var_type=int)
@operation(title="Explode")
def explode(x):
    raise RuntimeError(f"no good: {x}")


@pytest.fixture()
def client(api) -> Client:
    return Client(api.base)


def test_graph_built_and_run_from_python(client) -> None:
    table = client.upload(b"name,age\nann,3\nbob,5\ncid,7\n", "people.csv", file_type="csv")
    graph = Graph(title="python api")
    people = graph.add(table)
    rows = graph.add(count_rows, table=people["out"])
    double = graph.add(scale, n=rows["rows"], coef=2.0)
    half = graph.add(scale, title="Half", n=rows["rows"], coef=0.5)
    total = graph.add(summarise, values=[double["scaled"], half["scaled"]])
    progress = io.StringIO()
    run = client.run(graph, progress=True, poll=0.1, stream=progress, timeout=120)
    assert run.status == "SUCCESS"
    assert run.output(rows, "rows") == 3
    assert run.output(double, "scaled") == 6.0 and run.output(double, "label") == "3 x 2.0"
    assert run.output(half, "scaled") == 1.5
    assert json.loads(run.output(total, "summary")) == {"total": 7.5, "count": 2}
    with zipfile.ZipFile(io.BytesIO(run.output(total, "folder"))) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == {"v0.txt": b"60.0", "v1.txt": b"15.0"}
    assert "[####################] 4/4" in progress.getvalue() and "SUCCESS: 4" in progress.getvalue()
    assert run.node(people)["parent_node_id"] == table["_id"]


def test_a_failing_function_fails_its_node_with_the_traceback(client) -> None:
    graph = Graph(title="python api failure")
    make = graph.add(_make_int_op(), value=4)
    bad = graph.add(explode, x=make["out"])
    with pytest.raises(PlynxError, match="Explode") as failure:
        client.run(graph, progress=False, poll=0.1, timeout=120)
    run = failure.value.details
    assert run.node(bad)["node_running_status"] == "FAILED"
    assert "RuntimeError: no good: 4" in run.log(bad, "stderr")


def test_a_run_with_parameters_from_python(client, api) -> None:
    graph = Graph(title="python api parameters")
    make = graph.add(_make_int_op(), value=4)
    scaled = graph.add(scale, n=make["out"], coef=2.0)
    run = client.run(graph, progress=False, poll=0.1, timeout=120, parameters={scaled.param("coef"): 3.0})
    assert run.output(scaled, "scaled") == 12.0 and run.output(scaled, "label") == "4 x 3.0"
    run_id = api.ok("get", f"graphs/{graph.graph_id}")["data"]["latest_run_id"]
    assert client.get_run(run_id).record["parameters"] == {f"{scaled.id}.coef": 3.0}
    with pytest.raises(KeyError, match="no parameter `nope`"):
        scaled.param("nope")
    with pytest.raises(PlynxError, match="400"):
        client.start(graph.graph_id, {scaled.param("coef"): "lots"})


def _make_int_op():
    from plynx.demo.basic_functions import make_int

    return make_int


def test_register_operations_and_groups(client, api) -> None:
    stored = client.register(count_rows)
    assert stored["node_status"] == "READY" and stored["title"] == "Count rows"
    assert client.register(count_rows)["_id"] == stored["_id"]  # the same function registers once
    many = client.register(Group(title="mine", items=[scale, summarise]))
    assert [n["title"] for n in many] == ["Scale", "Summarise"]
    found = client.search_operations("Count rows")
    assert stored["_id"] in [n["_id"] for n in found]
    # a stored operation placed in a graph keeps a link to it
    graph = Graph(title="from the library")
    table = graph.add(client.upload(b"a\n1\n", "t.csv", file_type="csv"))
    counted = graph.add(client.call("GET", f"nodes/{stored['_id']}")["data"], table=table["out"])
    assert counted.node["parent_node_id"] == stored["_id"]
    assert client.run(graph, progress=False, poll=0.1, timeout=120).output(counted, "rows") == 1


def test_wrong_bindings_are_refused_early() -> None:
    graph = Graph()
    rows = graph.add(count_rows, node_id="r")
    with pytest.raises(KeyError, match="no output `nope`"):
        rows["nope"]
    with pytest.raises(KeyError, match="no parameter `size`"):
        graph.add(scale, n=rows["rows"], size=3)
    with pytest.raises(TypeError, match="not decorated"):
        plynx.node.to_node(len)
    with pytest.raises(TypeError, match="No PLynx resource kind"):
        input(name="x", var_type=list)(lambda x: x)


def _normal(graph: dict) -> list[dict]:
    keep = ("_id", "base_node_name", "title", "description", "parent_node_id", "x", "y")
    nodes = []
    for node in sorted(graph["nodes"], key=lambda n: n["_id"]):
        nodes.append({
            **{k: node.get(k) for k in keep},
            "inputs": [(i["name"], i["file_types"], i["min_count"], i["max_count"],
                        [(v["node_id"], v["output_id"]) for v in i["values"]]) for i in node["inputs"]],
            "outputs": [(o["name"], o["file_type"], o["resource_id"] if node["base_node_name"] == "file" else None)
                        for o in node["outputs"]],
            "parameters": [(p["name"], p["parameter_type"], p["value"]) for p in node["parameters"]],
        })
    return nodes


def test_generate_code_recreates_an_equal_graph(client, api) -> None:
    table = client.upload(b"h\n1\n2\n", "gen.csv", file_type="csv")
    graph = Graph(title="to code", description="generated back")
    people = graph.add(table)
    rows = graph.add(count_rows, table=people["out"])
    graph.add(scale, title="Scale 'quoted'", n=rows["rows"], coef=3.0)
    graph.add({"base_node_name": "bash_jinja2", "title": "Shell", "inputs": [
        {"name": "data file", "file_types": ["csv"], "min_count": 1, "max_count": -1}],
        "parameters": [{"name": "_cmd", "parameter_type": "code",
                        "value": {"mode": "sh", "value": "wc -l {{ inputs['data file'] }}\n"}}]},
        **{"data file": [people["out"]]})
    awkward = graph.add({"base_node_name": "bash_jinja2", "title": "class", "inputs": [
        {"name": name, "file_types": ["csv"], "min_count": 1, "max_count": 1} for name in ("class", "title")],
        "parameters": [{"name": "_cmd", "parameter_type": "code", "value": {"mode": "sh", "value": "true\n"}}]})
    graph.set(awkward, **{"class": people["out"], "title": people["out"]})
    graph_id = client.save(graph)

    body = api.ok("post", f"graphs/{graph_id}/generate_code")
    code = body["code"]
    assert code.startswith('"""Recreates the PLynx graph') and "from plynx.api import Client, Graph" in code
    compile(code, "generated.py", "exec")
    env = dict(os.environ, PLYNX_API_URL=api.base, PYTHONPATH=REPO)
    done = subprocess.run([sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    new_id = done.stdout.strip().splitlines()[-1]
    assert new_id != graph_id
    original, copy = client.get_graph(graph_id), client.get_graph(new_id)
    assert (copy["title"], copy["description"]) == ("to code", "generated back")
    assert _normal(copy) == _normal(original)
    # the action of POST /graphs answers the same code
    posted = api.ok("post", "graphs", json={"graph": original, "actions": ["GENERATE_CODE"]})
    assert posted["code"] == code
    assert api.post("graphs/nope/generate_code").status_code == 404
