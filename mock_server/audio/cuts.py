"""The best cuts between the beats of one song by a score, without scoring all N^2 of them.

A cut e -> s jumps from the end of beat e to beat s. Resize's scores fall as a cut's span
t[e] - t[s] misses what the target needs and as its similarity code falls, so the cuts that can
still reach a given score lie in a few bands of spans and above some code (a `Reach`).
`best_cuts` scores the cuts near the ideal spans, takes the count-th best score there as a floor,
and widens the band until the cuts within reach of the floor are not many more than it has
scored; then it scores exactly those. At 3600 beats that is a few hundred thousand cuts where all
pairs were 13 million. Ties go to the lower flat index e * N + s, as if every cut had been scored.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mock_server.audio.similarity import triangle_indices

# Stop widening once the cuts within reach are about this many times those scored, or fewer.
WIDENING = 4
# Cuts scored at once: about 100 MB of temporaries, whatever the reach.
BLOCK = 1 << 20

Spans = list[tuple[float, float]]
Ints = NDArray[np.intp]
Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class Beats:
    """Beat times and the similarity codes of every pair, kept as the codec's lower triangle."""

    times: NDArray[np.float64]
    triangle: NDArray[np.int16]  # steps above the code minimum, row by row (triangle_index)

    @property
    def count(self) -> int:
        return self.times.size

    @cached_property
    def code_counts(self) -> NDArray[np.intp]:
        """How many triangle entries hold each code (0 .. max - min)."""
        # A block at a time: bincount widens what it counts to 8 bytes an entry (52 MB at 3600
        # beats in one piece, which cost 4x the time).
        size = int(self.triangle.max()) + 1
        counts = np.zeros(size, dtype=np.intp)
        for first in range(0, self.triangle.size, BLOCK):
            counts += np.bincount(self.triangle[first : first + BLOCK], minlength=size)
        return counts

    @cached_property
    def highest_code(self) -> int:
        """The code of the most similar cut (the diagonal, never a cut, left out)."""
        present = np.flatnonzero(_kept_code_counts(self, apart=1))
        return int(present[-1]) if present.size else 0

    def codes(self, ends: Ints, starts: Ints) -> NDArray[np.int16]:
        return self.triangle[triangle_indices(ends, starts)]


@dataclass(frozen=True)
class Cuts:
    """Cuts ends[i] -> starts[i] as parallel arrays, with their codes read once."""

    ends: Ints
    starts: Ints
    codes: NDArray[np.int16]

    @property
    def size(self) -> int:
        return self.ends.size

    def flat(self, beats: Beats) -> Ints:
        return self.ends * beats.count + self.starts

    def __getitem__(self, keep: Any) -> Cuts:
        return Cuts(self.ends[keep], self.starts[keep], self.codes[keep])


def _no_cuts() -> Cuts:
    return Cuts(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int16))


def _joined(parts: list[Cuts]) -> Cuts:
    return Cuts(
        np.concatenate([part.ends for part in parts]),
        np.concatenate([part.starts for part in parts]),
        np.concatenate([part.codes for part in parts]),
    )


@dataclass(frozen=True)
class Reach:
    """Where every cut that can score at least some floor lies: a span in one of `spans`, and a
    code of at least `lowest_code`."""

    spans: Spans
    lowest_code: int = 0


def best(scores: NDArray[Any], keys: Ints, count: int) -> Ints:
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


def best_cuts(
    beats: Beats,
    centres: list[float],
    score: Callable[[Cuts], NDArray[np.float64]],
    reach: Callable[[float], Reach],
    *,
    count: int,
    backward: bool = False,
) -> Cuts:
    """The `count` best cuts by `score`, best first, ties by flat index; the search starts at
    cuts whose span is near one of `centres` (`backward`: only cuts with s < e)."""
    widest = float(beats.times[-1] - beats.times[0])
    centres = [min(max(centre, -widest), widest) for centre in centres]
    width = widest / (beats.count - 1)
    while True:
        seeds = Reach([(centre - width, centre + width) for centre in centres])
        found, scores, scored = _best_within(beats, seeds, backward, score, count)
        if width > 2 * widest:  # the seeds were every cut
            return found
        if found.size == count:
            within = reach(float(scores[-1]))
            if _expected(beats, within, backward) <= WIDENING * scored:
                return _best_within(beats, within, backward, score, count)[0]
        width *= 2


