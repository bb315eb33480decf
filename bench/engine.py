"""Engine figures for a 3-minute song: decode, analysis, resize and export, beside alternatives."""

from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lameenc
import numpy as np
import soundfile as sf

from bench.reference import load_and_track
from bench.timing import Row, alternating, median_seconds, ratio, seconds
from mock_server.audio.analysis import analyze_bytes
from mock_server.audio.decode import decode_audio
from mock_server.audio.encode import LAME_QUALITY, to_pcm16
from mock_server.audio.export import export_groups
from mock_server.audio.resize import parse_resize_input, resize_candidates
from mock_server.audio.similarity import encode_similarity
from mock_server.audio.synth import SongSpec, render_song, song_bytes
from mock_server.audio.types import DecodeLimits, ExportFormat

SONG = SongSpec(tempo_bpm=120, duration_seconds=180, seed=2026)
LONG_SONG = SongSpec(tempo_bpm=120, duration_seconds=600, seed=2026)
SECTION = "engine"

# Run in a fresh interpreter: the first call there shows any JIT or cache warm-up cost.
_FIRST_CALL_SCRIPT = """
import json, sys, time
from mock_server.audio.analysis import analyze_bytes
from mock_server.audio.types import DecodeLimits
data = open(sys.argv[1], "rb").read()
times = []
for _ in range(2):
    started = time.perf_counter()
    analyze_bytes(data, True, DecodeLimits())
    times.append(time.perf_counter() - started)
print(json.dumps(times))
"""

# A fresh interpreter's peak resident size, imports included, as VmHWM and as ru_maxrss. On Linux
# ru_maxrss also carries the high-water mark of the process that started it (it survives exec), so
# the script is started from a small interpreter of its own (_FROM_A_SMALL_PARENT), not from the
# bench, whose own mark (over 1 GB with librosa loaded) it would otherwise report.
_PEAK_MEMORY_SCRIPT = """
import json, resource, sys
from mock_server.audio import analysis
from mock_server.audio.types import DecodeLimits
getattr(analysis, sys.argv[2])(open(sys.argv[1], "rb").read(), True, DecodeLimits())
status = open("/proc/self/status").read().split("VmHWM:")[1]
maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps([int(status.split()[0]), maxrss]))
"""
_FROM_A_SMALL_PARENT = """
import subprocess, sys
subprocess.run([sys.executable, "-c", sys.argv[3], *sys.argv[1:3]], check=True)
"""


