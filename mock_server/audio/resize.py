"""Resize: an analysis and a target length in, up to 20 candidate edits of the song out.

An edit is a list of segments [start, end] (boundary indices) played in order; between two
segments is a cut from beat e to beat s, costing 1 - S[e][s]. Candidates keep the intro (start at
0) and the ending (finish at the last boundary) unless the target is shorter than that allows.
They come from three searches over every pair of beats (cuts.py finds each one's best without
scoring them all):
  - one cut: skip forward to shorten, or jump back once to lengthen;
  - one backward cut repeated k times (a loop), for targets up to 10x the song;
  - two cuts combined from the most seamless single cuts.
Each is scored, and the best distinct ones (cuts more than a few beats apart) are kept.

    blended_score = -(0.05 * dissimilarity + 0.5 * |duration - target| / target + 0.01 * cuts)

so closeness to the target dominates, then seamlessness, then fewer cuts. `dissimilarity` is the
sum of 1 - S over the cuts, computed from the integer codes so it is an exact multiple of
1 / (max - min); `duration_seconds` is the sum of segment lengths rounded to whole seconds (half
up), as the reference's example shows (29.77 + 3.88 -> 34).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mock_server.audio.cuts import (
    Beats,
    Cuts,
    Reach,
    best,
    best_cuts,
    most_similar,
)
from mock_server.audio.errors import EngineValidationError
from mock_server.audio.similarity import (
    EncodedSimilarity,
    decode_triangle,
    parse_similarity,
    triangle_index,
)
from mock_server.audio.types import MAX_SECONDS, finite_number

CANDIDATES = 20
WEIGHT_DISSIMILARITY = 0.05
WEIGHT_LENGTH = 0.5
WEIGHT_CUT = 0.01
SEARCH_WIDTH = 300
POOL_SIZE = 150
MAX_LOOPS = 64
DISTINCT_BEATS = 4
# 30 minutes at 200 BPM: the similarity string alone is then 18 million characters.
MAX_BOUNDARIES = 6000
MIN_SCORED_TARGET = 1e-3  # seconds
# Slack on a floor derived from a score: far above float rounding, far below any score step.
ROUNDING = 1e-9

# The parameters, as the engine names them in its errors (the layer above words them for its users).
BOUNDARIES = "boundaries"
TARGET_LENGTH_SECONDS = "target_length_seconds"

Segment = tuple[int, int]


@dataclass(frozen=True)
class Candidate:
    """One edit of the song: its segments as boundary indices and as those boundaries' times,
    played in order; the sum of 1 - similarity over its cuts; its score (higher is better)."""

    segments_beats: tuple[Segment, ...]
    segments_seconds: tuple[tuple[float, float], ...]
    duration_seconds: int  # the segments' total length, rounded to whole seconds (half up)
    dissimilarity: float
    blended_score: float


@dataclass(frozen=True)
class ResizeInput:
    similarity: EncodedSimilarity
    boundaries: tuple[float, ...]
    target_seconds: float


def _parse_boundaries(obj: object) -> tuple[float, ...]:
    if not isinstance(obj, list) or len(obj) < 2:
        raise EngineValidationError(BOUNDARIES, "must be an array of at least 2 times in seconds")
    if len(obj) > MAX_BOUNDARIES:
        raise EngineValidationError(
            BOUNDARIES, f"at most {MAX_BOUNDARIES} (30 minutes at 200 BPM); got {len(obj)}"
        )
    values = [finite_number(v) for v in obj]
    if any(v is None or not 0 <= v <= MAX_SECONDS for v in values):
        raise EngineValidationError(
            BOUNDARIES, f"every boundary must be a number of seconds from 0 to {MAX_SECONDS:g}"
        )
    times = tuple(v for v in values if v is not None)
    if any(later <= earlier for earlier, later in itertools.pairwise(times)):
        raise EngineValidationError(BOUNDARIES, "must be strictly increasing")
    return times


def parse_resize_input(
    similarity: object, boundaries: object, target_length_seconds: object
) -> ResizeInput:
    """Validate the three resize parameters; an error names the parameter in the engine's words."""
    times = _parse_boundaries(boundaries)
    target = finite_number(target_length_seconds)
    if target is None or not 0 < target <= MAX_SECONDS:
        raise EngineValidationError(
            TARGET_LENGTH_SECONDS, f"must be a number of seconds > 0 and at most {MAX_SECONDS:g}"
        )
    return ResizeInput(parse_similarity(similarity, len(times)), times, target)


