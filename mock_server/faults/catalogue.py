"""The fault catalogue: every failure a client can ask the mock for, documented as data.

Each entry names the phase it acts in (the HTTP layer, the jobs and the webhook dispatcher each
apply the ones of their phase), the routes it applies to, what the mock does and what a robust
client does about it; `/_mock/scenarios` serves it and a test keeps docs/faults.md equal to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mock_server.contract import wire
from mock_server.contract.profile import ErrorName, Profile
from mock_server.contract.results import ROUTE_NAME as RESULT_ROUTE_NAME
from mock_server.contract.wire import API_PATHS, API_ROUTES, JOB_PATHS, SOURCE_PATHS
from mock_server.faults.edges import EDGE_PARAMS

RESULTS_ROUTE = "/results"  # how scenarios name result downloads, wherever they are served
EVERY_ROUTE = API_PATHS | {RESULTS_ROUTE}
PARAMETER_PATHS = frozenset(route.path for route in API_ROUTES if route.required)
Param = float | str


class Phase(StrEnum):
    GATE = "gate"  # the request is refused with a documented error
    TRANSPORT = "transport"  # the HTTP exchange itself goes wrong
    JOB = "job"  # the queued work goes wrong
    DELIVERY = "delivery"  # the webhook goes wrong


class Fault(StrEnum):
    INVALID_METHOD = "invalid_method"
    MISSING_KEY = "missing_key"
    INVALID_KEY = "invalid_key"
    MISSING_PARAMETER = "missing_parameter"
    RATE_LIMITED = "rate_limited"
    USAGE_EXCEEDED = "usage_exceeded"
    SLOW = "slow"
    NEVER_COMPLETES = "never_completes"
    SOURCE_DOWNLOAD_FAILS = "source_download_fails"
    INTERNAL_FAILURE = "internal_failure"
    PARTIAL_EXPORT_FAILURE = "partial_export_failure"
    EXPIRED_ARTIFACT = "expired_artifact"
    CONTRACT_EDGES = "contract_edges"
    WEBHOOK_DUPLICATE = "webhook_duplicate"
    WEBHOOK_DELAYED = "webhook_delayed"
    WEBHOOK_OUT_OF_ORDER = "webhook_out_of_order"
    WEBHOOK_DROPPED = "webhook_dropped"
    SERVER_ERROR = "server_error"
    BAD_GATEWAY = "bad_gateway"
    CONNECTION_RESET = "connection_reset"
    MALFORMED_JSON = "malformed_json"
    LATENCY = "latency"


@dataclass(frozen=True)
class ScenarioSpec:
    fault: Fault
    phase: Phase
    routes: frozenset[str]
    # What the mock does; `{invalid_key}` and the like stand for that error's status, which the
    # running profile decides (`described`).
    does: str
    advice: str  # what a robust client does about it
    params: Mapping[str, Param] = field(default_factory=dict)  # name -> default

    def described(self, profile: Profile) -> str:
        """What the mock does under `profile`, with its statuses."""
        return self.does.format_map({name.value: profile.error(name).status for name in ErrorName})

    def to_json(self, profile: Profile) -> dict[str, Any]:
        return {
            "name": self.fault.value,
            "phase": self.phase.value,
            "routes": sorted(self.routes),
            "params": dict(self.params),
            "does": self.described(profile),
            "advice": self.advice,
        }


def _spec(
    fault: Fault,
    phase: Phase,
    routes: frozenset[str],
    does: str,
    advice: str,
    **params: Param,
) -> ScenarioSpec:
    return ScenarioSpec(fault, phase, routes, does, advice, params)


CATALOGUE: dict[Fault, ScenarioSpec] = {
    spec.fault: spec
    for spec in (
        _spec(
            Fault.INVALID_METHOD,
            Phase.GATE,
            API_PATHS,
            f"{{invalid_method}} {wire.INVALID_METHOD}",
            "Treat as a bug in your client: always POST; do not retry.",
        ),
        _spec(
            Fault.MISSING_KEY,
            Phase.GATE,
            API_PATHS,
            f"{{missing_key}} {wire.MISSING_KEY}",
            "Fail loudly at start-up if the key is not configured; do not retry.",
        ),
        _spec(
            Fault.INVALID_KEY,
            Phase.GATE,
            API_PATHS,
            f"{{invalid_key}} {wire.INVALID_KEY}",
            "The key was revoked or mistyped: stop sending and alert; retrying cannot help.",
        ),
        _spec(
            Fault.MISSING_PARAMETER,
            Phase.GATE,
            PARAMETER_PATHS,
            f"{{missing_parameter}} {wire.MISSING_PARAMETER}: NAME (default: the route's first "
            "required parameter)",
            "Validate before sending; surface the named parameter; do not retry unchanged.",
            name="",
        ),
        _spec(
            Fault.RATE_LIMITED,
            Phase.GATE,
            API_PATHS,
            f"{{rate_limited}} {wire.RATE_LIMITED} with Retry-After: retry_after",
            "Wait Retry-After seconds, then retry; throttle below 100 requests a minute.",
            retry_after=60.0,
        ),
        _spec(
            Fault.USAGE_EXCEEDED,
            Phase.GATE,
            API_PATHS,
            f"{{usage_exceeded}} {wire.USAGE_EXCEEDED}",
            "Stop submitting and tell a human to upgrade the plan; retrying spends nothing.",
        ),
        _spec(
            Fault.SLOW,
            Phase.JOB,
            JOB_PATHS,
            "the job takes `seconds` of mock time before its work; past the 7-minute limit "
            "it fails as timed out",
            "Never block a request thread on a job; rely on the webhook, poll resultUrl with "
            "backoff.",
            seconds=60.0,
        ),
        _spec(
            Fault.NEVER_COMPLETES,
            Phase.JOB,
            JOB_PATHS,
            "no webhook is ever sent and resultUrl stays {result_missing} (a synchronous resize "
            "answers {resize_timed_out} after the job limit, a synchronous structure "
            "{structure_failed})",
            "Keep a deadline per request: consider it failed after 7 minutes, as the reference "
            "says.",
        ),
        _spec(
            Fault.SOURCE_DOWNLOAD_FAILS,
            Phase.JOB,
            SOURCE_PATHS,
            "the job fails as if the source answered HTTP `status`: failure webhook, credits "
            "refunded",
            "Host sources on stable, reusable URLs (they are fetched more than once); report the "
            "failure message.",
            status=404.0,
        ),
        _spec(
            Fault.INTERNAL_FAILURE,
            Phase.JOB,
            JOB_PATHS,
            "the job fails with an internal error: failure webhook (a synchronous resize answers "
            "{resize_failed}, a synchronous structure {structure_failed})",
            "Handle success: false in the webhook; resubmit later, at most a few times.",
        ),
        _spec(
            Fault.PARTIAL_EXPORT_FAILURE,
            Phase.JOB,
            frozenset({wire.EXPORT.path}),
            "export group `group` (1-based; 0: the last) lands in `failures`; the others succeed "
            "(a one-group export thus fails whole, as when every group fails)",
            "Check `failures` even when success is true; re-export only the failed groups.",
            group=0.0,
        ),
        _spec(
            Fault.EXPIRED_ARTIFACT,
            Phase.JOB,
            JOB_PATHS,
            "the job succeeds but its results expire at once: result URLs answer {result_missing}",
            "Download results as soon as the webhook arrives; on 404, run the request again.",
        ),
        _spec(
            Fault.CONTRACT_EDGES,
            Phase.JOB,
            frozenset({wire.ANALYZE.path, wire.RESIZE.path}),
            "valid but unusual results, as the reference allows: feature vectors of `features` "
            "values; similarity coded from `similarity_min` to `similarity_max`; tempo and "
            "boundaries at half, double or the same beat (`beat`; the other way where that "
            "would leave 30-300 BPM), similarity and features to match; only the best "
            "`candidates` resize results, turned so that the best is not first; prices unchanged",
            "Read lengths from the data, never 13 or 20; decode similarity with its own min and "
            "max; allow for a beat off by 2^n; pick a candidate by its blendedScore, not its "
            "place.",
            **EDGE_PARAMS,
        ),
        _spec(
            Fault.WEBHOOK_DUPLICATE,
            Phase.DELIVERY,
            JOB_PATHS,
            "the final webhook is delivered `times` times",
            "Make the webhook handler idempotent: key it on requestId.",
            times=2.0,
        ),
        _spec(
            Fault.WEBHOOK_DELAYED,
            Phase.DELIVERY,
            JOB_PATHS,
            "the final webhook waits `seconds` of mock time (advance the clock to release it)",
            "Do not assume the webhook beats your next request; poll resultUrl if it is late.",
            seconds=30.0,
        ),
        _spec(
            Fault.WEBHOOK_OUT_OF_ORDER,
            Phase.DELIVERY,
            JOB_PATHS,
            "the final webhook is held until a webhook to the same URL for a request "
            "acknowledged after it has been sent (at once if one already was; at most "
            "`seconds` of mock time)",
            "Match webhooks to requests by requestId, never by arrival order.",
            seconds=30.0,
        ),
        _spec(
            Fault.WEBHOOK_DROPPED,
            Phase.DELIVERY,
            JOB_PATHS,
            "the final webhook is never sent; the result is still at resultUrl",
            "Delivery is best effort: after a deadline, poll resultUrl.",
        ),
        _spec(
            Fault.SERVER_ERROR,
            Phase.TRANSPORT,
            EVERY_ROUTE,
            "500 with a JSON error body; with processed=1 the request was handled first",
            "Retry with backoff a bounded number of times; a retried POST may queue a second job.",
            processed=0.0,
        ),
        _spec(
            Fault.BAD_GATEWAY,
            Phase.TRANSPORT,
            EVERY_ROUTE,
            "502 with an HTML body, as a proxy answers; with processed=1 the request was handled "
            "first",
            "Never assume an error body is JSON; treat 502 as transient and retry with backoff.",
            processed=0.0,
        ),
        _spec(
            Fault.CONNECTION_RESET,
            Phase.TRANSPORT,
            EVERY_ROUTE,
            "the connection is reset with no answer; with processed=1 the request was handled "
            "first",
            "Catch connection errors; retry with backoff, knowing the job may already be queued.",
            processed=0.0,
        ),
        _spec(
            Fault.MALFORMED_JSON,
            Phase.TRANSPORT,
            API_PATHS,
            "the request is handled, then answered 200 with its JSON cut in half",
            "Treat an unparsable answer as transient; the job may exist, so expect its webhook.",
        ),
        _spec(
            Fault.LATENCY,
            Phase.TRANSPORT,
            EVERY_ROUTE,
            "the request is handled, then answered after `seconds` of real time",
            "Set client timeouts; after a timeout the request may still have been queued.",
            seconds=2.0,
        ),
    )
}


def scenario_note(fault: Fault) -> str:
    """How every message a scenario bent says so: `(audjust-mock scenario NAME)`."""
    return f"(audjust-mock scenario {fault})"


def route_of(path: str, route_name: str | None = None) -> str | None:
    """The route a scenario can target: an API path, or `/results` for any result download
    (the results listener's route is named `results.ROUTE_NAME`)."""
    if path in API_PATHS:
        return path
    if route_name == RESULT_ROUTE_NAME:
        return RESULTS_ROUTE
    return None
