"""Checking one exchange of real traffic against the contract: each request, answer, webhook and
result file gives a list of departures, never an exception, each graded by the ledger row of the
rule it breaks (`mock_server.contract.rulebook`): a violation, a finding or observed.

It decides which schema and which of `rules` apply to which document, and turns their failures
into `Departure`s with a location; the schemas, their two layers and the rules themselves stay
where they are owned (`schemas.py`, `layers.py`, `rules.py`), so the proxy checks what the suite
checks, graded as the suite grades it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import soundfile

from mock_server.audio.mp3_frames import frames
from mock_server.audio.types import ExportFormat
from mock_server.contract import layers, rules
from mock_server.contract.fidelity import entry
from mock_server.contract.results import ANALYSIS, RESIZE, STRUCTURE, export_names
from mock_server.contract.rulebook import (
    LISTED_RULE,
    RULES,
    SCHEMA_RULE,
    Grade,
    grade,
    row_of,
)
from mock_server.contract.wire import BY_NAME, UPLOAD
from mock_server.contract.wire import RESIZE as RESIZE_ROUTE
from mock_server.contract.wire import STRUCTURE as STRUCTURE_ROUTE

# The mock's own lengths (export.length, a choice): MP3 adds encoder delay and padding (under two
# frames at 44.1 kHz); WAV adds nothing. The same allowance as the contract suite's export test.
DURATION_TOLERANCE = {"mp3": 0.1, "wav": 0.02}
# What the reference promises (export.files): the half second its own example allows
# durationSeconds (34 for 33.65 s), and a crossfade's worth at each join.
STITCHED_TOLERANCE = 0.5
JOIN_ALLOWANCE = 0.25
# A result file's Content-Type by format (result.content_type, the mock's choice).
CONTENT_TYPES = {"mp3": ("audio/mpeg", "audio/mp3"), "wav": ("audio/wav", "audio/x-wav")}


@dataclass(frozen=True)
class Departure:
    """One promise not kept: where (the phase and a JSON pointer into its document), which rule
    and the ledger row it stands for, what the contract expects and what was seen, and for which
    request. Its grade comes from the row's basis."""

    phase: str
    pointer: str
    rule: str
    row: str
    expected: str
    actual: str
    request_id: str | None = None

    @property
    def grade(self) -> Grade:
        return grade(self.row)

    def as_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "pointer": self.pointer,
            "rule": self.rule,
            "row": self.row,
            "grade": self.grade.value,
            "expected": self.expected,
            "actual": self.actual,
            "requestId": self.request_id,
        }

    def line(self) -> str:
        """The console's one line for it."""
        return (
            f"{self.grade} {self.request_id or '-'} {self.phase} {self.pointer or '/'} "
            f"[{self.rule}] ({self.row}, {entry(self.row).basis}) expected {self.expected}; "
            f"got {self.actual}"
        )


def graded(departures: Sequence[Departure], wanted: Grade) -> list[Departure]:
    return [d for d in departures if d.grade is wanted]


@dataclass
class _Found:
    """Collects the departures of one document of one route in one phase."""

    phase: str
    route: str
    request_id: str | None
    items: list[Departure]

    def schema(self, name: str, document: object, rule: str | None = None) -> bool:
        """`document` against schema `name`, as rule `rule` (default `schema:NAME`): its
        documented layer under the rule's row, each reading under its own; whether the
        documented layer held (the rules after it assume it does)."""
        rule = rule or f"{SCHEMA_RULE}:{name}"
        if document is None:
            self.add("", rule, "a JSON document", "a body that is not JSON")
            return False
        errors = layers.layered_errors(name, document)
        for error in errors:
            if error.row is None:
                expected = f"{name}: its documented fields and types"
                self.add(_pointer(error.path), rule, expected, error.message)
        # A reading departed from in many places (every feature value) is one departure.
        for row in dict.fromkeys(e.row for e in errors if e.row is not None):
            same = [e for e in errors if e.row == row]
            more = f" (and {len(same) - 1} more like it)" if len(same) > 1 else ""
            expected = f"{name}: what the reference's examples show"
            first = same[0]
            self.add_row(_pointer(first.path), rule, row, expected, first.message[:200] + more)
        return all(error.row is not None for error in errors)

    def rule(self, pointer: str, name: str, check: Callable[..., object], *args: Any) -> None:
        """Apply one of `rules` (which raise AssertionError) as the rule `name`."""
        try:
            check(*args)
        except AssertionError as broken:
            self.add(pointer, name, RULES[name].what, str(broken))

    def add(self, pointer: str, rule: str, expected: str, actual: str) -> None:
        self.add_row(pointer, rule, row_of(rule, self.route), expected, actual)

    def add_row(self, pointer: str, rule: str, row: str, expected: str, actual: str) -> None:
        departure = Departure(self.phase, pointer, rule, row, expected, actual, self.request_id)
        self.items.append(departure)


