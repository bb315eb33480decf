"""Export: the source audio cut into segment groups, one stitched file per group.

Each cut gets a 10 ms equal-power crossfade: the outgoing segment's last samples fade out while
the samples just before the incoming segment fade in, so the output keeps exactly the sum of the
segment lengths and every sample away from a cut is the source's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mock_server.audio.decode import decode_audio
from mock_server.audio.encode import encode_audio
from mock_server.audio.errors import AudioEngineError, EngineValidationError
from mock_server.audio.types import (
    MAX_SECONDS,
    Audio,
    DecodeLimits,
    ExportFormat,
    FloatArray,
    finite_number,
)

Segment = tuple[float, float]
SegmentGroups = tuple[tuple[Segment, ...], ...]

CROSSFADE_SECONDS = 0.01
# A segment may end this far past the audio (the last boundary is rounded to 2 decimals).
END_TOLERANCE_SECONDS = 0.05
MAX_GROUPS = 50
MAX_SEGMENTS = 1000
FIELD = "segments_groups"  # the parameter, as the engine names it in its errors


@dataclass(frozen=True)
class ExportedFile:
    data: bytes
    duration_seconds: float


@dataclass(frozen=True)
class ExportFailure:
    message: str


ExportOutcome = ExportedFile | ExportFailure


def _segment(obj: object, where: str) -> Segment:
    if not isinstance(obj, list) or len(obj) != 2:
        raise EngineValidationError(FIELD, f"{where} must be a [start, end] pair")
    start, end = (finite_number(value) for value in obj)
    if start is None or end is None:
        raise EngineValidationError(FIELD, f"{where} must hold two finite numbers of seconds")
    if start < 0 or end < 0:
        raise EngineValidationError(FIELD, f"{where} has a negative time")
    if start > MAX_SECONDS or end > MAX_SECONDS:
        raise EngineValidationError(FIELD, f"{where} has a time beyond {MAX_SECONDS:g} s")
    return start, end


def output_seconds(groups: SegmentGroups) -> float:
    """How long the groups' files would be, all together: what an export is priced on."""
    return sum(max(0.0, end - start) for group in groups for start, end in group)


def parse_segments_groups(obj: object) -> SegmentGroups:
    """Check the shape: a non-empty list of non-empty lists of [start, end] seconds."""
    if not isinstance(obj, list) or not obj:
        raise EngineValidationError(FIELD, "must be a non-empty array of segment groups")
    if len(obj) > MAX_GROUPS:
        raise EngineValidationError(FIELD, f"at most {MAX_GROUPS} groups per request")
    groups = []
    for g, group in enumerate(obj, start=1):
        if not isinstance(group, list) or not group:
            raise EngineValidationError(FIELD, f"group {g} must be a non-empty array of segments")
        if len(group) > MAX_SEGMENTS:
            raise EngineValidationError(FIELD, f"group {g} has over {MAX_SEGMENTS} segments")
        groups.append(tuple(_segment(s, f"group {g} segment {k}") for k, s in enumerate(group, 1)))
    return tuple(groups)


def _impossible(segment: Segment, number: int, duration: float) -> str | None:
    start, end = segment
    if start >= end:
        return f"segment {number} [{start:g}, {end:g}]: start must be before end"
    if start >= duration:
        return (
            f"segment {number} [{start:g}, {end:g}]: starts after the audio ends ({duration:.2f} s)"
        )
    if end > duration + END_TOLERANCE_SECONDS:
        return (
            f"segment {number} [{start:g}, {end:g}]: ends after the audio ends ({duration:.2f} s)"
        )
    return None


def stitch(audio: Audio, segments: tuple[Segment, ...]) -> FloatArray:
    """Join the segments with equal-power crossfades; length is the sum of segment lengths."""
    rate, source = audio.sample_rate, audio.samples
    spans = [
        (min(round(s * rate), source.shape[0]), min(round(e * rate), source.shape[0]))
        for s, e in segments
    ]
    out = np.empty((sum(e - s for s, e in spans), audio.channels), dtype=np.float32)
    fade = round(CROSSFADE_SECONDS * rate)
    position = 0
    for index, (start, end) in enumerate(spans):
        if index > 0:
            width = min(fade, start, position, end - start)
            if width > 0:
                angle = np.linspace(0.0, np.pi / 2, width, dtype=np.float32)[:, None]
                tail = out[position - width : position]
                tail[:] = tail * np.cos(angle) + source[start - width : start] * np.sin(angle)
        out[position : position + end - start] = source[start:end]
        position += end - start
    return out


def _export_group(audio: Audio, group: tuple[Segment, ...], fmt: ExportFormat) -> ExportOutcome:
    for number, segment in enumerate(group, start=1):
        problem = _impossible(segment, number, audio.duration)
        if problem:
            return ExportFailure(problem)
    samples = stitch(audio, group)
    try:
        data = encode_audio(samples, audio.sample_rate, fmt)
    except AudioEngineError as error:
        return ExportFailure(error.message)
    return ExportedFile(data, samples.shape[0] / audio.sample_rate)


def export_groups(audio: Audio, groups: SegmentGroups, fmt: ExportFormat) -> list[ExportOutcome]:
    """One outcome per group, in order; a group that cannot be made fails alone."""
    return [_export_group(audio, group, fmt) for group in groups]


def export_bytes(
    data: bytes, groups: SegmentGroups, fmt: ExportFormat, limits: DecodeLimits
) -> list[ExportOutcome]:
    """Decode the source and export: the unit of work a worker process runs."""
    return export_groups(decode_audio(data, limits), groups, fmt)
