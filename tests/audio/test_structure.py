"""Song structure: sections that tile the song, labels near for alike sections, and a quality
floor on synthetic songs whose form is known (the bench's figures in miniature)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from mock_server.audio.analysis import AnalysisResult, analyze
from mock_server.audio.errors import EngineValidationError
from mock_server.audio.similarity import encode_similarity
from mock_server.audio.structure import (
    MAX_FRAMES,
    MIN_BEATS,
    Structure,
    StructureSection,
    song_structure,
)
from mock_server.audio.synth import SongSpec, SynthSong, render_song
from mock_server.audio.types import Audio
from mock_server.jobs.analyses import analysis_from_json
from tests.audio.segment_metrics import (
    hit_rate_f,
    label_distance_correlation,
    majority_labels,
    pairwise_f,
)

POP = ("intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro")
SONGS = {
    "pop": SongSpec(tempo_bpm=112, duration_seconds=68.57, seed=2, form=POP),
    "irregular, pickup": SongSpec(
        tempo_bpm=140,
        duration_seconds=63.43,
        seed=3,
        form=("verse", "chorus", "verse", "chorus", "bridge", "chorus"),
        section_bars=(8, 6, 8, 6, 3, 6),
        pickup_bars=1,
    ),
    "aaba": SongSpec(
        tempo_bpm=112,
        duration_seconds=43.86,
        seed=2,
        form=("verse", "verse", "chorus", "verse"),
        section_bars=(4, 4, 8, 4),
        lead_in_seconds=1.0,
    ),
}
# Today's engine scores hit rate F (3 s) 0.80-1.00 (mean 0.87), pairwise F 0.65-0.88 (mean 0.78)
# and, since boundaries are refined to the beat, hit rate F (0.5 s) 0.20-0.53 (mean 0.34; 0.11
# before) on these songs; the floors leave room for a different but sound engine, not for one
# that lost the form or went back to boundaries a few beats off.
MEAN_HIT_RATE_3S = 0.7
MEAN_PAIRWISE_F = 0.65
MEAN_HIT_RATE_HALF_S = 0.25
SONG_FLOOR = 0.45


@dataclasses.dataclass(frozen=True)
class Scored:
    song: SynthSong
    analysis: AnalysisResult
    structure: Structure


@pytest.fixture(scope="module")
def scored() -> dict[str, Scored]:
    found = {}
    for name, spec in SONGS.items():
        song = render_song(spec)
        analysis = analyze(song.audio)
        found[name] = Scored(song, analysis, song_structure(analysis))
    return found


def reference(song: SynthSong, duration: float) -> tuple[list[tuple[float, float]], list[str]]:
    """The truth's sections, silence before the first beat as a section of its own."""
    intervals = [(s.start, s.end) for s in song.truth.sections]
    labels = [s.label for s in song.truth.sections]
    if intervals[0][0] > 0:
        intervals.insert(0, (0.0, intervals[0][0]))
        labels.insert(0, "silence")
    intervals[-1] = (intervals[-1][0], duration)
    return intervals, labels


def estimate(structure: Structure) -> tuple[list[tuple[float, float]], list[int]]:
    intervals = [(s.start_ms / 1000, s.end_ms / 1000) for s in structure.sections]
    return intervals, [s.label for s in structure.sections]


def assert_tiles(structure: Structure, duration: float) -> None:
    sections = structure.sections
    assert sections
    assert sections[0].start_ms == 0
    assert sections[-1].end_ms == round(duration * 1000)
    for section in sections:
        assert type(section.start_ms) is int and type(section.end_ms) is int
        assert type(section.label) is int and 0 <= section.label <= 1000
        assert section.start_ms < section.end_ms
    for before, after in itertools.pairwise(sections):
        assert before.end_ms == after.start_ms


