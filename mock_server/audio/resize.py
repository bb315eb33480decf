"""Resize: an analysis and a target length in, up to 20 candidate edits of the song out.

An edit is a list of segments [start, end] (boundary indices) played in order; between two
segments is a cut from beat e to beat s, costing 1 - S[e][s]. Candidates keep the intro (start at
0) and the ending (finish at the last boundary) unless the target is shorter than that allows.
They come from three searches, each vectorised over every pair of beats:
  - one cut: skip forward to shorten, or jump back once to lengthen;
  - one backward cut repeated k times (a loop), for targets up to 10x the song;
  - two cuts combined from the most seamless single cuts.
Each is scored, and the best distinct ones (cuts more than a few beats apart) are kept.

    blendedScore = -(0.05 * dissimilarity + 0.5 * |duration - target| / target + 0.01 * cuts)

so closeness to the target dominates, then seamlessness, then fewer cuts. `dissimilarity` is the
sum of 1 - S over the cuts, computed from the integer codes so it is an exact multiple of
1 / (max - min); `durationSeconds` is the sum of segment lengths rounded to whole seconds (half up),
as the reference's example shows (29.77 + 3.88 -> 34).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mock_server.audio.errors import EngineValidationError
from mock_server.audio.similarity import EncodedSimilarity, decode_codes, parse_similarity
from mock_server.audio.types import MAX_SECONDS, finite_number

CANDIDATES = 20
WEIGHT_DISSIMILARITY = 0.05
WEIGHT_LENGTH = 0.5
WEIGHT_CUT = 0.01
SEARCH_WIDTH = 300
POOL_SIZE = 150
MAX_LOOPS = 64
DISTINCT_BEATS = 4
# The search holds a few N x N arrays: this keeps a worker under about 2 GB.
MAX_BOUNDARIES = 6000
MIN_SCORED_TARGET = 1e-3  # seconds

Segment = tuple[int, int]


@dataclass(frozen=True)
class ResizeInput:
    similarity: EncodedSimilarity
    boundaries: tuple[float, ...]
    target_seconds: float


def _parse_boundaries(obj: object) -> tuple[float, ...]:
    if not isinstance(obj, list) or len(obj) < 2:
        raise EngineValidationError("boundaries", "must be an array of at least 2 times in seconds")
    if len(obj) > MAX_BOUNDARIES:
        raise EngineValidationError(
            "boundaries", f"at most {MAX_BOUNDARIES} (30 minutes at 200 BPM); got {len(obj)}"
        )
    values = [finite_number(v) for v in obj]
    if any(v is None or not 0 <= v <= MAX_SECONDS for v in values):
        raise EngineValidationError(
            "boundaries", f"every boundary must be a number of seconds from 0 to {MAX_SECONDS:g}"
        )
    times = tuple(v for v in values if v is not None)
    if any(later <= earlier for earlier, later in itertools.pairwise(times)):
        raise EngineValidationError("boundaries", "must be strictly increasing")
    return times


def parse_resize_input(
    similarity: object, boundaries: object, target_length_seconds: object
) -> ResizeInput:
    """Validate the three resize parameters; errors name the parameter as the API spells it."""
    times = _parse_boundaries(boundaries)
    target = finite_number(target_length_seconds)
    if target is None or not 0 < target <= MAX_SECONDS:
        raise EngineValidationError(
            "targetLengthSeconds", f"must be a number of seconds > 0 and at most {MAX_SECONDS:g}"
        )
    return ResizeInput(parse_similarity(similarity, len(times)), times, target)


@dataclass(frozen=True)
class _Search:
    """The decoded problem: codes, similarity, boundary times and target."""

    codes: NDArray[np.int16]
    similarity: NDArray[np.float32]
    times: NDArray[np.float64]
    target: float
    scale: int

    @property
    def last(self) -> int:
        return self.times.size - 1

    @property
    def length(self) -> float:
        return float(self.times[-1] - self.times[0])

    def blended(self, duration: Any, dissimilarity: Any, cuts: Any) -> Any:
        # A target under a millisecond is scored as one, so the score stays finite (JSON has no
        # -Infinity) however tiny a valid target is.
        error = np.abs(duration - self.target) / max(self.target, MIN_SCORED_TARGET)
        return -(WEIGHT_DISSIMILARITY * dissimilarity + WEIGHT_LENGTH * error + WEIGHT_CUT * cuts)


def _top(scores: NDArray[np.float64], count: int) -> NDArray[np.intp]:
    """Flat indices of the `count` highest finite scores, best first, ties by index."""
    flat = scores.ravel()
    finite = np.flatnonzero(np.isfinite(flat))
    return finite[_best(flat[finite], finite, count)]


def _best(scores: NDArray[np.float64], keys: NDArray[np.intp], count: int) -> NDArray[np.intp]:
    """Positions of the `count` highest scores, best first, ties by the lower key.

    Ties at the cut-off are settled by key too: argpartition alone keeps whichever tied scores its
    SIMD path puts first, so the same request gave other candidates on another CPU.
    """
    chosen = np.arange(scores.size)
    if scores.size > count:
        cutoff = np.partition(scores, scores.size - count)[scores.size - count]
        better = np.flatnonzero(scores > cutoff)
        tied = np.flatnonzero(scores == cutoff)
        tied = tied[np.argsort(keys[tied], kind="stable")[: count - better.size]]
        chosen = np.concatenate([better, tied])
    return chosen[np.lexsort((keys[chosen], -scores[chosen]))]


def _jump_grid(search: _Search) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.bool_]]:
    """Every cut e -> s that leaves a non-empty first and last segment."""
    n = search.times.size
    ends = np.arange(n)[:, None]
    starts = np.arange(n)[None, :]
    valid = (ends >= 1) & (starts <= n - 2) & (ends != starts)
    return ends, starts, valid


def _single_cuts(search: _Search) -> list[list[Segment]]:
    ends, starts, valid = _jump_grid(search)
    t = search.times
    duration = (t[ends] - t[0]) + (t[-1] - t[starts])
    scores = np.where(valid, search.blended(duration, 1.0 - search.similarity, 1), -np.inf)
    n = t.size
    return [[(0, int(i // n)), (int(i % n), search.last)] for i in _top(scores, SEARCH_WIDTH)]


def _loops(search: _Search) -> list[list[Segment]]:
    """Jump back from e to s, k times over: [0,e], [s,e] x (k-1), [s,last]."""
    if search.target <= search.length:
        return []
    ends, starts, valid = _jump_grid(search)
    t = search.times
    span = t[ends] - t[starts]
    backwards = valid & (span > 0)
    repeats = np.clip(
        np.round((search.target - search.length) / np.where(backwards, span, 1)), 2, MAX_LOOPS
    )
    duration = search.length + repeats * span
    cost = repeats * (1.0 - search.similarity)
    scores = np.where(backwards, search.blended(duration, cost, repeats), -np.inf)
    n = t.size
    candidates = []
    for flat in _top(scores, SEARCH_WIDTH):
        e, s = int(flat // n), int(flat % n)
        k = int(repeats[e, s])
        candidates.append([(0, e), *[(s, e)] * (k - 1), (s, search.last)])
    return candidates


def _double_cuts(search: _Search) -> list[list[Segment]]:
    """Two cuts, each from the pool of the most seamless single cuts."""
    ends, starts, valid = _jump_grid(search)
    n = search.times.size
    seamless = np.where(valid & (np.abs(ends - starts) >= 2), search.similarity, -np.inf)
    pool = _top(seamless.astype(np.float64), POOL_SIZE)
    e, s = pool // n, pool % n
    t = search.times
    first_e, first_s = e[:, None], s[:, None]
    second_e, second_s = e[None, :], s[None, :]
    ordered = first_s < second_e
    duration = (t[first_e] - t[0]) + (t[second_e] - t[first_s]) + (t[-1] - t[second_s])
    cost = (1.0 - search.similarity[first_e, first_s]) + (
        1.0 - search.similarity[second_e, second_s]
    )
    scores = np.where(ordered, search.blended(duration, cost, 2), -np.inf)
    picks = _top(scores, SEARCH_WIDTH)
    rows, cols = picks // pool.size, picks % pool.size
    return [
        [(0, int(e[a])), (int(s[a]), int(e[b])), (int(s[b]), search.last)]
        for a, b in zip(rows, cols, strict=True)
    ]


def _excerpts(search: _Search) -> list[list[Segment]]:
    """Targets too short to keep both ends: the opening or the ending alone."""
    t = search.times
    shortest_with_both_ends = (t[1] - t[0]) + (t[-1] - t[-2])
    if search.target >= shortest_with_both_ends:
        return []
    opening = int(np.clip(np.searchsorted(t, t[0] + search.target), 1, search.last))
    closing = int(np.clip(np.searchsorted(t, t[-1] - search.target), 0, search.last - 1))
    return [[(0, opening)], [(closing, search.last)]]


@dataclass(frozen=True)
class _Scored:
    segments: tuple[Segment, ...]
    dissimilarity: float
    duration: float
    blended: float

    @property
    def cuts(self) -> tuple[Segment, ...]:
        return tuple((a[1], b[0]) for a, b in zip(self.segments, self.segments[1:], strict=False))

    def resembles(self, other: _Scored) -> bool:
        mine, theirs = self.cuts, other.cuts
        return len(mine) == len(theirs) and all(
            abs(a[0] - b[0]) <= DISTINCT_BEATS and abs(a[1] - b[1]) <= DISTINCT_BEATS
            for a, b in zip(mine, theirs, strict=True)
        )

    def to_json(self, times: NDArray[np.float64]) -> dict[str, Any]:
        return {
            "dissimilarity": self.dissimilarity,
            "blendedScore": self.blended,
            "segmentsBeats": [[s, e] for s, e in self.segments],
            "segmentsSeconds": [[float(times[s]), float(times[e])] for s, e in self.segments],
            "durationSeconds": math.floor(self.duration + 0.5),
        }


def _score(search: _Search, segments: list[Segment]) -> _Scored:
    cut_codes = sum(int(search.codes[a[1], b[0]]) for a, b in itertools.pairwise(segments))
    cuts = len(segments) - 1
    dissimilarity = (search.scale * cuts - cut_codes) / search.scale if cuts else 0.0
    duration = float(sum(search.times[e] - search.times[s] for s, e in segments))
    blended = float(search.blended(duration, dissimilarity, cuts))
    return _Scored(tuple(segments), dissimilarity, duration, blended + 0.0)


def resize_candidates(inp: ResizeInput, count: int = CANDIDATES) -> list[dict[str, Any]]:
    """The `result` array: up to `count` distinct candidates, best blendedScore first."""
    codes = decode_codes(inp.similarity)
    scale = inp.similarity.max - inp.similarity.min
    search = _Search(
        codes=codes,
        similarity=(codes.astype(np.float32) / np.float32(scale)),
        times=np.asarray(inp.boundaries, dtype=np.float64),
        target=inp.target_seconds,
        scale=scale,
    )
    proposals = [
        [(0, search.last)],
        *_single_cuts(search),
        *_loops(search),
        *_double_cuts(search),
        *_excerpts(search),
    ]
    scored = sorted({tuple(p): _score(search, p) for p in proposals}.values(), key=_rank)
    chosen: list[_Scored] = []
    for candidate in scored:
        if not any(candidate.resembles(kept) for kept in chosen):
            chosen.append(candidate)
        if len(chosen) == count:
            break
    return [candidate.to_json(search.times) for candidate in chosen]


def _rank(candidate: _Scored) -> tuple[float, tuple[Segment, ...]]:
    return (-candidate.blended, candidate.segments)
