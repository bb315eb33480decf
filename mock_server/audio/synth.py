"""Deterministic synthetic songs with ground truth (tempo, beats, sections) for tests and demos.

A song is drums (kick, snare, hats), bass and chords over a verse/chorus form. Every section with
the same label is rendered from the same musical material (chords, bass line, drum pattern, sound),
so repeated sections really are alike and different sections really differ. All randomness comes
from numpy Generators seeded from the spec, so a spec always renders to the same samples and bytes.

For structure benchmarks a spec can also ask for what real songs do and a plain form does not:
sections of irregular lengths, pickup bars before the form, repeats that vary, and a tempo that
drifts. Left at their defaults these render exactly what a spec without them always rendered.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from mock_server.audio.encode import encode_mp3
from mock_server.audio.types import Audio, FloatArray

BEATS_PER_BAR = 4
MP3_BITRATE_KBPS = 192
_PEAK_LEVEL = 0.89
# Scale degrees (0 = tonic) of the diatonic triads each section's four bars cycle through.
_PROGRESSIONS: tuple[tuple[int, ...], ...] = (
    (0, 5, 3, 4),
    (3, 4, 0, 0),
    (5, 3, 0, 4),
    (1, 4, 0, 5),
    (0, 2, 3, 4),
    (3, 0, 4, 5),
)
_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
_SOUNDFILE_FORMATS = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
}
PICKUP = "pickup"
_FORMS: tuple[tuple[str, ...], ...] = (
    ("intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro"),
    ("verse", "chorus", "verse", "chorus"),
    ("intro", "verse", "verse", "chorus", "verse", "chorus", "outro"),
)


@dataclass(frozen=True)
class SongSpec:
    """What to render: the labels in `form` repeat (cycled) until `duration_seconds` is filled.

    `swing` delays every off-beat eighth note by that fraction of a beat (1/6 is a triplet feel);
    `lead_in_seconds` of digital silence come before the first beat.

    For structure: `section_bars` gives each section its own length in bars (cycled like `form`;
    empty: every section is `bars_per_section` long); `pickup_bars` of drums alone (a section
    labelled "pickup") come before the form; with `vary_repeats` every later occurrence of a label
    differs a little from its first (its last chord a scale degree up, a brighter chord voice); and
    `tempo_drift` moves the tempo linearly from `tempo_bpm` to `tempo_bpm * (1 + tempo_drift)` over
    the song's music (`tempo_bpm` stays the ground truth's tempo: the one at the start).
    """

    tempo_bpm: float
    duration_seconds: float
    seed: int
    swing: float = 0.0
    lead_in_seconds: float = 0.0
    form: tuple[str, ...] = ("verse", "chorus")
    bars_per_section: int = 4
    sample_rate: int = 44100
    channels: int = 2
    section_bars: tuple[int, ...] = ()
    pickup_bars: int = 0
    vary_repeats: bool = False
    tempo_drift: float = 0.0

    def __post_init__(self) -> None:
        if not 20.0 <= self.tempo_bpm <= 400.0:
            raise ValueError(f"tempo_bpm must be within 20..400, got {self.tempo_bpm}")
        if self.duration_seconds <= self.lead_in_seconds or self.lead_in_seconds < 0:
            raise ValueError("duration_seconds must exceed a non-negative lead_in_seconds")
        if not 0.0 <= self.swing < 0.5:
            raise ValueError(f"swing must be within [0, 0.5), got {self.swing}")
        if not self.form or self.bars_per_section < 1 or self.channels not in (1, 2):
            raise ValueError("form must be non-empty, bars_per_section >= 1, channels 1 or 2")
        if any(bars < 1 for bars in self.section_bars) or self.pickup_bars < 0:
            raise ValueError("section_bars must all be >= 1 and pickup_bars >= 0")
        if not -0.5 <= self.tempo_drift <= 1.0:
            raise ValueError(f"tempo_drift must be within [-0.5, 1], got {self.tempo_drift}")

    @property
    def beat_seconds(self) -> float:
        return 60.0 / self.tempo_bpm

    def bars_of(self, index: int) -> int:
        """How many bars the form's `index`-th section lasts."""
        if not self.section_bars:
            return self.bars_per_section
        return self.section_bars[index % len(self.section_bars)]

    def real_time(self, score: float) -> float:
        """Seconds into the file of `score`, a time counted at the starting tempo.

        With a drift the tempo after the lead-in is tempo_bpm * (1 + drift * s / M), s the score
        time since the lead-in and M the music's length, so the elapsed time is the integral of
        its inverse: (M / drift) * ln(1 + drift * s / M). Without a drift the score's time is
        returned untouched, so a spec without one renders exactly as it always did.
        """
        if self.tempo_drift == 0.0:
            return score
        rate = self.tempo_drift / (self.duration_seconds - self.lead_in_seconds)
        return self.lead_in_seconds + math.log1p(rate * (score - self.lead_in_seconds)) / rate

    def score_time(self, real: float) -> float:
        """The inverse of `real_time`."""
        if self.tempo_drift == 0.0:
            return real
        rate = self.tempo_drift / (self.duration_seconds - self.lead_in_seconds)
        return self.lead_in_seconds + math.expm1(rate * (real - self.lead_in_seconds)) / rate