def _best_within(
    beats: Beats,
    reach: Reach,
    backward: bool,
    score: Callable[[Cuts], NDArray[np.float64]],
    count: int,
) -> tuple[Cuts, NDArray[np.float64], int]:
    """The `count` best cuts in `reach`, best first, their scores, and how many were scored:
    a block at a time, so a wide reach costs time but not memory."""
    found, scores, scored = _no_cuts(), np.zeros(0), 0
    for block in _blocks(beats, reach, backward):
        found = _joined([found, block])
        scores = np.concatenate([scores, score(block)])
        top = best(scores, found.flat(beats), count)
        found, scores, scored = found[top], scores[top], scored + block.size
    return found, scores, scored


def _sizes(beats: Beats, reach: Reach, backward: bool) -> tuple[int, int]:
    """Upper bounds on the cuts in `reach`: those its spans allow, and those its code allows."""
    by_span = sum(int(counts.sum()) for _, counts in _rows(beats, reach.spans, backward))
    by_code = 2 * int(beats.code_counts[max(reach.lowest_code, 0) :].sum())
    return by_span, by_code


def _expected(beats: Beats, reach: Reach, backward: bool) -> float:
    """About how many cuts `reach` holds: those its spans allow, thinned by the share of codes it
    allows (either bound alone can be 10x the cuts that meet both)."""
    by_span, by_code = _sizes(beats, reach, backward)
    return by_span * min(by_code / (2 * beats.triangle.size), 1.0)


def cuts_within(beats: Beats, reach: Reach, backward: bool) -> Cuts:
    """Every cut in `reach` that leaves a non-empty first and last segment (e >= 1, s <= N - 2,
    s != e; `backward`: s < e)."""
    return _joined([_no_cuts(), *_blocks(beats, reach, backward)])


def _blocks(beats: Beats, reach: Reach, backward: bool) -> Iterator[Cuts]:
    """The cuts in `reach`, about BLOCK at a time, found from whichever of its bounds is the
    narrower: row by row within its spans, or from the triangle entries with its codes."""
    by_span, by_code = _sizes(beats, reach, backward)
    if by_code < by_span:
        entries = _row_starts(beats.count + 1)[1:]  # two cuts an entry, at most
        for first, stop in _split(2 * entries):
            cuts = _with_codes_from(beats, reach.lowest_code, first, stop)
            kept = _kept(beats.count, cuts.ends, cuts.starts, backward=backward)
            yield cuts[kept & _spanned(beats, cuts, reach.spans)]
        return
    rows = _rows(beats, reach.spans, backward)
    per_row = np.sum([counts for _, counts in rows], axis=0, dtype=np.intp)
    for first, stop in _split(per_row.cumsum()):
        ends, starts = [], []
        for firsts, counts in rows:
            block = counts[first:stop]
            ends.append(np.repeat(np.arange(first, stop), block))
            offsets = block.cumsum() - block - firsts[first:stop]
            starts.append(np.arange(block.sum()) - np.repeat(offsets, block))
        end, start = np.concatenate(ends), np.concatenate(starts)
        moved = start != end
        cuts = Cuts(end[moved], start[moved], beats.codes(end[moved], start[moved]))
        yield cuts[cuts.codes >= reach.lowest_code]


def _split(cumulative: Ints) -> list[tuple[int, int]]:
    """Row ranges holding about BLOCK each of a count whose running total is `cumulative`."""
    marks = np.arange(BLOCK, int(cumulative[-1]), BLOCK)
    ends = np.searchsorted(cumulative, marks) + 1
    edges = np.unique(np.concatenate([[0], ends, [cumulative.size]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges.tolist())]


def _rows(beats: Beats, spans: Spans, backward: bool) -> list[tuple[Ints, Ints]]:
    """For each span band, each row e's first s and how many follow, found by bisection."""
    t, n = beats.times, beats.count
    last_start = np.arange(n) if backward else np.full(n, n - 1)
    rows = []
    for low, high in _merged(spans):
        first = np.searchsorted(t, t - high, "left")
        stop = np.minimum(np.searchsorted(t, t - low, "right"), last_start)
        counts = np.maximum(stop - first, 0)
        counts[0] = 0
        rows.append((first, counts))
    return rows


def _merged(spans: Spans) -> Spans:
    """Overlapping spans joined, so no cut is found twice."""
    joined: Spans = []
    for low, high in sorted(spans):
        if joined and low <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], high))
        else:
            joined.append((low, high))
    return joined


