"""A moto server that `chalice deploy` can talk to: moto's own server with the fixes it needs.

    python -m infra.moto_server -H 127.0.0.1 -p 5011     # then AWS_ENDPOINT_URL=http://127.0.0.1:5011

Only the tests of the Chalice path (tests/infra/test_chalice_deploy.py) start it; the local stack
(infra/local/) never imports this module.
"""
from __future__ import annotations

import json
import sys
from typing import Any


def _as_openapi3(api_doc: dict[str, Any]) -> dict[str, Any]:
    """moto's importer refuses Swagger 2.0 ("Only OpenAPI 3.x.x"), the only version Chalice writes; it reads
    just the paths, methods, responses and `x-amazon-apigateway-integration`s, which both versions spell
    alike, so the document is relabelled 3.0.1 (API Gateway itself takes 2.0)."""
    if api_doc.get("swagger") is not None:
        api_doc = {k: v for k, v in api_doc.items() if k != "swagger"}
        api_doc["openapi"] = "3.0.1"
    return api_doc


BINARY_MEDIA_TYPES = "x-amazon-apigateway-binary-media-types"
BINARY_MEDIA_TYPE_PATH = "/binaryMediaTypes/"


def _media_type(path: str) -> str:
    """`/binaryMediaTypes/*~1*` names `*/*` (a JSON Pointer segment, RFC 6901)."""
    return path[len(BINARY_MEDIA_TYPE_PATH):].replace("~1", "/").replace("~0", "~")


def _replace_content_handling(target: Any, operations: list[dict[str, Any]]) -> None:
    """UpdateIntegration / UpdateIntegrationResponse, as far as infra/chalice_api.py uses them."""
    from moto.apigateway.exceptions import BadRequestException

    for operation in operations:
        if (operation.get("op"), operation.get("path")) != ("replace", "/contentHandling"):
            raise BadRequestException(f"infra/moto_server.py: patch operation {operation} not emulated")
        target.content_handling = operation["value"]


def patch() -> None:
    """What `chalice deploy`, `chalice delete` and infra/chalice_api.py need of moto 5.2.5's API Gateway.

    `import_rest_api` reads `info.description`, which Chalice's document has no key for (a KeyError,
    answered as a 500): API Gateway takes a document without one, so it defaults to "". Both importers
    get the document relabelled as OpenAPI 3 (`_as_openapi3`); moto's validation of a relabelled 2.0
    document (Chalice does not ask for it: failOnWarnings is false) is not run. The importer drops an
    integration's missing `uri` and `httpMethod` before calling `put_integration`, which requires both: a
    MOCK integration (Chalice's CORS preflights) has neither, so they pass as "".

    What infra/chalice_api.py reads and changes after `chalice deploy`: the importers take the document's
    binary media types (`x-amazon-apigateway-binary-media-types`, which moto ignores: `put_rest_api`'s
    overwrite replaces them, merge adds to them); `update_rest_api` adds and removes a binary media type
    named in the patch path, as API Gateway takes it (moto reads a `value`); and `update_integration` /
    `update_integration_response` (not in moto) replace `contentHandling`.

    CloudFormation: a stack that `make infra` creates or updates through a change set answers its Outputs (the
    stage's UiUrl, which infra/deploy.py checks the API's CORS origin against): moto's `execute_change_set`
    applies the template's resources but leaves the stack's outputs as they were (none after a CREATE).
    """
    from moto.apigateway.models import APIGatewayBackend
    from moto.apigateway.responses import APIGatewayResponse
    from moto.cloudformation.models import CloudFormationBackend

    if getattr(APIGatewayBackend, "_plynx_patched", False):
        return
    execute_change_set = CloudFormationBackend.execute_change_set

    def patched_execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        execute_change_set(self, change_set_name, stack_name)
        executed = self.change_sets.get(change_set_name) or next(
            c for c in self.change_sets.values() if c.change_set_name == change_set_name)
        stack = self.stacks[executed.stack_id]
        stack._parse_template()  # the change set's template, which execute_change_set stored unparsed
        stack.output_map = stack._create_output_map()

    CloudFormationBackend.execute_change_set = patched_execute_change_set  # type: ignore[method-assign]
    import_rest_api, put_rest_api = APIGatewayBackend.import_rest_api, APIGatewayBackend.put_rest_api
    update_rest_api = APIGatewayBackend.update_rest_api
    build_integration_args = APIGatewayBackend._build_integration_args

    def patched_import(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
        api_doc = _as_openapi3(api_doc)
        api_doc["info"] = {"description": "", **api_doc.get("info", {})}
        return import_rest_api(self, api_doc, False)

    def patched_put(self: Any, function_id: str, api_doc: dict[str, Any], fail_on_warnings: bool,
                    mode: str = "merge") -> Any:
        api = put_rest_api(self, function_id, _as_openapi3(api_doc), False, mode)
        given = list(api_doc.get(BINARY_MEDIA_TYPES) or [])
        kept = [] if mode == "overwrite" else [t for t in api.binaryMediaTypes if t not in given]
        api.binaryMediaTypes = kept + given
        return api

    def patched_update_rest_api(self: Any, function_id: str, patch_operations: list[dict[str, Any]]) -> Any:
        api = self.get_rest_api(function_id)
        others = []
        for operation in patch_operations:
            if not operation["path"].startswith(BINARY_MEDIA_TYPE_PATH) or operation["op"] not in ("add", "remove"):
                others.append(operation)
            elif operation["op"] == "add" and _media_type(operation["path"]) not in api.binaryMediaTypes:
                api.binaryMediaTypes.append(_media_type(operation["path"]))
            elif operation["op"] == "remove" and _media_type(operation["path"]) in api.binaryMediaTypes:
                api.binaryMediaTypes.remove(_media_type(operation["path"]))
        return update_rest_api(self, function_id, others)

    def update_integration(self: Any) -> Any:
        _, _, function_id, _, resource_id, _, method = self.path.split("/")[:7]
        integration = self.backend.get_integration(function_id, resource_id, method)
        _replace_content_handling(integration, self._get_param("patchOperations") or [])
        return 200, {}, json.dumps(integration.to_json())

    def update_integration_response(self: Any) -> Any:
        parts = self.path.split("/")
        answer = self.backend.get_integration_response(parts[2], parts[4], parts[6], parts[9])
        _replace_content_handling(answer, self._get_param("patchOperations") or [])
        return 200, {}, json.dumps(answer.to_json())

    def patched_integration_args(self: Any, integration: dict[str, Any]) -> dict[str, Any]:
        args = build_integration_args(self, integration)
        if str(integration.get("type", "")).lower() == "mock":
            args = {**args, "uri": args["uri"] or "", "integration_method": args["integration_method"] or ""}
        return args

    APIGatewayBackend._build_integration_args = patched_integration_args  # type: ignore[method-assign]
    APIGatewayBackend.import_rest_api = patched_import  # type: ignore[method-assign]
    APIGatewayBackend.put_rest_api = patched_put  # type: ignore[method-assign]
    APIGatewayBackend.update_rest_api = patched_update_rest_api  # type: ignore[method-assign]
    APIGatewayResponse.update_integration = update_integration  # type: ignore[attr-defined]
    APIGatewayResponse.update_integration_response = update_integration_response  # type: ignore[attr-defined]
    APIGatewayBackend._plynx_patched = True  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    """moto's `moto_server` command line, patched first."""
    patch()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
