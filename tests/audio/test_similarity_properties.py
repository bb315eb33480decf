"""The similarity codec, for any matrix: encoding and the reference's decoder agree.

Every test is derandomized (same examples on every run) and keeps no example database. A property
that once exposed a bug keeps the failing case as an explicit @example.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from mock_server.audio.resize import (
    MAX_BOUNDARIES,
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
from tests.strategies import (
    code_ranges,
    fixed,
    get_diag_index,
    reference_codes,
    symmetric_matrices,
)


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
