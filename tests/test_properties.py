"""Property tests (hypothesis): the codec, the validators, resize, strict JSON and scenarios hold
their promises for any input, not only the hand-picked cases of the other suites.

Every test is derandomized (same examples on every run) and keeps no example database. A property
that once exposed a bug keeps the failing case as an explicit @example.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mock_server.audio.errors import EngineValidationError
from mock_server.audio.export import MAX_GROUPS, MAX_SEGMENTS, parse_segments_groups
from mock_server.audio.resize import (
    CANDIDATES,
    DISTINCT_BEATS,
    MAX_BOUNDARIES,
    MIN_SCORED_TARGET,
    WEIGHT_CUT,
    WEIGHT_DISSIMILARITY,
    WEIGHT_LENGTH,
    parse_resize_input,
    resize_candidates,
)
from mock_server.audio.similarity import (
    SIMILARITY_MAX,
    SIMILARITY_MIN,
    decode_similarity,
    encode_similarity,
    matrix_size,
    parse_similarity,
    triangle_index,
    triangle_size,
)
from mock_server.audio.types import MAX_SECONDS
from mock_server.jsonbody import loads_strict
from mock_server.scenarios import (
    CATALOGUE,
    DEFAULT_PARAM_MAX,
    PARAM_MAX,
    Fault,
    Scenario,
    ScenarioError,
)
from mock_server.testing import MockServer
from mock_server.web.errors import DETAIL_HEADER
from tests.conftest import FAST
from tests.support import explained


def fixed(max_examples: int) -> settings:
    """Deterministic: the same examples every run, no database, no timing."""
    return settings(
        derandomize=True,
        database=None,
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


NAN, INF = float("nan"), float("inf")
HUGE = 10**400  # valid JSON, beyond float range
# Values that are not a finite JSON number, whatever field they land in.
NOT_NUMBERS: list[Any] = [NAN, INF, -INF, HUGE, -HUGE, True, False, None, "1", "NaN", [1.0], {}]


def get_diag_index(i: int, j: int) -> int:
    """The reference decoder's getDiagIndex, written out independently of the codec."""
    i, j = max(i, j), min(i, j)
    return i * (i + 1) // 2 + j


def reference_codes(data: str, n: int) -> list[list[int]]:
    """Character codes of the N x N matrix as the reference reads them."""
    return [[ord(data[get_diag_index(i, j)]) for j in range(n)] for i in range(n)]


# --- 1. the similarity codec ------------------------------------------------------------------


@st.composite
def code_ranges(draw: st.DrawFn) -> tuple[int, int]:
    lo = draw(st.integers(SIMILARITY_MIN, SIMILARITY_MAX - 1))
    hi = draw(st.integers(lo + 1, SIMILARITY_MAX))
    return lo, hi


@st.composite
def symmetric_matrices(draw: st.DrawFn, max_n: int = 40) -> np.ndarray:
    n = draw(st.integers(0, max_n))
    values = draw(
        hnp.arrays(
            np.float64,
            triangle_size(n),
            elements=st.floats(0.0, 1.0),
            fill=st.sampled_from([0.0, 0.5, 1.0, 0.25]),
        )
    )
    matrix = np.zeros((n, n))
    rows, cols = np.tril_indices(n)
    matrix[rows, cols] = values
    matrix[cols, rows] = values
    return matrix


