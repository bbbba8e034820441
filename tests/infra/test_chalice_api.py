"""infra/chalice_api.py without a server: where it finds the REST API, and the binary media type patches it
sends (test_chalice_deploy.py runs it on a moto server against `chalice deploy`'s API)."""
from __future__ import annotations

import json
from typing import Any

from infra import chalice_api


def _state(tmp_path: Any, resources: list[dict]) -> str:
    (tmp_path / "deployed").mkdir()
    (tmp_path / "deployed" / "dev.json").write_text(json.dumps({"resources": resources, "schema_version": "2.0"}))
    return str(tmp_path)


def test_the_rest_api_and_its_stage_come_from_chalices_state_file(tmp_path: Any) -> None:
    assert chalice_api.deployed_rest_api("dev", str(tmp_path)) is None  # before the first `chalice deploy`
    chalice_dir = _state(tmp_path, [
        {"name": "api_handler", "resource_type": "lambda_function", "lambda_arn": "arn:aws:lambda:::function:x"},
        {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": "abc123",
         "rest_api_url": "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/"}])
    assert chalice_api.deployed_rest_api("dev", chalice_dir) == ("abc123", "v1")  # api_gateway_stage: v1
    assert chalice_api.deployed_rest_api("prod", chalice_dir) is None
    assert chalice_api.deployed_function("dev", chalice_dir) == "arn:aws:lambda:::function:x"  # the API's
    assert chalice_api.deployed_function("dev", chalice_dir, "execution_ended") is None


def test_the_origin_a_browser_sends_from_the_ui() -> None:
    assert chalice_api.origin("https://d111111abcdef8.cloudfront.net") == "https://d111111abcdef8.cloudfront.net"
    assert chalice_api.origin("https://ui.example.com:8443/app/index.html") == "https://ui.example.com:8443"


def test_binary_media_types_become_exactly_any_and_then_stay() -> None:
    chalices = ["application/octet-stream", "multipart/form-data"]
    assert chalice_api._binary_media_type_patches(chalices) == [
        {"op": "remove", "path": "/binaryMediaTypes/application~1octet-stream"},
        {"op": "remove", "path": "/binaryMediaTypes/multipart~1form-data"},
        {"op": "add", "path": "/binaryMediaTypes/*~1*"}]  # a JSON Pointer segment: `/` is `~1`
    assert chalice_api._binary_media_type_patches(["*/*"]) == []
    assert chalice_api._binary_media_type_patches([]) == [{"op": "add", "path": "/binaryMediaTypes/*~1*"}]
