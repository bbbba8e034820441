"""Resource types end to end: each type flows from one operation to another, with content and previews."""
from __future__ import annotations

import io
import json
import os
import zipfile

from tests.helpers import by_title, graph, instance, log_id, output_id

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"

PRODUCE = f'''
import json, os
from PIL import Image
open(outputs["file"], "w").write("plain text\\n")
open(outputs["csv"], "w").write("a,b\\n1,2\\n3,4\\n")
open(outputs["tsv"], "w").write("a\\tb\\n1\\t2\\n")
open(outputs["json"], "w").write(json.dumps({{"k": [1, 2], "name": "x"}}))
Image.new("RGB", (64, 32), (255, 0, 0)).save(outputs["image"], "PNG")
open(outputs["pdf"], "wb").write({PDF!r})
os.makedirs(os.path.join(outputs["dir"], "sub"))
open(os.path.join(outputs["dir"], "sub", "a.txt"), "w").write("A")
open(os.path.join(outputs["dir"], "b.txt"), "w").write("B")
open(outputs["exe"], "w").write("#!/bin/sh\\necho ran-$1\\n")
open(outputs["n"], "w").write("42")
open(outputs["x"], "w").write("2.5")
open(outputs["s"], "w").write("hello world\\n")
open(outputs["flag"], "w").write("true")
open(outputs["color"], "w").write("#FF8800")
open(outputs["d"], "w").write('{{"a": 1}}')
open(outputs["e"], "w").write("paper")
open(outputs["ls"], "w").write('["a", "b"]')
open(outputs["li"], "w").write("[1, 2]")
'''

CONSUME = '''
import json, os, subprocess
seen = {
    "file": open(inputs["file"]).read(),
    "csv": open(inputs["csv"]).read(),
    "tsv": open(inputs["tsv"]).read(),
    "json": json.load(open(inputs["json"])),
    "image": open(inputs["image"], "rb").read()[:4].hex(),
    "pdf": open(inputs["pdf"], "rb").read()[:5].decode(),
    "dir": sorted(os.path.relpath(os.path.join(d, f), inputs["dir"]) for d, _, fs in os.walk(inputs["dir"]) for f in fs),
    "exe": subprocess.run([inputs["exe"], "now"], capture_output=True, text=True).stdout,
    "n": inputs["n"], "x": inputs["x"], "s": inputs["s"], "flag": inputs["flag"],
    "color": inputs["color"], "d": inputs["d"], "e": inputs["e"], "ls": inputs["ls"], "li": inputs["li"],
}
open(outputs["report"], "w").write(json.dumps(seen))
'''

TYPES = {"file": "file", "csv": "csv", "tsv": "tsv", "json": "json", "image": "image", "pdf": "pdf",
         "dir": "directory", "exe": "executable", "n": "int", "x": "float", "s": "str", "flag": "bool",
         "color": "color", "d": "dict", "e": "enum", "ls": "list_str", "li": "list_int"}


def op(base: str, title: str, cmd: str, inputs: dict[str, str] | None = None,
       outputs: dict[str, str] | None = None, many: bool = False) -> dict:
    """An operation with typed inputs and outputs ({name: file_type})."""
    return {
        "base_node_name": base,
        "title": title,
        "inputs": [{"name": name, "file_types": [kind], "min_count": 1, "max_count": -1 if many else 1}
                   for name, kind in (inputs or {}).items()],
        "outputs": [{"name": name, "file_type": kind} for name, kind in (outputs or {}).items()],
        "parameters": [{"name": "_cmd", "parameter_type": "code",
                        "value": {"mode": "python" if base == "python" else "sh", "value": cmd}}],
    }


def run(api, nodes: list[dict], title: str) -> dict:
    body = api.ok("post", "graphs", json={"graph": graph(title, nodes), "actions": ["SAVE", "APPROVE"]})
    assert body["status"] == "SUCCESS", body.get("validation_error")
    return api.wait(body["graph"]["_id"])


def preview(api, resource_id: str, file_type: str) -> str:
    response = api.get(f"resources/{resource_id}", params={"preview": "true", "file_type": file_type})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    return response.text


