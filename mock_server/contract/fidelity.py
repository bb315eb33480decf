"""The fidelity ledger: every behaviour a client can observe, what the mock does, and on what
basis — `documented` (the reference says so), `inferred` (from its examples or its list of
messages) or `assumed` (the reference is silent) — with the profile key that changes it and the
contract test that observes it on a live target.

It is served at `GET /_mock/fidelity`, rendered as docs/fidelity.md (`python -m
mock_server.contract.fidelity > docs/fidelity.md`), and read by the contract suite's report,
which marks each entry confirmed, refuted or not observed. Tests keep it true: every documented
entry names a contract test (or why none can observe it), every test named exists, every profile
key exists, and flipping each key changes what a test observes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mock_server.contract.profile import Profile


class Basis(StrEnum):
    DOCUMENTED = "documented"
    INFERRED = "inferred"
    ASSUMED = "assumed"


@dataclass(frozen=True)
class Behaviour:
    id: str
    what: str  # the behaviour, as a client sees it
    does: str  # what the mock does by default
    basis: Basis
    source: str  # the reference's section (or example) it rests on, or why it is a guess
    profile_key: str | None = None  # the dotted profile key that changes it
    contract_test: str | None = None  # FILE::FUNCTION in contract_tests/ that observes it
    unobserved: str | None = None  # why no contract run observes it (with no contract_test)

    def to_json(self, profile: Profile) -> dict[str, Any]:
        value = profile.value_at(self.profile_key) if self.profile_key else None
        return {
            "id": self.id,
            "what": self.what,
            "does": self.does,
            "basis": self.basis.value,
            "source": self.source,
            "profileKey": self.profile_key,
            "value": value,
            "contractTest": self.contract_test,
            "unobserved": self.unobserved,
        }


D, INF, A = Basis.DOCUMENTED, Basis.INFERRED, Basis.ASSUMED
ERRORS = "Errors"


def _status(
    error: str,
    what: str,
    default: int,
    listed: bool,
    test: str | None = None,
    unobserved: str | None = None,
) -> Behaviour:
    """The status of one error: each is the mock's choice, the reference giving none."""
    source = "Errors lists the message, not a status" if listed else "the reference is silent"
    return Behaviour(
        f"status.{error}",
        f"HTTP status of {what}",
        str(default),
        A,
        source,
        f"errors.{error}.status",
        test,
        unobserved,
    )


