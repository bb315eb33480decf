"""Real peers for the service tests: a file server for sources, a webhook receiver and the
checking proxy in front of an upstream (`make_proxy`), and for the bad-input tests one warm mock
per module with a file server of unusable audio."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from mock_server.audio.synth import SongSpec, song_bytes
from mock_server.contract.profile import Profile
from mock_server.settings import Settings
from mock_server.testing.inprocess import MockServer
from mock_server.web.app import create_app
from tests.contract_checks import check_payload
from tests.forged_audio import wav_claiming
from tests.proxy_client import proxies
from tests.support import (
    KEY,
    Hooks,
    assert_healthy,
    silent_flac,
    silent_mp3,
    tone,
    wav_bytes,
)

SONG = SongSpec(tempo_bpm=120, duration_seconds=20, seed=11)
AppClient = TestClient[web.Request, web.Application]
ClientFactory = Callable[..., Awaitable[AppClient]]
ServerFactory = Callable[..., Awaitable[TestServer]]
MakeMock = Callable[..., Awaitable[AppClient]]  # the make_mock fixture: Settings changes -> a mock


@pytest.fixture(scope="session")
def song_mp3() -> bytes:
    return song_bytes(SONG, "mp3")


@dataclass
class Receiver:
    """Records every webhook POST; can be told to fail the first N or to answer slowly."""

    server: TestServer | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_first: int = 0
    delay_seconds: float = 0.0
    calls: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/hook") -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.calls <= self.fail_first:
            return web.Response(status=503)
        await asyncio.sleep(self.delay_seconds)
        self.received.append({"path": request.path, **json.loads(await request.read())})
        self.arrived.set()
        return web.Response(text="ok")

    async def wait_for(self, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        for payload in self.received:
            check_payload({k: v for k, v in payload.items() if k != "path"})
        return self.received


async def serve_receiver(
    aiohttp_server: ServerFactory, hooks: Receiver, port: int | None = None
) -> Receiver:
    """`hooks` listening on 127.0.0.1 (on `port`, if given), taking a POST on any path."""
    app = web.Application()
    app.router.add_post("/{name:.*}", hooks.handle)
    hooks.server = await aiohttp_server(app, **({"port": port} if port else {}))
    return hooks


@pytest.fixture
async def receiver(aiohttp_server: ServerFactory) -> Receiver:
    return await serve_receiver(aiohttp_server, Receiver())


@dataclass
class FileServer:
    server: TestServer
    downloads: dict[str, int]

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


async def serve_song(
    aiohttp_server: ServerFactory, path: str, body: bytes, content_type: str
) -> FileServer:
    """A file server with one song at `path`, counting its downloads."""
    downloads: dict[str, int] = {}

    async def song(request: web.Request) -> web.Response:
        downloads[request.path] = downloads.get(request.path, 0) + 1
        return web.Response(body=body, content_type=content_type)

    app = web.Application()
    app.router.add_get(path, song)
    return FileServer(await aiohttp_server(app), downloads)


@pytest.fixture
async def files(aiohttp_server: ServerFactory, song_mp3: bytes) -> FileServer:
    downloads: dict[str, int] = {}

    async def song(request: web.Request) -> web.Response:
        downloads[request.path] = downloads.get(request.path, 0) + 1
        return web.Response(body=song_mp3, content_type="audio/mpeg")

    async def once(request: web.Request) -> web.Response:
        downloads[request.path] = downloads.get(request.path, 0) + 1
        if downloads[request.path] > 1:
            return web.Response(status=410, text="this link has been used")
        return web.Response(body=song_mp3, content_type="audio/mpeg")

    async def html(request: web.Request) -> web.Response:
        return web.Response(
            text="<!doctype html><html><body>Login</body></html>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/song.mp3", song)
    app.router.add_get("/once.mp3", once)
    app.router.add_get("/page.html", html)
    return FileServer(await aiohttp_server(app), downloads)


# port 0: each test's results listener on a free port too (test clients choose the API's).
FAST = Settings(
    port=0,
    workers=1,
    profile=Profile(webhook_backoff_seconds=(0.05,), webhook_timeout_seconds=5.0),
)


@pytest.fixture
async def make_mock(aiohttp_client: ClientFactory) -> Callable[..., Awaitable[AppClient]]:
    async def make(**changes: Any) -> AppClient:
        """A mock with `changes` to FAST; `profile` may be a dict of dotted profile keys."""
        if isinstance(changes.get("profile"), dict):
            changes["profile"] = FAST.profile.with_values(changes["profile"])
        settings = Settings(**{**FAST.__dict__, **changes})
        return await aiohttp_client(create_app(settings))

    return make


@pytest.fixture
async def mock(make_mock: Callable[..., Awaitable[AppClient]]) -> AppClient:
    return await make_mock()


async def post(
    mock: AppClient, path: str, body: Any, headers: dict[str, str] = KEY
) -> tuple[int, Any]:
    """POST and return (status, JSON), having checked the answer against its schema."""
    async with mock.post(path, json=body, headers=headers) as response:
        document = await response.json()
    check_payload(document)
    return response.status, document


async def queued_webhook(
    mock: AppClient, path: str, body: Any, receiver: Receiver, headers: dict[str, str] = KEY
) -> tuple[dict[str, Any], dict[str, Any]]:
    """POST a request that `receiver` gets the webhook of, and wait for it: (ack, webhook), both
    checked against their schemas. For one request at a time: the next webhook must be its."""
    before = len(receiver.received)
    status, ack = await post(mock, path, body, headers)
    assert status == 200, ack
    payload = (await receiver.wait_for(before + 1))[before]
    assert payload["requestId"] == ack["requestId"]
    return ack, payload


# --- bad input: a shared mock, a raw webhook receiver, a file server of unusable audio ---------


@pytest.fixture(scope="module")
def shared() -> Iterator[MockServer]:
    """One mock on 127.0.0.1 per test module, its worker warm, so a couple of hundred refusals
    take about a second; tests that need other settings use `make_mock`."""
    settings = replace(FAST, rate_limit=1_000_000)
    with MockServer(settings) as server:
        yield server


@pytest.fixture
async def api(shared: MockServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=shared.base_url) as session:
        yield session
        await assert_healthy(session)  # after every case, whatever it sent


@pytest.fixture
async def hooks(aiohttp_server: ServerFactory) -> Hooks:
    receiver = Hooks()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    receiver.server = await aiohttp_server(app)
    return receiver


@pytest.fixture(scope="module")
def sources(song_mp3: bytes) -> dict[str, tuple[bytes, str]]:
    """Path -> (body, content type) for the file server."""
    short_tone = wav_bytes(tone(3, 8000), 8000)
    nan_samples = tone(6, 8000)
    nan_samples[1000:1100] = np.nan
    return {
        "/song.mp3": (song_mp3, "audio/mpeg"),
        "/empty.mp3": (b"", "audio/mpeg"),
        "/stub.mp3": (song_mp3[:300], "audio/mpeg"),
        "/cut.mp3": (song_mp3[:2000], "audio/mpeg"),
        "/cut.wav": (short_tone[: len(short_tone) // 2], "audio/wav"),
        "/text.mp3": (b"Just some text, served as if it were an MP3.\n" * 40, "audio/mpeg"),
        "/error.mp3": (b'{"error": "this link has expired"}', "audio/mpeg"),
        "/one-second.wav": (wav_bytes(tone(1, 8000), 8000), "audio/wav"),
        "/sixteen-channels.wav": (wav_bytes(np.zeros((8000 * 3, 16)), 8000), "audio/wav"),
        # A 3 s WAV whose header claims 4 GB of data.
        "/huge-header.wav": (wav_claiming(short_tone, 0xFFFFFFF0), "audio/wav"),
        # Decompression bombs: small files claiming or decoding to more than 30 minutes.
        "/hours.wav": (wav_claiming(short_tone, 3 * 3600 * 8000 * 2), "audio/wav"),
        "/silence.flac": (silent_flac(31), "audio/flac"),
        "/silence.mp3": (silent_mp3(31 * 60), "audio/mpeg"),
        # Odd but decodable audio.
        "/digital-silence.wav": (wav_bytes(np.zeros(10 * 8000), 8000), "audio/wav"),
        "/test-tone.wav": (wav_bytes(tone(5, 44100, hertz=1000), 44100), "audio/wav"),
        "/fifty-hertz.wav": (wav_bytes(np.full(6 * 50, 0.1), 50), "audio/wav"),
        "/nan-samples.wav": (wav_bytes(nan_samples, 8000, "FLOAT"), "audio/wav"),
    }


@pytest.fixture
async def source_url(
    aiohttp_server: ServerFactory, sources: dict[str, tuple[bytes, str]]
) -> Callable[[str], str]:
    async def serve(request: web.Request) -> web.Response:
        if request.path not in sources:
            raise web.HTTPNotFound()
        body, content_type = sources[request.path]
        return web.Response(body=body, content_type=content_type)

    app = web.Application()
    app.router.add_get("/{name:.*}", serve)
    server = await aiohttp_server(app)
    return lambda path: str(server.make_url(path))


make_proxy = pytest.fixture(proxies, name="make_proxy")
