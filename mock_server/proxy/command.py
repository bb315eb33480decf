"""`audjust-mock proxy`: the flags, and running the proxy until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from aiohttp import web

from mock_server.proxy.app import PROXY, ProxyConfig, create_proxy_app, is_http_url
from mock_server.settings import PortInUse, bind

# Off serve's own pair (8080 for the API, 8081 for the results origin), so the two run side by side.
DEFAULT_PORT = 8090


def _http_url(value: str) -> str:
    if not is_http_url(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def add_proxy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--upstream",
        required=True,
        type=_http_url,
        help="the API to forward to, e.g. https://api.audjust.com",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any)"
    )
    parser.add_argument(
        "--public-url",
        type=_http_url,
        help="the proxy's origin as the upstream reaches it, for webhooks (a tunnel's URL "
        "when the upstream is the live API; default: the listening address)",
    )
    parser.add_argument("--record", type=Path, help="write each exchange under this folder")
    parser.add_argument(
        "--report",
        type=Path,
        help="write every violation, finding and observation to this JSON file",
    )
    parser.add_argument(
        "--junit",
        type=Path,
        help="write one JUnit test case per exchange, failed by a violation (a broken documented "
        "promise); findings and observations are properties",
    )
    parser.add_argument(
        "--observed-profile",
        type=Path,
        help="write what the upstream was seen to do, as an audjust-mock profile, to this file",
    )
    parser.add_argument(
        "--strict", action="store_true", help="answer a request breaking its schema with 422"
    )
    parser.add_argument(
        "--check-results", action="store_true", help="fetch and check each result file"
    )
    parser.add_argument(
        "--keep-exchanges",
        type=_positive,
        default=ProxyConfig.kept_exchanges,
        metavar="N",
        help="exchange summaries held in memory and detailed in the reports, the latest first "
        f"kept (default {ProxyConfig.kept_exchanges}); every exchange is counted in the reports",
    )


def config_from(args: argparse.Namespace) -> ProxyConfig:
    return ProxyConfig(
        upstream=args.upstream,
        public_url=args.public_url,
        strict=args.strict,
        check_results=args.check_results,
        record=args.record,
        report=args.report,
        junit=args.junit,
        observed_profile=args.observed_profile,
        kept_exchanges=args.keep_exchanges,
    )


async def _run(config: ProxyConfig, host: str, port: int) -> None:
    runner = web.AppRunner(create_proxy_app(config), handle_signals=False)
    await runner.setup()
    try:
        await bind(web.TCPSite(runner, host, port).start, port, "--port", "the proxy")
    except PortInUse:
        await runner.cleanup()
        raise
    origin = f"http://{host}:{runner.addresses[0][1]}"
    proxy = runner.app[PROXY]
    proxy.public_url = proxy.public_url or origin
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"audjust-mock proxy listening on {origin} (upstream {config.upstream}, "
        f"webhooks at {proxy.public_url})",
        flush=True,
    )
    await stop.wait()
    await runner.cleanup()


def run_proxy(args: argparse.Namespace) -> int:
    try:
        asyncio.run(_run(config_from(args), args.host, args.port))
    except PortInUse as taken:
        print(f"audjust-mock proxy: error: {taken}", file=sys.stderr)
        return 2
    return 0