def test_the_sections_find_the_form(scored: dict[str, Scored]) -> None:
    hits, pairs, exact = [], [], []
    for name, result in scored.items():
        ref, ref_labels = reference(result.song, result.analysis.duration)
        est, est_labels = estimate(result.structure)
        hit, pair = hit_rate_f(ref, est, window=3.0), pairwise_f(ref, ref_labels, est, est_labels)
        assert hit >= SONG_FLOOR, (name, hit)
        assert pair >= SONG_FLOOR, (name, pair)
        hits.append(hit)
        pairs.append(pair)
        exact.append(hit_rate_f(ref, est, window=0.5))
    assert np.mean(hits) >= MEAN_HIT_RATE_3S, hits
    assert np.mean(pairs) >= MEAN_PAIRWISE_F, pairs
    assert np.mean(exact) >= MEAN_HIT_RATE_HALF_S, exact


def test_alike_sections_get_near_labels(scored: dict[str, Scored]) -> None:
    for name, result in scored.items():
        ref, ref_labels = reference(result.song, result.analysis.duration)
        est, est_labels = estimate(result.structure)
        kinds = majority_labels(ref, ref_labels, est)
        assert label_distance_correlation(est_labels, kinds) > 0.3, name
        # Every repeat of the chorus (or verse) found, labelled alike: the most common kind's
        # sections share a label far more often than chance.
        common = max(set(kinds), key=kinds.count)
        same_kind = [label for label, kind in zip(est_labels, kinds, strict=True) if kind == common]
        assert max(same_kind.count(label) for label in same_kind) >= len(same_kind) / 2, name


def test_sections_tile_the_song_on_beats(scored: dict[str, Scored]) -> None:
    for result in scored.values():
        assert_tiles(result.structure, result.analysis.duration)
        beats_ms = {round(b * 1000) for b in result.analysis.boundaries}
        assert {s.start_ms for s in result.structure.sections} <= beats_ms


def test_structure_is_deterministic_and_reads_the_cached_form(scored: dict[str, Scored]) -> None:
    result = scored["pop"]
    cached = analysis_from_json(result.analysis.to_json())
    assert song_structure(cached) == result.structure
    assert song_structure(result.analysis) == result.structure


def test_a_song_too_short_for_two_sections_is_one() -> None:
    boundaries = tuple(round(0.5 * i, 2) for i in range(MIN_BEATS - 1))
    analysis = _analysis(np.ones((len(boundaries), len(boundaries))), boundaries, duration=8.0)
    assert song_structure(analysis) == Structure((StructureSection(0, 8000, 0),))


def test_silence_is_one_section() -> None:
    analysis = analyze(Audio(np.zeros((44100 * 20, 1), dtype=np.float32), 44100))
    assert song_structure(analysis) == Structure((StructureSection(0, 20000, 0),))


def test_a_song_without_repeats_still_tiles_and_labels_in_range() -> None:
    spec = SongSpec(tempo_bpm=140, duration_seconds=41.14, seed=3, form=tuple("abcdef"))
    analysis = analyze(render_song(spec).audio)
    structure = song_structure(analysis)
    assert_tiles(structure, analysis.duration)
    assert len(structure.sections) > 1


def _block_form(beats_per_section: int, form: str) -> tuple[np.ndarray, tuple[float, ...]]:
    """A beat similarity where each beat matches the same beat of every section of its kind
    (stripes) and nothing else: elsewhere noise below 0.6, averaged along the diagonal over five
    beats as the analysis's own similarity is."""
    kinds = np.repeat([ord(c) for c in form], beats_per_section)
    position = np.tile(np.arange(beats_per_section), len(form))
    rng = np.random.default_rng(0)
    noise = rng.uniform(0.0, 0.6, (kinds.size + 4, kinds.size + 4))
    noise = np.mean([noise[k : k + kinds.size, k : k + kinds.size] for k in range(5)], axis=0)
    matrix = np.where(
        (kinds[:, None] == kinds[None, :]) & (position[:, None] == position[None, :]),
        0.95,
        (noise + noise.T) / 2,
    )
    np.fill_diagonal(matrix, 1.0)
    return matrix, tuple(round(0.5 * i, 2) for i in range(kinds.size))


def _analysis(matrix: np.ndarray, boundaries: tuple[float, ...], duration: float) -> AnalysisResult:
    return AnalysisResult(
        duration=duration,
        tempo=120,
        boundaries=boundaries,
        similarity=encode_similarity(matrix),
        features=None,
    )


