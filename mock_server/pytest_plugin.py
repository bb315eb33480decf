"""The pytest plugin: one mock per test session, reset before each test, in one fixture.

Registered through the `pytest11` entry point, so a project that installs audjust-mock gets the
`audjust_mock` and `audjust_mock_app` fixtures and the `audjust` marker without any import.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from aiohttp import web

from mock_server.accounts import Plan
from mock_server.app import create_app
from mock_server.control import song_file
from mock_server.journal import JournalEntry
from mock_server.scenarios import Arming, Scenario
from mock_server.services import SERVICES, Services
from mock_server.settings import Settings
from mock_server.sources import SourceMode
from mock_server.testing import MockServer

T = TypeVar("T")
INI_KEY = "audjust_mock_api_key"
INI_WORKERS = "audjust_mock_workers"
INI_SEED = "audjust_mock_seed"
INI_SOURCES = "audjust_mock_sources"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI_KEY, "the API key the mock accepts", default="test-key")
    parser.addini(INI_WORKERS, "analysis worker processes", default="1")
    parser.addini(INI_SEED, "seed for request ids (reproducible across runs)", default="0")
    parser.addini(
        INI_SOURCES,
        "local: fetch loopback sources, synthesize every other host (no network); or fetch, "
        "synthesize, auto",
        default=SourceMode.LOCAL.value,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "audjust(keys={KEY: PLAN}, scenarios=[NAME;param=value, ...], sources=MODE): extra API "
        "keys and their plans, fault scenarios for every request, and where sources come from "
        "(fetch, synthesize, auto, local) for this test",
    )


class MockClock:
    """The mock's clock as seen from a test: rate and usage windows, artifact lifetimes and the
    7-minute job limit all read it."""

    def __init__(self, mock: AudjustMock) -> None:
        self._mock = mock

    def now(self) -> float:
        return self._mock.call(lambda services: services.clock.now())

    def advance(self, seconds: float) -> None:
        self._mock.call(lambda services: services.clock.advance(seconds))


class AudjustMock:
    """A running mock and the handles a test needs; every call is safe from the test's thread."""

    def __init__(self, server: MockServer, api_key: str) -> None:
        self._server = server
        self.base_url = server.base_url
        self.results_url = server.results_url  # result URLs start here, not at base_url
        self.api_key = api_key
        self.clock = MockClock(self)

    def call(self, action: Callable[[Services], T]) -> T:
        """Run `action` on the server's own loop, where its state lives."""
        return self._server.call(lambda: action(self._server.app[SERVICES]))

    def reset(self) -> None:
        """Journal, sinks, clock, usage, keys, jobs and artifacts back to a fresh start."""
        self.call(lambda services: services.reset())

    def add_key(self, key: str, plan: str | Plan = Plan.ENTERPRISE) -> None:
        chosen = plan if isinstance(plan, Plan) else Plan.named(plan)
        self.call(lambda services: services.accounts.add_key(key, chosen))

    def scenario(
        self,
        name: str,
        /,
        count: int | None = 1,
        route: str | None = None,
        key: str | None = None,
        **params: float | str,
    ) -> dict[str, Any]:
        """Arm the fault scenario `name` for the next `count` requests (None: every one) it
        applies to, of `route` and `key` if given; ValueError for an unknown name or parameter."""
        return self.arm(Arming(Scenario.named(name, params), count, route, key))

    def arm(self, arming: Arming) -> dict[str, Any]:
        return self.call(lambda services: services.scenarios.arm(arming).to_json())

    def use_sources(self, mode: str | SourceMode) -> None:
        """Where sources come from until the next test: `fetch` to really download them."""
        chosen = SourceMode(mode)
        self.call(lambda services: setattr(services.jobs.fetcher, "mode", chosen))

    def fixture_url(self, name: str) -> str:
        """A bundled song served by the mock itself: `pop_120` or `pop_120.mp3`."""
        try:
            file_name = song_file(name)
        except LookupError as error:
            raise ValueError(str(error)) from None
        return f"{self.base_url}/_mock/fixtures/{file_name}"

    def webhook_url(self, name: str = "default") -> str:
        """A built-in receiver that records every payload POSTed to it."""
        return f"{self.base_url}/_mock/sink/{name}"

    def webhooks(self, name: str = "default") -> list[Any]:
        return self.call(lambda services: services.sinks.received(name))

    def webhooks_for(self, request_id: str, sink: str | None = None) -> list[dict[str, Any]]:
        """Every delivery of `request_id` to any built-in sink (or only to `sink`), duplicates
        included, in arrival order."""
        return self.call(
            lambda services: [
                delivery.payload for delivery in services.sinks.deliveries_for(request_id, sink)
            ]
        )

    def wait_for_webhook(
        self, request_id: str, timeout: float = 30.0, sink: str | None = None
    ) -> dict[str, Any]:
        """The first payload for `request_id` to reach any built-in sink (or `sink`), waiting
        up to `timeout` seconds; TimeoutError saying what each sink did receive."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.webhooks_for(request_id, sink)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                where = "any sink" if sink is None else f"sink {sink!r}"
                raise TimeoutError(
                    f"no webhook for {request_id} reached {where} in {timeout:g} s; "
                    f"{_describe_sinks(self.call(lambda services: services.sinks.summary()))}"
                )
            time.sleep(0.01)

    @property
    def requests(self) -> RequestLog:
        return RequestLog(self.call(lambda services: services.journal.entries()))


def _describe_sinks(summary: dict[str, list[str | None]]) -> str:
    if not summary:
        return "no sink received anything (is resultWebhook audjust_mock.webhook_url()?)"
    received = "; ".join(
        f"{name!r}: {', '.join(str(rid) for rid in ids)}" for name, ids in summary.items()
    )
    return f"the sinks received requestIds {received}"


class RequestLog(list[JournalEntry]):
    """What clients sent the mock, oldest first, with lookups by route and status."""

    def find(
        self, path: str | None = None, method: str | None = None, status: int | None = None
    ) -> list[JournalEntry]:
        return [
            entry
            for entry in self
            if (path is None or entry.path == path)
            and (method is None or entry.method == method)
            and (status is None or entry.status == status)
        ]

    def to(self, path: str) -> list[JournalEntry]:
        return self.find(path=path)


def _settings(config: pytest.Config) -> Settings:
    return Settings(
        api_keys=((str(config.getini(INI_KEY)), Plan.ENTERPRISE),),
        workers=int(config.getini(INI_WORKERS)),
        seed=int(config.getini(INI_SEED)),
        sources=SourceMode(str(config.getini(INI_SOURCES))),
    )


@pytest.fixture(scope="session")
def audjust_mock_server(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """The session's one mock on 127.0.0.1 and a free port, in a background thread."""
    with MockServer(_settings(pytestconfig)) as server:
        yield server


@pytest.fixture
def audjust_mock(
    audjust_mock_server: MockServer, pytestconfig: pytest.Config, request: pytest.FixtureRequest
) -> AudjustMock:
    mock = AudjustMock(audjust_mock_server, str(pytestconfig.getini(INI_KEY)))
    mock.reset()
    marker = request.node.get_closest_marker("audjust")
    options = marker.kwargs if marker else {}
    for key, plan in options.get("keys", {}).items():
        mock.add_key(key, plan)
    for text in options.get("scenarios", ()):
        mock.arm(Arming(Scenario.parse(text), count=None))
    if "sources" in options:
        mock.use_sources(options["sources"])
    return mock


@pytest.fixture
def audjust_mock_app(pytestconfig: pytest.Config) -> web.Application:
    """The aiohttp application itself, for pytest-aiohttp's `aiohttp_client`."""
    return create_app(dataclasses.replace(_settings(pytestconfig), port=0))
