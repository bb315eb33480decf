"""schemas/control-openapi.json: a valid OpenAPI 3.1 document for the mock's own /_mock/* routes,
naming exactly the routes the app registers, and the answers over a real socket match it."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from mock_server.contract.schemas import control_openapi
from mock_server.web.app import create_app
from tests.conftest import AppClient, MakeMock, Receiver
from tests.support import KEY, TINY_RESIZE, wait_until

TOKEN = "let-me-in"
DOCUMENT = control_openapi()
# Where the document sits in the registry, so that its `#/components/...` references resolve.
BASE = "https://audjust-mock.dev/schemas/control-openapi.json"
REGISTRY = Registry().with_resource(BASE, DRAFT202012.create_resource(DOCUMENT))
METHODS = {"get", "put", "post", "delete", "patch", "options", "trace"}
MOCK_ONLY = "the live Audjust API has no such route"
Operation = tuple[str, str]  # method, path as the document writes it


def documented() -> dict[Operation, dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def registered() -> set[Operation]:
    """Every /_mock/* route and method the app serves; HEAD is aiohttp's own, beside each GET."""
    return {
        (route.method, route.resource.canonical)
        for route in create_app().router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/_mock/")
        and route.method != "HEAD"
    }


def _resolved(response: dict[str, Any], pointer: list[str]) -> tuple[dict[str, Any], list[str]]:
    ref = response.get("$ref")
    if ref is None:
        return response, pointer
    assert ref.startswith("#/components/responses/"), ref
    name = ref.removeprefix("#/components/responses/")
    return DOCUMENT["components"]["responses"][name], ["components", "responses", name]


def schema_pointer(method: str, path: str, status: int, media_type: str) -> str:
    """The JSON pointer to the schema of one answer; AssertionError when the document has none,
    so that no answer passes for want of a schema."""
    operation = documented().get((method, path))
    assert operation is not None, f"{method} {path} is not in the document"
    response = operation["responses"].get(str(status))
    assert response is not None, f"{method} {path} documents no {status} answer"
    response, steps = _resolved(response, ["paths", path, method.lower(), "responses", str(status)])
    content = response.get("content", {})
    assert media_type in content, f"{method} {path} {status} documents no {media_type} body"
    assert "schema" in content[media_type], f"{method} {path} {status} {media_type}: no schema"
    steps = [*steps, "content", media_type, "schema"]
    return quote("/" + "/".join(s.replace("~", "~0").replace("/", "~1") for s in steps), "/~")


def check_answer(method: str, path: str, status: int, media_type: str, body: bytes) -> Any:
    """The answer's JSON, after checking it against the document's schema for its status."""
    pointer = schema_pointer(method, path, status, media_type)
    if media_type != "application/json":
        assert body, f"{method} {path} {status}: an empty {media_type} body"
        return None
    document = json.loads(body)
    Draft202012Validator({"$ref": f"{BASE}#{pointer}"}, registry=REGISTRY).validate(document)
    return document


class Checked:
    """Sends requests to a mock and checks every answer against the document, noting which
    operation and status each one exercised."""

    def __init__(self, mock: AppClient) -> None:
        self.mock = mock
        self.seen: set[tuple[str, str, int]] = set()

    async def call(
        self,
        method: str,
        path: str,
        status: int,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        concrete = path.format(**(params or {}))
        options: dict[str, Any] = {"headers": headers or {}}
        if raw is not None:
            options["data"] = raw
        elif body is not None:
            options["json"] = body
        async with self.mock.request(method, concrete, **options) as response:
            answer = await response.read()
            assert response.status == status, (method, concrete, response.status, answer)
            media_type = response.content_type
        self.seen.add((method, path, status))
        return check_answer(method, path, status, media_type, answer)

    async def first_event(self, path: str) -> bytes:
        """The first event of a stream that never ends, checked against the document."""
        async with self.mock.get(path) as response:
            assert response.status == 200
            event = await response.content.readuntil(b"\n\n")
            check_answer("GET", path, 200, response.content_type, event)
        self.seen.add(("GET", path, 200))
        return event


# --- the document ---------------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1() -> None:
    validate_openapi(DOCUMENT)


def test_the_document_refers_only_to_its_own_components() -> None:
    found = re.findall(r'"\$ref": "([^"]*)"', json.dumps(DOCUMENT))
    assert found
    for ref in found:
        kind, name = ref.removeprefix("#/components/").split("/")
        assert name in DOCUMENT["components"][kind], ref


def test_every_control_route_is_documented_and_every_documented_one_is_served() -> None:
    assert registered() == set(documented())


def test_the_document_says_these_are_the_mocks_own_routes() -> None:
    assert "do not exist on the live Audjust API" in DOCUMENT["info"]["description"]
    for (method, path), operation in documented().items():
        assert MOCK_ONLY in operation["description"], (method, path)


# --- answers against it ---------------------------------------------------------------------------


async def test_every_success_answer_matches_the_document(
    mock: AppClient, receiver: Receiver
) -> None:
    checked = Checked(mock)
    await checked.call("GET", "/_mock/health", 200)
    await checked.call("GET", "/_mock/openapi.json", 200)
    ledger = await checked.call("GET", "/_mock/fidelity", 200)
    assert ledger["profile"]["pricing"] == "examples" and ledger["behaviours"]
    await checked.call("POST", "/_mock/keys", 200, body={"key": "free-key", "plan": "free"})
    listed = await checked.call("GET", "/_mock/keys", 200)
    assert {"key": "free****", "plan": "free", "used": 0, "limit": 100} in listed
    songs = await checked.call("GET", "/_mock/fixtures", 200)
    await checked.call("GET", "/_mock/fixtures/{name}", 200, params={"name": songs[0]})
    # Every result download from here on gets a scenario, so that the journal lists one.
    arming = {"name": "latency;seconds=0", "count": None, "route": "/results", "key": None}
    armed = await checked.call("POST", "/_mock/scenarios", 200, body=arming)
    assert armed["armed"]["remaining"] is None
    listing = await checked.call("GET", "/_mock/scenarios", 200)
    assert listing["armed"] == [armed["armed"]]

    hooked = {**TINY_RESIZE, "resultWebhook": receiver.url()}
    async with mock.post("/resize", json=hooked, headers=KEY) as response:
        ack = await response.json()
    dropped = {**KEY, "X-Mock-Scenario": "webhook_dropped"}
    async with mock.post("/resize", json=hooked, headers=dropped) as response:
        lost = await response.json()
    async with mock.post("/resize", json={}, headers=KEY) as response:
        assert response.status == 400
    (payload,) = await receiver.wait_for(1)
    async with mock.session.get(ack["resultUrl"]) as response:
        assert response.status == 200

    async def both_attempted() -> bool:
        async with mock.get("/_mock/webhooks") as response:
            return len(await response.json()) == 2

    await wait_until(both_attempted)
    attempts = await checked.call("GET", "/_mock/webhooks", 200)
    assert [(a["requestId"], a["delivered"]) for a in attempts] in (
        [(ack["requestId"], True), (lost["requestId"], False)],
        [(lost["requestId"], False), (ack["requestId"], True)],
    )
    journal = await checked.call("GET", "/_mock/requests", 200)
    assert [entry["requestId"] for entry in journal] == [
        ack["requestId"],
        lost["requestId"],
        None,
        ack["requestId"],
    ]
    assert journal[-1]["scenarios"] == ["latency;seconds=0"]
    stored = await checked.call(
        "GET", "/_mock/results/{requestId}", 200, params={"requestId": ack["requestId"]}
    )
    assert (stored["document"]["result"], stored["peaks"]) == (payload["result"], None)
    assert (await checked.first_event("/_mock/events")).startswith(b"event: hello\n")
    await checked.call("GET", "/_mock/ui", 200)
    await checked.call("GET", "/_mock/ui/{asset}", 200, params={"asset": "app.js"})

    lost_id = {"requestId": lost["requestId"]}  # dropped, then sent after all
    path = "/_mock/webhooks/{requestId}/resend"
    resent = await checked.call("POST", path, 200, params=lost_id, body={"url": receiver.url()})
    assert resent == {"success": True, "requestId": lost["requestId"], "url": receiver.url()}
    (_, late) = await receiver.wait_for(2)
    assert late["requestId"] == lost["requestId"] and late["success"] is True

    webhook = {name: value for name, value in payload.items() if name != "path"}
    await checked.call("POST", "/_mock/sink/{name}", 200, params={"name": "demo"}, body=webhook)
    assert await checked.call("GET", "/_mock/sink/{name}", 200, params={"name": "demo"}) == [
        webhook
    ]
    assert (await checked.call("GET", "/_mock/sinks", 200))["demo"] == [webhook]
    hook = {"operation": "analyze", "to": f"{mock.make_url('/_mock/sink/triggered')}"}
    triggered = await checked.call("POST", "/_mock/trigger", 200, body=hook)
    assert triggered["operation"] == "analyze" and triggered["resultUrl"]
    candidates = payload["result"]
    answering = {"route": "/resize", "payload": candidates, "times": 2}
    answer = await checked.call("POST", "/_mock/answers", 200, body=answering)
    assert answer["answer"]["remaining"] == 2
    assert await checked.call("GET", "/_mock/answers", 200) == [answer["answer"]]
    await checked.call("DELETE", "/_mock/answers", 200)
    await checked.call("POST", "/_mock/clock/advance", 200, body={"seconds": 60})
    await checked.call("DELETE", "/_mock/scenarios", 200)
    await checked.call("POST", "/_mock/reset", 200)
    assert checked.seen == {(method, path, 200) for method, path in documented()}


# Each 400 and 404 the document names, by the way it comes about. 403 and 413 are tested below
# for every operation that names them.
ERRORS: list[tuple[str, str, dict[str, str], Any, bytes | None, int]] = [
    ("POST", "/_mock/clock/advance", {}, {"seconds": "x"}, None, 400),
    ("POST", "/_mock/clock/advance", {}, None, b'{"seconds": NaN}', 400),
    ("POST", "/_mock/clock/advance", {}, {"seconds": 1, "minutes": 1}, None, 400),
    ("POST", "/_mock/keys", {}, {"plan": "free"}, None, 400),
    ("POST", "/_mock/keys", {}, {"key": "k", "plan": "gold"}, None, 400),
    ("POST", "/_mock/keys", {}, ["k"], None, 400),
    ("POST", "/_mock/scenarios", {}, {"name": "no_such_scenario"}, None, 400),
    ("POST", "/_mock/scenarios", {}, {"name": "slow", "count": 0}, None, 400),
    ("POST", "/_mock/scenarios", {}, {"name": "slow", "params": []}, None, 400),
    (
        "POST",
        "/_mock/scenarios",
        {},
        {"name": "missing_parameter", "params": {"name": {}}},
        None,
        400,
    ),
    ("POST", "/_mock/answers", {}, {"route": "/resize", "payload": [{}]}, None, 400),
    ("POST", "/_mock/sink/{name}", {"name": "x"}, None, b'{"requestId": ', 400),
    ("GET", "/_mock/fixtures/{name}", {"name": "no_such_song"}, None, None, 404),
    ("POST", "/_mock/webhooks/{requestId}/resend", {"requestId": "a" * 32}, None, None, 404),
    ("POST", "/_mock/webhooks/{requestId}/resend", {"requestId": "x"}, {"to": "u"}, None, 400),
    ("POST", "/_mock/trigger", {}, {"operation": "transcode", "to": "http://h/x"}, None, 400),
    ("GET", "/_mock/ui/{asset}", {"asset": "secrets.txt"}, None, None, 404),
    ("GET", "/_mock/results/{requestId}", {"requestId": "a" * 32}, None, None, 404),
]


@pytest.mark.parametrize(("method", "path", "params", "body", "raw", "status"), ERRORS)
async def test_each_error_answer_matches_the_document(
    mock: AppClient,
    method: str,
    path: str,
    params: dict[str, str],
    body: Any,
    raw: bytes | None,
    status: int,
) -> None:
    refusal = await Checked(mock).call(method, path, status, params=params, body=body, raw=raw)
    assert refusal["success"] is False


NAMESPACED = sorted(
    (method, path)
    for (method, path), operation in documented().items()
    if {"$ref": "#/components/parameters/Namespace"} in operation.get("parameters", [])
)


@pytest.mark.parametrize(("method", "path"), NAMESPACED)
async def test_a_namespace_that_is_no_name_is_refused_as_documented(
    mock: AppClient, method: str, path: str
) -> None:
    params = {"name": "x", "requestId": "a" * 32, "asset": "app.js"}
    body = {"url": "http://127.0.0.1:9/x"} if path.endswith("resend") else None
    bad = {"X-Mock-Namespace": "two words"}
    refusal = await Checked(mock).call(method, path, 400, params=params, body=body, headers=bad)
    assert "X-Mock-Namespace" in refusal["message"]


def test_every_documented_400_and_404_is_exercised() -> None:
    named = {
        (method, path, int(status))
        for (method, path), operation in documented().items()
        for status in operation["responses"]
        if status in ("400", "404")
    }
    exercised = {(method, path, status) for method, path, _, _, _, status in ERRORS}
    assert named == exercised | {(method, path, 400) for method, path in NAMESPACED}


def _concrete(path: str) -> str:
    return path.replace("{name}", "x").replace("{requestId}", "x").replace("{asset}", "app.js")


@pytest.mark.parametrize(("method", "path"), sorted(documented()))
async def test_the_admin_token_guards_what_the_document_says_it_guards(
    make_mock: MakeMock, method: str, path: str
) -> None:
    mock = await make_mock(admin_token=TOKEN)
    operation = documented()[(method, path)]
    guarded = "403" in operation["responses"]
    assert guarded == (operation.get("security", DOCUMENT["security"]) != [])
    for headers in ({}, {"X-Admin-Token": "wrong"}):
        async with mock.request(method, _concrete(path), json={}, headers=headers) as got:
            answer = await got.read()
        if guarded:
            assert got.status == 403
            check_answer(method, path, 403, got.content_type, answer)
        else:
            assert got.status != 403, answer


@pytest.mark.parametrize(
    ("method", "path"),
    sorted(op for op, spec in documented().items() if "413" in spec["responses"]),
)
async def test_a_body_over_the_limit_answers_as_documented(
    make_mock: MakeMock, method: str, path: str
) -> None:
    checked = Checked(await make_mock(max_body_bytes=1024))
    raw = json.dumps({"padding": "x" * 2048}).encode()
    await checked.call(method, path, 413, params={"name": "x", "requestId": "x"}, raw=raw)


async def test_the_served_document_lists_this_mock_first(mock: AppClient) -> None:
    async with mock.get("/_mock/openapi.json") as response:
        served = await response.json()
    assert served["servers"][0]["url"] == str(mock.make_url("")).rstrip("/")
    assert served["servers"][1:] == DOCUMENT["servers"]
    assert {**served, "servers": DOCUMENT["servers"]} == DOCUMENT


# --- the checker itself ---------------------------------------------------------------------------


def test_a_wrong_answer_fails_validation() -> None:
    entry: dict[str, object] = {
        "method": "POST",
        "path": "/resize",
        "requestId": None,
        "key": "test****",
        "body": {"bytes": 2, "fields": []},
        "status": 400,
        "at": 1.0,
        "durationMs": 0.5,
        "scenarios": [],
        "detail": "similarity",
        "replayed": None,
        "answered": None,
        "notes": [],
        "request": {"size": 70000, "sha256": "0" * 64},
        "answer": {"success": False, "message": "Invalid parameter"},
    }
    check_answer("GET", "/_mock/requests", 200, "application/json", json.dumps([entry]).encode())
    entry["request_id"] = entry.pop("requestId")
    with pytest.raises(jsonschema.ValidationError, match=r"request_?[iI]d"):
        check_answer(
            "GET", "/_mock/requests", 200, "application/json", json.dumps([entry]).encode()
        )


@pytest.mark.parametrize(
    ("method", "path", "status", "media_type", "missing"),
    [
        ("GET", "/_mock/health", 500, "application/json", "documents no 500 answer"),
        ("GET", "/_mock/nothing", 200, "application/json", "is not in the document"),
        ("GET", "/_mock/health", 200, "text/html", "documents no text/html body"),
    ],
)
def test_an_answer_the_document_does_not_describe_fails_loudly(
    method: str, path: str, status: int, media_type: str, missing: str
) -> None:
    with pytest.raises(AssertionError, match=missing):
        check_answer(method, path, status, media_type, b"{}")