@dataclass(frozen=True)
class Section:
    """One stretch of the form, in seconds from the start of the file."""

    label: str
    start: float
    end: float

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class GroundTruth:
    """What an analysis should find: the tempo, every quarter-note beat and the sections."""

    tempo_bpm: float
    beat_times: tuple[float, ...]
    sections: tuple[Section, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "tempo_bpm": self.tempo_bpm,
            "beat_times": list(self.beat_times),
            "sections": [section.to_json() for section in self.sections],
        }


@dataclass(frozen=True)
class SynthSong:
    audio: Audio
    truth: GroundTruth


@dataclass(frozen=True)
class _Placed:
    """A section as rendered: its ground truth, where it lies in score time (at the starting
    tempo, see SongSpec.real_time) and how many times its label came before."""

    section: Section
    start: float
    end: float
    bars: int
    occurrence: int


@dataclass(frozen=True)
class _Material:
    """The musical content of one section label, shared by all its repeats."""

    chords: tuple[tuple[int, ...], ...]  # MIDI notes per bar
    bass_eighths: bool
    kick_and_of_three: bool
    open_hats: bool
    brightness: float  # harmonic roll-off exponent of the chord voice; lower is brighter
    level: float


def render_song(spec: SongSpec) -> SynthSong:
    """Render `spec` to audio plus the ground truth it was built from."""
    sr = spec.sample_rate
    total = round(spec.duration_seconds * sr)
    mix = np.zeros((2, total), dtype=np.float64)
    song_rng = np.random.default_rng(spec.seed)
    key = int(song_rng.integers(0, 12))
    labels = tuple(dict.fromkeys(spec.form))
    progressions = song_rng.permutation(len(_PROGRESSIONS))
    materials = {
        label: _material(
            spec.seed, label, i, key, _PROGRESSIONS[progressions[i % len(_PROGRESSIONS)]]
        )
        for i, label in enumerate(labels)
    }
    drums = _DrumKit.build(sr, np.random.default_rng([spec.seed, 1]))
    placed = _sections(spec)
    for part in placed:
        _render_section(mix, spec, part, _material_of(materials, part, spec), drums)
    sections = tuple(part.section for part in placed)
    peak = float(np.max(np.abs(mix))) or 1.0
    samples = (mix * (_PEAK_LEVEL / peak)).T.astype(np.float32)
    if spec.channels == 1:
        samples = samples.mean(axis=1, keepdims=True, dtype=np.float32)
    truth = GroundTruth(
        tempo_bpm=float(spec.tempo_bpm), beat_times=_beat_times(spec), sections=sections
    )
    return SynthSong(
        audio=Audio(samples=np.ascontiguousarray(samples), sample_rate=sr), truth=truth
    )


def song_bytes(spec: SongSpec, fmt: str) -> bytes:
    """The rendered song as a file: fmt is "wav", "mp3", "flac" or "ogg"."""
    audio = render_song(spec).audio
    if fmt == "mp3":
        return encode_mp3(audio.samples, audio.sample_rate, MP3_BITRATE_KBPS)
    if fmt not in _SOUNDFILE_FORMATS:
        raise ValueError(f"unsupported format {fmt!r}; use wav, mp3, flac or ogg")
    container, subtype = _SOUNDFILE_FORMATS[fmt]
    buffer = io.BytesIO()
    sf.write(buffer, audio.samples, audio.sample_rate, format=container, subtype=subtype)
    return buffer.getvalue()


def spec_from_seed(seed: str) -> SongSpec:
    """A plausible song drawn from any string (a URL, say): same string, same song."""
    number = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:8], "big")
    rng = np.random.default_rng(number)
    tempo = float(rng.integers(70, 171))
    swing = float(rng.choice([0.0, 0.0, 0.0, 1.0 / 6.0]))
    lead_in = float(rng.choice([0.0, 0.0, round(float(rng.uniform(0.5, 3.0)), 2)]))
    duration = round(float(rng.uniform(45.0, 180.0)), 2)
    form = _FORMS[int(rng.integers(0, len(_FORMS)))]
    return SongSpec(
        tempo_bpm=tempo,
        duration_seconds=duration,
        seed=number,
        swing=swing,
        lead_in_seconds=lead_in,
        form=form,
    )


