"""Every rule the checking proxy applies, each with the fidelity ledger row of the promise it
stands for, and the grade a broken rule gets from that row's basis: documented -> a violation,
reading -> a finding, choice -> observed.

The grade is never the rule's own: it is read from the ledger (`fidelity.entry(row).basis`), so
re-auditing a row re-grades the proxy and the contract suite alike. A rule that is each route's
own promise (the webhook's payload) names a row per route through `PAYLOADS`; a new endpoint's
rules are rows here: its payload in `PAYLOADS`, its schemas in `SCHEMA_ROWS`, any rule of its own
in `RULES`. tests/contract/test_rulebook.py checks every row named exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from mock_server.contract.fidelity import Basis, entry
from mock_server.contract.wire import (
    API_ROUTES,
    INVALID_KEY,
    INVALID_METHOD,
    MISSING_KEY,
    MISSING_PARAMETER,
    RATE_LIMITED,
)

ROUTES = tuple(route.name for route in API_ROUTES)


class Grade(StrEnum):
    """What a broken promise is, by its row's basis."""

    VIOLATION = "violation"  # documented: a sentence of the reference is broken
    FINDING = "finding"  # reading: the target departs from what the examples suggest
    OBSERVED = "observed"  # choice: the target chose otherwise than the mock


GRADES = {
    Basis.DOCUMENTED: Grade.VIOLATION,
    Basis.READING: Grade.FINDING,
    Basis.CHOICE: Grade.OBSERVED,
}


def grade(row: str) -> Grade:
    """The grade of a broken promise of ledger row `row`; KeyError for a row not in the ledger."""
    return GRADES[entry(row).basis]


# The row of each route's result payload (the webhook, and resize's synchronous answer).
PAYLOADS: Mapping[str, str] = {
    "analyze": "analyze.payload",
    "resize": "resize.payload",
    "export": "export.payload",
    # Newer routes: nothing around a structure's sections is known (the mock's envelope), and an
    # upload's answer is its two URLs.
    "structure": "structure.envelope",
    "upload": "upload.route",
}
# The routes whose result payload has a schema of its own, ROUTE-webhook.
WEBHOOK_SCHEMAS = ("analyze", "resize", "export")
# The row of each listed error's text: the reference lists it (documented).
LISTED_ROWS: Mapping[str, str] = {
    INVALID_METHOD: "request.method",
    MISSING_KEY: "auth.header",
    INVALID_KEY: "auth.invalid",
    MISSING_PARAMETER: "request.missing_parameter",
    RATE_LIMITED: "rate_limit.number",
}
# The row of each schema's documented layer (fields, JSON types, structure); what the examples
# only suggest in it is graded by the rows of mock_server.contract.layers.
SCHEMA_ROWS: Mapping[str, str] = {
    **{f"{route}-request": "request.parameters" for route in WEBHOOK_SCHEMAS},
    "structure-request": "structure.route",  # the known client's body: a reading
    "upload-request": "upload.route",
    "error-response": "error.envelope",
    "queued-response": "ack.queued",
    "export-queued-response": "ack.queued",
    **{f"{route}-webhook": PAYLOADS[route] for route in WEBHOOK_SCHEMAS},
    "failure-webhook": "job.failure_payload",
    "structure-response": "structure.sections",
    "upload-response": "upload.route",
}
SCHEMA_RULE = "schema"
LISTED_RULE = "listed_error"
# The listed errors the proxy can tell a request is bound to get: no key, a method but POST.
BOUND = (INVALID_METHOD, MISSING_KEY)


@dataclass(frozen=True)
class Rule:
    """What a rule checks, and its ledger row: one for every route, or one per route."""

    what: str
    row: str | Mapping[str, str]

    def row_for(self, route: str) -> str:
        return self.row if isinstance(self.row, str) else self.row[route]


