"""Fetching source audio: http(s) with a size cap, a timeout and a redirect limit.

file:// URLs only with --allow-file-urls. Sources can also be synthesized: a deterministic song
seeded by the URL, so client tests that hard-code production URLs work with no network.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiohttp

from mock_server.audio.synth import song_bytes, spec_from_seed


class SourceMode(StrEnum):
    """Where source audio comes from."""

    FETCH = "fetch"  # always download; an unreachable host fails the job
    SYNTHESIZE = "synthesize"  # never download: a song seeded by the URL
    AUTO = "auto"  # download; synthesize only when the host name does not resolve
    LOCAL = "local"  # download from loopback hosts, synthesize for every other host


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = 200 * 1024 * 1024
    timeout_seconds: float = 60.0
    max_redirects: int = 5


class SourceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def validate_source_url(url: object, allow_file_urls: bool) -> str:
    """The URL if it is one the mock will fetch; ValueError with the reason otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("must be a non-empty URL string")
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
        session: aiohttp.ClientSession,
        limits: FetchLimits,
        allow_file_urls: bool = False,
        mode: SourceMode = SourceMode.AUTO,
    ) -> None:
        self._session = session
        self.limits = limits
        self.allow_file_urls = allow_file_urls
        self.mode = mode

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
        except aiohttp.TooManyRedirects as error:
            raise SourceError(
                f"Could not download source file {url}: too many redirects"
            ) from error
        except aiohttp.ClientConnectorError as error:
            if self.mode is SourceMode.AUTO and isinstance(error.os_error, socket.gaierror):
                return await asyncio.to_thread(synthesized_source, url)
            raise SourceError(
                f"Could not download source file {url}: cannot connect ({error.os_error})"
            ) from error
        except aiohttp.ClientError as error:
            raise SourceError(
                f"Could not download source file {url}: {type(error).__name__}"
            ) from error

    async def _download(self, url: str) -> bytes:
        # aiohttp refuses the redirect that reaches max_redirects; ours counts redirects followed.
        follow = self.limits.max_redirects + 1
        async with self._session.get(url, max_redirects=follow) as response:
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


def is_loopback_url(url: str) -> bool:
    """Whether `url` names this machine: localhost or a loopback address."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=4)
def synthesized_source(url: str) -> bytes:
    """The WAV of the song `url` seeds: same URL, same audio, on every machine."""
    return song_bytes(spec_from_seed(url), "wav")