def _sections(spec: SongSpec) -> tuple[_Placed, ...]:
    """The pickup then the form, cycled until the song ends; all arithmetic in score time, as a
    song without the structure options always did it (so it renders the same floats)."""
    score_end = spec.score_time(spec.duration_seconds)
    placed: list[_Placed] = []
    seen: dict[str, int] = {}
    start = spec.lead_in_seconds
    index = 0
    if spec.pickup_bars:
        start = _place(placed, spec, label=PICKUP, start=start, bars=spec.pickup_bars, occurrence=0)
    while start < score_end - 1e-9:
        label = spec.form[index % len(spec.form)]
        bars, occurrence = spec.bars_of(index), seen.get(label, 0)
        start = _place(placed, spec, label=label, start=start, bars=bars, occurrence=occurrence)
        seen[label] = seen.get(label, 0) + 1
        index += 1
    return tuple(placed)


def _place(
    placed: list[_Placed], spec: SongSpec, *, label: str, start: float, bars: int, occurrence: int
) -> float:
    """Append one section starting at `start` (score time); return where the next one starts."""
    length = bars * BEATS_PER_BAR * spec.beat_seconds
    end = min(start + length, spec.score_time(spec.duration_seconds))
    truth = Section(
        label,
        round(spec.real_time(start), 6),
        round(min(spec.real_time(end), spec.duration_seconds), 6),
    )
    placed.append(_Placed(truth, round(start, 6), round(end, 6), bars, occurrence))
    return start + length


def _beat_times(spec: SongSpec) -> tuple[float, ...]:
    score_end = spec.score_time(spec.duration_seconds)
    count = int(np.floor((score_end - spec.lead_in_seconds) / spec.beat_seconds - 1e-9))
    scores = spec.lead_in_seconds + spec.beat_seconds * np.arange(count + 1)
    times = [spec.real_time(float(t)) for t in scores] if spec.tempo_drift else scores
    return tuple(round(float(t), 6) for t in times if t < spec.duration_seconds)


def _material_of(materials: Mapping[str, _Material], part: _Placed, spec: SongSpec) -> _Material:
    """The label's material; a later occurrence varied when the spec asks for it."""
    if part.section.label == PICKUP:
        return _PICKUP_MATERIAL
    material = materials[part.section.label]
    if not spec.vary_repeats or part.occurrence == 0:
        return material
    # The last bar plays the first bar's chord (no progression starts and ends on one chord).
    return dataclasses.replace(
        material,
        chords=(*material.chords[:-1], material.chords[0]),
        brightness=max(0.5, material.brightness - 0.3),
    )


def _material(
    seed: int, label: str, index: int, key: int, progression: tuple[int, ...]
) -> _Material:
    """Alternate labels alternate the groove, so neighbouring sections differ in rhythm too."""
    rng = np.random.default_rng([seed, *label.encode("utf-8")])
    root = 48 + key  # C3 + key
    chords = tuple(_triad(root, degree) for degree in progression)
    return _Material(
        chords=chords,
        bass_eighths=index % 2 == 0,
        kick_and_of_three=index % 2 == 1,
        open_hats=index % 2 == 1,
        brightness=float(rng.uniform(0.8, 2.2)),
        level=float(rng.uniform(0.7, 1.0)),
    )


# Pickup bars are drums alone: no chord (an empty one), so no chord voice and no bass.
_PICKUP_MATERIAL = _Material(
    chords=((),),
    bass_eighths=False,
    kick_and_of_three=False,
    open_hats=False,
    brightness=1.0,
    level=1.0,
)


