"""Payloads at the edges of the contract: what the reference allows but the engine never sends.

The reference promises less than the engine's payloads show: features "will generally have 13
items, but this is not guaranteed"; similarity is decoded with its own `min` and `max`; resize
gives "generally 20" results; beat boundaries "may be off by a multiple of 2^n". The
`contract_edges` scenario bends the engine's true answer into each of these, so that a client's
tests meet them before production does. Each transform is pure and deterministic, and what it
makes still keeps every consistency rule of the contract suite (`mock_server/contract/rules.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from mock_server.audio.analysis import AnalysisResult
from mock_server.audio.resize import CANDIDATES, MAX_BOUNDARIES
from mock_server.audio.similarity import (
    SIMILARITY_MAX,
    SIMILARITY_MIN,
    EncodedSimilarity,
    encode_triangle,
    triangle_values,
)

T = TypeVar("T")


class Beat(StrEnum):
    """Where the edge puts the beat, relative to the one the engine found."""

    HALF = "half"
    DOUBLE = "double"
    SAME = "same"


# The tempo the contract suite finds plausible (contract_rules.TEMPO_RANGE): a halved or
# doubled tempo that would leave it goes the other way instead.
TEMPO_RANGE = (30, 300)
# Values in a feature vector at most: 6000 beats of 64 stay a few megabytes of JSON.
MAX_FEATURES = 64
# `similarity_min` comes from the lower half of the printable codes and `similarity_max` from
# the upper half, so any two chosen independently make a valid code (min below max).
SIMILARITY_SPLIT = (SIMILARITY_MIN + SIMILARITY_MAX) // 2

# The scenario's parameters and their defaults: each differs from what the engine sends.
EDGE_PARAMS: dict[str, float | str] = {
    "features": 8.0,
    "similarity_min": 48.0,
    "similarity_max": 112.0,
    "candidates": 7.0,
    "beat": Beat.HALF.value,
}
EDGE_RANGES = {
    "features": (1.0, float(MAX_FEATURES)),
    "similarity_min": (float(SIMILARITY_MIN), float(SIMILARITY_SPLIT)),
    "similarity_max": (float(SIMILARITY_SPLIT + 1), float(SIMILARITY_MAX)),
    "candidates": (1.0, float(CANDIDATES)),
}
EDGE_CHOICES = {"beat": tuple(beat.value for beat in Beat)}


@dataclass(frozen=True)
class Edges:
    """How far to bend: feature length, similarity codes, candidates kept, and the beat."""

    features: int
    similarity_min: int
    similarity_max: int
    candidates: int
    beat: Beat

    @classmethod
    def from_params(cls, params: Mapping[str, float | str]) -> Edges:
        """From the scenario's parameters, already held to EDGE_RANGES and EDGE_CHOICES."""
        return cls(
            features=int(params["features"]),
            similarity_min=int(params["similarity_min"]),
            similarity_max=int(params["similarity_max"]),
            candidates=int(params["candidates"]),
            beat=Beat(str(params["beat"])),
        )


def edge_analysis(result: AnalysisResult, edges: Edges) -> AnalysisResult:
    """An analysis `result` at another beat, its similarity in other codes and its feature
    vectors of another length; its duration, and so its price, unchanged."""
    beat = _feasible(edges.beat, result.tempo, len(result.boundaries))
    times, beats = _rebeat(result.boundaries, result.duration, beat)
    features = result.features
    return dataclasses.replace(
        result,
        tempo=_tempo(result.tempo, beat),
        similarity=_recoded(result.similarity, beats, edges),
        boundaries=tuple(times),
        features=None if features is None else _resampled(features, beats, edges.features),
    )


def edge_candidates(candidates: Sequence[T], edges: Edges) -> list[T]:
    """The best `edges.candidates` of `candidates` (best first), turned by half their number:
    the best comes after the worst, so neither the first nor the last is the one to take."""
    kept = list(candidates[: edges.candidates])
    turn = len(kept) // 2
    return kept[turn:] + kept[:turn]


def _tempo(tempo: int, beat: Beat) -> int:
    if beat is Beat.HALF:
        return round(tempo / 2)
    return tempo * 2 if beat is Beat.DOUBLE else tempo


def _feasible(wanted: Beat, tempo: int, count: int) -> Beat:
    """`wanted`, or the other way where it would leave the suite's tempo range or what /resize
    takes (2 to MAX_BOUNDARIES boundaries); the true beat if neither fits."""
    low, high = TEMPO_RANGE
    fits = {
        Beat.HALF: low <= _tempo(tempo, Beat.HALF) and (count + 1) // 2 >= 2,
        Beat.DOUBLE: _tempo(tempo, Beat.DOUBLE) <= high and 2 * count <= MAX_BOUNDARIES,
        Beat.SAME: True,
    }
    other = {Beat.HALF: Beat.DOUBLE, Beat.DOUBLE: Beat.HALF, Beat.SAME: Beat.SAME}[wanted]
    return next(beat for beat in (wanted, other, Beat.SAME) if fits[beat])


def _rebeat(
    boundaries: Sequence[float], duration: float, beat: Beat
) -> tuple[list[float], NDArray[np.intp]]:
    """The new boundaries, and for each the engine's beat it lies in.

    Half keeps every other boundary; double adds each beat's midpoint (at two decimals, where
    that falls strictly inside the beat; the last beat ends at `duration`)."""
    count = len(boundaries)
    if beat is Beat.SAME:
        return list(boundaries), np.arange(count)
    if beat is Beat.HALF:
        return list(boundaries[::2]), np.arange(0, count, 2)
    times: list[float] = []
    beats: list[int] = []
    for index, start in enumerate(boundaries):
        end = boundaries[index + 1] if index + 1 < count else duration
        middle = round((start + end) / 2, 2)
        inside = [start, middle] if start < middle < end else [start]
        times += inside
        beats += [index] * len(inside)
    return times, np.asarray(beats, dtype=np.intp)


def _recoded(
    similarity: EncodedSimilarity, beats: NDArray[np.intp], edges: Edges
) -> EncodedSimilarity:
    """The similarity between the new boundaries' beats, coded from `similarity_min` to
    `similarity_max`. `beats` never decreases, so row beat >= column beat, as the triangle
    wants."""
    values = triangle_values(similarity)
    rows, cols = np.tril_indices(beats.size)
    row, col = beats[rows], beats[cols]
    picked = values[row * (row + 1) // 2 + col]
    return encode_triangle(picked, edges.similarity_min, edges.similarity_max)


def _resampled(
    features: Sequence[Sequence[float]], beats: NDArray[np.intp], length: int
) -> tuple[tuple[float, ...], ...]:
    """Each new boundary's beat's vector, linearly resampled to `length` values: still within
    [0, 1], and similar beats still similar. Written as float32s, as the engine writes them."""
    vectors = np.asarray(features, dtype=np.float64)[beats]
    positions = np.linspace(0.0, vectors.shape[1] - 1, length)
    left = np.floor(positions).astype(np.intp)
    right = np.minimum(left + 1, vectors.shape[1] - 1)
    weight = positions - left
    values = vectors[:, left] * (1.0 - weight) + vectors[:, right] * weight
    rounded = np.round(values, 3).astype(np.float32)
    return tuple(tuple(float(v) for v in row) for row in rounded)
