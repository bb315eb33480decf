"""The analysis cache in a client suite: 50 analyses of 3 songs (2 minutes each, MP3), each
acknowledged and awaited to its webhook, with the cache and with it switched off."""

from __future__ import annotations

import time

from aiohttp import web

from bench.plugin import analyzed
from bench.timing import Row, ratio, seconds
from mock_server.audio.synth import SongSpec, song_bytes
from mock_server.background import BackgroundLoop
from mock_server.jobs.analyses import AnalysisCache
from mock_server.services import Services
from mock_server.testing.inprocess import AudjustMock, MockServer, serve_app

SECTION = "cache"
ANALYSES = 50
SONGS = [SongSpec(tempo_bpm=bpm, duration_seconds=120, seed=bpm) for bpm in (96, 120, 132)]


def _suite(mock: AudjustMock, urls: list[str]) -> float:
    started = time.perf_counter()
    for number in range(ANALYSES):
        analyzed(mock, urls[number % len(urls)])
    return time.perf_counter() - started


def _serve_songs(loop: BackgroundLoop) -> tuple[web.AppRunner, list[str]]:
    songs = {f"/{spec.seed}.mp3": song_bytes(spec, "mp3") for spec in SONGS}

    async def song(request: web.Request) -> web.Response:
        return web.Response(body=songs[request.path], content_type="audio/mpeg")

    app = web.Application()
    app.router.add_get("/{name}", song)
    runner, origin = loop.run(serve_app(app, "127.0.0.1", 0))
    return runner, [origin + path for path in songs]


def _forgetful(services: Services) -> None:
    services.jobs.analyses = AnalysisCache(None, memory_bytes=0)


def run() -> list[Row]:
    loop = BackgroundLoop("bench-songs")
    runner, urls = _serve_songs(loop)
    timings = {}
    try:
        for cached in (False, True):
            with MockServer() as server:
                mock = AudjustMock(server, "test-key")
                if not cached:  # nothing remembered: every analysis runs the engine
                    mock.call(_forgetful)
                _suite(mock, urls[:1])  # warm the worker pool, outside the timing
                mock.reset()
                timings[cached] = _suite(mock, urls)
    finally:
        loop.run(runner.cleanup())
        loop.close()
    return [
        Row(
            SECTION,
            f"client suite: {ANALYSES} analyses of {len(SONGS)} 2-minute songs, ack to webhook",
            seconds(timings[True]),
            f"cache off {seconds(timings[False])}",
            ratio(timings[True], timings[False]),
        )
    ]
