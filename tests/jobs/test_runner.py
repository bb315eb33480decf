"""Jobs over real sockets, from acknowledgement to webhook and hosted result: a real file
server, a real webhook receiver, aiohttp's client."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from aiohttp import web
from yarl import URL

from mock_server.audio.mp3_frames import frames
from tests.conftest import (
    AppClient,
    FileServer,
    MakeMock,
    Receiver,
    ServerFactory,
    post,
    queued_webhook,
    serve_receiver,
)
from tests.support import TINY_RESIZE

REQUEST_ID = re.compile(r"^[a-z0-9]{32}$")
# The smallest valid resize: two beats, a one-second target.


async def analyze(
    mock: AppClient, files: FileServer, receiver: Receiver, raw: bool = False
) -> dict[str, Any]:
    features = ["raw_features"] if raw else []
    body = {
        "resultWebhook": receiver.url(),
        "sourceFileUrl": files.url("/song.mp3"),
        "features": features,
    }
    _, payload = await queued_webhook(mock, "/analyze", body, receiver)
    return payload


async def test_analyze_acks_at_once_then_posts_the_result(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    body = {
        "resultWebhook": receiver.url(),
        "sourceFileUrl": files.url("/song.mp3"),
        "features": ["raw_features"],
    }
    status, ack = await post(mock, "/analyze", body)
    assert status == 200
    assert ack["success"] is True and ack["message"] == "Request queued."
    assert REQUEST_ID.match(ack["requestId"])
    result_url = URL(ack["resultUrl"])
    assert result_url.path == f"/{ack['requestId']}/analysis.json"
    assert result_url.origin() != mock.make_url("/").origin()  # an origin of its own, as live
    (payload,) = await receiver.wait_for(1)
    assert set(payload) == {"path", "requestId", "sourceFileUrl", "result", "success", "creditCost"}
    assert payload["success"] is True and payload["sourceFileUrl"] == body["sourceFileUrl"]
    result = payload["result"]
    assert result["tempo"] == 120 and abs(result["duration"] - 20.0) < 0.1  # MP3 priming
    assert len(result["features"]) == len(result["boundaries"])
    assert payload["creditCost"] == 5  # max(1, round(20/60 minutes x 15))
    async with mock.session.get(ack["resultUrl"]) as response:
        assert response.status == 200
        stored = await response.json()
    assert stored == {k: v for k, v in payload.items() if k != "path"}


async def test_resize_sync_and_by_webhook_agree(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    result = (await analyze(mock, files, receiver))["result"]
    request = {
        "targetLengthSeconds": 12,
        "similarity": result["similarity"],
        "boundaries": result["boundaries"],
    }
    status, sync = await post(mock, "/resize", request)
    assert status == 200 and sync["success"] is True and sync["creditCost"] == 1
    assert REQUEST_ID.match(sync["requestId"]) and len(sync["result"]) == 20
    status, ack = await post(mock, "/resize", {**request, "resultWebhook": receiver.url()})
    assert status == 200 and ack["resultUrl"].endswith("/resize.json")
    queued = (await receiver.wait_for(2))[1]
    assert queued["result"] == sync["result"]
    assert queued["requestId"] == ack["requestId"] != sync["requestId"]


async def test_export_serves_files_and_reports_a_failed_group(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    body = {
        "resultWebhook": receiver.url(),
        "sourceFileUrl": files.url("/song.mp3"),
        "exportFormat": "mp3_256",
        "segmentsGroups": [[[0, 4], [8, 12]], [[5, 2]], [[0, 3]]],
    }
    status, ack = await post(mock, "/export", body)
    assert status == 200
    urls = ack["resultUrls"]
    assert [u.rsplit("/", 1)[1] for u in urls] == ["export_1.mp3", "export_2.mp3", "export_3.mp3"]
    (payload,) = await receiver.wait_for(1)
    assert payload["resultUrls"] == urls and payload["success"] is True
    assert list(payload["failures"]) == [urls[1]]
    assert "start must be before end" in payload["failures"][urls[1]]
    assert payload["creditCost"] == 1
    async with mock.session.get(urls[0]) as response:
        assert response.status == 200 and response.content_type == "audio/mpeg"
        data = await response.read()
    assert {f.bitrate_kbps for f in frames(data)} == {256}
    assert abs(sf.info(io.BytesIO(data)).duration - 8.0) < 0.1
    async with mock.session.get(urls[0], headers={"Range": "bytes=0-99"}) as response:
        assert response.status == 206 and len(await response.read()) == 100
    async with mock.session.get(urls[1]) as response:
        assert response.status == 404


async def test_wav_export_has_the_wav_content_type(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    body = {
        "resultWebhook": receiver.url(),
        "sourceFileUrl": files.url("/song.mp3"),
        "exportFormat": "wav",
        "segmentsGroups": [[[1, 3]]],
    }
    _, ack = await post(mock, "/export", body)
    await receiver.wait_for(1)
    async with mock.session.get(ack["resultUrls"][0]) as response:
        assert response.content_type == "audio/wav"
        samples, rate = sf.read(io.BytesIO(await response.read()))
    assert rate == 44100 and samples.shape == (2 * 44100, 2)


async def test_a_one_time_link_breaks_the_export(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    hook, source = receiver.url(), files.url("/once.mp3")
    await post(mock, "/analyze", {"resultWebhook": hook, "sourceFileUrl": source})
    first = (await receiver.wait_for(1))[0]
    assert first["success"] is True
    body = {
        "resultWebhook": hook,
        "sourceFileUrl": source,
        "exportFormat": "wav",
        "segmentsGroups": [[[0, 1]]],
    }
    await post(mock, "/export", body)
    failure = (await receiver.wait_for(2))[1]
    assert failure["success"] is False and failure["creditCost"] == 0
    assert failure["sourceFileUrl"] == source
    assert "HTTP 410" in failure["message"]


@pytest.mark.parametrize(
    ("path", "message"), [("/page.html", "not audio"), ("/missing.mp3", "HTTP 404")]
)
async def test_a_bad_source_ends_in_a_failure_webhook(
    mock: AppClient, files: FileServer, receiver: Receiver, path: str, message: str
) -> None:
    body = {"resultWebhook": receiver.url(), "sourceFileUrl": files.url(path)}
    status, ack = await post(mock, "/analyze", body)
    assert status == 200
    (failure,) = await receiver.wait_for(1)
    assert failure == {
        "path": "/hook",
        "requestId": ack["requestId"],
        "success": False,
        "message": failure["message"],
        "sourceFileUrl": body["sourceFileUrl"],
        "creditCost": 0,
    }
    assert message in failure["message"]
    async with mock.session.get(ack["resultUrl"]) as response:
        assert response.status == 404


async def test_retries_reach_a_receiver_that_fails_twice(
    mock: AppClient, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    body = TINY_RESIZE
    _, ack = await post(mock, "/resize", {**body, "resultWebhook": receiver.url()})
    await receiver.wait_for(1)
    async with mock.get("/_mock/webhooks") as response:
        attempts = [a for a in await response.json() if a["requestId"] == ack["requestId"]]
    assert [(a["attempt"], a["status"], a["delivered"]) for a in attempts] == [
        (1, 503, False),
        (2, 503, False),
        (3, 200, True),
    ]


async def test_a_slow_receiver_does_not_delay_another(
    mock: AppClient, aiohttp_server: ServerFactory, receiver: Receiver
) -> None:
    slow = await serve_receiver(aiohttp_server, Receiver(delay_seconds=3.0))
    body = TINY_RESIZE
    await post(mock, "/resize", {**body, "resultWebhook": slow.url()})
    await post(mock, "/resize", {**body, "resultWebhook": receiver.url()})
    await receiver.wait_for(1)
    assert slow.received == []  # the fast one arrived while the slow one was still being answered
    await slow.wait_for(1)


async def test_results_expire_after_thirty_days_of_mock_time(
    mock: AppClient, receiver: Receiver
) -> None:
    body = TINY_RESIZE
    _, ack = await post(mock, "/resize", {**body, "resultWebhook": receiver.url()})
    await receiver.wait_for(1)
    assert (await mock.session.get(ack["resultUrl"])).status == 200
    await mock.post("/_mock/clock/advance", json={"seconds": 30 * 86400})
    async with mock.session.get(ack["resultUrl"]) as response:
        assert response.status == 404 and (await response.json())["success"] is False


async def test_a_job_running_past_seven_minutes_fails(
    mock: AppClient, aiohttp_server: ServerFactory, receiver: Receiver
) -> None:
    release, asked = asyncio.Event(), asyncio.Event()

    async def stall(request: web.Request) -> web.Response:
        asked.set()
        await release.wait()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/stall.mp3", stall)
    stalling = await aiohttp_server(app)
    body = {"resultWebhook": receiver.url(), "sourceFileUrl": str(stalling.make_url("/stall.mp3"))}
    _, ack = await post(mock, "/analyze", body)
    await asyncio.wait_for(asked.wait(), 30)  # the job is running: downloading its source
    await mock.post("/_mock/clock/advance", json={"seconds": 421})
    (failure,) = await receiver.wait_for(1)
    release.set()
    assert failure["requestId"] == ack["requestId"] and failure["success"] is False
    assert "timed out after 420 seconds" in failure["message"]


async def test_seeded_ids_repeat_and_a_reset_never_rewinds_them(make_mock: MakeMock) -> None:
    """Two mocks of one seed give one sequence; a reset goes on along it instead of starting it
    again, so a receiver shared across tests never sees one id twice."""
    body = TINY_RESIZE
    first, second = await make_mock(seed=7), await make_mock(seed=7)
    ids = [(await post(m, "/resize", body))[1]["requestId"] for m in (first, second)]
    assert ids[0] == ids[1]
    await first.post("/_mock/reset")
    after_reset = (await post(first, "/resize", body))[1]["requestId"]
    assert after_reset != ids[0]
    assert after_reset == (await post(second, "/resize", body))[1]["requestId"]


async def test_acks_stay_fast_while_an_analysis_runs(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    """Not a timing test: the ack arrives before the analysis webhook, so the loop was free."""
    await post(
        mock, "/analyze", {"resultWebhook": receiver.url(), "sourceFileUrl": files.url("/song.mp3")}
    )
    status, _ = await post(mock, "/resize", {})
    assert status == 400 and receiver.received == []
    await receiver.wait_for(1)


async def test_webhooks_can_go_to_a_sink_inside_the_mock(mock: AppClient) -> None:
    sink = str(mock.make_url("/_mock/sink/mine"))
    body = TINY_RESIZE
    _, ack = await post(mock, "/resize", {**body, "resultWebhook": sink})
    async with asyncio.timeout(10):
        while not (received := await (await mock.get("/_mock/sink/mine")).json()):
            await asyncio.sleep(0.02)
    assert [payload["requestId"] for payload in received] == [ack["requestId"]]
    assert await (await mock.get("/_mock/sink/other")).json() == []


async def test_results_live_in_the_data_dir_when_one_is_given(
    make_mock: MakeMock, receiver: Receiver, tmp_path: Path
) -> None:
    mock = await make_mock(data_dir=tmp_path)
    _, ack = await post(mock, "/resize", {**TINY_RESIZE, "resultWebhook": receiver.url()})
    (payload,) = await receiver.wait_for(1)
    stored = json.loads((tmp_path / ack["requestId"] / "resize.json").read_text())
    assert stored == {k: v for k, v in payload.items() if k != "path"}
