"""`audjust-mock serve`: the app on a real port until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from mock_server.accounts import Plan, PricingRule
from mock_server.app import create_app
from mock_server.scenarios import Arming, Scenario, ScenarioError
from mock_server.services import SERVICES
from mock_server.settings import DEFAULT_KEY, Settings
from mock_server.sources import SourceMode, is_loopback_host

ENV_PREFIX = "AUDJUST_MOCK_"
T = TypeVar("T")


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(ENV_PREFIX + name.upper().replace("-", "_"), default)


def _flag(name: str) -> bool:
    return (_env(name) or "").lower() in ("1", "true", "yes")


def _key(value: str) -> tuple[str, Plan]:
    key, _, plan = value.partition(":")
    try:
        return key, Plan.named(plan or Plan.ENTERPRISE.value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _scenario(value: str) -> Arming:
    try:
        return Arming(Scenario.parse(value), count=None)
    except ScenarioError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _scenario_file(value: str) -> list[Arming]:
    """A JSON list of scenarios, each `"NAME;param=value"` or `{"name", "params", "route",
    "key", "count"}`; without a count, a scenario applies to every matching request."""
    try:
        document = json.loads(Path(value).read_text())
        if not isinstance(document, list):
            raise ScenarioError("the file must hold a JSON list of scenarios")
        return [Arming.from_json(item, default_count=None) for item in document]
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"{value}: {error}") from error


def _add_repeatable(
    parser: argparse.ArgumentParser,
    flag: str,
    dest: str,
    convert: Callable[[str], T],
    metavar: str,
    help: str,
) -> None:
    """A flag given any number of times, or once as AUDJUST_MOCK_<DEST>, comma-separated."""
    listed = _env(dest)
    parser.add_argument(
        flag,
        dest=dest,
        action="append",
        type=convert,
        default=[convert(item) for item in listed.split(",")] if listed else None,
        metavar=metavar,
        help=help,
    )


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Every flag also reads AUDJUST_MOCK_<FLAG> (API keys: comma-separated KEY[:PLAN])."""
    parser.add_argument("--host", default=_env("host", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(_env("port", "8080") or 8080))
    _add_repeatable(
        parser,
        "--api-key",
        "api_keys",
        _key,
        metavar="KEY[:PLAN]",
        help="accept this key (plan: free, starter, plus, mega, enterprise); repeatable",
    )
    parser.add_argument(
        "--public-url",
        default=_env("public_url"),
        help="public base of the API origin, when clients reach it through a proxy or a "
        "container's published port; result URLs use its host unless --results-url is given",
    )
    parser.add_argument(
        "--results-port",
        type=int,
        default=int(_env("results_port") or -1),
        help="port of the results origin, served beside the API because the reference's "
        "result URLs are on a host of their own (default: the API's port + 1; any free port "
        "if --port is 0)",
    )
    parser.add_argument(
        "--results-url",
        default=_env("results_url"),
        help="public base written into result URLs (default: the host the client addressed, "
        "on the results port)",
    )
    parser.add_argument("--data-dir", type=Path, default=_env("data_dir"))
    seed = _env("seed")
    parser.add_argument("--seed", type=int, default=int(seed) if seed else None)
    parser.add_argument("--workers", type=int, default=int(_env("workers", "2") or 2))
    parser.add_argument("--time-scale", type=float, default=float(_env("time_scale", "1") or 1))
    parser.add_argument(
        "--allow-file-urls",
        action="store_true",
        default=_flag("allow_file_urls"),
    )
    parser.add_argument(
        "--public-sources-only",
        action="store_true",
        default=_flag("public_sources_only"),
        help="refuse source downloads from private, loopback and link-local addresses",
    )
    parser.add_argument(
        "--admin-token",
        default=_env("admin_token"),
        help="require this token (header X-Admin-Token) on the /_mock/* control routes; "
        "without it they are served only on a loopback address",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=int(_env("rate_limit", "100") or 100),
        help="requests per minute per key (the reference: currently 100 a minute; that the "
        "minute rolls is the mock's choice)",
    )
    parser.add_argument(
        "--sources",
        choices=[mode.value for mode in SourceMode],
        default=_env("sources", SourceMode.AUTO.value),
        help="fetch; synthesize (a song seeded by the URL, no network); auto: fetch, synthesize "
        "when the host does not resolve; local: fetch from loopback only",
    )
    _add_repeatable(
        parser,
        "--scenario",
        "scenarios",
        _scenario,
        metavar="NAME[;param=value]",
        help="a fault scenario for every request it applies to (GET /_mock/scenarios lists "
        "them); repeatable",
    )
    parser.add_argument(
        "--scenario-file",
        type=_scenario_file,
        default=_env("scenario_file"),
        metavar="FILE",
        help="a JSON list of scenarios, each a NAME;param=value string or an object with name, "
        "params, route, key and count",
    )
    parser.add_argument(
        "--pricing",
        choices=[r.value for r in PricingRule],
        default=_env("pricing", PricingRule.EXAMPLES.value),
        help="examples: max(1, round(minutes x rate)) as in the reference; documented: round up",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(
        host=args.host,
        port=args.port,
        api_keys=tuple(args.api_keys) if args.api_keys else Settings().api_keys,
        public_url=args.public_url,
        results_port=None if args.results_port < 0 else args.results_port,
        results_url=args.results_url,
        data_dir=args.data_dir,
        seed=args.seed,
        workers=args.workers,
        time_scale=args.time_scale,
        allow_file_urls=args.allow_file_urls,
        public_sources_only=args.public_sources_only,
        admin_token=args.admin_token,
        pricing=PricingRule(args.pricing),
        rate_limit=args.rate_limit,
        sources=SourceMode(args.sources),
        scenarios=(*(args.scenarios or ()), *(args.scenario_file or ())),
    )


async def _serve(settings: Settings, announce_default_key: bool) -> None:
    runner = web.AppRunner(create_app(settings), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    port = runner.addresses[0][1]  # the real one when --port 0 asked for any free port
    results_port = runner.app[SERVICES].results_port
    print(
        f"audjust-mock listening on http://{settings.host}:{port} "
        f"(results on http://{settings.host}:{results_port})",
        flush=True,
    )
    if announce_default_key:
        print(
            f"no --api-key given: accepting the mock's default key {DEFAULT_KEY!r} "
            "(the live API takes only keys from its portal)",
            flush=True,
        )
    if not is_loopback_host(settings.host) and settings.admin_token is None:
        print(
            "listening beyond loopback without --admin-token: /_mock/* control routes are off",
            flush=True,
        )
    await stop.wait()
    await runner.cleanup()


def run_serve(args: argparse.Namespace) -> int:
    asyncio.run(_serve(settings_from(args), announce_default_key=not args.api_keys))
    return 0
