"""librosa, the reference point for the engine's figures: what a developer would otherwise reach
for to load a song and track its beats. The bench extra only; the mock never imports it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

# librosa's default rate for load(); beat_track's defaults (hop 512, 2048-point FFT) follow it.
RATE = 22050


def load_and_track(path: Path) -> Callable[[], tuple[float, list[float]]]:
    """librosa's load + beat_track of `path`, as one call giving (tempo, beat times), warmed up
    (numba compiles on the first call)."""
    import librosa  # the bench extra; never a runtime dependency

    def run() -> tuple[float, list[float]]:
        signal, rate = librosa.load(str(path), sr=RATE)
        tempo, beats = librosa.beat.beat_track(y=signal, sr=rate, units="time")
        return float(np.atleast_1d(tempo)[0]), [float(t) for t in beats]

    run()
    return run
