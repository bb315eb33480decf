"""Audio files that lie about themselves, for the tests of decode limits and bad sources."""

from __future__ import annotations

import struct


def wav_claiming(wav: bytes, data_bytes: int) -> bytes:
    """The same WAV with its RIFF and data chunk sizes claiming `data_bytes` of samples."""
    forged = bytearray(wav)
    data_at = forged.index(b"data")
    struct.pack_into("<I", forged, data_at + 4, data_bytes)
    struct.pack_into("<I", forged, 4, min(0xFFFFFFFF, data_at + data_bytes))
    return bytes(forged)
