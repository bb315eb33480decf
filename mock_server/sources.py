"""Fetching source audio: http(s) with a size cap, a timeout and a redirect limit.

file:// URLs only with --allow-file-urls. Sources can also be synthesized: a deterministic song
seeded by the URL, so client tests that hard-code production URLs work with no network. With
--public-sources-only, every hop of a download must reach a public address, so a mock exposed to
others cannot be turned on the machine's own network.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from mock_server.audio.synth import song_bytes, spec_from_seed
from mock_server.uploads import UploadProblem, Uploads


class SourceMode(StrEnum):
    """Where source audio comes from."""

    FETCH = "fetch"  # always download; an unreachable host fails the job
    SYNTHESIZE = "synthesize"  # never download: a song seeded by the URL
    AUTO = "auto"  # download; synthesize only when the host name does not resolve
    LOCAL = "local"  # download from loopback hosts, synthesize for every other host


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int
    timeout_seconds: float
    max_redirects: int


def _cause(error: BaseException) -> str:
    """What went wrong, in the words of the innermost error (aiohttp wraps the useful one)."""
    inner = error
    while inner.__cause__ is not None:
        inner = inner.__cause__
    return str(getattr(inner, "message", "") or inner) or type(inner).__name__


class SourceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _is_public(address: str) -> bool:
    return ipaddress.ip_address(address.split("%")[0]).is_global


class PublicOnlyResolver(AbstractResolver):
    """Resolves as usual, then keeps only public addresses: what it returns is what aiohttp
    connects to, so a name that later re-resolves to a private address gains nothing."""

    def __init__(self) -> None:
        self._resolver = aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        public = [entry for entry in found if _is_public(entry["host"])]
        if not public:
            addresses = ", ".join(sorted({entry["host"] for entry in found}))
            raise OSError(f"{host} resolves only to non-public addresses ({addresses})")
        return public

    async def close(self) -> None:
        await self._resolver.close()


@contextlib.asynccontextmanager
async def sources_session(
    shared: aiohttp.ClientSession, public_only: bool
) -> AsyncIterator[aiohttp.ClientSession]:
    """The session downloads use: the shared one, or one of their own that reaches public
    addresses only."""
    if not public_only:
        yield shared
        return
    connector = aiohttp.TCPConnector(resolver=PublicOnlyResolver())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


def validate_source_url(url: object, allow_file_urls: bool) -> str:
    """The URL if it is one the mock will fetch; ValueError with the reason otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("must be a non-empty URL string")
    return _checked_url(url, allow_file_urls)


@functools.lru_cache(maxsize=1024)
def _checked_url(url: str, allow_file_urls: bool) -> str:
    """`validate_source_url` for a string, kept for the URLs that pass: a client sends the same
    few sources and webhooks again and again, and splitting them took 6% of the loop under wrk.
    One that does not pass raises, and is not kept."""
    parts = urlsplit(url)
    schemes = ("http", "https", "file") if allow_file_urls else ("http", "https")
    if parts.scheme not in schemes:
        raise ValueError(f"must be an {' or '.join(schemes)} URL")
    if parts.scheme != "file" and not parts.hostname:
        raise ValueError("must name a host")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise ValueError("has a port outside 0-65535") from None
    return url


