"""Source downloads against real servers: caps, redirects, stalls and lying peers."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import aiohttp
import pytest
import soundfile as sf
from aiohttp import web

from mock_server.audio.synth import spec_from_seed
from mock_server.sources import (
    FetchLimits,
    SourceError,
    SourceFetcher,
    SourceMode,
    synthesized_source,
    validate_source_url,
)
from tests.conftest import ServerFactory

LIMITS = FetchLimits(max_bytes=1000, timeout_seconds=1.0, max_redirects=2)


async def raw_server(handler: object) -> tuple[asyncio.Server, str]:
    """A TCP server speaking whatever bytes the test wants, for peers that break HTTP."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)  # type: ignore[arg-type]
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/song.mp3"


@pytest.fixture
async def site(aiohttp_server: ServerFactory) -> str:
    async def sized(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * int(request.match_info["size"]))

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(20):
            await response.write(b"y" * 100)
        return response

    async def hop(request: web.Request) -> web.Response:
        left = int(request.match_info["left"])
        raise web.HTTPFound(f"/hop/{left - 1}" if left else "/bytes/10")

    async def stall(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(body=b"late")

    app = web.Application()
    app.router.add_get("/bytes/{size}", sized)
    app.router.add_get("/stream", streamed)
    app.router.add_get("/hop/{left}", hop)
    app.router.add_get("/stall", stall)
    server = await aiohttp_server(app)
    return str(server.make_url("")).rstrip("/")


async def fetch(url: str, allow_file_urls: bool = False) -> bytes:
    async with aiohttp.ClientSession() as session:
        fetcher = SourceFetcher(
            session=session,
            limits=LIMITS,
            allow_file_urls=allow_file_urls,
            mode=SourceMode.AUTO,
            public_only=False,
        )
        return await fetcher.fetch(url)


async def test_a_file_within_the_cap_arrives_whole(site: str) -> None:
    assert await fetch(f"{site}/bytes/1000") == b"x" * 1000


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/bytes/1001", "larger than 1000 bytes"),  # refused on Content-Length
        ("/stream", "larger than 1000 bytes"),  # no length given: cut off while streaming
        ("/hop/5", "too many redirects"),
        ("/stall", "timed out after 1 s"),
        ("/nothing", "HTTP 404"),
    ],
)
async def test_each_limit_fails_with_a_message(site: str, path: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        await fetch(site + path)
    assert message in caught.value.message


async def test_redirects_within_the_limit_are_followed(site: str) -> None:
    assert await fetch(f"{site}/hop/1") == b"x" * 10


async def test_a_body_shorter_than_its_content_length_fails_cleanly() -> None:
    async def liar(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nonly this")
        await writer.drain()
        writer.close()

    server, url = await raw_server(liar)
    async with server:
        with pytest.raises(SourceError, match="Could not download source file"):
            await fetch(url)


async def test_file_urls_only_when_allowed(tmp_path: Path) -> None:
    song = tmp_path / "song.mp3"
    song.write_bytes(b"audio")
    assert await fetch(song.as_uri(), allow_file_urls=True) == b"audio"
    with pytest.raises(SourceError, match="no such file"):
        await fetch((tmp_path / "missing.mp3").as_uri(), allow_file_urls=True)
    with pytest.raises(ValueError, match="http or https"):
        validate_source_url(song.as_uri(), allow_file_urls=False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "non-empty URL"),
        ("", "non-empty URL"),
        ("ftp://example.com/a.mp3", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("http:///a.mp3", "must name a host"),
        ("https://user:secret@example.com/a.mp3", "must not carry credentials"),
    ],
)
def test_bad_urls_are_named(url: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_source_url(url, allow_file_urls=False)


UNRESOLVABLE = "http://no-such-host.invalid/song.mp3"
PRODUCTION = "https://audjust.com/sample.mp3"


async def fetcher(mode: SourceMode) -> tuple[SourceFetcher, aiohttp.ClientSession]:
    session = aiohttp.ClientSession()
    limits = FetchLimits(max_bytes=10**8, timeout_seconds=30.0, max_redirects=5)
    fetcher = SourceFetcher(
        session=session, limits=limits, allow_file_urls=False, mode=mode, public_only=False
    )
    return fetcher, session


async def test_synthesize_renders_the_same_song_for_the_same_url_without_network() -> None:
    sources, session = await fetcher(SourceMode.SYNTHESIZE)
    async with session:
        first, again = await sources.fetch(PRODUCTION), await sources.fetch(PRODUCTION)
        other = await sources.fetch("https://audjust.com/other.mp3")
    assert first == again != other
    info = sf.info(io.BytesIO(first))
    assert info.duration == pytest.approx(spec_from_seed(PRODUCTION).duration_seconds, abs=0.01)


async def test_auto_synthesizes_only_when_the_host_does_not_resolve(site: str) -> None:
    sources, session = await fetcher(SourceMode.AUTO)
    async with session:
        assert await sources.fetch(UNRESOLVABLE) == synthesized_source(UNRESOLVABLE)
        assert await sources.fetch(f"{site}/bytes/10") == b"x" * 10
        with pytest.raises(SourceError, match="HTTP 404"):
            await sources.fetch(f"{site}/missing")


async def test_fetch_fails_on_an_unresolvable_host() -> None:
    sources, session = await fetcher(SourceMode.FETCH)
    async with session:
        with pytest.raises(SourceError, match="cannot connect"):
            await sources.fetch(UNRESOLVABLE)


async def test_local_fetches_loopback_and_synthesizes_every_other_host(site: str) -> None:
    sources, session = await fetcher(SourceMode.LOCAL)
    async with session:
        assert await sources.fetch(f"{site}/bytes/10") == b"x" * 10
        assert await sources.fetch(PRODUCTION) == synthesized_source(PRODUCTION)
