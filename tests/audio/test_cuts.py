"""The cut search against brute force on small songs: the ranking with its ties, the cuts a Reach
admits (found by span or by code, in blocks), the search that widens until it can prune, and the
most similar cuts."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from mock_server.audio import cuts
from mock_server.audio.cuts import Beats, Cuts, Reach, best, best_cuts, cuts_within, most_similar
from mock_server.audio.similarity import triangle_index, triangle_size
from tests.strategies import fixed


@st.composite
def songs(draw: st.DrawFn) -> Beats:
    """Beats on a half-second grid (spans compare exactly) with few codes (ties everywhere)."""
    n = draw(st.integers(2, 24))
    gaps = draw(st.lists(st.integers(1, 4), min_size=n - 1, max_size=n - 1))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    codes = rng.integers(0, draw(st.integers(1, 7)), triangle_size(n))
    times = np.array(list(itertools.accumulate([0, *gaps])), dtype=np.float64) / 2
    return Beats(times, codes.astype(np.int16))


def every_cut(beats: Beats, backward: bool = False, apart: int = 1) -> list[tuple[int, int]]:
    """Cuts leaving a first and last segment, in flat order."""
    n = beats.count
    return [
        (e, s)
        for e in range(1, n)
        for s in range(n - 1)
        if abs(e - s) >= apart and (s < e or not backward)
    ]


def code(beats: Beats, e: int, s: int) -> int:
    return int(beats.triangle[triangle_index(e, s)])


half_seconds = st.integers(-40, 40).map(lambda k: k / 2)


@fixed(120)
@given(
    scores=st.lists(st.integers(0, 3), max_size=40),
    count=st.integers(1, 12),
    data=st.data(),
)
def test_best_ranks_by_score_then_key(scores: list[int], count: int, data: st.DataObject) -> None:
    keys = data.draw(st.permutations(range(len(scores))))
    ranked = sorted(range(len(scores)), key=lambda k: (-scores[k], keys[k]))[:count]
    chosen = best(np.array(scores, dtype=np.float64), np.array(keys, dtype=np.intp), count)
    assert chosen.tolist() == ranked


@fixed(120)
@given(
    beats=songs(),
    spans=st.lists(st.tuples(half_seconds, half_seconds).map(sorted), min_size=1, max_size=3),
    lowest=st.integers(0, 7),
    backward=st.booleans(),
    block=st.sampled_from([cuts.BLOCK, 5]),
)
def test_cuts_within_finds_every_cut_in_reach_once(
    beats: Beats, spans: list[tuple[float, float]], lowest: int, backward: bool, block: int
) -> None:
    t = beats.times
    expected = [
        (e, s)
        for e, s in every_cut(beats, backward)
        if code(beats, e, s) >= lowest and any(low <= t[e] - t[s] <= high for low, high in spans)
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cuts, "BLOCK", block)
        found = cuts_within(beats, Reach([(low, high) for low, high in spans], lowest), backward)
    pairs = list(zip(found.ends.tolist(), found.starts.tolist(), strict=True))
    assert sorted(pairs) == expected
    assert found.codes.tolist() == [code(beats, e, s) for e, s in pairs]


@fixed(120)
@given(beats=songs(), centre=half_seconds, count=st.integers(1, 30), backward=st.booleans())
def test_best_cuts_are_the_best_of_every_cut(
    beats: Beats, centre: float, count: int, backward: bool
) -> None:
    """A score falling with the distance of the span from `centre` and with the code: the
    search, widening and pruning by its reach, finds what ranking every cut finds."""
    t, n = beats.times, beats.count

    def score(found: Cuts) -> NDArray[np.float64]:
        span = t[found.ends] - t[found.starts]
        scores: NDArray[np.float64] = -(np.abs(span - centre) + 0.1 * (6 - found.codes))
        return scores

    def reach(floor: float) -> Reach:  # each term at most -floor; 1e-6 for rounding
        slack = -floor + 1e-6
        return Reach([(centre - slack, centre + slack)], math.ceil(6 - 10 * slack))

    def brute(e: int, s: int) -> float:
        return float(-(abs(t[e] - t[s] - centre) + 0.1 * (6 - code(beats, e, s))))

    ranked = sorted(every_cut(beats, backward), key=lambda c: (-brute(*c), c[0] * n + c[1]))
    found = best_cuts(beats, [centre], score, reach, count=count, backward=backward)
    assert list(zip(found.ends.tolist(), found.starts.tolist(), strict=True)) == ranked[:count]


@fixed(120)
@given(beats=songs(), count=st.integers(1, 40), block=st.sampled_from([cuts.BLOCK, 3]))
def test_most_similar_are_the_highest_codes_ties_by_flat_index(
    beats: Beats, count: int, block: int
) -> None:
    n = beats.count
    ranked = sorted(every_cut(beats, apart=2), key=lambda c: (-code(beats, *c), c[0] * n + c[1]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cuts, "BLOCK", block)  # 3: ties read row by row, codes counted in pieces
        found = most_similar(beats, count, apart=2)
    assert list(zip(found.ends.tolist(), found.starts.tolist(), strict=True)) == ranked[:count]
    assert found.codes.tolist() == [code(beats, e, s) for e, s in ranked[:count]]
