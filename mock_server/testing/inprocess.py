"""The mock as a real server inside the current process: a free port on 127.0.0.1, served
from a background loop, for test sessions that want a URL rather than an app object; and
`AudjustMock`, the handle a test holds on it. Nothing here imports pytest."""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from mock_server.accounts import Plan
from mock_server.background import BackgroundLoop
from mock_server.contract.wire import KEY_HEADER, UPLOAD
from mock_server.faults.arming import Arming
from mock_server.faults.scenario import Scenario
from mock_server.journal import JournalEntry
from mock_server.services import Services
from mock_server.settings import Settings
from mock_server.songs import song_file
from mock_server.sources import SourceMode
from mock_server.testing.calls import matching, not_called_as_expected, route_path
from mock_server.web.app import create_app
from mock_server.web.keys import SERVICES

T = TypeVar("T")


async def serve_app(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve `app` on host:port (0: any free port); the runner to clean up and the origin."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}"


class MockServer:
    """Start with `MockServer(settings).start()`; stop with `.stop()` or a `with` block."""

    def __init__(self, settings: Settings | None = None) -> None:
        base = settings or Settings(workers=1)
        self.settings = dataclasses.replace(base, host="127.0.0.1", port=0)
        self.app = create_app(self.settings)
        self._runner: web.AppRunner | None = None
        self._loop: BackgroundLoop | None = None
        self.base_url = ""
        self.results_url = ""  # the results origin, a listener of its own as live

    def start(self) -> MockServer:
        self._loop = BackgroundLoop("audjust-mock-server")
        serving = serve_app(self.app, self.settings.host, self.settings.port)
        self._runner, self.base_url = self._loop.run(serving, timeout=60)
        results_port = self.call(lambda: self.app[SERVICES].results_port)
        self.results_url = f"http://{self.settings.host}:{results_port}"
        return self

    def call(self, action: Callable[[], T]) -> T:
        """Run `action` on the server's loop, where the app's state may be touched safely."""
        if self._loop is None:
            raise RuntimeError("the mock server is not running")

        async def on_the_loop() -> T:
            return action()

        return self._loop.run(on_the_loop(), timeout=30)

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        self._loop.run(self._runner.cleanup(), timeout=60)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class ClockHandle:
    """The mock's clock as seen from a test: rate and usage windows, artifact lifetimes and the
    7-minute job limit all read it. On a shared server it is everyone's clock: advancing it
    moves mock time in every namespace."""

    def __init__(self, now: Callable[[], float], advance: Callable[[float], None]) -> None:
        self.now = now
        self.advance = advance


UPLOAD_TIMEOUT_SECONDS = 60.0  # a 200 MB upload over loopback takes a second or two


class MockHandle(ABC):
    """What a test holds on a mock, in-process (`AudjustMock`) or running elsewhere
    (`RemoteMock`); every call is safe from the test's thread."""

    base_url: str
    results_url: str  # result URLs start here, not at base_url
    api_key: str
    clock: ClockHandle

    @abstractmethod
    def reset(self) -> None:
        """Journal, sinks, usage, keys, jobs, artifacts and armed scenarios back to a fresh
        start (the clock too, unless the mock is shared by namespaces)."""

    @abstractmethod
    def add_key(self, key: str, plan: str | Plan = Plan.ENTERPRISE) -> None: ...

    @abstractmethod
    def arm(self, arming: Arming) -> dict[str, Any]: ...

    @abstractmethod
    def use_sources(self, mode: str | SourceMode) -> None:
        """Where sources come from until the next test: `fetch` to really download them."""

    @abstractmethod
    def webhooks(self, name: str = "default") -> list[Any]: ...

    @abstractmethod
    def webhooks_for(self, request_id: str, sink: str | None = None) -> list[dict[str, Any]]:
        """Every delivery of `request_id` to any built-in sink (or only to `sink`), duplicates
        included, in arrival order."""

    @abstractmethod
    def resend_webhook(self, request_id: str, to: str | None = None) -> str:
        """Deliver `request_id`'s recorded final webhook again (to `to`, if given) as a new
        delivery; the URL it goes to. LookupError when no webhook was recorded for it."""

    @abstractmethod
    def answer(
        self, route: str, payload: Any, times: int | None = None, *, break_contract: bool = False
    ) -> dict[str, Any]:
        """Make `route` answer `payload` for the next `times` requests (None: until reset): the
        webhook's `result` for /analyze and /resize, `{"failures": {"export_2.mp3": why}}` for
        /export. AnswerRefused naming the rule it breaks, unless `break_contract`."""

    @property
    @abstractmethod
    def requests(self) -> RequestLog: ...

    @abstractmethod
    def _sink_summary(self) -> dict[str, list[str | None]]:
        """Each sink and the request ids of what it received."""

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

    def fixture_url(self, name: str) -> str:
        """A bundled song served by the mock itself: `pop_120` or `pop_120.mp3`."""
        try:
            file_name = song_file(name)
        except LookupError as error:
            raise ValueError(str(error)) from None
        return f"{self.base_url}/_mock/fixtures/{file_name}"

    def upload(self, file: str | Path | bytes) -> str:
        """Upload `file` (a path, or the bytes themselves) as Audjust's example page does
        (`GET /upload`, then a `PUT` of the bytes to its `storageUrl`, with no key) and return
        its `retrievalUrl`: a `sourceFileUrl` for any route, for an hour of mock time."""
        data = file if isinstance(file, bytes) else Path(file).read_bytes()
        # The handle's key: on a shared mock a namespace's own, so the upload is the namespace's.
        upload = f"{self.base_url}{UPLOAD.path}"
        asked = urllib.request.Request(upload, headers={KEY_HEADER: self.api_key})
        with urllib.request.urlopen(asked, timeout=UPLOAD_TIMEOUT_SECONDS) as answer:
            urls = json.load(answer)
        put = urllib.request.Request(urls["storageUrl"], data=data, method="PUT")
        with urllib.request.urlopen(put, timeout=UPLOAD_TIMEOUT_SECONDS):
            pass
        return str(urls["retrievalUrl"])

    def webhook_url(self, name: str = "default") -> str:
        """A built-in receiver that records every payload POSTed to it."""
        return f"{self.base_url}/_mock/sink/{name}"

    def calls(self, route: str) -> list[JournalEntry]:
        """Every request to `route` (`/export` or `export`) since the last reset, oldest first,
        each with the `request` and `answer` bodies (`None` past the latest 100)."""
        return self.requests.to(route_path(route))

    def last_call(self, route: str | None = None) -> JournalEntry:
        """The latest request (to `route`, if given); AssertionError when there is none."""
        calls = self.calls(route) if route is not None else list(self.requests)
        if not calls:
            raise AssertionError(f"no request to {route or 'the mock'} since the last reset")
        return calls[-1]

    def assert_called(
        self, route: str, times: int | None = None, json: Any = None
    ) -> list[JournalEntry]:
        """The requests to `route` whose body holds `json` (a recursive partial match; every
        request when None): at least one, or exactly `times`. AssertionError listing each
        request to the route and where its body differs, otherwise."""
        path = route_path(route)
        calls = self.calls(path)
        found = matching(calls, json)
        if (not found) if times is None else len(found) != times:
            raise AssertionError(not_called_as_expected(path, times, json, calls))
        return found

    def wait_for_request(self, route: str, timeout: float = 10.0, json: Any = None) -> JournalEntry:
        """The first request to `route` (whose body holds `json`, if given), waiting up to
        `timeout` seconds for it: for a client that calls the API from a thread or a webhook
        handler of its own. TimeoutError saying what did arrive."""
        path = route_path(route)
        deadline = time.monotonic() + timeout
        while True:
            found = matching(self.calls(path), json)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no matching request reached {path} in {timeout:g} s; "
                    + not_called_as_expected(path, None, json, self.calls(path))
                )
            time.sleep(0.01)

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
                    f"{_describe_sinks(self._sink_summary())}"
                )
            time.sleep(0.01)


