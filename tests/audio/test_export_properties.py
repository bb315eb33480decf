"""Export segment parsing, for any input: valid groups are taken as given, invalid ones name
the field.

Every test is derandomized (same examples on every run) and keeps no example database. A property
that once exposed a bug keeps the failing case as an explicit @example.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given

from mock_server.audio.errors import EngineValidationError
from mock_server.audio.export import MAX_GROUPS, MAX_SEGMENTS, parse_segments_groups
from tests.strategies import HUGE, fixed, invalid_segment_groups, segment_groups


@fixed(150)
@given(groups=segment_groups)
@example(groups=[[[0, 1]]] * MAX_GROUPS)
@example(groups=[[[0, 1]] * MAX_SEGMENTS])
@example(groups=[[[5, 5], [3, 1]]])  # impossible segments are the export's concern, not the shape's
def test_valid_segment_groups_are_accepted_as_given(groups: list[list[list[Any]]]) -> None:
    parsed = parse_segments_groups(groups)
    assert parsed == tuple(tuple((float(s), float(e)) for s, e in group) for group in groups)
    assert all(type(t) is float for group in parsed for segment in group for t in segment)


@fixed(300)
@given(groups=invalid_segment_groups())
@example(groups=[[[0, HUGE]]])
@example(groups=[[[-HUGE, 1]]])
def test_invalid_segment_groups_name_the_field(groups: Any) -> None:
    with pytest.raises(EngineValidationError) as caught:
        parse_segments_groups(groups)
    assert caught.value.field == "segments_groups"
    assert caught.value.message.startswith("segments_groups: ") and caught.value.detail
