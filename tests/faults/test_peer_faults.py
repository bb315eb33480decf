"""Peers that misbehave, over real sockets on 127.0.0.1: a webhook receiver that is down or answers
503, source servers that stall, reset or lie about their length, and a worker process killed
mid-job. Each must end in a recorded outcome (a failure webhook, an undelivered attempt log), never
a hang or a 500, and the service must keep serving other jobs.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import signal
import socket
import struct
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from mock_server.audio.synth import SongSpec, song_bytes
from mock_server.jobs.job import JobState
from mock_server.web.keys import SERVICES
from tests.conftest import (
    AppClient,
    FileServer,
    MakeMock,
    Receiver,
    ServerFactory,
    post,
    serve_receiver,
)
from tests.support import TINY_RESIZE


async def attempts_for(mock: AppClient, request_id: str) -> list[dict[str, Any]]:
    async with mock.get("/_mock/webhooks") as response:
        return [a for a in await response.json() if a["requestId"] == request_id]


async def wait_for_attempts(
    mock: AppClient, request_id: str, count: int, timeout: float = 10.0
) -> list[dict[str, Any]]:
    async with asyncio.timeout(timeout):
        while len(attempts := await attempts_for(mock, request_id)) < count:
            await asyncio.sleep(0.02)
    return attempts


def closed_port() -> int:
    """A loopback port nobody listens on: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def journal_statuses(mock: AppClient) -> Counter[tuple[str, int | None]]:
    async with mock.get("/_mock/requests") as response:
        return Counter((e["path"], e["status"]) for e in await response.json())


# -- the webhook receiver is down, then perhaps back ------------------------------------------


@pytest.mark.parametrize("down", ["refused", "503"])
async def test_a_receiver_down_for_every_attempt_leaves_the_result_at_its_url(
    make_mock: MakeMock, receiver: Receiver, down: str
) -> None:
    mock = await make_mock(profile={"webhooks.attempts": 3, "webhooks.backoffSeconds": [0.05, 0.1]})
    if down == "refused":
        hook = f"http://127.0.0.1:{closed_port()}/hook"
    else:
        receiver.fail_first = 1000
        hook = receiver.url()
    status, ack = await post(mock, "/resize", {**TINY_RESIZE, "resultWebhook": hook})
    assert status == 200
    attempts = await wait_for_attempts(mock, ack["requestId"], 3)
    await asyncio.sleep(0.3)  # no fourth attempt comes
    attempts = await attempts_for(mock, ack["requestId"])
    assert [(a["attempt"], a["delivered"]) for a in attempts] == [
        (1, False),
        (2, False),
        (3, False),
    ]
    assert {a["url"] for a in attempts} == {hook}
    if down == "refused":
        assert all(a["status"] is None and "Connect" in a["error"] for a in attempts), attempts
    else:
        assert all(a["status"] == 503 and a["error"] is None for a in attempts), attempts
        assert receiver.calls == 3 and receiver.received == []
    # Undelivered, yet the job succeeded and its result waits at resultUrl.
    assert mock.app[SERVICES].jobs.jobs[ack["requestId"]].state is JobState.SUCCEEDED
    async with mock.session.get(ack["resultUrl"]) as response:
        assert response.status == 200
        stored = await response.json()
    assert stored["requestId"] == ack["requestId"] and stored["success"] is True
    assert stored == attempts[0]["payload"]


@pytest.mark.parametrize("down", ["refused", "503"])
async def test_a_receiver_back_within_the_attempts_gets_exactly_one_delivery(
    make_mock: MakeMock, aiohttp_server: ServerFactory, down: str
) -> None:
    # A long backoff in mock time: the receiver comes back, then the clock releases the retry.
    mock = await make_mock(profile={"webhooks.attempts": 3, "webhooks.backoffSeconds": [30.0]})
    port = closed_port()
    hooks = Receiver(fail_first=1 if down == "503" else 0)
    if down == "503":
        await serve_receiver(aiohttp_server, hooks, port)
    hook = f"http://127.0.0.1:{port}/hook"
    status, ack = await post(mock, "/resize", {**TINY_RESIZE, "resultWebhook": hook})
    assert status == 200
    (first,) = await wait_for_attempts(mock, ack["requestId"], 1)
    assert first["delivered"] is False
    if down == "refused":
        assert first["status"] is None and "Connect" in first["error"]
        await serve_receiver(aiohttp_server, hooks, port)  # back up, on the same port
    else:
        assert first["status"] == 503
    async with mock.post("/_mock/clock/advance", json={"seconds": 30}) as response:
        assert response.status == 200
    (payload,) = await hooks.wait_for(1, timeout=30)
    await asyncio.sleep(0.3)  # no further attempt comes
    attempts = await attempts_for(mock, ack["requestId"])
    assert [(a["attempt"], a["delivered"]) for a in attempts] == [(1, False), (2, True)]
    assert payload["requestId"] == ack["requestId"] and len(hooks.received) == 1


