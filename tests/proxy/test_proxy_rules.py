"""Every rule the checking proxy knows fires on real traffic, graded by its ledger row, and each
departure is reported with its location in every channel: a violation (a documented promise) in
X-Mock-Violations and as a JUnit failure, a finding (a reading) in X-Mock-Findings and as a JUnit
property of a passing case, an observation (a choice) in neither count; each on the console and
in the JSON report under its grade.

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

from mock_server.contract.fidelity import entry
from mock_server.contract.rulebook import RULES, Grade, grade, row_of
from tests.conftest import FileServer, MakeMock, ServerFactory
from tests.proxy_client import MakeProxy
from tests.support import KEY, TINY_RESIZE, Hooks, varied_resize
from tests.tampering import Edit, Tamper, json_edit, tampering_upstream

SYNC_RESIZE = {**TINY_RESIZE, "targetLengthSeconds": 2, "boundaries": [0, 1.5]}
Body = Callable[[str, str], Any]  # (the song's URL, the client's webhook URL) -> request body


def analyze(song: str, hook: str) -> dict[str, Any]:
    return {"resultWebhook": hook, "sourceFileUrl": song}


def raw_features(song: str, hook: str) -> dict[str, Any]:
    return {**analyze(song, hook), "features": ["raw_features"]}


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


def _similarity_char(code: Callable[[dict[str, Any]], int]) -> Callable[[dict[str, Any]], None]:
    """The first similarity character (beat 0 against itself) set to `code(similarity)`."""

    def change(document: dict[str, Any]) -> None:
        similarity = document["result"]["similarity"]
        similarity["data"] = chr(code(similarity)) + similarity["data"][1:]

    return change


def _in_result(
    key: str, value: Callable[[Any, dict[str, Any]], Any]
) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["result"][key] = value(document["result"][key], document["result"])

    return change


def _candidates(key: str, value: Callable[[Any], Any]) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        for candidate in document.get("result", []):
            candidate[key] = value(candidate[key])

    return change


def _status(wanted: int, instead: int) -> Callable[[str, int, bytes], int]:
    return lambda route, status, data: instead if status == wanted else status


def structure_of(song: str, hook: str) -> dict[str, Any]:
    return {"sourceFileUrl": song}


def a_gap_between_sections(document: dict[str, Any]) -> None:
    document["sections"][1]["startMs"] += 1


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
    method: str = "POST"
    row: str | None = None  # the ledger row it is graded by, when not the rule's own (a reading
    # of a schema's second layer)

    @property
    def graded_row(self) -> str:
        return self.row or row_of(self.rule, self.path.strip("/"))


MISSING = "/missing.mp3"  # the file server has no such file: the job fails
CASES = {
    "structure request": Case(
        "schema:structure-request",
        "request",
        "/sourceFileUrl",
        "/structure",
        lambda s, h: {"sourceFileUrl": 42},
    ),
    "upload request": Case("schema:upload-request", "request", "", "/upload", b"[]"),
    "upload answer": Case(
        "schema:upload-response",
        "answer",
        "",
        "/upload",
        b"",
        Tamper(answer=on("upload", drop("storageUrl"))),
        method="GET",
    ),
    "structure answer": Case(
        "schema:structure-response",
        "answer",
        "",
        "/structure",
        structure_of,
        Tamper(answer=on("structure", drop("sections"))),
        row="structure.sections",
    ),
    "sections": Case(
        "sections",
        "answer",
        "/sections",
        "/structure",
        structure_of,
        Tamper(answer=on("structure", a_gap_between_sections)),
    ),
    "request not JSON": Case(
        "schema:analyze-request", "request", "", "/analyze", b'{"resultWebhook": '
    ),
    "request with an unknown field": Case(
        "schema:analyze-request",
        "request",
        "",
        "/analyze",
        lambda s, h: {**analyze(s, h), "priority": "high"},
        row="request.unknown_fields",
    ),
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
        "schema:resize-webhook",
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
        "listed_error:Missing API key header",
        "answer",
        "",
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
        row="ack.literals",
    ),
    "listed method error": Case(
        "listed_error:Invalid request method",
        "answer",
        "",
        "/export",
        b"",
        Tamper(answer=on("export", put("message", "Method not allowed"))),
        method="GET",
    ),
    "listed message": Case(
        "listed_message",
        "answer",
        "/message",
        "/analyze",
        analyze,
        Tamper(answer=on("analyze", put("message", "Error: Missing API key header"))),
        {},
    ),
    "error status class": Case(
        "error_status_class",
        "answer",
        "",
        "/analyze",
        analyze,
        Tamper(status=_status(401, 500)),
        {},
    ),
    "ack status": Case(
        "ack_status", "answer", "", "/analyze", analyze, Tamper(status=_status(200, 202))
    ),
    "ack status class": Case(
        "ack_status_class", "answer", "", "/analyze", analyze, Tamper(status=_status(200, 500))
    ),
    "result URL count": Case(
        "result_url_count",
        "answer",
        "",
        "/export",
        export("wav", [[0, 1]], [[1, 2]]),
        Tamper(answer=on("export", lambda d: d["resultUrls"].pop())),
    ),
    "export queued answer": Case(
        "schema:export-queued-response",
        "answer",
        "",
        "/export",
        export("wav", [[0, 2]]),
        Tamper(answer=on("export", drop("message"))),
        row="ack.literals",
    ),
    "result URL shape": Case(
        "result_url_shape",
        "answer",
        "",
        "/analyze",
        analyze,
        Tamper(answer=on("analyze", result_url_of_another_request)),
    ),
    "sync candidate": Case(
        "segments",
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
        "schema:analyze-webhook",
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
        "similarity_length",
        "webhook",
        "/result/similarity",
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
        "result_document",
        "result",
        "/resultUrl",
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
    "file far too short or long": Case(
        "result_stitched",
        "result",
        "/resultUrls/0",
        "/export",
        export("wav", [[0, 2]]),
        Tamper(request=on("export", put("segmentsGroups", [[[0, 3]]]))),
    ),
    "file a little off": Case(
        "result_length",
        "result",
        "/resultUrls/0",
        "/export",
        export("wav", [[0, 2]]),
        Tamper(request=on("export", put("segmentsGroups", [[[0, 2.2]]]))),
    ),
    "file content type": Case(
        "result_content_type",
        "result",
        "/resultUrls/0",
        "/export",
        export("wav", [[0, 2]]),
        Tamper(result_type=lambda name, kind: "application/octet-stream"),
    ),
    "similarity range": Case(
        "similarity_range",
        "webhook",
        "/result/similarity",
        "/analyze",
        analyze,
        Tamper(webhook=on("analyze", _similarity_char(lambda s: s["min"] - 1))),
    ),
    "similarity diagonal": Case(
        "similarity_diagonal",
        "webhook",
        "/result/similarity",
        "/analyze",
        analyze,
        Tamper(webhook=on("analyze", _similarity_char(lambda s: s["min"]))),
    ),
    "boundaries": Case(
        "boundaries",
        "webhook",
        "/result/boundaries",
        "/analyze",
        analyze,
        Tamper(
            webhook=on(
                "analyze", _in_result("boundaries", lambda b, r: [*b[:-1], r["duration"] + 1])
            )
        ),
    ),
    "feature vectors": Case(
        "feature_vectors",
        "webhook",
        "/result/features",
        "/analyze",
        raw_features,
        Tamper(webhook=on("analyze", _in_result("features", lambda f, r: f[:-1]))),
    ),
    "feature values": Case(
        "feature_values",
        "webhook",
        "/result/features",
        "/analyze",
        raw_features,
        Tamper(
            webhook=on(
                "analyze", _in_result("features", lambda f, r: [[v + 2 for v in x] for x in f])
            )
        ),
    ),
    "tempo": Case(
        "tempo",
        "webhook",
        "/result/tempo",
        "/analyze",
        analyze,
        Tamper(webhook=on("analyze", _in_result("tempo", lambda t, r: t + 0.37))),
    ),
    "candidate duration": Case(
        "duration",
        "answer",
        "/result/0",
        "/resize",
        resize_sync,
        Tamper(answer=on("resize", _candidates("durationSeconds", lambda d: d + 2))),
    ),
    "candidate duration rounding": Case(
        "duration_rounding",
        "answer",
        "/result/0",
        "/resize",
        resize_sync,
        Tamper(answer=on("resize", _candidates("durationSeconds", lambda d: d + 0.8))),
    ),
    "dissimilarity": Case(
        "dissimilarity",
        "answer",
        "/result/0",
        "/resize",
        resize_sync,
        Tamper(answer=on("resize", _candidates("dissimilarity", lambda d: d + 0.5))),
    ),
    "cut dissimilarity": Case(
        "cut_dissimilarity",
        "answer",
        "/result/0",
        "/resize",
        lambda s, h: varied_resize(),
        Tamper(answer=on("resize", _candidates("dissimilarity", lambda d: d * 1.5 + 0.01))),
    ),
}


def test_every_rule_has_a_case_and_every_case_a_rule() -> None:
    assert {case.rule for case in CASES.values()} == set(RULES)


def doc_line(name: str) -> str:
    """The rule's line in docs/proxy.md's table: its row (one per route where it has several)
    with that row's basis, and what it checks."""
    rule = RULES[name]
    rows = {rule.row} if isinstance(rule.row, str) else set(rule.row.values())
    graded = ", ".join(f"`{row}` ({entry(row).basis})" for row in sorted(rows))
    return f"| `{name}` | {graded} | {rule.what} |"