LEDGER: tuple[Behaviour, ...] = (
    # --- requests and authentication -------------------------------------------------------------
    Behaviour(
        "auth.header",
        "the key travels in the X-API-Key header",
        "a request without it is refused with 'Missing API key header'",
        D,
        "Authentication; Errors",
        contract_test="test_errors.py::test_missing_key_is_refused",
    ),
    Behaviour(
        "auth.invalid",
        "an unknown key is refused",
        "'Invalid API Key'",
        D,
        ERRORS,
        contract_test="test_errors.py::test_invalid_key_is_refused",
    ),
    Behaviour(
        "request.method",
        "only POST is served on /analyze, /resize and /export",
        "any other method is refused with 'Invalid request method'",
        D,
        "Endpoints ('All API requests need to POST'); Errors",
        contract_test="test_errors.py::test_wrong_method_is_refused",
    ),
    Behaviour(
        "request.missing_parameter",
        "a request without a required parameter is refused",
        "'Missing parameter'",
        D,
        ERRORS,
        contract_test="test_errors.py::test_missing_parameter_is_refused",
    ),
    Behaviour(
        "error.envelope",
        "an error answer's body",
        '{"success": false, "message": ...}',
        INF,
        "the acknowledgement's success and message fields, and the list of error messages",
        contract_test="test_errors.py::test_missing_key_is_refused",
    ),
    Behaviour(
        "error.detail",
        "text after a listed error's message",
        "none: the exact listed text; the detail goes in the X-Mock-Detail header",
        A,
        "the reference lists messages, not whole bodies",
        "messages.detail",
        "test_errors.py::test_missing_parameter_is_refused",
    ),
    _status(
        "invalid_method",
        "'Invalid request method'",
        405,
        True,
        "test_errors.py::test_wrong_method_is_refused",
    ),
    _status(
        "missing_key",
        "'Missing API key header'",
        401,
        True,
        "test_errors.py::test_missing_key_is_refused",
    ),
    _status(
        "invalid_key", "'Invalid API Key'", 403, True, "test_errors.py::test_invalid_key_is_refused"
    ),
    _status(
        "missing_parameter",
        "'Missing parameter'",
        400,
        True,
        "test_errors.py::test_missing_parameter_is_refused",
    ),
    _status(
        "invalid_parameter",
        "a parameter with a value the API cannot use",
        400,
        False,
        "test_observed.py::test_an_unusable_parameter_value_is_refused",
    ),
    _status(
        "malformed_json",
        "a body that is not JSON",
        400,
        False,
        "test_observed.py::test_a_body_that_is_not_json_is_refused",
    ),
    _status(
        "rate_limited",
        "'Rate limit exceeded'",
        429,
        True,
        "test_rate_limit.py::test_the_rate_limit_refuses_past_the_limit",
    ),
    _status(
        "usage_exceeded",
        "'Usage limit exceeded'",
        402,
        True,
        None,
        "needs a key whose plan's credits are used up",
    ),
    _status(
        "result_missing",
        "a result URL with nothing behind it",
        404,
        False,
        "test_observed.py::test_an_unknown_result_url_is_refused",
    ),
    _status(
        "resize_failed",
        "a synchronous resize whose job fails",
        500,
        False,
        None,
        "needs the live API to fail a resize",
    ),
    _status(
        "resize_timed_out",
        "a synchronous resize past the 7-minute limit",
        504,
        False,
        None,
        "needs a resize that runs past 7 minutes",
    ),
    Behaviour(
        "header.allow",
        "the Allow header on 'Invalid request method'",
        "Allow: POST",
        A,
        "RFC 9110 asks it of a 405; the reference is silent",
        "errors.invalid_method.headers",
        "test_errors.py::test_wrong_method_is_refused",
    ),
    Behaviour(
        "header.retry_after",
        "the Retry-After header on 'Rate limit exceeded'",
        "seconds until the rolling minute admits the key again",
        A,
        "the reference is silent",
        "errors.rate_limited.headers",
        "test_rate_limit.py::test_the_rate_limit_refuses_past_the_limit",
    ),
    Behaviour(
        "rate_limit.number",
        "requests a key may make",
        "100 a minute; the minute rolls",
        D,
        "Errors ('currently 100 requests per minute'); that the minute rolls is assumed",
        contract_test="test_rate_limit.py::test_the_rate_limit_refuses_past_the_limit",
    ),
    # --- acknowledgements and results ------------------------------------------------------------
    Behaviour(
        "ack.queued",
        "the immediate answer to a queued request",
        "success, message 'Request queued.', requestId, resultUrl (resultUrls for export)",
        D,
        "Analyze, Resize and Export: the acknowledgement examples",
        contract_test="test_analyze.py::test_analyze_ack_matches_schema",
    ),
    Behaviour(
        "result.url",
        "where results are hosted",
        "{results origin}/{requestId}/{name} on an origin apart from the API's",
        D,
        "the result URLs in the acknowledgement examples",
        contract_test="test_export.py::test_export_ack_lists_one_result_url_per_group",
    ),
    Behaviour(
        "result.document",
        "what a JSON result URL serves",
        "the webhook's payload, byte for byte the same JSON",
        INF,
        "the resultUrl of analyze and resize (the reference shows no document)",
        contract_test="test_analyze.py::test_analysis_result_url_serves_the_webhook_payload",
    ),
    Behaviour(
        "result.expiry",
        "how long results stay",
        "30 days of mock time",
        D,
        "Artifact Expiration",
        unobserved="needs 30 days",
    ),
    # --- analyze ---------------------------------------------------------------------------------
    Behaviour(
        "analyze.payload",
        "the analyze webhook",
        "requestId, sourceFileUrl, result {duration, tempo, similarity, boundaries[, features]}, "
        "success, creditCost",
        D,
        "Analyze: the webhook example and its field table",
        contract_test="test_analyze.py::test_analyze_webhook_matches_schema",
    ),
    Behaviour(
        "analyze.similarity",
        "the similarity matrix",
        "N(N+1)/2 characters between min and max, decoded as the reference's functions do",
        D,
        "Self-Similarity Matrix",
        contract_test="test_analyze.py::test_similarity_has_one_value_per_pair_of_beats",
    ),
    Behaviour(
        "analyze.features",
        "raw features",
        "one vector of 13 values in [0, 1] per beat, only with features: ['raw_features']",
        D,
        "Analyze: features ('generally 13 items, but this is not guaranteed')",
        contract_test="test_analyze.py::test_features_give_one_vector_per_beat_within_zero_and_one",
    ),
    Behaviour(
        "analyze.tempo",
        "tempo",
        "a whole number of beats per minute",
        INF,
        "the webhook example's tempo: 99",
        contract_test="test_analyze.py::test_tempo_is_a_plausible_integer",
    ),
    Behaviour(
        "analyze.deterministic",
        "the same file analysed twice",
        "the same result",
        A,
        "the reference is silent",
        contract_test="test_analyze.py::test_a_second_analysis_of_the_same_file_gives_the_same_result",
    ),
    Behaviour(
        "payload.edges",
        "payloads at the edges the reference allows",
        "off: 13 features, 20 candidates best first, similarity in 32..126, boundaries on the beat",
        D,
        "Analyze ('generally 13', boundaries 'off by a multiple of 2^n'), Resize ('generally 20')",
        "contractEdges",
        unobserved="the live API decides when its payloads are unusual",
    ),
    # --- resize ----------------------------------------------------------------------------------
    Behaviour(
        "resize.sync",
        "resize without resultWebhook",
        "answers with the result payload at once",
        D,
        "Resize ('If you do not provide the resultWebhook parameter')",
        contract_test="test_resize.py::test_resize_answer_matches_schema",
    ),
    Behaviour(
        "resize.segments",
        "segmentsBeats and segmentsSeconds",
        "index pairs into boundaries, and those boundaries' times",
        D,
        "Resize: the field table",
        contract_test="test_resize.py::test_segments_lie_on_the_boundaries",
    ),
    Behaviour(
        "resize.dissimilarity",
        "dissimilarity",
        "the sum over cuts of 1 - similarity(end of one segment, start of the next)",
        D,
        "Resize: dissimilarity ('the sum of the dissimilarity of all cuts')",
        contract_test="test_resize.py::test_dissimilarity_is_the_sum_over_cuts",
    ),
    Behaviour(
        "resize.blended_score",
        "blendedScore",
        "-(0.05 dissimilarity + 0.5 |duration - target| / target + 0.01 cuts): never positive",
        A,
        "Resize: 'negative, higher is better'; the formula is the mock's",
        contract_test="test_resize.py::test_blended_score_is_never_positive",
    ),
    Behaviour(
        "resize.order",
        "the order of the candidates",
        "highest blendedScore first",
        A,
        "Resize: 'you can use blendedScore to sort the results' (which order they come in is "
        "not said)",
        "resize.order",
        "test_observed.py::test_the_order_of_the_candidates_is_observed",
    ),
    # --- export ----------------------------------------------------------------------------------
    Behaviour(
        "export.files",
        "the exported files",
        "one per group, in order, of the format asked for and the groups' length",
        D,
        "Export: resultUrls ('the order of the URLs matches the order of the segments')",
        contract_test="test_export.py::test_each_file_decodes_to_the_length_of_its_group",
    ),
    Behaviour(
        "export.failures",
        "failures",
        "maps each result URL that failed to why; empty when all were made",
        D,
        "Export: failures",
        contract_test="test_export.py::test_failures_name_only_files_that_failed",
    ),
    # --- credits ---------------------------------------------------------------------------------
    Behaviour(
        "credits.rates",
        "credit rates",
        "analyze 10/min (15 with raw features), resize 4/min of target, export 1/min of output",
        D,
        "Pricing: the table",
        contract_test="test_resize.py::test_resize_credit_cost_follows_a_pricing_rule",
    ),
    Behaviour(
        "credits.rounding",
        "how a duration becomes credits",
        "max(1, round(minutes x rate)), as the examples' creditCost fit",
        INF,
        "the examples (44, 2, 1) contradict the prose ('rounded up'); --pricing documented "
        "applies the prose",
        "pricing",
        "test_analyze.py::test_analyze_credit_cost_follows_a_pricing_rule",
    ),
    Behaviour(
        "usage.limit",
        "when usage refuses a request",
        "once usage in the last 30 days has reached the plan's limit",
        A,
        "Pricing says queued requests count against the limit, not when it refuses",
        "usage.refuse",
        unobserved="needs a key whose plan's credits are nearly used up",
    ),
    Behaviour(
        "usage.partial_export",
        "the price of an export with failed groups",
        "the minutes of the files that were made",
        A,
        "the reference is silent",
        "usage.partialExport",
        unobserved="needs the live API to fail one group of an export",
    ),
    # --- jobs and webhooks -----------------------------------------------------------------------
    Behaviour(
        "webhook.attempts",
        "how many times a refused webhook is tried",
        "3",
        A,
        "Failed Requests ('best-effort basis')",
        "webhooks.attempts",
        "test_observed.py::test_a_refused_webhook_is_retried",
    ),
    Behaviour(
        "webhook.backoff",
        "the wait before each retry",
        "1 s, then 2 s",
        A,
        "the reference is silent",
        "webhooks.backoffSeconds",
        "test_observed.py::test_a_refused_webhook_is_retried",
    ),
    Behaviour(
        "webhook.timeout",
        "how long a webhook receiver may take to answer",
        "10 s, then the attempt counts as failed",
        A,
        "the reference is silent",
        "webhooks.timeoutSeconds",
        unobserved="needs a receiver that stalls each attempt",
    ),
    Behaviour(
        "job.time_limit",
        "how long a job may take",
        "7 minutes of mock time, then it fails as timed out",
        D,
        "Failed Requests ('will not take longer than 7 minutes')",
        unobserved="needs a job that runs past 7 minutes",
    ),
    Behaviour(
        "job.timeout_webhook",
        "whether a timed-out job gets a failure webhook",
        "yes",
        A,
        "Failed Requests: failures are notified 'on a best-effort basis'; a timeout is not named",
        "webhooks.onTimeout",
        unobserved="needs a job that runs past 7 minutes",
    ),
    Behaviour(
        "origin.index",
        "what GET / on the API origin answers",
        "links to the mock's dashboard and /openapi.json (HTML for a browser, JSON otherwise)",
        A,
        "the reference is silent; the mock's own landing page (docs/dashboard.md)",
        unobserved="no client of the API reads its root",
    ),
    Behaviour(
        "results.cors",
        "whether a page on another origin may fetch results",
        "no CORS headers: the dashboard reads JSON results through /_mock/results and plays "
        "exports in <audio>, which needs none",
        A,
        "the reference is silent",
        unobserved="a contract run has no browser",
    ),
    Behaviour(
        "input.body_limit",
        "the largest request body",
        "64 MiB; a larger one is refused with 413",
        A,
        "the reference is silent",
        unobserved="needs a 64 MiB request (a resize of a very long song comes nearest)",
    ),
    Behaviour(
        "input.source_limits",
        "the largest source file",
        "200 MB downloaded and 30 minutes decoded; beyond either the job fails with a webhook",
        A,
        "the reference is silent",
        unobserved="needs a source beyond the live API's own limit, which is unknown",
    ),
    Behaviour(
        "job.failure_payload",
        "the failure webhook",
        '{"requestId", "success": false, "message", "sourceFileUrl", "creditCost": 0}',
        INF,
        "Failed Requests: a failure is notified; no payload is shown",
        unobserved="needs the live API to fail a request",
    ),
)


