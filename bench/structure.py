"""Song structure (/structure) on synthetic songs of known form, scored with mir_eval.segment
beside librosa's Laplacian segmentation and a fixed 8-bar grid, and timed.

Each form is rendered by the synth at three tempi (fresh seeds): verse/chorus/bridge with repeats,
irregular section lengths after a pickup bar, varied repeats under a drifting tempo, a form with no
repeat at all, and AABA with a silent lead-in. Scores: boundary hit rate F within 0.5 s and 3 s
(trim=True), pairwise frame clustering F and NCE F (mir_eval.segment), and for the mock the label
promise: Spearman between |label_i - label_j| and the form's distance of the two sections (0 for
the same kind of section, 1 otherwise), each section taking the kind it overlaps most. librosa's
labels are cluster numbers with no order and the grid's are all equal, so neither has that row.

Synthetic scores test the mechanics (does a repeat come back with its label, does a boundary
land near a change), not accuracy on real music.
"""

from __future__ import annotations

import functools
import itertools
import math
import statistics
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.structure_reference import laplacian_segments
from bench.timing import Row, median_seconds, ratio, seconds
from mock_server.audio.analysis import AnalysisResult, analyze
from mock_server.audio.structure import Structure, song_structure
from mock_server.audio.synth import BEATS_PER_BAR, SongSpec, SynthSong, render_song
from tests.audio.segment_metrics import label_distance_correlation, majority_labels

SECTION = "structure"
TEMPI = (84.0, 112.0, 140.0)
GRID_BARS = 8
POP = ("intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro")
# name -> the SongSpec fields beyond tempo, duration and seed
FORMS: dict[str, dict[str, object]] = {
    "pop form": {"form": POP},
    "irregular lengths, pickup bar": {
        "form": ("verse", "chorus", "verse", "chorus", "bridge", "chorus"),
        "section_bars": (8, 6, 8, 6, 3, 6),
        "pickup_bars": 1,
    },
    "varied repeats, tempo drift +8%": {
        "form": (*POP[:-1], "chorus"),
        "vary_repeats": True,
        "tempo_drift": 0.08,
    },
    "no repeats": {"form": ("a", "b", "c", "d", "e", "f")},
    "AABA, lead-in": {
        "form": ("verse", "verse", "chorus", "verse"),
        "section_bars": (4, 4, 8, 4),
        "lead_in_seconds": 1.0,
    },
}
Segments = tuple[np.ndarray, Sequence[Hashable]]


@dataclass(frozen=True)
class Scores:
    hit_half: float
    hit_three: float
    pairwise: float
    nce: float


def _spec(fields: dict[str, object], tempo: float, seed: int) -> SongSpec:
    """The form once through at `tempo`, no cycling: its length from its bars (and its drift)."""
    form = fields["form"]
    assert isinstance(form, tuple)
    bars_of = fields.get("section_bars") or (4,)
    assert isinstance(bars_of, tuple)
    pickup = fields.get("pickup_bars", 0)
    assert isinstance(pickup, int)
    bars = sum(bars_of[i % len(bars_of)] for i in range(len(form))) + pickup
    lead = fields.get("lead_in_seconds", 0.0)
    drift = fields.get("tempo_drift", 0.0)
    assert isinstance(lead, float) and isinstance(drift, float)
    music = bars * BEATS_PER_BAR * 60.0 / tempo
    if drift:
        # The synth's drift over music of real length M plays a score S in (M / d) ln(1 + d S / M)
        # seconds; that equals M where M = d S / (e^d - 1).
        music = drift * music / float(np.expm1(drift))
    return SongSpec(
        tempo_bpm=tempo,
        # Floored: a duration rounded up past the form starts it again for a few milliseconds.
        duration_seconds=math.floor((lead + music) * 100) / 100,
        seed=seed,
        **fields,  # type: ignore[arg-type]
    )


def reference(song: SynthSong, duration: float) -> Segments:
    """The truth's sections as mir_eval intervals, silence before the first beat as its own."""
    intervals = [(s.start, s.end) for s in song.truth.sections]
    labels: list[Hashable] = [s.label for s in song.truth.sections]
    if intervals[0][0] > 0:
        intervals.insert(0, (0.0, intervals[0][0]))
        labels.insert(0, "silence")
    intervals[-1] = (intervals[-1][0], duration)
    return np.array(intervals), labels


def ours(structure: Structure) -> Segments:
    intervals = [(s.start_ms / 1000, s.end_ms / 1000) for s in structure.sections]
    return np.array(intervals), [s.label for s in structure.sections]


def grid(analysis: AnalysisResult) -> Segments:
    """A boundary every GRID_BARS bars of the analysed tempo from 0, every section one label."""
    step = GRID_BARS * BEATS_PER_BAR * 60.0 / analysis.tempo
    times = [*np.arange(0.0, analysis.duration - step / 2, step).tolist(), analysis.duration]
    intervals = list(itertools.pairwise(times))
    return np.array(intervals), [0] * len(intervals)


