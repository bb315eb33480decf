"""Strict JSON, for any document: what json accepts round-trips; a non-finite number or deep
nesting is a ValueError naming where.

Every test is derandomized (same examples on every run) and keeps no example database. A property
that once exposed a bug keeps the failing case as an explicit @example.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mock_server.jsonbody import loads_strict
from tests.strategies import INF, NAN, documents, documents_with_one_non_finite, fixed


@fixed(200)
@given(doc=documents(), ensure_ascii=st.booleans())
def test_strict_json_round_trips_every_finite_document(doc: Any, ensure_ascii: bool) -> None:
    raw = json.dumps(doc, ensure_ascii=ensure_ascii).encode()
    assert loads_strict(raw) == doc


@fixed(200)
@given(case=documents_with_one_non_finite(), ensure_ascii=st.booleans())
@example(case=(NAN, "the body", "NaN"), ensure_ascii=True)
@example(case=({"boundaries": [0, 1, -INF]}, "boundaries[2]", "-Infinity"), ensure_ascii=True)
@example(case=({"s": {"min": INF}}, "s.min", "Infinity"), ensure_ascii=True)
@example(case=({"a": {"[0]": NAN}}, 'a["[0]"]', "NaN"), ensure_ascii=True)
@example(case=({"": NAN}, '[""]', "NaN"), ensure_ascii=True)
def test_strict_json_refuses_non_finite_numbers_naming_the_path(
    case: tuple[Any, str, str], ensure_ascii: bool
) -> None:
    doc, path, constant = case
    raw = json.dumps(doc, ensure_ascii=ensure_ascii).encode()  # json.dumps writes NaN as is
    with pytest.raises(ValueError) as caught:
        loads_strict(raw)
    assert str(caught.value).startswith(f"{path} is {constant}"), (str(caught.value), path)


@fixed(50)
@given(key=st.text(max_size=6))
@example(key="[0]")
@example(key="")
def test_strict_json_paths_are_unambiguous(key: str) -> None:
    def message(doc: Any) -> str:
        with pytest.raises(ValueError) as caught:
            loads_strict(json.dumps(doc).encode())
        return str(caught.value)

    assert message({"a": {key: NAN}}) != message({"a": [NAN]})
    assert message({key: NAN}) != message(NAN)


@fixed(20)
@given(depth=st.integers(10, 200_000), nan_first=st.booleans())
@example(depth=100_000, nan_first=True)
def test_strict_json_refuses_any_deep_document_with_a_value_error(
    depth: int, nan_first: bool
) -> None:
    nested = b"[" * depth + b"]" * depth
    raw = b"[NaN, " + nested + b"]" if nan_first else b"[" + nested + b", NaN]"
    with pytest.raises(ValueError):
        loads_strict(raw)
