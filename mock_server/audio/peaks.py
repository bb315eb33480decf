"""A song's waveform in a few hundred bytes: the loudest sample of each of PEAK_COUNT equal spans,
as a level 0-255. The mock keeps this from each analysis (not the source), so the dashboard can
draw the waveform under the beat grid; 600 spans is one a pixel of a laptop-wide drawing."""

from __future__ import annotations

import numpy as np

from mock_server.audio.types import Audio

PEAK_COUNT = 600


def peaks(audio: Audio, count: int = PEAK_COUNT) -> bytes:
    """`count` levels (fewer for a song of fewer frames), each the span's largest |sample| of
    any channel, scaled so that full scale is 255."""
    loudest = np.abs(audio.samples).max(axis=1) if audio.samples.size else np.zeros(0)
    spans = np.array_split(loudest, min(count, loudest.shape[0])) if loudest.size else []
    levels = [round(float(np.clip(span.max(), 0.0, 1.0)) * 255) for span in spans]
    return bytes(levels)
