"""The gate every API request passes, over real sockets: the documented errors, the rate
limit, usage and pricing, the journal's masking."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from mock_server.accounts import Plan
from mock_server.web.errors import DETAIL_HEADER
from mock_server.web.keys import SERVICES
from tests.conftest import (
    AppClient,
    FileServer,
    MakeMock,
    Receiver,
    post,
)
from tests.support import KEY, explained

REQUEST_ID = re.compile(r"^[a-z0-9]{32}$")
# The smallest valid resize: two beats, a one-second target.


async def usage(mock: AppClient) -> int:
    """Credits the free key has counted against it now (its queued and finished requests)."""
    services = mock.app[SERVICES]
    return services.accounts.used("free-key", services.clock.now())


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "message"),
    [
        ("GET", "/analyze", KEY, None, 405, "Invalid request method"),
        ("PUT", "/export", {}, None, 405, "Invalid request method"),
        ("POST", "/analyze", {}, {}, 401, "Missing API key header"),
        ("POST", "/resize", {"X-API-Key": "wrong"}, {}, 403, "Invalid API Key"),
        (
            "POST",
            "/analyze",
            KEY,
            {"resultWebhook": "http://h/x"},
            400,
            "Missing parameter: sourceFileUrl",
        ),
        (
            "POST",
            "/analyze",
            KEY,
            {"sourceFileUrl": "http://h/x"},
            400,
            "Missing parameter: resultWebhook",
        ),
        (
            "POST",
            "/export",
            KEY,
            {"resultWebhook": "http://h/x"},
            400,
            "Missing parameter: sourceFileUrl",
        ),
        ("POST", "/resize", KEY, {"boundaries": [0, 1]}, 400, "Missing parameter: similarity"),
        (
            "POST",
            "/analyze",
            KEY,
            {"resultWebhook": "ftp://h/x", "sourceFileUrl": "http://h/x"},
            400,
            "Invalid parameter: resultWebhook must be an http or https URL",
        ),
        (
            "POST",
            "/analyze",
            KEY,
            {"resultWebhook": "http://h/x", "sourceFileUrl": "file:///etc/passwd"},
            400,
            "Invalid parameter: sourceFileUrl",
        ),
        (
            "POST",
            "/analyze",
            KEY,
            {"resultWebhook": "http://h/x", "sourceFileUrl": "http://u:p@h/x"},
            400,
            "must not carry credentials",
        ),
        (
            "POST",
            "/analyze",
            KEY,
            {"resultWebhook": "http://h/x", "sourceFileUrl": "http://h/x", "features": ["mfcc"]},
            400,
            "Invalid parameter: features",
        ),
        (
            "POST",
            "/export",
            KEY,
            {
                "resultWebhook": "http://h/x",
                "sourceFileUrl": "http://h/x",
                "exportFormat": "ogg",
                "segmentsGroups": [[[0, 1]]],
            },
            400,
            "Invalid parameter: exportFormat",
        ),
        (
            "POST",
            "/export",
            KEY,
            {
                "resultWebhook": "http://h/x",
                "sourceFileUrl": "http://h/x",
                "exportFormat": "wav",
                "segmentsGroups": [],
            },
            400,
            "Invalid parameter: segmentsGroups",
        ),
        (
            "POST",
            "/resize",
            KEY,
            {
                "targetLengthSeconds": 10,
                "boundaries": [0, 1],
                "similarity": {"data": "~~", "min": 32, "max": 126},
            },
            400,
            "Invalid parameter: similarity",
        ),
        (
            "POST",
            "/resize",
            KEY,
            {
                "targetLengthSeconds": "ten",
                "boundaries": [0, 1],
                "similarity": {"data": "~~~", "min": 32, "max": 126},
            },
            400,
            "Invalid parameter: targetLengthSeconds",
        ),
        ("POST", "/nowhere", KEY, {}, 404, "Not found"),
    ],
)
async def test_each_documented_error(
    mock: AppClient,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any,
    status: int,
    message: str,
) -> None:
    async with mock.request(method, path, json=body, headers=headers) as response:
        assert response.status == status
        assert response.content_type == "application/json"
        document = await response.json()
        text = explained(document["message"], response.headers.get(DETAIL_HEADER))
    assert document["success"] is False
    assert text.startswith(message) or message in text


async def test_malformed_json_and_oversized_bodies(make_mock: MakeMock) -> None:
    mock = await make_mock(max_body_bytes=1000)
    async with mock.post("/analyze", data=b"{nope", headers=KEY) as response:
        assert response.status == 400
        assert (await response.json())["message"].startswith("Invalid JSON body")
    async with mock.post("/resize", data=b"[" + b"1," * 1000 + b"1]", headers=KEY) as response:
        assert response.status == 413
        assert (await response.json())["message"].startswith("Request body too large")


async def test_rate_limit_then_recovery_on_mock_time(make_mock: MakeMock) -> None:
    mock = await make_mock(rate_limit=3)
    statuses = [(await post(mock, "/resize", {}))[0] for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    async with mock.post("/resize", json={}, headers=KEY) as response:
        assert response.status == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert (await response.json())["message"].startswith("Rate limit exceeded")
    await mock.post("/_mock/clock/advance", json={"seconds": 60})
    assert (await post(mock, "/resize", {}))[0] == 400


async def test_usage_limit_refunds_and_the_rolling_window(
    make_mock: MakeMock, files: FileServer, receiver: Receiver
) -> None:
    free = {"X-API-Key": "free-key"}
    mock = await make_mock(api_keys=(("free-key", Plan.FREE),))
    boundaries = [0.0, 1.0, 2.0]
    similarity = {"data": "~~~~~~", "min": 32, "max": 126}
    # A failed job costs nothing and leaves the credits alone.
    bad = {"resultWebhook": receiver.url(), "sourceFileUrl": files.url("/page.html")}
    assert (await post(mock, "/analyze", bad, free))[0] == 200
    await receiver.wait_for(1)
    # 25 minutes of target at 4 credits a minute: exactly the free plan's 100 credits.
    big = {"targetLengthSeconds": 1500, "similarity": similarity, "boundaries": boundaries}
    status, payload = await post(mock, "/resize", big, free)
    assert status == 200 and payload["creditCost"] == 100
    status, refused = await post(mock, "/resize", big, free)
    assert status == 402 and refused["message"].startswith("Usage limit exceeded")
    await mock.post("/_mock/clock/advance", json={"seconds": 30 * 86400 + 1})
    assert (await post(mock, "/resize", big, free))[0] == 200


async def test_queued_requests_count_against_the_limit_until_they_fail(
    make_mock: MakeMock, receiver: Receiver
) -> None:
    """The reference: queued requests in the last 30 days count against the credit limit,
    except failed ones. Held in flight, three 40-credit resizes reach the free plan's 100."""
    mock = await make_mock(api_keys=(("free-key", Plan.FREE),))
    held = {"X-API-Key": "free-key", "X-Mock-Scenario": "slow;seconds=3600"}  # past the limit
    body = {
        "resultWebhook": receiver.url(),
        "targetLengthSeconds": 600,  # 10 minutes at 4 credits a minute: 40
        "similarity": {"data": "~~~~~~", "min": 32, "max": 126},
        "boundaries": [0.0, 1.0, 2.0],
    }
    acks = [await post(mock, "/resize", body, held) for _ in range(3)]
    assert [status for status, _ in acks] == [200, 200, 200]
    assert await usage(mock) == 120
    status, refused = await post(mock, "/resize", body, held)
    assert status == 402 and refused["message"] == "Usage limit exceeded", refused
    assert receiver.received == []  # refused before any of them finished
    await mock.post("/_mock/clock/advance", json={"seconds": 420})  # the job limit: all fail
    failures = await receiver.wait_for(3)
    assert {f["success"] for f in failures} == {False}
    assert await usage(mock) == 0  # failed requests count for nothing
    status, ack = await post(mock, "/resize", body, {"X-API-Key": "free-key"})
    assert status == 200, ack


