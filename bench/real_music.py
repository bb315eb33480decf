"""The engine on real recordings, beside librosa on the same files, stage by stage.

The songs come from Debian packages at bench time, never from this repository: `asc-music`
(Michael Kievernagel's soundtrack to Advanced Strategic Command, GPL-2+, three MP3s of 5-7
minutes) and `drascula-music` (Alcachofa Soft's soundtrack to Drascula, a BSD-like licence, OGG
tracks of up to 3.3 minutes). Each is measured as the MP3 it ships as (the OGG transcoded to MP3
at 128 kbit/s here) and as a 16-bit WAV of the same audio. Without apt (or offline) the section
says so and is skipped.
"""

from __future__ import annotations

import functools
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TypeVar

import numpy as np
import soundfile as sf

from bench import ROOT
from bench.reference import load_and_track
from bench.timing import Row, alternating, load_average, ratio, seconds
from mock_server.audio.analysis import analyze_bytes, streamed_signal
from mock_server.audio.beats import track_beats
from mock_server.audio.encode import encode_mp3
from mock_server.audio.features import beat_descriptors, feature_vectors, similarity_matrix
from mock_server.audio.similarity import encode_similarity
from mock_server.audio.spectral import signal_features
from mock_server.audio.types import DecodeLimits
from tests.audio.beat_metrics import beat_f_measure

SECTION = "real music"
FOLDER = ROOT / ".bench-music"
PACKAGES = ("asc-music", "drascula-music")
# (name, path inside the unpacked packages)
SONGS = (
    ("Machine Wars (asc-music)", "usr/share/games/asc/music/machine_wars.mp3"),
    ("Time to Strike (asc-music)", "usr/share/games/asc/music/time_to_strike.mp3"),
    ("track 2 (drascula-music)", "usr/share/scummvm/drascula/audio/track2.ogg"),
)
T = TypeVar("T")


def fetch() -> Path | None:
    """The packages unpacked under .bench-music/ (downloaded once); None if apt cannot."""
    unpacked = FOLDER / "unpacked"
    if all((unpacked / path).is_file() for _, path in SONGS):
        return unpacked
    FOLDER.mkdir(exist_ok=True)
    try:
        subprocess.run(
            ["apt-get", "download", *PACKAGES],
            cwd=FOLDER,
            check=True,
            timeout=300,
            capture_output=True,
        )
        for deb in FOLDER.glob("*.deb"):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as problem:
        print(f"real music skipped: cannot fetch {', '.join(PACKAGES)} with apt ({problem})")
        return None
    return unpacked


@dataclass(frozen=True)
class Stages:
    """Median seconds of each stage of one analysis; decoding is to the analysis's mono signal."""

    decode: float
    spectral: float
    beats: float
    descriptors: float
    similarity: float

    def describe(self) -> str:
        parts = [
            ("decode to mono", self.decode),
            ("spectral", self.spectral),
            ("beats", self.beats),
            ("per-beat", self.descriptors),
            ("similarity", self.similarity),
        ]
        return ", ".join(f"{name} {seconds(value)}" for name, value in parts)


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def _stage_pass(data: bytes) -> Stages:
    signal, decode = _timed(lambda: streamed_signal(data, DecodeLimits()))
    frames, spectral = _timed(lambda: signal_features(signal.samples, signal.rate))
    track, beats = _timed(lambda: track_beats(frames.onset, frames.onset_rate))
    starts = np.asarray([0.0, *track.beat_times])
    (chroma, timbre, loudness), descriptors = _timed(lambda: beat_descriptors(frames, starts))
    feature_vectors(chroma, loudness)
    _, similarity = _timed(lambda: encode_similarity(similarity_matrix(chroma, timbre)))
    return Stages(
        decode=decode,
        spectral=spectral,
        beats=beats,
        descriptors=descriptors,
        similarity=similarity,
    )


def stages(data: bytes, passes: int = 3) -> Stages:
    """Where one analysis spends its time: each stage's median over `passes` passes."""
    timings = [_stage_pass(data) for _ in range(passes)]
    medians = {
        stage.name: statistics.median(getattr(timing, stage.name) for timing in timings)
        for stage in fields(Stages)
    }
    return Stages(**medians)


def _files(source: Path, folder: Path) -> list[tuple[str, Path]]:
    """The song as MP3 (as shipped, or transcoded) and as WAV."""
    samples, rate = sf.read(source, dtype="float32", always_2d=True)
    wav = folder / f"{source.stem}.wav"
    sf.write(wav, samples, rate, subtype="PCM_16")
    mp3 = source
    if source.suffix != ".mp3":
        mp3 = folder / f"{source.stem}.mp3"
        mp3.write_bytes(encode_mp3(samples, rate, 128))
    return [("MP3", mp3), ("WAV", wav)]


def _song_rows(name: str, label: str, file: Path) -> list[Row]:
    """Our whole analysis against librosa's load + beat_track, alternating; where our time goes;
    and how far our beats and tempo agree with librosa's."""
    data = file.read_bytes()
    ours = functools.partial(analyze_bytes, data, True, DecodeLimits())
    result = ours()  # warm-up, and the beats to compare
    theirs = load_and_track(file)
    tempo, beats = theirs()
    timing = alternating(ours, theirs)
    parts = stages(data)
    minutes = sf.info(file).duration / 60
    agreement = beat_f_measure(beats, result["boundaries"][1:])
    return [
        Row(
            SECTION,
            f"{name}, {minutes:.1f} min {label}, {len(result['boundaries'])} beats",
            seconds(timing.ours),
            f"librosa load+beat_track {seconds(timing.theirs)}",
            f"{timing.ratio:.2f}x",
            "ratio <= 0.5",
        ),
        Row(
            SECTION,
            f"  where the time goes ({label})",
            parts.describe(),
            ratio=ratio(parts.spectral, parts.decode),
            target="spectral / decode <= 1",
        ),
        Row(
            SECTION,
            f"  beats beside librosa's ({label})",
            f"F = {agreement:.2f}",
            f"tempo {result['tempo']} BPM, librosa {tempo:.1f}",
        ),
    ]


def run() -> list[Row]:
    unpacked = fetch()
    if unpacked is None:
        return [Row(SECTION, "skipped: the songs could not be fetched with apt", "")]
    rows = [Row(SECTION, "load average when the section started", load_average())]
    with tempfile.TemporaryDirectory() as folder:
        for name, path in SONGS:
            for label, file in _files(unpacked / path, Path(folder)):
                rows.extend(_song_rows(name, label, file))
    rows.append(Row(SECTION, "load average when the section ended", load_average()))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