def test_the_docs_list_every_rule_with_its_row_and_basis() -> None:
    page = Path(__file__).resolve().parents[2].joinpath("docs", "proxy.md").read_text()
    listed = [line for line in page.splitlines() if line.startswith("| `")]
    assert listed == [doc_line(name) for name in RULES]


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
    _, raw, counted = await through.post_counted(case.path, body, case.headers, case.method)
    await through.settled()

    (exchange,) = through.proxy.exchanges
    where = (case.phase, case.pointer, case.rule, case.graded_row)
    found = [d for d in exchange.departures if (d.phase, d.pointer, d.rule, d.row) == where]
    assert found, f"{where} not among {through.rules()}"
    assert all(d.rule in RULES for d in exchange.departures)
    wanted = grade(case.graded_row)
    # The counts the client sees: on the answer for what broke before it, else on the webhook.
    if case.phase not in ("request", "answer"):
        assert counted == (0, 0), raw
        assert hooks.deliveries, "the webhook was not passed on"
        counted = (int(hooks.deliveries[0][1] or 0), int(hooks.findings[0] or 0))
    if wanted is Grade.VIOLATION:
        assert counted[0] >= 1, raw
    elif wanted is Grade.FINDING:
        assert counted[1] >= 1 and counted[0] == len(exchange.violations), raw
    else:
        assert counted == (len(exchange.violations), len(exchange.findings)), raw
    line = found[0].line()
    assert f"{wanted} " in line and f"{case.phase} {case.pointer or '/'} [{case.rule}]" in line
    assert line in capsys.readouterr().out
    reported = json.loads(report.read_text())[
        f"{wanted}s" if wanted is not Grade.OBSERVED else "observed"
    ]
    assert {
        "phase": case.phase,
        "pointer": case.pointer,
        "rule": case.rule,
        "row": case.graded_row,
    } in [{k: d[k] for k in ("phase", "pointer", "rule", "row")} for d in reported]
    case_xml = ET.parse(junit).getroot().find("testcase")
    assert case_xml is not None and case_xml.find("skipped") is None
    failures = list(case_xml.iter("failure"))
    if wanted is Grade.VIOLATION:
        assert line in (failures[0].text or "")
    else:
        assert bool(failures) == bool(exchange.violations)
        properties = [(p.get("name"), p.get("value")) for p in case_xml.iter("property")]
        assert (str(wanted), f"{case.graded_row}: {line}") in properties
    assert KEY["X-API-Key"] not in report.read_text() + junit.read_text()
