"""Analysis on synthetic songs whose truth is known: tempo, beats, structure, features, format."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from mock_server.audio.analysis import AnalysisResult, analyze, analyze_bytes
from mock_server.audio.decode import decode_audio
from mock_server.audio.errors import AudioDecodeError
from mock_server.audio.similarity import decode_similarity
from mock_server.audio.synth import FIXTURE_SONGS, GroundTruth, render_song, song_bytes
from mock_server.audio.types import Audio, DecodeLimits
from tests.audio.beat_metrics import beat_f_measure

SONGS = tuple(FIXTURE_SONGS)
FORMATS = ("wav", "mp3")


@dataclass(frozen=True)
class Case:
    truth: GroundTruth
    result: AnalysisResult


@pytest.fixture(scope="module")
def cases() -> dict[tuple[str, str], Case]:
    """Every catalogue song (30 s each) analysed once from WAV and once from MP3."""
    analysed = {}
    for name, spec in FIXTURE_SONGS.items():
        truth = render_song(spec).truth
        for fmt in FORMATS:
            audio = decode_audio(song_bytes(spec, fmt))
            analysed[name, fmt] = Case(truth, analyze(audio, raw_features=True))
    return analysed


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", SONGS)
def test_tempo_is_within_one_bpm(cases: dict[tuple[str, str], Case], name: str, fmt: str) -> None:
    case = cases[name, fmt]
    assert abs(case.result.tempo - case.truth.tempo_bpm) <= 1


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", SONGS)
def test_boundaries_sit_on_the_beats(
    cases: dict[tuple[str, str], Case], name: str, fmt: str
) -> None:
    case = cases[name, fmt]
    assert beat_f_measure(case.truth.beat_times, case.result.boundaries) >= 0.9


@pytest.mark.parametrize("name", SONGS)
def test_output_format(cases: dict[tuple[str, str], Case], name: str) -> None:
    result = cases[name, "wav"].result
    spec = FIXTURE_SONGS[name]
    assert result.duration == round(spec.duration_seconds, 2)
    assert isinstance(result.tempo, int)
    boundaries = np.asarray(result.boundaries)
    assert boundaries[0] == 0.0
    assert np.all(np.diff(boundaries) > 0)
    assert boundaries[-1] < result.duration
    assert all(round(b, 2) == b for b in result.boundaries)


@pytest.mark.parametrize("name", SONGS)
def test_similarity_is_beat_by_beat_and_uses_the_whole_range(
    cases: dict[tuple[str, str], Case], name: str
) -> None:
    result = cases[name, "wav"].result
    matrix = decode_similarity(result.similarity)
    n = len(result.boundaries)
    assert matrix.shape == (n, n)
    assert np.all(np.diag(matrix) == 1.0)
    codes = {ord(c) for c in result.similarity.data}
    assert min(codes) <= 40
    assert max(codes) == 126


def _counterpart_pairs(
    truth: GroundTruth, boundaries: tuple[float, ...]
) -> list[tuple[int, int, bool]]:
    """(i, j, same label) for beats j sitting where beat i would be in another section."""
    times = np.asarray(boundaries)
    pairs = []
    for i, time in enumerate(times):
        home = next((s for s in truth.sections if s.start <= time < s.end), None)
        if home is None:
            continue
        for other in truth.sections:
            if other is home:
                continue
            target = other.start + (time - home.start)
            j = int(np.argmin(np.abs(times - target)))
            if abs(times[j] - target) < 0.1 and target < other.end:
                pairs.append((i, j, other.label == home.label))
    return pairs


@pytest.mark.parametrize("name", SONGS)
def test_repeated_sections_are_more_similar_than_different_ones(
    cases: dict[tuple[str, str], Case], name: str
) -> None:
    case = cases[name, "wav"]
    matrix = decode_similarity(case.result.similarity)
    pairs = _counterpart_pairs(case.truth, case.result.boundaries)
    same = [matrix[i, j] for i, j, alike in pairs if alike]
    different = [matrix[i, j] for i, j, alike in pairs if not alike]
    assert same and different
    assert np.mean(same) > np.mean(different) + 0.3
    assert np.median(same) > 0.8


@pytest.mark.parametrize("name", SONGS)
def test_features_are_13_values_per_beat_with_a_peak_of_one(
    cases: dict[tuple[str, str], Case], name: str
) -> None:
    result = cases[name, "wav"].result
    assert result.features is not None
    vectors = np.asarray(result.features)
    assert vectors.shape == (len(result.boundaries), 13)
    assert np.all((vectors >= 0.0) & (vectors <= 1.0))
    assert np.all(vectors.max(axis=1) == 1.0)
    for vector in result.features:
        for value in vector:
            assert value == float(np.float32(round(value, 3)))


def test_features_appear_in_json_only_when_requested() -> None:
    data = song_bytes(FIXTURE_SONGS["pop_120"], "wav")
    plain = analyze_bytes(data, False, DecodeLimits())
    assert set(plain) == {"duration", "tempo", "similarity", "boundaries"}
    assert set(plain["similarity"]) == {"data", "min", "max"}
    rich = analyze_bytes(data, True, DecodeLimits())
    assert set(rich) == {"duration", "tempo", "similarity", "boundaries", "features"}
    assert len(rich["features"]) == len(rich["boundaries"])
    # The 0.275 -> 0.2750000059604645 float32 form survives JSON unchanged.
    assert json.loads(json.dumps(rich)) == rich


def test_same_bytes_give_identical_output() -> None:
    data = song_bytes(FIXTURE_SONGS["swing_96"], "mp3")
    first = analyze_bytes(data, True, DecodeLimits())
    second = analyze_bytes(data, True, DecodeLimits())
    assert json.dumps(first) == json.dumps(second)


def test_analyze_bytes_rejects_non_audio() -> None:
    with pytest.raises(AudioDecodeError):
        analyze_bytes(b"<html>nope</html>", False, DecodeLimits())


def test_silence_has_no_beats_but_evenly_spaced_boundaries() -> None:
    """No beat to find: 120 BPM from 0, so a resize still has whole beats to cut at."""
    silence = Audio(np.zeros((5 * 44100, 2), dtype=np.float32), 44100)
    result = analyze(silence, raw_features=True)
    assert result.boundaries == tuple(round(0.5 * k, 2) for k in range(10))
    assert result.tempo == 120
    assert result.duration == 5.0
    matrix = decode_similarity(result.similarity)
    assert matrix.shape == (10, 10)
    assert np.all(np.diag(matrix) == 1.0)
    assert result.features is not None
    assert all(max(vector) == 1.0 for vector in result.features)


def test_audio_too_short_to_analyse_is_rejected() -> None:
    with pytest.raises(AudioDecodeError, match="long"):
        analyze(Audio(np.zeros((44100, 2), dtype=np.float32), 44100))
