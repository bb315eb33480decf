"""Namespaces: suites sharing one mock, each with its own journal, sinks, webhook log, armed
scenarios, keys and reset; one clock for all."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mock_server import traffic
from mock_server.namespaces import DEFAULT, Namespaces
from mock_server.web.keys import SERVICES
from tests.conftest import AppClient, MakeMock, Receiver
from tests.support import KEY, TINY_RESIZE, serve_process, wait_until

A, B = {"X-Mock-Namespace": "suite-a"}, {"X-Mock-Namespace": "suite-b"}


async def _get(mock: AppClient, path: str, headers: dict[str, str] | None = None) -> Any:
    async with mock.get(path, headers=headers or {}) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _resize(mock: AppClient, headers: dict[str, str], **body: Any) -> Any:
    async with mock.post("/resize", json={**TINY_RESIZE, **body}, headers=headers) as response:
        return response.status, await response.json()


async def test_each_namespace_keeps_its_own_journal_scenarios_and_reset(
    make_mock: MakeMock,
) -> None:
    mock = await make_mock()
    await mock.post("/_mock/scenarios", json={"name": "usage_exceeded"}, headers=A)
    status_a, _ = await _resize(mock, {**KEY, **A})
    status_b, _ = await _resize(mock, {**KEY, **B})
    status_default, _ = await _resize(mock, KEY)
    assert (status_a, status_b, status_default) == (402, 200, 200)  # armed in A only
    paths = {}
    for name, headers in (("a", A), ("b", B), ("default", {})):
        journal = await _get(mock, "/_mock/requests", headers)
        paths[name] = [(entry["path"], entry["status"]) for entry in journal]
    assert paths == {
        "a": [("/resize", 402)],
        "b": [("/resize", 200)],
        "default": [("/resize", 200)],
    }
    before = (await _get(mock, "/_mock/health"))["time"]
    await mock.post("/_mock/reset", headers=A)
    assert await _get(mock, "/_mock/requests", A) == []
    assert len(await _get(mock, "/_mock/requests", B)) == 1
    assert len(await _get(mock, "/_mock/requests")) == 1
    assert (await _get(mock, "/_mock/health"))["time"] >= before  # the clock is everyone's
    await mock.post("/_mock/reset")  # the default's, now that named namespaces are in use
    assert len(await _get(mock, "/_mock/requests", B)) == 1


async def test_a_key_added_in_a_namespace_puts_its_requests_there(make_mock: MakeMock) -> None:
    mock = await make_mock()
    await mock.post("/_mock/keys", json={"key": "key-of-a", "plan": "free"}, headers=A)
    status, _ = await _resize(mock, {"X-API-Key": "key-of-a"})  # no namespace header
    assert status == 200
    assert [entry["key"] for entry in await _get(mock, "/_mock/requests", A)] == ["key-****"]
    assert await _get(mock, "/_mock/requests") == []
    await mock.post("/_mock/reset", headers=B)
    assert (await _resize(mock, {"X-API-Key": "key-of-a"}))[0] == 200  # B's reset: not A's key
    await mock.post("/_mock/reset", headers=A)
    assert (await _resize(mock, {"X-API-Key": "key-of-a"}))[0] == 403  # A's reset dropped it


def test_a_named_namespace_expires_after_its_idle_wall_time_and_the_default_never() -> None:
    now = [0.0]
    spaces = Namespaces(idle_seconds=10, now=lambda: now[0])
    spaces.get("ci-1"), spaces.get(DEFAULT)
    now[0] = 5.0
    assert spaces.idle() == []
    now[0] = 11.0
    assert spaces.idle() == ["ci-1"]  # the default, idle as long, is never listed
    spaces.forget("ci-1")
    assert "ci-1" not in spaces and DEFAULT in spaces
    spaces.get("ci-1")
    assert spaces.expired_before("ci-1") and not spaces.expired_before("ci-1")  # said once
    assert Namespaces(idle_seconds=None).idle() == []


async def test_an_idle_namespace_expires_with_its_keys_and_results(
    make_mock: MakeMock, caplog: pytest.LogCaptureFixture
) -> None:
    """Wall time, not mock time: the other namespace's requests sweep, and "ci-1" goes with
    the key it added and the job it ran; named again, it starts afresh and the traffic log says
    so."""
    caplog.set_level(logging.INFO, logger=traffic.LOG.name)
    mock = await make_mock(namespace_idle_seconds=0.2)
    ci = {"X-Mock-Namespace": "ci-1"}
    await mock.post("/_mock/keys", json={"key": "key-of-ci", "plan": "free"}, headers=ci)
    status, answer = await _resize(mock, {"X-API-Key": "key-of-ci"})
    assert status == 200
    services = mock.app[SERVICES]

    async def expired() -> bool:
        await _get(mock, "/_mock/requests", B)  # any request may sweep
        return "ci-1" not in services.spaces

    await wait_until(expired)
    assert (await _resize(mock, {"X-API-Key": "key-of-ci"}))[0] == 403  # its key went with it
    assert answer["requestId"] not in services.jobs.jobs
    assert await _get(mock, "/_mock/requests", ci) == []
    said = [getattr(record, traffic.FIELDS, {}).get("message") for record in caplog.records]
    assert "namespace ci-1 expired" in said
    assert "namespace ci-1 had expired; it starts afresh" in said


async def test_each_namespace_lists_the_started_keys_and_its_own(make_mock: MakeMock) -> None:
    mock = await make_mock()
    await mock.post("/_mock/keys", json={"key": "key-of-a", "plan": "free"}, headers=A)
    await _resize(mock, {"X-API-Key": "key-of-a"})
    listed = await _get(mock, "/_mock/keys", A)
    assert {(k["key"], k["plan"], k["limit"]) for k in listed} == {
        ("test****", "enterprise", None),
        ("key-****", "free", 100),
    }
    assert next(k["used"] for k in listed if k["plan"] == "free") > 0
    assert [k["key"] for k in await _get(mock, "/_mock/keys", B)] == ["test****"]


async def test_sinks_and_webhook_logs_are_kept_apart(
    make_mock: MakeMock, receiver: Receiver
) -> None:
    mock = await make_mock()
    sink_a = str(mock.make_url("/_mock/sink/hooks?namespace=suite-a"))
    _, ack_a = await _resize(mock, {**KEY, **A}, resultWebhook=sink_a)
    _, ack_b = await _resize(mock, {**KEY, **B}, resultWebhook=receiver.url())
    await receiver.wait_for(1)

    async def arrived() -> bool:
        return bool(await _get(mock, "/_mock/sink/hooks", A))

    await wait_until(arrived)
    assert [p["requestId"] for p in await _get(mock, "/_mock/sink/hooks", A)] == [
        ack_a["requestId"]
    ]
    assert await _get(mock, "/_mock/sink/hooks", B) == []
    assert list(await _get(mock, "/_mock/sinks", A)) == ["hooks"]
    assert [a["requestId"] for a in await _get(mock, "/_mock/webhooks", A)] == [ack_a["requestId"]]
    assert [a["requestId"] for a in await _get(mock, "/_mock/webhooks", B)] == [ack_b["requestId"]]
    resend = f"/_mock/webhooks/{ack_b['requestId']}/resend"
    async with mock.post(resend, headers=A) as response:
        assert response.status == 404  # B's webhook is not A's to send again
    async with mock.post(resend, headers=B) as response:
        assert response.status == 200


async def test_a_namespace_that_is_no_name_is_refused_on_the_api(make_mock: MakeMock) -> None:
    mock = await make_mock()
    status, answer = await _resize(mock, {**KEY, "X-Mock-Namespace": "a/b"})
    assert status == 400 and "X-Mock-Namespace" in answer["message"]


# --- two suites at once against one `serve` ---------------------------------------------------

SUITE = """
import requests