class SourceFetcher:
    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        limits: FetchLimits,
        allow_file_urls: bool,
        mode: SourceMode,
        public_only: bool,
        uploads: Uploads | None = None,
    ) -> None:
        self._session = session  # with a PublicOnlyResolver when public_only
        self.limits = limits
        self.allow_file_urls = allow_file_urls
        self.mode = mode
        self.initial_mode = mode  # what a reset returns to after a test chose another
        self.public_only = public_only
        self.uploads = uploads  # its retrieval URLs are read from it, in every mode, offline

    def reset(self) -> None:
        self.mode = self.initial_mode

    def _synthesizes(self, url: str) -> bool:
        """Whether the mode says to render `url` rather than try to download it."""
        if self.mode is SourceMode.LOCAL:
            return not is_loopback_url(url)
        return self.mode is SourceMode.SYNTHESIZE

    def _too_large(self, url: str) -> SourceError:
        return SourceError(
            f"Could not download source file {url}: larger than {self.limits.max_bytes} bytes"
        )

    async def fetch(self, url: str) -> bytes:
        if self.uploads is not None and (upload_id := self.uploads.owns(url)):
            return self._uploaded(url, upload_id)
        if urlsplit(url).scheme == "file" and self.allow_file_urls:
            return await asyncio.to_thread(self._read_file, url)
        if self._synthesizes(url):
            return await asyncio.to_thread(synthesized_source, url)
        try:
            return await asyncio.wait_for(self._download(url), self.limits.timeout_seconds)
        except TimeoutError as error:
            seconds = self.limits.timeout_seconds
            raise SourceError(
                f"Could not download source file {url}: timed out after {seconds:g} s"
            ) from error
        except aiohttp.ClientConnectorError as error:
            if self.mode is SourceMode.AUTO and isinstance(error.os_error, socket.gaierror):
                return await asyncio.to_thread(synthesized_source, url)
            raise SourceError(
                f"Could not download source file {url}: cannot connect ({error.os_error})"
            ) from error
        except aiohttp.ClientPayloadError as error:
            raise SourceError(
                f"Could not download source file {url}: the body broke off ({_cause(error)})"
            ) from error
        except aiohttp.ClientError as error:
            raise SourceError(f"Could not download source file {url}: {_cause(error)}") from error

    def _uploaded(self, url: str, upload_id: str) -> bytes:
        """An upload's bytes, read from the store rather than over HTTP: a container's mock
        may not reach the results origin by the name its clients use, and neither may one run
        with --sources synthesize or --public-sources-only."""
        assert self.uploads is not None
        try:
            return self.uploads.retrieve(upload_id)
        except UploadProblem as problem:
            raise SourceError(f"Could not download source file {url}: {problem.message}") from None

    def _check_hop(self, url: str, hop: URL) -> None:
        """Under public_only, refuse an address literal that is not public (names are checked
        by the resolver, which literals bypass)."""
        host = hop.host or ""
        try:
            public = _is_public(host.strip("[]"))
        except ValueError:
            return  # a name, not an address literal
        if self.public_only and not public:
            raise SourceError(
                f"Could not download source file {url}: {host} is not a public address "
                "(--public-sources-only)"
            )

    async def _download(self, url: str) -> bytes:
        """GET with redirects followed by hand, so every hop is checked and counted."""
        hop = URL(url)
        for _ in range(self.limits.max_redirects + 1):
            self._check_hop(url, hop)
            async with self._session.get(hop, allow_redirects=False) as response:
                location = response.headers.get("Location")
                if response.status in REDIRECTS and location:
                    hop = hop.join(URL(location))
                    continue
                return await self._body(url, response)
        raise SourceError(f"Could not download source file {url}: too many redirects")

    async def _body(self, url: str, response: aiohttp.ClientResponse) -> bytes:
        if response.status != 200:
            raise SourceError(f"Could not download source file {url}: HTTP {response.status}")
        if (response.content_length or 0) > self.limits.max_bytes:
            raise self._too_large(url)
        chunks = []
        total = 0
        async for chunk in response.content.iter_chunked(1 << 16):
            total += len(chunk)
            if total > self.limits.max_bytes:
                raise self._too_large(url)
            chunks.append(chunk)
        return b"".join(chunks)

    def _read_file(self, url: str) -> bytes:
        path = Path(unquote(urlsplit(url).path))
        if not path.is_file():
            raise SourceError(f"Could not read source file {url}: no such file")
        if path.stat().st_size > self.limits.max_bytes:
            raise self._too_large(url)
        return path.read_bytes()


def is_loopback_host(host: str) -> bool:
    """Whether `host` is this machine: localhost or a loopback address (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """Whether `url` names this machine."""
    return is_loopback_host(urlsplit(url).hostname or "")


@functools.lru_cache(maxsize=4)
def synthesized_source(url: str) -> bytes:
    """The WAV of the song `url` seeds: same URL, same audio, on every machine."""
    return song_bytes(spec_from_seed(url), "wav")