def _pointer(path: Sequence[object]) -> str:
    return "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in path)


def parse_json(data: bytes) -> object:
    """The document in `data`, or None when it is not JSON."""
    try:
        return json.loads(data)
    except ValueError:
        return None


def check_request(route: str, body: bytes) -> list[Departure]:
    """A client's request body against `{route}-request` (a route that takes no parameters,
    upload, may send none at all)."""
    found = _Found("request", route, None, [])
    if not body and not BY_NAME[route].fields:
        return found.items
    found.schema(f"{route}-request", parse_json(body))
    return found.items


def check_answer(
    route: str,
    sent: object,
    answer: tuple[int, str, bytes],
    api_base: str,
    listed: str | None = None,
) -> list[Departure]:
    """The upstream's (status, content type, body) for a request: a listed error's text when
    the request must get one, an error envelope for any other refusal, an acknowledgement (its
    status, literals and result URLs) or, for resize without a webhook, the result itself."""
    status, _, body = answer
    document = parse_json(body)
    request_id = document.get("requestId") if isinstance(document, dict) else None
    found = _Found("answer", route, request_id if isinstance(request_id, str) else None, [])
    if listed is not None:
        _check_listed(found, listed, status, body, document)
        return found.items
    succeeded = isinstance(document, dict) and document.get("success") is True
    if not 200 <= status < 300:
        if succeeded:
            found.add("", "ack_status_class", "a 2xx", f"HTTP {status} for an answer of success")
        else:
            found.schema("error-response", document)
        return found.items
    if status != 200:
        found.add("", "ack_status", "HTTP 200", f"HTTP {status}")
    if route == UPLOAD.name:
        found.schema("upload-response", document)
        return found.items
    if route in ANSWERED_AT_ONCE and (not isinstance(sent, dict) or not sent.get("resultWebhook")):
        _check_result_payload(found, document, sent if isinstance(sent, dict) else {})
        return found.items
    schema = "export-queued-response" if route == "export" else "queued-response"
    # Its literals (success, message) are readings the schema's second layer grades.
    if found.schema(schema, document) and isinstance(document, dict):
        names = result_names(route, sent)
        if names:
            found.rule("", "result_url_count", rules.check_result_url_count, document, names)
            shape = rules.check_result_url_shape
            found.rule("", "result_url_shape", shape, document, api_base, names)
    return found.items


# The routes that answer at once without a resultWebhook: their answer is the result itself.
ANSWERED_AT_ONCE = (RESIZE_ROUTE.name, STRUCTURE_ROUTE.name)


def result_schema(route: str) -> str:
    """The schema of `route`'s result payload (its webhook, or its answer at once)."""
    return "structure-response" if route == STRUCTURE_ROUTE.name else f"{route}-webhook"


def _check_result_payload(found: _Found, document: object, sent: dict[str, Any]) -> None:
    """A result answered at once: its schema, then what the result itself promises."""
    if not found.schema(result_schema(found.route), document) or not isinstance(document, dict):
        return
    if found.route == RESIZE_ROUTE.name:
        _check_candidates(found, document, sent)
    else:
        _check_sections(found, document)


