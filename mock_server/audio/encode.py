"""Samples to file bytes: 16-bit WAV through soundfile, constant-bitrate MP3 through LAME.

LAME (the `lameenc` wheel) is used for MP3 because it measured 3-5x faster than soundfile's MP3
writer on the same samples and gives an exact CBR; `make bench` prints both.
"""

from __future__ import annotations

import io

import lameenc
import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from mock_server.audio.errors import AudioEngineError
from mock_server.audio.types import ExportFormat, FloatArray

# MPEG-1/2/2.5 layer III sample rates; anything else is resampled to the nearest one above.
MP3_SAMPLE_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
LAME_QUALITY = 5


def to_pcm16(samples: FloatArray) -> NDArray[np.int16]:
    """Float samples to int16, clipping rather than wrapping.

    The scale is 32768, the one soundfile reads 16-bit files with, so 16-bit sources round-trip
    exactly (k / 32768 times 32768 is exact in float32). One float32 buffer, worked in place:
    8x faster than float64 temporaries on a 2.5-minute export (measured), same output.
    """
    scaled = np.multiply(samples, np.float32(32768.0), dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768, 32767, out=scaled)
    return np.ascontiguousarray(scaled.astype(np.int16))


def _mp3_rate(sample_rate: int) -> int:
    for rate in MP3_SAMPLE_RATES:
        if rate >= sample_rate:
            return rate
    return MP3_SAMPLE_RATES[-1]


def _resample(samples: FloatArray, source_rate: int, target_rate: int) -> FloatArray:
    """Linear-interpolation resampling; only used for rates MP3 cannot carry."""
    frames = samples.shape[0]
    target_frames = round(frames * target_rate / source_rate)
    positions = np.arange(target_frames) * (source_rate / target_rate)
    columns = [
        np.interp(positions, np.arange(frames), samples[:, c]) for c in range(samples.shape[1])
    ]
    return np.stack(columns, axis=1).astype(np.float32)


def encode_mp3(samples: FloatArray, sample_rate: int, bitrate_kbps: int) -> bytes:
    if samples.shape[1] > 2:
        samples = np.ascontiguousarray(samples[:, :2])
    rate = _mp3_rate(sample_rate)
    if rate != sample_rate:
        samples = _resample(samples, sample_rate, rate)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(samples.shape[1])
    encoder.set_quality(LAME_QUALITY)
    data = encoder.encode(to_pcm16(samples).tobytes())
    return bytes(data) + bytes(encoder.flush())


def encode_wav(samples: FloatArray, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, to_pcm16(samples), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def encode_audio(samples: FloatArray, sample_rate: int, fmt: ExportFormat) -> bytes:
    """Encode (frames, channels) float32 samples in `fmt`."""
    if samples.shape[0] == 0:
        raise AudioEngineError("There is no audio to encode.")
    bitrate = fmt.bitrate_kbps
    if bitrate is None:
        return encode_wav(samples, sample_rate)
    return encode_mp3(samples, sample_rate, bitrate)
