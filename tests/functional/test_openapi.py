"""The OpenAPI document served by the API is valid and names exactly the routes that exist."""
from __future__ import annotations

from openapi_spec_validator import validate


def _routes() -> set[tuple[str, str]]:
    from app import API, app

    return {(path[len(API):], method.lower()) for path, methods in app.routes.items() for method in methods}


def test_openapi_document_is_valid_and_matches_the_routes(api) -> None:
    document = api.ok("get", "openapi.json")
    validate(document)
    described = {(path, method) for path, operations in document["paths"].items() for method in operations}
    routes = _routes()
    assert not routes - described, f"routes missing from the OpenAPI document: {sorted(routes - described)}"
    assert not described - routes, f"the OpenAPI document names routes that do not exist: {sorted(described - routes)}"


def test_openapi_needs_no_credentials(api) -> None:
    import requests

    response = requests.get(api.url("openapi.json"), timeout=30)
    assert response.status_code == 200 and response.json()["openapi"].startswith("3.")