@fixed(150)
@given(matrix=symmetric_matrices(), codes=st.none() | code_ranges())
@example(matrix=np.full((3, 3), 0.5 / 94), codes=None)  # exactly half a step
@example(matrix=np.zeros((0, 0)), codes=None)
def test_similarity_round_trips_within_one_quantisation_step(
    matrix: np.ndarray, codes: tuple[int, int] | None
) -> None:
    lo, hi = codes or (SIMILARITY_MIN, SIMILARITY_MAX)
    encoded = encode_similarity(matrix) if codes is None else encode_similarity(matrix, lo, hi)
    n = matrix.shape[0]
    assert (encoded.min, encoded.max) == (lo, hi)
    assert len(encoded.data) == n * (n + 1) // 2
    assert all(lo <= ord(c) <= hi for c in encoded.data)
    # Decoded with the reference's own formula, independently of the mock's decoder.
    steps = hi - lo
    reference = np.array(reference_codes(encoded.data, n), dtype=np.float64).reshape(n, n)
    reference = (reference - lo) / steps
    assert np.all(np.abs(reference - matrix) <= 0.5 / steps + 1e-12)
    # The mock's decoder addresses the same cell for every (i, j), in either order.
    assert np.array_equal(decode_similarity(encoded), reference)
    # What the encoder writes, the validator accepts for N boundaries.
    assert parse_similarity(encoded.to_json(), n) == encoded


@fixed(200)
@given(i=st.integers(0, 5000), j=st.integers(0, 5000))
def test_triangle_index_is_the_references_get_diag_index(i: int, j: int) -> None:
    assert triangle_index(i, j) == triangle_index(j, i) == get_diag_index(i, j)
    assert triangle_index(i, j) < triangle_size(max(i, j) + 1)


@fixed(200)
@given(length=st.integers(0, 10**7))
@example(length=triangle_size(MAX_BOUNDARIES))
@example(length=triangle_size(MAX_BOUNDARIES) - 1)
def test_matrix_size_inverts_triangle_size(length: int) -> None:
    n = matrix_size(length)
    root = math.isqrt(2 * length)
    exact = [k for k in range(max(0, root - 2), root + 3) if triangle_size(k) == length]
    assert n == (exact[0] if exact else None)


# --- 2. resize: valid input ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Problem:
    similarity: dict[str, Any]
    boundaries: list[Any]
    target: Any

    def parse(self) -> Any:
        return parse_resize_input(self.similarity, self.boundaries, self.target)


