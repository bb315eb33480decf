"""Fault scenarios: the catalogue of failures a client can ask for, and which requests get them.

A scenario is chosen per request (`X-Mock-Scenario: NAME[;param=value]`), armed for the next N
requests of a key or route (`POST /_mock/scenarios`), or set for the whole run (`serve
--scenario`). Each names the phase it acts in; the HTTP layer, the jobs and the webhook dispatcher
each apply the ones of their phase.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from mock_server.contract.profile import ErrorName, Profile
from mock_server.contract.results import ROUTE_NAME as RESULT_ROUTE_NAME
from mock_server.faults.edges import EDGE_CHOICES, EDGE_PARAMS, EDGE_RANGES

API_ROUTES = frozenset({"/analyze", "/resize", "/export"})
RESULTS_ROUTE = "/results"  # how scenarios name result downloads, wherever they are served
SOURCE_ROUTES = frozenset({"/analyze", "/export"})
EVERY_ROUTE = API_ROUTES | {RESULTS_ROUTE}
HEADER = "X-Mock-Scenario"
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
            API_ROUTES,
            "{invalid_method} Invalid request method",
            "Treat as a bug in your client: always POST; do not retry.",
        ),
        _spec(
            Fault.MISSING_KEY,
            Phase.GATE,
            API_ROUTES,
            "{missing_key} Missing API key header",
            "Fail loudly at start-up if the key is not configured; do not retry.",
        ),
        _spec(
            Fault.INVALID_KEY,
            Phase.GATE,
            API_ROUTES,
            "{invalid_key} Invalid API Key",
            "The key was revoked or mistyped: stop sending and alert; retrying cannot help.",
        ),
        _spec(
            Fault.MISSING_PARAMETER,
            Phase.GATE,
            API_ROUTES,
            "{missing_parameter} Missing parameter: NAME (default: the route's first required "
            "parameter)",
            "Validate before sending; surface the named parameter; do not retry unchanged.",
            name="",
        ),
        _spec(
            Fault.RATE_LIMITED,
            Phase.GATE,
            API_ROUTES,
            "{rate_limited} Rate limit exceeded with Retry-After: retry_after",
            "Wait Retry-After seconds, then retry; throttle below 100 requests a minute.",
            retry_after=60.0,
        ),
        _spec(
            Fault.USAGE_EXCEEDED,
            Phase.GATE,
            API_ROUTES,
            "{usage_exceeded} Usage limit exceeded",
            "Stop submitting and tell a human to upgrade the plan; retrying spends nothing.",
        ),
        _spec(
            Fault.SLOW,
            Phase.JOB,
            API_ROUTES,
            "the job takes `seconds` of mock time before its work; past the 7-minute limit "
            "it fails as timed out",
            "Never block a request thread on a job; rely on the webhook, poll resultUrl with "
            "backoff.",
            seconds=60.0,
        ),
        _spec(
            Fault.NEVER_COMPLETES,
            Phase.JOB,
            API_ROUTES,
            "no webhook is ever sent and resultUrl stays {result_missing} (a synchronous resize "
            "answers {resize_timed_out} after the job limit)",
            "Keep a deadline per request: consider it failed after 7 minutes, as the reference "
            "says.",
        ),
        _spec(
            Fault.SOURCE_DOWNLOAD_FAILS,
            Phase.JOB,
            SOURCE_ROUTES,
            "the job fails as if the source answered HTTP `status`: failure webhook, credits "
            "refunded",
            "Host sources on stable, reusable URLs (they are fetched more than once); report the "
            "failure message.",
            status=404.0,
        ),
        _spec(
            Fault.INTERNAL_FAILURE,
            Phase.JOB,
            API_ROUTES,
            "the job fails with an internal error: failure webhook (a synchronous resize answers "
            "{resize_failed})",
            "Handle success: false in the webhook; resubmit later, at most a few times.",
        ),
        _spec(
            Fault.PARTIAL_EXPORT_FAILURE,
            Phase.JOB,
            frozenset({"/export"}),
            "export group `group` (1-based; 0: the last) lands in `failures`; the others succeed",
            "Check `failures` even when success is true; re-export only the failed groups.",
            group=0.0,
        ),
        _spec(
            Fault.EXPIRED_ARTIFACT,
            Phase.JOB,
            API_ROUTES,
            "the job succeeds but its results expire at once: result URLs answer {result_missing}",
            "Download results as soon as the webhook arrives; on 404, run the request again.",
        ),
        _spec(
            Fault.CONTRACT_EDGES,
            Phase.JOB,
            frozenset({"/analyze", "/resize"}),
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
            API_ROUTES,
            "the final webhook is delivered `times` times",
            "Make the webhook handler idempotent: key it on requestId.",
            times=2.0,
        ),
        _spec(
            Fault.WEBHOOK_DELAYED,
            Phase.DELIVERY,
            API_ROUTES,
            "the final webhook waits `seconds` of mock time (advance the clock to release it)",
            "Do not assume the webhook beats your next request; poll resultUrl if it is late.",
            seconds=30.0,
        ),
        _spec(
            Fault.WEBHOOK_OUT_OF_ORDER,
            Phase.DELIVERY,
            API_ROUTES,
            "the final webhook is held until a webhook to the same URL for a request "
            "acknowledged after it has been sent (at once if one already was; at most "
            "`seconds` of mock time)",
            "Match webhooks to requests by requestId, never by arrival order.",
            seconds=30.0,
        ),
        _spec(
            Fault.WEBHOOK_DROPPED,
            Phase.DELIVERY,
            API_ROUTES,
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
            API_ROUTES,
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


class ScenarioError(ValueError):
    """A scenario that cannot be chosen: unknown name, unknown parameter, wrong route."""


# The largest value each numeric parameter takes: seconds up to a year of mock time, and
# bounds that keep a typo from asking for a million deliveries.
PARAM_MAX = {
    "times": 100.0,
    "status": 599.0,
    "group": 1000.0,
    "processed": 1.0,
    **{name: high for name, (_, high) in EDGE_RANGES.items()},
}
DEFAULT_PARAM_MAX = 365 * 86400.0
# The smallest, where 0 would make no valid payload; and the words a text parameter may be.
PARAM_MIN = {name: low for name, (low, _) in EDGE_RANGES.items()}
PARAM_CHOICES: dict[str, tuple[str, ...]] = dict(EDGE_CHOICES)


def _param_value(name: str, default: Param, text: str) -> Param:
    if isinstance(default, str):
        if any(mark in text for mark in ";,="):
            raise ScenarioError(f"parameter {name} may not contain ; , or =")
        choices = PARAM_CHOICES.get(name)
        if choices is not None and text not in choices:
            raise ScenarioError(
                f"parameter {name} must be one of {', '.join(choices)}, not {text!r}"
            )
        return text
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"parameter {name} must be a number, not {text!r}") from None
    low, limit = PARAM_MIN.get(name, 0.0), PARAM_MAX.get(name, DEFAULT_PARAM_MAX)
    if not low <= value <= limit:  # NaN fails this too
        raise ScenarioError(
            f"parameter {name} must be a number from {low:g} to {limit:g}, not {text}"
        )
    return value


def _shown(value: Param) -> str:
    """A parameter as `describe` writes it: exactly, so that `parse` reads back the same."""
    if isinstance(value, str):
        return value
    return str(int(value)) if value.is_integer() else repr(value)


@dataclass(frozen=True)
class Scenario:
    spec: ScenarioSpec
    params: Mapping[str, Param]

    @property
    def fault(self) -> Fault:
        return self.spec.fault

    def number(self, name: str) -> float:
        value = self.params[name]
        assert isinstance(value, float)
        return value

    def text(self, name: str) -> str:
        return str(self.params[name])

    def describe(self) -> str:
        return self._described

    @functools.cached_property
    def _described(self) -> str:
        """Written once: the journal describes a request's scenarios on every request, and a
        header's are shared by every request that sends it (2% of the loop under wrk)."""
        shown = [f"{name}={_shown(value)}" for name, value in self.params.items()]
        return ";".join([self.fault.value, *shown])

    @classmethod
    def named(cls, name: str, params: Mapping[str, object] | None = None) -> Scenario:
        """`name` with `params` over its defaults; ScenarioError naming what is wrong."""
        try:
            spec = CATALOGUE[Fault(name)]
        except ValueError:
            known = ", ".join(fault.value for fault in Fault)
            raise ScenarioError(f"unknown scenario {name!r}; known: {known}") from None
        values = dict(spec.params)
        for param, value in (params or {}).items():
            if param not in spec.params:
                takes = ", ".join(spec.params) or "no parameters"
                raise ScenarioError(f"scenario {name} takes {takes}, not {param!r}")
            values[param] = _param_value(param, spec.params[param], str(value))
        return cls(spec, values)

    @classmethod
    def parse(cls, text: str) -> Scenario:
        """`NAME[;param=value]...`, as in the header and on the command line."""
        name, *pairs = (part.strip() for part in text.split(";"))
        params: dict[str, str] = {}
        for pair in filter(None, pairs):
            param, equals, value = pair.partition("=")
            if not equals:
                raise ScenarioError(f"scenario parameter {pair!r} must be written param=value")
            params[param.strip()] = value.strip()
        return cls.named(name, params)

    def applies_to(self, route: str) -> bool:
        return route in self.spec.routes


