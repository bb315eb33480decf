"""Servers under measurement as child processes: a free port, a start that waits for the ready
line, and the Python servers the benches put side by side (`serve`, `proxy` and bare aiohttp)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterable
from typing import IO

# Requests a minute per key: above any load a bench makes. The default (100, the reference's)
# would answer 429 within the first second of a load test.
LOAD_RATE_LIMIT = 10_000_000

# A bare aiohttp app, on the same event loop (asyncio's default) and JSON library (the standard
# `json`, through web.json_response) as the mock: the yardstick for acks, and the file server for
# sources when given a file. It prints one line once it listens.
_BARE_SERVER = """
import sys
from aiohttp import web
song = open(sys.argv[2], "rb").read() if len(sys.argv) > 2 else b""
async def ack(request):
    await request.read()
    return web.json_response({"success": True, "message": "Request queued."})
async def file(request):
    return web.Response(body=song, content_type="audio/mpeg")
app = web.Application()
app.router.add_post("/ack", ack)
app.router.add_get("/song.mp3", file)
ready = lambda *args: print("ready", flush=True)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=ready)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_command(port: int, *flags: str) -> list[str]:
    """`audjust-mock serve` on loopback at `port`, its rate limit out of a load test's way."""
    return [
        *(sys.executable, "-m", "mock_server", "serve", "--host", "127.0.0.1"),
        *("--port", str(port), "--results-port", "0"),
        *("--rate-limit", str(LOAD_RATE_LIMIT), *flags),
    ]


def proxy_command(port: int, upstream: str) -> list[str]:
    """`audjust-mock proxy` on loopback at `port`, forwarding to `upstream` and checking what
    passes; nothing recorded or written, as a first run in a client's CI would have it."""
    return [
        *(sys.executable, "-m", "mock_server", "proxy", "--upstream", upstream),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]


def bare_command(port: int, song: str | None = None) -> list[str]:
    """The bare aiohttp yardstick at `port`: POST /ack, and GET /song.mp3 serving `song`."""
    return [sys.executable, "-c", _BARE_SERVER, str(port), *([song] if song else [])]


def start(
    command: list[str], stderr: IO[str] | None = None, ready_line: bool = True
) -> subprocess.Popen[str]:
    """Start `command` in a process group of its own (so `stop` reaches any children it forks)
    and wait for its first line on stdout, which the two Python servers print once they listen.
    With `ready_line` false, its stdout goes where its stderr does and the caller does the waiting.
    """
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE if ready_line else stderr,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )
    if ready_line:
        assert process.stdout is not None
        process.stdout.readline()
    return process


def stop(processes: Iterable[subprocess.Popen[str]]) -> None:
    """SIGTERM to each process's group, then SIGKILL to any still there after 10 s."""
    started = list(processes)
    for process in started:
        _signal_group(process, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen[str], number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has already gone
        os.killpg(process.pid, number)
