"""Soak: a shared mock driven through 5,000 namespaces and a checking proxy through 18,000
exchanges, each with fixed counts and real sockets; what they keep must stay within its bounds
however long they run. Memory is printed at each thousand (`-s` shows it), never asserted: the
machines are shared, the store sizes are the promise.

`make soak` runs it (about two minutes); not part of `make test`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from mock_server.proxy.app import PROXY, ProxyConfig, create_proxy_app
from mock_server.settings import Settings
from mock_server.testing.inprocess import MockServer, serve_app
from mock_server.web.keys import SERVICES

NAMESPACES = 5_000
EXCHANGES = 18_000
KEPT_EXCHANGES = 1_000
IDLE_SECONDS = 1.0
CONCURRENCY = 16


def rss_mb() -> float:
    """This process's resident memory: the mock, the proxy and the clients together."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def in_blocks(
    count: int, one: Callable[[int], Awaitable[None]], report: Callable[[int], str]
) -> None:
    """`one(i)` for every i, CONCURRENCY at a time, with a line per thousand."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def limited(index: int) -> None:
        async with limit:
            await one(index)

    for start in range(0, count, 1_000):
        await asyncio.gather(*(limited(i) for i in range(start, min(start + 1_000, count))))
        print(f"{start + 1_000:>6}: {report(start + 1_000)}, RSS {rss_mb():.0f} MB", flush=True)


async def test_five_thousand_namespaces_leave_a_shared_mock_as_it_was() -> None:
    """One CI job each (a key, one analysis answered from the cache, its webhook to a sink):
    namespaces unused for a second expire, and with them every store's share."""
    server = MockServer(Settings(workers=1, namespace_idle_seconds=IDLE_SECONDS)).start()
    try:
        services = server.call(lambda: server.app[SERVICES])
        song = f"{server.base_url}/_mock/fixtures/pop_120"
        async with aiohttp.ClientSession() as client:

            async def one(index: int) -> None:
                space = {"X-Mock-Namespace": f"ci-{index}"}
                key = {"X-API-Key": f"key-{index}"}
                hook = f"{server.base_url}/_mock/sink/hooks?namespace=ci-{index}"
                async with client.post(
                    f"{server.base_url}/_mock/keys", json={"key": key["X-API-Key"]}, headers=space
                ) as added:
                    assert added.status == 200, await added.text()
                body = {"sourceFileUrl": song, "resultWebhook": hook}
                async with client.post(f"{server.base_url}/analyze", json=body, headers=key) as ack:
                    assert ack.status == 200, await ack.text()

            await one(-1)  # the song analysed once: every later analysis is the cache's
            await in_blocks(
                NAMESPACES,
                one,
                lambda done: f"namespaces in use {server.call(lambda: len(services.spaces))}",
            )
            deadline = time.monotonic() + 120
            while server.call(lambda: len(services.spaces)) > 1:  # the default only
                assert time.monotonic() < deadline, "idle namespaces did not expire"
                async with client.get(f"{server.base_url}/_mock/requests"):
                    pass  # a request that reads a namespace sweeps the idle ones
                await asyncio.sleep(0.2)
        jobs, attempts, last_key = server.call(
            lambda: (
                len(services.jobs.jobs),
                len(services.webhooks.attempts()),
                services.accounts.plan_of(f"key-{NAMESPACES - 1}"),
            )
        )
        print(f"after expiry: jobs {jobs}, webhook attempts {attempts}, RSS {rss_mb():.0f} MB")
        assert (jobs, attempts, last_key) == (0, 0, None)
    finally:
        server.stop()


async def test_eighteen_thousand_exchanges_leave_a_proxy_holding_its_latest_thousand() -> None:
    server = MockServer(Settings(workers=1)).start()
    runner: web.AppRunner | None = None
    try:
        app = create_proxy_app(ProxyConfig(upstream=server.base_url, kept_exchanges=KEPT_EXCHANGES))
        runner, origin = await serve_app(app, "127.0.0.1", 0)
        proxy = app[PROXY]
        proxy.public_url = origin
        async with aiohttp.ClientSession() as client:

            async def one(index: int) -> None:
                # Answered at once by the upstream, checked by the proxy: a listed error each.
                async with client.get(
                    f"{origin}/analyze", headers={"X-API-Key": "test-key"}
                ) as answer:
                    assert answer.status == 405
                    await answer.read()

            await in_blocks(
                EXCHANGES,
                one,
                lambda done: f"summaries held {len(proxy.exchanges)} of {proxy.exchanges.total}",
            )
        totals = proxy.exchanges.totals()
        assert totals["exchanges"] == EXCHANGES and totals["kept"] <= KEPT_EXCHANGES
        assert totals["withViolations"] == 0
        assert all(exchange.held_bytes() == 0 for exchange in proxy.exchanges)
    finally:
        if runner is not None:
            await runner.cleanup()
        server.stop()
