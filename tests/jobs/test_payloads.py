"""The payload writer against the engine's typed results: the one place results are spelled as
the API spells them, and what the profile's orders and the result names read from it."""

from __future__ import annotations

import dataclasses

import pytest

from mock_server.audio.analysis import AnalysisResult
from mock_server.audio.resize import Candidate
from mock_server.audio.similarity import EncodedSimilarity
from mock_server.audio.types import ExportFormat
from mock_server.contract.profile import ORDER_BY, ResultOrder
from mock_server.contract.results import ExportFiles
from mock_server.jobs.analyses import analysis_from_json
from mock_server.jobs.operations import Analyzed, Given, ordered
from mock_server.jobs.payloads import candidate_json, success_payload

CANDIDATES = [
    Candidate(
        segments_beats=((0, 4 + k), (9, 20)),
        segments_seconds=((0.0, 2.0 + k / 2), (4.5, 10.0)),
        duration_seconds=duration,
        dissimilarity=dissimilarity,
        blended_score=score,
    )
    for k, (duration, dissimilarity, score) in enumerate(
        [(8, 0.25, -0.1), (7, 0.5, -0.2), (9, 0.125, -0.3), (7, 0.0, -0.4)]
    )
]


def test_a_candidate_is_written_in_the_references_keys_and_order() -> None:
    assert candidate_json(CANDIDATES[1]) == {
        "dissimilarity": 0.5,
        "blendedScore": -0.2,
        "segmentsBeats": [[0, 5], [9, 20]],
        "segmentsSeconds": [[0.0, 2.5], [4.5, 10.0]],
        "durationSeconds": 7,
    }
    assert list(candidate_json(CANDIDATES[1])) == [
        "dissimilarity",
        "blendedScore",
        "segmentsBeats",
        "segmentsSeconds",
        "durationSeconds",
    ]


@pytest.mark.parametrize("order", list(ResultOrder))
def test_each_order_sorts_typed_and_written_candidates_alike(order: ResultOrder) -> None:
    """One definition per order: the mock's own sort of typed candidates and the recognition
    of a target's order on the wire read the same field."""
    by = ORDER_BY[order]
    assert by.field in {field.name for field in dataclasses.fields(Candidate)}
    written = [candidate_json(candidate) for candidate in CANDIDATES]
    for candidate, wire in zip(CANDIDATES, written, strict=True):
        assert wire[by.wire] == getattr(candidate, by.field)
    typed = [candidate_json(candidate) for candidate in ordered(CANDIDATES, order)]
    assert typed == sorted(written, key=by.wire_key)
    assert typed != written or order is ResultOrder.BLENDED_SCORE  # the example tells them apart


def test_every_result_order_has_its_sort() -> None:
    assert set(ORDER_BY) == set(ResultOrder)


def test_an_analysis_read_back_from_json_writes_the_same_json() -> None:
    analysis = AnalysisResult(
        duration=12.5,
        tempo=120,
        boundaries=(0.0, 0.5, 1.01),
        similarity=EncodedSimilarity("~a~b~~", 32, 126),
        features=((0.25, 0.5), (1.0, 0.0), (0.125, 0.75)),
    )
    for kept in (analysis, dataclasses.replace(analysis, features=None)):
        assert analysis_from_json(kept.to_json()) == kept
        payload = success_payload("a" * 32, "https://x/s.mp3", Analyzed(kept, 1))
        assert payload["result"] == kept.to_json()


def test_a_given_result_goes_out_as_it_was_given() -> None:
    recorded = [{"blendedScore": -0.1, "somethingNew": True}]
    payload = success_payload("a" * 32, None, Given(recorded, 3, "resize.json"))
    assert payload == {"requestId": "a" * 32, "result": recorded, "success": True, "creditCost": 3}
    analysis = {"tempo": 99.5}
    with_source = success_payload("a" * 32, "https://s.example/a.mp3", Given(analysis, 1, "x"))
    assert list(with_source) == ["requestId", "sourceFileUrl", "result", "success", "creditCost"]


def test_an_exports_files_are_named_and_located_once() -> None:
    files = ExportFiles.of("https://results.example/", "b" * 32, ExportFormat.WAV, 2)
    assert files.names == ("export_1.wav", "export_2.wav")
    assert files.urls == tuple(f"https://results.example/{'b' * 32}/{n}" for n in files.names)
