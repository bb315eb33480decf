"""Resize candidates, byte for byte, against goldens recorded before the search was made faster
(issue 20): a faster search must choose the same edits, floats included. Equal scores go to the
lower index everywhere, so the goldens hold on any CPU (checked with numpy's AVX-512 paths off).

Inputs are regenerated from seeds; their sha256 is stored beside the outputs, so a change in
numpy's random streams reads as such rather than as a resize regression. Outputs are stored as the
exact `json.dumps` of the candidates. `python -m tests.audio.test_resize_golden` rewrites the file:
do that only when a change of output is intended, and say why in the commit.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mock_server.audio.resize import ResizeInput, parse_resize_input, resize_candidates
from mock_server.audio.similarity import SIMILARITY_MAX, SIMILARITY_MIN
from mock_server.audio.types import MAX_SECONDS
from mock_server.jobs.payloads import candidates_json

GOLDEN = Path(__file__).parent / "golden" / "resize.json.gz"

SUBNORMAL = 5e-324  # the smallest valid target
# Targets named after the song they resize: L is the song's length, beat its first beat.
TARGETS: dict[str, Callable[[float, float], float]] = {
    "subnormal": lambda song, beat: SUBNORMAL,
    "under a millisecond": lambda song, beat: 1e-4,
    "half a beat": lambda song, beat: beat / 2,
    "one beat": lambda song, beat: beat,
    "0.3 L": lambda song, beat: 0.3 * song,
    "0.6 L": lambda song, beat: 0.6 * song,
    "L - 1 beat": lambda song, beat: song - beat,
    "L": lambda song, beat: song,
    "L + 0.01": lambda song, beat: song + 0.01,
    "1.5 L": lambda song, beat: 1.5 * song,
    "3 L": lambda song, beat: 3 * song,
    "9.9 L": lambda song, beat: 9.9 * song,
    "12 L": lambda song, beat: 12 * song,
    "a day": lambda song, beat: MAX_SECONDS,
}
EVERY_TARGET = tuple(TARGETS)
SOME_TARGETS = ("one beat", "0.3 L", "0.6 L", "L", "1.5 L", "3 L", "12 L")
FEW_TARGETS = ("0.6 L", "1.5 L")


@dataclass(frozen=True)
class Song:
    """A similarity matrix of one `shape` and a clock of beat times, both from `seed`."""

    shape: str  # noise, coarse (few codes, many ties), sections, periodic, constant
    clock: str  # grid (exact 0.5 s), centiseconds (as analyses write), floats, integers
    beats: int
    seed: int
    lo: int = SIMILARITY_MIN
    hi: int = SIMILARITY_MAX

    def codes(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        n, lo, hi = self.beats, self.lo, self.hi
        if self.shape == "constant":
            return np.full((n, n), lo + 2 * (hi - lo) // 3)
        if self.shape == "periodic":
            period = 2 + self.seed % 7
            quiet = rng.integers(lo, lo + (hi - lo) // 3 + 1, (n, n))
            beats = np.arange(n)
            codes = np.where((beats[:, None] - beats[None, :]) % period == 0, hi, quiet)
        elif self.shape == "sections":
            labels = (np.arange(n) // max(2, n // 12)) % 3
            values = np.where(labels[:, None] == labels[None, :], 0.8, 0.2)
            values = np.clip(values + rng.normal(0, 0.1, (n, n)), 0, 1)
            codes = lo + np.floor((values + values.T) / 2 * (hi - lo) + 0.5).astype(np.int64)
        else:
            top = min(lo + 3, hi) if self.shape == "coarse" else hi
            codes = rng.integers(lo, top + 1, (n, n))
        np.fill_diagonal(codes, hi)
        return codes

    def times(self) -> list[Any]:
        rng = np.random.default_rng(self.seed + 1)
        gaps = self.beats - 1
        if self.clock == "grid":
            return [round(i * 0.5, 2) for i in range(self.beats)]
        if self.clock == "centiseconds":
            steps = [int(g) for g in rng.integers(30, 71, gaps)]
            return [c / 100 for c in itertools.accumulate([123, *steps])]
        if self.clock == "floats":
            return list(
                itertools.accumulate([0.0, *(float(g) for g in rng.uniform(0.2, 1.5, gaps))])
            )
        return list(itertools.accumulate([3, *(int(g) for g in rng.integers(1, 4, gaps))]))

    @cached_property
    def request(self) -> dict[str, Any]:
        codes = self.codes()
        lower = codes[np.tril_indices(self.beats)].astype(np.uint8)
        data = lower.tobytes().decode("ascii")
        return {
            "similarity": {"data": data, "min": self.lo, "max": self.hi},
            "boundaries": self.times(),
        }

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.request).encode()).hexdigest()

    def target(self, name: str) -> float:
        times = [float(t) for t in self.request["boundaries"]]
        wanted = TARGETS[name](times[-1] - times[0], times[1] - times[0])
        return min(max(wanted, SUBNORMAL), MAX_SECONDS)  # L - 1 beat is 0 for two beats

    @cached_property
    def parsed(self) -> ResizeInput:
        """Checked once: checking the similarity string is most of a resize at 3600 beats."""
        return parse_resize_input(self.request["similarity"], self.request["boundaries"], 1.0)

    def resize(self, target: float, count: int) -> str:
        request = replace(self.parsed, target_seconds=target)
        return json.dumps(candidates_json(resize_candidates(request, count)))


def _songs() -> list[tuple[Song, tuple[str, ...], tuple[int, ...]]]:
    """Every song with the targets and candidate counts it is resized to."""
    small = [
        (Song(shape, clock, beats, seed), EVERY_TARGET, (20,))
        for beats, seed in ((2, 1), (3, 2), (4, 3), (5, 4), (8, 5), (13, 6), (50, 7))
        for shape, clock in (
            ("noise", "centiseconds"),
            ("coarse", "grid"),
            ("periodic", "integers"),
            ("constant", "grid"),
            ("sections", "floats"),
        )
    ]
    counts = [
        (Song("periodic", "grid", 50, 8), SOME_TARGETS, (1, 5, 40)),
        (Song("noise", "floats", 50, 9, lo=40, hi=41), EVERY_TARGET, (20,)),
        (Song("coarse", "centiseconds", 120, 10, lo=100, hi=126), SOME_TARGETS, (3, 20)),
    ]
    medium = [
        (Song(shape, clock, 300, 20 + k), SOME_TARGETS, (20,))
        for k, (shape, clock) in enumerate(
            [
                ("noise", "centiseconds"),
                ("coarse", "grid"),
                ("periodic", "integers"),
                ("constant", "grid"),
                ("sections", "grid"),
                ("sections", "floats"),
            ]
        )
    ]
    large = [
        (Song("sections", "grid", 1200, 30), SOME_TARGETS, (20,)),
        (Song("noise", "centiseconds", 1200, 31), FEW_TARGETS, (20,)),
        (Song("constant", "grid", 1200, 32), FEW_TARGETS, (20,)),
        (Song("sections", "grid", 3600, 40), ("0.3 L", "0.6 L", "1.5 L"), (20,)),
        (Song("coarse", "centiseconds", 3600, 41), FEW_TARGETS, (20,)),
        (Song("constant", "grid", 3600, 42), ("0.6 L",), (20,)),
    ]
    return [*small, *counts, *medium, *large]


def record() -> list[dict[str, Any]]:
    """The goldens of today's search: one entry per song, each output as an exact JSON string."""
    entries = []
    for song, targets, counts in _songs():
        outputs = [
            {"target": name, "count": count, "json": song.resize(song.target(name), count)}
            for name in targets
            for count in counts
        ]
        entries.append({"song": asdict(song), "sha256": song.sha256(), "outputs": outputs})
    return entries


