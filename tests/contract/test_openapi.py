"""schemas/openapi.json: a valid OpenAPI 3.1 document that covers every route the mock serves, on
the API origin and the results origin, as a file with references to its siblings and as the
bundled copy at GET /openapi.json."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing.exceptions import Unresolvable

from mock_server.contract.schemas import (
    RESULTS_PATH,
    SCHEMA_DIR,
    bundled_openapi,
    load_schema,
    on_results_origin,
    schema_names,
)
from mock_server.web.app import RESULTS_APP
from mock_server.web.keys import SERVICES
from tests.conftest import AppClient, MakeMock, Receiver
from tests.support import TINY_RESIZE

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


async def test_every_route_of_the_mock_api_is_documented(mock: AppClient) -> None:
    """Both listeners' routes: the API app's and the results app's (only made at start-up)."""
    assert mock.app is not None
    apps = [mock.app, mock.app[RESULTS_APP]]
    documented = set(bundled_openapi()["paths"])
    routes = {
        resource.canonical.replace("{request_id}", "{requestId}")
        for app in apps
        for resource in app.router.resources()
        if not resource.canonical.startswith("/_mock/")
    }
    # `/` is the mock's own landing page (links to the dashboard), no route of the API's.
    assert routes - {"/"} == documented


def test_results_are_documented_on_their_own_origin() -> None:
    """As the reference's examples show them: on results.api.audjust.com, not the API's host."""
    document = load_schema("openapi")
    servers = [server["url"] for server in document["paths"][RESULTS_PATH]["servers"]]
    assert servers == ["https://results.api.audjust.com", "http://127.0.0.1:8081"]
    assert document["servers"][0]["url"] == "https://api.audjust.com"
    text = json.dumps(document)
    assert "/results/" not in text and "`/results`" not in text  # the old, API-origin prefix


def test_every_error_answer_documents_the_detail_header() -> None:
    for name, response in bundled_openapi()["components"]["responses"].items():
        header = response["headers"]["X-Mock-Detail"]
        assert header == {"$ref": "#/components/headers/MockDetail"}, name


@pytest.mark.parametrize("route", ["/analyze", "/resize", "/export"])
def test_each_api_route_lists_every_documented_error(route: str) -> None:
    operation = bundled_openapi()["paths"][route]
    assert set(operation["post"]["responses"]) == {"200", "400", "401", "402", "403", "413", "429"}
    assert set(operation["x-other-methods"]["responses"]) == {"405"}
    assert set(operation) == {"post", "description", "x-other-methods"}  # POST is the only method


def test_the_four_webhooks_are_described() -> None:
    webhooks = {"analyzeResult", "resizeResult", "exportResult", "structureResult"}
    assert set(bundled_openapi()["webhooks"]) == webhooks


async def _served(mock: AppClient) -> dict[str, Any]:
    async with mock.get("/openapi.json") as response:
        assert response.status == 200
        document: dict[str, Any] = json.loads(await response.read())
    return document


async def test_the_mock_serves_the_bundle_with_itself_as_first_server(mock: AppClient) -> None:
    document = await _served(mock)
    assert document["servers"][0]["url"] == str(mock.make_url("")).rstrip("/")
    assert document["servers"][1:] == bundled_openapi()["servers"]
    # Apart from this mock's two servers, the served document is the bundle.
    results_servers = document["paths"][RESULTS_PATH]["servers"]
    assert results_servers[1:] == bundled_openapi()["paths"][RESULTS_PATH]["servers"]
    expected = copy.deepcopy(bundled_openapi())
    expected["servers"] = document["servers"]
    for path in on_results_origin(expected):
        expected["paths"][path]["servers"] = results_servers
    assert document == expected


async def test_the_served_results_path_names_the_mocks_results_origin_first(
    mock: AppClient, receiver: Receiver
) -> None:
    """The results listener, on the host the client addressed: where result URLs point and
    where a GET of one answers."""
    assert mock.app is not None
    port = mock.app[SERVICES].results_port
    origin = str(mock.make_url("").origin().with_port(port)).rstrip("/")
    servers = (await _served(mock))["paths"][RESULTS_PATH]["servers"]
    assert servers[0] == {"url": origin, "description": "This mock's results listener"}

    body = {**TINY_RESIZE, "resultWebhook": receiver.url()}
    async with mock.post("/resize", json=body, headers={"X-API-Key": "test-key"}) as response:
        ack = await response.json()
    served_url = f"{servers[0]['url']}/{ack['requestId']}/resize.json"
    assert ack["resultUrl"] == served_url
    (webhook,) = await receiver.wait_for(1)
    async with mock.session.get(served_url) as response:
        assert response.status == 200
        assert await response.json() == {k: v for k, v in webhook.items() if k != "path"}
    async with mock.get(f"/results/{ack['requestId']}/resize.json") as response:
        assert response.status == 404  # not on the API's origin


async def test_a_configured_results_url_is_the_first_results_server(make_mock: MakeMock) -> None:
    mock = await make_mock(results_url="https://results.example.test/")
    servers = (await _served(mock))["paths"][RESULTS_PATH]["servers"]
    assert servers[0]["url"] == "https://results.example.test"
