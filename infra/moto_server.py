"""A moto server that `chalice deploy` can talk to: moto's own server with the fixes it needs.

    python -m infra.moto_server -H 127.0.0.1 -p 5011     # then AWS_ENDPOINT_URL=http://127.0.0.1:5011

Only the tests of the Chalice path (tests/infra/test_chalice_deploy.py) start it; the local stack
(infra/local/) never imports this module.
"""
from __future__ import annotations

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


def patch() -> None:
    """What `chalice deploy` and `chalice delete` need of moto 5.2.5's API Gateway (nothing else changes).

    `import_rest_api` reads `info.description`, which Chalice's document has no key for (a KeyError,
    answered as a 500): API Gateway takes a document without one, so it defaults to "". Both importers
    get the document relabelled as OpenAPI 3 (`_as_openapi3`); moto's validation of a relabelled 2.0
    document (Chalice does not ask for it: failOnWarnings is false) is not run. The importer drops an
    integration's missing `uri` and `httpMethod` before calling `put_integration`, which requires both: a
    MOCK integration (Chalice's CORS preflights) has neither, so they pass as "".
    """
    from moto.apigateway.models import APIGatewayBackend

    if getattr(APIGatewayBackend, "_plynx_patched", False):
        return
    import_rest_api, put_rest_api = APIGatewayBackend.import_rest_api, APIGatewayBackend.put_rest_api
    build_integration_args = APIGatewayBackend._build_integration_args

    def patched_import(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
        api_doc = _as_openapi3(api_doc)
        api_doc["info"] = {"description": "", **api_doc.get("info", {})}
        return import_rest_api(self, api_doc, False)

    def patched_put(self: Any, function_id: str, api_doc: dict[str, Any], fail_on_warnings: bool,
                    mode: str = "merge") -> Any:
        return put_rest_api(self, function_id, _as_openapi3(api_doc), False, mode)

    def patched_integration_args(self: Any, integration: dict[str, Any]) -> dict[str, Any]:
        args = build_integration_args(self, integration)
        if str(integration.get("type", "")).lower() == "mock":
            args = {**args, "uri": args["uri"] or "", "integration_method": args["integration_method"] or ""}
        return args

    APIGatewayBackend._build_integration_args = patched_integration_args  # type: ignore[method-assign]
    APIGatewayBackend.import_rest_api = patched_import  # type: ignore[method-assign]
    APIGatewayBackend.put_rest_api = patched_put  # type: ignore[method-assign]
    APIGatewayBackend._plynx_patched = True  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    """moto's `moto_server` command line, patched first."""
    patch()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
