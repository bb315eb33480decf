"""`trigger`: the webhook the live API would send for one operation, made by the real engine.

What a trigger needs before its operation can run: analyze and structure need nothing; resize
needs an analysis of the source (for its similarity and boundaries); export needs the best resize
candidate's segments. `prepare` works that out (pure CPU, so a running mock runs it in its process
pool); `LocalWorkshop` lets `--offline` run the operation itself, with no server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from mock_server.audio.analysis import AnalysisResult, analyze_bytes
from mock_server.audio.export import SegmentGroups
from mock_server.audio.resize import ResizeInput, parse_resize_input, resize_candidates
from mock_server.audio.types import DecodeLimits, ExportFormat
from mock_server.contract.profile import Profile
from mock_server.contract.results import ExportFiles
from mock_server.faults.catalogue import Fault
from mock_server.faults.scenario import Scenario
from mock_server.jobs.analyses import analysis_from_json
from mock_server.jobs.operations import (
    Analyze,
    Export,
    FindSections,
    Operation,
    Outcome,
    Resize,
)

R = TypeVar("R")
DEFAULT_SONG = "pop_120"
KEY = "audjust-mock trigger"  # whose usage a triggered job counts against: nobody's plan


class Triggered(Enum):
    ANALYZE = "analyze"
    RESIZE = "resize"
    EXPORT = "export"
    STRUCTURE = "structure"


@dataclass(frozen=True)
class Prepared:
    """What the operation takes beyond the request: a resize input, or an export's groups."""

    resize: ResizeInput | None = None
    groups: SegmentGroups | None = None

    def export_files(self, base: str, request_id: str, fmt: ExportFormat) -> ExportFiles:
        """The files an export of these groups makes (none for another operation)."""
        return ExportFiles.of(base, request_id, fmt, len(self.groups or ()))


def prepare(
    kind: Triggered, data: bytes, target_seconds: float | None, limits: DecodeLimits
) -> Prepared:
    """Analyze `data` as far as `kind` needs. The default target is half the song."""
    if kind in (Triggered.ANALYZE, Triggered.STRUCTURE):
        return Prepared()
    analysis = analyze_bytes(data, False, limits)
    target = target_seconds if target_seconds else round(analysis["duration"] / 2, 2)
    request = parse_resize_input(analysis["similarity"], analysis["boundaries"], target)
    if kind is Triggered.RESIZE:
        return Prepared(resize=request)
    best = resize_candidates(request)[0]
    return Prepared(groups=(best.segments_seconds,))


async def run_locally(operation: Operation, data: bytes) -> Outcome:
    """Run `operation` on `data` here, with no server."""
    return await operation.run(LocalWorkshop(data))


class LocalWorkshop:
    """An operation's workshop with no server: computed here, nothing stored or counted."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def compute(self, fn: Callable[..., R], *args: Any) -> R:
        return fn(*args)

    async def analysis(
        self, data: bytes, raw_features: bool, limits: DecodeLimits
    ) -> AnalysisResult:
        return analysis_from_json(analyze_bytes(data, raw_features, limits))

    async def source(self) -> bytes:
        return self._data

    async def probe(self, data: bytes) -> float | None:
        return None

    def store_file(self, name: str, data: bytes) -> None:
        pass

    def count(self, credits: int) -> None:
        pass

    def has_limit(self) -> bool:
        return False

    def fault(self, fault: Fault) -> Scenario | None:
        return None


def operation_for(
    kind: Triggered,
    prepared: Prepared,
    *,
    raw_features: bool,
    files: ExportFiles,
    profile: Profile,
    limits: DecodeLimits,
) -> Operation:
    """The operation a trigger runs; an export makes `files`."""
    if kind is Triggered.ANALYZE:
        return Analyze(raw_features, profile, limits)
    if kind is Triggered.STRUCTURE:
        return FindSections(profile, limits)
    if kind is Triggered.RESIZE:
        assert prepared.resize is not None
        return Resize(prepared.resize, profile)
    assert prepared.groups is not None
    return Export(prepared.groups, files, profile, limits)
