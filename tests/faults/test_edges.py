"""The contract's edges as pure transforms: what each does to a result exactly, where the beat
goes the other way, and which parameters the scenario refuses."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np
import pytest

from mock_server.audio.resize import MAX_BOUNDARIES
from mock_server.audio.similarity import EncodedSimilarity, encode_similarity, triangle_values
from mock_server.contract import rules
from mock_server.faults.edges import (
    EDGE_PARAMS,
    TEMPO_RANGE,
    Beat,
    Edges,
    edge_analysis,
    edge_candidates,
)
from mock_server.faults.scenario import Scenario, ScenarioError
from mock_server.jobs.analyses import analysis_from_json
from tests.contract_checks import check_analysis

DEFAULT = Edges.from_params(EDGE_PARAMS)


def made(beats: int, tempo: int = 120, feature_length: int = 13) -> dict[str, Any]:
    """An analysis result of `beats` half-second beats: seeded similarity and features."""
    generator = np.random.default_rng(beats)
    matrix = generator.random((beats, beats))
    matrix = (matrix + matrix.T) / 2
    np.fill_diagonal(matrix, 1.0)
    features = np.round(generator.random((beats, feature_length)), 3)
    return {
        "duration": beats * 0.5 + 0.25,
        "tempo": tempo,
        "similarity": encode_similarity(matrix).to_json(),
        "boundaries": [round(k * 0.5, 2) for k in range(beats)],
        "features": features.tolist(),
    }


def bend(result: dict[str, Any], edges: Edges) -> dict[str, Any]:
    """`edge_analysis` of an analysis written as the wire writes it, and its answer so written."""
    return edge_analysis(analysis_from_json(result), edges).to_json()


def values(similarity: dict[str, Any]) -> np.ndarray:
    return triangle_values(EncodedSimilarity(**similarity))


def at(beat: Beat, edges: Edges = DEFAULT) -> Edges:
    return dataclasses.replace(edges, beat=beat)


def test_half_keeps_every_other_beat_and_halves_the_tempo() -> None:
    result = made(9)
    bent = bend(result, DEFAULT)
    assert bent["boundaries"] == result["boundaries"][::2]
    assert bent["tempo"] == 60 and bent["duration"] == result["duration"]
    assert len(bent["features"]) == 5 and {len(v) for v in bent["features"]} == {8}
    check_analysis(bent)


def test_double_adds_each_beats_midpoint_and_doubles_the_tempo() -> None:
    result = made(4)
    bent = bend(result, at(Beat.DOUBLE))
    assert bent["boundaries"] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.88]  # the last to 2.25
    assert bent["tempo"] == 240
    assert bent["features"][2] == bent["features"][3] != bent["features"][4]  # beat 1, twice
    assert bent["features"][:2] == bend(result, at(Beat.SAME))["features"][:1] * 2
    check_analysis(bent)


def test_a_midpoint_that_rounds_onto_its_beat_is_left_out() -> None:
    result = {**made(3), "boundaries": [0.0, 0.01, 0.51]}
    assert bend(result, at(Beat.DOUBLE))["boundaries"] == [0.0, 0.01, 0.26, 0.51, 1.13]


@pytest.mark.parametrize(
    ("wanted", "beats", "tempo", "gets"),
    [
        (Beat.HALF, 9, 58, Beat.DOUBLE),  # 29 BPM is below the suite's range
        (Beat.DOUBLE, 9, 170, Beat.HALF),  # 340 BPM is above it
        (Beat.HALF, 2, 120, Beat.DOUBLE),  # one boundary is not an analysis /resize takes
        (Beat.HALF, 2, 170, Beat.SAME),  # neither way fits
        (Beat.DOUBLE, MAX_BOUNDARIES // 2 + 1, 120, Beat.HALF),  # more than /resize takes
    ],
)
def test_a_beat_that_would_break_the_contract_goes_the_other_way(
    wanted: Beat, beats: int, tempo: int, gets: Beat
) -> None:
    result = {**made(2), "tempo": tempo, "boundaries": [k * 0.25 for k in range(beats)]}
    result["duration"] = beats * 0.25
    result["similarity"] = {"data": "~" * (beats * (beats + 1) // 2), "min": 32, "max": 126}
    del result["features"]
    bent = bend(result, at(wanted))
    assert bent == bend(result, at(gets))
    low, high = TEMPO_RANGE
    assert low <= bent["tempo"] <= high and 2 <= len(bent["boundaries"]) <= MAX_BOUNDARIES


def test_the_tempo_range_is_the_contract_suites() -> None:
    assert TEMPO_RANGE == rules.TEMPO_RANGE


def test_similarity_is_the_same_values_in_other_codes() -> None:
    result = made(12)
    bent = bend(result, at(Beat.SAME))
    assert (bent["similarity"]["min"], bent["similarity"]["max"]) == (48, 112)
    assert set(bent["similarity"]["data"]) <= {chr(c) for c in range(48, 113)}
    # Each value moves by at most half a step of the new code.
    tolerance = 0.5 / 64 + 1e-9
    np.testing.assert_allclose(
        values(bent["similarity"]), values(result["similarity"]), 0, tolerance
    )


def test_half_beat_similarity_is_the_true_similarity_of_the_beats_kept() -> None:
    result = made(7)
    bent = bend(result, dataclasses.replace(DEFAULT, similarity_min=32, similarity_max=126))
    true, kept = values(result["similarity"]), values(bent["similarity"])
    for row in range(4):
        for col in range(row + 1):
            index = rules.diag_index(2 * row, 2 * col)
            assert kept[rules.diag_index(row, col)] == true[index]


@pytest.mark.parametrize("length", [1, 8, 13, 20])
def test_features_are_resampled_to_any_length_keeping_their_ends(length: int) -> None:
    result = made(3)
    bent = bend(result, dataclasses.replace(at(Beat.SAME), features=length))
    for vector, true in zip(bent["features"], result["features"], strict=True):
        assert len(vector) == length
        assert vector[0] == pytest.approx(true[0], abs=1e-6)
        if length > 1:
            assert vector[-1] == pytest.approx(true[-1], abs=1e-6)
        if length == 13:
            assert vector == pytest.approx(true, abs=1e-6)


def test_an_analysis_without_features_gets_none() -> None:
    result = made(5)
    del result["features"]
    assert "features" not in bend(result, DEFAULT)


def test_the_transforms_are_deterministic_and_leave_their_input_alone() -> None:
    result = made(10)
    kept = copy.deepcopy(result)
    assert bend(result, DEFAULT) == bend(result, DEFAULT)
    assert result == kept
    candidates = [{"blendedScore": -k / 10} for k in range(20)]
    assert edge_candidates(candidates, DEFAULT) == edge_candidates(list(candidates), DEFAULT)
    assert [c["blendedScore"] for c in candidates] == [-k / 10 for k in range(20)]


@pytest.mark.parametrize(
    ("available", "kept", "order"),
    [
        (20, 7, [3, 4, 5, 6, 0, 1, 2]),
        (20, 2, [1, 0]),
        (20, 1, [0]),
        (5, 7, [2, 3, 4, 0, 1]),  # fewer than asked for: all of them, turned
    ],
)
def test_candidates_are_the_best_few_turned_so_the_best_is_not_first(
    available: int, kept: int, order: list[int]
) -> None:
    candidates = [{"rank": k} for k in range(available)]
    bent = edge_candidates(candidates, dataclasses.replace(DEFAULT, candidates=kept))
    assert [c["rank"] for c in bent] == order


def test_the_scenario_takes_its_edges_as_parameters() -> None:
    scenario = Scenario.parse(
        "contract_edges;features=20;similarity_min=32;similarity_max=80;candidates=20;beat=double"
    )
    assert Edges.from_params(scenario.params) == Edges(
        features=20, similarity_min=32, similarity_max=80, candidates=20, beat=Beat.DOUBLE
    )
    assert Edges.from_params(Scenario.parse("contract_edges").params) == DEFAULT


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("beat=triple", "beat must be one of half, double, same, not 'triple'"),
        ("features=0", "features must be a number from 1 to 64"),
        ("features=65", "features must be a number from 1 to 64"),
        ("similarity_min=31", "similarity_min must be a number from 32 to 79"),
        ("similarity_min=80", "similarity_min must be a number from 32 to 79"),
        ("similarity_max=79", "similarity_max must be a number from 80 to 126"),
        ("similarity_max=127", "similarity_max must be a number from 80 to 126"),
        ("candidates=0", "candidates must be a number from 1 to 20"),
        ("candidates=21", "candidates must be a number from 1 to 20"),
    ],
)
def test_parameters_that_would_leave_the_contract_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(ScenarioError, match=fragment):
        Scenario.parse(f"contract_edges;{text}")
