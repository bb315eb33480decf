"""The synth's structure options: irregular lengths, pickup bars, varied repeats and tempo drift,
each true to its ground truth, and none of them changing a song that does not ask for it."""

from __future__ import annotations

import numpy as np
import pytest

from mock_server.audio.synth import BEATS_PER_BAR, PICKUP, SongSpec, render_song

BASE = SongSpec(tempo_bpm=120, duration_seconds=16.0, seed=4, form=("verse", "chorus"))


def _window(samples: np.ndarray, start: float, seconds: float, rate: int = 44100) -> np.ndarray:
    return samples[round(start * rate) : round((start + seconds) * rate), 0]


def test_the_structure_options_at_their_defaults_render_the_same_samples() -> None:
    explicit = SongSpec(
        tempo_bpm=120,
        duration_seconds=16.0,
        seed=4,
        form=("verse", "chorus"),
        section_bars=(4,),
        pickup_bars=0,
        vary_repeats=False,
        tempo_drift=0.0,
    )
    base, same = render_song(BASE), render_song(explicit)
    assert np.array_equal(base.audio.samples, same.audio.samples)
    assert base.truth == same.truth


def test_each_section_lasts_its_own_bars_after_the_pickup() -> None:
    spec = SongSpec(
        tempo_bpm=120,
        duration_seconds=30.0,
        seed=4,
        form=("verse", "chorus", "bridge"),
        section_bars=(4, 6, 3),
        pickup_bars=1,
    )
    sections = render_song(spec).truth.sections
    bar = BEATS_PER_BAR * 0.5
    assert [s.label for s in sections] == [PICKUP, "verse", "chorus", "bridge", "verse"]
    lengths = [round((s.end - s.start) / bar, 6) for s in sections]
    assert lengths == [1, 4, 6, 3, 30.0 / bar - 14]


def test_pickup_bars_are_drums_alone() -> None:
    spec = SongSpec(tempo_bpm=120, duration_seconds=12.0, seed=4, pickup_bars=2)
    samples = render_song(spec).audio.samples
    pickup, verse = _window(samples, 0.0, 4.0), _window(samples, 4.0, 4.0)

    # No chord voice nor bass: far less energy below 400 Hz than in the verse after it.
    def low(part: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(part))
        return float(np.sum(spectrum[: 400 * part.size // 44100] ** 2))

    assert low(pickup) < 0.5 * low(verse)


def test_a_varied_repeat_differs_a_little_and_only_after_the_first() -> None:
    plain = render_song(SongSpec(tempo_bpm=120, duration_seconds=32.0, seed=4)).audio.samples
    varied = render_song(
        SongSpec(tempo_bpm=120, duration_seconds=32.0, seed=4, vary_repeats=True)
    ).audio.samples
    # The first verse and chorus (8 s each) alike but for the level the whole mix is scaled to.
    first = slice(0, 16 * 44100)
    scale = float(np.abs(varied[first]).max() / np.abs(plain[first]).max())
    assert np.allclose(plain[first] * scale, varied[first], atol=1e-5)
    repeat_plain, repeat_varied = _window(plain, 16.0, 16.0), _window(varied, 16.0, 16.0)
    assert not np.allclose(repeat_plain, repeat_varied)
    assert np.corrcoef(repeat_plain, repeat_varied)[0, 1] > 0.5


@pytest.mark.parametrize("drift", [0.1, -0.1])
def test_tempo_drift_moves_the_beat_and_the_sections_follow_it(drift: float) -> None:
    spec = SongSpec(
        tempo_bpm=120, duration_seconds=20.0, seed=4, tempo_drift=drift, lead_in_seconds=1.0
    )
    truth = render_song(spec).truth
    gaps = np.diff(truth.beat_times)
    assert truth.beat_times[0] == pytest.approx(1.0)
    assert (gaps[-1] < gaps[0]) == (drift > 0)
    assert gaps[-1] * 120 / 60 == pytest.approx(1 / (1 + drift), rel=0.02)
    beats = set(truth.beat_times)
    assert all(section.start in beats for section in truth.sections)


def test_structure_options_are_checked() -> None:
    with pytest.raises(ValueError, match="section_bars"):
        SongSpec(tempo_bpm=120, duration_seconds=10, seed=1, section_bars=(4, 0))
    with pytest.raises(ValueError, match="tempo_drift"):
        SongSpec(tempo_bpm=120, duration_seconds=10, seed=1, tempo_drift=2.0)
