"""POST /structure over real sockets: synchronous without resultWebhook, queued with it (the
profile's structure.calls can make it one or the other), its refusals, and sections that keep
the known client's reading (contiguous, in ms from 0 to the source's end, labels 0-1000)."""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp
import pytest

from mock_server.web.keys import SERVICES
from tests.conftest import AppClient, FileServer, Receiver, post, queued_webhook
from tests.support import KEY, uploaded


def assert_well_formed(sections: list[dict[str, Any]], duration_seconds: float) -> None:
    assert sections[0]["startMs"] == 0
    assert abs(sections[-1]["endMs"] - duration_seconds * 1000) <= 60  # an MP3 pads its end
    for before, after in itertools.pairwise(sections):
        assert before["endMs"] == after["startMs"]
    for section in sections:
        assert set(section) >= {"startMs", "endMs", "label"}
        assert section["startMs"] < section["endMs"]
        assert isinstance(section["label"], int) and 0 <= section["label"] <= 1000


async def test_a_synchronous_call_answers_sections(mock: AppClient, files: FileServer) -> None:
    status, answer = await post(mock, "/structure", {"sourceFileUrl": files.url("/song.mp3")})
    assert status == 200, answer
    assert answer["success"] is True and answer["creditCost"] >= 1
    assert_well_formed(answer["sections"], 20.0)
    jobs = mock.app[SERVICES].jobs.jobs
    assert answer["requestId"] in jobs  # listed like any job, without a webhook


async def test_the_upload_protocol_end_to_end(mock: AppClient, song_mp3: bytes) -> None:
    """What the one public client does: GET /upload, PUT, POST /structure."""
    url = await uploaded(mock, song_mp3)
    status, answer = await post(mock, "/structure", {"sourceFileUrl": url})
    assert status == 200, answer
    assert_well_formed(answer["sections"], 20.0)


async def test_a_queued_call_acknowledges_then_calls_back(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    body = {"sourceFileUrl": files.url("/song.mp3"), "resultWebhook": receiver.url()}
    ack, payload = await queued_webhook(mock, "/structure", body, receiver)
    assert ack["resultUrl"].endswith(f"/{ack['requestId']}/structure.json")
    assert_well_formed(payload["sections"], 20.0)
    async with aiohttp.ClientSession() as session, session.get(ack["resultUrl"]) as response:
        assert response.status == 200
        assert (await response.json())["sections"] == payload["sections"]


async def test_sections_are_deterministic_and_reuse_the_analysis(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    source = files.url("/song.mp3")
    body = {"sourceFileUrl": source, "resultWebhook": receiver.url()}
    await queued_webhook(mock, "/analyze", body, receiver)
    cache = mock.app[SERVICES].jobs.analyses
    computed = cache.misses
    first = (await post(mock, "/structure", {"sourceFileUrl": source}))[1]
    second = (await post(mock, "/structure", {"sourceFileUrl": source}))[1]
    assert first["sections"] == second["sections"]
    assert cache.misses == computed  # both read the analysis /analyze made


@pytest.mark.parametrize(
    ("method", "headers", "body", "status", "message"),
    [
        ("GET", KEY, None, 405, "Invalid request method"),
        ("POST", {}, {"sourceFileUrl": "http://h/x"}, 401, "Missing API key header"),
        ("POST", {"X-API-Key": "no"}, {"sourceFileUrl": "http://h/x"}, 403, "Invalid API Key"),
        ("POST", KEY, {}, 400, "Missing parameter"),
        ("POST", KEY, {"sourceFileURL": "http://h/x"}, 400, "did you mean sourceFileUrl?"),
        ("POST", KEY, {"sourceFileUrl": "ftp://h/x"}, 400, "sourceFileUrl must be an http"),
    ],
)
async def test_refusals(
    mock: AppClient,
    method: str,
    headers: dict[str, str],
    body: Any,
    status: int,
    message: str,
) -> None:
    async with mock.request(method, "/structure", json=body, headers=headers) as response:
        assert response.status == status
        assert message in (await response.json())["message"] + response.headers.get(
            "X-Mock-Detail", ""
        )
        if method == "GET":
            assert response.headers["Allow"] == "POST"


async def test_a_failed_synchronous_call_is_a_4xx_naming_why(
    mock: AppClient, files: FileServer
) -> None:
    status, answer = await post(mock, "/structure", {"sourceFileUrl": files.url("/missing.mp3")})
    assert status == 422
    assert answer["success"] is False and "HTTP 404" in answer["message"]


async def test_a_non_audio_upload_fails_clearly(mock: AppClient) -> None:
    url = await uploaded(mock, b"this is not audio at all" * 10)
    status, answer = await post(mock, "/structure", {"sourceFileUrl": url})
    assert status == 422
    assert answer["success"] is False and answer["message"]
