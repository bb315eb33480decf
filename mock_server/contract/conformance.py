"""Checking one exchange of real traffic against the contract: each request, answer, webhook and
result file gives a list of violations, never an exception.

It decides which schema and which of `contract_rules` apply to which document, and turns their
failures into `Violation`s with a location; the schemas and the rules themselves stay where they
are owned (`schemas.py`, `contract_rules.py`), so the proxy checks what the suite checks.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import soundfile
from jsonschema import ValidationError

from mock_server.audio.mp3_frames import frames
from mock_server.audio.types import ExportFormat
from mock_server.contract import rules
from mock_server.contract.results import ANALYSIS, RESIZE, export_names
from mock_server.contract.schemas import validate

ROUTES = ("analyze", "resize", "export")
SCHEMA_RULE = "schema"
NOT_JSON = "json"
# Every rule a violation can name, with the promise it stands for: the proxy's docs list them,
# and the proxy's tests make each one fire.
RULES = {
    NOT_JSON: "a body is JSON (an answer: application/json)",
    **{
        f"{SCHEMA_RULE}:{name}": f"the document validates against schemas/{name}.json"
        for name in (
            *(f"{route}-request" for route in ROUTES),
            "error-response",
            "queued-response",
            "export-queued-response",
            *(f"{route}-webhook" for route in ROUTES),
            "failure-webhook",
        )
    },
    "listed_error": "a request bound to get a listed error gets its message, with a 4xx",
    "ack_literals": "the acknowledgement says 'Request queued.' and gives one result URL per "
    "result, at /{requestId}/{name} on an origin of its own",
    "same_request_id": "the webhook carries the acknowledgement's requestId",
    "same_source": "the webhook carries the request's sourceFileUrl",
    "same_result_urls": "an export webhook's resultUrls are the acknowledgement's",
    "failures_name_result_urls": "an export's failures are keyed by its own result URLs",
    "analysis": "similarity of N(N+1)/2 values within min..max with a diagonal near one, "
    "increasing boundaries, one feature vector per beat, a plausible tempo",
    "candidate": "a resize candidate's segments lie on the boundaries, its duration is their "
    "total and its dissimilarity its cuts'",
    "credit_cost": "creditCost is what one of the pricing rules gives",
    "result_served": "a result URL answers 200",
    "result_decodes": "an exported file decodes as the format asked for",
    "result_bitrate": "an MP3 export has the bitrate asked for, in every frame",
    "result_format": "a WAV export is WAV",
    "result_duration": "an exported file is as long as its segments",
}
# MP3 adds encoder delay and padding (under two frames at 44.1 kHz); WAV adds nothing. The same
# allowance as the contract suite's export test.
DURATION_TOLERANCE = {"mp3": 0.1, "wav": 0.02}


@dataclass(frozen=True)
class Violation:
    """One broken promise: where (the phase and a JSON pointer into its document), which rule,
    what the contract expects and what was seen, and for which request."""

    phase: str
    pointer: str
    rule: str
    expected: str
    actual: str
    request_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {("requestId" if k == "request_id" else k): v for k, v in asdict(self).items()}

    def line(self) -> str:
        """The console's one line for it."""
        return (
            f"violation {self.request_id or '-'} {self.phase} {self.pointer or '/'} "
            f"[{self.rule}] expected {self.expected}; got {self.actual}"
        )


@dataclass
class _Found:
    """Collects the violations of one document in one phase."""

    phase: str
    request_id: str | None
    items: list[Violation]

    def schema(self, name: str, document: object) -> bool:
        """Validate against schema `name`; whether it passed (rules assume the schema holds)."""
        try:
            validate(name, document)
        except ValidationError as error:
            self.items.append(
                Violation(
                    self.phase,
                    _pointer(error.absolute_path),
                    f"{SCHEMA_RULE}:{name}",
                    f"{error.validator} {json.dumps(error.validator_value)[:120]}",
                    json.dumps(error.instance)[:120],
                    self.request_id,
                )
            )
            return False
        return True

    def rule(self, pointer: str, name: str, check: Callable[..., object], *args: Any) -> None:
        """Apply one of `contract_rules` (which raise AssertionError) as the rule `name`."""
        try:
            check(*args)
        except AssertionError as broken:
            self.add(pointer, name, RULES[name], str(broken))

    def add(self, pointer: str, rule: str, expected: str, actual: str) -> None:
        self.items.append(Violation(self.phase, pointer, rule, expected, actual, self.request_id))


def _pointer(path: Sequence[object]) -> str:
    return "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in path)


def parse_json(data: bytes) -> object:
    """The document in `data`, or None when it is not JSON."""
    try:
        return json.loads(data)
    except ValueError:
        return None


def check_request(route: str, body: bytes) -> list[Violation]:
    """A client's request body against `{route}-request`."""
    found = _Found("request", None, [])
    document = parse_json(body)
    if document is None:
        found.add("", NOT_JSON, "a JSON body", repr(body[:80]))
    else:
        found.schema(f"{route}-request", document)
    return found.items


def check_answer(
    route: str,
    sent: object,
    answer: tuple[int, str, bytes],
    api_base: str,
    listed: str | None = None,
) -> list[Violation]:
    """The upstream's (status, content type, body) for a request: an error envelope (with the
    `listed` error's text when the request must get one), an acknowledgement (with the
    reference's message and result URLs) or, for resize without a webhook, the result itself."""
    status, content_type, body = answer
    document = parse_json(body)
    request_id = document.get("requestId") if isinstance(document, dict) else None
    found = _Found("answer", request_id if isinstance(request_id, str) else None, [])
    if not isinstance(document, dict) or content_type != "application/json":
        found.add("", NOT_JSON, "an application/json answer", f"{status} {content_type}")
        return found.items
    if status != 200 or listed is not None:
        if found.schema("error-response", document) and listed is not None:
            found.rule(
                "/message",
                "listed_error",
                rules.check_listed_error,
                document["message"],
                status,
                listed,
            )
        return found.items
    if route == "resize" and isinstance(sent, dict) and "resultWebhook" not in sent:
        if found.schema("resize-webhook", document):
            _check_candidates(found, document, sent)
        return found.items
    schema = "export-queued-response" if route == "export" else "queued-response"
    if found.schema(schema, document):
        names = result_names(route, sent)
        if names:
            found.rule("", "ack_literals", rules.check_ack_literals, document, api_base, names)
    return found.items


