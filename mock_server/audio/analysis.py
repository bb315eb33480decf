"""Analyze: audio in, the `result` object of the analyze webhook out.

spectral (onset envelope, band energies, chroma) -> beats (tempo, beat times) -> features (per-beat
descriptors, similarity matrix) -> the similarity codec. Boundaries are 0.0 then every beat, at two
decimals, strictly increasing and before the end; the tempo is the beats' own rate, rounded.

From bytes (`analyze_bytes`, `analyze_with_peaks`, what a job runs) the source is never decoded
whole: it is read block by block straight into the 11 kHz mono signal (`streamed_signal`), which
keeps a 10-minute MP3's analysis near 140 MB where its stereo decode alone is 212 MB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mock_server.audio.beats import track_beats
from mock_server.audio.decode import open_audio
from mock_server.audio.errors import AudioDecodeError
from mock_server.audio.features import beat_descriptors, feature_vectors, similarity_matrix
from mock_server.audio.peaks import peaks
from mock_server.audio.similarity import EncodedSimilarity, encode_similarity
from mock_server.audio.spectral import (
    ANALYSIS_RATE,
    AnalysisSignal,
    audio_blocks,
    block_frames,
    downmix,
    signal_features,
)
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


def _analyze_signal(signal: AnalysisSignal, raw_features: bool) -> AnalysisResult:
    if signal.duration < MIN_SECONDS:
        raise AudioDecodeError(
            f"The source audio is {signal.duration:.2f} s long; at least {MIN_SECONDS:g} s needed."
        )
    duration = round(signal.duration, 2)
    frames = signal_features(signal.samples, signal.rate)
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


def analyze(audio: Audio, raw_features: bool = False) -> AnalysisResult:
    """Beats, tempo, similarity and (when `raw_features`) per-beat features of `audio`."""
    signal = downmix(audio_blocks(audio), audio.sample_rate, audio.samples.shape[0])
    return _analyze_signal(signal, raw_features)


def streamed_signal(data: bytes, limits: DecodeLimits, loudest: bool = False) -> AnalysisSignal:
    """The analysis signal made block by block while decoding: the source is never held whole,
    and the blocks are those `analyze` cuts from decoded audio, so the result is the same."""
    with open_audio(data, limits) as stream:
        blocks = stream.blocks(block_frames(stream.sample_rate))
        return downmix(blocks, stream.sample_rate, stream.declared_frames, loudest)


def analyze_bytes(data: bytes, raw_features: bool, limits: DecodeLimits) -> dict[str, Any]:
    """Decode and analyze in one call: the unit of work a worker process runs."""
    return _analyze_signal(streamed_signal(data, limits, loudest=False), raw_features).to_json()


def analyze_with_peaks(
    data: bytes, raw_features: bool, limits: DecodeLimits
) -> tuple[dict[str, Any], bytes]:
    """`analyze_bytes`, and the waveform summary the dashboard draws (peaks.py), from one decode:
    the mock keeps the summary, never the source. The summary is drawn from the loudest sample
    behind each mono sample, so its spans are equal to within one mono sample (0.1 ms)."""
    signal = streamed_signal(data, limits, loudest=True)
    loudest, result = signal.loudest, _analyze_signal(signal, raw_features).to_json()
    assert loudest is not None  # asked for above
    del signal  # the mono signal (27 MB for 10 minutes) goes before the summary's temporaries
    return result, peaks(Audio(loudest[:, None], ANALYSIS_RATE))
