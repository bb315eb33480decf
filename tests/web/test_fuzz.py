"""Fuzzing: schemathesis against the mock's own /openapi.json, every operation.

The mock runs on free loopback ports for the module: one for the API, one for the results origin.
Schemathesis loads the document the mock serves at /openapi.json, which names this mock first both
for the API and on the results path's own servers, and sends each operation to its origin. It
generates valid and invalid requests for every operation (its examples, coverage and fuzzing
phases, derandomized and bounded) and checks each response against that same document: no 5xx,
every status documented, every body and content type as documented, invalid requests refused, the
API key enforced.

Three adjustments keep the run fast, offline and deep, each applied to a generated case before it
is sent and each mapping a value the mock accepts to another it accepts:
- URLs the mock would accept are pointed at the mock itself: `sourceFileUrl` at a bundled
  12-second song, `resultWebhook` at a webhook sink. No generated host is ever contacted.
- Resize bodies are made self-consistent (N boundaries, N(N+1)/2 similarity characters within
  min..max), which JSON Schema cannot say, so the resize engine runs and its answers are checked.
- Result paths mostly name results that exist (made before fuzzing), so 200, 206 and 416 answers,
  with their content types, are checked too, not only 404s.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeGuard
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from mock_server.contract.profile import Profile
from mock_server.contract.schemas import RESULTS_PATH, bundled_openapi, on_results_origin
from mock_server.settings import DEFAULT_KEY, Settings
from mock_server.sources import SourceMode, validate_source_url
from mock_server.testing.inprocess import MockServer

if TYPE_CHECKING:
    from schemathesis.core.jsonschema.types import JsonValue
    from schemathesis.specs.openapi.schemas import OpenApiCase

MAX_EXAMPLES = 100  # per operation, fuzzing phase; the whole file stays well under 60 s
SONG = "pop_120"  # one of the fixture songs the mock bundles and serves itself
SINK = "fuzz"  # /_mock/sink/fuzz records every webhook of the run
# The patterns the document gives the two path parameters of RESULTS_PATH.
REQUEST_ID = re.compile(r"[a-z0-9]{32}")
RESULT_NAME = re.compile(r"analysis\.json|resize\.json|export_[1-9][0-9]*\.(mp3|wav)")
MAX_RESIZE_BOUNDARIES = 200  # keeps a consistent resize body small enough to answer at once


@pytest.fixture(scope="module")
def mock_server() -> Iterator[MockServer]:
    settings = Settings(
        workers=1,
        seed=0,
        rate_limit=10**6,  # schemathesis sends hundreds of requests with one key
        # Sources on loopback (the bundled song, see `confine_urls`) are downloaded; any other
        # host would get a song rendered from its URL, never a download.
        sources=SourceMode.LOCAL,
        profile=Profile(webhook_attempts=1, webhook_timeout_seconds=5.0),  # the sink answers
    )
    with MockServer(settings) as server:
        yield server
        attempts = requests.get(f"{server.base_url}/_mock/webhooks", timeout=10).json()
        strays = sorted({a["url"] for a in attempts if not a["url"].startswith(server.base_url)})
        assert not strays, f"webhooks went beyond the mock: {strays}"


def _post(server: MockServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(
        f"{server.base_url}{path}", json=body, headers={"X-API-Key": DEFAULT_KEY}, timeout=30
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _wait_for(url: str, seconds: float = 60.0) -> requests.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = requests.get(url, timeout=30)
        if response.status_code == 200 or time.monotonic() > deadline:
            assert response.status_code == 200, f"{url}: {response.status_code} {response.text}"
            return response
        time.sleep(0.1)


@pytest.fixture(scope="module")
def known_results(mock_server: MockServer) -> list[tuple[str, str]]:
    """(requestId, name) of one result of each kind: analysis, resize, WAV and MP3 exports."""
    base = mock_server.base_url
    source = f"{base}/_mock/fixtures/{SONG}"
    hook = f"{base}/_mock/sink/{SINK}"
    analysis_url = _post(mock_server, "/analyze", {"resultWebhook": hook, "sourceFileUrl": source})[
        "resultUrl"
    ]
    analysis = _wait_for(analysis_url).json()["result"]
    resize = {
        "resultWebhook": hook,
        "targetLengthSeconds": 8,
        "similarity": analysis["similarity"],
        "boundaries": analysis["boundaries"],
    }
    urls = [_post(mock_server, "/resize", resize)["resultUrl"]]
    for fmt in ("wav", "mp3_128"):
        export = {
            "resultWebhook": hook,
            "sourceFileUrl": source,
            "exportFormat": fmt,
            "segmentsGroups": [[[0.0, 2.0], [4.0, 6.0]]],
        }
        urls += _post(mock_server, "/export", export)["resultUrls"]
    known = []
    for url in [analysis_url, *urls]:
        _wait_for(url)
        known.append(_result_path(url, mock_server.results_url))
    return known


def _result_path(url: str, results_url: str) -> tuple[str, str]:
    """(requestId, name) of a result URL, which must be on the mock's results origin."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == results_url, url
    request_id, name = parts.path.strip("/").split("/")
    return request_id, name


