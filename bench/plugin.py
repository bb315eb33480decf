"""Plugin figures: what a session-scoped mock costs a client's test suite, once at start and
once per test (the reset), beside a bare aiohttp server started the same way."""

from __future__ import annotations

import json
import statistics
import time
import urllib.request

from aiohttp import web

from bench.timing import Row, ratio, seconds
from mock_server.background import BackgroundLoop
from mock_server.pytest_plugin import AudjustMock
from mock_server.testing.inprocess import MockServer, serve_app

SECTION = "plugin"
STARTS = 5
RESETS = 200


def _median_start() -> tuple[float, float]:
    ours, bare = [], []
    for _ in range(STARTS):
        started = time.perf_counter()
        server = MockServer().start()
        ours.append(time.perf_counter() - started)
        server.stop()
        loop = BackgroundLoop()
        started = time.perf_counter()
        runner, _ = loop.run(serve_app(web.Application(), "127.0.0.1", 0))
        bare.append(time.perf_counter() - started)
        loop.run(runner.cleanup())
        loop.close()
    return statistics.median(ours), statistics.median(bare)


def _median_reset() -> float:
    with MockServer() as server:
        mock = AudjustMock(server, "test-key")
        timings = []
        for _ in range(RESETS):
            mock.add_key("bench", "free")
            mock.clock.advance(60)
            started = time.perf_counter()
            mock.reset()
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _first_analysis() -> float:
    """Start to the first webhook: the worker pool spawns lazily, so the first job pays it."""
    started = time.perf_counter()
    with MockServer() as server:
        mock = AudjustMock(server, "test-key")
        analyzed(mock, mock.fixture_url("pop_120"))
        return time.perf_counter() - started


def analyzed(mock: AudjustMock, source_url: str) -> None:
    """Analyse `source_url` as a client would, and wait for the webhook."""
    body = {"sourceFileUrl": source_url, "resultWebhook": mock.webhook_url()}
    request = urllib.request.Request(
        f"{mock.base_url}/analyze",
        data=json.dumps(body).encode(),
        headers={"X-API-Key": mock.api_key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        request_id = json.loads(answer.read())["requestId"]
    mock.wait_for_webhook(request_id, timeout=120)


def _ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def run() -> list[Row]:
    start, bare_start = _median_start()
    reset = _median_reset()
    first = _first_analysis()
    return [
        Row(
            SECTION,
            "session server start (median of 5)",
            _ms(start),
            f"bare aiohttp {_ms(bare_start)}",
            ratio(start, bare_start),
            "< 0.5 s",
        ),
        Row(SECTION, "reset before each test (median of 200)", _ms(reset), target="< 5 ms"),
        Row(SECTION, "start to first webhook, 12 s song (pool spawn included)", seconds(first)),
    ]