@st.composite
def boundary_lists(draw: st.DrawFn, n: int) -> list[Any]:
    """N strictly increasing times: centiseconds (as analyses write), floats or integers."""
    style = draw(st.sampled_from(["centiseconds", "floats", "integers"]))
    start = draw(st.sampled_from([0]) | st.integers(0, 3000))
    if style == "centiseconds":
        gaps = draw(st.lists(st.integers(1, 300), min_size=n - 1, max_size=n - 1))
        return [c / 100 for c in itertools.accumulate([start, *gaps])]
    if style == "floats":
        seconds = draw(st.lists(st.floats(1e-3, 50.0), min_size=n - 1, max_size=n - 1))
        return list(itertools.accumulate([start / 100, *seconds]))
    gaps = draw(st.lists(st.integers(1, 10), min_size=n - 1, max_size=n - 1))
    return list(itertools.accumulate([start // 100, *gaps]))


@st.composite
def similarity_data(draw: st.DrawFn, n: int, lo: int, hi: int) -> str:
    """A lower triangle of codes: noise, a repeating structure (good cuts exist) or constant."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    style = draw(st.sampled_from(["noise", "structure", "constant"]))
    if style == "constant":
        return chr(draw(st.integers(lo, hi))) * triangle_size(n)
    codes = rng.integers(lo, hi + 1, size=(n, n))
    if style == "structure":
        period = draw(st.integers(2, 8))
        rows, columns = np.indices((n, n))
        codes = np.where(
            (rows - columns) % period == 0, hi, rng.integers(lo, lo + (hi - lo) // 3 + 1)
        )
    np.fill_diagonal(codes, hi)
    data = [""] * triangle_size(n)
    for i in range(n):
        for j in range(i + 1):
            data[get_diag_index(i, j)] = chr(int(codes[i, j]))
    return "".join(data)


@st.composite
def resize_problems(draw: st.DrawFn, max_n: int = 40) -> Problem:
    n = draw(st.integers(2, max_n))
    boundaries = draw(boundary_lists(n))
    lo, hi = draw(st.just((SIMILARITY_MIN, SIMILARITY_MAX)) | code_ranges())
    data = draw(similarity_data(n, lo, hi))
    song = float(boundaries[-1]) - float(boundaries[0])
    target = draw(
        st.floats(1e-3, 12.0).map(lambda f: f * song)
        | st.floats(1e-3, 1e4)
        | st.integers(1, 600)
        | st.sampled_from([song, float(boundaries[1]) - float(boundaries[0])])
    )
    return Problem({"data": data, "min": lo, "max": hi}, boundaries, target)


def cuts_of(segments: list[list[int]]) -> list[tuple[int, int]]:
    return [(a[1], b[0]) for a, b in itertools.pairwise(segments)]


def check_candidates(problem: Problem, candidates: list[dict[str, Any]]) -> None:
    """Every promise of docs/engine.md's resize section, recomputed from the request alone."""
    times = [float(t) for t in problem.boundaries]
    n, target = len(times), float(problem.target)
    lo, hi = problem.similarity["min"], problem.similarity["max"]
    scale = hi - lo
    codes = reference_codes(problem.similarity["data"], n)
    assert 1 <= len(candidates) <= CANDIDATES
    for c in candidates:
        assert set(c) == {
            "dissimilarity",
            "blendedScore",
            "segmentsBeats",
            "segmentsSeconds",
            "durationSeconds",
        }
        segments = c["segmentsBeats"]
        assert segments and all(type(s) is int and type(e) is int for s, e in segments)
        assert all(0 <= s < e <= n - 1 for s, e in segments), segments
        assert c["segmentsSeconds"] == [[times[s], times[e]] for s, e in segments]
        total = sum(times[e] - times[s] for s, e in segments)
        assert type(c["durationSeconds"]) is int
        assert c["durationSeconds"] == math.floor(total + 0.5)  # half up, as the code rounds
        cuts = cuts_of(segments)
        steps = sum(scale - (codes[e][s] - lo) for e, s in cuts)
        assert c["dissimilarity"] == steps / scale  # exact multiple of 1 / (max - min)
        assert 0 <= c["dissimilarity"] <= len(cuts)
        blended = -(
            WEIGHT_DISSIMILARITY * c["dissimilarity"]
            + WEIGHT_LENGTH * abs(total - target) / max(target, MIN_SCORED_TARGET)
            + WEIGHT_CUT * len(cuts)
        )
        assert c["blendedScore"] == pytest.approx(blended, rel=1e-9, abs=1e-12)
        assert c["blendedScore"] <= 0
    json.dumps(candidates, allow_nan=False)  # a JSON document a strict client can read
    # Best first; equal scores in segment order (the engine's documented tie-break).
    ranks = [(-c["blendedScore"], c["segmentsBeats"]) for c in candidates]
    assert ranks == sorted(ranks)
    # Distinct: no candidate has all its cuts within DISTINCT_BEATS of a better one's.
    for k, mine in enumerate(cuts_of(c["segmentsBeats"]) for c in candidates):
        for theirs in (cuts_of(c["segmentsBeats"]) for c in candidates[:k]):
            assert not (
                len(mine) == len(theirs)
                and all(
                    abs(a[0] - b[0]) <= DISTINCT_BEATS and abs(a[1] - b[1]) <= DISTINCT_BEATS
                    for a, b in zip(mine, theirs, strict=True)
                )
            ), (mine, theirs)
    # Intro and ending are kept unless the target is shorter than one beat at each end.
    if target >= (times[1] - times[0]) + (times[-1] - times[-2]):
        for c in candidates:
            assert c["segmentsBeats"][0][0] == 0 and c["segmentsBeats"][-1][1] == n - 1


@fixed(80)
@given(problem=resize_problems())
@example(
    problem=Problem({"data": "~~~", "min": 32, "max": 126}, [0, 1], 1)
)  # the smallest valid resize
def test_resize_candidates_keep_every_promise(problem: Problem) -> None:
    parsed = problem.parse()
    assert parsed.boundaries == tuple(float(t) for t in problem.boundaries)
    assert parsed.target_seconds == float(problem.target)
    candidates = resize_candidates(parsed)
    check_candidates(problem, candidates)
    assert resize_candidates(problem.parse()) == candidates  # same input, same output


@fixed(30)
@given(
    boundaries=st.lists(st.integers(1, 1000), min_size=1, max_size=5).map(
        lambda gaps: list(itertools.accumulate([0, *gaps]))
    ),
    target=st.floats(5e-324, 1e-309),  # 1 s / target is beyond float range
)
@example(boundaries=[0, 1], target=5e-324)
def test_resize_scores_stay_finite_for_any_valid_target(
    boundaries: list[int], target: float
) -> None:
    data = "~" * triangle_size(len(boundaries))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow notes, not the bug
        candidates = resize_candidates(
            parse_resize_input({"data": data, "min": 32, "max": 126}, boundaries, target)
        )
    json.dumps(candidates, allow_nan=False)


# --- 2. resize: invalid input ---------------------------------------------------------------

negative_numbers = st.floats(max_value=-5e-324, allow_infinity=False) | st.integers(max_value=-1)


@st.composite
def invalid_boundaries(draw: st.DrawFn, valid: list[Any]) -> Any:
    how = draw(
        st.sampled_from(["not a list", "too short", "bad element", "negative", "order", "too many"])
    )
    if how == "not a list":
        return draw(st.sampled_from(["0,1", None, 3, {"0": 0}, (0.0, 1.0), "[0, 1]"]))
    if how == "too short":
        return draw(st.sampled_from([[], [0.0], [5]]))
    if how == "too many":
        return [float(k) for k in range(MAX_BOUNDARIES + draw(st.integers(1, 3)))]
    out = list(valid)
    k = draw(st.integers(0, len(out) - 1))
    if how == "bad element":
        out[k] = draw(st.sampled_from(NOT_NUMBERS))
    elif how == "negative":
        out[k] = draw(negative_numbers)
    else:  # a repeat or a step back
        k = draw(st.integers(1, len(out) - 1))
        out[k] = draw(st.sampled_from([out[k - 1], out[0]]))
    return out


@st.composite
def invalid_targets(draw: st.DrawFn) -> Any:
    return draw(
        st.sampled_from([*NOT_NUMBERS, 0, 0.0, -0.0, "30", "30.0"])
        | negative_numbers
        | st.text(max_size=5)
    )


@st.composite
def invalid_similarities(draw: st.DrawFn, valid: dict[str, Any]) -> Any:
    lo, hi, data = valid["min"], valid["max"], valid["data"]
    how = draw(
        st.sampled_from(
            ["not an object", "data", "length", "low char", "high char", "min/max", "order"]
        )
    )
    if how == "not an object":
        return draw(st.sampled_from([None, data, [data, lo, hi], 1, True]))
    if how == "data":
        return {**valid, "data": draw(st.sampled_from([None, 1, [data], {"d": data}]))}
    if how == "length":
        extra = draw(st.sampled_from(["drop", "add"]))
        changed = data[:-1] if extra == "drop" else data + chr(hi)
        return {**valid, "data": changed}
    if how in ("low char", "high char"):
        if how == "low char":
            bad = chr(draw(st.integers(0, lo - 1)))
        else:
            bad = chr(
                draw(st.integers(hi + 1, 0x10FFFF).filter(lambda c: not 0xD800 <= c < 0xE000))
            )
        k = draw(st.integers(0, len(data) - 1))
        return {**valid, "data": data[:k] + bad + data[k + 1 :]}
    if how == "order":  # min above or equal to max
        same = draw(st.integers(SIMILARITY_MIN, SIMILARITY_MAX))
        return (
            {**valid, "min": hi, "max": lo}
            if draw(st.booleans())
            else {**valid, "min": same, "max": same}
        )
    key = draw(st.sampled_from(["min", "max"]))
    bad_bound = (
        st.sampled_from([*NOT_NUMBERS, 32.0, 126.0, "32"])
        | st.integers(max_value=SIMILARITY_MIN - 1)
        | st.integers(min_value=SIMILARITY_MAX + 1)
    )
    changed = {**valid, key: draw(bad_bound)}
    if draw(st.booleans()):
        del changed[key]
    return changed


@st.composite
def invalid_resize_requests(draw: st.DrawFn) -> tuple[Problem, str]:
    valid = draw(resize_problems(max_n=6))
    field = draw(st.sampled_from(["boundaries", "targetLengthSeconds", "similarity"]))
    if field == "boundaries":
        return dataclasses.replace(
            valid, boundaries=draw(invalid_boundaries(valid.boundaries))
        ), field
    if field == "targetLengthSeconds":
        return dataclasses.replace(valid, target=draw(invalid_targets())), field
    return dataclasses.replace(
        valid, similarity=draw(invalid_similarities(valid.similarity))
    ), field


@fixed(300)
@given(case=invalid_resize_requests())
@example(case=(Problem({"data": "~~~", "min": 32, "max": 126}, [0, HUGE], 1), "boundaries"))
@example(
    case=(Problem({"data": "~~~", "min": 32, "max": 126}, [0, 1], HUGE), "targetLengthSeconds")
)
@example(case=(Problem({"data": "~~~", "min": HUGE, "max": 126}, [0, 1], 1), "similarity"))
@example(
    case=(Problem({"data": "~~~", "min": 32, "max": 126}, [0, 1], -HUGE), "targetLengthSeconds")
)
def test_invalid_resize_input_names_the_field(case: tuple[Problem, str]) -> None:
    problem, field = case
    with pytest.raises(EngineValidationError) as caught:
        problem.parse()
    assert caught.value.field == field
    assert caught.value.message == f"{field}: {caught.value.detail}"


# --- 3. export segment parsing --------------------------------------------------------------

seconds = st.floats(0.0, MAX_SECONDS) | st.integers(0, int(MAX_SECONDS))  # a day at most
segments = st.lists(seconds, min_size=2, max_size=2)
segment_groups = st.lists(st.lists(segments, min_size=1, max_size=12), min_size=1, max_size=8)


@fixed(150)
@given(groups=segment_groups)
@example(groups=[[[0, 1]]] * MAX_GROUPS)
@example(groups=[[[0, 1]] * MAX_SEGMENTS])
@example(groups=[[[5, 5], [3, 1]]])  # impossible segments are the export's concern, not the shape's
def test_valid_segment_groups_are_accepted_as_given(groups: list[list[list[Any]]]) -> None:
    parsed = parse_segments_groups(groups)
    assert parsed == tuple(tuple((float(s), float(e)) for s, e in group) for group in groups)
    assert all(type(t) is float for group in parsed for segment in group for t in segment)


@st.composite
def invalid_segment_groups(draw: st.DrawFn) -> Any:
    groups = draw(segment_groups)
    how = draw(
        st.sampled_from(
            [
                "top",
                "empty",
                "too many groups",
                "group",
                "empty group",
                "too many segments",
                "segment",
                "length",
                "value",
                "negative",
            ]
        )
    )
    if how == "top":
        return draw(st.sampled_from([None, {}, "[[0, 1]]", 1, True]))
    if how == "empty":
        return []
    if how == "too many groups":
        return [[[0, 1]]] * (MAX_GROUPS + draw(st.integers(1, 5)))
    g = draw(st.integers(0, len(groups) - 1))
    if how == "group":
        groups[g] = draw(st.sampled_from([None, {}, "[0, 1]", 0, (0, 1)]))
    elif how == "empty group":
        groups[g] = []
    elif how == "too many segments":
        groups[g] = [[0, 1]] * (MAX_SEGMENTS + draw(st.integers(1, 3)))
    else:
        k = draw(st.integers(0, len(groups[g]) - 1))
        segment = list(groups[g][k])
        if how == "segment":
            groups[g][k] = draw(st.sampled_from([None, 0, "0-1", {"start": 0}, (0, 1)]))
            return groups
        if how == "length":
            groups[g][k] = draw(st.sampled_from([[], [0], [0, 1, 2], [[0, 1]]]))
            return groups
        bad = st.sampled_from(NOT_NUMBERS) if how == "value" else negative_numbers
        segment[draw(st.integers(0, 1))] = draw(bad)
        groups[g][k] = segment
    return groups


@fixed(300)
@given(groups=invalid_segment_groups())
@example(groups=[[[0, HUGE]]])
@example(groups=[[[-HUGE, 1]]])
def test_invalid_segment_groups_name_the_field(groups: Any) -> None:
    with pytest.raises(EngineValidationError) as caught:
        parse_segments_groups(groups)
    assert caught.value.field == "segmentsGroups"
    assert caught.value.message.startswith("segmentsGroups: ") and caught.value.detail


# --- 4. strict JSON --------------------------------------------------------------------------

utf8_text = st.text(st.characters(codec="utf-8"), max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**20, max_value=10**400)
    | st.floats(allow_nan=False, allow_infinity=False)
    | utf8_text
)


def documents(keys: st.SearchStrategy[str] = utf8_text) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5)
        ),
        max_leaves=30,
    )


