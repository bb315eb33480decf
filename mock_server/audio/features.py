"""Per-beat descriptors: the raw_features embedding and the beat-by-beat self-similarity matrix.

Each beat is summarised by its 12 pitch-class energies (chroma), its timbre (40 log band energies)
and its loudness. The public embedding is chroma scaled so the strongest class is 1, followed by
loudness relative to the song's loudest beat (a 60 dB range mapped to [0, 1]).

Similarity blends chroma cosine and timbre correlation, averages along diagonals over a few beats
(so a beat scores high where its surroundings repeat too), then maps the values through their own
distribution: unrelated beats end near 0, true repeats near 1, and the whole code range is used.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mock_server.audio.spectral import FrameFeatures, product_on_this_thread
from mock_server.audio.types import FloatArray

LOUDNESS_RANGE_DB = 60.0
CONTEXT_BEATS = 2
# Rows of the similarity matrix whose context counts are worked out at a time.
CONTEXT_ROWS = 128
QUANTILES = 512


def _segment_means(frames: FloatArray, rate: float, starts: np.ndarray) -> FloatArray:
    """Mean of the frames inside each beat interval (at least the nearest frame)."""
    edges = np.clip(np.round(starts * rate).astype(np.int64), 0, frames.shape[0] - 1)
    ends = np.append(edges[1:], frames.shape[0])
    ends = np.maximum(ends, edges + 1)
    cumulative = np.vstack(
        [np.zeros((1, frames.shape[1])), np.cumsum(frames, axis=0, dtype=np.float64)]
    )
    sums = cumulative[ends] - cumulative[edges]
    return np.asarray(sums / (ends - edges)[:, None], dtype=np.float32)


def beat_descriptors(
    frames: FrameFeatures, starts: np.ndarray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(chroma, timbre, loudness) per beat starting at `starts` seconds."""
    chroma = _segment_means(frames.chroma, frames.chroma_rate, starts)
    timbre = _segment_means(frames.bands, frames.onset_rate, starts)
    loudness = _segment_means(frames.loudness[:, None], frames.onset_rate, starts)[:, 0]
    return chroma, timbre, loudness


def feature_vectors(chroma: FloatArray, loudness: FloatArray) -> list[list[float]]:
    """13 values per beat in [0, 1], largest exactly 1, written as float32s (as in the reference's
    example)."""
    # The floor makes a silent beat's chroma flat (all ones) rather than all zeros.
    floor = 1e-6 * float(chroma.max(initial=0.0)) + 1e-30
    scaled_chroma = (chroma + floor) / (chroma.max(axis=1, keepdims=True) + floor)
    decibels = 20 * np.log10(np.maximum(loudness, 1e-12) / max(float(loudness.max()), 1e-12))
    level = np.clip(1.0 + decibels / LOUDNESS_RANGE_DB, 0.0, 1.0)
    vectors = np.hstack([scaled_chroma, level[:, None]])
    vectors = vectors / np.maximum(vectors.max(axis=1, keepdims=True), 1e-12)
    rounded = np.round(vectors, 3).astype(np.float32)
    return [[float(v) for v in row] for row in rounded]


def _cosine(vectors: NDArray[np.float64]) -> NDArray[np.float64]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.maximum(norms, 1e-12)
    cosine = np.empty((unit.shape[0], unit.shape[0]))
    product_on_this_thread(unit, unit.T, cosine)
    return cosine


def _diagonal_context(matrix: NDArray[np.float64], radius: int) -> NDArray[np.float64]:
    """Average S[i+k, j+k] over k in [-radius, radius]: a repeat is a run, not a single beat.

    How many k reach (i, j) follows from the indices, so it is computed for a band of rows at a
    time rather than counted in a second N x N array (12 MB at 1200 beats).
    """
    n = matrix.shape[0]
    total = np.zeros_like(matrix)
    for k in range(-radius, radius + 1):
        lo, hi = max(0, -k), min(n, n - k)
        total[lo:hi, lo:hi] += matrix[lo + k : hi + k, lo + k : hi + k]
    index = np.arange(n)
    for start in range(0, n, CONTEXT_ROWS):
        rows = index[start : start + CONTEXT_ROWS]
        nearest, farthest = np.minimum.outer(rows, index), np.maximum.outer(rows, index)
        reach = np.minimum(radius, n - 1 - farthest) - np.maximum(-radius, -nearest) + 1
        total[start : start + CONTEXT_ROWS] /= reach
    return total


def _spread(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Map off-diagonal values through their empirical distribution to fill [0, 1].

    Only the lower triangle is mapped, then mirrored: the codec stores only that triangle, and
    the input is symmetric (to rounding), so this is half the lookups and no N x N index arrays.
    """
    n = matrix.shape[0]
    if n < 2:
        return np.ones_like(matrix)
    below = [matrix[row, :row] for row in range(n)]  # row by row, as np.tril_indices orders
    values = np.concatenate(below)
    levels = np.quantile(values, np.linspace(0.0, 1.0, QUANTILES))
    mapped = np.interp(values, levels, np.linspace(0.0, 1.0, QUANTILES))
    spread = np.empty_like(matrix)
    start = 0
    for row in range(n):
        spread[row, :row] = spread[:row, row] = mapped[start : start + row]
        start += row
    np.fill_diagonal(spread, 1.0)
    return spread


def similarity_matrix(chroma: FloatArray, timbre: FloatArray) -> NDArray[np.float64]:
    """N x N beat similarity in [0, 1] with ones on the diagonal.

    The N x N steps work in place (same arithmetic, same order): at 1200 beats (10 minutes at
    120 BPM) each such array is 12 MB, and they were the analysis's peak memory.
    """
    blended = _cosine(chroma.astype(np.float64))
    blended *= 0.5
    centred = timbre.astype(np.float64) - timbre.mean(axis=0)
    centred /= np.maximum(centred.std(axis=0), 1e-9)
    colour = _cosine(centred)
    colour += 1.0
    colour /= 2.0
    colour *= 0.5
    blended += colour
    del colour
    return _spread(_diagonal_context(blended, CONTEXT_BEATS))
