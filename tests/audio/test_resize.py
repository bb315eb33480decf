"""Resize candidates: every promise the API makes about them, checked independently."""

from __future__ import annotations

import itertools
import math
import pickle
from typing import Any

import numpy as np
import pytest

from mock_server.audio.errors import EngineValidationError
from mock_server.audio.resize import parse_resize_input, resize_candidates
from mock_server.audio.similarity import encode_similarity
from mock_server.contract.parameters import wire_problem
from mock_server.contract.wire import WIRE_NAMES
from mock_server.jobs.payloads import candidates_json

BEAT = 0.5
SECTION_BEATS = 16
FORM = "ABACABBA"


def structured_analysis() -> dict[str, Any]:
    """Beats of an A/B/C form: beats at the same place in sections of one label are alike."""
    labels = np.repeat([ord(c) for c in FORM], SECTION_BEATS)
    phase = np.tile(np.arange(SECTION_BEATS), len(FORM))
    same_label = labels[:, None] == labels[None, :]
    same_phase = phase[:, None] == phase[None, :]
    matrix = np.where(same_label & same_phase, 0.95, np.where(same_label, 0.5, 0.1))
    np.fill_diagonal(matrix, 1.0)
    boundaries = [round(i * BEAT, 2) for i in range(labels.size)]
    return {"similarity": encode_similarity(matrix).to_json(), "boundaries": boundaries}