def zip_bytes(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_every_type_flows_between_operations_with_previews(api) -> None:
    producer = instance(api.save_operation(op("python", "Produce", PRODUCE, outputs=TYPES)))
    consumer = instance(api.save_operation(op("python", "Consume", CONSUME, inputs=TYPES,
                                              outputs={"report": "json"})),
                        **{name: [(producer, name)] for name in TYPES})
    result = run(api, [producer, consumer], "all types")
    assert result["graph_running_status"] == "SUCCESS", result
    seen = json.loads(api.resource(output_id(by_title(result, "Consume"), "report")))
    assert seen == {
        "file": "plain text\n", "csv": "a,b\n1,2\n3,4\n", "tsv": "a\tb\n1\t2\n", "json": {"k": [1, 2], "name": "x"},
        "image": "89504e47", "pdf": "%PDF-", "dir": ["b.txt", "sub/a.txt"], "exe": "ran-now\n",
        "n": 42, "x": 2.5, "s": "hello world", "flag": True, "color": "#ff8800", "d": {"a": 1},
        "e": "paper", "ls": ["a", "b"], "li": [1, 2],
    }
    produced = by_title(result, "Produce")
    rid = {name: output_id(produced, name) for name in TYPES}
    # primitive values are stored canonically as JSON
    assert api.resource(rid["n"]) == b"42" and api.resource(rid["s"]) == b'"hello world"'
    assert api.resource(rid["flag"]) == b"true" and api.resource(rid["color"]) == b'"#ff8800"'
    # a directory is stored zipped
    with zipfile.ZipFile(io.BytesIO(api.resource(rid["dir"]))) as archive:
        assert sorted(archive.namelist()) == ["b.txt", "sub/a.txt"] and archive.read("sub/a.txt") == b"A"

    assert "<pre>plain text\n</pre>" in preview(api, rid["file"], "file")
    table = preview(api, rid["csv"], "csv")
    assert '<table class="preview-table">' in table and '<td class="preview-table-col">3</td>' in table
    assert '<td class="preview-table-col">2</td>' in preview(api, rid["tsv"], "tsv")
    assert '&quot;k&quot;: [\n    1,' in preview(api, rid["json"], "json")
    image = preview(api, rid["image"], "image")
    assert 'src="data:image/png;base64,' in image and "64×32" in image
    assert 'src="data:application/pdf;base64,' in preview(api, rid["pdf"], "pdf")
    listing = preview(api, rid["dir"], "directory")
    assert "sub/a.txt" in listing and "2 entries" in listing
    assert ">42</pre>" in preview(api, rid["n"], "int")
    assert ">hello world</pre>" in preview(api, rid["s"], "str")
    assert "#ff8800" in preview(api, rid["color"], "color")


def test_directory_round_trip_and_executable_input(api) -> None:
    folder = api.upload(zip_bytes({"data/one.txt": b"1\n", "data/two.txt": b"2\n", "top.txt": b"t"}), "folder",
                        file_type="directory")
    tool = api.upload(b"#!/bin/sh\necho tool says $1\n", "tool", file_type="executable")
    cmd = ("set -e\n"
           "cp -r {{ inputs.folder }}/. {{ outputs.folder }}/\n"
           "cat {{ inputs.folder }}/data/*.txt > {{ outputs.folder }}/sum.txt\n"
           "mkdir {{ outputs.folder }}/empty\n"
           "{{ inputs.tool }} hi > {{ outputs.said }}\n")
    worker = op("bash_jinja2", "Dir", cmd, inputs={"folder": "directory", "tool": "executable"},
                outputs={"folder": "directory", "said": "file"})
    folder, tool = instance(folder), instance(tool)
    result = run(api, [folder, tool, instance(api.save_operation(worker), folder=[(folder, "out")],
                                                tool=[(tool, "out")])], "dir round trip")
    assert result["graph_running_status"] == "SUCCESS", result
    node = by_title(result, "Dir")
    assert api.resource(output_id(node, "said")) == b"tool says hi\n"
    with zipfile.ZipFile(io.BytesIO(api.resource(output_id(node, "folder")))) as archive:
        assert sorted(archive.namelist()) == ["data/one.txt", "data/two.txt", "empty/", "sum.txt", "top.txt"]
        assert archive.read("sum.txt") == b"1\n2\n"
    # zipping is reproducible: the same directory content gives the same resource id
    again = run(api, [folder, tool, instance(api.save_operation(worker), folder=[(folder, "out")],
                                               tool=[(tool, "out")])], "dir round trip again")
    assert output_id(by_title(again, "Dir"), "folder") == output_id(node, "folder")


# --- bad input: a clear error or a safe preview, never a 500 or a crashed runner --------------------


def test_bad_content_gets_a_safe_preview(api) -> None:
    binary = bytes(range(256)) * 4
    rid = api.upload(binary, "binary")["outputs"][0]["resource_id"]
    as_csv = preview(api, rid, "csv")
    assert "Not a CSV file: binary content" in as_csv and "00000000  00 01 02" in as_csv
    as_text = preview(api, rid, "file")
    assert "Not a text file: binary content, 1.0 KB" in as_text
    assert "Not an image" in preview(api, rid, "image")
    assert "Not a PDF file" in preview(api, rid, "pdf")
    assert "Not a directory archive" in preview(api, rid, "directory")
    assert "Not valid JSON" in preview(api, api.upload(b"{nope", "bad json")["outputs"][0]["resource_id"], "json")
    ragged = api.upload(b"just some prose, with a comma\nand a line\nand, two, more\n", "prose")
    assert "this may not be a CSV file" in preview(api, ragged["outputs"][0]["resource_id"], "csv")
    quoted = api.upload(b'a,"unterminated\n', "quote")
    assert "Not a valid CSV file" in preview(api, quoted["outputs"][0]["resource_id"], "csv")
    html = preview(api, api.upload(b"<script>alert(1)</script>", "xss")["outputs"][0]["resource_id"], "file")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "is not an int" in preview(api, api.upload(b"abc", "not int")["outputs"][0]["resource_id"], "int")
    response = api.get(f"resources/{rid}", params={"preview": "true", "file_type": "nope"})
    assert response.status_code == 400 and "file_type" in response.json()["Message"]


def test_large_text_preview_is_truncated_with_its_size(api) -> None:
    content = b"line of text\n" * 420_000  # 5.2 MiB: read in its first 64 KB only
    rid = api.upload(content, "large")["outputs"][0]["resource_id"]
    text = preview(api, rid, "file")
    assert "Showing the first 64.0 KB of 5.2 MB" in text and len(text) < 80 * 1024
    table = preview(api, api.upload(b"a,b\n" + b"1,2\n" * 100_000, "big csv")["outputs"][0]["resource_id"], "csv")
    assert "CSV: first 100 rows" in table and table.count("<tr") == 100


def test_zip_bomb_and_path_tricks_are_refused_at_upload_and_at_run_time(api) -> None:
    from chalicelib.store import storage

    bomb = zip_bytes({"zeros.bin": b"\0" * (64 * 1024 * 1024)})  # 64 MiB of zeros in a ~64 KB zip
    assert len(bomb) < 200 * 1024
    evil = zip_bytes({"../escape.txt": b"x"})
    cases = ((bomb, "zip bomb"), (evil, "outside the directory"), (b"not a zip", "must be a zip archive"))
    for content, expected in cases:
        response = api.post("upload_file", files={"data": ("d.zip", content)},
                            data={"title": "folder", "file_type": "directory"})
        assert response.status_code == 400 and expected in response.json()["Message"], response.text
    # stored some other way (another client of the bucket), the runner refuses them just as clearly
    cmd = "ls -R {{ inputs.folder }} > {{ outputs.out }}\n"
    reader = api.save_operation(op("bash_jinja2", "Read dir", cmd, inputs={"folder": "directory"},
                                   outputs={"out": "file"}))
    for content, expected in cases:
        folder = {"_id": os.urandom(12).hex(), "base_node_name": "file", "title": "stored folder",
                  "outputs": [{"name": "out", "file_type": "directory", "resource_id": storage.put_bytes(content)}]}
        result = run(api, [folder, instance(reader, folder=[(folder, "out")])], "bad dir")
        assert result["graph_running_status"] == "FAILED"
        node = by_title(result, "Read dir")
        assert node["node_running_status"] == "FAILED"
        assert expected.replace("must be", "is not") in api.resource(log_id(node, "worker")).decode()
    listing = preview(api, storage.put_bytes(bomb), "directory")
    assert "zeros.bin" in listing and "64.0 MB unpacked" in listing
    # the runner is fine: the next operation runs
    good = instance(api.upload(zip_bytes({"ok.txt": b"ok"}), "fine", file_type="directory"))
    result = run(api, [good, instance(reader, folder=[(good, "out")])], "good dir")
    assert result["graph_running_status"] == "SUCCESS"


def test_values_are_checked_at_upload(api) -> None:
    assert api.upload(b"42\n", "answer", file_type="int")["outputs"][0]["file_type"] == "int"
    for content, kind, expected in ((b"abc", "int", "is not an int"), (b"\xff\x00", "str", "binary"),
                                    (b"green", "color", "is not a color")):
        response = api.post("upload_file", files={"data": ("v", content)}, data={"title": "v", "file_type": kind})
        assert response.status_code == 400 and expected in response.json()["Message"], response.text


def test_an_output_that_does_not_fit_its_type_fails_clearly(api) -> None:
    cmd = 'open(outputs["n"], "w").write("forty-two")\n'
    result = run(api, [instance(api.save_operation(op("python", "Bad int", cmd, outputs={"n": "int"})))], "bad int")
    node = by_title(result, "Bad int")
    assert node["node_running_status"] == "FAILED"
    assert "Output `n` (int): `forty-two` is not an int" in api.resource(log_id(node, "worker")).decode()


def test_every_kind_previews_empty_and_missing_resources_without_a_500(api) -> None:
    from chalicelib.store import storage

    empty = storage.put_bytes(b"")
    kinds = api.ok("get", "nodes/python")["resources_dict"]
    for kind in kinds:
        response = api.get(f"resources/{empty}", params={"preview": "true", "file_type": kind})
        assert response.status_code == 200, (kind, response.text)
        missing = api.get(f"resources/{'1' * 64}", params={"preview": "true", "file_type": kind})
        assert missing.status_code == 404, (kind, missing.text)
