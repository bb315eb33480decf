"""The spectral front end: the analysis's mono signal, then the onset envelope and frame features.

Analysis runs on mono at about 11 kHz: beats live in the drums' and bass's attacks and pitch classes
in the fundamentals below 4 kHz. The mono signal is made block by block as the source is read
(`downmix`), so a long song is never held at full rate in stereo. Two chunked STFTs follow (46 ms
windows every 11.6 ms for the onset bands, 186 ms windows every 46 ms for the pitch classes, whose
semitones need the finer bins), each chunk reduced at once to a few numbers per frame, so no full
spectrogram is ever held either.

The transforms run in float64: numpy's pocketfft transforms float32 about four times slower than
float64 here (174 against 39 ms for 25,000 frames of 512), which is what scipy.fft's 2.5-2.8x over
numpy measured earlier was; float64 gets the same speed without scipy as a dependency.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mock_server.audio.decode import sanitise
from mock_server.audio.types import Audio, FloatArray

ANALYSIS_RATE = 11025
ONSET_FFT = 512  # 46 ms windows
ONSET_HOP = 128  # every 11.6 ms
CHROMA_FFT = 2048  # 5.4 Hz bins: a semitone apart from about 90 Hz up
CHROMA_HOP = 512
BANDS = 40
# Source frames read and reduced at a time (rounded down to whole mono samples).
BLOCK_FRAMES = 1 << 16
# Samples of STFT frames transformed at a time: 2 MB of float64 windows, which stay in cache.
CHUNK_SAMPLES = 1 << 18
# OpenBLAS's threading threshold for a matrix product, in multiply-adds (65536 x 4).
SINGLE_THREAD_WORK = 1 << 18
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


@dataclass(frozen=True)
class AnalysisSignal:
    """The mono signal analysis works on, and what it was made from.

    `loudest` (when asked for) holds, for each mono sample, the largest |sample| of any channel
    among the source frames it averages: the waveform summary (peaks.py) is drawn from it.
    """

    samples: FloatArray
    rate: float
    source_rate: int
    source_frames: int
    loudest: FloatArray | None = None

    @property
    def duration(self) -> float:
        """Seconds of the source, every frame counted (the mono signal drops a partial sample)."""
        return self.source_frames / self.source_rate


def block_frames(sample_rate: int) -> int:
    """Source frames a block of the downmix takes: whole mono samples, so blocks join seamlessly."""
    factor = _factor(sample_rate)
    return BLOCK_FRAMES // factor * factor


def _factor(sample_rate: int) -> int:
    return max(1, sample_rate // ANALYSIS_RATE)


class _Growing:
    """A float32 array filled from the front, sized from an estimate and doubled when short."""

    def __init__(self, estimate: int) -> None:
        self.array: FloatArray = np.empty(max(estimate, 1), np.float32)
        self.size = 0

    def next(self, count: int) -> FloatArray:
        """The next `count` slots, to be written by the caller."""
        if self.size + count > self.array.shape[0]:
            grown = np.empty(max(2 * self.array.shape[0], self.size + count), np.float32)
            grown[: self.size] = self.array[: self.size]
            self.array = grown
        self.size += count
        return self.array[self.size - count : self.size]

    def filled(self) -> FloatArray:
        return self.array[: self.size]


def _loudest_of_rows(rows: FloatArray, out: FloatArray) -> None:
    """Largest |value| of each row into `out`, a column at a time: numpy reduces short rows
    one row per call, about 15 times slower than elementwise maxima over the columns."""
    magnitude = np.abs(rows)
    np.copyto(out, magnitude[:, 0])
    for column in range(1, rows.shape[1]):
        np.maximum(out, magnitude[:, column], out=out)


def downmix(
    blocks: Iterable[FloatArray],
    sample_rate: int,
    expected_frames: int,
    loudest: bool = False,
) -> AnalysisSignal:
    """Mono at about 11 kHz from consecutive (frames, channels) blocks of `block_frames` frames.

    Block averaging is a cheap low-pass, ample for beats and pitch: each block's `factor` frames
    of every channel are averaged by one matrix-vector product over a reshaped view. Frames past
    the last whole mono sample are dropped. Decoding already sanitises, but `Audio` can be built
    directly: the mono signal is made finite and clipped again, so no NaN or overflow can reach
    a spectrum and then the JSON.
    """
    factor = _factor(sample_rate)
    mono = _Growing(expected_frames // factor)
    peaks = _Growing(expected_frames // factor if loudest else 0)
    frames = 0
    for block in blocks:
        count = block.shape[0] // factor
        frames += block.shape[0]
        if count == 0:
            continue
        rows = np.ascontiguousarray(block[: count * factor]).reshape(count, -1)
        weights = np.full(rows.shape[1], 1.0 / rows.shape[1], np.float32)
        with np.errstate(over="ignore", invalid="ignore"):  # made finite below
            np.matmul(rows, weights, out=mono.next(count))
        if loudest:
            _loudest_of_rows(rows, peaks.next(count))
    sanitise(mono.filled())
    if loudest:
        sanitise(peaks.filled())
    return AnalysisSignal(
        samples=mono.filled(),
        rate=sample_rate / factor,
        source_rate=sample_rate,
        source_frames=frames,
        loudest=peaks.filled() if loudest else None,
    )


def analysis_signal(audio: Audio) -> tuple[FloatArray, float]:
    """Mono at about 11 kHz, made exactly as `downmix` makes it from a decoder's blocks."""
    signal = downmix(audio_blocks(audio), audio.sample_rate, audio.samples.shape[0])
    return signal.samples, signal.rate


