"""schemas/openapi.json: a valid OpenAPI 3.1 document that covers every route the mock serves,
as a file with references to its siblings and as the bundled copy at GET /openapi.json."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing.exceptions import Unresolvable

from mock_server.app import create_app
from mock_server.schemas import SCHEMA_DIR, bundled_openapi, load_schema, schema_names
from tests.conftest import AppClient

OPENAPI = SCHEMA_DIR / "openapi.json"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_the_file_is_valid_openapi_3_1_with_its_references_resolved() -> None:
    validate_openapi(load_schema("openapi"), base_uri=OPENAPI.resolve().as_uri())


def test_the_validator_follows_file_references() -> None:
    """Without this, the test above could pass on a document whose references dangle."""
    document = load_schema("openapi")
    document["components"]["schemas"] = {"Broken": {"$ref": "no-such-file.json"}}
    paths = document["paths"]["/analyze"]["post"]["requestBody"]["content"]
    paths["application/json"]["schema"] = {"$ref": "#/components/schemas/Broken"}
    with pytest.raises((OpenAPIValidationError, Unresolvable, OSError)):
        validate_openapi(document, base_uri=OPENAPI.resolve().as_uri())


def test_every_schema_file_is_part_of_the_document() -> None:
    referenced = {ref.partition("#")[0] for ref in _refs(load_schema("openapi"))}
    files = {f"{name}.json" for name in schema_names()} - {"common.json"}
    assert files <= referenced


def test_the_bundle_is_self_contained_and_valid() -> None:
    bundle = bundled_openapi()
    refs = _refs(bundle)
    assert refs and all(ref.startswith("#/components/") for ref in refs)
    for ref in refs:
        kind, name = ref.removeprefix("#/components/").split("/")
        assert name in bundle["components"][kind], ref
    validate_openapi(bundle)


def test_every_route_of_the_mock_api_is_documented() -> None:
    documented = set(bundled_openapi()["paths"])
    routes = {
        resource.canonical.replace("{request_id}", "{requestId}")
        for resource in create_app().router.resources()
        if not resource.canonical.startswith("/_mock/")
    }
    assert routes == documented


@pytest.mark.parametrize("route", ["/analyze", "/resize", "/export"])
def test_each_api_route_lists_every_documented_error(route: str) -> None:
    operation = bundled_openapi()["paths"][route]
    assert set(operation["post"]["responses"]) == {"200", "400", "401", "402", "403", "413", "429"}
    assert set(operation["x-other-methods"]["responses"]) == {"405"}
    assert set(operation) == {"post", "description", "x-other-methods"}  # POST is the only method


def test_the_three_webhooks_are_described() -> None:
    assert set(bundled_openapi()["webhooks"]) == {"analyzeResult", "resizeResult", "exportResult"}


async def test_the_mock_serves_the_bundle_with_itself_as_first_server(mock: AppClient) -> None:
    response = await mock.get("/openapi.json")
    assert response.status == 200
    document = json.loads(await response.read())
    assert document["servers"][0]["url"] == str(mock.make_url("")).rstrip("/")
    assert document["servers"][1:] == bundled_openapi()["servers"]
    assert document["paths"] == bundled_openapi()["paths"]