def _origin_of(server: MockServer, path: str) -> str:
    """Where the mock serves the documented `path`: results on their own origin, as live."""
    on_results = on_results_origin(bundled_openapi())
    return server.results_url if path in on_results else server.base_url


def _assert_every_operation_reaches_the_mock(schema: OpenApiSchema, server: MockServer) -> None:
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"the served document has an invalid operation: {result.err()}")
        operation = result.ok()
        origin = (operation.base_url or "").rstrip("/")
        assert origin == _origin_of(server, operation.path), (operation.path, origin)


@pytest.fixture(scope="module")
def api_schema(mock_server: MockServer, known_results: list[tuple[str, str]]) -> OpenApiSchema:
    # No `base-url`: pinned, it would send every operation to that one origin. Without it
    # schemathesis 4.32 sends an operation to the first of its path's own servers (the served
    # document names this mock's results listener first, the reference's host after it), else to
    # the origin it loaded the document from (this mock's API).
    config = schemathesis.Config.from_dict(
        {
            "generation": {
                "mode": "all",  # valid and invalid requests
                "deterministic": True,  # Hypothesis' derandomize: the same cases every run
                "max-examples": MAX_EXAMPLES,
                "database": "none",  # nothing remembered between runs, nothing written
            },
            # The documented scheme with the mock's default key; the `ignored_auth` check also
            # sends cases without it and with a wrong one, and expects 401 / 403.
            "auth": {"openapi": {"ApiKey": {"api_key": DEFAULT_KEY}}},
            "operations": [
                {
                    # Schema-valid bodies may still be refused with the documented 400: the
                    # reference demands what JSON Schema cannot express (http(s) URLs only, at
                    # least 2 strictly increasing boundaries, min < max, N(N+1)/2 similarity
                    # characters, segments inside the audio).
                    "include-tag": "api",
                    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400"]}},
                },
                {
                    # The newer routes: a schema-valid source that is no audio (or cannot be
                    # downloaded) fails the synchronous structure with the profile's 422.
                    "include-operation-id": "structure",
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "422"]}
                    },
                },
                {
                    # A well-formed secret or id that GET /upload never handed out is 404; an
                    # empty PUT 400.
                    "include-operation-id": ["putUpload", "getUpload"],
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404"]}
                    },
                },
                {
                    # Any string is a valid Range, but one the file cannot satisfy gets the
                    # documented 416; a well-formed id of no result gets the documented 404.
                    "include-operation-id": "getResult",
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", "404", "416"]}
                    },
                },
            ],
        }
    )
    schema = schemathesis.openapi.from_url(
        f"{mock_server.base_url}/openapi.json", config=config, timeout=10
    )
    # Before any case is sent: a document naming another host first would send it there.
    _assert_every_operation_reaches_the_mock(schema, mock_server)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _nodeid_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's lazy loader reads and rewrites `item._nodeid`, which pytest 9.2 no
    longer has (the id lives in `item._id`). Give it one to read; pytest ignores what it writes
    back and reports each operation under its subtest label instead."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def _accepted_url(value: object) -> bool:
    """Whether the mock would take `value` as a URL (the same check its handlers make)."""
    try:
        validate_source_url(value, allow_file_urls=False)
    except ValueError:
        return False
    return True


