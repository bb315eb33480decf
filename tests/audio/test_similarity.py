"""The similarity codec against the reference's own decoding functions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mock_server.audio.errors import EngineValidationError
from mock_server.audio.similarity import (
    EncodedSimilarity,
    decode_codes,
    decode_similarity,
    encode_similarity,
    encode_triangle,
    parse_similarity,
    triangle_index,
    triangle_size,
    triangle_values,
)


def reference_matrix(data: str, start: int, end: int) -> list[float]:
    """parseSimilarityMapString from the reference, transcribed."""
    return [(ord(c) - start) / (end - start) for c in data]


def reference_index(row: int, col: int) -> int:
    """getDiagIndex from the reference, transcribed."""
    i, j = max(row, col), min(row, col)
    return ((i + 1) * i) // 2 + j


def random_matrix(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.random((n, n))
    matrix = (values + values.T) / 2
    np.fill_diagonal(matrix, 1.0)
    return matrix


def test_layout_is_the_lower_triangle_row_by_row() -> None:
    n = 40
    matrix = random_matrix(n)
    encoded = encode_similarity(matrix)
    flat = reference_matrix(encoded.data, encoded.min, encoded.max)
    assert len(encoded.data) == triangle_size(n) == n * (n + 1) // 2
    for i in range(n):
        for j in range(n):
            assert triangle_index(i, j) == reference_index(i, j)
            assert flat[reference_index(i, j)] == pytest.approx(matrix[i, j], abs=0.5 / 94 + 1e-12)


def test_round_trip_is_exact_at_the_quantization_step() -> None:
    matrix = random_matrix(25, seed=3)
    once = decode_similarity(encode_similarity(matrix))
    twice = decode_similarity(encode_similarity(once))
    np.testing.assert_array_equal(once, twice)
    assert np.max(np.abs(once - matrix)) <= 0.5 / 94 + 1e-12
    assert np.all(np.diag(once) == 1.0)


def test_codes_span_min_to_max() -> None:
    encoded = encode_similarity(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert encoded.data == "~ ~"
    np.testing.assert_array_equal(decode_codes(encoded), [[94, 0], [0, 94]])


def test_the_triangle_alone_codes_and_decodes_as_the_matrix_does() -> None:
    matrix = random_matrix(30, seed=5)
    rows, cols = np.tril_indices(30)
    encoded = encode_similarity(matrix, 40, 100)
    assert encode_triangle(matrix[rows, cols], 40, 100) == encoded
    decoded = decode_similarity(encoded)[rows, cols]
    np.testing.assert_array_equal(triangle_values(encoded), decoded)
    assert triangle_values(encoded) == pytest.approx(reference_matrix(encoded.data, 40, 100))


def test_string_with_quotes_and_backslashes_survives_json() -> None:
    quote, backslash = (ord('"') - 32) / 94, (ord("\\") - 32) / 94
    matrix = np.array([[1.0, quote, backslash], [quote, 1.0, quote], [backslash, quote, 1.0]])
    encoded = encode_similarity(matrix)
    assert '"' in encoded.data and "\\" in encoded.data
    carried = json.loads(json.dumps(encoded.to_json()))
    assert carried == {"data": encoded.data, "min": 32, "max": 126}
    again = parse_similarity(carried, 3)
    np.testing.assert_array_equal(decode_similarity(again), decode_similarity(encoded))


@pytest.mark.parametrize(
    ("value", "count", "message"),
    [
        ("not an object", 2, "must be an object"),
        ({"data": 5, "min": 32, "max": 126}, 2, "data must be a string"),
        ({"data": "~~~", "min": "32", "max": 126}, 2, "min must be an integer"),
        ({"data": "~~~", "min": 32, "max": 127}, 2, "within 32..126"),
        ({"data": "~~~", "min": 90, "max": 40}, 2, "min must be less than max"),
        ({"data": "~~", "min": 32, "max": 126}, 2, "need N(N+1)/2 = 3"),
        ({"data": "~\x1f~", "min": 32, "max": 126}, 2, "outside 32..126"),
        ({"data": "~A~", "min": 40, "max": 126}, 2, None),
        ({"data": "~!~", "min": 40, "max": 126}, 2, "outside 40..126"),
    ],
)
def test_parse_similarity_names_the_problem(value: object, count: int, message: str | None) -> None:
    if message is None:
        assert parse_similarity(value, count) == EncodedSimilarity("~A~", 40, 126)
        return
    with pytest.raises(EngineValidationError) as caught:
        parse_similarity(value, count)
    assert caught.value.field == "similarity"
    assert message in caught.value.message
    assert caught.value.message.startswith("similarity: ")
