"""Section scores as mir_eval.segment computes them, without mir_eval (a bench dependency):
boundary hit rate F within a window, pairwise frame clustering F, and the label-distance
correlation the structure bench reports. Intervals are (start, end) seconds tiling the song."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

Intervals = Sequence[tuple[float, float]]
FRAME_SECONDS = 0.1


def _f(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def hit_rate_f(reference: Intervals, estimated: Intervals, window: float) -> float:
    """F of the boundaries matched one-to-one within `window` s, the first and last boundary
    (the song's start and end) left out as mir_eval's trim=True does; matching is a maximum
    bipartite matching (Kuhn's augmenting paths), as mir_eval's."""
    ref = [start for start, _ in reference][1:]
    est = [start for start, _ in estimated][1:]
    if not ref or not est:
        return 0.0
    near = [[e for e, time in enumerate(est) if abs(time - r) <= window] for r in ref]
    owner: dict[int, int] = {}

    def augment(r: int, seen: set[int]) -> bool:
        for e in near[r]:
            if e not in seen:
                seen.add(e)
                if e not in owner or augment(owner[e], seen):
                    owner[e] = r
                    return True
        return False

    hits = sum(augment(r, set()) for r in range(len(ref)))
    return _f(hits / len(est), hits / len(ref))


def _frame_labels(intervals: Intervals, labels: Sequence[Hashable], end: float) -> list[Hashable]:
    starts = np.array([start for start, _ in intervals])
    times = np.arange(0.0, end, FRAME_SECONDS)
    return [labels[int(i)] for i in np.searchsorted(starts, times, side="right") - 1]


def pairwise_f(
    reference: Intervals,
    reference_labels: Sequence[Hashable],
    estimated: Intervals,
    estimated_labels: Sequence[Hashable],
) -> float:
    """F of the pairs of 0.1 s frames labelled alike: precision over the estimate's alike pairs,
    recall over the reference's, frames taken up to the reference's end."""
    end = reference[-1][1]
    ref = _frame_labels(reference, reference_labels, end)
    est = _frame_labels(estimated, estimated_labels, end)
    ref_codes = np.unique(np.array([str(label) for label in ref]), return_inverse=True)[1]
    est_codes = np.unique(np.array([str(label) for label in est]), return_inverse=True)[1]
    ref_alike = np.equal.outer(ref_codes, ref_codes)
    est_alike = np.equal.outer(est_codes, est_codes)
    frames = len(ref)
    both = (np.sum(ref_alike & est_alike) - frames) / 2
    ref_pairs = (np.sum(ref_alike) - frames) / 2
    est_pairs = (np.sum(est_alike) - frames) / 2
    if ref_pairs == 0 or est_pairs == 0:
        return 0.0
    return _f(float(both / est_pairs), float(both / ref_pairs))


def majority_labels(
    reference: Intervals, reference_labels: Sequence[Hashable], estimated: Intervals
) -> list[Hashable]:
    """For each estimated interval, the reference label it overlaps longest."""
    found = []
    for start, end in estimated:
        overlaps = [
            max(0.0, min(end, ref_end) - max(start, ref_start)) for ref_start, ref_end in reference
        ]
        found.append(reference_labels[int(np.argmax(overlaps))])
    return found


def _ranks(values: Sequence[float]) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    array = np.asarray(values, dtype=np.float64)
    for value in np.unique(array):  # ties share their mean rank
        ranks[array == value] = ranks[array == value].mean()
    return ranks


def spearman(first: Sequence[float], second: Sequence[float]) -> float:
    """Spearman's rank correlation (ties ranked by their mean); 0 when either side is constant."""
    a, b = _ranks(first), _ranks(second)
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def label_distance_correlation(labels: Sequence[int], content: Sequence[Hashable]) -> float:
    """Spearman between |label_i - label_j| and the content distance (0 when the two sections
    are the same kind of section, 1 otherwise) over every pair of sections."""
    pairs = [(i, j) for i in range(len(labels)) for j in range(i)]
    gaps = [float(abs(labels[i] - labels[j])) for i, j in pairs]
    distances = [0.0 if content[i] == content[j] else 1.0 for i, j in pairs]
    return spearman(gaps, distances)