# -- source servers that misbehave -------------------------------------------------------------


class RawSource:
    """A source server speaking raw HTTP/1.1, so it can stall, reset or lie about its length.

    The path picks the behaviour: /stall (never answers), /reset (half the body, then a TCP RST),
    /short (declares the whole body, sends half, then closes), /huge (declares more than the
    mock's download cap, sends a little, then waits).
    """

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.hits: Counter[str] = Counter()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    def url(self, path: str) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}{path}"

    async def close(self) -> None:
        for writer in list(self.writers):
            writer.transport.abort()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def _head(self, length: int) -> bytes:
        return (
            "HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
        ).encode()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            path = request.split(b" ", 2)[1].decode()
            self.hits[path] += 1
            half = self.body[: len(self.body) // 2]
            if path == "/stall":
                await reader.read()  # until the mock gives up and closes
            elif path == "/reset":
                writer.write(self._head(len(self.body)) + half)
                await writer.drain()
                await asyncio.sleep(0.05)
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            elif path == "/short":
                writer.write(self._head(len(self.body)) + half)
                await writer.drain()
                writer.close()
            elif path == "/huge":
                writer.write(self._head(10**9) + half[:4096])
                await writer.drain()
                await reader.read()  # until the mock gives up and closes
            else:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                writer.close()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.writers.discard(writer)
            writer.close()


@pytest.fixture
async def raw_source(song_mp3: bytes) -> AsyncIterator[RawSource]:
    source = RawSource(song_mp3)
    await source.start()
    yield source
    await source.close()


# What each misbehaviour must end in; the settings make the stall and the cap quick to hit.
# Each fault, the settings it needs and what the failure message must say (after the URL,
# which itself may say "reset"): a reset or a truncated body is told apart from other failures.
SOURCE_FAULTS: dict[str, tuple[dict[str, float], re.Pattern[str]]] = {
    "stall": ({"download_timeout_seconds": 0.5}, re.compile("timed out after 0.5 s")),
    "reset": ({}, re.compile("body broke off")),
    "short": ({}, re.compile("body broke off.*not enough data", re.I)),
    "huge": ({"download_max_bytes": 2_000_000}, re.compile("larger than 2000000 bytes")),
}


async def analyze_bad_and_good(
    mock: AppClient, bad_source: str, good_source: str, receiver: Receiver
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Submit an analysis of each at once; (failure webhook, success webhook, bad ack)."""
    hook = receiver.url()
    (bad_status, bad), (good_status, good) = await asyncio.gather(
        post(mock, "/analyze", {"resultWebhook": hook, "sourceFileUrl": bad_source}),
        post(mock, "/analyze", {"resultWebhook": hook, "sourceFileUrl": good_source}),
    )
    assert bad_status == good_status == 200
    payloads = {p["requestId"]: p for p in await receiver.wait_for(2, timeout=30)}
    return payloads[bad["requestId"]], payloads[good["requestId"]], bad


@pytest.mark.parametrize("fault", list(SOURCE_FAULTS))
async def test_a_misbehaving_source_ends_in_a_failure_webhook(
    make_mock: MakeMock,
    raw_source: RawSource,
    files: FileServer,
    receiver: Receiver,
    fault: str,
) -> None:
    settings, problem = SOURCE_FAULTS[fault]
    mock = await make_mock(**settings)
    bad_source = raw_source.url(f"/{fault}")
    async with asyncio.timeout(20):  # never a hang
        failure, success, ack = await analyze_bad_and_good(
            mock, bad_source, files.url("/song.mp3"), receiver
        )
    assert failure["success"] is False and failure["creditCost"] == 0
    assert failure["sourceFileUrl"] == bad_source
    prefix = f"Could not download source file {bad_source}: "
    assert failure["message"].startswith(prefix)
    assert problem.search(failure["message"].removeprefix(prefix)), failure["message"]
    assert success["success"] is True and success["result"]["tempo"] == 120
    assert raw_source.hits[f"/{fault}"] == 1  # one download, not retried into a loop
    assert mock.app[SERVICES].jobs.jobs[ack["requestId"]].state is JobState.FAILED
    assert await journal_statuses(mock) == {("/analyze", 200): 2}  # never a 500
    async with mock.get("/_mock/health") as response:
        assert response.status == 200
    async with mock.session.get(ack["resultUrl"]) as response:
        assert response.status == 404
    await asyncio.sleep(0.2)
    assert len(receiver.received) == 2  # one webhook each, nothing more


# -- a worker process killed mid-job -----------------------------------------------------------

LONG_SONG = SongSpec(tempo_bpm=128, duration_seconds=150, seed=9)


@pytest.fixture(scope="module")
def long_wav() -> bytes:
    return song_bytes(LONG_SONG, "wav")


def cpu_ticks(pid: int) -> int:
    """User plus system CPU time of `pid`, in clock ticks (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def process_state(pid: int) -> str | None:
    """The process's state letter (R, S, Z, ...), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


async def test_a_worker_killed_mid_job_fails_that_job_and_the_pool_recovers(
    make_mock: MakeMock,
    aiohttp_server: ServerFactory,
    files: FileServer,
    receiver: Receiver,
    long_wav: bytes,
) -> None:
    async def long_song(request: web.Request) -> web.Response:
        return web.Response(body=long_wav, content_type="audio/wav")

    app = web.Application()
    app.router.add_get("/long.wav", long_song)
    long_url = str((await aiohttp_server(app)).make_url("/long.wav"))
    hook = receiver.url()
    before = {p.pid for p in multiprocessing.active_children()}
    mock = await make_mock(workers=1)

    # A first analysis spawns the pool's one worker.
    _, warm = await post(
        mock, "/analyze", {"resultWebhook": hook, "sourceFileUrl": files.url("/song.mp3")}
    )
    (warmed,) = await receiver.wait_for(1)
    assert warmed["success"] is True
    (worker,) = [p for p in multiprocessing.active_children() if p.pid not in before]
    assert worker.pid is not None
    idle = cpu_ticks(worker.pid)

    # The long analysis: kill the worker once it has been busy on it for a while.
    _, ack = await post(mock, "/analyze", {"resultWebhook": hook, "sourceFileUrl": long_url})
    job = mock.app[SERVICES].jobs.jobs[ack["requestId"]]
    async with asyncio.timeout(15):
        while cpu_ticks(worker.pid) - idle < 5:  # 0.05 s of CPU: busy, well before done
            await asyncio.sleep(0.01)
    busy = job.state  # a local: mypy would keep job.state narrowed to RUNNING past the kill
    assert busy is JobState.RUNNING and len(receiver.received) == 1
    os.kill(worker.pid, signal.SIGKILL)

    failure = (await receiver.wait_for(2, timeout=30))[1]
    assert failure["requestId"] == ack["requestId"] and failure["success"] is False
    assert "worker processing this request stopped" in failure["message"]
    assert failure["creditCost"] == 0 and failure["sourceFileUrl"] == long_url
    assert job.state is JobState.FAILED
    # Dead: a zombie until whoever holds it reaps it, then gone. (Its exit code is not read:
    # the pool's own thread may reap it first, and the Process object then never learns it.)
    async with asyncio.timeout(30):
        while process_state(worker.pid) not in ("Z", None):
            await asyncio.sleep(0.05)

    # The pool was replaced: the next analysis runs on a new worker and succeeds.
    _, again = await post(
        mock, "/analyze", {"resultWebhook": hook, "sourceFileUrl": files.url("/song.mp3")}
    )
    recovered = (await receiver.wait_for(3, timeout=20))[2]
    assert recovered["requestId"] == again["requestId"] and recovered["success"] is True
    assert recovered["result"] == warmed["result"]
    assert await journal_statuses(mock) == {("/analyze", 200): 3}
    async with mock.get("/_mock/webhooks") as response:
        attempts = await response.json()
    assert Counter(a["requestId"] for a in attempts if a["delivered"]) == {
        warm["requestId"]: 1,
        ack["requestId"]: 1,
        again["requestId"]: 1,
    }
