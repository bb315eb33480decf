"""Structure: an analysis in, the song's sections out, each with a number that says what it is like.

It works from the analysis the cache keeps, not from the audio: the beat boundaries and the
beat-by-beat self-similarity are all it reads, so a song analysed once costs only the
segmentation (about 15 ms for a 3-minute song). Boundaries come from structural-feature novelty,
each refined to the beat where the repetition changes (novelty.py), labels from grouping sections
by their repetition stripes (section_labels.py). The sections tile the song: the first starts at
0 ms, each starts where the one before ends, on a beat, and the last ends at the song's duration;
every label is an integer in 0..1000, equal for sections grouped together, and the nearer two
labels the more alike the two groups.

A song too short to hold two sections, or without a change in its similarity (silence), is one
section. A steady tone or noise is not: the codec spreads any similarity over its whole range, so
chance variation reads as structure there.

A song longer than MAX_FRAMES beats is segmented on groups of beats (the matrix averaged over each
group's block), which keeps the cost bounded on a 30-minute source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mock_server.audio.analysis import AnalysisResult
from mock_server.audio.errors import EngineValidationError
from mock_server.audio.novelty import section_starts
from mock_server.audio.section_labels import (
    cluster_sections,
    group_positions,
    section_similarity,
)
from mock_server.audio.similarity import decode_codes

# Fewer beats than this (two bars of 4/4 each side of one boundary) hold a single section.
MIN_BEATS = 16
# The most frames segmented; longer songs are segmented on groups of beats.
MAX_FRAMES = 640


@dataclass(frozen=True)
class StructureSection:
    """One section: from `start_ms` to `end_ms` of the source, and its label in 0..1000."""

    start_ms: int
    end_ms: int
    label: int


@dataclass(frozen=True)
class Structure:
    """The sections of a song, in order, tiling it from 0 ms to its duration."""

    sections: tuple[StructureSection, ...]


def song_structure(analysis: AnalysisResult) -> Structure:
    """The sections of the analysed song (see the module's docstring)."""
    end_ms = _checked_end_ms(analysis)
    starts = _checked_boundaries(analysis.boundaries, analysis.duration)
    codes = decode_codes(analysis.similarity)
    if codes.shape[0] != len(starts):
        raise EngineValidationError(
            "similarity",
            f"is {codes.shape[0]} beats square; boundaries has {len(starts)} beats",
        )
    if len(starts) < MIN_BEATS:
        return Structure((StructureSection(0, end_ms, 0),))
    group = math.ceil(len(starts) / MAX_FRAMES)
    similarity = _pooled(codes, group) / float(analysis.similarity.max - analysis.similarity.min)
    cuts = section_starts(similarity, group)
    spans = list(zip([0, *cuts], [*cuts, similarity.shape[0]], strict=True))
    scores = section_similarity(similarity, spans)
    cluster = cluster_sections(scores)
    positions = group_positions(scores, cluster)
    times_ms = [0, *(round(starts[cut * group] * 1000) for cut in cuts), end_ms]
    return Structure(
        tuple(
            StructureSection(start, end, positions[c])
            for start, end, c in zip(times_ms, times_ms[1:], cluster, strict=False)
        )
    )


def _pooled(codes: NDArray[np.int16], group: int) -> NDArray[np.float64]:
    """The matrix averaged over blocks of `group` x `group` beats (the last block may be
    smaller); the codes as floats when `group` is 1."""
    if group == 1:
        return codes.astype(np.float64)
    edges = np.arange(0, codes.shape[0], group)
    sizes = np.diff(np.append(edges, codes.shape[0])).astype(np.float64)
    rows = np.add.reduceat(codes, edges, axis=0, dtype=np.int64)
    blocks = np.add.reduceat(rows, edges, axis=1, dtype=np.int64)
    pooled: NDArray[np.float64] = blocks / np.outer(sizes, sizes)
    return pooled


def _checked_end_ms(analysis: AnalysisResult) -> int:
    duration = analysis.duration
    if isinstance(duration, bool) or not math.isfinite(duration) or duration <= 0:
        raise EngineValidationError(
            "duration", f"must be a positive number of seconds, got {duration!r}"
        )
    return round(duration * 1000)


def _checked_boundaries(boundaries: tuple[float, ...], duration: float) -> list[float]:
    """The beat starts as given, once they are known to start at 0, rise and end before the
    song does: a section starts on one of them and must last at least a millisecond."""
    if not boundaries or boundaries[0] != 0.0:
        raise EngineValidationError("boundaries", "must start with 0.0")
    values = np.asarray(boundaries, dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
        raise EngineValidationError("boundaries", "must be finite and strictly increasing")
    if values[-1] >= duration:
        raise EngineValidationError("boundaries", "must all lie before the song's duration")
    return [float(value) for value in values]
