"""A mock stopped with jobs in flight and --data-dir set: after a restart on the same folder,
finished results are still served, owed webhooks go out, and unfinished jobs fail by webhook."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from mock_server.jobs.job import RESTARTED
from mock_server.web.app import create_app
from mock_server.web.keys import SERVICES
from tests.conftest import FAST, AppClient, Receiver
from tests.contract_checks import check_payload
from tests.support import KEY, TINY_RESIZE, free_port


async def started(data_dir: Path) -> AppClient:
    settings = dataclasses.replace(FAST, data_dir=data_dir)
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    return client


def on_results_of(client: AppClient, ack: dict[str, Any]) -> str:
    """`ack`'s result URL on `client`'s results listener (a restarted in-process mock binds a
    new port; `serve` keeps its port, and so its result URLs)."""
    port = client.app[SERVICES].results_port
    return f"http://127.0.0.1:{port}{urlsplit(ack['resultUrl']).path}"


async def submit(client: AppClient, receiver: Receiver, scenario: str = "") -> dict[str, Any]:
    headers = {**KEY, "X-Mock-Scenario": scenario} if scenario else KEY
    body = {**TINY_RESIZE, "resultWebhook": receiver.url()}
    async with client.post("/resize", json=body, headers=headers) as response:
        ack: dict[str, Any] = await response.json()
    assert response.status == 200, ack
    return ack


async def test_a_restart_keeps_results_and_owes_every_job_its_webhook(
    receiver: Receiver, tmp_path: Path
) -> None:
    first = await started(tmp_path)
    done = await submit(first, receiver)
    await receiver.wait_for(1)
    in_flight = await submit(first, receiver, "slow;seconds=300")
    undelivered = await submit(first, receiver, "webhook_delayed;seconds=300")
    async with asyncio.timeout(30):  # the third job finishes; its webhook waits
        while (await first.session.get(undelivered["resultUrl"])).status != 200:
            await asyncio.sleep(0.02)
    assert [p["requestId"] for p in receiver.received] == [done["requestId"]]
    await first.close()

    second = await started(tmp_path)
    try:
        payloads = await receiver.wait_for(3)
        by_id = {p["requestId"]: p for p in payloads}
        assert len(payloads) == 3 and len(by_id) == 3  # nothing lost, nothing doubled
        failure = by_id[in_flight["requestId"]]
        assert failure["success"] is False and failure["message"] == RESTARTED
        assert failure["creditCost"] == 0
        assert by_id[undelivered["requestId"]]["success"] is True
        for ack in (done, undelivered):
            async with second.session.get(on_results_of(second, ack)) as response:
                stored = await response.json()
            assert response.status == 200 and stored["requestId"] == ack["requestId"]
            check_payload(stored)
        async with second.session.get(on_results_of(second, in_flight)) as response:
            assert response.status == 404
        await asyncio.sleep(0.3)
        assert len(receiver.received) == 3
        assert list((tmp_path / "jobs").glob("*.json")) == []  # every debt settled
    finally:
        await second.close()


async def test_a_reset_forgets_what_is_owed(receiver: Receiver, tmp_path: Path) -> None:
    first = await started(tmp_path)
    await submit(first, receiver, "slow;seconds=300")
    async with first.post("/_mock/reset"):
        pass
    await first.close()
    second = await started(tmp_path)
    try:
        await asyncio.sleep(0.5)
        assert receiver.received == []
        index = [json.loads(p.read_text()) for p in tmp_path.glob("*/.artifacts.json")]
        assert index == []
    finally:
        await second.close()


async def serve(data_dir: Path, port: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mock_server",
        "serve",
        "--port",
        str(port),
        "--results-port",
        "0",
        "--data-dir",
        str(data_dir),
        "--workers",
        "1",
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert b"listening" in await asyncio.wait_for(process.stdout.readline(), 30)
    return process


async def test_a_killed_serve_process_owes_its_jobs_after_a_restart(
    receiver: Receiver, tmp_path: Path
) -> None:
    port = free_port()
    body = {**TINY_RESIZE, "resultWebhook": receiver.url()}
    headers = {**KEY, "X-Mock-Scenario": "slow;seconds=300"}
    process = await serve(tmp_path, port)
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/resize"
            async with session.post(url, json=body, headers=headers) as response:
                ack = await response.json()
    finally:
        process.kill()  # SIGKILL: no cleanup runs
        await process.wait()
    process = await serve(tmp_path, port)
    try:
        (failure,) = await receiver.wait_for(1)
        assert failure["requestId"] == ack["requestId"] and failure["message"] == RESTARTED
    finally:
        process.terminate()
        await process.wait()