@dataclass(frozen=True)
class _Search:
    """The decoded problem: beat times, similarity codes and the target."""

    beats: Beats
    target: float
    scale: int

    @property
    def times(self) -> NDArray[np.float64]:
        return self.beats.times

    @cached_property
    def seconds(self) -> list[float]:
        return [float(t) for t in self.times]

    @property
    def last(self) -> int:
        return self.beats.count - 1

    @property
    def length(self) -> float:
        return float(self.times[-1] - self.times[0])

    def similarity(self, cuts: Cuts) -> NDArray[np.float32]:
        # float32, divided as when the searches held the N x N matrix: the same scores, bit for bit.
        return cuts.codes.astype(np.float32) / np.float32(self.scale)

    def blended(self, duration: Any, dissimilarity: Any, cuts: Any) -> Any:
        # A target under a millisecond is scored as one, so the score stays finite (JSON has no
        # -Infinity) however tiny a valid target is.
        error = np.abs(duration - self.target) / max(self.target, MIN_SCORED_TARGET)
        return -(WEIGHT_DISSIMILARITY * dissimilarity + WEIGHT_LENGTH * error + WEIGHT_CUT * cuts)

    def within(
        self, floor: float, *, repeats: int = 1, shortest_miss: float = 0.0
    ) -> tuple[float, int]:
        """How far from the target the duration of an edit of `repeats` equal cuts may land
        (seconds), and the lowest code its cut may have, for it to score `floor` or better. Each
        term of the score is >= 0, so none may exceed what the others leave at their least; the
        least dissimilarity is that of the most similar cut in the song (ROUNDING and the
        thousandth of a code cover float error)."""
        budget = -floor * (1 + ROUNDING) - WEIGHT_CUT * repeats
        per_second = WEIGHT_LENGTH / max(self.target, MIN_SCORED_TARGET)
        least_dissimilarity = (1 - self.beats.highest_code / self.scale) * (1 - 1e-6)
        length_budget = budget - WEIGHT_DISSIMILARITY * repeats * least_dissimilarity
        if length_budget < 0:
            return -1.0, self.scale + 1
        miss = length_budget / per_second * (1 + ROUNDING) + 1e-6
        worst = (budget - per_second * shortest_miss) / (WEIGHT_DISSIMILARITY * repeats)
        return miss, math.ceil(self.scale * (1 - worst * (1 + ROUNDING)) - 1e-3)


def _top(scores: NDArray[np.float64], count: int) -> NDArray[np.intp]:
    """Flat indices of the `count` highest finite scores, best first, ties by index."""
    flat = scores.ravel()
    finite = np.flatnonzero(np.isfinite(flat))
    return finite[best(flat[finite], finite, count)]


def _single_cuts(search: _Search) -> list[list[Segment]]:
    """One cut, forward to shorten or back to lengthen: [0,e], [s,last]."""
    t = search.times
    shift = search.target - search.length  # the span t[e] - t[s] that lands on the target
    shortest_miss = max(search.target - 2 * search.length, 0.0)  # a cut lasts under 2 songs

    def score(cuts: Cuts) -> NDArray[np.float64]:
        duration = (t[cuts.ends] - t[0]) + (t[-1] - t[cuts.starts])
        scores: NDArray[np.float64] = search.blended(duration, 1.0 - search.similarity(cuts), 1)
        return scores

    def reach(floor: float) -> Reach:
        miss, lowest = search.within(floor, shortest_miss=shortest_miss)
        return Reach([(shift - miss, shift + miss)], lowest)

    found = best_cuts(search.beats, [shift], score, reach, count=SEARCH_WIDTH)
    return [
        [(0, e), (s, search.last)]
        for e, s in zip(found.ends.tolist(), found.starts.tolist(), strict=True)
    ]