def analyze(audjust_mock, song="pop_120"):
    body = {
        "resultWebhook": audjust_mock.webhook_url(),
        "sourceFileUrl": audjust_mock.fixture_url(song),
    }
    headers = {"X-API-Key": audjust_mock.api_key}
    answer = requests.post(f"{audjust_mock.base_url}/analyze", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["requestId"]


def test_a_journal_of_its_own(audjust_mock):
    for round in range(ROUNDS):
        audjust_mock.reset()
        request_id = analyze(audjust_mock)
        payload = audjust_mock.wait_for_webhook(request_id, timeout=60)
        assert payload["success"] is True
        assert [e.request_id for e in audjust_mock.requests.to("/analyze")] == [request_id]
        assert [p["requestId"] for p in audjust_mock.webhooks()] == [request_id]


def test_scenarios_of_its_own(audjust_mock):
    for round in range(ROUNDS):
        audjust_mock.reset()
        audjust_mock.scenario("rate_limited", count=1)
        headers = {"X-API-Key": audjust_mock.api_key}
        first = requests.post(f"{audjust_mock.base_url}/resize", json={}, headers=headers)
        second = requests.post(f"{audjust_mock.base_url}/resize", json={}, headers=headers)
        assert (first.status_code, second.status_code) == (429, 400)
        assert [e.status for e in audjust_mock.requests] == [429, 400]
"""


def _suite(folder: Path, namespace: str, origin: str) -> subprocess.Popen[str]:
    folder.mkdir()
    (folder / "test_shared.py").write_text(SUITE.replace("ROUNDS", "4"))
    (folder / "pytest.ini").write_text(
        textwrap.dedent(
            f"""\
            [pytest]
            audjust_mock_url = {origin}
            audjust_mock_namespace = {namespace}
            """
        )
    )
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_two_suites_share_one_serve_each_resetting_freely(tmp_path: Path) -> None:
    with serve_process("--quiet") as origin:
        suites = [_suite(tmp_path / name, name, origin) for name in ("suite-a", "suite-b")]
        outputs = [suite.communicate(timeout=300)[0] for suite in suites]
    for suite, output in zip(suites, outputs, strict=True):
        assert suite.returncode == 0, output
        assert "2 passed" in output, output
