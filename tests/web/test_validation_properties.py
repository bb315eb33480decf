"""The API over HTTP, for any invalid resize body or non-finite raw body: a 400 naming the
problem, never a 500.

Every test is derandomized (same examples on every run) and keeps no example database. A property
that once exposed a bug keeps the failing case as an explicit @example.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given

from mock_server.audio.errors import EngineValidationError
from mock_server.audio.resize import (
    parse_resize_input,
)
from mock_server.contract.parameters import wire_name
from mock_server.testing.inprocess import MockServer
from mock_server.web.errors import DETAIL_HEADER
from tests.conftest import FAST
from tests.strategies import Problem, fixed, invalid_resize_requests
from tests.support import KEY, explained

JSON_HEADERS = {**KEY, "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(dataclasses.replace(FAST, rate_limit=1_000_000)) as running:
        yield running


def post(server: MockServer, path: str, data: bytes, headers: dict[str, str] = JSON_HEADERS) -> Any:
    request = urllib.request.Request(server.base_url + path, data, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return (
                response.status,
                response.headers.get_content_type(),
                response.read(),
                response.headers,
            )
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get_content_type(), error.read(), error.headers


@fixed(50)
@given(case=invalid_resize_requests())
def test_invalid_resize_bodies_get_a_400_naming_the_field(
    server: MockServer, case: tuple[Problem, str]
) -> None:
    problem, _ = case
    body = {
        "similarity": problem.similarity,
        "boundaries": problem.boundaries,
        "targetLengthSeconds": problem.target,
    }
    # What the server will parse (json.dumps writes tuples as arrays, NaN as NaN).
    sent = json.loads(json.dumps(body))
    try:
        parse_resize_input(sent["similarity"], sent["boundaries"], sent["targetLengthSeconds"])
    except EngineValidationError as error:
        field = wire_name(error.field)
    else:
        assume(False)  # a tuple of valid times is a valid array once sent
    status, content_type, raw, headers = post(server, "/resize", json.dumps(body).encode())
    assert status == 400 and content_type == "application/json", (status, raw[:200])
    answer = json.loads(raw)
    message = explained(answer["message"], headers.get(DETAIL_HEADER))
    assert answer["success"] is False and field in message, answer


@pytest.mark.parametrize(
    "raw",
    [
        b"[NaN, " + b"[" * 100_000 + b"]" * 100_000 + b"]",
        b'{"a": NaN, "b": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["array", "object"],
)
def test_a_nan_before_deep_nesting_is_a_400(server: MockServer, raw: bytes) -> None:
    status, content_type, answer, _ = post(server, "/resize", raw)
    assert (status, content_type) == (400, "application/json"), (status, answer[:200])
