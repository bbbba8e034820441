"""The REST API `chalice deploy` made, brought to what `make deploy`'s API document says of binary content.

API Gateway decodes a base64 answer of the API function (a resource's bytes) only for a request whose first
`Accept` type is one of the REST API's binary media types. `make deploy` rewrites Chalice's API document
(infra/deploy.py `with_any_binary_media_type`): binary media types `*/*`, so curl (`Accept: */*`), a browser's
`fetch` and a client with no `Accept` get the bytes; and every CORS preflight's MOCK integration converts
request and answer to text (a MOCK cannot transform a binary body: a 500, aws/chalice#1310).

`chalice deploy` writes the document from `app.api.binary_types`, the same list the function uses at run time
to choose which answers to base64-encode and which `Accept` to refuse; `*/*` there would base64 every JSON
answer, break text previews (aws/chalice#1523) and accept any `Accept`. So the REST API is corrected after
`chalice deploy` instead, with API Gateway's own calls: `settle` (`python -m infra.deploy gateway`, also run
by `make infra`). It is idempotent; every `chalice deploy` puts Chalice's list back (its `put_rest_api`
overwrites the API), so it is run again after each.

The preflights' `Access-Control-Allow-Origin` needs no correction: Chalice imports app.py with the stage's
`environment_variables` (chalice/cli/factory.py, `load_chalice_app`), so the CORSConfig it writes into the
document names the PLYNX_UI_URL `make infra` wrote there from the stack, the same URL the API function gets.
`origin_drift` checks that the two still name the stage's UI (a `chalice deploy` from a configuration without
it, or before the stack's UI changed, would have baked another origin into both).
"""
from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

ANY_MEDIA_TYPE = "*/*"
TEXT = "CONVERT_TO_TEXT"
DEFAULT_STAGE = "api"  # Chalice's api_gateway_stage
ALLOW_ORIGIN = "method.response.header.Access-Control-Allow-Origin"
UI_URL_VARIABLE = "PLYNX_UI_URL"


def _pointer(media_type: str) -> str:
    """A media type as a patch path segment (JSON Pointer escaping, RFC 6901: `*/*` is `*~1*`)."""
    return media_type.replace("~", "~0").replace("/", "~1")


