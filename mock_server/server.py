"""`audjust-mock serve`: the app on a real port until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys

from aiohttp import web

from mock_server import traffic
from mock_server.contract.profile import changed_keys
from mock_server.flags import settings_from
from mock_server.jobs.recordings import RecordingError
from mock_server.settings import DEFAULT_KEY, LogFormat, PortInUse, Settings, bind
from mock_server.sources import is_loopback_host
from mock_server.web.app import create_app
from mock_server.web.keys import SERVICES


def _show_traffic(settings: Settings) -> logging.Handler | None:
    """Traffic lines on stderr, unless --quiet."""
    if settings.quiet:
        return None
    handler = traffic.TurnHandler(sys.stderr, asyncio.get_running_loop())
    text = settings.log_format is LogFormat.TEXT
    handler.setFormatter(traffic.TextFormatter() if text else traffic.JsonFormatter())
    traffic.LOG.addHandler(handler)
    traffic.LOG.setLevel(logging.INFO)
    traffic.LOG.propagate = False
    return handler


async def _serve(app: web.Application, settings: Settings, announce_default_key: bool) -> None:
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await bind(site.start, settings.port, "--port", "the API")
    except PortInUse:
        await runner.cleanup()
        raise
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
    replays = runner.app[SERVICES].replays
    for line in replays.lines() if replays else []:
        print(line, flush=True)
    if announce_default_key:
        print(
            f"no --api-key given: accepting the mock's default key {DEFAULT_KEY!r} "
            "(the live API takes only keys from its portal)",
            flush=True,
        )
    changed = changed_keys(settings.profile)
    if changed:
        shown = ", ".join(f"{key}={json.dumps(value)}" for key, value in changed.items())
        print(f"profile: {shown} (the rest at the mock's defaults)", flush=True)
    if not is_loopback_host(settings.host) and settings.admin_token is None:
        print(
            "listening beyond loopback without --admin-token: /_mock/* control routes are off",
            flush=True,
        )
    print(f"dashboard: http://{settings.host}:{port}/_mock/ui", flush=True)
    handler = _show_traffic(settings)
    # What start-up made (modules, schemas, the catalogue: about 35,000 objects) lives as long as
    # the process: out of the collector's way, so that a full collection under load walks only
    # what requests made (such pauses were most of the p99 under wrk).
    gc.freeze()
    await stop.wait()
    await runner.cleanup()
    if handler is not None:
        traffic.emit("stopped", {"message": "audjust-mock stopped"})
        handler.flush()
        traffic.LOG.removeHandler(handler)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until stopped; 2, with one line on stderr, when the recordings to replay are
    unusable (as argparse does for a bad --profile)."""
    settings = settings_from(args)
    try:
        app = create_app(settings)
    except RecordingError as error:
        print(f"audjust-mock serve: error: argument --replay: {error}", file=sys.stderr)
        return 2
    default_key = settings.api_keys == Settings().api_keys
    try:
        asyncio.run(_serve(app, settings, announce_default_key=default_key))
    except PortInUse as taken:
        print(f"audjust-mock serve: error: {taken}", file=sys.stderr)
        return 2
    return 0
