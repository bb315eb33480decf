"""Odd but readable audio: an analysis or one clear decode error, never an exception or bare NaN.

Regression tests for a bad-input review: test tones crashed beat tracking (a negative period from
an unbounded interpolation step), a 50 Hz sample rate did too, NaN samples leaked into the JSON,
and nothing capped decoded samples (8 channels at 384 kHz are 32 times 48 kHz stereo).
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from mock_server.audio import decode
from mock_server.audio.analysis import analyze, analyze_bytes
from mock_server.audio.beats import (
    MAX_BPM,
    MIN_BPM,
    PRIOR_BPM,
    _peak_lag,
    estimate_period,
    track_beats,
)
from mock_server.audio.decode import MIN_SAMPLE_RATE, decode_audio
from mock_server.audio.errors import AudioDecodeError
from mock_server.audio.resize import parse_resize_input, resize_candidates
from mock_server.audio.similarity import encode_similarity
from mock_server.audio.synth import SongSpec, song_bytes
from mock_server.audio.types import Audio, DecodeLimits, FloatArray
from mock_server.jobs.payloads import candidates_json
from tests.forged_audio import wav_claiming

SPEC = SongSpec(tempo_bpm=120, duration_seconds=4.0, seed=11)
STEREO_SAMPLES = 4 * 44100 * 2
LIMITS = DecodeLimits()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(document: Any) -> Any:
    """Round-trip as a strict parser (JSON.parse) would: NaN and Infinity are refused."""
    return json.loads(json.dumps(document), parse_constant=_refuse_constant)


def sound_file(samples: Any, rate: int, fmt: str = "WAV", subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def tone(seconds: float, rate: int, hertz: float) -> FloatArray:
    return (0.3 * np.sin(2 * np.pi * hertz * np.arange(int(seconds * rate)) / rate)).astype(
        np.float32
    )


def assert_evenly_spaced_at_the_fallback_tempo(result: dict[str, Any]) -> None:
    boundaries = result["boundaries"]
    assert result["tempo"] == PRIOR_BPM
    assert boundaries == [round(0.5 * k, 2) for k in range(len(boundaries))]
    assert boundaries[-1] < result["duration"] <= boundaries[-1] + 0.5


# --- beatless signals: the fallback tempo, never an exception ---------------------------------


@pytest.mark.parametrize(
    ("hertz", "rate", "seconds"),
    [
        (1000, 44100, 5),
        (440, 8000, 3),
        (440, 8000, 4),
        (440, 8000, 5),
        (440, 8000, 6),
        (440, 48000, 3),
        (1000, 22050, 3),
    ],
)
def test_a_test_tone_gets_the_fallback_tempo(hertz: int, rate: int, seconds: int) -> None:
    """These crashed with IndexError: estimate_period returned a negative period."""
    result = strict_json(analyze_bytes(sound_file(tone(seconds, rate, hertz), rate), True, LIMITS))
    assert_evenly_spaced_at_the_fallback_tempo(result)
    assert len(result["features"]) == len(result["boundaries"])


@pytest.mark.parametrize("rate", [8000, 44100])
def test_digital_silence_gets_boundaries_a_resize_can_use(rate: int) -> None:
    result = strict_json(analyze_bytes(sound_file(np.zeros(10 * rate), rate), True, LIMITS))
    assert_evenly_spaced_at_the_fallback_tempo(result)
    assert len(result["boundaries"]) == 20
    request = parse_resize_input(result["similarity"], result["boundaries"], 5)
    candidates = resize_candidates(request)
    assert candidates
    strict_json(candidates_json(candidates))


def test_a_lone_click_is_beatless_too() -> None:
    samples = np.zeros(5 * 44100, np.float32)
    samples[2 * 44100] = 0.9
    result = strict_json(analyze(Audio(samples[:, None], 44100), raw_features=True).to_json())
    assert_evenly_spaced_at_the_fallback_tempo(result)


def test_peak_interpolation_stays_within_half_a_frame() -> None:
    """A nearly straight autocorrelation put the parabola's vertex 1000 frames away."""
    straight = np.array([0.0, 1.0, 0.9, 0.7999, 0.0])
    assert _peak_lag(straight, 2) == 1.5
    assert _peak_lag(straight[::-1].copy(), 2) == 2.5
    assert _peak_lag(np.array([0.0, 0.5, 0.5, 0.5, 0.0]), 2) == 2.0  # flat: not concave
    assert _peak_lag(np.array([0.0, 0.2, 0.3, 0.6, 0.0]), 2) == 2.0  # convex: no peak
    assert _peak_lag(np.array([0.0, 0.8, 1.0, 0.9, 0.0]), 2) == pytest.approx(2.1666667)


