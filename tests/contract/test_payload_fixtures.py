"""fixtures/payloads/: the reference's examples, completed, valid and consistent with each other,
and exactly what `python -m fixtures.payloads` writes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fixtures.payloads import DEFAULT_OUT, write_payloads
from mock_server.contract import rules
from mock_server.contract.schemas import validate
from tests.contract_checks import check_analysis, check_candidate

FILES = sorted(DEFAULT_OUT.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((DEFAULT_OUT / name).read_text())
    return document


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_example_validates_against_its_schema(path: Path) -> None:
    validate(path.name.split(".")[0], json.loads(path.read_text()))


def test_the_committed_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    written = write_payloads(tmp_path)
    assert sorted(p.name for p in written) == [p.name for p in FILES]
    for path in written:
        assert path.read_text() == (DEFAULT_OUT / path.name).read_text(), path.name


def test_the_analysis_example_keeps_every_promise() -> None:
    result = load("analyze-webhook.json")["result"]
    assert "features" in result
    check_analysis(result)


def test_the_resize_example_fits_the_analysis_example() -> None:
    analysis = load("analyze-webhook.json")["result"]
    candidates = load("resize-webhook.json")["result"]
    assert load("resize-request.json")["boundaries"] == analysis["boundaries"]
    for candidate in candidates:
        check_candidate(candidate, analysis)
    assert candidates == rules.best_first(candidates)  # the mock's default order


def test_the_export_example_cuts_at_analysis_boundaries() -> None:
    boundaries = load("analyze-webhook.json")["result"]["boundaries"]
    for group in load("export-request.json")["segmentsGroups"]:
        for start, end in group:
            assert start in boundaries and end in boundaries, (start, end)


def _shorten_similarity(analysis: dict[str, Any], candidate: dict[str, Any]) -> None:
    analysis["similarity"]["data"] = analysis["similarity"]["data"][:-1]


def _char_above_max(analysis: dict[str, Any], candidate: dict[str, Any]) -> None:
    analysis["similarity"]["max"] = 120


def _unsorted_boundaries(analysis: dict[str, Any], candidate: dict[str, Any]) -> None:
    analysis["boundaries"][5], analysis["boundaries"][6] = analysis["boundaries"][6], 0.5


def _segment_off_its_beat(analysis: dict[str, Any], candidate: dict[str, Any]) -> None:
    candidate["segmentsSeconds"][0][1] += 0.05


def _wrong_duration(analysis: dict[str, Any], candidate: dict[str, Any]) -> None:
    candidate["durationSeconds"] += 2


def _wrong_dissimilarity(analysis: dict[str, Any], candidate: dict[str, Any]) -> None:
    candidate["dissimilarity"] += 0.01


def _check_all(analysis: dict[str, Any], candidate: dict[str, Any]) -> None:
    check_analysis(analysis)
    check_candidate(candidate, analysis)


@pytest.mark.parametrize(
    ("breakage", "complaint"),
    [
        (_shorten_similarity, "N(N+1)/2"),
        (_char_above_max, "outside [32, 120]"),
        (_unsorted_boundaries, "do not increase at index"),
        (_segment_off_its_beat, "segmentsSeconds says"),
        (_wrong_duration, "but the segments add up to"),
        (_wrong_dissimilarity, "but the cuts' similarity gives"),
    ],
)
def test_each_rule_catches_its_breakage(
    breakage: Callable[[dict[str, Any], dict[str, Any]], None], complaint: str
) -> None:
    analysis = load("analyze-webhook.json")["result"]
    candidate = load("resize-webhook.json")["result"][0]
    _check_all(analysis, candidate)
    breakage(analysis, candidate)
    with pytest.raises(AssertionError, match=re.escape(complaint)):
        _check_all(analysis, candidate)