def confine_urls(case: OpenApiCase, base_url: str) -> None:
    """Point every URL the mock would act on at the mock itself; refused ones stay as generated."""
    body = case.body
    if not isinstance(body, dict):
        return
    targets = {
        "sourceFileUrl": f"{base_url}/_mock/fixtures/{SONG}",
        "resultWebhook": f"{base_url}/_mock/sink/{SINK}",
    }
    for field, target in targets.items():
        if field in body and _accepted_url(body[field]):
            body[field] = target


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _code(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 32 <= value <= 126


def _boundaries(value: JsonValue) -> list[int | float] | None:
    """`value` as schema-valid boundaries (1..MAX_RESIZE_BOUNDARIES numbers >= 0), else None."""
    if not (isinstance(value, list) and 1 <= len(value) <= MAX_RESIZE_BOUNDARIES):
        return None
    times = [b for b in value if _number(b) and b >= 0]
    return times if len(times) == len(value) else None


def make_resize_consistent(case: OpenApiCase) -> None:
    """A resize body whose boundaries and similarity are schema-valid becomes one the engine takes:
    boundaries sorted and distinct (at least 2), min < max, and exactly N(N+1)/2 characters of
    data within min..max, drawn from the generated ones. Any other field is left alone, so an
    invalid body stays invalid."""
    body = case.body
    if not isinstance(body, dict):
        return
    boundaries, similarity = _boundaries(body.get("boundaries")), body.get("similarity")
    if boundaries is None or not isinstance(similarity, dict):
        return
    seed, first, second = similarity.get("data"), similarity.get("min"), similarity.get("max")
    if not (isinstance(seed, str) and _code(first) and _code(second)):
        return
    times = sorted(set(boundaries))
    if len(times) < 2:
        times.append(times[0] + 1)
    low, high = sorted((first, second))
    if low == high:
        low, high = (low, low + 1) if low < 126 else (low - 1, low)
    span = high - low + 1
    size = len(times) * (len(times) + 1) // 2
    seed = seed or chr(high)
    data = "".join(chr(low + ord(seed[i % len(seed)]) % span) for i in range(size))
    body["boundaries"] = list(times)  # a new list, typed as the JSON body holds it
    body["similarity"] = {**similarity, "data": data, "min": low, "max": high}


def point_at_known_result(case: OpenApiCase, known: list[tuple[str, str]]) -> None:
    """Swap a well-formed result path for one that exists, for all but one in len(known) + 1 cases
    (those still ask for a result that does not exist)."""
    params = case.path_parameters
    request_id, name = params.get("requestId"), params.get("name")
    if not (
        isinstance(request_id, str)
        and REQUEST_ID.fullmatch(request_id)
        and isinstance(name, str)
        and RESULT_NAME.fullmatch(name)
    ):
        return  # an invalid path stays invalid
    pick = zlib.crc32(f"{request_id}/{name}".encode()) % (len(known) + 1)
    if pick < len(known):
        params["requestId"], params["name"] = known[pick]


@schema.parametrize()
def test_the_mock_honours_its_own_openapi_document(
    case: OpenApiCase, mock_server: MockServer, known_results: list[tuple[str, str]]
) -> None:
    confine_urls(case, mock_server.base_url)
    if case.operation.path == "/resize":
        make_resize_consistent(case)
    if case.operation.path == RESULTS_PATH:
        point_at_known_result(case, known_results)
    case.call_and_validate(timeout=30)  # to the operation's origin, checked in `api_schema`


def test_the_fuzzed_requests_reach_the_mock_only(
    api_schema: OpenApiSchema, mock_server: MockServer
) -> None:
    """The served document also names the reference's hosts; every operation goes to the mock,
    the API's to its API origin and the results path to its results origin."""
    _assert_every_operation_reaches_the_mock(api_schema, mock_server)


# The bugs the fuzzing found, each pinned by a test of its own.

RESIZE_BODY: dict[str, Any] = {
    "similarity": {"data": "!" * 6, "min": 32, "max": 33},
    "boundaries": [0.0, 1.0, 2.0],
    "targetLengthSeconds": 1,
}
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _send(
    api_schema: OpenApiSchema, method: str, path: str, **parts: Any
) -> tuple[OpenApiCase, schemathesis.Response]:
    """Send one case to the origin the served document names for `path` (the mock's)."""
    case = api_schema[path][method].Case(**parts)
    return case, case.call(headers={"X-API-Key": DEFAULT_KEY}, timeout=30)


def test_resize_refuses_boundaries_no_song_has(api_schema: OpenApiSchema) -> None:
    body = {
        "similarity": {"data": "!!!", "min": 32, "max": 33},
        "boundaries": [0.0, 1e307],
        "targetLengthSeconds": 0.001,
    }
    case, response = _send(api_schema, "POST", "/resize", body=body)
    assert response.status_code == 400 and "from 0 to 86400" in response.text, response.text
    case.validate_response(response, checks=CONFORMANCE)


def test_resize_takes_a_null_webhook_as_none(api_schema: OpenApiSchema) -> None:
    body = {**RESIZE_BODY, "resultWebhook": None}
    case, response = _send(api_schema, "POST", "/resize", body=body)
    assert response.status_code == 200 and response.json()["result"], response.text[:300]
    case.validate_response(response, checks=CONFORMANCE)


@pytest.mark.parametrize("path", ["/analyze", "/resize", "/export"])
def test_unknown_body_fields_are_refused(
    api_schema: OpenApiSchema, mock_server: MockServer, path: str
) -> None:
    base = mock_server.base_url
    valid = {
        "/analyze": {
            "resultWebhook": f"{base}/_mock/sink/{SINK}",
            "sourceFileUrl": f"{base}/_mock/fixtures/{SONG}",
        },
        "/resize": RESIZE_BODY,
        "/export": {
            "resultWebhook": f"{base}/_mock/sink/{SINK}",
            "sourceFileUrl": f"{base}/_mock/fixtures/{SONG}",
            "exportFormat": "wav",
            "segmentsGroups": [[[0.0, 1.0]]],
        },
    }[path]
    body = {**valid, "x-unknown-field": 42}
    case, response = _send(api_schema, "POST", path, body=body)
    assert response.status_code == 400, response.text[:300]
    case.validate_response(response, checks=CONFORMANCE)


def test_a_json_result_is_always_whole(
    api_schema: OpenApiSchema, mock_server: MockServer, known_results: list[tuple[str, str]]
) -> None:
    """A byte range of a JSON document is not JSON: Range is ignored for JSON results."""
    request_id, name = next(known for known in known_results if known[1].endswith(".json"))
    case, response = _send(
        api_schema,
        "GET",
        RESULTS_PATH,
        path_parameters={"requestId": request_id, "name": name},
        headers={"Range": "bytes=0-9"},
    )
    assert response.request.url == f"{mock_server.results_url}/{request_id}/{name}"
    assert response.status_code == 200 and response.json()["requestId"] == request_id
    case.validate_response(response, checks=CONFORMANCE)


@pytest.mark.parametrize(
    ("method", "documented", "path", "allowed"),
    [
        ("GET", "/analyze", "/analyze", {"POST"}),
        ("PUT", "/resize", "/resize", {"POST"}),
        ("DELETE", "/export", "/export", {"POST"}),
        ("POST", RESULTS_PATH, f"/{'0' * 32}/analysis.json", {"GET"}),
        ("POST", "/openapi.json", "/openapi.json", {"GET"}),
    ],
)
def test_405_names_the_allowed_methods(
    mock_server: MockServer, method: str, documented: str, path: str, allowed: set[str]
) -> None:
    url = f"{_origin_of(mock_server, documented)}{path}"
    response = requests.request(method, url, headers={"X-API-Key": DEFAULT_KEY}, timeout=30)
    assert response.status_code == 405
    listed = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
    assert allowed <= listed, f"Allow: {response.headers.get('Allow')!r}"
