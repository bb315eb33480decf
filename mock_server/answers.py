"""Per-test answers: a test makes a route answer a payload it wrote, for the next N requests or
until reset, and the payload is held to the contract first.

What a test writes for each route is the part of the webhook the engine would have made, in the
wire's words: analyze's `result` object, resize's `result` list of candidates, export's
`{"failures": {RESULT_NAME: description}}` (the files it names fail, the others are made from the
source as usual). `ANSWERABLE` says so per route, one entry each. An answer is checked twice:
when it is armed, against the documented layer of the route's webhook schema
(`contract/layers.py`: readings such as a float tempo pass, since the live API may send them) and
the documented rules that need only the answer; and when a request takes it, against the rules
that tie it to that request (candidates on its boundaries, failures naming its files). Without
that a test could teach its client a shape the live API never sends. `break_contract=True` skips
both, on purpose.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mock_server.accounts import analyze_cost, resize_cost, structure_cost
from mock_server.audio.types import ExportFormat
from mock_server.contract import layers, rules
from mock_server.contract.profile import Profile
from mock_server.contract.results import ANALYSIS, RESIZE, STRUCTURE, export_names
from mock_server.contract.wire import SOURCE_PATHS

# A result name as the reference's result URLs end (`export_2.mp3`).
EXPORT_NAME = re.compile(r"^export_[1-9][0-9]*\.(mp3|wav)$")
OPT_OUT = "break_contract=True (breakContract over the control API) sends it anyway"


class AnswerRefused(ValueError):
    """A per-test answer the contract does not allow, or one that does not fit the request that
    would take it; the message names the ledger row it breaks and where."""


Check = Callable[[Any, Mapping[str, Any]], None]  # (answer, request body); AssertionError if not


@dataclass(frozen=True)
class Promise:
    """A documented promise (`row` of the fidelity ledger) an answer must keep."""

    row: str
    check: Check


@dataclass(frozen=True)
class Answerable:
    """What a route's per-test answer is: where it sits in the webhook (`at`; None: it is an
    object of the webhook's own `fields`, the rest the mock writes), the result document it
    becomes (`result_name`), the rules it keeps alone (`alone`) and against the request that
    takes it (`fits`), and its price (None: the engine's work prices it)."""

    route: str
    at: str | None
    result_name: str | None
    alone: tuple[Promise, ...] = ()
    fits: tuple[Promise, ...] = ()
    price: Callable[[Any, Mapping[str, Any], Profile], int] | None = None
    fields: tuple[str, ...] = ()
    placeholders: Mapping[str, Any] = field(default_factory=dict)  # what the mock writes itself
    schema_name: str | None = None  # the webhook's schema, when not ROUTE-webhook

    @property
    def schema(self) -> str:
        return self.schema_name or f"{self.route}-webhook"

    def webhook(self, answer: Any) -> dict[str, Any]:
        """The webhook `answer` would be sent in, with stand-ins for what the mock fills in."""
        document: dict[str, Any] = {"requestId": "0" * 32, "success": True, "creditCost": 1}
        if f"/{self.route}" in SOURCE_PATHS:
            document["sourceFileUrl"] = "https://example.com/song.mp3"
        document |= self.placeholders
        if self.at is not None:
            return document | {self.at: answer}
        return document | {name: answer[name] for name in self.fields if name in answer}


def _each(check: Callable[[dict[str, Any], Mapping[str, Any]], None]) -> Check:
    """`check` applied to each candidate of a list, naming the one that breaks it."""

    def every(answer: Any, request: Mapping[str, Any]) -> None:
        for index, candidate in enumerate(answer):
            try:
                check(candidate, request)
            except AssertionError as broken:
                raise AssertionError(f"/result/{index}: {broken}") from None

    return every


def _similarity(result: Any, request: Mapping[str, Any]) -> None:
    similarity, beats = result["similarity"], len(result["boundaries"])
    rules.check_similarity_length(similarity, beats)
    rules.check_similarity_range(similarity)
    rules.check_similarity_diagonal(similarity, beats)


def _feature_vectors(result: Any, request: Mapping[str, Any]) -> None:
    if "features" in result:
        rules.check_feature_vectors(result["features"], len(result["boundaries"]))


def _features_asked(result: Any, request: Mapping[str, Any]) -> None:
    asked = "raw_features" in (request.get("features") or [])
    assert asked == ("features" in result), (
        "the request asked for raw_features and the answer has no features"
        if asked
        else "the answer has features, which come only when the request asks for raw_features"
    )


def _segment_pairs(candidate: dict[str, Any], request: Mapping[str, Any]) -> None:
    beats, seconds = candidate["segmentsBeats"], candidate["segmentsSeconds"]
    assert len(beats) == len(seconds), "segmentsBeats and segmentsSeconds differ in length"


def _on_boundaries(candidate: dict[str, Any], request: Mapping[str, Any]) -> None:
    rules.check_segments_on_boundaries(candidate, request["boundaries"])


def _duration(candidate: dict[str, Any], request: Mapping[str, Any]) -> None:
    rules.check_duration(candidate, request["boundaries"])


def _dissimilarity(candidate: dict[str, Any], request: Mapping[str, Any]) -> None:
    rules.check_dissimilarity_total(candidate)


def _near_target(answer: Any, request: Mapping[str, Any]) -> None:
    if answer:  # "generally 20" candidates: none at all is not ruled out
        rules.check_best_near_target(answer, request["targetLengthSeconds"])


def _failure_names(answer: Any, request: Mapping[str, Any]) -> None:
    for name in answer.get("failures", {}):
        assert EXPORT_NAME.match(name), (
            f"/failures: {name!r} is not a result name (export_K.mp3 or export_K.wav, as the "
            "reference's result URLs end)"
        )


def _failures_of_this_export(answer: Any, request: Mapping[str, Any]) -> None:
    fmt = ExportFormat(request["exportFormat"])
    names = export_names(fmt, len(request["segmentsGroups"]))
    strangers = [name for name in answer.get("failures", {}) if name not in names]
    assert not strangers, f"/failures names {strangers}; this request's files are {list(names)}"


def _number(value: Any) -> float:
    """A duration as the price reads it: a number, or 0 in a deliberately broken answer."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _analysis_price(answer: Any, request: Mapping[str, Any], profile: Profile) -> int:
    duration = _number(answer.get("duration")) if isinstance(answer, dict) else 0.0
    features = "raw_features" in (request.get("features") or [])
    return analyze_cost(duration, features, profile.pricing)


def _resize_price(answer: Any, request: Mapping[str, Any], profile: Profile) -> int:
    return resize_cost(float(request["targetLengthSeconds"]), profile.pricing)


def _structure_price(answer: Any, request: Mapping[str, Any], profile: Profile) -> int:
    """As the engine's: the source's minutes, here the last section's end."""
    last = answer[-1] if isinstance(answer, list) and answer else {}
    end_ms = _number(last.get("endMs")) if isinstance(last, dict) else 0.0
    rate = profile.structure_credits_per_minute
    return structure_cost(end_ms / 1000, rate, profile.pricing)


ANSWERABLE = {
    spec.route: spec
    for spec in (
        Answerable(
            "analyze",
            at="result",
            result_name=ANALYSIS,
            alone=(
                Promise("analyze.similarity", _similarity),
                Promise("analyze.features", _feature_vectors),
            ),
            fits=(Promise("analyze.features", _features_asked),),
            price=_analysis_price,
        ),
        Answerable(
            "resize",
            at="result",
            result_name=RESIZE,
            alone=(
                Promise("resize.segments", _each(_segment_pairs)),
                Promise("resize.dissimilarity", _each(_dissimilarity)),
            ),
            fits=(
                Promise("resize.segments", _each(_on_boundaries)),
                Promise("resize.duration", _each(_duration)),
                Promise("resize.near_target", _near_target),
            ),
            price=_resize_price,
        ),
        Answerable(
            "export",
            at=None,
            result_name=None,
            alone=(Promise("export.failures", _failure_names),),
            fits=(Promise("export.failures", _failures_of_this_export),),
            fields=("failures",),
            placeholders={"resultUrls": ["https://example.com/0/export_1.mp3"], "failures": {}},
        ),
        # Nothing of the sections is documented (only a client's reading of them), so only the
        # schema's documented layer holds an answer to anything.
        Answerable(
            "structure",
            at="sections",
            result_name=STRUCTURE,
            price=_structure_price,
            schema_name="structure-response",
        ),
    )
}


def answerable(route: str) -> Answerable:
    """The entry for `route` (`/resize` or `resize`); AnswerRefused naming the ones there are."""
    spec = ANSWERABLE.get(route.removeprefix("/"))
    if spec is None:
        routes = ", ".join(f"/{name}" for name in ANSWERABLE)
        raise AnswerRefused(f"{route!r} takes no per-test answer; these do: {routes}")
    return spec


def _kept(
    spec: Answerable, promises: Sequence[Promise], answer: Any, request: Mapping[str, Any]
) -> None:
    for rule in promises:
        try:
            rule.check(answer, request)
        # A shape the schema lets through may still defeat a rule's arithmetic (an empty
        # similarity, a segment index past the end): that breaks the rule as surely.
        except (AssertionError, ArithmeticError, LookupError, TypeError, ValueError) as broken:
            raise AnswerRefused(
                f"the answer for /{spec.route} breaks {rule.row}: {broken}; {OPT_OUT}"
            ) from None


def check_alone(spec: Answerable, answer: Any) -> None:
    """The documented layer of the route's webhook schema, then the rules of the answer alone."""
    if spec.at is None and (not isinstance(answer, dict) or not set(answer) <= set(spec.fields)):
        raise AnswerRefused(
            f"the answer for /{spec.route} breaks {spec.route}.payload: it is an object of "
            f"{', '.join(spec.fields)} alone (the mock writes the rest of the webhook); {OPT_OUT}"
        )
    graded = layers.graded_errors(spec.schema, spec.webhook(answer))
    if graded.documented:
        raise AnswerRefused(
            f"the answer for /{spec.route} breaks {spec.route}.payload (schemas/{spec.schema}.json"
            f"): {'; '.join(graded.documented)}; {OPT_OUT}"
        )
    _kept(spec, spec.alone, answer, {})


def _as_json(answer: Any) -> Any:
    """A copy of `answer` as the wire would carry it: what the test changes later is not sent."""
    try:
        return json.loads(json.dumps(answer, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise AnswerRefused(f"the answer is not JSON: {error}") from None


@dataclass
class ArmedAnswer:
    """An answer waiting for requests to its route: `remaining` None means until reset."""

    id: int
    spec: Answerable
    payload: Any
    remaining: int | None
    break_contract: bool = False

    def price(self, request: Mapping[str, Any], profile: Profile) -> int | None:
        if self.spec.price is None:
            return None
        return self.spec.price(self.payload, request, profile)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "route": f"/{self.spec.route}",
            "remaining": self.remaining,
            "breakContract": self.break_contract,
            "payload": self.payload,
        }


class AnswerBook:
    """A namespace's armed answers, first armed first; a reset forgets them all."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._armed: list[ArmedAnswer] = []

    def arm(
        self, route: str, payload: Any, times: int | None = None, break_contract: bool = False
    ) -> ArmedAnswer:
        spec = answerable(route)
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise AnswerRefused("times must be a whole number (or null: until reset)")
        if times is not None and times < 1:
            raise AnswerRefused("times must be at least 1 (or null: until reset)")
        payload = _as_json(payload)
        if not break_contract:
            check_alone(spec, payload)
        armed = ArmedAnswer(next(self._ids), spec, payload, times, break_contract)
        self._armed.append(armed)
        return armed

    def take(self, route: str, request: Mapping[str, Any]) -> ArmedAnswer | None:
        """The answer this request to `route` gets, one of its uses spent; AnswerRefused, and
        nothing spent, when it does not fit the request."""
        armed = next((a for a in self._armed if a.spec.route == route), None)
        if armed is None:
            return None
        if not armed.break_contract:
            _kept(armed.spec, armed.spec.fits, armed.payload, request)
        if armed.remaining is not None:
            armed.remaining -= 1
            if armed.remaining == 0:
                self._armed.remove(armed)
        return armed

    def armed(self) -> list[ArmedAnswer]:
        return list(self._armed)

    def reset(self) -> None:
        self._armed.clear()
