"""`answer(route, payload, times=, break_contract=)` on a test's handle, in this process and over
the control API alike: the route answers the payload, a reading such as a float tempo passes, and
a payload the contract refuses raises AnswerRefused with the same words either way."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from mock_server.testing import AnswerRefused, MockHandle
from tests.jobs.test_answers import ANALYSIS, CANDIDATE
from tests.support import TINY_RESIZE


def resize(mock: MockHandle) -> Any:
    request = urllib.request.Request(
        f"{mock.base_url}/resize",
        data=json.dumps(TINY_RESIZE).encode(),
        headers={"X-API-Key": mock.api_key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())["result"]


def test_a_route_answers_the_payload_for_the_next_times_requests(mock: MockHandle) -> None:
    armed = mock.answer("/resize", [CANDIDATE], times=2)
    assert armed["remaining"] == 2 and armed["payload"] == [CANDIDATE]
    assert [resize(mock) for _ in range(2)] == [[CANDIDATE]] * 2
    assert resize(mock) != [CANDIDATE]  # spent: the engine's again
    assert mock.last_call("/resize").answered is None
    assert mock.calls("/resize")[0].answered == armed["id"]


def test_a_reading_passes_and_a_broken_rule_is_refused_in_the_same_words(
    mock: MockHandle,
) -> None:
    assert mock.answer("analyze", {**ANALYSIS, "tempo": 99.5})["remaining"] is None
    with pytest.raises(AnswerRefused) as refusal:
        mock.answer("/resize", [{**CANDIDATE, "dissimilarity": 0.3}])
    assert str(refusal.value) == (
        "the answer for /resize breaks resize.dissimilarity: /result/0: dissimilarity 0.3 "
        "without a cut; break_contract=True (breakContract over the control API) sends it anyway"
    )
    mock.answer("/resize", [{**CANDIDATE, "dissimilarity": 0.3}], break_contract=True)
    assert resize(mock)[0]["dissimilarity"] == 0.3
