"""The spectral front end: one pass over the audio yields the onset envelope and the frame features.

Analysis runs on mono at about 11 kHz: beats live in the drums' and bass's attacks and pitch classes
in the fundamentals below 4 kHz, and a quarter of the samples makes the whole analysis cheaper than
decoding. The STFT runs in chunks and each chunk is reduced at once to a few numbers per frame (band
energies, pitch classes, loudness), so a long song never holds a full spectrogram in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mock_server.audio.types import Audio, FloatArray

ANALYSIS_RATE = 11025
ONSET_FFT = 512  # 46 ms windows every 11.6 ms
ONSET_HOP = 128
CHROMA_FFT = 2048  # 5.4 Hz bins: a semitone apart from about 90 Hz up
CHROMA_HOP = 512
BANDS = 40
# Samples per STFT chunk: bounds the transient spectrum memory (~50 MB) for any song length.
CHUNK_SAMPLES = 1 << 21
CHROMA_LOW_HZ = 60.0
CHROMA_HIGH_HZ = 4000.0
FLUX_RANGE_DB = 60.0


@dataclass(frozen=True)
class FrameFeatures:
    """Per-frame reductions of the spectrum, each on its own frame grid."""

    onset: FloatArray  # spectral flux per onset frame
    onset_rate: float  # onset frames per second
    bands: FloatArray  # (onset frames, BANDS) log band energies: timbre
    loudness: FloatArray  # (onset frames,) RMS per frame
    chroma: FloatArray  # (chroma frames, 12) pitch-class energies
    chroma_rate: float


def analysis_signal(audio: Audio) -> tuple[FloatArray, float]:
    """Mono at about 11 kHz; block averaging is a cheap low-pass, ample for beats and pitch.

    Averaging `factor` frames of every channel is one matrix-vector product over a reshaped view.
    Decoding already sanitises, but `Audio` can be built directly: the (small) mono signal is made
    finite and clipped again, so no NaN or overflow can reach a spectrum and then the JSON.
    """
    factor = max(1, audio.sample_rate // ANALYSIS_RATE)
    frames = (audio.samples.shape[0] // factor) * factor
    width = factor * audio.channels
    blocks = np.ascontiguousarray(audio.samples[:frames]).reshape(-1, width)
    with np.errstate(over="ignore", invalid="ignore"):  # made finite just below
        mono = blocks @ np.full(width, 1.0 / width, dtype=np.float32)
    mono = np.asarray(mono, dtype=np.float32)
    np.nan_to_num(mono, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    np.clip(mono, -1.0, 1.0, out=mono)
    return mono, audio.sample_rate / factor


def _band_matrix(rate: float) -> FloatArray:
    """Triangular log-spaced bands from 30 Hz to Nyquist, a light-weight mel stand-in."""
    freqs = np.fft.rfftfreq(ONSET_FFT, 1.0 / rate)
    edges = np.geomspace(30.0, rate / 2, BANDS + 2)
    matrix = np.zeros((freqs.size, BANDS), dtype=np.float32)
    for b in range(BANDS):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        rising = (freqs - lo) / (mid - lo)
        falling = (hi - freqs) / (hi - mid)
        matrix[:, b] = np.clip(np.minimum(rising, falling), 0.0, None)
    scale = np.maximum(matrix.sum(axis=0, keepdims=True), 1e-9)
    return np.asarray(matrix / scale, dtype=np.float32)


def _chroma_matrix(rate: float) -> FloatArray:
    freqs = np.fft.rfftfreq(CHROMA_FFT, 1.0 / rate)
    matrix = np.zeros((freqs.size, 12), dtype=np.float32)
    audible = (freqs >= CHROMA_LOW_HZ) & (freqs <= CHROMA_HIGH_HZ)
    semitones = 12.0 * np.log2(freqs[audible] / 440.0)
    nearest = np.round(semitones)
    # Bins far from a semitone centre are ambiguous; weight them down.
    weight = np.cos(np.pi * (semitones - nearest)) ** 2
    matrix[np.flatnonzero(audible), (nearest.astype(int) % 12)] = weight
    return matrix


def _frames(signal: FloatArray, n_fft: int, hop: int) -> np.ndarray:
    padded = np.pad(signal, (n_fft // 2, n_fft // 2))
    return sliding_window_view(padded, n_fft)[::hop]


def _reduce(signal: FloatArray, n_fft: int, hop: int, matrix: FloatArray) -> FloatArray:
    """|STFT|^2 of `signal` projected through `matrix`, computed chunk by chunk."""
    frames = _frames(signal, n_fft, hop)
    window = np.hanning(n_fft).astype(np.float32)
    out = np.empty((frames.shape[0], matrix.shape[1]), dtype=np.float32)
    step = max(1, CHUNK_SAMPLES // n_fft)
    for start in range(0, frames.shape[0], step):
        spectrum = np.fft.rfft(frames[start : start + step] * window, axis=1)
        power = spectrum.real**2 + spectrum.imag**2
        out[start : start + spectrum.shape[0]] = power @ matrix
    return out


def _spectral_flux(band_power: FloatArray) -> FloatArray:
    """Summed rises in band level, with levels floored FLUX_RANGE_DB below the song's loudest.

    The floor keeps faint sounds (a quiet hi-hat after silence) from rising as far as a kick:
    without it, off-beat hats pulled the tempo estimate to double time.
    """
    decibels = 10.0 * np.log10(band_power + 1e-12)
    levels = np.maximum(decibels, float(decibels.max()) - FLUX_RANGE_DB)
    rises = np.maximum(np.diff(levels, axis=0, prepend=levels[:1]), 0.0)
    return np.asarray(rises.sum(axis=1), dtype=np.float32)


def frame_features(audio: Audio) -> FrameFeatures:
    signal, rate = analysis_signal(audio)
    band_power = _reduce(signal, ONSET_FFT, ONSET_HOP, _band_matrix(rate))
    bands = np.log10(band_power + 1e-7).astype(np.float32)
    loudness = np.sqrt(band_power.sum(axis=1)).astype(np.float32)
    chroma = _reduce(signal, CHROMA_FFT, CHROMA_HOP, _chroma_matrix(rate))
    return FrameFeatures(
        onset=_spectral_flux(band_power),
        onset_rate=rate / ONSET_HOP,
        bands=bands,
        loudness=loudness,
        chroma=chroma,
        chroma_rate=rate / CHROMA_HOP,
    )