def scenario_note(fault: Fault) -> str:
    """How every message a scenario bent says so: `(audjust-mock scenario NAME)`."""
    return f"(audjust-mock scenario {fault})"


def route_of(path: str, route_name: str | None = None) -> str | None:
    """The route a scenario can target: an API path, or `/results` for any result download
    (the results listener's route is named `results.ROUTE_NAME`)."""
    if path in API_ROUTES:
        return path
    if route_name == RESULT_ROUTE_NAME:
        return RESULTS_ROUTE
    return None


def parse_header(value: str, route: str) -> list[Scenario]:
    """Comma-separated scenarios from the header, each of which must apply to `route`."""
    return list(_parsed_header(value, route))


@functools.lru_cache(maxsize=256)
def _parsed_header(value: str, route: str) -> tuple[Scenario, ...]:
    """`parse_header`'s scenarios, parsed once per header a client sends (it sends the same few
    again and again): parsing took 3% of the loop under wrk, and the jobs kept held two new
    Scenario objects each. A header that does not parse raises, and is not kept."""
    chosen = tuple(Scenario.parse(part) for part in value.split(",") if part.strip())
    for scenario in chosen:
        if not scenario.applies_to(route):
            routes = ", ".join(sorted(scenario.spec.routes))
            raise ScenarioError(f"scenario {scenario.fault} applies to {routes}, not {route}")
    return chosen