@fixed(200)
@given(doc=documents(), ensure_ascii=st.booleans())
def test_strict_json_round_trips_every_finite_document(doc: Any, ensure_ascii: bool) -> None:
    raw = json.dumps(doc, ensure_ascii=ensure_ascii).encode()
    assert loads_strict(raw) == doc


# Keys the path notation can name without ambiguity: not empty, not starting with "[".
plain_keys = st.text(st.characters(codec="utf-8"), max_size=8)


def step(path: str, key: str | int) -> str:
    """The path one step down, in loads_strict's notation: `[2]`, `.name` (bare at the top), or
    `["odd key"]` for a key that is not an identifier."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key.isidentifier():
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


CONSTANTS = {"NaN": NAN, "Infinity": INF, "-Infinity": -INF}


@st.composite
def documents_with_one_non_finite(draw: st.DrawFn) -> tuple[Any, str, str]:
    """A finite document with one NaN or infinity planted somewhere; its path; the constant."""
    constant = draw(st.sampled_from(sorted(CONSTANTS)))
    doc = draw(documents(plain_keys))

    def plant(node: Any, path: str) -> tuple[Any, str]:
        containers = isinstance(node, list | dict)
        if not containers or draw(st.integers(0, 3)) == 0:
            if isinstance(node, list):  # insert beside the items rather than replace them
                k = draw(st.integers(0, len(node)))
                return [*node[:k], CONSTANTS[constant], *node[k:]], step(path, k)
            if isinstance(node, dict):
                key = draw(plain_keys.filter(lambda k: k not in node))
                return {**node, key: CONSTANTS[constant]}, step(path, key)
            return CONSTANTS[constant], path
        if isinstance(node, list):
            if not node:
                return [CONSTANTS[constant]], step(path, 0)
            k = draw(st.integers(0, len(node) - 1))
            child, where = plant(node[k], step(path, k))
            return [*node[:k], child, *node[k + 1 :]], where
        if not node:
            key = draw(plain_keys)
            return {key: CONSTANTS[constant]}, step(path, key)
        key = draw(st.sampled_from(sorted(node)))
        child, where = plant(node[key], step(path, key))
        return {**node, key: child}, where

    planted, path = plant(doc, "")
    return planted, path or "the body", constant


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


# --- 5. scenarios ------------------------------------------------------------------------------

# Short decimals, as people write them.
six_digit_numbers = st.builds(
    lambda k, places: k / 10**places, st.integers(0, 999_999), st.integers(0, 4)
)
param_names = st.text(st.characters(categories=["Ll", "Lu", "Nd"]), min_size=1, max_size=12)


@st.composite
def scenarios(draw: st.DrawFn, numbers: st.SearchStrategy[float]) -> Scenario:
    spec = CATALOGUE[draw(st.sampled_from(list(Fault)))]
    params: dict[str, object] = {}
    for name, default in spec.params.items():
        if draw(st.booleans()):
            if isinstance(default, str):
                params[name] = draw(param_names)
            else:  # within the parameter's range: the range itself is tested below
                params[name] = min(abs(draw(numbers)), PARAM_MAX.get(name, DEFAULT_PARAM_MAX))
    return Scenario.named(spec.fault.value, params)


@fixed(200)
@given(scenario=scenarios(six_digit_numbers))
def test_scenario_describe_parses_back(scenario: Scenario) -> None:
    assert Scenario.parse(scenario.describe()) == scenario
    assert Scenario.parse(f" {scenario.describe().replace(';', ' ; ')} ") == scenario


@fixed(100)
@given(scenario=scenarios(st.floats(allow_nan=False, allow_infinity=False)))
@example(scenario=Scenario.named("slow", {"seconds": 1234567}))
def test_scenario_describe_parses_back_for_any_finite_number(scenario: Scenario) -> None:
    assert Scenario.parse(scenario.describe()) == scenario


@fixed(200)
@given(name=st.text(max_size=20), params=st.lists(st.text(max_size=10), max_size=3))
def test_unknown_scenarios_are_refused(name: str, params: list[str]) -> None:
    assume(";" not in name and name.strip() not in {f.value for f in Fault})
    with pytest.raises(ScenarioError):
        Scenario.parse(";".join([name, *params]))


@st.composite
def bad_parameters(draw: st.DrawFn) -> str:
    """A known scenario with a parameter it does not take, a non-number or no '='."""
    spec = CATALOGUE[draw(st.sampled_from(list(Fault)))]
    numeric = [name for name, default in spec.params.items() if not isinstance(default, str)]
    how = draw(st.sampled_from(["unknown", "not a number", "no equals"]))
    if how == "unknown" or not numeric:
        name = draw(param_names.filter(lambda p: p not in spec.params))
        return f"{spec.fault.value};{name}={draw(st.text(max_size=5).map(str.strip))}"
    name = draw(st.sampled_from(numeric))
    if how == "no equals":
        return f"{spec.fault.value};{name}"
    value = draw(
        st.text(max_size=8).filter(lambda v: ";" not in v and v.strip() and not _is_float(v))
    )
    return f"{spec.fault.value};{name}={value}"


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@fixed(200)
@given(text=bad_parameters())
def test_bad_scenario_parameters_are_refused(text: str) -> None:
    with pytest.raises(ScenarioError):
        Scenario.parse(text)


@fixed(30)
@given(
    fault=st.sampled_from(
        [f for f in Fault if any(not isinstance(v, str) for v in CATALOGUE[f].params.values())]
    ),
    value=st.sampled_from(["nan", "inf", "-inf", "1e400", "NaN", "Infinity"]),
)
@example(fault=Fault.RATE_LIMITED, value="nan")
@example(fault=Fault.SLOW, value="-1")
@example(fault=Fault.WEBHOOK_DUPLICATE, value="1000000")
def test_scenario_numbers_outside_their_range_are_refused(fault: Fault, value: str) -> None:
    name = next(k for k, v in CATALOGUE[fault].params.items() if not isinstance(v, str))
    with pytest.raises(ScenarioError):
        Scenario.parse(f"{fault.value};{name}={value}")


# --- 6. over HTTP --------------------------------------------------------------------------------

KEY = {"X-API-Key": "test-key", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(dataclasses.replace(FAST, rate_limit=1_000_000)) as running:
        yield running


def post(server: MockServer, path: str, data: bytes, headers: dict[str, str] = KEY) -> Any:
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
        field = error.field
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