def _triad(root: int, degree: int) -> tuple[int, ...]:
    return tuple(
        root + 12 * ((degree + step) // 7) + _MAJOR_SCALE[(degree + step) % 7] for step in (0, 2, 4)
    )


@dataclass(frozen=True)
class _DrumKit:
    kick: FloatArray
    snare: FloatArray
    closed_hat: FloatArray
    open_hat: FloatArray

    @staticmethod
    def build(sr: int, rng: np.random.Generator) -> _DrumKit:
        t = np.arange(int(0.35 * sr)) / sr
        sweep = 45.0 + 95.0 * np.exp(-t / 0.03)
        kick = np.sin(2 * np.pi * np.cumsum(sweep) / sr) * np.exp(-t / 0.12)
        kick[: int(0.002 * sr)] += 0.5
        ts = t[: int(0.25 * sr)]
        noise = np.diff(rng.standard_normal(ts.size + 1))
        snare = 0.5 * noise * np.exp(-ts / 0.07) + 0.6 * np.sin(2 * np.pi * 190 * ts) * np.exp(
            -ts / 0.05
        )
        hat_noise = np.diff(rng.standard_normal(t.size + 2), n=2)
        closed = 0.12 * hat_noise[: int(0.06 * sr)] * np.exp(-t[: int(0.06 * sr)] / 0.015)
        opened = 0.1 * hat_noise[: int(0.25 * sr)] * np.exp(-ts / 0.08)
        return _DrumKit(
            kick=kick.astype(np.float32),
            snare=snare.astype(np.float32),
            closed_hat=closed.astype(np.float32),
            open_hat=opened.astype(np.float32),
        )


def _render_section(
    mix: NDArray[np.float64], spec: SongSpec, part: _Placed, material: _Material, drums: _DrumKit
) -> None:
    sr = spec.sample_rate
    beat = spec.beat_seconds
    offbeat = beat * (0.5 + spec.swing)
    hat = drums.open_hat if material.open_hats else drums.closed_hat
    at = spec.real_time
    for bar in range(part.bars):
        bar_start = part.start + bar * BEATS_PER_BAR * beat
        if bar_start >= part.end:
            return
        chord = material.chords[bar % len(material.chords)]
        if chord:
            tone = _chord_tone(chord, BEATS_PER_BAR * beat, sr, material)
            _add(mix, sr, at(bar_start), tone, (0.8, 0.5))
        for step in range(BEATS_PER_BAR):
            onbeat = bar_start + step * beat
            drum = drums.kick if step % 2 == 0 else drums.snare
            _add(mix, sr, at(onbeat), drum, (1.0, 1.0))
            _add(mix, sr, at(onbeat), drums.closed_hat, (0.6, 0.9))
            _add(mix, sr, at(onbeat + offbeat), hat, (0.6, 0.9))
            if step == 2 and material.kick_and_of_three:
                _add(mix, sr, at(onbeat + offbeat), drums.kick * np.float32(0.5), (1.0, 1.0))
            if not chord:
                continue
            bass_note = chord[0] - 12
            note_length = offbeat if material.bass_eighths else beat
            _add(mix, sr, at(onbeat), _bass_tone(bass_note, note_length, sr), (0.9, 0.9))
            if material.bass_eighths:
                off_length = beat - offbeat
                bass = _bass_tone(bass_note, off_length, sr)
                _add(mix, sr, at(onbeat + offbeat), bass, (0.9, 0.9))


def _add(
    mix: NDArray[np.float64], sr: int, at: float, sound: FloatArray, gains: tuple[float, float]
) -> None:
    start = round(at * sr)
    if start >= mix.shape[1]:
        return
    piece = sound[: mix.shape[1] - start]
    mix[0, start : start + piece.size] += gains[0] * piece
    mix[1, start : start + piece.size] += gains[1] * piece


def _midi_hz(note: int) -> float:
    return float(440.0 * 2.0 ** ((note - 69) / 12.0))


def _bass_tone(note: int, seconds: float, sr: int) -> FloatArray:
    t = np.arange(int(seconds * sr)) / sr
    f = _midi_hz(note)
    wave = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)
    envelope = np.minimum(1.0, t / 0.005) * np.exp(-t / max(seconds, 0.1)) * _release(t.size, sr)
    return (0.45 * wave * envelope).astype(np.float32)


def _chord_tone(chord: tuple[int, ...], seconds: float, sr: int, material: _Material) -> FloatArray:
    t = np.arange(int(seconds * sr)) / sr
    wave = np.zeros_like(t)
    for note in chord:
        f = _midi_hz(note)
        for harmonic in range(1, 6):
            wave += np.sin(2 * np.pi * f * harmonic * t) / harmonic**material.brightness
    envelope = np.minimum(1.0, t / 0.02) * (0.6 + 0.4 * np.exp(-t / 0.3)) * _release(t.size, sr)
    return (0.12 * material.level * wave * envelope).astype(np.float32)


def _release(size: int, sr: int) -> NDArray[np.float64]:
    """A 10 ms fade at the end of a note so notes never click."""
    fade = min(size, int(0.01 * sr))
    ramp = np.ones(size)
    ramp[size - fade :] = np.linspace(1.0, 0.0, fade)
    return ramp


FIXTURE_SONGS: Mapping[str, SongSpec] = MappingProxyType(
    {
        "ballad_70": SongSpec(tempo_bpm=70.0, duration_seconds=30.0, seed=70, bars_per_section=2),
        "swing_96": SongSpec(tempo_bpm=96.0, duration_seconds=30.0, seed=96, swing=1.0 / 6.0),
        "pop_120": SongSpec(tempo_bpm=120.0, duration_seconds=30.0, seed=120),
        "house_128_lead_in": SongSpec(
            tempo_bpm=128.0, duration_seconds=30.0, seed=128, lead_in_seconds=3.0
        ),
        "rock_145": SongSpec(tempo_bpm=145.0, duration_seconds=30.0, seed=145),
        "dnb_170": SongSpec(tempo_bpm=170.0, duration_seconds=30.0, seed=170),
    }
)
