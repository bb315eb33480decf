"""The section scores of segment_metrics, on cases small enough to work out by hand (the bench
checked them against mir_eval.segment on 300 random segmentations: equal to 1e-3)."""

from __future__ import annotations

import pytest

from tests.audio.segment_metrics import (
    hit_rate_f,
    label_distance_correlation,
    majority_labels,
    pairwise_f,
    spearman,
)

TRUTH = [(0.0, 10.0), (10.0, 20.0), (20.0, 30.0)]


def test_hit_rate_leaves_out_the_ends_and_matches_one_to_one() -> None:
    assert hit_rate_f(TRUTH, TRUTH, window=0.5) == 1.0
    # One estimate near both reference boundaries counts once: P = 1, R = 1/2.
    assert hit_rate_f(TRUTH, [(0.0, 15.0), (15.0, 30.0)], window=6.0) == pytest.approx(2 / 3)
    assert hit_rate_f(TRUTH, [(0.0, 12.0), (12.0, 30.0)], window=0.5) == 0.0
    assert hit_rate_f(TRUTH, [(0.0, 30.0)], window=3.0) == 0.0


def test_pairwise_f_counts_frames_labelled_alike() -> None:
    assert pairwise_f(TRUTH, "aba", TRUTH, [1, 2, 1]) == pytest.approx(1.0)
    # Everything one label: recall 1, precision = alike reference pairs / all pairs.
    frames = 300
    alike = 200 * 199 / 2 + 100 * 99 / 2
    precision = alike / (frames * (frames - 1) / 2)
    expected = 2 * precision / (precision + 1)
    assert pairwise_f(TRUTH, "aba", [(0.0, 30.0)], [0]) == pytest.approx(expected, abs=1e-3)


def test_majority_labels_and_the_label_correlation() -> None:
    estimated = [(0.0, 11.0), (11.0, 19.0), (19.0, 30.0)]
    assert majority_labels(TRUTH, "aba", estimated) == ["a", "b", "a"]
    assert label_distance_correlation([0, 1000, 0], ["a", "b", "a"]) == pytest.approx(1.0)
    assert label_distance_correlation([0, 0, 1000], ["a", "b", "a"]) < 0
    assert spearman([1, 2, 3], [3, 3, 3]) == 0.0
