"""Source downloads against real servers: caps, redirects, stalls and lying peers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from mock_server.sources import FetchLimits, SourceError, SourceFetcher, validate_source_url
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
        return await SourceFetcher(session, LIMITS, allow_file_urls).fetch(url)


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
