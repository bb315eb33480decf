"""Beat-tracking accuracy as mir_eval scores it: one-to-one matching within a window, then F."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

F_MEASURE_WINDOW = 0.07


def beat_f_measure(
    reference: Sequence[float], estimated: Sequence[float], window: float = F_MEASURE_WINDOW
) -> float:
    """F = 2PR / (P + R), each estimate matching at most one reference beat within `window` s.

    Matching is greedy by distance over the pairs inside the window. When reference beats are
    more than two windows apart (any tempo under 428 BPM), each estimate has at most one candidate,
    so greedy matching is the maximum matching mir_eval computes.
    """
    if not reference or not estimated:
        return 0.0
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimated, dtype=np.float64)
    distance = np.abs(ref[:, None] - est[None, :])
    rows, cols = np.nonzero(distance <= window)
    order = np.argsort(distance[rows, cols], kind="stable")
    used_ref: set[int] = set()
    used_est: set[int] = set()
    for r, e in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if r not in used_ref and e not in used_est:
            used_ref.add(r)
            used_est.add(e)
    hits = len(used_ref)
    if hits == 0:
        return 0.0
    precision, recall = hits / est.size, hits / ref.size
    return 2 * precision * recall / (precision + recall)