@dataclass(frozen=True)
class Arming:
    """A request to arm `scenario` for `count` requests (None: every one) of a route and key."""

    scenario: Scenario
    count: int | None = 1
    route: str | None = None
    key: str | None = None

    @classmethod
    def from_json(cls, item: object, default_count: int | None = 1) -> Arming:
        """`{"name": "slow", "params": {"seconds": 5}, "count": 2, "route": "/analyze",
        "key": "k"}`; `name` may carry its parameters as in the header, `"slow;seconds=5"`."""
        if isinstance(item, str):
            return cls(Scenario.parse(item), default_count)
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ScenarioError(
                'a scenario is an object with a "name" (or a NAME;param=value string)'
            )
        params = item.get("params")
        if params is None:
            params = {}
        elif not isinstance(params, dict):
            raise ScenarioError("params must be an object")
        for name, value in params.items():
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ScenarioError(f"parameter {name} must be a number or a string")
        parsed = Scenario.parse(item["name"])
        scenario = Scenario.named(parsed.fault, {**parsed.params, **params})
        count = item.get("count", default_count)
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise ScenarioError("count must be an integer (or null for every request)")
        route, key = item.get("route"), item.get("key")
        if route is not None and route not in EVERY_ROUTE:
            raise ScenarioError(f"route must be one of {', '.join(sorted(EVERY_ROUTE))}")
        if key is not None and not isinstance(key, str):
            raise ScenarioError("key must be a string")
        return cls(scenario, count, route, key)


@dataclass
class ArmedScenario:
    """A scenario waiting for requests: `remaining` None means every matching request."""

    id: int
    scenario: Scenario
    remaining: int | None
    route: str | None = None
    key: str | None = None

    def matches(self, route: str, key: str | None) -> bool:
        return (
            self.scenario.applies_to(route)
            and (self.route is None or self.route == route)
            and (self.key is None or self.key == key)
            and (self.remaining is None or self.remaining > 0)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scenario": self.scenario.describe(),
            "remaining": self.remaining,
            "route": self.route,
            "key": self.key,
        }


class ScenarioBook:
    """The armed scenarios; those given for the whole run survive every reset."""

    def __init__(self, for_the_run: Iterable[Arming] = ()) -> None:
        self._ids = itertools.count(1)
        self._for_the_run = [self._armed_from(replace(a, count=None)) for a in for_the_run]
        self._armed: list[ArmedScenario] = list(self._for_the_run)

    def _armed_from(self, arming: Arming) -> ArmedScenario:
        scenario, route = arming.scenario, arming.route
        if arming.count is not None and arming.count < 1:
            raise ScenarioError("count must be at least 1 (or null for every request)")
        if route is not None and not scenario.applies_to(route):
            routes = ", ".join(sorted(scenario.spec.routes))
            raise ScenarioError(f"scenario {scenario.fault} applies to {routes}, not {route}")
        return ArmedScenario(next(self._ids), scenario, arming.count, route, arming.key)

    def arm(self, arming: Arming) -> ArmedScenario:
        armed = self._armed_from(arming)
        self._armed.append(armed)
        return armed

    def take(self, route: str, key: str | None) -> list[Scenario]:
        """The armed scenarios this request gets, each spending one of its remaining uses."""
        taken = []
        for armed in self._armed:
            if armed.matches(route, key):
                if armed.remaining is not None:
                    armed.remaining -= 1
                taken.append(armed.scenario)
        self._armed = [a for a in self._armed if a.remaining is None or a.remaining > 0]
        return taken

    def armed(self) -> list[ArmedScenario]:
        return list(self._armed)

    def reset(self) -> None:
        self._armed = list(self._for_the_run)
