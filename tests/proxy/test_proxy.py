"""`audjust-mock proxy` over real sockets: a client, the proxy, and a real mock upstream (broken
on purpose where a test needs violations). Answers and webhooks pass byte for byte, retries are
the upstream's, violations are found and reported, the key is never written in full."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from mock_server.jobs.recordings import without_volatile
from mock_server.proxy.exchanges import Exchange, KeptExchanges
from mock_server.web.keys import SERVICES
from tests.breakers import breaking_proxy
from tests.conftest import AppClient, FileServer, MakeMock, Receiver, ServerFactory, serve_receiver
from tests.proxy_client import MakeProxy, Through, origin
from tests.support import KEY, TINY_RESIZE, Hooks, free_port, wait_until

FULL_KEY = KEY["X-API-Key"]
SYNC_RESIZE = {**TINY_RESIZE, "targetLengthSeconds": 2, "boundaries": [0, 1.5]}


async def upstream_attempts(
    mock: AppClient, request_id: str, count: int = 1
) -> list[dict[str, Any]]:
    """The upstream's delivery attempts for a request, once there are `count` of them (an
    attempt is logged after the receiver, here the proxy, has answered)."""
    found: list[dict[str, Any]] = []

    async def logged() -> bool:
        async with mock.get("/_mock/webhooks") as answer:
            attempts: list[dict[str, Any]] = await answer.json()
        found[:] = [attempt for attempt in attempts if attempt["requestId"] == request_id]
        return len(found) >= count

    await wait_until(logged)
    return found


def written(folder: Path) -> str:
    return "".join(
        path.read_text(errors="replace") for path in sorted(folder.rglob("*")) if path.is_file()
    )


async def test_a_client_flow_passes_through_unchanged_with_no_violations(
    make_mock: Callable[..., Awaitable[AppClient]],
    make_proxy: MakeProxy,
    files: FileServer,
    hooks: Hooks,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every log line, to see the key in none of them
    upstream = await make_mock()
    out = {"record": tmp_path / "rec", "report": tmp_path / "r.json", "junit": tmp_path / "j.xml"}
    through = await make_proxy(origin(upstream), check_results=True, **out)
    song = files.url("/song.mp3")
    requests = {
        "/analyze": {"resultWebhook": hooks.url(), "sourceFileUrl": song, "features": []},
        "/resize": {**SYNC_RESIZE, "resultWebhook": hooks.url()},
        "/export": {
            "resultWebhook": hooks.url(),
            "sourceFileUrl": song,
            "exportFormat": "mp3_128",
            "segmentsGroups": [[[0, 4], [8, 10]], [[2, 5]]],
        },
    }
    for path, body in requests.items():
        status, raw, violations = await through.post(path, body)
        assert (status, violations) == (200, 0), raw
        request_id = json.loads(raw)["requestId"]
        forwarded = await hooks.payload(request_id)
        (attempt,) = await upstream_attempts(upstream, request_id)
        assert hooks.bodies[request_id] == json.dumps(attempt["payload"]).encode()
        assert forwarded["success"] is True
    # Answers compared byte for byte with the upstream's own (but for the new request id).
    for path, body, headers in [
        ("/resize", SYNC_RESIZE, KEY),
        ("/analyze", requests["/analyze"], {}),
    ]:
        async with upstream.post(path, json=body, headers=headers) as direct:
            expected = direct.status, await direct.read()
        status, raw, violations = await through.post(path, body, headers)
        ours, theirs = (json.loads(answer).get("requestId", "") for answer in (raw, expected[1]))
        same_id = raw.replace(ours.encode(), theirs.encode())
        assert (status, same_id, violations) == (*expected, 0)
    await through.settled()
    assert through.rules() == set()
    fetched = [len(exchange.results) for exchange in through.proxy.exchanges]
    assert fetched == [1, 1, 2, 0, 0]
    # Done and written down: the proxy holds no body of any of them any more.
    assert [exchange.held_bytes() for exchange in through.proxy.exchanges] == [0] * 5
    report = json.loads(out["report"].read_text())
    assert report["violations"] == [] and len(report["exchanges"]) == 5
    suite = ET.parse(out["junit"]).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("5", "0")
    recorded = sorted(path.name for path in out["record"].iterdir())
    assert recorded == ["0001-analyze", "0002-resize", "0003-export", "0004-resize", "0005-analyze"]
    assert (out["record"] / "0003-export" / "export_2.mp3").stat().st_size > 1000
    exchange = json.loads((out["record"] / "0001-analyze" / "exchange.json").read_text())
    assert exchange["request"]["key"] == "test****"
    assert exchange["request"]["body"] == requests["/analyze"]
    assert exchange["webhooks"][0]["body"]["result"]["tempo"] == 120
    assert "/answer/body/requestId" in exchange["volatile"]
    assert FULL_KEY not in written(tmp_path)
    printed = capsys.readouterr()
    assert FULL_KEY not in printed.out + printed.err + caplog.text


async def resize_to(
    make_mock: MakeMock, make_proxy: MakeProxy, receiver: Receiver
) -> tuple[AppClient, Through, bytes]:
    """A mock upstream, a proxy before it, and a resize through the proxy whose webhook goes to
    `receiver`: (the upstream, the proxy, the raw acknowledgement)."""
    upstream = await make_mock()
    through = await make_proxy(origin(upstream))
    status, raw, _ = await through.post("/resize", {**SYNC_RESIZE, "resultWebhook": receiver.url()})
    assert status == 200, raw
    return upstream, through, raw


async def test_the_client_receivers_answer_goes_back_so_the_upstream_retries(
    make_mock: Callable[..., Awaitable[AppClient]],
    make_proxy: MakeProxy,
    aiohttp_server: ServerFactory,
) -> None:
    receiver = await serve_receiver(aiohttp_server, Receiver(fail_first=1))
    upstream, through, raw = await resize_to(make_mock, make_proxy, receiver)
    request_id = json.loads(raw)["requestId"]
    await receiver.wait_for(1)
    await through.settled()
    attempts = await upstream_attempts(upstream, request_id, count=2)
    assert [attempt["status"] for attempt in attempts] == [503, 200]
    assert receiver.calls == 2  # once per upstream attempt: the proxy adds no retry
    (exchange,) = through.proxy.exchanges
    assert [delivery.client_status for delivery in exchange.deliveries] == [503, 200]


async def test_a_webhook_without_the_exchanges_secret_is_not_passed_on(
    make_mock: Callable[..., Awaitable[AppClient]],
    make_proxy: MakeProxy,
    aiohttp_server: ServerFactory,
) -> None:
    receiver = await serve_receiver(aiohttp_server, Receiver())
    upstream, through, raw = await resize_to(make_mock, make_proxy, receiver)
    await receiver.wait_for(1)
    (exchange,) = through.proxy.exchanges
    forged = {"requestId": json.loads(raw)["requestId"], "success": True, "result": []}
    for path in ("/_proxy/webhooks/1", "/_proxy/webhooks/1/guessed", "/_proxy/webhooks/2/x"):
        async with through.client.post(path, json=forged) as answer:
            assert answer.status == 404, path
    assert receiver.calls == 1 and len(exchange.deliveries) == 1
    hooked = upstream.app[SERVICES].webhooks.attempts()[0].url
    assert hooked.endswith(f"/_proxy/webhooks/1/{exchange.hook_token}")


async def test_a_client_receiver_that_is_down_is_retried_by_the_upstream(
    make_mock: Callable[..., Awaitable[AppClient]], make_proxy: MakeProxy
) -> None:
    upstream = await make_mock()
    through = await make_proxy(origin(upstream))
    down = f"http://127.0.0.1:{free_port()}/hook"
    status, raw, _ = await through.post("/resize", {**SYNC_RESIZE, "resultWebhook": down})
    assert status == 200, raw
    request_id = json.loads(raw)["requestId"]

    every = upstream.app[SERVICES].settings.profile.webhook_attempts  # then it gives up
    attempts = await upstream_attempts(upstream, request_id, count=every)
    assert [attempt["status"] for attempt in attempts] == [502] * every
    (exchange,) = through.proxy.exchanges
    assert [delivery.client_status for delivery in exchange.deliveries] == [None] * every


async def test_each_breaker_of_the_contract_suite_is_reported(
    make_mock: Callable[..., Awaitable[AppClient]],
    make_proxy: MakeProxy,
    aiohttp_server: ServerFactory,
    files: FileServer,
    hooks: Hooks,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    results_upstream: list[str] = []
    results_proxy = await breaking_proxy(aiohttp_server, results_upstream)
    mock = await make_mock(results_url=results_proxy)
    results_upstream.append(f"http://127.0.0.1:{mock.app[SERVICES].results_port}")
    broken = await breaking_proxy(aiohttp_server, [origin(mock)])
    out = {"report": tmp_path / "r.json", "junit": tmp_path / "j.xml"}
    through = await make_proxy(broken, check_results=True, **out)
    song = files.url("/song.mp3")
    analyze = {"resultWebhook": hooks.url(), "sourceFileUrl": song}
    export = {
        "resultWebhook": hooks.url(),
        "sourceFileUrl": song,
        "exportFormat": "wav",
        "segmentsGroups": [[[0, 2]]],
    }
    answers = [
        await through.post("/resize", SYNC_RESIZE),
        await through.post("/analyze", analyze),
        await through.post("/export", export),
        await through.post("/resize", SYNC_RESIZE, headers={}),
        await through.post("/resize", SYNC_RESIZE, headers={"X-API-Key": "not-a-key"}),
    ]
    # The documented promises broken are violations; the acknowledgements' literals, readings of
    # the examples, are findings; the hosted analysis and text after a listed message are choices.
    assert [violations for _, _, violations in answers] == [1, 0, 0, 1, 0]
    await through.settled()
    graded = {
        (d.phase, d.pointer, d.rule, str(d.grade))
        for e in through.proxy.exchanges
        for d in e.departures
    }
    assert graded == {
        ("answer", "/result/0", "segments", "violation"),
        ("answer", "/message", "schema:queued-response", "finding"),
        ("answer", "", "schema:export-queued-response", "finding"),
        ("answer", "", "listed_error:Missing API key header", "violation"),
        ("answer", "/message", "listed_message", "observed"),
        ("result", "/resultUrl", "result_document", "observed"),
    }
    console = capsys.readouterr().out
    assert "[listed_error:Missing API key header] (auth.header, documented) expected" in console
    assert "segmentsSeconds says" in console
    report = json.loads(out["report"].read_text())
    assert (len(report["violations"]), len(report["findings"]), len(report["observed"])) == (
        2,
        2,
        2,
    )
    assert report["totals"]["violations"] == 2 and report["totals"]["findings"] == 2
    cases = list(ET.parse(out["junit"]).getroot().iter("testcase"))
    failed = [case.get("name", "") for case in cases if case.find("failure") is not None]
    assert [name.split()[1] for name in failed] == ["/resize", "/resize"]
    # Each departure, with its location, in every channel: the console, the report under its
    # grade, JUnit (a failure for a violation, a property of a passing case for the others).
    for exchange, case in zip(through.proxy.exchanges, cases, strict=True):
        failure = case.find("failure")
        properties = [p.get("value", "") for p in case.iter("property")]
        for departure in exchange.departures:
            assert departure.line() in console
            kind = "observed" if departure.grade.value == "observed" else f"{departure.grade}s"
            assert departure.as_json() in report[kind]
            if departure.grade.value == "violation":
                assert failure is not None and departure.line() in (failure.text or "")
            else:
                assert f"{departure.row}: {departure.line()}" in properties
    # ... and counted on what the client got: the answers above, and the webhooks, which also
    # count the result files checked before them.
    analyzed, exported = (json.loads(answers[n][1])["requestId"] for n in (1, 2))
    for request_id in (analyzed, exported):
        await hooks.payload(request_id)
    assert (hooks.violations[analyzed], hooks.violations[exported]) == ("0", "0")
    assert hooks.findings == ["1", "1"]  # the acknowledgements' literals


async def test_strict_refuses_a_request_that_breaks_its_schema(
    make_mock: Callable[..., Awaitable[AppClient]], make_proxy: MakeProxy
) -> None:
    upstream = await make_mock()
    through = await make_proxy(origin(upstream), strict=True)
    status, raw, violations = await through.post("/analyze", {"features": []})
    answer = json.loads(raw)
    assert (status, violations, answer["success"]) == (422, 2, False)  # both required fields
    assert answer["violations"][0]["rule"] == "schema:analyze-request"
    async with upstream.get("/_mock/requests") as journal:
        assert await journal.json() == []
    status, raw, _ = await through.post("/resize", SYNC_RESIZE)
    assert status == 200, raw


async def test_an_upstream_that_is_down_drops_the_connection_as_it_would(
    make_proxy: MakeProxy,
) -> None:
    through = await make_proxy(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(aiohttp.ClientConnectionError):
        await through.post("/resize", SYNC_RESIZE)
    (exchange,) = through.proxy.exchanges
    assert exchange.error is not None and "Connect" in exchange.error


async def test_a_slow_upstream_stays_slow_and_the_clients_own_timeout_decides(
    make_proxy: MakeProxy, aiohttp_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The proxy adds no timeout: a client that gives up on a slow upstream gives up the same
    way through the proxy, and the answer that comes later is still checked, without a
    traceback for the connection that is gone."""
    release = asyncio.Event()  # set only once both clients have given up

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"success": False, "message": "Rate limit exceeded"}, status=429)

    app = web.Application()
    app.router.add_post("/resize", slow)
    upstream = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    through = await make_proxy(upstream)
    patience = aiohttp.ClientTimeout(total=1.0)
    failures = []
    for base in (upstream, through.origin):
        async with aiohttp.ClientSession(timeout=patience) as client:
            with pytest.raises(TimeoutError) as gave_up:
                await client.post(f"{base}/resize", json=SYNC_RESIZE, headers=KEY)
        failures.append(type(gave_up.value))
    assert failures[0] is failures[1]
    release.set()
    await through.settled()
    (exchange,) = through.proxy.exchanges
    assert (exchange.status, exchange.error) == (429, None)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def resetting_upstream(after: bytes) -> tuple[str, asyncio.Server]:
    """An upstream that reads a request, writes `after` and resets the connection (RST)."""

    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(after)
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}", server