def entry(behaviour_id: str) -> Behaviour:
    return next(b for b in LEDGER if b.id == behaviour_id)


def to_json(profile: Profile) -> dict[str, Any]:
    """`GET /_mock/fidelity`: the ledger, with each profile key's value in `profile`."""
    return {
        "profile": profile.to_json(),
        "behaviours": [behaviour.to_json(profile) for behaviour in LEDGER],
    }


def markdown() -> str:
    """docs/fidelity.md."""
    lines = [
        "# Fidelity: every behaviour, and what it rests on",
        "",
        "<!-- Generated by `python -m mock_server.contract.fidelity > docs/fidelity.md`; "
        "tests/contract/test_fidelity.py checks it. -->",
        "",
        "What a client of the Audjust API can observe, what audjust-mock does, and why: "
        "**documented** (the reference says so), **inferred** (from the reference's examples "
        "or its list of messages) or **assumed** (the reference is silent). A profile key "
        "changes the behaviour (`serve --profile FILE`, see [profiles](profiles.md)); the "
        "contract test observes it on any target, the live API included, and "
        "`pytest contract_tests --observed-profile FILE` writes what it saw as a profile. "
        "The running mock serves this table, with its profile's values, at `GET /_mock/fidelity`.",
        "",
        "| behaviour | audjust-mock does | basis | source | profile key | observed by |",
        "|---|---|---|---|---|---|",
    ]
    for b in LEDGER:
        key = f"`{b.profile_key}`" if b.profile_key else ""
        seen = f"`{b.contract_test}`" if b.contract_test else f"not observed: {b.unobserved}"
        cells = [b.what, b.does, b.basis.value, b.source, key, seen]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