def _check_sections(found: _Found, document: dict[str, Any]) -> None:
    """Sections as the known client reads them, where the schema let a list of objects by (a
    structure's schema is all readings, so a document without them passes it as a finding)."""
    sections = document.get("sections")
    if isinstance(sections, list) and all(isinstance(s, dict) for s in sections):
        found.rule("/sections", "sections", rules.check_sections, sections)


def _check_listed(found: _Found, listed: str, status: int, body: bytes, document: object) -> None:
    """A listed error: its text in the answer (documented), a 4xx (a reading) and the mock's
    envelope with the text first in `message` (a choice: no example shows an error's body)."""
    text = body.decode(errors="replace")
    found.rule("", f"{LISTED_RULE}:{listed}", rules.check_listed_text, text, listed)
    found.rule("", "error_status_class", rules.check_error_status_class, status, listed)
    if found.schema("error-response", document) and isinstance(document, dict):
        message = document["message"]
        found.rule("/message", "listed_message", rules.check_listed_message, message, listed)


def result_names(route: str, sent: object) -> list[str]:
    """The result names an acknowledgement of this request must announce."""
    if route == "analyze":
        return [ANALYSIS]
    if route == "resize":
        return [RESIZE]
    if route == STRUCTURE_ROUTE.name:
        return [STRUCTURE]
    if route != "export" or not isinstance(sent, dict):
        return []
    fmt = ExportFormat(sent["exportFormat"])
    return list(export_names(fmt, len(sent["segmentsGroups"])))


def check_webhook(
    route: str, sent: dict[str, Any], ack: dict[str, Any], body: bytes
) -> list[Departure]:
    """The upstream's webhook for an acknowledged request: its schema, the same request id and
    URLs as the acknowledgement, the result's own consistency and a cost some pricing rule
    gives."""
    document = parse_json(body)
    found = _Found("webhook", route, ack.get("requestId"), [])
    failed = isinstance(document, dict) and document.get("success") is False
    if not found.schema("failure-webhook" if failed else result_schema(route), document):
        return found.items
    assert isinstance(document, dict)
    if document["requestId"] != ack.get("requestId"):
        found.add("/requestId", "same_request_id", str(ack.get("requestId")), document["requestId"])
    if failed:
        return found.items
    if "sourceFileUrl" in sent and document.get("sourceFileUrl") != sent["sourceFileUrl"]:
        found.add(
            "/sourceFileUrl", "same_source", sent["sourceFileUrl"], str(document["sourceFileUrl"])
        )
    if route == "analyze":
        _check_analysis(found, document["result"])
    elif route == "resize":
        _check_candidates(found, document, sent)
    elif route == STRUCTURE_ROUTE.name:  # its price is not known: nothing to check it by
        _check_sections(found, document)
        return found.items
    else:
        _check_export(found, document, sent, ack)
    _check_price(found, document, sent)
    return found.items


def _check_analysis(found: _Found, result: dict[str, Any]) -> None:
    """What the suite's analysis tests check, each rule under its own row."""
    beats = len(result["boundaries"])
    similarity = result["similarity"]
    found.rule(
        "/result/similarity", "similarity_length", rules.check_similarity_length, similarity, beats
    )
    found.rule("/result/similarity", "similarity_range", rules.check_similarity_range, similarity)
    if not any(d.rule in ("similarity_length", "similarity_range") for d in found.items):
        diagonal = rules.check_similarity_diagonal
        found.rule("/result/similarity", "similarity_diagonal", diagonal, similarity, beats)
    boundaries = rules.check_boundaries
    found.rule(
        "/result/boundaries", "boundaries", boundaries, result["boundaries"], result["duration"]
    )
    if "features" in result:
        vectors = rules.check_feature_vectors
        found.rule("/result/features", "feature_vectors", vectors, result["features"], beats)
        values = rules.check_feature_values
        found.rule("/result/features", "feature_values", values, result["features"])
    found.rule("/result/tempo", "tempo", rules.check_tempo, result["tempo"])


