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
"""
from __future__ import annotations

import json
import os
from typing import Any

ANY_MEDIA_TYPE = "*/*"
TEXT = "CONVERT_TO_TEXT"
DEFAULT_STAGE = "api"  # Chalice's api_gateway_stage


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


def settle(apigw: Any, rest_api_id: str, gateway_stage: str) -> list[str]:
    """Binary media types `*/*` and every preflight's MOCK integration to text, then a deployment of the stage
    if anything changed; what changed."""
    changes = []
    patches = _binary_media_type_patches(apigw.get_rest_api(restApiId=rest_api_id).get("binaryMediaTypes", []))
    if patches:
        apigw.update_rest_api(restApiId=rest_api_id, patchOperations=patches)
        changes.append(f"binary media types: {ANY_MEDIA_TYPE}")
    to_text = [{"op": "replace", "path": "/contentHandling", "value": TEXT}]
    for resource in _resources(apigw, rest_api_id):
        if "OPTIONS" not in resource.get("resourceMethods", {}):
            continue
        where = {"restApiId": rest_api_id, "resourceId": resource["id"], "httpMethod": "OPTIONS"}
        integration = resource["resourceMethods"]["OPTIONS"].get("methodIntegration") or apigw.get_integration(**where)
        if str(integration.get("type", "")).upper() != "MOCK":  # (moto keeps the document's "mock")
            continue
        if integration.get("contentHandling") != TEXT:
            apigw.update_integration(**where, patchOperations=to_text)
            changes.append(f"OPTIONS {resource['path']}: request to text")
        for status, answer in (integration.get("integrationResponses") or {}).items():
            if answer.get("contentHandling") != TEXT:
                apigw.update_integration_response(**where, statusCode=status, patchOperations=to_text)
                changes.append(f"OPTIONS {resource['path']}: answer {status} to text")
    if changes:
        # The changes reach clients with a new deployment of the stage (Chalice's deploy made the current one).
        tracing = apigw.get_stage(restApiId=rest_api_id, stageName=gateway_stage).get("tracingEnabled", False)
        apigw.create_deployment(restApiId=rest_api_id, stageName=gateway_stage, tracingEnabled=tracing,
                                description="binary media type */*, preflights to text (infra/chalice_api.py)")
    return changes