def _repeats(search: _Search, span: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.clip(np.round((search.target - search.length) / span), 2, MAX_LOOPS)


def _loops(search: _Search) -> list[list[Segment]]:
    """Jump back from e to s, k times over: [0,e], [s,e] x (k-1), [s,last]."""
    if search.target <= search.length:
        return []
    t = search.times
    extra = search.target - search.length

    def score(cuts: Cuts) -> NDArray[np.float64]:
        span = t[cuts.ends] - t[cuts.starts]
        repeats = _repeats(search, span)
        duration = search.length + repeats * span
        cost = repeats * (1.0 - search.similarity(cuts))
        scores: NDArray[np.float64] = search.blended(duration, cost, repeats)
        return scores

    def reach(floor: float) -> Reach:
        # k loops of span d last length + k * d: for each k still affordable, the spans that loop
        # k times (np.round's halves either way) and land within the miss it allows.
        spans = []
        for k in range(fewest, MAX_LOOPS + 1):
            miss, _ = search.within(floor, repeats=k)
            if miss < 0:
                break
            shortest = extra / (k + 0.5) * (1 - ROUNDING) if k < MAX_LOOPS else 0.0
            longest = extra / (k - 0.5) * (1 + ROUNDING) if k > 2 else math.inf
            spans.append((max(shortest, (extra - miss) / k), min(longest, (extra + miss) / k)))
        return Reach(spans, search.within(floor, repeats=fewest)[1])

    # No cut spans more than the song, so none loops fewer times than one that does.
    fewest = int(_repeats(search, np.array([search.length]))[0])
    centres = [extra / k for k in range(fewest, min(fewest + 8, MAX_LOOPS + 1))]
    found = best_cuts(search.beats, centres, score, reach, count=SEARCH_WIDTH, backward=True)
    repeats = _repeats(search, t[found.ends] - t[found.starts]).astype(int)
    return [
        [(0, e), *[(s, e)] * (k - 1), (s, search.last)]
        for e, s, k in zip(
            found.ends.tolist(), found.starts.tolist(), repeats.tolist(), strict=True
        )
    ]


def _double_cuts(search: _Search) -> list[list[Segment]]:
    """Two cuts, each from the pool of the most seamless single cuts."""
    pool = most_similar(search.beats, POOL_SIZE, apart=2)
    e, s = pool.ends, pool.starts
    t = search.times
    first_e, first_s = e[:, None], s[:, None]
    second_e, second_s = e[None, :], s[None, :]
    ordered = first_s < second_e
    duration = (t[first_e] - t[0]) + (t[second_e] - t[first_s]) + (t[-1] - t[second_s])
    similar = search.similarity(pool)
    cost = (1.0 - similar[:, None]) + (1.0 - similar[None, :])
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

    @cached_property  # read for every pair of candidates compared
    def cuts(self) -> tuple[Segment, ...]:
        return tuple((a[1], b[0]) for a, b in zip(self.segments, self.segments[1:], strict=False))

    def resembles(self, other: _Scored) -> bool:
        mine, theirs = self.cuts, other.cuts
        return len(mine) == len(theirs) and all(
            abs(a[0] - b[0]) <= DISTINCT_BEATS and abs(a[1] - b[1]) <= DISTINCT_BEATS
            for a, b in zip(mine, theirs, strict=True)
        )

    def candidate(self, times: NDArray[np.float64]) -> Candidate:
        return Candidate(
            segments_beats=self.segments,
            segments_seconds=tuple((float(times[s]), float(times[e])) for s, e in self.segments),
            duration_seconds=math.floor(self.duration + 0.5),
            dissimilarity=self.dissimilarity,
            blended_score=self.blended,
        )


def _score(search: _Search, segments: list[Segment]) -> _Scored:
    triangle = search.beats.triangle
    cut_codes = sum(
        int(triangle[triangle_index(a[1], b[0])]) for a, b in itertools.pairwise(segments)
    )
    cuts = len(segments) - 1
    dissimilarity = (search.scale * cuts - cut_codes) / search.scale if cuts else 0.0
    times = search.seconds  # Python floats: the same sums as numpy's, at a tenth of the cost
    duration = float(sum(times[e] - times[s] for s, e in segments))
    blended = float(search.blended(duration, dissimilarity, cuts))
    return _Scored(tuple(segments), dissimilarity, duration, blended + 0.0)


def resize_candidates(inp: ResizeInput, count: int = CANDIDATES) -> list[Candidate]:
    """Up to `count` distinct candidates, best blended score first."""
    search = _Search(
        beats=Beats(np.asarray(inp.boundaries, dtype=np.float64), decode_triangle(inp.similarity)),
        target=inp.target_seconds,
        scale=inp.similarity.max - inp.similarity.min,
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
    return [candidate.candidate(search.times) for candidate in chosen]


def _rank(candidate: _Scored) -> tuple[float, tuple[Segment, ...]]:
    return (-candidate.blended, candidate.segments)