def similarity_of(analysis: dict[str, Any]) -> np.ndarray:
    """Decode with the reference's formula, independently of the codec under test."""
    sim = analysis["similarity"]
    n = len(analysis["boundaries"])
    flat = [(ord(c) - sim["min"]) / (sim["max"] - sim["min"]) for c in sim["data"]]
    return np.array(
        [[flat[max(i, j) * (max(i, j) + 1) // 2 + min(i, j)] for j in range(n)] for i in range(n)]
    )


def resize(analysis: dict[str, Any], target: float) -> list[dict[str, Any]]:
    request = parse_resize_input(analysis["similarity"], analysis["boundaries"], target)
    return candidates_json(resize_candidates(request))


@pytest.fixture(scope="module")
def analysis() -> dict[str, Any]:
    return structured_analysis()


@pytest.mark.parametrize("target", [0.5, 10.0, 30.0, 63.5, 64.0, 100.0, 640.0])
def test_candidates_keep_every_promise(analysis: dict[str, Any], target: float) -> None:
    boundaries = analysis["boundaries"]
    matrix = similarity_of(analysis)
    candidates = resize(analysis, target)
    assert 1 <= len(candidates) <= 20
    scores = [c["blendedScore"] for c in candidates]
    assert scores == sorted(scores, reverse=True)
    for candidate in candidates:
        segments = candidate["segmentsBeats"]
        assert all(0 <= s < e < len(boundaries) for s, e in segments)
        assert candidate["segmentsSeconds"] == [[boundaries[s], boundaries[e]] for s, e in segments]
        total = sum(boundaries[e] - boundaries[s] for s, e in segments)
        assert candidate["durationSeconds"] == math.floor(total + 0.5)
        cuts = [(a[1], b[0]) for a, b in itertools.pairwise(segments)]
        assert candidate["dissimilarity"] == pytest.approx(sum(1 - matrix[e, s] for e, s in cuts))
        assert candidate["blendedScore"] <= 0


def test_the_best_candidate_is_near_the_target(analysis: dict[str, Any]) -> None:
    for target in (10.0, 30.0, 100.0, 640.0):
        best = resize(analysis, target)[0]
        assert abs(best["durationSeconds"] - target) <= 0.05 * target + 0.5


@pytest.mark.parametrize("target", [10.0, 30.0, 100.0, 640.0])
def test_intro_and_ending_are_kept(analysis: dict[str, Any], target: float) -> None:
    last = len(analysis["boundaries"]) - 1
    for candidate in resize(analysis, target):
        assert candidate["segmentsBeats"][0][0] == 0
        assert candidate["segmentsBeats"][-1][1] == last


def test_cuts_join_similar_beats(analysis: dict[str, Any]) -> None:
    """Song length +- whole sections is reachable with seamless cuts: the best must use them."""
    matrix = similarity_of(analysis)
    song = analysis["boundaries"][-1]
    for target in (song - 40.0, song - 16.0, song + 24.0):
        best = resize(analysis, target)[0]
        assert best["durationSeconds"] == math.floor(target + 0.5)
        segments = best["segmentsBeats"]
        for a, b in itertools.pairwise(segments):
            assert matrix[a[1], b[0]] >= 0.9


def test_lengthening_loops_back_and_repeats(analysis: dict[str, Any]) -> None:
    song = analysis["boundaries"][-1]
    best = resize(analysis, song * 10)[0]
    assert best["durationSeconds"] >= song * 9
    starts = [s for s, _ in best["segmentsBeats"][1:]]
    ends = [e for _, e in best["segmentsBeats"][:-1]]
    assert any(s < e for s, e in zip(starts, ends, strict=True))


def test_a_one_beat_target_gives_a_one_beat_edit(analysis: dict[str, Any]) -> None:
    best = resize(analysis, BEAT)[0]
    (start, end), *rest = best["segmentsBeats"]
    assert not rest and end - start == 1


def test_candidates_are_distinct(analysis: dict[str, Any]) -> None:
    candidates = resize(analysis, 30.0)
    assert len(candidates) == 20
    cut_lists = [
        [(a[1], b[0]) for a, b in zip(c["segmentsBeats"], c["segmentsBeats"][1:], strict=False)]
        for c in candidates
    ]
    for i, mine in enumerate(cut_lists):
        for theirs in cut_lists[:i]:
            near = len(mine) == len(theirs) and all(
                abs(x[0] - y[0]) <= 4 and abs(x[1] - y[1]) <= 4
                for x, y in zip(mine, theirs, strict=True)
            )
            assert not near, (mine, theirs)


def test_dissimilarity_is_an_exact_multiple_of_the_code_step(analysis: dict[str, Any]) -> None:
    for candidate in resize(analysis, 30.0):
        steps = candidate["dissimilarity"] * 94
        assert steps == pytest.approx(round(steps), abs=1e-9)
        assert candidate["dissimilarity"] == round(steps) / 94


def test_same_input_same_output(analysis: dict[str, Any]) -> None:
    assert resize(analysis, 42.0) == resize(analysis, 42.0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"targetLengthSeconds": 0}, "target_length_seconds"),
        ({"targetLengthSeconds": -5}, "target_length_seconds"),
        ({"targetLengthSeconds": float("nan")}, "target_length_seconds"),
        ({"targetLengthSeconds": float("inf")}, "target_length_seconds"),
        ({"targetLengthSeconds": "30"}, "target_length_seconds"),
        ({"targetLengthSeconds": True}, "target_length_seconds"),
        ({"boundaries": [0.0, 1.0, 0.5]}, "boundaries"),
        ({"boundaries": [0.0]}, "boundaries"),
        ({"boundaries": [float(i) for i in range(6001)]}, "boundaries"),
        ({"boundaries": "0,1"}, "boundaries"),
        ({"boundaries": [0.0, "1"]}, "boundaries"),
        ({"similarity": {"data": "~~", "min": 32, "max": 126}}, "similarity"),
        ({"similarity": None}, "similarity"),
    ],
)
def test_invalid_input_names_the_field(
    analysis: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    request = {**analysis, "targetLengthSeconds": 30.0, **change}
    with pytest.raises(EngineValidationError) as caught:
        parse_resize_input(
            request["similarity"], request["boundaries"], request["targetLengthSeconds"]
        )
    assert caught.value.field == field
    assert field in caught.value.message


def test_every_field_the_engine_names_has_the_apis_name() -> None:
    """What the web layer and the CLI tell a user names the field as the API spells it."""
    assert WIRE_NAMES == {
        "similarity": "similarity",
        "boundaries": "boundaries",
        "target_length_seconds": "targetLengthSeconds",
        "segments_groups": "segmentsGroups",
    }
    with pytest.raises(EngineValidationError) as caught:
        parse_resize_input({"data": "~~~", "min": 32, "max": 126}, [0, 1], -1)
    assert wire_problem(caught.value) == f"targetLengthSeconds: {caught.value.detail}"


def test_a_validation_error_survives_the_trip_back_from_a_worker_process() -> None:
    sent = EngineValidationError("target_length_seconds", "must be a number")
    back = pickle.loads(pickle.dumps(sent))
    assert (back.field, back.detail, back.message) == (sent.field, sent.detail, sent.message)