def test_stripes_alone_give_the_form() -> None:
    """A form whose every boundary changes where the music repeats (A's repeats, then B's, then
    A's again...), from its repetition stripes alone, beat by beat."""
    form = "ABACAB"
    matrix, boundaries = _block_form(32, form)
    duration = round(0.5 * len(boundaries), 2)
    structure = song_structure(_analysis(matrix, boundaries, duration))
    assert_tiles(structure, duration)
    truth = [(i * 16.0, (i + 1) * 16.0) for i in range(len(form))]
    est, labels = estimate(structure)
    assert hit_rate_f(truth, est, window=3.0) >= 0.8
    assert pairwise_f(truth, list(form), est, labels) >= 0.8
    assert label_distance_correlation(labels, majority_labels(truth, list(form), est)) > 0.3


def _analysed_form(beats_per_section: int, form: str) -> tuple[np.ndarray, tuple[float, ...]]:
    """Stripes and noise as in _block_form, then the whole matrix averaged along the diagonal
    over five beats as the analysis does it (features.CONTEXT_BEATS), so a stripe fades in and
    out over two beats each side of its section's edges, as in a real song's similarity."""
    kinds = np.repeat([ord(c) for c in form], beats_per_section)
    position = np.tile(np.arange(beats_per_section), len(form))
    noise = np.random.default_rng(0).uniform(0.0, 0.6, (kinds.size, kinds.size))
    same = (kinds[:, None] == kinds[None, :]) & (position[:, None] == position[None, :])
    raw = np.where(same, 0.95, (noise + noise.T) / 2)
    n = kinds.size
    total, count = np.zeros_like(raw), np.zeros_like(raw)
    for k in range(-2, 3):
        lo, hi = max(0, -k), min(n, n - k)
        total[lo:hi, lo:hi] += raw[lo + k : hi + k, lo + k : hi + k]
        count[lo:hi, lo:hi] += 1.0
    matrix = total / count
    np.fill_diagonal(matrix, 1.0)
    return matrix, tuple(round(0.5 * i, 2) for i in range(n))


@pytest.mark.parametrize("form", ["ABACAB", "AABBA"])
def test_boundaries_land_on_the_beat_where_the_stripes_change(form: str) -> None:
    """Refined to the beat: the structural-feature peaks alone landed one to three beats off here
    (within a quarter second: 0.67 and 0.40)."""
    beats = 32 if form == "ABACAB" else 24
    matrix, boundaries = _analysed_form(beats, form)
    duration = round(0.5 * len(boundaries), 2)
    est, _ = estimate(song_structure(_analysis(matrix, boundaries, duration)))
    truth = [(i * beats / 2, (i + 1) * beats / 2) for i in range(len(form))]
    assert hit_rate_f(truth, est, window=0.25) >= 0.85, est


def test_a_long_song_is_segmented_on_groups_of_beats() -> None:
    matrix, boundaries = _block_form(160, "ABACAB")
    assert len(boundaries) > MAX_FRAMES
    duration = round(0.5 * len(boundaries), 2)
    structure = song_structure(_analysis(matrix, boundaries, duration))
    assert_tiles(structure, duration)
    beats_ms = {round(b * 1000) for b in boundaries}
    assert {s.start_ms for s in structure.sections} <= beats_ms


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"boundaries": (0.5, 1.0)}, "boundaries"),
        ({"boundaries": (0.0, 1.0, 1.0)}, "boundaries"),
        ({"boundaries": (0.0, 1.0, 9.0)}, "boundaries"),
        ({"duration": 0.0}, "duration"),
        ({"duration": float("nan")}, "duration"),
        ({"boundaries": (0.0, 1.0)}, "similarity"),
    ],
)
def test_impossible_analyses_are_refused_naming_the_field(
    change: dict[str, object], field: str
) -> None:
    good = _analysis(np.eye(3), (0.0, 1.0, 2.0), duration=3.0)
    bad = dataclasses.replace(good, **change)  # type: ignore[arg-type]
    with pytest.raises(EngineValidationError) as raised:
        song_structure(bad)
    assert raised.value.field == field
