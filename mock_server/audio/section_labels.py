"""Which sections are alike, and numbers for them on one line where alike means near.

Two sections are compared the way a repeat shows in a self-similarity matrix: as a stripe parallel
to the diagonal. Their score is the best mean along such a stripe, starting both at their starts
and allowing a beat or two of slack (a boundary found a beat late still aligns), over the shorter
section's length. That is the path-based view of repetition (Paulus, Müller and Klapuri, "Audio-
based music structure analysis", ISMIR 2010); a block's plain mean would score a verse against
itself lower than its own bars against each other differ.

Sections are then grouped by average-linkage agglomerative clustering, stopping where the closest
groups are no longer alike (a fixed threshold on the stripe score, which the similarity codec's
quantile spread puts on one scale for every song). Each group's number comes from classical MDS
(Torgerson) of the group-to-group distances onto one dimension, blended with the groups' rank on
that line so two groups never share a number, then scaled onto 0..1000.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# A stripe mean at or above this is "the same section again". The codec spreads a song's
# similarities over [0, 1] by their own distribution, so repeats score near 1 on every song and
# unrelated beats near 0.5 on average.
SAME_SECTION = 0.88
# Beats of slack either way when aligning two sections' stripes.
ALIGN_SLACK = 2
LABEL_MAX = 1000


def diagonal_sums(similarity: NDArray[np.float64]) -> NDArray[np.float64]:
    """Running sums along every diagonal: entry (i, j) of the (N+1)-square result is the sum of
    similarity[i - t, j - t] for t = 1..min(i, j), so any stripe's sum is two lookups."""
    n = similarity.shape[0]
    sums = np.zeros((n + 1, n + 1))
    sums[1:, 1:] = similarity
    for row in range(1, n + 1):
        sums[row, 1:] += sums[row - 1, :-1]
    return sums


def section_similarity(
    similarity: NDArray[np.float64], spans: list[tuple[int, int]]
) -> NDArray[np.float64]:
    """Symmetric section-by-section stripe scores (beat index ranges, end exclusive), ones on
    the diagonal: for each ordered pair, the best mean of similarity[a + t, b + t] over the
    shorter section's length, a at the first one's start and b within ALIGN_SLACK beats of the
    second one's."""
    n = similarity.shape[0]
    sums = diagonal_sums(similarity)
    starts = np.array([start for start, _ in spans])
    lengths = np.array([end - start for start, end in spans])
    first, second = np.divmod(np.arange(starts.size * starts.size), starts.size)
    best = np.zeros(first.size)
    for shift in range(-ALIGN_SLACK, ALIGN_SLACK + 1):
        a, b = starts[first], starts[second] + shift
        length = np.minimum(np.minimum(lengths[first], lengths[second]), n - b)
        valid = (b >= 0) & (length > 0)
        a, b, length = a[valid], b[valid], length[valid]
        means = (sums[a + length, b + length] - sums[a, b]) / length
        best[valid] = np.maximum(best[valid], means)
    scores = best.reshape(starts.size, starts.size)
    scores = np.maximum(scores, scores.T)
    np.fill_diagonal(scores, 1.0)
    return scores


def cluster_sections(scores: NDArray[np.float64]) -> list[int]:
    """Average-linkage groups of sections whose mean stripe score stays at or above SAME_SECTION;
    groups numbered in order of first appearance.

    The group-to-group means are updated as groups merge (Lance and Williams' formula for
    average linkage), so a song of k sections costs k merges of O(k^2), not a rescan of pairs.
    """
    count = scores.shape[0]
    linkage = scores.astype(np.float64, copy=True)
    np.fill_diagonal(linkage, -np.inf)
    sizes = np.ones(count)
    alive = np.ones(count, dtype=bool)
    owner = np.arange(count)
    while alive.sum() > 1:
        masked = np.where(alive[:, None] & alive[None, :], linkage, -np.inf)
        keep, merged = divmod(int(np.argmax(masked)), count)
        if masked[keep, merged] < SAME_SECTION:
            break
        keep, merged = min(keep, merged), max(keep, merged)
        row = (sizes[keep] * linkage[keep] + sizes[merged] * linkage[merged]) / (
            sizes[keep] + sizes[merged]
        )
        linkage[keep], linkage[:, keep] = row, row
        linkage[keep, keep] = -np.inf
        sizes[keep] += sizes[merged]
        alive[merged] = False
        owner[owner == merged] = keep
    numbers: dict[int, int] = {}
    return [numbers.setdefault(int(group), len(numbers)) for group in owner]


def group_positions(scores: NDArray[np.float64], cluster: list[int]) -> list[int]:
    """Each group's number in 0..LABEL_MAX, alike groups near: the first coordinate of classical
    MDS on the groups' mean distances (1 - stripe score), half by value and half by rank, turned
    so the first section's group lies at the low end."""
    count = max(cluster) + 1
    if count == 1:
        return [0]
    members = [[i for i, c in enumerate(cluster) if c == g] for g in range(count)]
    distance = np.array(
        [
            [1.0 - float(scores[np.ix_(p, q)].mean()) if p != q else 0.0 for q in members]
            for p in members
        ]
    )
    # Torgerson's double centring of the squared distances; the top eigenvector is the line.
    squared = distance**2
    centring = np.eye(count) - 1.0 / count
    gram = -0.5 * centring @ squared @ centring
    values, vectors = np.linalg.eigh(gram)
    line = vectors[:, -1] * np.sqrt(max(float(values[-1]), 0.0))
    if line[cluster[0]] > line.mean():
        line = -line
    span = float(line.max() - line.min())
    by_value = (line - line.min()) / span if span > 1e-12 else np.zeros(count)
    order = np.argsort(line, kind="stable")
    by_rank = np.empty(count)
    by_rank[order] = np.arange(count) / (count - 1)
    return [round(LABEL_MAX * (0.5 * v + 0.5 * r)) for v, r in zip(by_value, by_rank, strict=True)]
