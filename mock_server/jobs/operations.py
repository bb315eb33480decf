"""analyze, resize, export and structure as units of work: each takes what its request said,
runs on a workshop the job runner provides, and returns a typed outcome (what it made and what it
costs).

They know nothing of HTTP or of the job lifecycle; the runner knows nothing of them but `run`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from mock_server.accounts import PricingRule, analyze_cost, export_cost, rated_cost, resize_cost
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
class RecordedResult:
    """A `result` as a recording holds it (`recordings.Replayed`): another server's answer,
    sent again as it was, whatever it holds."""

    document: Any  # JSON


@dataclass(frozen=True)
class Analyzed:
    analysis: AnalysisResult | RecordedResult
    credit_cost: int
    json_name: str = ANALYSIS


@dataclass(frozen=True)
class Resized:
    candidates: Sequence[Candidate] | RecordedResult
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
    structure: Structure | RecordedResult
    credit_cost: int
    json_name: str = STRUCTURE


Outcome = Analyzed | Resized | Exported | Structured


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

    async def run(self, shop: Workshop) -> Exported:
        data = await shop.source()
        files = self.files
        outcomes = await shop.compute(
            export_bytes, data, self.groups, files.fmt, self.decode_limits
        )
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
        if self.profile.partial_export_charge is PartialExportCharge.REQUESTED:
            return Exported(files.urls, failures, export_price(self.groups, self.profile.pricing))
        return Exported(files.urls, failures, export_cost(seconds, self.profile.pricing))


def structure_cost(duration_seconds: float, profile: Profile) -> int:
    """The profile's price for the sections of `duration_seconds` of audio (unknown live)."""
    minutes = duration_seconds / 60
    return rated_cost(profile.structure_credits_per_minute, minutes, profile.pricing)


@dataclass(frozen=True)
class FindSections:
    """Sections of the source, from its analysis: the one the cache holds when the same bytes
    were analysed before (by /analyze or an earlier /structure), so sections cost little more
    than the download."""

    profile: Profile
    decode_limits: DecodeLimits

    async def run(self, shop: Workshop) -> Structured:
        data = await shop.source()
        if shop.has_limit():  # the price counts as soon as it is known, as analyze's does
            declared = await shop.probe(data)
            if declared is not None:
                shop.count(structure_cost(declared, self.profile))
        analysis = await shop.analysis(data, False, self.decode_limits)
        found = await shop.compute(song_structure, analysis)
        return Structured(found, structure_cost(analysis.duration, self.profile))


class Operation(Protocol):
    """Any unit of work the runner can run: the four above, or a replayed recording
    (`recordings.Replayed`), which makes nothing and returns what was recorded."""

    async def run(self, shop: Workshop) -> Outcome: ...
