"""Plain data shared by the audio engine's modules: decoded audio, limits and export formats."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class Audio:
    """Decoded audio: float32 samples shaped (frames, channels), values in [-1, 1]."""

    samples: FloatArray
    sample_rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return float(self.samples.shape[0]) / self.sample_rate

    def mono(self) -> FloatArray:
        """The channel average, which analysis works on."""
        return np.asarray(self.samples.mean(axis=1), dtype=np.float32)


@dataclass(frozen=True)
class DecodeLimits:
    """What a decode may cost. The reference states no input limits: these defaults are the
    mock's own (`serve` and Settings can change them)."""

    max_bytes: int = 200 * 1024 * 1024
    max_seconds: float = 30 * 60
    # Decoded samples (frames x channels): duration alone lets 8 channels at 384 kHz decode to
    # 22 GB in 30 minutes. This is 30 minutes of 48 kHz stereo, 691 MB as float32.
    max_samples: int = 30 * 60 * 48_000 * 2


class ExportFormat(StrEnum):
    """The export formats the API documents."""

    MP3_128 = "mp3_128"
    MP3_256 = "mp3_256"
    MP3_320 = "mp3_320"
    WAV = "wav"

    @property
    def extension(self) -> str:
        return "wav" if self is ExportFormat.WAV else "mp3"

    @property
    def bitrate_kbps(self) -> int | None:
        return None if self is ExportFormat.WAV else int(self.value.split("_")[1])

    @property
    def content_type(self) -> str:
        return "audio/wav" if self is ExportFormat.WAV else "audio/mpeg"


# No song or edit is a day long; the bound keeps every score, duration and price far from
# overflow (times in requests are checked against it).
MAX_SECONDS = 86_400.0


def finite_number(value: object) -> float | None:
    """`value` as a finite float, or None: JSON booleans, non-numbers, NaN, infinities and
    integers too large for a float (10**400 is valid JSON) all fail here, never later."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
