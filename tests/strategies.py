"""Strategies and helpers the property tests share: hypothesis settings that make every run
the same, the values no JSON number should be, the reference's decoder written out, and
generators of valid and invalid input."""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mock_server.audio.export import MAX_GROUPS, MAX_SEGMENTS
from mock_server.audio.resize import (
    MAX_BOUNDARIES,
    parse_resize_input,
)
from mock_server.audio.similarity import (
    SIMILARITY_MAX,
    SIMILARITY_MIN,
    triangle_size,
)
from mock_server.audio.types import MAX_SECONDS
from mock_server.faults.catalogue import CATALOGUE, Fault
from mock_server.faults.scenario import (
    DEFAULT_PARAM_MAX,
    PARAM_CHOICES,
    PARAM_MAX,
    PARAM_MIN,
    Scenario,
)


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
    field = draw(st.sampled_from(["boundaries", "target_length_seconds", "similarity"]))
    if field == "boundaries":
        return dataclasses.replace(
            valid, boundaries=draw(invalid_boundaries(valid.boundaries))
        ), field
    if field == "target_length_seconds":
        return dataclasses.replace(valid, target=draw(invalid_targets())), field
    return dataclasses.replace(
        valid, similarity=draw(invalid_similarities(valid.similarity))
    ), field


seconds = st.floats(0.0, MAX_SECONDS) | st.integers(0, int(MAX_SECONDS))  # a day at most


segments = st.lists(seconds, min_size=2, max_size=2)


segment_groups = st.lists(st.lists(segments, min_size=1, max_size=12), min_size=1, max_size=8)


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
            if name in PARAM_CHOICES:
                params[name] = draw(st.sampled_from(PARAM_CHOICES[name]))
            elif isinstance(default, str):
                params[name] = draw(param_names)
            else:  # within the parameter's range: the range itself is tested below
                low, high = PARAM_MIN.get(name, 0.0), PARAM_MAX.get(name, DEFAULT_PARAM_MAX)
                params[name] = min(max(abs(draw(numbers)), low), high)
    return Scenario.named(spec.fault.value, params)


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
