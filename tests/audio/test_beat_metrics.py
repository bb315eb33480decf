"""The F-measure helper itself, so a broken metric cannot hide a broken beat tracker."""

from __future__ import annotations

import pytest

from tests.audio.beat_metrics import beat_f_measure

REFERENCE = [0.5, 1.0, 1.5, 2.0]


def test_perfect_match_scores_one() -> None:
    assert beat_f_measure(REFERENCE, REFERENCE) == 1.0


def test_estimates_within_the_window_count() -> None:
    assert beat_f_measure(REFERENCE, [t + 0.069 for t in REFERENCE]) == 1.0


def test_estimates_outside_the_window_do_not_count() -> None:
    assert beat_f_measure(REFERENCE, [t + 0.071 for t in REFERENCE]) == 0.0


def test_one_estimate_matches_one_reference_only() -> None:
    # Two estimates near one beat: one hit, the other is a false positive.
    score = beat_f_measure([1.0], [0.98, 1.02])
    assert score == pytest.approx(2 * 0.5 * 1.0 / 1.5)


def test_double_time_halves_precision() -> None:
    doubled = [t / 2 for t in range(1, 9)]  # 0.5 .. 4.0 every 0.5 s vs every 1 s reference
    score = beat_f_measure([1.0, 2.0, 3.0, 4.0], doubled)
    assert score == pytest.approx(2 * 0.5 * 1.0 / 1.5)


def test_empty_inputs_score_zero() -> None:
    assert beat_f_measure([], REFERENCE) == 0.0
    assert beat_f_measure(REFERENCE, []) == 0.0
