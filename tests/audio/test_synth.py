"""The synthetic songs: deterministic, true to their ground truth, and structured as promised."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
import soundfile as sf

from mock_server.audio.synth import (
    FIXTURE_SONGS,
    GroundTruth,
    Section,
    SongSpec,
    SynthSong,
    render_song,
    song_bytes,
    spec_from_seed,
)

SHORT = SongSpec(tempo_bpm=120, duration_seconds=12.0, seed=7, bars_per_section=2)


@pytest.fixture(scope="module")
def short_song() -> SynthSong:
    return render_song(SHORT)


def _section_audio(song: SynthSong, section: Section) -> np.ndarray:
    rate = song.audio.sample_rate
    return song.audio.samples[round(section.start * rate) : round(section.end * rate), 0]


def test_rendering_is_deterministic(short_song: SynthSong) -> None:
    again = render_song(SHORT)
    assert np.array_equal(short_song.audio.samples, again.audio.samples)
    assert short_song.truth == again.truth
    assert song_bytes(SHORT, "mp3") == song_bytes(SHORT, "mp3")


def test_audio_shape_and_level(short_song: SynthSong) -> None:
    samples = short_song.audio.samples
    assert samples.dtype == np.float32
    assert samples.shape == (12 * 44100, 2)
    assert 0.5 < float(np.abs(samples).max()) <= 1.0


def test_beats_are_quarter_notes_from_the_first_downbeat() -> None:
    spec = SongSpec(tempo_bpm=96, duration_seconds=10.0, seed=1, lead_in_seconds=1.5)
    truth = render_song(spec).truth
    beats = np.asarray(truth.beat_times)
    assert beats[0] == pytest.approx(1.5)
    assert np.allclose(np.diff(beats), 60.0 / 96)
    assert beats[-1] < 10.0 <= beats[-1] + 60.0 / 96
    assert truth.tempo_bpm == 96.0


def test_lead_in_is_silent_and_music_follows() -> None:
    spec = SongSpec(tempo_bpm=128, duration_seconds=6.0, seed=3, lead_in_seconds=2.0)
    samples = render_song(spec).audio.samples
    assert not samples[: 2 * 44100].any()
    assert np.abs(samples[2 * 44100 : 3 * 44100]).max() > 0.1


def test_sections_cycle_the_form_and_cover_the_music(short_song: SynthSong) -> None:
    sections = short_song.truth.sections
    assert [s.label for s in sections] == ["verse", "chorus", "verse"]
    assert sections[0].start == 0.0
    assert sections[-1].end == 12.0
    assert all(a.end == pytest.approx(b.start) for a, b in itertools.pairwise(sections))


def test_repeated_sections_sound_alike_and_different_ones_do_not(short_song: SynthSong) -> None:
    verse, chorus, verse_again = (_section_audio(short_song, s) for s in short_song.truth.sections)
    length = min(verse.size, chorus.size, verse_again.size)

    def correlation(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.corrcoef(a[:length], b[:length])[0, 1])

    assert correlation(verse, verse_again) > 0.9
    assert correlation(verse, chorus) < correlation(verse, verse_again) - 0.3


def test_swing_moves_off_beats_but_not_beats() -> None:
    straight = SongSpec(tempo_bpm=96, duration_seconds=6.0, seed=5)
    swung = SongSpec(tempo_bpm=96, duration_seconds=6.0, seed=5, swing=1.0 / 6.0)
    straight_song, swung_song = render_song(straight), render_song(swung)
    assert straight_song.truth.beat_times == swung_song.truth.beat_times
    rate = 44100
    beat = 60.0 / 96
    # Up to the straight off-beat both are nearly the same (the mix's peak normalisation and the
    # bass notes' lengths differ); the swung off-beat comes later than the straight one.
    before = slice(0, round(0.45 * beat * rate))
    after = slice(round(0.5 * beat * rate), round(0.6 * beat * rate))

    def correlation(part: slice) -> float:
        a, b = straight_song.audio.samples[part, 0], swung_song.audio.samples[part, 0]
        return float(np.corrcoef(a, b)[0, 1])

    assert correlation(before) > 0.99
    assert correlation(after) < 0.9


def test_truth_serializes_to_json(short_song: SynthSong) -> None:
    document = short_song.truth.to_json()
    assert document["tempo_bpm"] == 120.0
    assert document["beat_times"] == list(short_song.truth.beat_times)
    assert document["sections"][1] == {"label": "chorus", "start": 4.0, "end": 8.0}
    assert isinstance(short_song.truth, GroundTruth)


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_song_bytes_decode_to_the_song(fmt: str) -> None:
    spec = SongSpec(tempo_bpm=120, duration_seconds=3.0, seed=2)
    samples, rate = sf.read(io.BytesIO(song_bytes(spec, fmt)), dtype="float32", always_2d=True)
    assert rate == 44100
    assert samples.shape[1] == 2
    assert samples.shape[0] == pytest.approx(3 * 44100, abs=2 * 1152 + 529)


def test_song_bytes_rejects_unknown_formats() -> None:
    with pytest.raises(ValueError, match="unsupported format"):
        song_bytes(SHORT, "aiff")


def test_fixture_catalogue_spans_the_tempo_range() -> None:
    tempos = {spec.tempo_bpm for spec in FIXTURE_SONGS.values()}
    assert {70, 96, 120, 128, 145, 170} <= tempos
    assert any(spec.swing > 0 for spec in FIXTURE_SONGS.values())
    assert any(spec.lead_in_seconds >= 3.0 for spec in FIXTURE_SONGS.values())
    with pytest.raises(TypeError):
        FIXTURE_SONGS["new"] = SHORT  # type: ignore[index]


def test_spec_from_seed_is_deterministic_and_plausible() -> None:
    first = spec_from_seed("https://example.com/a.mp3")
    assert first == spec_from_seed("https://example.com/a.mp3")
    assert first != spec_from_seed("https://example.com/b.mp3")
    specs = [spec_from_seed(f"song-{i}") for i in range(50)]
    assert all(70 <= s.tempo_bpm <= 170 for s in specs)
    assert all(45 <= s.duration_seconds <= 180 for s in specs)
    assert len({s.tempo_bpm for s in specs}) > 10


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tempo_bpm": 5}, "tempo_bpm"),
        ({"lead_in_seconds": 20.0}, "lead_in_seconds"),
        ({"swing": 0.5}, "swing"),
        ({"form": ()}, "form"),
    ],
)
def test_spec_rejects_impossible_values(changes: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"tempo_bpm": 120, "duration_seconds": 10.0, "seed": 1}
    arguments.update(changes)
    with pytest.raises(ValueError, match=message):
        SongSpec(**arguments)  # type: ignore[arg-type]
