"""analyze, resize, export and structure as units of work: each takes what its request said,
runs on a workshop the job runner provides, and returns a typed outcome (what it made and what it
costs).

They know nothing of HTTP or of the job lifecycle; the runner knows nothing of them but `run`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from mock_server.accounts import (
    PricingRule,
    analyze_cost,
    export_cost,
    resize_cost,
    structure_cost,
)
from mock_server.answers import ArmedAnswer
from mock_server.audio.analysis import AnalysisResult
from mock_server.audio.export import (
    ExportedFile,
    ExportFailure,
    SegmentGroups,
    export_bytes,
    output_seconds,
)
from mock_server.audio.resize import Candidate, ResizeInput, resize_candidates
from mock_server.audio.structure import Structure, song_structure
from mock_server.audio.types import DecodeLimits
from mock_server.contract.profile import ORDER_BY, PartialExportCharge, Profile, ResultOrder
from mock_server.contract.results import ANALYSIS, RESIZE, STRUCTURE, ExportFiles
from mock_server.faults.catalogue import Fault, scenario_note
from mock_server.faults.edges import Edges, edge_analysis, edge_candidates
from mock_server.faults.scenario import Scenario

R = TypeVar("R")


class EveryGroupFailed(Exception):
    """An export in which no group could be made: the job fails with this message."""


@dataclass(frozen=True)
class Analyzed:
    analysis: AnalysisResult
    credit_cost: int
    json_name: str = ANALYSIS


@dataclass(frozen=True)
class Resized:
    candidates: Sequence[Candidate]
    credit_cost: int
    json_name: str = RESIZE


@dataclass(frozen=True)
class Exported:
    urls: Sequence[str]
    failures: Mapping[str, str]  # result URL -> why that file is missing
    credit_cost: int
    json_name: None = None  # the files are the results; no JSON document is hosted


@dataclass(frozen=True)
class Structured:
    structure: Structure
    credit_cost: int
    json_name: str = STRUCTURE


@dataclass(frozen=True)
class Given:
    """A result the engine did not make, sent as it is, whatever it holds: a recording's
    (`recordings.Replayed`) or a test's per-test answer (`Answered`). `at`: the webhook's field
    it fills (`result`; a structure's `sections`, which sit at the top level)."""

    document: Any  # JSON
    credit_cost: int
    json_name: str
    at: str = "result"


Outcome = Analyzed | Resized | Exported | Structured | Given


class Workshop(Protocol):
    """What an operation may use: the process pool, the job's source, the result store, and
    the usage ledger (to count a price as soon as it is known)."""

    async def compute(self, fn: Callable[..., R], *args: Any) -> R: ...

    async def analysis(
        self, data: bytes, raw_features: bool, limits: DecodeLimits
    ) -> AnalysisResult:
        """The engine's analysis of `data`: computed, or the same result remembered."""

    async def source(self) -> bytes: ...

    async def probe(self, data: bytes) -> float | None: ...

    def store_file(self, name: str, data: bytes) -> None: ...

    def count(self, credits: int) -> None: ...

    def has_limit(self) -> bool: ...

    def fault(self, fault: Fault) -> Scenario | None: ...


@dataclass(frozen=True)
class Analyze:
    raw_features: bool
    profile: Profile
    decode_limits: DecodeLimits

    async def run(self, shop: Workshop) -> Analyzed:
        data = await shop.source()
        pricing = self.profile.pricing
        if shop.has_limit():  # the price counts as soon as it is known, before the analysis
            declared = await shop.probe(data)
            if declared is not None:
                shop.count(analyze_cost(declared, self.raw_features, pricing))
        analysis = await shop.analysis(data, self.raw_features, self.decode_limits)
        cost = analyze_cost(analysis.duration, self.raw_features, pricing)
        if edges := shop.fault(Fault.CONTRACT_EDGES):  # priced as the true analysis
            analysis = await shop.compute(edge_analysis, analysis, Edges.from_params(edges.params))
        return Analyzed(analysis, cost)


@dataclass(frozen=True)
class Resize:
    request: ResizeInput
    profile: Profile

    def price(self) -> int:
        return resize_cost(self.request.target_seconds, self.profile.pricing)

    async def run(self, shop: Workshop) -> Resized:
        candidates = await shop.compute(resize_candidates, self.request)
        candidates = ordered(candidates, self.profile.result_order)
        if edges := shop.fault(Fault.CONTRACT_EDGES):
            candidates = edge_candidates(candidates, Edges.from_params(edges.params))
        return Resized(candidates, self.price())


def ordered(candidates: list[Candidate], order: ResultOrder) -> list[Candidate]:
    """The candidates in the profile's order (the reference does not say which it uses)."""
    return sorted(candidates, key=ORDER_BY[order].key)


def export_price(groups: SegmentGroups, pricing: PricingRule) -> int:
    """The price an export request implies (what its groups would last), until the files
    exist: what counts while it is queued."""
    return export_cost(output_seconds(groups), pricing)


@dataclass(frozen=True)
class Export:
    groups: SegmentGroups
    files: ExportFiles  # one per group: the format, and the names and URLs of the results
    profile: Profile
    decode_limits: DecodeLimits
    # A per-test answer's failures, by result name: those files fail with the description given.
    answered: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    async def run(self, shop: Workshop) -> Exported:
        data = await shop.source()
        files = self.files
        outcomes = await shop.compute(
            export_bytes, data, self.groups, files.fmt, self.decode_limits
        )
        for index, name in enumerate(files.names):
            if name in self.answered:
                outcomes[index] = ExportFailure(self.answered[name])
        broken = shop.fault(Fault.PARTIAL_EXPORT_FAILURE)
        if broken:
            number = int(broken.number("group"))
            index = number - 1 if 1 <= number <= len(outcomes) else len(outcomes) - 1
            outcomes[index] = ExportFailure(
                f"Failed to generate {files.names[index]} "
                + scenario_note(Fault.PARTIAL_EXPORT_FAILURE)
            )
        failures: dict[str, str] = {}
        seconds = 0.0
        for outcome, name, url in zip(outcomes, files.names, files.urls, strict=True):
            if isinstance(outcome, ExportedFile):
                shop.store_file(name, outcome.data)
                seconds += outcome.duration_seconds
            else:
                failures[url] = outcome.message
        if len(failures) == len(files.urls):
            raise EveryGroupFailed("Every export group failed: " + "; ".join(failures.values()))
        # Keys that name none of its files come only from an answer armed with break_contract.
        failures |= {key: why for key, why in self.answered.items() if key not in files.names}
        if self.profile.partial_export_charge is PartialExportCharge.REQUESTED:
            return Exported(files.urls, failures, export_price(self.groups, self.profile.pricing))
        return Exported(files.urls, failures, export_cost(seconds, self.profile.pricing))


@dataclass(frozen=True)
class FindSections:
    """Sections of the source, from its analysis: the one the cache holds when the same bytes
    were analysed before (by /analyze or an earlier /structure), so sections cost little more
    than the download."""

    profile: Profile
    decode_limits: DecodeLimits

    def price(self, duration_seconds: float) -> int:
        rate = self.profile.structure_credits_per_minute
        return structure_cost(duration_seconds, rate, self.profile.pricing)

    async def run(self, shop: Workshop) -> Structured:
        data = await shop.source()
        if shop.has_limit():  # the price counts as soon as it is known, as analyze's does
            declared = await shop.probe(data)
            if declared is not None:
                shop.count(self.price(declared))
        analysis = await shop.analysis(data, False, self.decode_limits)
        found = await shop.compute(song_structure, analysis)
        return Structured(found, self.price(analysis.duration))


class Operation(Protocol):
    """Any unit of work the runner can run: the four above, a per-test answer (`Answered`) or
    a replayed recording (`recordings.Replayed`), which make nothing and return what was given."""

    async def run(self, shop: Workshop) -> Outcome: ...


@dataclass(frozen=True)
class Answered:
    """A test's per-test answer in place of the engine's result (`answers.py`)."""

    given: Given
    # The scenarios that bend the engine's result, which this one stands in for.
    overrides: ClassVar[frozenset[Fault]] = frozenset({Fault.CONTRACT_EDGES})

    async def run(self, shop: Workshop) -> Given:
        return self.given


def answered_by(
    engine: Operation, answer: ArmedAnswer, request: Mapping[str, Any], profile: Profile
) -> Operation:
    """What `engine` becomes when `answer` answers its request: an export makes the files the
    answer does not fail; any other route's result is the answer, priced as the engine's."""
    if isinstance(engine, Export):
        failures = answer.payload.get("failures") if isinstance(answer.payload, dict) else None
        return dataclasses.replace(engine, answered=failures if isinstance(failures, dict) else {})
    spec = answer.spec
    cost, name = answer.price(request, profile), spec.result_name
    assert cost is not None and name is not None, f"/{spec.route} answers without a price"
    return Answered(Given(answer.payload, cost, name, spec.at or "result"))


def overrides(operation: Operation) -> frozenset[Fault]:
    """The scenarios whose effect `operation` stands in for: a request that got one of them
    and is answered by it says so (the journal's notes, the traffic line)."""
    found: frozenset[Fault] = getattr(operation, "overrides", frozenset())
    return found
