"""GET /upload, the PUT to its storageUrl and the GET of its retrievalUrl, over real sockets:
the protocol of Audjust's example page, and every refusal a clear 4xx that loses nothing."""

from __future__ import annotations

import aiohttp
import pytest

from mock_server.uploads import UPLOAD_SECONDS
from mock_server.web.keys import SERVICES
from tests.conftest import AppClient, MakeMock, Receiver, queued_webhook
from tests.support import KEY, fetch, put, upload_slot, uploaded


async def test_the_round_trip_serves_the_bytes_put(mock: AppClient, song_mp3: bytes) -> None:
    slot = await upload_slot(mock)
    assert slot["storageUrl"] != slot["retrievalUrl"]
    assert (await fetch(slot["retrievalUrl"]))[0] == 404  # nothing PUT yet
    assert (await put(slot["storageUrl"], song_mp3))[0] == 200
    assert await fetch(slot["retrievalUrl"]) == (200, song_mp3)
    assert (await put(slot["storageUrl"], b"RIFF-replaced"))[0] == 200  # a second PUT replaces
    assert await fetch(slot["retrievalUrl"]) == (200, b"RIFF-replaced")


async def test_upload_costs_nothing_and_takes_a_post_too(mock: AppClient) -> None:
    services = mock.app[SERVICES]
    async with mock.post("/upload", headers=KEY) as response:
        assert response.status == 200
        assert set(await response.json()) == {"storageUrl", "retrievalUrl"}
    await upload_slot(mock)
    assert services.accounts.used(KEY["X-API-Key"], services.clock.now()) == 0


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [({}, 401, "Missing API key header"), ({"X-API-Key": "nope"}, 403, "Invalid API Key")],
)
async def test_upload_needs_a_key(
    mock: AppClient, headers: dict[str, str], status: int, message: str
) -> None:
    async with mock.get("/upload", headers=headers) as response:
        assert response.status == status
        assert (await response.json())["message"] == message


async def test_upload_takes_no_parameters(mock: AppClient) -> None:
    async with mock.post("/upload", json={"file": "x"}, headers=KEY) as response:
        assert response.status == 400
        assert "file is not a parameter of /upload" in (await response.json())["message"]


async def test_refusals_are_clear_and_lose_nothing(make_mock: MakeMock) -> None:
    mock = await make_mock(download_max_bytes=1000, upload_store_bytes=1500)
    slot = await upload_slot(mock)
    status, text = await put(slot["storageUrl"], b"")
    assert status == 400 and "Empty upload: the PUT carried no bytes" in text
    status, text = await put(slot["storageUrl"], b"x" * 1001)
    assert status == 413 and "at most 1000" in text
    assert (await put(slot["storageUrl"], b"x" * 1000))[0] == 200
    other = await upload_slot(mock)
    status, text = await put(other["storageUrl"], b"y" * 600)
    assert status == 413 and "upload store is full" in text
    assert await fetch(slot["retrievalUrl"]) == (200, b"x" * 1000)  # nothing evicted
    base = slot["storageUrl"].rsplit("/", 1)[0]
    status, text = await put(f"{base}/{'a' * 32}", b"abc")
    assert status == 404 and "no upload has this storage URL" in text
    async with (  # storage takes a PUT, nothing else
        aiohttp.ClientSession() as session,
        session.post(slot["storageUrl"], data=b"abc") as response,
    ):
        assert response.status == 405


async def test_an_upload_expires_an_hour_after_its_put(mock: AppClient, song_mp3: bytes) -> None:
    url = await uploaded(mock, song_mp3)
    clock = mock.app[SERVICES].clock
    clock.advance(UPLOAD_SECONDS - 5)
    assert (await fetch(url))[0] == 200
    clock.advance(10)
    status, body = await fetch(url)
    assert status == 404 and b"expired" in body


async def test_the_expired_status_is_the_profiles(make_mock: MakeMock, song_mp3: bytes) -> None:
    mock = await make_mock(profile={"errors.upload_expired.status": 410})
    url = await uploaded(mock, song_mp3)
    mock.app[SERVICES].clock.advance(UPLOAD_SECONDS + 1)
    assert (await fetch(url))[0] == 410


async def test_a_reset_removes_uploads(mock: AppClient, song_mp3: bytes) -> None:
    url = await uploaded(mock, song_mp3)
    async with mock.post("/_mock/reset") as response:
        assert response.status == 200
    status, body = await fetch(url)
    assert status == 404 and b"removed by a reset" in body
    assert mock.app[SERVICES].uploads.stored_bytes == 0


async def test_a_retrieval_url_is_a_source_offline(
    make_mock: MakeMock, receiver: Receiver, song_mp3: bytes
) -> None:
    """In synthesize mode nothing is downloaded, yet an upload analyses as the bytes put."""
    mock = await make_mock(sources="synthesize")
    url = await uploaded(mock, song_mp3)
    body = {"sourceFileUrl": url, "resultWebhook": receiver.url()}
    _, payload = await queued_webhook(mock, "/analyze", body, receiver)
    assert payload["success"] is True
    assert payload["sourceFileUrl"] == url
    assert 19 < payload["result"]["duration"] < 21  # the 20-second song, not a synthesized one


async def test_an_expired_upload_fails_its_job_by_name(
    mock: AppClient, receiver: Receiver, song_mp3: bytes
) -> None:
    url = await uploaded(mock, song_mp3)
    mock.app[SERVICES].clock.advance(UPLOAD_SECONDS + 1)
    body = {"sourceFileUrl": url, "resultWebhook": receiver.url()}
    _, payload = await queued_webhook(mock, "/analyze", body, receiver)
    assert payload["success"] is False
    assert "has expired" in payload["message"]