def _label(song: Song) -> str:
    return f"{song.shape}-{song.clock}-{song.beats}-{song.seed}"


@pytest.fixture(scope="module")
def goldens() -> dict[str, dict[str, Any]]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as file:
        entries: list[dict[str, Any]] = json.load(file)
    return {_label(Song(**entry["song"])): entry for entry in entries}


@pytest.mark.parametrize(
    ("song", "targets", "counts"), _songs(), ids=[_label(song) for song, _, _ in _songs()]
)
def test_resize_matches_its_golden(
    goldens: dict[str, dict[str, Any]],
    song: Song,
    targets: tuple[str, ...],
    counts: tuple[int, ...],
) -> None:
    entry = goldens[_label(song)]
    assert entry["song"] == asdict(song)
    assert song.sha256() == entry["sha256"], "the input changed (numpy's streams?), not resize"
    assert [(g["target"], g["count"]) for g in entry["outputs"]] == [
        (name, count) for name in targets for count in counts
    ]
    for golden in entry["outputs"]:
        produced = song.resize(song.target(golden["target"]), golden["count"])
        if produced != golden["json"]:
            mine, theirs = json.loads(produced), json.loads(golden["json"])
            first = next(
                (k for k, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b),
                min(len(mine), len(theirs)),
            )
            pytest.fail(
                f"target {golden['target']!r}, count {golden['count']}: candidate {first} differs"
                f"\n produced {mine[first : first + 1]}\n golden   {theirs[first : first + 1]}"
            )


if __name__ == "__main__":
    GOLDEN.parent.mkdir(exist_ok=True)
    with gzip.GzipFile(GOLDEN, "wb", mtime=0) as out:
        out.write(json.dumps(record(), indent=0).encode())
    print(f"{GOLDEN}: {GOLDEN.stat().st_size} bytes")