def _with_codes_from(beats: Beats, lowest: int, first: int, stop: int) -> Cuts:
    """Every pair e != s in triangle rows first..stop whose code is at least `lowest`, both ways
    round."""
    row_starts = _row_starts(beats.count)
    offset = int(row_starts[first])
    end = int(row_starts[stop]) if stop < beats.count else beats.triangle.size
    positions = np.flatnonzero(beats.triangle[offset:end] >= lowest) + offset
    rows = np.searchsorted(row_starts, positions, "right") - 1
    cols = positions - row_starts[rows]
    codes = beats.triangle[positions]
    off_diagonal = rows != cols
    rows, cols, codes = rows[off_diagonal], cols[off_diagonal], codes[off_diagonal]
    return Cuts(np.concatenate([rows, cols]), np.concatenate([cols, rows]), np.tile(codes, 2))


def _kept(n: int, ends: Ints, starts: Ints, *, apart: int = 1, backward: bool = False) -> Mask:
    """Cuts that leave a non-empty first and last segment and move `apart` beats or more."""
    kept: Mask = (ends >= 1) & (starts <= n - 2) & (np.abs(ends - starts) >= apart)
    return kept & (starts < ends) if backward else kept


def _spanned(beats: Beats, cuts: Cuts, spans: Spans) -> Mask:
    span = beats.times[cuts.ends] - beats.times[cuts.starts]
    bands = _merged(spans)
    lows, highs = np.array([b[0] for b in bands]), np.array([b[1] for b in bands])
    band = np.searchsorted(lows, span, "right") - 1
    spanned: Mask = (band >= 0) & (span <= highs[np.maximum(band, 0)])
    return spanned


def _row_starts(n: int) -> Ints:
    rows = np.arange(n)
    return rows * (rows + 1) // 2


def most_similar(beats: Beats, count: int, apart: int) -> Cuts:
    """The `count` cuts with the highest codes whose ends are `apart` beats or more from each
    other, best first, ties by flat index. Counting codes finds the cut-off code. When a block of
    cuts or fewer reach it, they are read from the triangle; otherwise those above it are, and the
    ties at it, plentiful then, from the matrix's first rows, as many as needed."""
    n = beats.count
    counts = _kept_code_counts(beats, apart)
    at_least = counts[::-1].cumsum()[::-1]
    cutoff = int(np.flatnonzero(at_least >= count)[-1]) if at_least[0] >= count else 0
    few = at_least[cutoff] <= BLOCK
    above = _with_codes_from(beats, cutoff if few else cutoff + 1, 0, n)
    pool = [above[_kept(n, above.ends, above.starts, apart=apart)]]
    missing, first = 0 if few else count - pool[0].size, 0
    tied_per_row = max(counts[cutoff] / n, 1e-9)
    while missing > 0 and first < n:
        stop = min(n, first + max(8, int(2 * missing / tied_per_row)))
        ends, starts = np.arange(first, stop)[:, None], np.arange(n)[None, :]
        tied = (beats.codes(ends, starts) == cutoff) & _kept(n, ends, starts, apart=apart)
        flat = np.flatnonzero(tied)[:missing] + first * n
        pool.append(Cuts(flat // n, flat % n, np.full(flat.size, cutoff, dtype=np.int16)))
        missing, first = missing - flat.size, stop
    found = _joined(pool)
    return found[best(found.codes, found.flat(beats), count)]


def _kept_code_counts(beats: Beats, apart: int) -> NDArray[np.intp]:
    """How many cuts _kept admits with each code: each triangle entry is two cuts, less those
    under `apart` beats and the mirror images that would start at the end or end at the start."""
    n = beats.count
    size = beats.code_counts.size
    near = [beats.codes(np.arange(gap, n), np.arange(n - gap)) for gap in range(min(apart, n))]
    rows = np.arange(apart, n)
    from_start = beats.codes(rows, np.zeros_like(rows))
    cols = np.arange(1, n - apart)
    to_end = beats.codes(np.full_like(cols, n - 1), cols)
    counts: NDArray[np.intp] = (
        2 * beats.code_counts
        - 2 * np.bincount(np.concatenate(near), minlength=size)
        - np.bincount(np.concatenate([from_start, to_end]), minlength=size)
    )
    return counts