# Each rule a resize candidate keeps, in the order the suite checks them (its blendedScore's sign
# is the schema's: a positive one breaks resize-webhook before any rule runs).
CANDIDATE_RULES: tuple[tuple[str, Callable[[dict[str, Any], dict[str, Any]], None]], ...] = (
    ("segments", lambda c, sent: rules.check_segments_on_boundaries(c, sent["boundaries"])),
    ("duration", lambda c, sent: rules.check_duration(c, sent["boundaries"])),
    ("duration_rounding", lambda c, sent: rules.check_duration_rounding(c, sent["boundaries"])),
    ("dissimilarity", lambda c, sent: rules.check_dissimilarity_total(c)),
    ("cut_dissimilarity", lambda c, sent: rules.check_dissimilarity(c, sent["similarity"])),
)


def _check_candidates(found: _Found, document: dict[str, Any], sent: dict[str, Any]) -> None:
    for index, candidate in enumerate(document["result"]):
        for name, check in CANDIDATE_RULES:
            if name != "segments" and _broke(found, f"/result/{index}", "segments"):
                break  # the rest read the segments
            found.rule(f"/result/{index}", name, check, candidate, sent)
    if "resultWebhook" not in sent:
        _check_price(found, document, sent)


def _broke(found: _Found, pointer: str, rule: str) -> bool:
    return any(d.pointer == pointer and d.rule == rule for d in found.items)


def _check_export(
    found: _Found, document: dict[str, Any], sent: dict[str, Any], ack: dict[str, Any]
) -> None:
    hooked = [rules.without_query(url) for url in document["resultUrls"]]
    acked = [rules.without_query(url) for url in ack.get("resultUrls", [])]
    if hooked != acked:
        found.add("/resultUrls", "same_result_urls", str(acked), str(hooked))
    known = set(hooked)
    unknown = sorted(url for url in document["failures"] if rules.without_query(url) not in known)
    if unknown:
        found.add("/failures", "failures_name_result_urls", "only URLs of resultUrls", str(unknown))


def _check_price(found: _Found, document: dict[str, Any], sent: dict[str, Any]) -> None:
    """creditCost against the pricing rules, at the rate and minutes the result is priced at."""
    rate, minutes = rules.priced_at(found.route, sent, document)
    cost, per_minute = document["creditCost"], rules.RATES[rate]
    found.rule("/creditCost", "credit_cost", rules.matching_rules, cost, minutes, per_minute)


def check_result(
    route: str,
    sent: dict[str, Any],
    index: int,
    fetched: tuple[int, str, bytes],
    payload: object,
    request_id: str,
) -> list[Departure]:
    """A result file fetched from its URL, (status, content type, body): a JSON result as the
    `payload` the client was given (the webhook, or the synchronous answer), or audio in the
    format and bitrate asked for, as long as its segments."""
    status, content_type, body = fetched
    found = _Found("result", route, request_id, [])
    pointer = f"/resultUrls/{index}" if route == "export" else "/resultUrl"
    if status != 200:
        found.add(pointer, "result_served", "HTTP 200", f"HTTP {status}")
    elif route != "export":
        document = parse_json(body)
        if found.schema(result_schema(route), document, "result_document") and document != payload:
            found.add(pointer, "result_document", "the webhook's payload", "another document")
    else:
        _check_audio(found, pointer, sent["exportFormat"], sent["segmentsGroups"][index], body)
        fmt = ExportFormat(sent["exportFormat"])
        if content_type not in CONTENT_TYPES[fmt.extension]:
            found.add(
                pointer,
                "result_content_type",
                " or ".join(CONTENT_TYPES[fmt.extension]),
                content_type,
            )
    return found.items


def _check_audio(
    found: _Found, pointer: str, export_format: str, group: list[list[float]], body: bytes
) -> None:
    fmt = ExportFormat(export_format)
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
    expected = sum(end - start for start, end in group)
    off = abs(info.duration - expected)
    lasts = f"{info.duration:.3f} s"
    if off > STITCHED_TOLERANCE + JOIN_ALLOWANCE * (len(group) - 1):
        found.add(pointer, "result_stitched", f"{expected:.3f} s", lasts)
    elif off > DURATION_TOLERANCE[fmt.extension]:
        found.add(pointer, "result_length", f"{expected:.3f} s", lasts)
