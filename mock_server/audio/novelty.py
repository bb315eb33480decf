"""Where sections change: novelty of the structural features (Serrà, Müller, Grosche and Arcos,
"Unsupervised music structure annotation by time series structure features and segment
similarity", IEEE Trans. Multimedia 2014).

The beat self-similarity of a song shows its repeats as stripes parallel to the diagonal, and
little else: within a section the beats differ (a kick beat against a snare beat, one bar's chord
against the next), so a section is not a bright block and block-based novelty (Foote's
checkerboard) finds bars, not sections. What does change at a section boundary is *where else the
music repeats*: the beats of a first verse repeat 32 beats later, the chorus after it 32 and 64
beats later, the bridge nowhere. Structural features are exactly that: each beat's row of the
recurrence plot re-indexed by lag (the circular time-lag matrix), smoothed, and a boundary is a
beat whose lag row differs from the one before. It also finds the boundary between two adjacent
repeats of one section (verse, verse), which no block method can.

Steps: path enhancement (the similarity averaged along the diagonal over a bar either way), a
binary recurrence plot of mutual nearest neighbours (a repeat is among a beat's best matches and
the other way round), the circular time-lag matrix, a Gaussian smoothing over time (and a beat of
slack in lag), the distance between consecutive rows, and peak picking: a peak must clear its
surroundings' median by a share of the curve's spread, and lie at least a bar from a stronger one.

The smoothing that makes the peaks reliable also moves them: on the synthetic bench songs they
landed one to four beats from the true change (hit rate F at 0.5 s 0.10), often as a pair, one
either side. So each peak is then refined at beat level (as McFee and Ellis 2014 place boundaries
on beats): it moves, by at most a bar, to the beat where the time-lag rows of the recurrence of
the *unsmoothed* similarity differ most between the two bars after it and the two bars before,
each window kept CONTEXT_BEATS clear of the beat. The analysis averages the similarity over
CONTEXT_BEATS either way along the diagonal, so a stripe fades in over that many beats each side
of its start, and in the fade no beat has clear neighbours; windows that skip the fade compare
clean rows, and their difference peaks on the change itself (bench: hit rate F at 0.5 s 0.42, the
other scores up too). A similarity without that fade (a sharp stripe, which the analysis never
makes) gives a flat top CONTEXT_BEATS wide instead, and a boundary anywhere on it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mock_server.audio.features import CONTEXT_BEATS

# Path enhancement: the similarity averaged along the diagonal over this many beats either way.
PATH_BEATS = 2
# Beats this close to the diagonal are the beat itself, never a repeat.
SELF_BEATS = 4
# Nearest neighbours kept per beat in the recurrence plot, as a share of the beats (at least 3).
NEIGHBOURS = 0.03
# Gaussian deviation over time of the lag rows, in beats.
TIME_SIGMA_BEATS = 2.0
# Peaks closer than this (in beats) to a stronger one are one boundary.
MIN_GAP_BEATS = 4
# The moving median that a peak must clear, and by how much of the curve's spread.
BASELINE_BEATS = 32
PEAK_SPREAD = 1.0
# Refinement: a boundary moves at most this many beats (a bar of 4/4), and the rows compared each
# side of a beat span this many (two bars: one bar scored alike on the bench songs, but put some
# of the test songs' sections together worse).
REFINE_BEATS = 4
REFINE_WINDOW_BEATS = 8


def path_enhanced(similarity: NDArray[np.float64], radius: int) -> NDArray[np.float64]:
    """The lesser of each entry's forward and backward diagonal means over `radius` beats.

    A plain centred mean smears a stripe `radius` beats past both its ends, and the novelty then
    peaks on either side of a boundary instead of on it; the lesser of the two one-sided means
    ends a stripe where it ends (the forward-backward smoothing of Müller and Kurth, 2006).
    """
    n = similarity.shape[0]
    sides = []
    for direction in (1, -1):
        total = np.zeros_like(similarity)
        count = np.zeros_like(similarity)
        for step in range(radius + 1):
            k = direction * step
            lo, hi = max(0, -k), min(n, n - k)
            total[lo:hi, lo:hi] += similarity[lo + k : hi + k, lo + k : hi + k]
            count[lo:hi, lo:hi] += 1.0
        sides.append(total / count)
    enhanced: NDArray[np.float64] = np.minimum(sides[0], sides[1])
    return enhanced


def recurrence(
    similarity: NDArray[np.float64], neighbours: int, self_beats: int
) -> NDArray[np.float64]:
    """Mutual nearest neighbours, weighted: (i, j) recur when each is among the other's
    `neighbours` best matches (beats within `self_beats` of each other excluded), with the weight
    exp(-(1 - s) / sigma), sigma the median of 1 - s over the kept pairs (the affinity of McFee
    and Ellis 2014): a neighbour kept only for lack of a better one weighs little."""
    n = similarity.shape[0]
    index = np.arange(n)
    scores = similarity.copy()
    scores[np.abs(index[:, None] - index[None, :]) < self_beats] = -np.inf
    neighbours = min(neighbours, n - 1)
    kth = np.partition(scores, n - neighbours, axis=1)[:, n - neighbours]
    close = (scores >= kth[:, None]) & np.isfinite(scores)
    close &= close.T
    if not close.any():
        return np.zeros_like(similarity)
    distance = 1.0 - similarity
    sigma = max(float(np.median(distance[close])), 1e-3)
    weights: NDArray[np.float64] = np.where(close, np.exp(-distance / sigma), 0.0)
    return weights


def time_lag(plot: NDArray[np.float64]) -> NDArray[np.float64]:
    """The circular time-lag matrix: row i, column l says whether beat i recurs at beat i + l
    mod N, so a repeated section is a vertical run in one column instead of a diagonal."""
    n = plot.shape[0]
    index = np.arange(n)
    lag: NDArray[np.float64] = plot[index[:, None], (index[:, None] + index[None, :]) % n]
    return lag


def structure_features(plot: NDArray[np.float64], sigma: float) -> NDArray[np.float64]:
    """The time-lag matrix smoothed by a Gaussian over time and a three-tap average over lag."""
    n = plot.shape[0]
    lag = time_lag(plot)
    lag = (np.roll(lag, 1, axis=1) + lag + np.roll(lag, -1, axis=1)) / 3.0
    radius = max(1, round(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    padded = np.pad(lag, ((radius, radius), (0, 0)), mode="edge")
    smoothed: NDArray[np.float64] = np.zeros(lag.shape)
    for k, tap in enumerate(taps):
        smoothed += tap * padded[k : k + n]
    return smoothed


def novelty_curve(features: NDArray[np.float64]) -> NDArray[np.float64]:
    """Entry i: how far beat i's structure features are from beat i - 1's (0 at i = 0)."""
    curve = np.zeros(features.shape[0])
    curve[1:] = np.sum(np.diff(features, axis=0) ** 2, axis=1)
    return curve


def novelty_peaks(curve: NDArray[np.float64], min_gap: int, baseline: int) -> list[int]:
    """Indices of the curve's salient peaks, strongest first claimed, at least `min_gap` apart
    and never within `min_gap` of either end."""
    n = curve.size
    if n < 2 * min_gap + 1:
        return []
    spread = float(curve.std())
    if spread <= 1e-9:
        return []
    half = baseline // 2
    padded = np.pad(curve, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    floor = np.median(windows, axis=1)[:n] + PEAK_SPREAD * spread
    candidates = [
        i
        for i in range(min_gap, n - min_gap + 1)
        if curve[i] > floor[i] and curve[i] == curve[max(0, i - 1) : i + 2].max()
    ]
    chosen: list[int] = []
    for i in sorted(candidates, key=lambda index: (-curve[index], index)):
        if all(abs(i - j) >= min_gap for j in chosen):
            chosen.append(i)
    return sorted(chosen)


def window_novelty(lag: NDArray[np.float64], gap: int, width: int) -> NDArray[np.float64]:
    """Entry i: the squared distance between the mean rows of beats [i + gap, i + gap + width)
    and [i - gap - width, i - gap); -inf where either window runs off the song."""
    n = lag.shape[0]
    sums = np.zeros((n + 1, lag.shape[1]))
    np.cumsum(lag, axis=0, out=sums[1:])
    curve = np.full(n, -np.inf)
    index = np.arange(gap + width, n - gap - width + 1)
    after = sums[index + gap + width] - sums[index + gap]
    before = sums[index - gap] - sums[index - gap - width]
    curve[index] = np.sum((after - before) ** 2, axis=1) / width**2
    return curve


def refined_starts(
    starts: list[int], curve: NDArray[np.float64], radius: int, min_gap: int
) -> list[int]:
    """Each start moved to the highest point of `curve` within `radius` (left where the curve
    has no value there); starts that land within `min_gap` of one on a higher point are one."""
    moved = []
    for start in starts:
        lo, hi = max(0, start - radius), min(curve.size, start + radius + 1)
        window = curve[lo:hi]
        moved.append(lo + int(np.argmax(window)) if np.isfinite(window).any() else start)
    chosen: list[int] = []
    for i in sorted(set(moved), key=lambda index: (-curve[index], index)):
        if all(abs(i - j) >= min_gap for j in chosen):
            chosen.append(i)
    return sorted(chosen)


def section_starts(similarity: NDArray[np.float64], beats_per_frame: int) -> list[int]:
    """Frame indices where a new section starts (never 0), frames being `beats_per_frame` beats."""
    n = similarity.shape[0]

    def frames(beats: float) -> int:
        return max(1, round(beats / beats_per_frame))

    neighbours, self_frames = max(3, round(NEIGHBOURS * n)), frames(SELF_BEATS)
    enhanced = path_enhanced(similarity, frames(PATH_BEATS))
    plot = recurrence(enhanced, neighbours, self_frames)
    features = structure_features(plot, max(0.5, TIME_SIGMA_BEATS / beats_per_frame))
    min_gap = frames(MIN_GAP_BEATS)
    peaks = novelty_peaks(novelty_curve(features), min_gap, baseline=frames(BASELINE_BEATS))
    sharp = window_novelty(
        time_lag(recurrence(similarity, neighbours, self_frames)),
        gap=frames(CONTEXT_BEATS),
        width=frames(REFINE_WINDOW_BEATS),
    )
    return refined_starts(peaks, sharp, radius=frames(REFINE_BEATS), min_gap=min_gap)
