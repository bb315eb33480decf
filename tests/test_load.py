"""The service under load, over real sockets on 127.0.0.1: many concurrent clients, bounded counts.

Every acknowledged job must end in exactly one terminal state and exactly one delivered webhook,
the journal must agree with what the clients saw, and the rate limiter must admit exactly its
limit per key however many requests race for it.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from typing import Any

import aiohttp
import pytest

from mock_server.accounts import Plan, mask_key
from mock_server.audio.analysis import analyze_bytes
from mock_server.audio.synth import SongSpec, song_bytes
from mock_server.audio.types import DecodeLimits
from mock_server.jobs.job import JobState
from mock_server.web.errors import DETAIL_HEADER
from mock_server.web.keys import SERVICES
from tests.conftest import AppClient, FileServer, MakeMock, Receiver, ServerFactory, serve_song
from tests.contract_checks import check_payload
from tests.support import KEY

REQUEST_ID = re.compile(r"^[a-z0-9]{32}$")
SHORT_SONG = SongSpec(tempo_bpm=120, duration_seconds=8, seed=5)
CLIENTS = 20
# 300 requests: four kinds of job, synchronous resizes, sources that 404 and plain bad requests.
MIX = {
    "analyze": 60,
    "analyze_missing": 20,
    "export": 60,
    "resize_hook": 70,
    "resize_sync": 70,
    "bad_request": 20,
}
LOAD_DEADLINE_SECONDS = 30.0


@pytest.fixture(scope="module")
def short_wav() -> bytes:
    return song_bytes(SHORT_SONG, "wav")


@pytest.fixture(scope="module")
def short_analysis(short_wav: bytes) -> dict[str, Any]:
    return analyze_bytes(short_wav, False, DecodeLimits())


@pytest.fixture
async def song_server(aiohttp_server: ServerFactory, short_wav: bytes) -> FileServer:
    return await serve_song(aiohttp_server, "/short.wav", short_wav, "audio/wav")


def _request_for(
    kind: str, hook: str, source: str, missing: str, analysis: dict[str, Any], n: int
) -> tuple[str, dict[str, Any]]:
    resize = {
        "targetLengthSeconds": 4 + n % 9,
        "similarity": analysis["similarity"],
        "boundaries": analysis["boundaries"],
    }
    match kind:
        case "analyze":
            features = ["raw_features"] if n % 2 else []
            return "/analyze", {
                "resultWebhook": hook,
                "sourceFileUrl": source,
                "features": features,
            }
        case "analyze_missing":
            return "/analyze", {"resultWebhook": hook, "sourceFileUrl": missing}
        case "export":
            start = n % 4
            body = {
                "resultWebhook": hook,
                "sourceFileUrl": source,
                "exportFormat": "mp3_128" if n % 5 == 0 else "wav",
                "segmentsGroups": [[[start, start + 2], [start + 3, start + 4]]],
            }
            return "/export", body
        case "resize_hook":
            return "/resize", {**resize, "resultWebhook": hook}
        case "resize_sync":
            return "/resize", resize
        case "bad_request":
            return "/resize", {"boundaries": [0, 1]}  # 400: missing similarity
    raise AssertionError(kind)


async def test_concurrent_clients_get_exactly_one_outcome_per_job(
    make_mock: MakeMock,
    song_server: FileServer,
    receiver: Receiver,
    short_analysis: dict[str, Any],
) -> None:
    mock = await make_mock(workers=2, rate_limit=10_000)
    hook = receiver.url()
    source = song_server.url("/short.wav")
    missing = song_server.url("/missing.wav")
    kinds = [kind for kind, count in MIX.items() for _ in range(count)]
    random.Random(42).shuffle(kinds)
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for n, kind in enumerate(kinds):
        queue.put_nowait((n, kind))

    sent: Counter[tuple[str, int]] = Counter()  # (path, status) as the clients saw them
    acked: dict[str, str] = {}  # requestId -> kind, for every 200 ack of a queued job
    sync_ids: set[str] = set()

    async def client() -> None:
        async with aiohttp.ClientSession() as session:
            while not queue.empty():
                n, kind = queue.get_nowait()
                path, body = _request_for(kind, hook, source, missing, short_analysis, n)
                async with session.post(mock.make_url(path), json=body, headers=KEY) as response:
                    status, document = response.status, await response.json()
                sent[path, status] += 1
                check_payload(document)
                if kind == "bad_request":
                    assert status == 400, document
                    assert document["message"] == "Missing parameter"
                    assert response.headers[DETAIL_HEADER] == "similarity"
                    continue
                assert status == 200, (kind, document)
                assert REQUEST_ID.match(document["requestId"])
                if kind == "resize_sync":  # answered directly, with the candidates
                    assert document["success"] is True and document["result"], document
                    assert "resultUrl" not in document
                    sync_ids.add(document["requestId"])
                else:
                    assert document["message"] == "Request queued."
                    assert document["requestId"] not in acked
                    acked[document["requestId"]] = kind

    started = time.perf_counter()
    async with asyncio.timeout(LOAD_DEADLINE_SECONDS):
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        jobs = len(kinds) - MIX["resize_sync"] - MIX["bad_request"]
        assert len(acked) == jobs and len(sync_ids) == MIX["resize_sync"]
        await receiver.wait_for(jobs, timeout=LOAD_DEADLINE_SECONDS)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.3)  # room for any duplicate delivery to show up

    # Exactly one webhook per acknowledged job; none for synchronous resizes; none unknown.
    by_id = Counter(payload["requestId"] for payload in receiver.received)
    assert [rid for rid, count in by_id.items() if count > 1] == []
    assert set(by_id) == set(acked)
    assert not sync_ids & set(by_id)
    assert sync_ids.isdisjoint(acked)
    assert receiver.calls == len(acked)

    # Each job ended in one terminal state, agreeing with its webhook.
    runner = mock.app[SERVICES].jobs
    for payload in receiver.received:
        rid = payload["requestId"]
        kind = acked[rid]
        expected = kind != "analyze_missing"
        assert payload["success"] is expected, (kind, payload)
        if not expected:
            assert "HTTP 404" in payload["message"] and payload["creditCost"] == 0
        state = runner.jobs[rid].state
        assert state is (JobState.SUCCEEDED if expected else JobState.FAILED), (rid, state)
    states = Counter(job.state for rid, job in runner.jobs.items() if rid in acked)
    assert states == {
        JobState.SUCCEEDED: len(acked) - MIX["analyze_missing"],
        JobState.FAILED: MIX["analyze_missing"],
    }

    # The journal agrees with what the clients sent and saw.
    async with mock.get("/_mock/requests") as response:
        journal = await response.json()
    assert Counter((entry["path"], entry["status"]) for entry in journal) == sent
    assert sum(sent.values()) == len(kinds)
    assert sent == {
        ("/analyze", 200): MIX["analyze"] + MIX["analyze_missing"],
        ("/export", 200): MIX["export"],
        ("/resize", 200): MIX["resize_hook"] + MIX["resize_sync"],
        ("/resize", 400): MIX["bad_request"],
    }

    # One attempt per job, delivered at the first try.
    async with mock.get("/_mock/webhooks") as response:
        attempts = await response.json()
    per_job = Counter(attempt["requestId"] for attempt in attempts)
    assert set(per_job) == set(acked) and set(per_job.values()) == {1}
    assert all(a["delivered"] and a["status"] == 200 and a["attempt"] == 1 for a in attempts)

    # The sources were downloaded once per analyze and export, as the live API does.
    assert song_server.downloads["/short.wav"] == MIX["analyze"] + MIX["export"]
    assert elapsed < LOAD_DEADLINE_SECONDS


RATE_LIMIT = 25
RATE_KEYS = ("alfa-key-1", "brav-key-2", "char-key-3", "delt-key-4")


async def _burst(mock: AppClient, key: str, count: int) -> list[tuple[int, str | None, Any]]:
    """`count` concurrent requests for `key`: (status, Retry-After, body) each."""

    async def one() -> tuple[int, str | None, Any]:
        headers = {"X-API-Key": key}
        async with mock.post("/resize", json={}, headers=headers) as response:
            return response.status, response.headers.get("Retry-After"), await response.json()

    return await asyncio.gather(*(one() for _ in range(count)))


async def test_the_rate_limiter_admits_exactly_its_limit_under_concurrency(
    make_mock: MakeMock,
) -> None:
    mock = await make_mock(
        rate_limit=RATE_LIMIT, api_keys=tuple((key, Plan.ENTERPRISE) for key in RATE_KEYS)
    )
    assert len({mask_key(key) for key in RATE_KEYS}) == len(RATE_KEYS)

    async def round_of_bursts() -> None:
        results = await asyncio.gather(*(_burst(mock, key, 3 * RATE_LIMIT) for key in RATE_KEYS))
        for key, outcomes in zip(RATE_KEYS, results, strict=True):
            admitted = [o for o in outcomes if o[0] != 429]
            limited = [o for o in outcomes if o[0] == 429]
            assert len(admitted) == RATE_LIMIT, (key, Counter(o[0] for o in outcomes))
            assert {status for status, _, _ in admitted} == {400}  # admitted, then judged
            assert len(limited) == 2 * RATE_LIMIT
            for _, retry_after, body in limited:
                assert retry_after is not None and 1 <= int(retry_after) <= 60
                assert body["success"] is False
                assert body["message"].startswith("Rate limit exceeded")

    async with asyncio.timeout(20):
        await round_of_bursts()
        async with mock.post("/_mock/clock/advance", json={"seconds": 61}) as response:
            assert response.status == 200
        await round_of_bursts()

    async with mock.get("/_mock/requests") as response:
        journal = await response.json()
    counts = Counter((entry["key"], entry["status"]) for entry in journal)
    for key in RATE_KEYS:
        assert counts[mask_key(key), 400] == 2 * RATE_LIMIT
        assert counts[mask_key(key), 429] == 4 * RATE_LIMIT
    assert sum(counts.values()) == len(RATE_KEYS) * 6 * RATE_LIMIT
