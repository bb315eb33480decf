"""What a per-test answer may be: each documented rule refuses its own breakage, naming its
ledger row, when the answer is armed or when a request takes it; readings pass; every rule an
answer is held to is a documented promise of the fidelity ledger."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.answers import ANSWERABLE, AnswerBook, AnswerRefused
from mock_server.contract import fidelity
from mock_server.contract.fidelity import Basis
from tests.jobs.test_answers import ANALYSIS, CANDIDATE
from tests.support import TINY_RESIZE

ANALYZE = {"sourceFileUrl": "https://example.com/a.mp3", "resultWebhook": "https://h.example/"}
EXPORT = {**ANALYZE, "exportFormat": "mp3_128", "segmentsGroups": [[[0, 1]], [[1, 2]]]}
FEATURES = [[0.5, 0.5]] * 3  # one vector per beat


def test_every_rule_an_answer_keeps_is_a_documented_promise() -> None:
    rows = {rule.row for spec in ANSWERABLE.values() for rule in (*spec.alone, *spec.fits)}
    # The schema's documented layer; structure's documents nothing (layers.STRUCTURE), so no
    # answer for it is refused for its shape.
    rows |= {f"{route}.payload" for route in ANSWERABLE if route != "structure"}
    assert {fidelity.entry(row).basis for row in rows} == {Basis.DOCUMENTED}


@pytest.mark.parametrize(
    ("route", "payload"),
    [
        ("/analyze", {**ANALYSIS, "tempo": 99.5}),  # analyze.tempo: a reading
        ("/analyze", {**ANALYSIS, "boundaries": [0.0, 1.2, 0.6]}),  # analyze.boundaries
        ("/analyze", {**ANALYSIS, "similarity": {"data": "~a~aa~", "min": 32.5, "max": 126}}),
        ("/resize", []),  # "generally 20": none at all is not ruled out
        ("/resize", [{**CANDIDATE, "durationSeconds": 1.4}]),  # resize.duration_rounding
        ("/export", {"failures": {}}),
        ("/export", {}),  # no failures at all
    ],
)
def test_readings_of_the_examples_are_allowed(route: str, payload: Any) -> None:
    book = AnswerBook()
    book.arm(route, payload)
    fitting: dict[str, Any] = {"/analyze": ANALYZE, "/resize": TINY_RESIZE, "/export": EXPORT}
    assert book.take(route.removeprefix("/"), fitting[route]) is not None


ARMED: list[tuple[str, Any, str, str]] = [
    ("/analyze", {**ANALYSIS, "tempo": "99"}, "analyze.payload", "result/tempo"),
    ("/analyze", {"tempo": 99}, "analyze.payload", "'duration' is a required property"),
    (
        "/analyze",
        {**ANALYSIS, "similarity": {"data": "~a~", "min": 32, "max": 126}},
        "analyze.similarity",
        "N = 3 boundaries need N(N+1)/2 = 6",
    ),
    (
        "/analyze",
        {**ANALYSIS, "similarity": {"data": "aaaaaa", "min": 32, "max": 126}},
        "analyze.similarity",
        "a beat should be similar to itself",
    ),
    ("/analyze", {**ANALYSIS, "features": [[0.5]] * 2}, "analyze.features", "2 feature vectors"),
    ("/resize", [{**CANDIDATE, "blendedScore": 0.5}], "resize.payload", "blendedScore"),
    ("/resize", [{**CANDIDATE, "dissimilarity": -1}], "resize.payload", "dissimilarity"),
    ("/resize", {"candidates": []}, "resize.payload", "is not of type 'array'"),
    ("/resize", [{**CANDIDATE, "dissimilarity": 0.2}], "resize.dissimilarity", "without a cut"),
    (
        "/resize",
        [{**CANDIDATE, "segmentsSeconds": [[0, 1], [1, 2]]}],
        "resize.segments",
        "/result/0: segmentsBeats and segmentsSeconds differ",
    ),
    ("/export", {"failures": {"export_1.mp3": 3}}, "export.payload", "3 is not of type"),
    ("/export", {"failures": {}, "resultUrls": []}, "export.payload", "of failures alone"),
    ("/export", [], "export.payload", "of failures alone"),
    ("/export", {"failures": {"song.mp3": "no"}}, "export.failures", "'song.mp3' is not a"),
]


@pytest.mark.parametrize(("route", "payload", "row", "where"), ARMED)
def test_an_answer_that_breaks_a_rule_is_refused_naming_it(
    route: str, payload: Any, row: str, where: str
) -> None:
    with pytest.raises(AnswerRefused) as refusal:
        AnswerBook().arm(route, payload)
    assert f"the answer for {route} breaks {row}" in str(refusal.value)
    assert where in str(refusal.value) and "break_contract=True" in str(refusal.value)
    AnswerBook().arm(route, payload, break_contract=True)  # the opt-out takes it


FAR = {**CANDIDATE, "segmentsBeats": [[0, 1]], "segmentsSeconds": [[0.0, 1.0]]}
TAKEN: list[tuple[str, Any, dict[str, Any], str, str]] = [
    ("/analyze", ANALYSIS, {**ANALYZE, "features": ["raw_features"]}, "analyze.features", "no"),
    ("/analyze", {**ANALYSIS, "features": FEATURES}, ANALYZE, "analyze.features", "only when"),
    (
        "/resize",
        [{**CANDIDATE, "segmentsSeconds": [[0.0, 0.5]], "durationSeconds": 0.5}],
        TINY_RESIZE,
        "resize.segments",
        "segmentsSeconds says 0.5 s for beat 1",
    ),
    (
        "/resize",
        [{**CANDIDATE, "durationSeconds": 30}],
        TINY_RESIZE,
        "resize.duration",
        "durationSeconds 30",
    ),
    (
        "/resize",
        [FAR],
        {**TINY_RESIZE, "targetLengthSeconds": 30},
        "resize.near_target",
        "top three",
    ),
    ("/export", {"failures": {"export_1.wav": "no"}}, EXPORT, "export.failures", "export_1.mp3"),
    ("/export", {"failures": {"export_3.mp3": "no"}}, EXPORT, "export.failures", "export_3.mp3"),
]


@pytest.mark.parametrize(("route", "payload", "request_body", "row", "where"), TAKEN)
def test_a_request_an_answer_does_not_fit_is_refused_and_nothing_spent(
    route: str, payload: Any, request_body: dict[str, Any], row: str, where: str
) -> None:
    book = AnswerBook()
    book.arm(route, payload, times=1)
    with pytest.raises(AnswerRefused) as refusal:
        book.take(route.removeprefix("/"), request_body)
    assert f"the answer for {route} breaks {row}" in str(refusal.value)
    assert where in str(refusal.value)
    assert [a.remaining for a in book.armed()] == [1]
    opted_out = AnswerBook()
    opted_out.arm(route, payload, times=1, break_contract=True)
    assert opted_out.take(route.removeprefix("/"), request_body) is not None
    assert opted_out.armed() == []


def test_answers_are_taken_first_armed_first_and_times_counts_them() -> None:
    book = AnswerBook()
    first = book.arm("resize", [CANDIDATE], times=2)
    until_reset = book.arm("/resize", [])
    taken = [book.take("resize", TINY_RESIZE) for _ in range(4)]
    assert [a.id if a else None for a in taken] == [first.id, first.id] + [until_reset.id] * 2
    assert book.take("analyze", ANALYZE) is None
    book.reset()
    assert book.take("resize", TINY_RESIZE) is None


@pytest.mark.parametrize(
    ("route", "times", "said"),
    [
        ("/upload", None, "'/upload' takes no per-test answer; these do: /analyze, /resize"),
        ("/resize", 0, "times must be at least 1"),
        ("/resize", True, "times must be a whole number"),
    ],
)
def test_a_route_without_answers_and_a_bad_times_are_named(
    route: str, times: Any, said: str
) -> None:
    with pytest.raises(AnswerRefused, match=said):
        AnswerBook().arm(route, [], times)


def test_an_answer_is_copied_as_json_when_armed() -> None:
    payload = [dict(CANDIDATE)]
    armed = AnswerBook().arm("/resize", payload)
    payload[0]["blendedScore"] = 1.0  # what the test changes later is not sent
    assert armed.payload == [CANDIDATE]
    with pytest.raises(AnswerRefused, match="not JSON"):
        AnswerBook().arm("/resize", [{**CANDIDATE, "dissimilarity": float("nan")}])
