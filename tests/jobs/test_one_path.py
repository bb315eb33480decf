"""One path for every job: a synchronous resize is registered, performed and finished by the
runner like a queued one, so the dashboard lists it, a namespace's reset forgets it, and a client
that hangs up does not take it with it; the web layer never performs or finishes work itself."""

from __future__ import annotations

import ast
import asyncio
from typing import Any

import aiohttp
import pytest

from tests.conftest import AppClient
from tests.support import KEY, ROOT, TINY_RESIZE, next_event

SUITE = {**KEY, "X-Mock-Namespace": "suite-a"}


async def feed_jobs(mock: AppClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    async with mock.get("/_mock/events", headers=headers) as feed:
        jobs: list[dict[str, Any]] = await next_event(feed, "jobs")
    return jobs


async def document_status(mock: AppClient, request_id: str, headers: dict[str, str]) -> int:
    async with mock.get(f"/_mock/results/{request_id}", headers=headers) as response:
        return response.status


async def test_a_synchronous_resize_is_listed_and_a_namespace_reset_forgets_it(
    mock: AppClient,
) -> None:
    async with mock.post("/resize", json=TINY_RESIZE, headers=SUITE) as response:
        assert response.status == 200
        answer = await response.json()
    request_id = answer["requestId"]
    (job,) = await feed_jobs(mock, SUITE)
    assert (job["requestId"], job["state"], job["webhook"]) == (request_id, "succeeded", None)
    assert await document_status(mock, request_id, SUITE) == 200
    async with mock.post("/_mock/reset", headers=SUITE) as reset:
        assert reset.status == 200
    assert await feed_jobs(mock, SUITE) == []
    assert await document_status(mock, request_id, SUITE) == 404


async def test_a_synchronous_resize_outlives_a_client_that_hangs_up(mock: AppClient) -> None:
    """The job waits 60 s of mock time; its client gives up after 0.5 s of real time. Advancing
    the clock afterwards still ends the job, hosted and listed as succeeded."""
    slow = {**KEY, "X-Mock-Scenario": "slow;seconds=60"}
    with pytest.raises(asyncio.TimeoutError):
        await mock.session.post(
            mock.make_url("/resize"),
            json=TINY_RESIZE,
            headers=slow,
            timeout=aiohttp.ClientTimeout(total=0.5),
        )
    async with asyncio.timeout(30):
        while not (jobs := await feed_jobs(mock, KEY)):
            await asyncio.sleep(0.02)
    (job,) = jobs
    assert job["state"] == "running"
    async with mock.post("/_mock/clock/advance", json={"seconds": 61}) as advanced:
        assert advanced.status == 200
    async with asyncio.timeout(30):
        while (await feed_jobs(mock, KEY))[0]["state"] != "succeeded":
            await asyncio.sleep(0.02)
    assert await document_status(mock, job["requestId"], KEY) == 200


WORK_THE_RUNNER_OWNS = {"perform", "finish", "_host_and_charge", "_settle", "_finish_failed"}
PAYLOAD_WRITERS = {"success_payload", "failure_payload"}


@pytest.mark.parametrize("path", sorted((ROOT / "mock_server" / "web").glob("*.py")), ids=str)
def test_the_web_layer_neither_performs_nor_finishes_work(path: Any) -> None:
    """A handler hands a job to the runner (`submit`, or `answer` for a synchronous request);
    building a job's payload or ending it is the runner's alone."""
    tree = ast.parse(path.read_text())
    called = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert called & WORK_THE_RUNNER_OWNS == set()
    assert (called | imported) & PAYLOAD_WRITERS == set()
