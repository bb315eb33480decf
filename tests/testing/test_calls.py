"""What a test can ask of the requests its client made: each with its bodies, the calls of a
route, the last one, assert_called with a partial match whose failure lists the near misses, and
wait_for_request; in this process and over the control API alike."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest

from mock_server.jsondiff import first_difference
from mock_server.testing import MockHandle
from mock_server.testing.calls import mismatch
from tests.support import TINY_RESIZE


def post(mock: MockHandle, route: str, body: Any) -> int:
    request = urllib.request.Request(
        f"{mock.base_url}/{route}",
        data=json.dumps(body).encode(),
        headers={"X-API-Key": "test-key", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        refused.close()
        return int(refused.code)


def test_a_partial_match_names_where_it_first_differs() -> None:
    body = {"segmentsGroups": [[[0, 4], [8, 12]]], "exportFormat": "wav", "extra": 1}
    assert mismatch({"segmentsGroups": [[[0, 4], [8, 12]]]}, body) is None
    assert mismatch({"exportFormat": "wav"}, body) is None
    assert mismatch({"segmentsGroups": [[[0, 4], [8, 13]]]}, body) == (
        "at /segmentsGroups/0/1/1: expected 13, got 12"
    )
    assert mismatch({"sourceFileUrl": "x"}, body) == 'at /sourceFileUrl: expected "x", got nothing'
    assert mismatch({"segmentsGroups": [[[0, 4]]]}, body) is not None  # lists match whole
    assert mismatch({"extra": True}, body) is not None  # True is not 1 here
    assert mismatch({"extra": 1.0}, body) is None  # but 1.0 is


def test_a_replay_names_where_a_request_first_differs_from_its_recording() -> None:
    recorded = {"targetLengthSeconds": 8, "boundaries": [0, 1]}
    sent = {"targetLengthSeconds": 8.0, "boundaries": [0, 1], "extra": 1}
    words = ("recorded", "sent")
    assert first_difference(recorded, recorded, partial=False, words=words) is None
    assert first_difference(recorded, sent, partial=False, words=words) == (
        "at /extra: recorded nothing, sent 1"
    )
    del sent["extra"]
    assert first_difference(recorded, sent, partial=False, words=words) == (
        "at /targetLengthSeconds: recorded 8, sent 8.0"  # a recording matches byte for byte
    )


def test_calls_carry_their_bodies_and_assert_called_matches_part_of_one(
    mock: MockHandle,
) -> None:
    assert post(mock, "resize", TINY_RESIZE) == 200
    (call,) = mock.calls("resize")
    assert call.request == TINY_RESIZE and call.answer["success"] is True
    assert mock.last_call("/resize") == call and mock.last_call() == call
    found = mock.assert_called("/resize", times=1, json={"targetLengthSeconds": 1})
    assert found == [call]
    with pytest.raises(AssertionError) as missed:
        mock.assert_called("resize", json={"targetLengthSeconds": 2})
    assert str(missed.value).splitlines() == [
        'expected at least one request to /resize whose body holds {"targetLengthSeconds": 2};'
        " got 0 of 1",
        f"  #1 (POST, 200, {call.request_id}): at /targetLengthSeconds: expected 2, got 1",
    ]
    with pytest.raises(AssertionError, match="got 0 of 0"):
        mock.assert_called("/export")


def test_a_body_that_is_not_json_or_too_large_is_its_size_and_hash(mock: MockHandle) -> None:
    huge = {**TINY_RESIZE, "similarity": {"data": "~" * 70_000, "min": 32, "max": 126}}
    assert post(mock, "resize", huge) == 400
    call = mock.last_call("resize")
    assert set(call.request) == {"size", "sha256"} and call.request["size"] > 70_000
    assert call.answer["success"] is False  # the refusal itself is small JSON


def test_wait_for_request_returns_once_the_client_has_called(mock: MockHandle) -> None:
    """The client calls from a thread of its own, as an app's worker would."""
    caller = threading.Thread(target=post, args=(mock, "resize", TINY_RESIZE))
    caller.start()
    call = mock.wait_for_request("resize", timeout=30, json={"boundaries": [0, 1]})
    caller.join()
    assert call.request == TINY_RESIZE
    with pytest.raises(TimeoutError, match=r"no matching request reached /export in 0\.2 s"):
        mock.wait_for_request("export", timeout=0.2)