def score(truth: Segments, estimate: Segments) -> Scores:
    import mir_eval  # the bench extra

    ref, ref_labels = truth
    est, est_labels = estimate
    est = est.copy()
    est[-1, 1] = ref[-1, 1]  # ms rounding: mir_eval wants both to end together
    segment = mir_eval.segment
    return Scores(
        hit_half=segment.detection(ref, est, window=0.5, trim=True)[2],
        hit_three=segment.detection(ref, est, window=3.0, trim=True)[2],
        pairwise=segment.pairwise(ref, ref_labels, est, est_labels)[2],
        nce=segment.nce(ref, ref_labels, est, est_labels)[2],
    )


def _mean(scores: Sequence[Scores], field: str) -> float:
    return statistics.mean(float(getattr(s, field)) for s in scores)


def _cell(scores: Sequence[Scores]) -> str:
    fields = ("hit_half", "hit_three", "pairwise", "nce")
    return " / ".join(f"{_mean(scores, f):.2f}" for f in fields)


def run() -> list[Row]:
    rows: list[Row] = []
    totals: dict[str, list[Scores]] = {"ours": [], "librosa": [], "grid": []}
    correlations: list[float] = []
    librosa_seconds: list[float] = []
    for index, (name, fields) in enumerate(FORMS.items()):
        per_form: dict[str, list[Scores]] = {"ours": [], "librosa": [], "grid": []}
        for tempo in TEMPI:
            song = render_song(_spec(fields, tempo, seed=100 * index + int(tempo)))
            analysis = analyze(song.audio)
            truth = reference(song, analysis.duration)
            structure = song_structure(analysis)
            started = time.perf_counter()
            theirs = laplacian_segments(song.audio)
            librosa_seconds.append(time.perf_counter() - started)
            estimates = {"ours": ours(structure), "librosa": theirs, "grid": grid(analysis)}
            for method, estimate in estimates.items():
                per_form[method].append(score(truth, estimate))
            labels = [section.label for section in structure.sections]
            kinds = majority_labels(truth[0].tolist(), truth[1], estimates["ours"][0].tolist())
            correlations.append(label_distance_correlation(labels, kinds))
        for method in totals:
            totals[method].extend(per_form[method])
        rows.append(
            Row(
                SECTION,
                f"{name}, {len(TEMPI)} tempi: HR .5 s / HR 3 s / pairwise / NCE",
                _cell(per_form["ours"]),
                f"librosa {_cell(per_form['librosa'])}; grid {_cell(per_form['grid'])}",
            )
        )
    count = len(totals["ours"])
    for field, what, target in (
        ("hit_half", "hit rate F at 0.5 s", ""),
        ("hit_three", "hit rate F at 3 s", ">= librosa, > grid"),
        ("pairwise", "pairwise F", ">= librosa, > grid"),
        ("nce", "NCE F", ""),
    ):
        mine = _mean(totals["ours"], field)
        rows.append(
            Row(
                SECTION,
                f"mean of {count} songs: {what}",
                f"{mine:.2f}",
                f"librosa Laplacian {_mean(totals['librosa'], field):.2f},"
                f" {GRID_BARS}-bar grid {_mean(totals['grid'], field):.2f}",
                ratio(mine, _mean(totals["librosa"], field)),
                target,
            )
        )
    rows.append(
        Row(
            SECTION,
            "label distance vs form distance (Spearman), mean / lowest",
            f"{statistics.mean(correlations):.2f} / {min(correlations):.2f}",
            target="> 0",
        )
    )
    rows.extend(_time_rows(statistics.median(librosa_seconds)))
    return rows


def _time_rows(librosa_median: float) -> list[Row]:
    """The cost of /structure on a cached analysis of a 3-minute song (and a 10-minute one)."""
    rows = []
    for minutes, budget in ((3, "< 200 ms"), (10, "")):
        spec = SongSpec(tempo_bpm=120, duration_seconds=60.0 * minutes, seed=2026, form=POP)
        analysis = analyze(render_song(spec).audio)
        took = median_seconds(functools.partial(song_structure, analysis), repeats=5)
        rows.append(
            Row(
                SECTION,
                f"song_structure, cached {minutes}-min analysis, {len(analysis.boundaries)} beats",
                seconds(took),
                f"librosa Laplacian from audio, median of the songs above {seconds(librosa_median)}"
                if minutes == 3
                else "",
                ratio(took, librosa_median) if minutes == 3 else "",
                budget,
            )
        )
    return rows


if __name__ == "__main__":
    from bench.timing import table

    started = time.perf_counter()
    print(table(run()))
    print(f"took {time.perf_counter() - started:.1f} s")
