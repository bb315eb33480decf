"""The waveform summary the mock keeps from an analysis: small, and loud where the song is."""

from __future__ import annotations

import numpy as np

from mock_server.audio.peaks import PEAK_COUNT, peaks
from mock_server.audio.types import Audio


def test_a_song_is_summed_up_in_a_few_hundred_levels_loud_where_it_is_loud() -> None:
    rate = 8000  # 96,000 frames: 160 a span, the halves meeting between two spans
    quiet = np.full((rate * 6, 2), 0.1, dtype=np.float32)
    loud = np.full((rate * 6, 2), -0.8, dtype=np.float32)
    levels = peaks(Audio(np.concatenate([quiet, loud]), rate))
    assert len(levels) == PEAK_COUNT
    assert set(levels[: PEAK_COUNT // 2]) == {round(0.1 * 255)}
    assert set(levels[PEAK_COUNT // 2 :]) == {round(0.8 * 255)}


def test_a_song_shorter_than_the_summary_has_a_level_a_frame() -> None:
    assert peaks(Audio(np.array([[0.5], [1.0]], dtype=np.float32), 8000)) == bytes([128, 255])
