"""Analyze: audio in, the `result` object of the analyze webhook out.

spectral (onset envelope, band energies, chroma) -> beats (tempo, beat times) -> features (per-beat
descriptors, similarity matrix) -> the similarity codec. Boundaries are 0.0 then every beat, at two
decimals, strictly increasing and before the end; the tempo is the beats' own rate, rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mock_server.audio.beats import track_beats
from mock_server.audio.decode import decode_audio
from mock_server.audio.errors import AudioDecodeError
from mock_server.audio.features import beat_descriptors, feature_vectors, similarity_matrix
from mock_server.audio.peaks import peaks
from mock_server.audio.similarity import EncodedSimilarity, encode_similarity
from mock_server.audio.spectral import frame_features
from mock_server.audio.types import Audio, DecodeLimits

MIN_SECONDS = 2.0


@dataclass(frozen=True)
class AnalysisResult:
    """One analysis; `to_json()` is the webhook's `result` object exactly."""

    duration: float
    tempo: int
    boundaries: tuple[float, ...]
    similarity: EncodedSimilarity
    features: tuple[tuple[float, ...], ...] | None

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "duration": self.duration,
            "tempo": self.tempo,
            "similarity": self.similarity.to_json(),
            "boundaries": list(self.boundaries),
        }
        if self.features is not None:
            result["features"] = [list(vector) for vector in self.features]
        return result


def _boundaries(beat_times: tuple[float, ...], duration: float) -> tuple[float, ...]:
    """0.0, then each beat at 2 decimals, strictly increasing and before the end."""
    boundaries = [0.0]
    for time in beat_times:
        rounded = round(time, 2)
        if boundaries[-1] < rounded < duration:
            boundaries.append(rounded)
    return tuple(boundaries)


def analyze(audio: Audio, raw_features: bool = False) -> AnalysisResult:
    """Beats, tempo, similarity and (when `raw_features`) per-beat features of `audio`."""
    if audio.duration < MIN_SECONDS:
        raise AudioDecodeError(
            f"The source audio is {audio.duration:.2f} s long; at least {MIN_SECONDS:g} s needed."
        )
    duration = round(audio.duration, 2)
    frames = frame_features(audio)
    track = track_beats(frames.onset, frames.onset_rate)
    boundaries = _boundaries(track.beat_times, duration)
    starts = np.asarray(boundaries)
    chroma, timbre, loudness = beat_descriptors(frames, starts)
    features = tuple(tuple(v) for v in feature_vectors(chroma, loudness)) if raw_features else None
    return AnalysisResult(
        duration=duration,
        tempo=round(track.tempo_bpm),
        boundaries=boundaries,
        similarity=encode_similarity(similarity_matrix(chroma, timbre)),
        features=features,
    )


def analyze_bytes(data: bytes, raw_features: bool, limits: DecodeLimits) -> dict[str, Any]:
    """Decode and analyze in one call: the unit of work a worker process runs."""
    return analyze(decode_audio(data, limits), raw_features).to_json()


def analyze_with_peaks(
    data: bytes, raw_features: bool, limits: DecodeLimits
) -> tuple[dict[str, Any], bytes]:
    """`analyze_bytes`, and the waveform summary the dashboard draws (peaks.py), from one decode:
    the mock keeps the summary, never the source."""
    audio = decode_audio(data, limits)
    return analyze(audio, raw_features).to_json(), peaks(audio)
