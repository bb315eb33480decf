"""A client of `audjust-mock proxy` for the proxy's tests: the proxy app served on a real
socket, a session pointed at it, and a wait for every exchange to be done."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from mock_server.proxy.app import (
    FINDINGS_HEADER,
    PROXY,
    VIOLATIONS_HEADER,
    Proxy,
    ProxyConfig,
    create_proxy_app,
)
from tests.support import KEY, wait_until

ServerFactory = Callable[..., Awaitable[TestServer]]


@dataclass
class Through:
    """A running proxy and a client session pointed at it."""

    proxy: Proxy
    client: aiohttp.ClientSession
    origin: str  # where the proxy listens, for a client of the test's own

    async def post(
        self, path: str, body: Any, headers: dict[str, str] = KEY
    ) -> tuple[int, bytes, int]:
        """(status, raw answer, the X-Mock-Violations count); bytes are sent as they are."""
        status, raw, (violations, _) = await self.post_counted(path, body, headers)
        return status, raw, violations

    async def post_counted(
        self, path: str, body: Any, headers: dict[str, str] = KEY, method: str = "POST"
    ) -> tuple[int, bytes, tuple[int, int]]:
        """(status, raw answer, (X-Mock-Violations, X-Mock-Findings))."""
        sent = {"data": body} if isinstance(body, bytes) else {"json": body}
        async with self.client.request(method, path, headers=headers, **sent) as answer:
            counts = (int(answer.headers[VIOLATIONS_HEADER]), int(answer.headers[FINDINGS_HEADER]))
            return answer.status, await answer.read(), counts

    async def settled(self) -> None:
        """Wait until every exchange expects nothing more (webhooks in, results checked) and
        the reports say so."""
        check = self.proxy.config.fetches_results

        async def done() -> bool:
            finished = all(exchange.done(check) for exchange in self.proxy.exchanges)
            return finished and not self.proxy.reports_pending

        await wait_until(done)

    def rules(self) -> set[tuple[str, str, str]]:
        return {
            (d.phase, d.pointer, d.rule)
            for exchange in self.proxy.exchanges
            for d in exchange.departures
        }


MakeProxy = Callable[..., Awaitable[Through]]


async def proxies(aiohttp_server: ServerFactory) -> AsyncIterator[MakeProxy]:
    """The `make_proxy` fixture: a proxy in front of `upstream`, with a client session."""
    sessions: list[aiohttp.ClientSession] = []

    async def make(upstream: str, **config: Any) -> Through:
        app = create_proxy_app(ProxyConfig(upstream=upstream.rstrip("/"), **config))
        server = await aiohttp_server(app)
        origin = str(server.make_url("")).rstrip("/")
        app[PROXY].public_url = origin
        sessions.append(aiohttp.ClientSession(base_url=origin))
        return Through(app[PROXY], sessions[-1], origin)

    yield make
    for session in sessions:
        await session.close()


def origin(mock: TestClient[Any, Any]) -> str:
    """A test mock's API origin, as a proxy's upstream."""
    return str(mock.make_url("")).rstrip("/")
