"""The checking proxy in a test: `proxies()` starts proxies in front of an upstream (a mock, a
breaker), each with a client session pointed at it, and closes the sessions afterwards. A test
module wraps it in its own `make_proxy` fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from mock_server.proxy.app import PROXY, VIOLATIONS_HEADER, Proxy, ProxyConfig, create_proxy_app
from tests.conftest import AppClient, ServerFactory
from tests.support import KEY, wait_until


@dataclass
class Through:
    """A running proxy and a client session pointed at it."""

    proxy: Proxy
    client: aiohttp.ClientSession

    async def post(
        self, path: str, body: Any, headers: dict[str, str] = KEY
    ) -> tuple[int, bytes, int]:
        """(status, raw answer, the X-Mock-Violations count)."""
        async with self.client.post(path, json=body, headers=headers) as answer:
            return answer.status, await answer.read(), int(answer.headers[VIOLATIONS_HEADER])

    async def settled(self) -> None:
        """Wait until every exchange expects nothing more (webhooks in, results checked), so
        that a recording is complete before it is read."""
        check = self.proxy.config.check_results

        async def done() -> bool:
            return all(exchange.done(check) for exchange in self.proxy.exchanges)

        await wait_until(done)


MakeProxy = Callable[..., Awaitable[Through]]


@asynccontextmanager
async def proxies(aiohttp_server: ServerFactory) -> AsyncIterator[MakeProxy]:
    """`make(upstream, **ProxyConfig fields)` starts a proxy on a free port, with its public URL
    set to where it listens, since the upstream's webhooks must reach it."""
    sessions: list[aiohttp.ClientSession] = []

    async def make(upstream: str, **config: Any) -> Through:
        app = create_proxy_app(ProxyConfig(upstream=upstream.rstrip("/"), **config))
        server = await aiohttp_server(app)
        where = str(server.make_url("")).rstrip("/")
        app[PROXY].public_url = where
        sessions.append(aiohttp.ClientSession(base_url=where))
        return Through(app[PROXY], sessions[-1])

    try:
        yield make
    finally:
        for session in sessions:
            await session.close()


def origin(mock: AppClient) -> str:
    """A test mock's API origin, as a proxy's upstream."""
    return str(mock.make_url("")).rstrip("/")
