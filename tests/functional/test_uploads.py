"""Uploads of any size: presigned S3 multipart parts, completed into a file node whose id the server hashed."""
from __future__ import annotations

import hashlib
import io
import secrets
import zipfile

import pytest
import requests

from plynx.api import Client
from tests.helpers import by_title, graph, instance, operation, output_id

MB = 1024 * 1024
ONE = {"name": "in", "file_types": ["file"], "min_count": 1, "max_count": 1}
# Reversed in blocks, so the output is other bytes than the input, computed from all of it.
REVERSE = ("import shutil\nwith open(inputs['in'], 'rb') as s, open(outputs['out'], 'wb') as t:\n"
           "    while True:\n        b = s.read(1 << 20)\n        if not b: break\n        t.write(b[::-1])\n")


def _big_file(path: str, size: int) -> str:
    """A file of `size` random-ish bytes written in 1 MB blocks; its SHA-256."""
    digest = hashlib.sha256()
    seed = secrets.token_bytes(32)
    with open(path, "wb") as stream:
        for i in range(0, size, MB):
            block = (hashlib.sha256(seed + i.to_bytes(8, "big")).digest() * (MB // 32))[: min(MB, size - i)]
            digest.update(block)
            stream.write(block)
    return digest.hexdigest()


def _reversed_sha(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(MB), b""):
            digest.update(block[::-1])
    return digest.hexdigest()


def _create(api, size: int, **fields) -> dict:
    return api.ok("post", "uploads", json={"title": "big", "size": size, **fields})


def _put_parts(created: dict, data: bytes | None = None, path: str | None = None) -> list[dict]:
    """PUT each part to its presigned URL as curl would: no PLynx credentials, only the signed URL."""
    parts = []
    for part in created["parts"]:
        start = (part["part_number"] - 1) * created["part_size"]
        if path is not None:
            with open(path, "rb") as stream:
                stream.seek(start)
                body = stream.read(created["part_size"])
        else:
            body = data[start:start + created["part_size"]]
        response = requests.put(part["url"], data=body, timeout=120)
        assert response.status_code == 200, response.text
        parts.append({"part_number": part["part_number"], "etag": response.headers["ETag"]})
    return parts


def _abort(api, upload_id: str) -> dict:
    response = api.session.delete(api.url(f"uploads/{upload_id}"), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _run_reverse(api, file_node: dict) -> dict:
    data = instance(file_node)
    reverse = instance(api.save_operation(operation("python", "reverse", REVERSE, inputs=[ONE], outputs=["out"])),
                       **{"in": [(data, "out")]})
    body = api.ok("post", "graphs", json={"graph": graph("big input", [data, reverse]), "actions": ["SAVE", "APPROVE"]})
    ran = api.wait(body["graph"]["_id"], timeout=300)
    assert ran["graph_running_status"] == "SUCCESS", ran
    return by_title(ran, "reverse")


def _download_sha(api, resource_id: str) -> str:
    """Stream a resource (a presigned S3 redirect when big) and hash it."""
    digest = hashlib.sha256()
    with api.session.get(api.url(f"resources/{resource_id}"), stream=True, timeout=120) as response:
        assert response.status_code == 200, response.text
        for block in response.iter_content(MB):
            digest.update(block)
    return digest.hexdigest()


@pytest.mark.slow
def test_a_64_mb_file_by_presigned_parts_feeds_an_operation(api, tmp_path) -> None:
    path = str(tmp_path / "big.bin")
    sha = _big_file(path, 64 * MB)
    created = _create(api, 64 * MB, description="sixty-four", file_type="file")
    assert created["part_count"] == 8 and len(created["parts"]) == 8
    assert all("/uploads/" in part["url"] for part in created["parts"])  # staging, never resources/
    done = api.ok("post", f"uploads/{created['upload_id']}/complete", json={"parts": _put_parts(created, path=path)})
    node = done["node"]
    assert done["resource_id"] == sha == output_id(node, "out")
    assert (node["title"], node["description"], node["outputs"][0]["file_type"]) == ("big", "sixty-four", "file")
    assert _download_sha(api, sha) == sha
    reverse = _run_reverse(api, node)
    assert _download_sha(api, output_id(reverse, "out")) == _reversed_sha(path)
    # the staging object went, after its bytes were copied under their content id
    from chalicelib.store import aws, uploads
    from chalicelib.store.settings import SETTINGS

    token = created["upload_id"].partition(".")[0]  # this upload's staging key and its .json (other tests
    listed = aws.client("s3").list_objects_v2(  # on the shared stack may leave theirs open)
        Bucket=SETTINGS.bucket, Prefix=uploads.user_prefix("default") + token)
    assert token and [item["Key"] for item in listed.get("Contents", [])] == []


@pytest.mark.slow
def test_the_python_api_streams_a_64_mb_file_in_parts(api, tmp_path) -> None:
    path = str(tmp_path / "big.bin")
    sha = _big_file(path, 64 * MB + 12345)
    progress = io.StringIO()
    node = Client(api.base).upload_file(path, title="from python", file_type="file", stream=progress)
    assert output_id(node, "out") == sha and node["title"] == "from python"
    assert "67.1/67.1 MB" in progress.getvalue() and "MB/s" in progress.getvalue()
    reverse = _run_reverse(api, node)
    assert _download_sha(api, output_id(reverse, "out")) == _reversed_sha(path)


def test_another_user_cannot_complete_abort_or_get_urls_of_an_upload(api) -> None:
    from chalicelib.api import uploads
    from chalicelib.domain.errors import NotFoundError

    data = b"mine " + secrets.token_bytes(16)
    created = _create(api, len(data))
    parts = _put_parts(created, data)
    upload_id = created["upload_id"]
    for attempt in (lambda: uploads.complete(upload_id, {"parts": parts}, "mallory"),
                    lambda: uploads.abort(upload_id, "mallory"),
                    lambda: uploads.part_urls(upload_id, {"part_numbers": [1]}, "mallory")):
        with pytest.raises(NotFoundError, match="not found"):
            attempt()
    # a name that would climb into another user's prefix is quoted, not a path
    with pytest.raises(NotFoundError):
        uploads.complete(upload_id, {"parts": parts}, "../default")
    # the owner's upload is untouched by all that
    done = api.ok("post", f"uploads/{upload_id}/complete", json={"parts": parts})
    assert done["resource_id"] == hashlib.sha256(data).hexdigest()
    assert api.resource(done["resource_id"]) == data


def test_abort_drops_the_upload(api) -> None:
    data = secrets.token_bytes(1000)
    created = _create(api, len(data))
    parts = _put_parts(created, data)
    assert _abort(api, created["upload_id"])["status"] == "SUCCESS"
    response = api.post(f"uploads/{created['upload_id']}/complete", json={"parts": parts})
    assert response.status_code == 404 and "not found" in response.json()["Message"]
    assert api.session.delete(api.url(f"uploads/{created['upload_id']}"), timeout=30).status_code == 404


def test_the_content_id_is_what_s3_holds_whatever_the_client_claims(api) -> None:
    honest, lie = b"honest " + secrets.token_bytes(16), b"other " + secrets.token_bytes(16)
    created = _create(api, len(honest), sha256=hashlib.sha256(lie).hexdigest(), resource_id="0" * 64)
    parts = _put_parts(created, honest)
    # the part is sent again with other bytes after its ETag was taken: S3 holds only the newest
    url = created["parts"][0]["url"]
    replaced = requests.put(url, data=lie[:len(honest)].ljust(len(honest), b"!"), timeout=30)
    assert replaced.status_code == 200
    stale = api.post(f"uploads/{created['upload_id']}/complete",
                     json={"parts": parts, "sha256": hashlib.sha256(lie).hexdigest()})
    assert stale.status_code == 400 and "InvalidPart" in stale.json()["Message"], stale.text
    fresh = [{"part_number": 1, "etag": replaced.headers["ETag"]}]
    done = api.ok("post", f"uploads/{created['upload_id']}/complete",
                  json={"parts": fresh, "sha256": hashlib.sha256(honest).hexdigest()})
    stored = api.resource(done["resource_id"])
    assert stored == lie[:len(honest)].ljust(len(honest), b"!")
    assert done["resource_id"] == hashlib.sha256(stored).hexdigest() != hashlib.sha256(honest).hexdigest()
    # and after completion the part URLs write nothing (AWS: 404 NoSuchUpload; moto 5.2.5 answers 500)
    assert requests.put(url, data=b"late", timeout=30).status_code >= 400
    assert api.resource(done["resource_id"]) == stored


@pytest.mark.parametrize("body, message", [
    ({}, "`parts` must be a non-empty list"),
    ({"parts": "x"}, "`parts` must be a non-empty list"),
    ({"parts": [{"part_number": 1}]}, "`parts[0].etag`"),
    ({"parts": [{"part_number": 0, "etag": "x"}]}, "`parts[0].part_number`"),
    ({"parts": [{"part_number": 2, "etag": "x"}, {"part_number": 1, "etag": "y"}]}, "ascending order"),
    ({"parts": [{"part_number": 1, "etag": "x"}]}, "this upload has 2"),
    ({"parts": [{"part_number": 1, "etag": '"nope"'}, {"part_number": 2, "etag": '"nope"'}]}, "InvalidPart"),
])
def test_a_bad_part_list_is_a_400_with_a_message(api, body, message) -> None:
    data = secrets.token_bytes(9 * MB)
    created = _create(api, len(data))
    assert created["part_count"] == 2
    _put_parts(created, data)
    response = api.post(f"uploads/{created['upload_id']}/complete", json=body)
    assert response.status_code == 400 and message in response.json()["Message"], response.text
    _abort(api, created["upload_id"])


@pytest.mark.parametrize("body, message", [
    ({"title": "x"}, "`size` must be"),
    ({"size": -1}, "`size` must be"),
    ({"size": "12"}, "`size` must be"),
    ({"size": 10, "file_type": "nope"}, "Unknown file_type"),
    ({"size": 10 * MB, "file_type": "int"}, "Not a valid `int` file"),
    ({"size": 10, "title": 5}, "`title` must be a string"),
    ({"size": 10, "file_type": {"a": 1}}, "Unknown file_type"),
])
def test_a_bad_create_is_a_400(api, body, message) -> None:
    response = api.post("uploads", json=body)
    assert response.status_code == 400 and message in response.json()["Message"], response.text


def test_bad_upload_ids_are_404s(api) -> None:
    for upload_id in ("nope", "0" * 32 + ".", "0" * 32 + ".!!!", "0" * 32 + ".YWJj"):
        response = api.post(f"uploads/{upload_id}/complete", json={"parts": [{"part_number": 1, "etag": "x"}]})
        assert response.status_code == 404, (upload_id, response.text)


def test_types_are_checked_on_the_bytes_s3_holds(api) -> None:
    created = _create(api, 3, file_type="int", title="three")
    done = api.ok("post", f"uploads/{created['upload_id']}/complete", json={"parts": _put_parts(created, b"123")})
    assert done["node"]["outputs"][0]["file_type"] == "int"
    bad = b"not a zip at all"
    created = _create(api, len(bad), file_type="directory")
    response = api.post(f"uploads/{created['upload_id']}/complete", json={"parts": _put_parts(created, bad)})
    assert response.status_code == 400 and "Not a valid `directory` file" in response.json()["Message"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as folder:
        folder.writestr("a.txt", "a")
    created = _create(api, len(archive.getvalue()), file_type="directory")
    done = api.ok("post", f"uploads/{created['upload_id']}/complete",
                  json={"parts": _put_parts(created, archive.getvalue())})
    assert done["resource_id"] == hashlib.sha256(archive.getvalue()).hexdigest()


def test_part_urls_are_handed_out_again(api) -> None:
    data = secrets.token_bytes(9 * MB)
    created = _create(api, len(data))
    again = api.ok("post", f"uploads/{created['upload_id']}/parts", json={"part_numbers": [2]})
    assert [part["part_number"] for part in again["parts"]] == [2]
    response = api.post(f"uploads/{created['upload_id']}/parts", json={"part_numbers": [3]})
    assert response.status_code == 400 and "from 1 to 2" in response.json()["Message"]
    parts = _put_parts({**created, "parts": [created["parts"][0], *again["parts"]]}, data)
    done = api.ok("post", f"uploads/{created['upload_id']}/complete", json={"parts": parts})
    assert done["resource_id"] == hashlib.sha256(data).hexdigest()


def test_the_bucket_lets_only_the_uis_origin_put_parts_from_a_browser(api, stack) -> None:
    created = _create(api, 10)
    url = created["parts"][0]["url"]
    ui_origin = f"http://localhost:{stack.ui_port}"
    allowed = requests.options(url, headers={"Origin": ui_origin, "Access-Control-Request-Method": "PUT"}, timeout=30)
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == ui_origin
    assert "ETag" in allowed.headers.get("Access-Control-Expose-Headers", "")
    foreign = requests.options(url, headers={"Origin": "https://evil.example",
                                             "Access-Control-Request-Method": "PUT"}, timeout=30)
    assert foreign.status_code == 403  # as S3 answers; a browser's preflight needs a 2xx to go on
    _abort(api, created["upload_id"])


def test_an_empty_file_and_the_same_bytes_twice(api) -> None:
    created = _create(api, 0, title="empty")
    done = api.ok("post", f"uploads/{created['upload_id']}/complete", json={"parts": _put_parts(created, b"")})
    assert done["resource_id"] == hashlib.sha256(b"").hexdigest() and api.resource(done["resource_id"]) == b""
    data = secrets.token_bytes(6 * MB)  # stored once; the second copy finds its content id there (412): fine
    first, second = _create(api, len(data)), _create(api, len(data))
    ids = [api.ok("post", f"uploads/{c['upload_id']}/complete", json={"parts": _put_parts(c, data)})["resource_id"]
           for c in (first, second)]
    assert ids == [hashlib.sha256(data).hexdigest()] * 2 and api.resource(ids[0]) == data


def test_two_completes_at_once_make_one_file_and_no_500(api) -> None:
    import concurrent.futures

    data = secrets.token_bytes(9 * MB)
    created = _create(api, len(data))
    parts = _put_parts(created, data)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: api.post(f"uploads/{created['upload_id']}/complete", json={"parts": parts}),
                                range(2)))
    codes = sorted(answer.status_code for answer in answers)
    assert codes[0] == 200 and codes[1] in (200, 404, 409), [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 200:
            assert answer.json()["resource_id"] == hashlib.sha256(data).hexdigest()
        else:
            assert "Upload" in answer.json()["Message"]
    assert api.resource(hashlib.sha256(data).hexdigest()) == data


def test_upload_file_over_6_mb_points_at_the_direct_upload(api) -> None:
    response = api.post("upload_file", files={"data": ("big.bin", b"x" * (7 * MB))}, data={"title": "big"})
    assert response.status_code == 400 and "POST /uploads" in response.json()["Message"]


def test_the_python_api_aborts_an_upload_whose_part_keeps_failing(api, tmp_path, monkeypatch) -> None:
    from plynx.api import PlynxError

    path = tmp_path / "small.bin"
    path.write_bytes(b"abc")
    client = Client(api.base)
    deleted: list[str] = []
    request = client.request

    def spy(method: str, route: str, **kwargs):
        if method == "DELETE":
            deleted.append(route)
        return request(method, route, **kwargs)

    monkeypatch.setattr(client, "request", spy)
    monkeypatch.setattr(requests, "put", lambda url, **kwargs: requests.Response())  # status None: refused
    monkeypatch.setattr("plynx.api.client.time.sleep", lambda seconds: None)
    with pytest.raises(PlynxError, match="failed 2 times"):
        client.upload_file(str(path), retries=1, progress=False)
    assert len(deleted) == 1 and deleted[0].startswith("uploads/")
    upload_id = deleted[0].split("/", 1)[1]
    assert api.post(f"uploads/{upload_id}/complete", json={"parts": [{"part_number": 1, "etag": "x"}]}).status_code == 404


def test_the_type_picker_reads_what_each_type_is_for(api) -> None:
    kinds = api.ok("get", "nodes/python")["resources_dict"]
    assert "every input of type `file` takes it" in kinds["file"]["description"]
    assert "JSON" in kinds["json"]["description"] and "value" in kinds["int"]["description"]


def test_a_file_is_retyped_to_a_plain_file_by_approving_a_new_version(api) -> None:
    """The UI's "use as plain file": POST /nodes APPROVE of the file with type `file`; same content, the
    json version deprecated with the new one as its successor (the author's own file)."""
    uploaded = api.upload(b'{"a": 1}', f"data-{secrets.token_hex(3)}", file_type="json")
    retyped = dict(uploaded, outputs=[dict(uploaded["outputs"][0], file_type="file")])
    body = api.ok("post", "nodes", json={"node": retyped, "actions": ["APPROVE"]})
    plain = body["node"]
    assert plain["_id"] != uploaded["_id"] and plain["parent_node_id"] == uploaded["_id"]
    assert plain["node_status"] == "READY" and plain["outputs"][0]["file_type"] == "file"
    assert plain["outputs"][0]["resource_id"] == uploaded["outputs"][0]["resource_id"]
    assert body["replaced_node_id"] == uploaded["_id"]
    old = api.ok("get", f"nodes/{uploaded['_id']}")["data"]
    assert old["node_status"] == "DEPRECATED" and old["successor_node_id"] == plain["_id"]
    assert api.resource(plain["outputs"][0]["resource_id"]) == b'{"a": 1}'