@pytest.mark.parametrize(
    "after",
    [b"", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 90\r\n\r\n{"],
    ids=["before-the-answer", "in-the-middle-of-the-body"],
)
async def test_an_upstream_that_resets_gives_the_client_a_broken_connection_too(
    after: bytes, make_proxy: MakeProxy, caplog: pytest.LogCaptureFixture
) -> None:
    upstream, server = await resetting_upstream(after)
    async with server:
        through = await make_proxy(upstream)
        async with aiohttp.ClientSession() as client:
            with pytest.raises(aiohttp.ClientError):
                async with client.post(f"{upstream}/resize", json=SYNC_RESIZE) as direct:
                    await direct.read()
        with pytest.raises(aiohttp.ClientConnectionError):
            await through.post("/resize", SYNC_RESIZE)
    (exchange,) = through.proxy.exchanges
    assert exchange.error is not None and exchange.done(check_results=False)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_upstream_answering_html_passes_through_observed(
    make_proxy: MakeProxy, aiohttp_server: ServerFactory
) -> None:
    page = "<!doctype html><html><body>Bad gateway</body></html>"

    async def html(request: web.Request) -> web.Response:
        return web.Response(status=502, text=page, content_type="text/html")

    app = web.Application()
    app.router.add_post("/resize", html)
    server = await aiohttp_server(app)
    through = await make_proxy(str(server.make_url("")))
    status, raw, violations = await through.post("/resize", SYNC_RESIZE)
    # An error's body is the mock's choice (error.envelope): no example shows one.
    assert (status, raw.decode(), violations) == (502, page, 0)
    assert through.rules() == {("answer", "", "schema:error-response")}
    (exchange,) = through.proxy.exchanges
    assert [str(d.grade) for d in exchange.departures] == ["observed"]


async def test_a_recording_replays_offline_with_the_same_results(
    make_mock: Callable[..., Awaitable[AppClient]],
    make_proxy: MakeProxy,
    files: FileServer,
    hooks: Hooks,
    tmp_path: Path,
) -> None:
    """Record through the proxy, stop the source server, replay with a fresh mock: the client
    gets the recorded results under new ids, and the files at the replaying mock's own URLs."""
    upstream = await make_mock()
    through = await make_proxy(origin(upstream), check_results=True, record=tmp_path / "rec")
    song = files.url("/song.mp3")
    requests: list[tuple[str, dict[str, Any]]] = [
        ("/analyze", {"resultWebhook": hooks.url(), "sourceFileUrl": song, "features": []}),
        ("/resize", SYNC_RESIZE),
        (
            "/export",
            {
                "resultWebhook": hooks.url(),
                "sourceFileUrl": song,
                "exportFormat": "wav",
                "segmentsGroups": [[[0, 3]], [[1, 2], [4, 5]]],
            },
        ),
    ]
    recorded = []
    for path, body in requests:
        status, raw, _ = await through.post(path, body)
        assert status == 200, raw
        answer = json.loads(raw)
        recorded.append(answer if "result" in answer else await hooks.payload(answer["requestId"]))
    await through.settled()
    await files.server.close()  # offline now: the engine could not fetch the source

    replay = await make_mock(replay=tmp_path / "rec")
    for (path, body), before in zip(requests, recorded, strict=True):
        async with replay.post(path, json=body, headers=KEY) as answer:
            assert answer.status == 200
            ack = await answer.json()
        after = ack if "result" in ack else await hooks.payload(ack["requestId"])
        assert after["requestId"] != before["requestId"]
        assert without_volatile(after) == without_volatile(before)
    urls = after["resultUrls"]
    assert all(
        url.startswith(f"http://127.0.0.1:{replay.app[SERVICES].results_port}/") for url in urls
    )
    async with aiohttp.ClientSession() as session:
        for number, url in enumerate(urls, start=1):
            async with session.get(url) as served:
                saved = tmp_path / "rec" / "0003-export" / f"export_{number}.wav"
                assert await served.read() == saved.read_bytes()

    async with replay.get("/_mock/requests") as journal:
        marked = [(entry["path"], entry["replayed"]) for entry in await journal.json()]
    recorded_folders = sorted(folder.name for folder in (tmp_path / "rec").iterdir())
    assert [folder for _, folder in marked if folder] == recorded_folders[: len(requests)]
    strict = await make_mock(replay=tmp_path / "rec", replay_strict=True)
    other = {**SYNC_RESIZE, "targetLengthSeconds": 3}
    async with strict.post("/resize", json=other, headers=KEY) as refused:
        assert refused.status == 400
        message = (await refused.json())["message"]
    assert (
        "the closest is 0002-resize, which differs at /targetLengthSeconds: recorded 2, sent 3"
        in message
    )


async def test_a_bad_webhook_gets_the_upstreams_own_refusal(
    make_mock: Callable[..., Awaitable[AppClient]], make_proxy: MakeProxy
) -> None:
    upstream = await make_mock()
    through = await make_proxy(origin(upstream))
    body = {**SYNC_RESIZE, "resultWebhook": "not a url"}
    async with upstream.post("/resize", json=body, headers=KEY) as direct:
        expected = direct.status, await direct.read()
    status, raw, violations = await through.post("/resize", body)
    assert (status, raw, violations) == (*expected, 1) and status == 400
    assert through.rules() == {("request", "/resultWebhook", "schema:resize-request")}


def test_the_command_refuses_an_upstream_that_is_not_a_url() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "proxy", "--upstream", "api.audjust.com"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "'api.audjust.com' is not an http(s) URL" in done.stderr


async def test_a_long_run_keeps_the_latest_summaries_and_counts_them_all(
    mock: AppClient, make_proxy: MakeProxy, tmp_path: Path
) -> None:
    """Twelve exchanges through a proxy that keeps three: the reports detail the latest three
    and count all twelve, one refused request among them with its violation counted."""
    out = {"report": tmp_path / "r.json", "junit": tmp_path / "j.xml"}
    through = await make_proxy(origin(mock), kept_exchanges=3, **out)
    for _ in range(11):
        assert (await through.post("/resize", SYNC_RESIZE))[0] == 200
    await through.post("/resize", {**SYNC_RESIZE, "boundaries": "not a list"})
    await through.settled()
    assert [exchange.number for exchange in through.proxy.exchanges] == [10, 11, 12]
    report = json.loads(out["report"].read_text())
    assert report["totals"]["exchanges"] == 12 and report["totals"]["kept"] == 3
    assert report["totals"]["withViolations"] == 1 and len(report["exchanges"]) == 3
    properties = {
        p.get("name"): p.get("value") for p in ET.parse(out["junit"]).getroot().iter("property")
    }
    assert properties["totals.exchanges"] == "12" and properties["totals.withViolations"] == "1"


def test_kept_exchanges_let_the_oldest_done_ones_go_first() -> None:
    """One still waiting (number 1) stays; the done ones after it go instead."""
    waiting = {1}
    kept = KeptExchanges(2, lambda exchange: exchange.number not in waiting)
    for number in range(1, 6):
        kept.add(Exchange(number, "resize", None, b"", None))
    assert [exchange.number for exchange in kept] == [1, 5]
    assert kept.totals()["exchanges"] == 5 and kept.get(3) is None and kept.get(1) is not None