def _run_script(script: str, path: Path, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), *arguments],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _synthetic_analysis(beats: int) -> tuple[list[float], dict[str, object]]:
    """A structured similarity matrix of `beats` beats (an A/B form), for resize at any size."""
    rng = np.random.default_rng(beats)
    labels = (np.arange(beats) // 32) % 3
    matrix = np.where(labels[:, None] == labels[None, :], 0.8, 0.2)
    matrix = np.clip(matrix + rng.normal(0, 0.1, (beats, beats)), 0, 1)
    matrix = (matrix + matrix.T) / 2
    np.fill_diagonal(matrix, 1.0)
    boundaries = [round(i * 0.5, 2) for i in range(beats)]
    return boundaries, encode_similarity(matrix).to_json()


def _resize_rows() -> list[Row]:
    """Shortening to 0.6x (one and two cuts) at three sizes, and at 30 minutes lengthening to 1.5x
    as well, where the loop search runs too."""
    rows = []
    for beats, stretch, budget in (
        (300, 0.6, ""),
        (1200, 0.6, "< 1 s"),
        (3600, 0.6, "< 300 ms"),
        (3600, 1.5, "< 300 ms"),
    ):
        boundaries, similarity = _synthetic_analysis(beats)
        request = parse_resize_input(similarity, boundaries, boundaries[-1] * stretch)
        took = median_seconds(functools.partial(resize_candidates, request), repeats=5)
        name = f"resize, N = {beats} beats" + (f", to {stretch}x" if stretch > 1 else "")
        rows.append(Row(SECTION, name, seconds(took), target=budget))
    return rows


def _export_rows(wav: bytes) -> list[Row]:
    """Our export beside the bare encoders given the same 2.5 minutes of samples: the ratio is
    what stitching, crossfades and our wrapping cost on top of encoding."""
    audio = decode_audio(wav)
    groups = (((0.0, 60.0), (90.0, 180.0)),)
    rate = audio.sample_rate
    same = np.concatenate([audio.samples[: 60 * rate], audio.samples[90 * rate : 180 * rate]])
    ours = median_seconds(functools.partial(export_groups, audio, groups, ExportFormat.MP3_128))

    def bare_lame() -> None:
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(128)
        encoder.set_in_sample_rate(rate)
        encoder.set_channels(same.shape[1])
        encoder.set_quality(LAME_QUALITY)
        encoder.encode(to_pcm16(same).tobytes())
        encoder.flush()

    lame = median_seconds(bare_lame)
    soundfile_mp3 = median_seconds(
        lambda: sf.write(io.BytesIO(), same, rate, format="MP3"), repeats=1
    )
    wav_took = median_seconds(functools.partial(export_groups, audio, groups, ExportFormat.WAV))
    soundfile_wav = median_seconds(
        lambda: sf.write(io.BytesIO(), same, rate, format="WAV", subtype="PCM_16")
    )
    return [
        Row(
            SECTION,
            "export 2.5 min, mp3_128",
            seconds(ours),
            "bare LAME (lameenc) " + seconds(lame),
            ratio(ours, lame),
            "< 3 s",
        ),
        Row(
            SECTION,
            "  the encoder we chose: LAME",
            seconds(lame),
            "soundfile MP3 writer " + seconds(soundfile_mp3),
            ratio(lame, soundfile_mp3),
        ),
        Row(
            SECTION,
            "export 2.5 min, wav",
            seconds(wav_took),
            "bare soundfile WAV writer " + seconds(soundfile_wav),
            ratio(wav_took, soundfile_wav),
        ),
    ]


def _peak_memory_rows(path: Path) -> list[Row]:
    """Peak memory of a fresh process analysing `path`: alone (the CLI, `trigger`) and with the
    dashboard's waveform summary (the job's path)."""
    rows = []
    for function, what in (
        ("analyze_bytes", "analysed"),
        ("analyze_with_peaks", "analysed with its waveform summary (a job)"),
    ):
        measured = _run_script(_FROM_A_SMALL_PARENT, path, function, _PEAK_MEMORY_SCRIPT)
        high_water, maxrss = json.loads(measured)
        rows.append(
            Row(
                SECTION,
                f"peak memory, 10-minute MP3 {what}",
                f"{maxrss / 1024:.0f} MB",
                f"VmHWM {high_water / 1024:.0f} MB",
                target="<= 200 MB",
            )
        )
    return rows


def run() -> list[Row]:
    rows: list[Row] = []
    song = render_song(SONG).audio
    with tempfile.TemporaryDirectory() as folder:
        wav_path, mp3_path = Path(folder) / "song.wav", Path(folder) / "song.mp3"
        sf.write(wav_path, song.samples, song.sample_rate, subtype="PCM_16")
        mp3_path.write_bytes(song_bytes(SONG, "mp3"))
        for label, path in (("WAV", wav_path), ("MP3", mp3_path)):
            data = path.read_bytes()
            decode = median_seconds(functools.partial(decode_audio, data))
            ours = functools.partial(analyze_bytes, data, True, DecodeLimits())
            ours()  # warm-up
            timing = alternating(ours, load_and_track(path))
            rows.append(Row(SECTION, f"decode 3 min {label}", seconds(decode)))
            rows.append(
                Row(
                    SECTION,
                    f"whole analysis 3 min {label}",
                    seconds(timing.ours),
                    f"librosa load+beat_track {seconds(timing.theirs)}",
                    f"{timing.ratio:.2f}x",
                    "ratio <= 0.5",
                )
            )
        first, second = json.loads(_run_script(_FIRST_CALL_SCRIPT, mp3_path))
        rows.append(
            Row(
                SECTION,
                "analysis, first call in a fresh process",
                seconds(first),
                f"second call {seconds(second)}",
                ratio(first, second),
                "no JIT: ~1.0",
            )
        )
        rows.extend(_export_rows(wav_path.read_bytes()))
        long_path = Path(folder) / "long.mp3"
        long_path.write_bytes(song_bytes(LONG_SONG, "mp3"))
        rows.extend(_peak_memory_rows(long_path))
    rows.extend(_resize_rows())
    return rows


if __name__ == "__main__":
    started = time.perf_counter()
    for row in run():
        print(row)
    print(f"took {time.perf_counter() - started:.1f} s")