class AudjustMock(MockHandle):
    """The mock this process runs (`MockServer`), reached through its own loop."""

    def __init__(self, server: MockServer, api_key: str) -> None:
        self._server = server
        self.base_url = server.base_url
        self.results_url = server.results_url
        self.api_key = api_key
        self.clock = ClockHandle(
            lambda: self.call(lambda services: services.clock.now()),
            lambda seconds: self.call(lambda services: services.clock.advance(seconds)),
        )

    def call(self, action: Callable[[Services], T]) -> T:
        """Run `action` on the server's own loop, where its state lives."""
        return self._server.call(lambda: action(self._server.app[SERVICES]))

    def reset(self) -> None:
        self.call(lambda services: services.reset())

    def add_key(self, key: str, plan: str | Plan = Plan.ENTERPRISE) -> None:
        chosen = plan if isinstance(plan, Plan) else Plan.named(plan)
        self.call(lambda services: services.accounts.add_key(key, chosen))

    def arm(self, arming: Arming) -> dict[str, Any]:
        return self.call(lambda services: services.scenarios.arm(arming).to_json())

    def use_sources(self, mode: str | SourceMode) -> None:
        chosen = SourceMode(mode)
        self.call(lambda services: services.use_sources(chosen))

    def answer(
        self, route: str, payload: Any, times: int | None = None, *, break_contract: bool = False
    ) -> dict[str, Any]:
        return self.call(
            lambda services: services.spaces.default.answers.arm(
                route, payload, times, break_contract
            ).to_json()
        )

    def webhooks(self, name: str = "default") -> list[Any]:
        return self.call(lambda services: services.sinks.received(name))

    def webhooks_for(self, request_id: str, sink: str | None = None) -> list[dict[str, Any]]:
        return self.call(
            lambda services: [
                delivery.payload for delivery in services.sinks.deliveries_for(request_id, sink)
            ]
        )

    def resend_webhook(self, request_id: str, to: str | None = None) -> str:
        webhook = self.call(lambda services: services.webhooks.resend(request_id, to))
        if webhook is None:
            raise LookupError(f"no webhook was recorded for request {request_id}")
        return webhook.url

    @property
    def requests(self) -> RequestLog:
        return RequestLog(self.call(lambda services: services.journal.entries()))

    def _sink_summary(self) -> dict[str, list[str | None]]:
        return self.call(lambda services: services.sinks.summary())


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