RULES: Mapping[str, Rule] = {
    **{
        f"{SCHEMA_RULE}:{name}": Rule(
            f"the document is JSON and validates against schemas/{name}.json", row
        )
        for name, row in SCHEMA_ROWS.items()
    },
    "ack_status_class": Rule("an answer that reports success comes with a 2xx", "ack.status_class"),
    "ack_status": Rule("an acknowledgement comes with 200 exactly", "ack.status"),
    "result_url_count": Rule(
        "the acknowledgement gives one result URL per result (an export: per group)",
        {
            "analyze": "ack.queued",
            "resize": "ack.queued",
            "export": "export.files",
            "structure": "structure.envelope",
            "upload": "upload.route",
        },
    ),
    "result_url_shape": Rule(
        "each result URL is at /{requestId}/{name} on an origin of its own", "result.url"
    ),
    **{
        f"{LISTED_RULE}:{message}": Rule(
            f"a request bound to get '{message}' gets that text in its answer",
            LISTED_ROWS[message],
        )
        for message in BOUND
    },
    "listed_message": Rule(
        "a listed error's message field starts with the listed text", "error.envelope"
    ),
    "error_status_class": Rule("a listed error comes with a 4xx", "error.status_class"),
    "same_request_id": Rule("the webhook carries the acknowledgement's requestId", PAYLOADS),
    "same_source": Rule("the webhook carries the request's sourceFileUrl", PAYLOADS),
    "same_result_urls": Rule(
        "an export webhook's resultUrls are the acknowledgement's (without their query)",
        "export.webhook_urls",
    ),
    "failures_name_result_urls": Rule(
        "an export's failures are keyed by its own result URLs", "export.failures"
    ),
    "similarity_length": Rule(
        "similarity decodes to N(N+1)/2 values for N boundaries", "analyze.similarity"
    ),
    "similarity_range": Rule(
        "similarity's characters lie within its min and max", "analyze.similarity"
    ),
    "similarity_diagonal": Rule("a beat is similar to itself (near 1)", "analyze.similarity"),
    "boundaries": Rule(
        "boundaries start at 0, increase and end before the duration", "analyze.boundaries"
    ),
    "sections": Rule(
        "a structure's sections run from 0, each starting where the last ended",
        "structure.sections",
    ),
    "feature_vectors": Rule("one feature vector per beat, all of one length", "analyze.features"),
    "feature_values": Rule("feature values lie in [0, 1]", "analyze.feature_values"),
    "tempo": Rule("tempo is a whole number within 30-300 BPM", "analyze.tempo"),
    "segments": Rule(
        "a candidate's segments lie on the boundaries, in beats and seconds", "resize.segments"
    ),
    "duration": Rule(
        "durationSeconds is within a second of the segments' total", "resize.duration"
    ),
    "duration_rounding": Rule(
        "durationSeconds is the segments' total to the nearest second", "resize.duration_rounding"
    ),
    "dissimilarity": Rule(
        "dissimilarity is a sum over cuts: never negative, 0 without a cut", "resize.dissimilarity"
    ),
    "cut_dissimilarity": Rule(
        "each cut's dissimilarity is 1 - similarity across it", "resize.cut_dissimilarity"
    ),
    "credit_cost": Rule("creditCost is what one of the pricing rules gives", "credits.rates"),
    "result_document": Rule("a JSON result URL serves the webhook's payload", "result.document"),
    "result_served": Rule(
        "a result URL answers 200",
        {
            "analyze": "result.url",
            "resize": "result.url",
            "export": "export.files",
            "structure": "structure.envelope",
            "upload": "upload.source",
        },
    ),
    "result_content_type": Rule(
        "a result file's Content-Type names its format", "result.content_type"
    ),
    "result_decodes": Rule("an exported file decodes as the format asked for", "export.files"),
    "result_bitrate": Rule(
        "an MP3 export has the bitrate asked for, in every frame", "export.bitrate"
    ),
    "result_format": Rule("a WAV export is WAV", "export.files"),
    "result_stitched": Rule(
        "an exported file is as long as its segments, within 0.5 s and 0.25 s per join",
        "export.files",
    ),
    "result_length": Rule(
        "an exported file is as long as its segments, within 0.1 s (MP3) or 0.02 s (WAV)",
        "export.length",
    ),
}


def row_of(rule: str, route: str) -> str:
    """The ledger row rule `rule` stands for on `route`."""
    return RULES[rule].row_for(route)