@pytest.mark.parametrize("rate", [62.5, 86.1328125, 93.75])
def test_estimate_period_is_none_or_inside_the_tempo_range(rate: float) -> None:
    rng = np.random.default_rng(7)
    lo = max(2, int(rate * 60.0 / MAX_BPM))
    hi = int(np.ceil(rate * 60.0 / MIN_BPM))
    envelopes = [np.zeros(400), np.ones(400), np.linspace(0, 1, 400), np.linspace(1, 0, 400)]
    envelopes += [rng.random(size) ** power for size in (3, 30, 200, 500) for power in (1, 8)]
    for envelope in envelopes:
        period = estimate_period(envelope.astype(np.float32), rate)
        assert period is None or lo - 0.5 <= period <= hi + 0.5
    assert estimate_period(np.zeros(400, np.float32), rate) is None


@pytest.mark.parametrize("size", [0, 1, 5, 13, 40, 200])
def test_track_beats_answers_for_any_envelope_length(size: int) -> None:
    onset = np.random.default_rng(size).random(size).astype(np.float32)
    track = track_beats(onset, 86.1328125)
    assert np.isfinite(track.tempo_bpm) and track.tempo_bpm > 0
    assert all(np.isfinite(track.beat_times))


# --- sample rates too low to analyse ----------------------------------------------------------


@pytest.mark.parametrize("rate", [50, 4000, MIN_SAMPLE_RATE - 1])
def test_a_sample_rate_below_the_minimum_is_refused_by_name(rate: int) -> None:
    """A 50 Hz file crashed beat tracking: its onset envelope had 0.4 frames a second."""
    data = sound_file(np.full(6 * rate, 0.1), rate)
    with pytest.raises(AudioDecodeError, match=f"sample rate is {rate} Hz") as refusal:
        analyze_bytes(data, True, LIMITS)
    assert f"{MIN_SAMPLE_RATE} Hz minimum" in refusal.value.message


def test_the_minimum_sample_rate_itself_is_accepted() -> None:
    audio = decode_audio(sound_file(tone(3, MIN_SAMPLE_RATE, 440), MIN_SAMPLE_RATE))
    assert audio.sample_rate == MIN_SAMPLE_RATE


# --- non-finite samples -------------------------------------------------------------------------


def poisoned(seconds: float, rate: int) -> FloatArray:
    """A tone with runs of NaN, infinities and values far outside [-1, 1]."""
    samples = tone(seconds, rate, 440)
    samples[1000:1100] = np.nan
    samples[2000:2010] = np.inf
    samples[3000:3010] = -np.inf
    samples[4000:4010] = 1e30
    samples[5000:5010] = -2.5
    return samples


@pytest.mark.parametrize("subtype", ["FLOAT", "DOUBLE"])
def test_non_finite_samples_decode_to_zero_and_the_rest_into_range(subtype: str) -> None:
    samples = poisoned(6, 8000)
    decoded = decode_audio(sound_file(samples, 8000, subtype=subtype)).samples[:, 0]
    assert np.all(np.isfinite(decoded))
    assert np.all(decoded[1000:1100] == 0.0)
    assert np.all(decoded[2000:2010] == 0.0) and np.all(decoded[3000:3010] == 0.0)
    assert np.all(decoded[4000:4010] == 1.0) and np.all(decoded[5000:5010] == -1.0)
    finite = np.ones(samples.size, bool)
    finite[1000:5010] = False
    assert np.array_equal(decoded[finite], samples[finite])