def audio_blocks(audio: Audio) -> Iterable[FloatArray]:
    """`audio` in the blocks a decoder would give `downmix`, as views."""
    step = block_frames(audio.sample_rate)
    return (audio.samples[start : start + step] for start in range(0, audio.samples.shape[0], step))


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


def _frames(signal: FloatArray, n_fft: int, hop: int, first: int, count: int) -> np.ndarray:
    """STFT frames first .. first + count - 1, centred on multiples of `hop`, as views.

    Only a chunk that runs past either end of the signal is padded (with zeros), as a copy of
    that chunk: padding the whole signal would copy all of it (27 MB for 10 minutes).
    """
    low, high = first * hop - n_fft // 2, (first + count - 1) * hop + n_fft - n_fft // 2
    piece = signal[max(low, 0) : min(high, signal.size)]
    if low < 0 or high > signal.size:
        piece = np.pad(piece, (max(-low, 0), max(high - signal.size, 0)))
    return sliding_window_view(piece, n_fft)[::hop]


def _power_chunks(signal: FloatArray, n_fft: int, hop: int) -> Iterator[tuple[int, np.ndarray]]:
    """(first frame, |STFT|^2 of a cache-sized chunk of frames) over `signal`.

    Windowing copies the frames into float64 (numpy's fast transform, see above). Every chunk is
    worked in the same three buffers: allocating them afresh for each chunk cost a tenth of the
    stage (127 against 108 ms for Machine Wars' two STFTs).
    """
    count = signal.size // hop + 1
    step = max(1, CHUNK_SAMPLES // n_fft)
    window = np.hanning(n_fft)
    windowed = np.empty((min(step, count), n_fft))
    spectrum = np.empty((windowed.shape[0], n_fft // 2 + 1), np.complex128)
    power = np.empty(spectrum.shape)
    for start in range(0, count, step):
        frames = _frames(signal, n_fft, hop, start, min(step, count - start))
        size = frames.shape[0]
        np.multiply(frames, window, out=windowed[:size])
        np.fft.rfft(windowed[:size], axis=1, out=spectrum[:size])
        parts = spectrum[:size].view(np.float64)  # real and imaginary parts, squared in place
        np.square(parts, out=parts)
        np.add(parts[:, 0::2], parts[:, 1::2], out=power[:size])
        yield start, power[:size]


def _reduce(signal: FloatArray, n_fft: int, hop: int, matrix: FloatArray) -> FloatArray:
    """|STFT|^2 of `signal` projected through `matrix`, a chunk at a time, on this thread."""
    weights = matrix.astype(np.float64)
    out = np.empty((signal.size // hop + 1, matrix.shape[1]), dtype=np.float32)
    for start, power in _power_chunks(signal, n_fft, hop):
        product_on_this_thread(power, weights, out[start : start + power.shape[0]])
    return out


def product_on_this_thread(left: np.ndarray, right: np.ndarray, out: np.ndarray) -> None:
    """`left @ right` into `out`, a few rows at a time.

    OpenBLAS runs a product of fewer than SINGLE_THREAD_WORK multiply-adds on the calling thread.
    A threaded one waits for the second core, which on this shared 2-core machine (and in a pool
    of analysis workers) is busy: a 650-beat similarity took 14-16 ms threaded and 0.5-2 ms like
    this, the spectral projections 3-5x longer.
    """
    step = max(1, SINGLE_THREAD_WORK // max(1, right.shape[0] * right.shape[1]))
    for row in range(0, left.shape[0], step):
        rows = left[row : row + step]
        np.matmul(rows, right, out=out[row : row + rows.shape[0]])


def _spectral_flux(band_power: FloatArray) -> FloatArray:
    """Summed rises in band level, with levels floored FLUX_RANGE_DB below the song's loudest.

    The floor keeps faint sounds (a quiet hi-hat after silence) from rising as far as a kick:
    without it, off-beat hats pulled the tempo estimate to double time.
    """
    levels = band_power + 1e-12  # worked in place: a 10-minute song's bands are 8 MB each
    np.log10(levels, out=levels)
    levels *= 10.0
    np.maximum(levels, float(levels.max()) - FLUX_RANGE_DB, out=levels)
    rises = np.diff(levels, axis=0, prepend=levels[:1])
    np.maximum(rises, 0.0, out=rises)
    return np.asarray(rises.sum(axis=1), dtype=np.float32)


def signal_features(signal: FloatArray, rate: float) -> FrameFeatures:
    """The onset envelope, band energies, loudness and pitch classes of a mono `signal`."""
    band_power = _reduce(signal, ONSET_FFT, ONSET_HOP, _band_matrix(rate))
    return FrameFeatures(
        onset=_spectral_flux(band_power),
        onset_rate=rate / ONSET_HOP,
        bands=np.log10(band_power + np.float32(1e-7)),
        loudness=np.sqrt(band_power.sum(axis=1)).astype(np.float32),
        chroma=_reduce(signal, CHROMA_FFT, CHROMA_HOP, _chroma_matrix(rate)),
        chroma_rate=rate / CHROMA_HOP,
    )


def frame_features(audio: Audio) -> FrameFeatures:
    return signal_features(*analysis_signal(audio))
