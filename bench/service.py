"""Service figures: acks beside a bare aiohttp handler, idle and with analyses in flight, and a
3-minute MP3 analysed end to end (ack -> webhook)."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.processes import bare_command, free_port, serve_command, start, stop
from bench.timing import Row, ratio, seconds
from mock_server.audio.synth import SongSpec, song_bytes

SECTION = "service"
ROUND, ROUNDS = 100, 15  # bursts of 100 requests, alternating mock and bare
CONCURRENCY = 8
IN_FLIGHT = 8
KEY = {"X-API-Key": "test-key"}

Load = tuple[list[float], float]  # latencies, requests per second


async def _burst(
    session: aiohttp.ClientSession, url: str, body: dict[str, object], headers: dict[str, str]
) -> tuple[list[float], float]:
    """Latencies of one burst of ROUND posts at CONCURRENCY, and how long it took."""
    latencies: list[float] = []
    queue = iter(range(ROUND))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            async with session.post(url, json=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, await response.text()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return latencies, time.perf_counter() - started


async def _side_by_side(
    session: aiohttp.ClientSession,
    mock: tuple[str, dict[str, object], dict[str, str]],
    bare: str,
) -> tuple[Load, Load]:
    """The mock and the bare handler in alternating bursts, so both see the same machine: the
    same background work, the same noise from neighbours."""
    totals: dict[str, tuple[list[float], float]] = {"mock": ([], 0.0), "bare": ([], 0.0)}
    for _ in range(ROUNDS):
        for name, (url, body, headers) in (("mock", mock), ("bare", (bare, {}, KEY))):
            latencies, elapsed = await _burst(session, url, body, headers)
            kept, spent = totals[name]
            totals[name] = (kept + latencies, spent + elapsed)
    (ours, ours_time), (theirs, theirs_time) = totals["mock"], totals["bare"]
    count = ROUND * ROUNDS
    return (ours, count / ours_time), (theirs, count / theirs_time)


async def _drain(feed: aiohttp.ClientResponse) -> None:
    """Read a live feed and throw it away, as a page that only shows it does."""
    async for _ in feed.content.iter_any():
        pass


def _percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1]


async def _wait_for_sink(session: aiohttp.ClientSession, url: str, count: int) -> None:
    while True:
        async with session.get(url) as response:
            if len(await response.json()) >= count:
                return
        await asyncio.sleep(0.02)


def _latency_rows(
    label: str,
    ours: Load,
    bare: Load,
    target: str = ">= 0.5x",
) -> list[Row]:
    def summary(latency: list[float]) -> str:
        return f"{seconds(statistics.median(latency))} / {seconds(_percentile(latency, 0.99))}"

    return [
        Row(
            SECTION, f"ack p50 / p99, {label}", summary(ours[0]), f"bare aiohttp {summary(bare[0])}"
        ),
        Row(
            SECTION,
            f"acks per second, {label}",
            f"{ours[1]:.0f}/s",
            f"bare aiohttp {bare[1]:.0f}/s",
            ratio(ours[1], bare[1]),
            target,
        ),
    ]


async def _measure(mock: str, bare: str, loud: str) -> list[Row]:
    async with aiohttp.ClientSession() as session:
        analyze = {"resultWebhook": f"{mock}/_mock/sink/bench", "sourceFileUrl": f"{bare}/song.mp3"}
        started = time.perf_counter()
        async with session.post(f"{mock}/analyze", json=analyze, headers=KEY) as response:
            assert response.status == 200
        await _wait_for_sink(session, f"{mock}/_mock/sink/bench", 1)
        end_to_end = time.perf_counter() - started
        rows = [
            Row(
                SECTION,
                "3 min MP3 end to end (ack -> webhook)",
                seconds(end_to_end),
                target="< 3 s",
            )
        ]
        # The ack path itself: valid analyze requests whose jobs end at once without any I/O
        # (scenarios: no download, no webhook), so the load is acknowledgements only.
        cheap: dict[str, object] = {
            "resultWebhook": f"{bare}/ack",
            "sourceFileUrl": f"{bare}/missing.mp3",
        }
        no_io = {**KEY, "X-Mock-Scenario": "source_download_fails, webhook_dropped"}
        idle = await _side_by_side(session, (f"{mock}/analyze", cheap, no_io), f"{bare}/ack")
        rows += _latency_rows("idle", *idle)
        printed = await _side_by_side(session, (f"{loud}/analyze", cheap, no_io), f"{bare}/ack")
        rows += _latency_rows("idle, printing its traffic lines (serve's default)", *printed, "")
        async with session.get(f"{mock}/_mock/events") as feed:  # a dashboard left open
            reading = asyncio.create_task(_drain(feed))
            watched = await _side_by_side(session, (f"{mock}/analyze", cheap, no_io), f"{bare}/ack")
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
        rows += _latency_rows("idle, one dashboard feed open (docs/dashboard.md)", *watched, "")
        # The same with each job's own I/O: a download (a 404 from the bare server) and a failure
        # webhook to it, three HTTP exchanges per ack on the mock's loop and two on bare's.
        with_io = await _side_by_side(session, (f"{mock}/analyze", cheap, KEY), f"{bare}/ack")
        rows += _latency_rows("idle, each job downloading and calling back", *with_io, "")
        for _ in range(IN_FLIGHT):
            await session.post(f"{mock}/analyze", json=analyze, headers=KEY)
        busy = await _side_by_side(session, (f"{mock}/analyze", cheap, no_io), f"{bare}/ack")
        async with session.get(f"{mock}/_mock/sink/bench") as response:
            running = 1 + IN_FLIGHT - len(await response.json())
        label = f"{IN_FLIGHT} analyses submitted, {running} still running at the end"
        rows += _latency_rows(label, *busy)
        await _wait_for_sink(session, f"{mock}/_mock/sink/bench", 1 + IN_FLIGHT)
    return rows


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        song = Path(folder) / "song.mp3"
        song.write_bytes(
            song_bytes(SongSpec(tempo_bpm=120, duration_seconds=180, seed=2026), "mp3")
        )
        mock_port, loud_port, bare_port = free_port(), free_port(), free_port()
        # --quiet, as the mock ran before it printed its traffic; a second mock prints its
        # traffic lines (to a file, as CI logs do) for what they cost.
        mock = start(serve_command(mock_port, "--quiet"))
        log = (Path(folder) / "traffic.log").open("w")
        loud = start(serve_command(loud_port), stderr=log)
        bare = start(bare_command(bare_port, str(song)))
        try:
            time.sleep(1.0)  # let the worker pool finish spawning
            return asyncio.run(
                _measure(
                    f"http://127.0.0.1:{mock_port}",
                    f"http://127.0.0.1:{bare_port}",
                    f"http://127.0.0.1:{loud_port}",
                )
            )
        finally:
            stop((mock, loud, bare))
            log.close()
