"""The dashboard's server side: the live feed (what it sends, when, to whom), the bodies the
journal keeps for it, and the result documents it draws. The page itself is tested in a real
browser by ui_tests/ (make ui-test)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import socket
import time
import urllib.request
from urllib.parse import urlsplit

import aiohttp
import pytest

from mock_server.audio.peaks import PEAK_COUNT
from mock_server.journal import (
    KEPT_EXCHANGES,
    MAX_BODY_CHARACTERS,
    ExchangeBodies,
    Journal,
    JournalEntry,
)
from mock_server.testing.inprocess import MockServer
from mock_server.web.dashboard import FEEDS
from tests.conftest import AppClient, FileServer, MakeMock, Receiver, post, queued_webhook
from tests.support import KEY, TINY_RESIZE, next_event, upload_slot, uploaded

TOKEN = "let-me-in"


async def test_a_request_reaches_the_feed_with_both_bodies(mock: AppClient) -> None:
    async with mock.get("/_mock/events") as feed:
        assert feed.headers["Content-Type"] == "text/event-stream"
        assert (await next_event(feed, "hello"))["namespace"] == ""
        async with mock.post("/resize", json=TINY_RESIZE, headers=KEY) as response:
            ack = await response.json()
        (entry,) = await next_event(feed, "requests")
    assert (entry["path"], entry["requestId"], entry["number"]) == ("/resize", ack["requestId"], 0)
    assert json.loads(entry["exchange"]["request"]) == TINY_RESIZE
    assert json.loads(entry["exchange"]["answer"]) == ack


async def test_the_feed_lists_jobs_with_their_webhook_attempts(
    mock: AppClient, receiver: Receiver
) -> None:
    hooked = {**TINY_RESIZE, "resultWebhook": receiver.url()}
    ack, _ = await queued_webhook(mock, "/resize", hooked, receiver)
    async with mock.get("/_mock/events") as feed:
        (job,) = await next_event(feed, "jobs")
    assert (job["requestId"], job["state"]) == (ack["requestId"], "succeeded")
    assert [(a["attempt"], a["delivered"]) for a in job["attempts"]] == [(1, True)]


async def test_the_feed_tells_a_timed_out_job_from_a_failed_one(
    mock: AppClient, receiver: Receiver
) -> None:
    for scenario in ("slow;seconds=600", "internal_failure"):
        hooked = {**TINY_RESIZE, "resultWebhook": receiver.url()}
        headers = {**KEY, "X-Mock-Scenario": scenario}
        async with mock.post("/resize", json=hooked, headers=headers) as response:
            assert response.status == 200
    async with mock.post("/_mock/clock/advance", json={"seconds": 420}) as advanced:
        assert advanced.status == 200
    await receiver.wait_for(2)
    async with mock.get("/_mock/events") as feed:
        jobs = await next_event(feed, "jobs")
    assert sorted((job["state"], job["failure"]) for job in jobs) == [
        ("failed", "internal"),
        ("failed", "timed_out"),
    ]


async def test_the_feed_says_when_the_journal_is_reset(mock: AppClient) -> None:
    async with mock.get("/_mock/events") as feed:
        await next_event(feed, "hello")
        async with mock.post("/_mock/reset"):
            pass
        assert await next_event(feed, "reset") == {}


async def test_the_feed_shows_only_its_namespace(mock: AppClient) -> None:
    elsewhere = {**KEY, "X-Mock-Namespace": "suite-b"}
    async with mock.post("/resize", json=TINY_RESIZE, headers=elsewhere):
        pass
    async with mock.post("/resize", json=TINY_RESIZE, headers=KEY) as response:
        ours = await response.json()
    async with mock.get("/_mock/events") as feed:
        entries = await next_event(feed, "requests")
    assert [entry["requestId"] for entry in entries] == [ours["requestId"]]


async def test_the_feed_needs_the_admin_token_in_its_header(make_mock: MakeMock) -> None:
    mock = await make_mock(admin_token=TOKEN)
    async with mock.get("/_mock/events") as refused:
        assert refused.status == 403
    async with mock.get("/_mock/ui") as page:  # static: it asks for the token itself
        assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    async with mock.get("/_mock/events", headers={"X-Admin-Token": TOKEN}) as feed:
        assert (await next_event(feed, "hello"))["namespace"] == ""


async def test_a_result_document_is_served_only_in_its_jobs_namespace(
    mock: AppClient, receiver: Receiver
) -> None:
    hooked = {**TINY_RESIZE, "resultWebhook": receiver.url()}
    ack, payload = await queued_webhook(mock, "/resize", hooked, receiver)
    path = f"/_mock/results/{ack['requestId']}"
    async with mock.get(path) as response:
        assert (await response.json())["document"]["result"] == payload["result"]
    async with mock.get(path, headers={"X-Mock-Namespace": "suite-b"}) as response:
        assert response.status == 404


def entry(path: str) -> JournalEntry:
    return JournalEntry("POST", path, None, {}, 200, 0.0, 1.0)


def test_only_the_latest_bodies_are_kept_and_each_is_cut() -> None:
    journal = Journal()
    for number in range(KEPT_EXCHANGES + 5):
        journal.record(entry(f"/{number}"), 0, ExchangeBodies.of(b"{}", b"x" * number))
    kept = journal.since(0)
    assert [exchange is None for _, _, exchange in kept[:6]] == [True] * 5 + [False]
    assert journal.since(KEPT_EXCHANGES + 4)[0][1].path == f"/{KEPT_EXCHANGES + 4}"
    long = ExchangeBodies.of(b"y" * (MAX_BODY_CHARACTERS + 10), b"")
    assert long.request.startswith("y" * MAX_BODY_CHARACTERS)
    assert long.request.endswith(f"({MAX_BODY_CHARACTERS + 10} bytes in all)")


async def test_the_api_origin_links_to_the_dashboard(mock: AppClient) -> None:
    async with mock.get("/", headers={"Accept": "text/html"}) as page:
        assert 'href="/_mock/ui"' in await page.text()
    async with mock.get("/") as response:
        assert (await response.json())["dashboard"] == "/_mock/ui"


async def test_an_analysis_keeps_a_waveform_summary_for_the_page(
    mock: AppClient, receiver: Receiver, files: FileServer
) -> None:
    body = {"resultWebhook": receiver.url(), "sourceFileUrl": files.url("/song.mp3")}
    ack, payload = await queued_webhook(mock, "/analyze", body, receiver)
    async with mock.get(f"/_mock/results/{ack['requestId']}") as response:
        shown = await response.json()
    assert shown["document"]["result"] == payload["result"]
    assert len(shown["peaks"]) == PEAK_COUNT and max(shown["peaks"]) > 50
    again, _ = await queued_webhook(mock, "/analyze", body, receiver)  # from the analysis cache
    async with mock.get(f"/_mock/results/{again['requestId']}") as response:
        assert (await response.json())["peaks"] == shown["peaks"]


async def test_a_structure_job_keeps_its_sections_and_waveform_for_the_page(
    mock: AppClient, receiver: Receiver, files: FileServer
) -> None:
    source = files.url("/song.mp3")
    status, answered = await post(mock, "/structure", {"sourceFileUrl": source})
    assert status == 200, answered
    hooked = {"sourceFileUrl": source, "resultWebhook": receiver.url()}
    queued, payload = await queued_webhook(mock, "/structure", hooked, receiver)
    for request_id, sections in (
        (answered["requestId"], answered["sections"]),
        (queued["requestId"], payload["sections"]),
    ):
        async with mock.get(f"/_mock/results/{request_id}") as response:
            shown = await response.json()
        assert shown["document"]["sections"] == sections
        assert len(shown["peaks"]) == PEAK_COUNT and max(shown["peaks"]) > 50
    async with mock.get("/_mock/events") as feed:
        jobs = await next_event(feed, "jobs")
    assert [(j["requestId"], j["route"], j["synchronous"], j["state"]) for j in jobs] == [
        (queued["requestId"], "/structure", False, "succeeded"),
        (answered["requestId"], "/structure", True, "succeeded"),
    ]


async def test_upload_structure_and_the_put_between_them_are_journaled(
    mock: AppClient, song_mp3: bytes
) -> None:
    """The PUT is journaled from the storage handler's own chunked read: a body over the
    results origin's 1 MiB read limit still stores, so the journal never read it whole."""
    big = song_mp3 * (2 * 1024 * 1024 // len(song_mp3) + 1)
    elsewhere = {**KEY, "X-Mock-Namespace": "suite-b"}
    slot = await upload_slot(mock, elsewhere)
    async with (
        aiohttp.ClientSession() as session,
        session.put(slot["storageUrl"], data=io.BytesIO(big)) as response,
    ):
        assert response.status == 200, await response.text()
    url = await uploaded(mock, song_mp3)
    status, _ = await post(mock, "/structure", {"sourceFileUrl": url})
    assert status == 200
    async with mock.get("/_mock/events") as feed:
        entries = await next_event(feed, "requests")
    secret = await _storage_secret(mock)
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/upload", 200),
        ("PUT", f"/storage/{secret[:4]}{'*' * 28}", 200),
        ("POST", "/structure", 200),
    ]
    assert entries[1]["body"] == {"bytes": len(song_mp3), "sha256": sha256(song_mp3)}
    assert entries[1]["key"] is None and secret not in json.dumps(entries[1])
    assert entries[1]["exchange"]["request"].startswith("(not kept: bytes ")
    async with mock.get("/_mock/requests", headers={"X-Mock-Namespace": "suite-b"}) as listed:
        theirs = await listed.json()
    assert [(e["method"], e["body"]) for e in theirs] == [
        ("GET", {"bytes": 0}),
        ("PUT", {"bytes": len(big), "sha256": sha256(big)}),
    ]
    assert theirs[1]["request"] == {"size": len(big), "sha256": sha256(big)}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def _storage_secret(mock: AppClient) -> str:
    """The secret of the default namespace's one upload, as `GET /upload` answered it."""
    async with mock.get("/_mock/requests") as listed:
        (handed_out,) = [e for e in await listed.json() if e["path"] == "/upload"]
    return str(handed_out["answer"]["storageUrl"].rsplit("/", 1)[1])


def test_a_feed_whose_reader_went_away_ends_quietly(caplog: pytest.LogCaptureFixture) -> None:
    """As `serve` runs it (a handler is not cancelled when its client goes): the next write
    finds the connection gone, and the feed ends without an error logged."""
    with MockServer() as server:
        address = urlsplit(server.base_url)
        with socket.create_connection((address.hostname, address.port), timeout=30) as reader:
            reader.sendall(b"GET /_mock/events HTTP/1.1\r\nHost: mock\r\n\r\n")
            received = b""
            while b"event: hello" not in received:
                received += reader.recv(4096)
        deadline = time.monotonic() + 30
        while server.call(lambda: bool(server.app[FEEDS].tasks)):
            assert time.monotonic() < deadline, "the feed did not end"
            request = urllib.request.Request(
                f"{server.base_url}/resize", data=json.dumps(TINY_RESIZE).encode(), headers=KEY
            )
            urllib.request.urlopen(request, timeout=30).close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
