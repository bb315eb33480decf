"""Bytes to samples, within limits: whatever arrives as a "source file" is untrusted."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from mock_server.audio.errors import AudioDecodeError
from mock_server.audio.types import Audio, DecodeLimits

BLOCK_FRAMES = 1 << 16
MAX_CHANNELS = 8
MAX_SAMPLE_RATE = 384_000
SUPPORTED = "WAV, MP3, FLAC or OGG"


def _looks_like_markup(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"{", b"["))


def _read_blocks(handle: sf.SoundFile, max_frames: int) -> np.ndarray:
    """Read in bounded blocks so a lying header or an endless stream cannot exhaust memory."""
    blocks = []
    total = 0
    while True:
        block = handle.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
        if block.shape[0] == 0:
            break
        total += block.shape[0]
        if total > max_frames:
            raise AudioDecodeError(
                f"The source file is longer than the {max_frames / handle.samplerate / 60:g}-minute limit."
            )
        blocks.append(block)
    if not blocks:
        raise AudioDecodeError("The source file contains no audio frames.")
    return np.concatenate(blocks)


def decode_audio(data: bytes, limits: DecodeLimits = DecodeLimits()) -> Audio:
    """Decode WAV, MP3, FLAC or OGG bytes into float32 (frames, channels) samples."""
    if not data:
        raise AudioDecodeError("The source file is empty.")
    if len(data) > limits.max_bytes:
        raise AudioDecodeError(
            f"The source file is {len(data)} bytes, over the {limits.max_bytes}-byte limit."
        )
    if _looks_like_markup(data):
        raise AudioDecodeError(
            f"The source file is a web page or text document, not audio ({SUPPORTED} expected)."
        )
    try:
        with sf.SoundFile(io.BytesIO(data)) as handle:
            rate, channels = int(handle.samplerate), int(handle.channels)
            if not (0 < rate <= MAX_SAMPLE_RATE) or not (0 < channels <= MAX_CHANNELS):
                raise AudioDecodeError(
                    f"The source file declares {channels} channels at {rate} Hz, which is not plausible audio."
                )
            max_frames = int(limits.max_seconds * rate)
            samples = _read_blocks(handle, max_frames)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        reason = error.error_string if isinstance(error, sf.LibsndfileError) else str(error)
        raise AudioDecodeError(
            f"The source file could not be decoded as audio ({SUPPORTED} expected): {reason}"
        ) from error
    return Audio(samples, rate)