async def test_an_analysis_counts_once_its_source_is_read(
    make_mock: MakeMock, files: FileServer, receiver: Receiver
) -> None:
    """Its price follows from the source's duration: counted while the analysis still runs."""
    mock = await make_mock(api_keys=(("free-key", Plan.FREE),))
    release = asyncio.Event()
    real_compute = mock.app[SERVICES].jobs.compute

    async def held_compute(fn: Any, *args: Any, **kwargs: Any) -> Any:
        await release.wait()
        return await real_compute(fn, *args, **kwargs)

    mock.app[SERVICES].jobs.compute = held_compute  # type: ignore[method-assign]
    body = {"resultWebhook": receiver.url(), "sourceFileUrl": files.url("/song.mp3")}
    status, _ = await post(mock, "/analyze", body, {"X-API-Key": "free-key"})
    assert status == 200
    async with asyncio.timeout(30):  # 20 s of song at 10 credits a minute: 3
        while await usage(mock) != 3:
            await asyncio.sleep(0.01)
    release.set()
    (payload,) = await receiver.wait_for(1)
    assert payload["creditCost"] == 3 and await usage(mock) == 3


async def test_pricing_can_follow_the_documented_sentence(make_mock: MakeMock) -> None:
    mock = await make_mock(profile={"pricing": "documented"})
    body = {
        "targetLengthSeconds": 30,
        "similarity": {"data": "~~~", "min": 32, "max": 126},
        "boundaries": [0, 40],
    }
    assert (await post(mock, "/resize", body))[1]["creditCost"] == 4


async def test_the_journal_masks_keys(mock: AppClient) -> None:
    await post(mock, "/resize", {"boundaries": [0, 1]})
    async with mock.get("/_mock/requests") as response:
        (entry,) = await response.json()
    assert entry["key"] == "test****" and entry["status"] == 400
    assert entry["body"] == {"bytes": len('{"boundaries": [0, 1]}'), "fields": ["boundaries"]}
    await mock.post("/_mock/reset")
    assert await (await mock.get("/_mock/requests")).json() == []


async def test_an_unknown_field_is_named_with_the_parameter_it_was_meant_to_be(
    mock: AppClient,
) -> None:
    body = {"resultWebhook": "http://127.0.0.1:9/hook", "sourceFileURL": "http://127.0.0.1:9/a"}
    status, answer = await post(mock, "/analyze", body)
    assert status == 400
    assert answer["message"] == (
        "Invalid parameter: sourceFileURL is not a parameter of /analyze "
        "(it takes resultWebhook, sourceFileUrl, features); did you mean sourceFileUrl?"
    )
