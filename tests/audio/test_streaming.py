"""The analysis reads its source block by block: the same result as from decoded audio, in a
fraction of the decoded audio's memory, with a waveform summary drawn on the way."""

from __future__ import annotations

import io
import json
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from mock_server.audio.analysis import analyze, analyze_bytes, analyze_with_peaks
from mock_server.audio.decode import decode_audio
from mock_server.audio.peaks import peaks
from mock_server.audio.synth import FIXTURE_SONGS, SongSpec, song_bytes
from mock_server.audio.types import DecodeLimits

LIMITS = DecodeLimits()


def _wav(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_streamed_analysis_equals_the_analysis_of_decoded_audio(fmt: str) -> None:
    data = song_bytes(FIXTURE_SONGS["swing_96"], fmt)
    decoded = analyze(decode_audio(data), raw_features=True).to_json()
    assert json.dumps(analyze_bytes(data, True, LIMITS)) == json.dumps(decoded)


def test_blocks_that_do_not_split_into_whole_mono_samples_still_agree() -> None:
    """384 kHz averages 34 frames a mono sample, which 65536-frame blocks do not divide."""
    rate = 384_000
    time = np.arange(3 * rate) / rate
    clicks = (np.sin(2 * np.pi * 440 * time) * (time % 0.5 < 0.05) * 0.5).astype(np.float32)
    data = _wav(clicks, rate)
    decoded = analyze(decode_audio(data), raw_features=True).to_json()
    assert json.dumps(analyze_bytes(data, True, LIMITS)) == json.dumps(decoded)


def test_the_analysis_holds_a_fraction_of_the_decoded_song() -> None:
    """Two minutes of 44.1 kHz stereo decode to 42 MB of float32; the analysis keeps 11 kHz mono
    (5 MB) and a few MB of spectra at a time."""
    data = song_bytes(SongSpec(tempo_bpm=120, duration_seconds=120.0, seed=3), "wav")
    decoded_bytes = decode_audio(data).samples.nbytes
    tracemalloc.start()
    try:
        analyze_bytes(data, True, LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < decoded_bytes / 2


def test_the_waveform_summary_matches_the_one_drawn_from_decoded_audio() -> None:
    data = song_bytes(FIXTURE_SONGS["pop_120"], "mp3")
    result, levels = analyze_with_peaks(data, False, LIMITS)
    expected = peaks(decode_audio(data))
    assert result == analyze_bytes(data, False, LIMITS)
    assert len(levels) == len(expected)
    # Spans end on whole mono samples (4 frames here), so a peak on a span's edge may move.
    differing = sum(a != b for a, b in zip(levels, expected, strict=True))
    assert differing <= len(expected) // 50
