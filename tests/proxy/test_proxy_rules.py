"""Every rule the checking proxy knows fires on real traffic, and each violation is reported
with its location in every channel: the count on the answer or on the webhook the client gets,
the console line, the JSON report and the JUnit file.

Each case is one client request through the proxy to a real mock behind a front that breaks one
promise (tests/tampering.py), so what is checked went over sockets like a client's traffic.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import soundfile

from mock_server.contract.conformance import RULES
from tests.conftest import FileServer, MakeMock, ServerFactory
from tests.proxy_client import MakeProxy
from tests.support import KEY, TINY_RESIZE, Hooks
from tests.tampering import Edit, Tamper, json_edit, tampering_upstream

SYNC_RESIZE = {**TINY_RESIZE, "targetLengthSeconds": 2, "boundaries": [0, 1.5]}
Body = Callable[[str, str], Any]  # (the song's URL, the client's webhook URL) -> request body


def analyze(song: str, hook: str) -> dict[str, Any]:
    return {"resultWebhook": hook, "sourceFileUrl": song}


def resize_sync(song: str, hook: str) -> dict[str, Any]:
    return dict(SYNC_RESIZE)


def resize_hooked(song: str, hook: str) -> dict[str, Any]:
    return {**SYNC_RESIZE, "resultWebhook": hook}


def export(fmt: str, *groups: list[list[float]]) -> Body:
    def body(song: str, hook: str) -> dict[str, Any]:
        return {
            "resultWebhook": hook,
            "sourceFileUrl": song,
            "exportFormat": fmt,
            "segmentsGroups": list(groups),
        }

    return body


def on(route: str, change: Callable[[dict[str, Any]], None]) -> Edit:
    """A JSON edit of the bodies of one route (or one result file name) only."""

    def edit(name: str, document: dict[str, Any]) -> None:
        if name == route:
            change(document)

    return json_edit(edit)


def flac_instead(name: str, data: bytes) -> bytes:
    samples, rate = soundfile.read(io.BytesIO(data))
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format="FLAC")
    return out.getvalue()


def drop(*keys: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        for key in keys:
            document.pop(key, None)

    return change


def put(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document[key] = value

    return change


def shorten_similarity(document: dict[str, Any]) -> None:
    document["result"]["similarity"]["data"] = document["result"]["similarity"]["data"][:-1]


def misreport_a_segment(document: dict[str, Any]) -> None:
    if "result" in document:
        document["result"][0]["segmentsSeconds"][0][1] += 0.5


def unknown_failure(document: dict[str, Any]) -> None:
    document["failures"] = {"https://elsewhere.example/export_9.wav": "made up"}


def result_url_of_another_request(document: dict[str, Any]) -> None:
    document["resultUrl"] = document["resultUrl"].replace(document["requestId"], "0" * 32)


@dataclass(frozen=True)
class Case:
    rule: str
    phase: str
    pointer: str
    path: str
    body: Body | bytes
    tamper: Tamper = field(default_factory=Tamper)
    headers: dict[str, str] = field(default_factory=lambda: dict(KEY))


MISSING = "/missing.mp3"  # the file server has no such file: the job fails
CASES = {
    "request not JSON": Case("json", "request", "", "/analyze", b'{"resultWebhook": '),
    "analyze request": Case(
        "schema:analyze-request", "request", "", "/analyze", lambda s, h: {"resultWebhook": h}
    ),
    "resize request": Case(
        "schema:resize-request",
        "request",
        "/targetLengthSeconds",
        "/resize",
        lambda s, h: {**SYNC_RESIZE, "targetLengthSeconds": "two"},
    ),
    "export request": Case(
        "schema:export-request",
        "request",
        "/exportFormat",
        "/export",
        export("flac", [[0, 2]]),
    ),
    "answer not JSON": Case(
        "json",
        "answer",
        "",
        "/resize",
        resize_sync,
        Tamper(answer=lambda name, data: b"<html>Bad gateway</html>"),
    ),
    "error envelope": Case(
        "schema:error-response",
        "answer",
        "",
        "/analyze",
        analyze,
        Tamper(answer=on("analyze", drop("success"))),
        {},
    ),
    "listed error": Case(
        "listed_error",
        "answer",
        "/message",
        "/analyze",
        analyze,
        Tamper(answer=on("analyze", put("message", "API key required"))),
        {},
    ),
    "queued answer": Case(
        "schema:queued-response",
        "answer",
        "/message",
        "/analyze",
        analyze,
        Tamper(answer=on("analyze", put("message", "Request queued"))),
    ),
    "export queued answer": Case(
        "schema:export-queued-response",
        "answer",
        "",
        "/export",
        export("wav", [[0, 2]]),
        Tamper(answer=on("export", drop("message"))),
    ),
    "result URL shape": Case(
        "ack_literals",
        "answer",
        "",
        "/analyze",
        analyze,
        Tamper(answer=on("analyze", result_url_of_another_request)),
    ),
    "sync candidate": Case(
        "candidate",
        "answer",
        "/result/0",
        "/resize",
        resize_sync,
        Tamper(answer=on("resize", misreport_a_segment)),
    ),
    "sync credit cost": Case(
        "credit_cost",
        "answer",
        "/creditCost",
        "/resize",
        resize_sync,
        Tamper(answer=on("resize", put("creditCost", 99))),
    ),
    "webhook not JSON": Case(
        "json",
        "webhook",
        "",
        "/analyze",
        analyze,
        Tamper(webhook=lambda name, data: b"done!"),
    ),
    "analyze webhook": Case(
        "schema:analyze-webhook",
        "webhook",
        "",
        "/analyze",
        analyze,
        Tamper(webhook=on("analyze", drop("sourceFileUrl"))),
    ),
    "resize webhook": Case(
        "schema:resize-webhook",
        "webhook",
        "/result",
        "/resize",
        resize_hooked,
        Tamper(webhook=on("resize", put("result", "none"))),
    ),
    "export webhook": Case(
        "schema:export-webhook",
        "webhook",
        "",
        "/export",
        export("wav", [[0, 2]]),
        Tamper(webhook=on("export", drop("failures"))),
    ),
    "failure webhook": Case(
        "schema:failure-webhook",
        "webhook",
        "",
        "/analyze",
        lambda s, h: analyze(s.replace("/song.mp3", MISSING), h),
        Tamper(webhook=on("analyze", drop("message"))),
    ),
    "request id": Case(
        "same_request_id",
        "webhook",
        "/requestId",
        "/analyze",
        analyze,
        Tamper(webhook=on("analyze", put("requestId", "f" * 32))),
    ),
    "source": Case(
        "same_source",
        "webhook",
        "/sourceFileUrl",
        "/analyze",
        analyze,
        Tamper(webhook=on("analyze", put("sourceFileUrl", "https://elsewhere.example/a.mp3"))),
    ),
    "export result URLs": Case(
        "same_result_urls",
        "webhook",
        "/resultUrls",
        "/export",
        export("wav", [[0, 1]], [[1, 2]]),
        Tamper(webhook=on("export", lambda d: d["resultUrls"].reverse())),
    ),
    "export failures": Case(
        "failures_name_result_urls",
        "webhook",
        "/failures",
        "/export",
        export("wav", [[0, 2]]),
        Tamper(webhook=on("export", unknown_failure)),
    ),
    "analysis": Case(
        "analysis",
        "webhook",
        "/result",
        "/analyze",
        analyze,
        Tamper(webhook=on("analyze", shorten_similarity)),
    ),
    "credit cost": Case(
        "credit_cost",
        "webhook",
        "/creditCost",
        "/analyze",
        analyze,
        Tamper(webhook=on("analyze", put("creditCost", 99))),
    ),
    "hosted analysis": Case(
        "analysis",
        "result",
        "/result",
        "/analyze",
        analyze,
        Tamper(result=on("analysis.json", shorten_similarity)),
    ),
    "result served": Case(
        "result_served",
        "result",
        "/resultUrl",
        "/analyze",
        analyze,
        Tamper(result=lambda name, data: None),
    ),
    "audio decodes": Case(
        "result_decodes",
        "result",
        "/resultUrls/0",
        "/export",
        export("wav", [[0, 2]]),
        Tamper(result=lambda name, data: b"RIFF and nothing else"),
    ),
    "bitrate": Case(
        "result_bitrate",
        "result",
        "/resultUrls/0",
        "/export",
        export("mp3_128", [[0, 2]]),
        Tamper(request=on("export", put("exportFormat", "mp3_320"))),
    ),
    "format": Case(
        "result_format",
        "result",
        "/resultUrls/0",
        "/export",
        export("wav", [[0, 2]]),
        Tamper(result=flac_instead),
    ),
    "duration": Case(
        "result_duration",
        "result",
        "/resultUrls/0",
        "/export",
        export("wav", [[0, 2]]),
        Tamper(request=on("export", put("segmentsGroups", [[[0, 3]]]))),
    ),
}


def test_every_rule_has_a_case_and_every_case_a_rule() -> None:
    assert {case.rule for case in CASES.values()} == set(RULES)


def test_the_docs_list_every_rule() -> None:
    page = Path(__file__).resolve().parents[2].joinpath("docs", "proxy.md").read_text()
    listed = {line.split("`")[1] for line in page.splitlines() if line.startswith("| `")}
    assert listed == set(RULES)


@pytest.mark.parametrize("name", CASES)
async def test_the_rule_fires_and_is_reported_where_it_broke(
    name: str,
    aiohttp_server: ServerFactory,
    make_mock: MakeMock,
    make_proxy: MakeProxy,
    files: FileServer,
    hooks: Hooks,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = CASES[name]
    front = await tampering_upstream(aiohttp_server, make_mock, case.tamper)
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    through = await make_proxy(front.origin, check_results=True, report=report, junit=junit)
    song, hook = files.url("/song.mp3"), hooks.url()
    body = case.body if isinstance(case.body, bytes) else case.body(song, hook)
    _, raw, counted = await through.post(case.path, body, case.headers)
    await through.settled()

    (exchange,) = through.proxy.exchanges
    where = (case.phase, case.pointer, case.rule)
    found = [v for v in exchange.violations if (v.phase, v.pointer, v.rule) == where]
    assert found, f"{where} not among {through.rules()}"
    assert all(v.rule in RULES for v in exchange.violations)
    # The count the client sees: on the answer for what broke before it, else on the webhook.
    if case.phase in ("request", "answer"):
        assert counted >= 1, raw
    else:
        assert counted == 0, raw
        assert hooks.deliveries, "the webhook was not passed on"
        _, first_count = hooks.deliveries[0]
        assert int(first_count or 0) >= 1
    line = found[0].line()
    assert f"{case.phase} {case.pointer or '/'} [{case.rule}]" in line
    assert line in capsys.readouterr().out
    reported = json.loads(report.read_text())["violations"]
    assert {"phase": case.phase, "pointer": case.pointer, "rule": case.rule} in [
        {k: v[k] for k in ("phase", "pointer", "rule")} for v in reported
    ]
    (failure,) = ET.parse(junit).getroot().iter("failure")
    assert line in (failure.text or "")
    assert KEY["X-API-Key"] not in report.read_text() + junit.read_text()