def deployed_rest_api(stage: str, chalice_dir: str) -> tuple[str, str] | None:
    """(REST API id, API Gateway stage) from Chalice's state file .chalice/deployed/<stage>.json; None: none."""
    path = os.path.join(chalice_dir, "deployed", f"{stage}.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as stream:
        resources = json.load(stream).get("resources", [])
    for resource in resources:
        if resource.get("resource_type") == "rest_api":
            # rest_api_url is https://<id>.execute-api.<region>.<suffix>/<api_gateway_stage>/
            gateway_stage = resource["rest_api_url"].rstrip("/").rsplit("/", 1)[-1] or DEFAULT_STAGE
            return resource["rest_api_id"], gateway_stage
    return None


def _binary_media_type_patches(current: list[str]) -> list[dict[str, str]]:
    """Exactly `*/*`, as in make deploy's document (Chalice's other types are then redundant)."""
    patches = [{"op": "remove", "path": f"/binaryMediaTypes/{_pointer(t)}"} for t in current if t != ANY_MEDIA_TYPE]
    if ANY_MEDIA_TYPE not in current:
        patches.append({"op": "add", "path": f"/binaryMediaTypes/{_pointer(ANY_MEDIA_TYPE)}"})
    return patches


def _resources(apigw: Any, rest_api_id: str) -> list[dict]:
    """Each resource with its methods' integrations embedded: one call a page, not one a method (API Gateway's
    control plane allows a few requests a second per account)."""
    return [r for page in apigw.get_paginator("get_resources").paginate(restApiId=rest_api_id, embed=["methods"])
            for r in page["items"]]


def _preflights(apigw: Any, rest_api_id: str) -> Iterator[tuple[str, dict[str, str], dict]]:
    """Each CORS preflight (OPTIONS answered by a MOCK integration): its path, its address for the update calls,
    its integration."""
    for resource in _resources(apigw, rest_api_id):
        if "OPTIONS" not in resource.get("resourceMethods", {}):
            continue
        where = {"restApiId": rest_api_id, "resourceId": resource["id"], "httpMethod": "OPTIONS"}
        integration = resource["resourceMethods"]["OPTIONS"].get("methodIntegration") or apigw.get_integration(**where)
        if str(integration.get("type", "")).upper() == "MOCK":  # (moto keeps the document's "mock")
            yield resource["path"], where, integration


def settle(apigw: Any, rest_api_id: str, gateway_stage: str) -> list[str]:
    """Binary media types `*/*` and every preflight's MOCK integration to text, then a deployment of the stage
    if anything changed; what changed."""
    changes = []
    patches = _binary_media_type_patches(apigw.get_rest_api(restApiId=rest_api_id).get("binaryMediaTypes", []))
    if patches:
        apigw.update_rest_api(restApiId=rest_api_id, patchOperations=patches)
        changes.append(f"binary media types: {ANY_MEDIA_TYPE}")
    to_text = [{"op": "replace", "path": "/contentHandling", "value": TEXT}]
    for path, where, integration in _preflights(apigw, rest_api_id):
        if integration.get("contentHandling") != TEXT:
            apigw.update_integration(**where, patchOperations=to_text)
            changes.append(f"OPTIONS {path}: request to text")
        for status, answer in (integration.get("integrationResponses") or {}).items():
            if answer.get("contentHandling") != TEXT:
                apigw.update_integration_response(**where, statusCode=status, patchOperations=to_text)
                changes.append(f"OPTIONS {path}: answer {status} to text")
    if changes:
        # The changes reach clients with a new deployment of the stage (Chalice's deploy made the current one).
        tracing = apigw.get_stage(restApiId=rest_api_id, stageName=gateway_stage).get("tracingEnabled", False)
        apigw.create_deployment(restApiId=rest_api_id, stageName=gateway_stage, tracingEnabled=tracing,
                                description="binary media type */*, preflights to text (infra/chalice_api.py)")
    return changes


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL: what a browser on its pages sends as `Origin` (chalicelib/api/origin.py)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def deployed_function(stage: str, chalice_dir: str, name: str = "api_handler") -> str | None:
    """The ARN of a function `chalice deploy` made (the API's by default), from .chalice/deployed/<stage>.json."""
    path = os.path.join(chalice_dir, "deployed", f"{stage}.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as stream:
        resources = json.load(stream).get("resources", [])
    return next((r["lambda_arn"] for r in resources if r.get("resource_type") == "lambda_function"
                 and r.get("name") == name), None)


def origin_drift(apigw: Any, rest_api_id: str, ui_origin: str, function_environment: dict[str, str]) -> list[str]:
    """Why a browser on the stage's UI (`ui_origin`) could not use the API: preflights that allow another origin
    (the browser then sends nothing), an API function whose PLYNX_UI_URL is another origin (it refuses the UI's
    requests). Empty: none."""
    allowed = f"'{ui_origin}'"  # a header mapping's static value is quoted
    others: dict[str, list[str]] = defaultdict(list)
    for path, _, integration in _preflights(apigw, rest_api_id):
        for answer in (integration.get("integrationResponses") or {}).values():
            value = (answer.get("responseParameters") or {}).get(ALLOW_ORIGIN)
            if value != allowed:
                others[str(value)].append(path)
    problems = [f"{len(paths)} CORS preflights answer Access-Control-Allow-Origin {value} (OPTIONS {paths[0]}, ...)"
                for value, paths in sorted(others.items())]
    url = function_environment.get(UI_URL_VARIABLE)
    if url is None or origin(url) != ui_origin:
        problems.append(f"the API function's {UI_URL_VARIABLE} is {url or 'unset (so http://localhost:3001)'}")
    return problems
