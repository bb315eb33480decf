"""One frozen Settings for the whole service, from flags, AUDJUST_MOCK_* variables or code."""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from mock_server.accounts import Plan
from mock_server.audio.types import DecodeLimits
from mock_server.contract.profile import Profile
from mock_server.faults.arming import Arming
from mock_server.sources import SourceMode

DEFAULT_KEY = "test-key"


class LogFormat(Enum):
    """How `serve` prints its traffic lines."""

    TEXT = "text"
    JSON = "json"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    api_keys: tuple[tuple[str, Plan], ...] = ((DEFAULT_KEY, Plan.ENTERPRISE),)
    public_url: str | None = None  # the API origin's public base; None: the one the client used
    results_port: int | None = None  # the results listener; None: the API's port + 1 (0: any)
    results_url: str | None = None  # public base of result URLs; None: the API host, results port
    data_dir: Path | None = None  # None: a temporary folder removed at exit
    seed: int | None = None
    workers: int = 2
    time_scale: float = 1.0
    allow_file_urls: bool = False
    public_sources_only: bool = False  # refuse downloads from private and loopback addresses
    admin_token: str | None = None  # required by /_mock/* when given, or when not on loopback
    sources: SourceMode = SourceMode.AUTO
    rate_limit: int = 100
    rate_window_seconds: float = 60.0
    artifact_ttl_seconds: float = 30 * 86400.0
    job_timeout_seconds: float = 420.0
    download_max_bytes: int = 200 * 1024 * 1024
    download_timeout_seconds: float = 60.0
    download_max_redirects: int = 5
    max_body_bytes: int = 64 * 1024 * 1024
    decode_limits: DecodeLimits = field(default_factory=DecodeLimits)
    profile: Profile = field(default_factory=Profile)  # the choices the reference leaves open
    scenarios: tuple[Arming, ...] = ()  # for every matching request of the run
    quiet: bool = False  # serve: no traffic lines
    log_format: LogFormat = LogFormat.TEXT  # serve: traffic lines as text or JSON
    replay: Path | None = None  # recordings (proxy --record) to answer matching requests from
    replay_strict: bool = False  # refuse a request no recording matches, naming the closest
    # Wall-clock seconds after which an unused named namespace expires (0: never).
    namespace_idle_seconds: float = 3600.0
    # Bytes every stored upload (`GET /upload`, then PUT) may hold together, in memory.
    upload_store_bytes: int = 1024 * 1024 * 1024


class PortInUse(OSError):
    """A listener's port is taken: one line naming the flag that sets it, since `serve` binds
    two (the API and, beside it, the results origin) and the second is easy not to know of."""

    def __init__(self, port: int, flag: str, listener: str) -> None:
        super().__init__(f"port {port} ({flag}, {listener}) is already in use; choose another")
        self.port = port
        self.flag = flag


async def bind(start: Callable[[], Awaitable[None]], port: int, flag: str, listener: str) -> None:
    """`start()` a listener on `port`, or PortInUse naming `flag`."""
    try:
        await start()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise PortInUse(port, flag, listener) from None