def result_names(route: str, sent: object) -> list[str]:
    """The result names an acknowledgement of this request must announce."""
    if route == "analyze":
        return [ANALYSIS]
    if route == "resize":
        return [RESIZE]
    if not isinstance(sent, dict):
        return []
    fmt = ExportFormat(sent["exportFormat"])
    return list(export_names(fmt, len(sent["segmentsGroups"])))


def check_webhook(
    route: str, sent: dict[str, Any], ack: dict[str, Any], body: bytes
) -> list[Violation]:
    """The upstream's webhook for an acknowledged request: its schema, the same request id and
    URLs as the acknowledgement, the result's own consistency and a cost some pricing rule
    gives."""
    document = parse_json(body)
    found = _Found("webhook", ack.get("requestId"), [])
    if not isinstance(document, dict):
        found.add("", NOT_JSON, "a JSON object", repr(body[:80]))
        return found.items
    failed = document.get("success") is False
    if not found.schema("failure-webhook" if failed else f"{route}-webhook", document):
        return found.items
    if document["requestId"] != ack.get("requestId"):
        found.add("/requestId", "same_request_id", str(ack.get("requestId")), document["requestId"])
    if failed:
        return found.items
    if "sourceFileUrl" in sent and document.get("sourceFileUrl") != sent["sourceFileUrl"]:
        found.add(
            "/sourceFileUrl", "same_source", sent["sourceFileUrl"], str(document["sourceFileUrl"])
        )
    if route == "analyze":
        _check_analysis(found, document, sent)
    elif route == "resize":
        _check_candidates(found, document, sent)
    else:
        _check_export(found, document, sent, ack)
    return found.items


def _check_analysis(found: _Found, document: dict[str, Any], sent: dict[str, Any]) -> None:
    result = document["result"]
    found.rule("/result", "analysis", rules.check_analysis, result)
    _check_price(found, "analyze", document, sent)


def _check_candidates(found: _Found, document: dict[str, Any], sent: dict[str, Any]) -> None:
    for index, candidate in enumerate(document["result"]):
        found.rule(f"/result/{index}", "candidate", rules.check_candidate, candidate, sent)
    _check_price(found, "resize", document, sent)


def _check_export(
    found: _Found, document: dict[str, Any], sent: dict[str, Any], ack: dict[str, Any]
) -> None:
    if document["resultUrls"] != ack.get("resultUrls"):
        found.add(
            "/resultUrls",
            "same_result_urls",
            str(ack.get("resultUrls")),
            str(document["resultUrls"]),
        )
    unknown = sorted(set(document["failures"]) - set(document["resultUrls"]))
    if unknown:
        found.add("/failures", "failures_name_result_urls", "only URLs of resultUrls", str(unknown))
    _check_price(found, "export", document, sent)


def _check_price(found: _Found, route: str, document: dict[str, Any], sent: dict[str, Any]) -> None:
    """creditCost against the pricing rules, at the rate and minutes the result is priced at."""
    rate, minutes = rules.priced_at(route, sent, document)
    cost, per_minute = document["creditCost"], rules.RATES[rate]
    found.rule("/creditCost", "credit_cost", rules.matching_rules, cost, minutes, per_minute)


def check_result(
    route: str, sent: dict[str, Any], index: int, status: int, body: bytes, request_id: str
) -> list[Violation]:
    """A result file fetched from its URL: the analysis or resize document as the webhook's
    schema says, or audio in the format and bitrate asked for, as long as its segments."""
    found = _Found("result", request_id, [])
    pointer = f"/resultUrls/{index}" if route == "export" else "/resultUrl"
    if status != 200:
        found.add(pointer, "result_served", "HTTP 200", f"HTTP {status}")
        return found.items
    if route != "export":
        document = parse_json(body)
        if found.schema(f"{route}-webhook", document) and isinstance(document, dict):
            if route == "analyze":
                found.rule("/result", "analysis", rules.check_analysis, document["result"])
            else:
                _check_candidates(found, document, sent)
        return found.items
    _check_audio(found, pointer, sent, index, body)
    return found.items


def _check_audio(
    found: _Found, pointer: str, sent: dict[str, Any], index: int, body: bytes
) -> None:
    fmt = ExportFormat(sent["exportFormat"])
    try:
        info = soundfile.info(io.BytesIO(body))
    except (RuntimeError, soundfile.LibsndfileError) as error:
        found.add(pointer, "result_decodes", f"a {fmt.extension} file", str(error)[:120])
        return
    if fmt.extension == "mp3":
        bitrates = sorted({frame.bitrate_kbps for frame in frames(body)})
        wanted = fmt.bitrate_kbps
        if bitrates != [wanted]:
            found.add(pointer, "result_bitrate", f"{wanted} kbps", f"{bitrates} kbps")
    elif info.format != "WAV":
        found.add(pointer, "result_format", "WAV", info.format)
    expected = sum(end - start for start, end in sent["segmentsGroups"][index])
    if abs(info.duration - expected) > DURATION_TOLERANCE[fmt.extension]:
        found.add(pointer, "result_duration", f"{expected:.3f} s", f"{info.duration:.3f} s")