def test_nan_samples_give_strict_json() -> None:
    """A float WAV with NaN samples gave bare NaN features: not JSON."""
    samples = tone(6, 8000, 440)
    samples[1000:1100] = np.nan
    result = strict_json(analyze_bytes(sound_file(samples, 8000, subtype="FLOAT"), True, LIMITS))
    assert np.all(np.isfinite(result["features"]))


def test_audio_built_with_non_finite_samples_still_gives_strict_json() -> None:
    """Decoding sanitises, but `Audio` can be built directly: analysis guards itself too."""
    samples = np.stack([poisoned(6, 44100), np.full(6 * 44100, np.nan, np.float32)], axis=1)
    result = strict_json(analyze(Audio(samples, 44100), raw_features=True).to_json())
    assert result["tempo"] > 0 and len(result["boundaries"]) >= 2


def test_a_nan_similarity_still_encodes_as_printable_characters() -> None:
    matrix = np.array([[1.0, np.nan], [np.nan, 1.0]])
    encoded = encode_similarity(matrix)
    assert encoded.data == "~ ~"


# --- the decoded-samples cap -------------------------------------------------------------------


def test_the_default_cap_is_thirty_minutes_of_48k_stereo() -> None:
    assert DecodeLimits().max_samples == 30 * 60 * 48_000 * 2


def test_a_header_declaring_too_many_samples_is_refused_before_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """8 channels at 384 kHz for 2 s: well within 30 minutes, over a 1 s sample budget."""
    data = sound_file(np.zeros((2 * 384_000, 8), np.int16), 384_000, "FLAC")

    def never(*_: object) -> None:
        raise AssertionError("read past a header that was already over the limit")

    monkeypatch.setattr(decode, "_read_frames", never)
    with pytest.raises(AudioDecodeError) as refusal:
        decode_audio(data, DecodeLimits(max_samples=8 * 384_000))
    assert refusal.value.message == (
        "The source audio is too large to decode: 8 channels at 384000 Hz for 2 s are 6144000"
        " samples, over the 3072000-sample limit (frames x channels)."
    )


def test_a_wav_header_declaring_too_many_samples_is_refused_at_default_limits() -> None:
    """A minute of 8 channels at 384 kHz is 184 M samples: under 30 minutes, over the cap."""
    wav = sound_file(np.zeros((3840, 8), np.int16), 384_000)
    with pytest.raises(AudioDecodeError, match="8 channels at 384000 Hz for 60 s") as refusal:
        decode_audio(wav_claiming(wav, 60 * 384_000 * 8 * 2))
    assert "172800000-sample limit" in refusal.value.message


def test_an_mp3_playing_past_the_sample_cap_is_refused_while_reading() -> None:
    """MP3 headers only estimate length, so the running total decides."""
    with pytest.raises(AudioDecodeError, match="2 channels at 44100 Hz play on past 2 s"):
        decode_audio(song_bytes(SPEC, "mp3"), DecodeLimits(max_samples=2 * 44100 * 2))


def test_exactly_at_the_sample_cap_is_accepted() -> None:
    wav = song_bytes(SPEC, "wav")
    assert decode_audio(wav, DecodeLimits(max_samples=STEREO_SAMPLES)).channels == 2
    with pytest.raises(AudioDecodeError, match="sample limit"):
        decode_audio(wav, DecodeLimits(max_samples=STEREO_SAMPLES - 1))


def test_a_duration_over_both_limits_names_the_duration() -> None:
    with pytest.raises(AudioDecodeError, match="longer than the 2-second limit"):
        decode_audio(song_bytes(SPEC, "wav"), DecodeLimits(max_seconds=2, max_samples=1))
