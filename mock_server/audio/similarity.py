"""The similarity codec: a beat-by-beat matrix as printable characters, lower triangle row by row.

Entry (i, j) with j <= i sits at index i*(i+1)/2 + j and holds chr(min + round(s * (max - min))),
exactly what the reference's parseSimilarityMapString and getDiagIndex read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mock_server.audio.errors import EngineValidationError

SIMILARITY_MIN = 32
SIMILARITY_MAX = 126
FIELD = "similarity"


@dataclass(frozen=True)
class EncodedSimilarity:
    data: str
    min: int = SIMILARITY_MIN
    max: int = SIMILARITY_MAX

    def to_json(self) -> dict[str, Any]:
        return {"data": self.data, "min": self.min, "max": self.max}


def triangle_size(n: int) -> int:
    return n * (n + 1) // 2


def triangle_index(row: int, col: int) -> int:
    i, j = max(row, col), min(row, col)
    return (i + 1) * i // 2 + j


def triangle_indices(rows: NDArray[np.intp], cols: NDArray[np.intp]) -> NDArray[np.intp]:
    """triangle_index over arrays (broadcast): where a search reads pairs without the matrix."""
    high, low = np.maximum(rows, cols), np.minimum(rows, cols)
    indices: NDArray[np.intp] = (high * (high + 1) >> 1) + low  # a shift: integer division is slow
    return indices


def matrix_size(length: int) -> int | None:
    """N such that N(N+1)/2 == length, or None when no such N exists."""
    n = int((np.sqrt(8 * length + 1) - 1) // 2)
    for candidate in (n - 1, n, n + 1):
        if candidate >= 0 and triangle_size(candidate) == length:
            return candidate
    return None


def encode_similarity(
    matrix: NDArray[np.floating[Any]], lo: int = SIMILARITY_MIN, hi: int = SIMILARITY_MAX
) -> EncodedSimilarity:
    """Quantize a symmetric matrix with values in [0, 1] to its character string."""
    rows, cols = np.tril_indices(matrix.shape[0])
    return encode_triangle(np.asarray(matrix, dtype=np.float64)[rows, cols], lo, hi)


def encode_triangle(
    values: NDArray[np.floating[Any]], lo: int = SIMILARITY_MIN, hi: int = SIMILARITY_MAX
) -> EncodedSimilarity:
    """Quantize the lower triangle's values in [0, 1], row by row, to the character string.

    A NaN would cast to an arbitrary byte, likely not printable; it is coded as 0 (unrelated).
    """
    values = np.clip(np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    codes = (lo + np.floor(values * (hi - lo) + 0.5)).astype(np.uint8)
    return EncodedSimilarity(codes.tobytes().decode("ascii"), lo, hi)


def triangle_values(encoded: EncodedSimilarity) -> NDArray[np.float64]:
    """The lower triangle row by row, each (code - min) / (max - min): no N x N matrix, so a
    long song's similarity can be re-coded in the memory of its string."""
    codes = np.frombuffer(encoded.data.encode("latin-1"), dtype=np.uint8).astype(np.float64)
    values: NDArray[np.float64] = (codes - encoded.min) / float(encoded.max - encoded.min)
    return values


def _checked_size(length: int) -> int:
    n = matrix_size(length)
    if n is None:
        raise EngineValidationError(FIELD, f"data length {length} is not N(N+1)/2 for any N")
    return n


def decode_triangle(encoded: EncodedSimilarity) -> NDArray[np.int16]:
    """The lower triangle's integer steps above `min` (0 .. max - min), in the string's order.

    Half the size of the matrix and no scatter: a search that reads a few pairs needs no more.
    """
    codes = np.frombuffer(encoded.data.encode("latin-1"), dtype=np.uint8)
    _checked_size(codes.size)
    return np.subtract(codes, encoded.min, dtype=np.int16)


def decode_codes(encoded: EncodedSimilarity) -> NDArray[np.int16]:
    """The full symmetric matrix of integer steps above `min` (0 .. max - min)."""
    steps = decode_triangle(encoded)
    n = _checked_size(steps.size)
    matrix = np.empty((n, n), dtype=np.int16)
    rows, cols = np.tril_indices(n)
    matrix[rows, cols] = steps
    matrix[cols, rows] = steps
    return matrix


def decode_similarity(encoded: EncodedSimilarity) -> NDArray[np.float64]:
    """The full symmetric matrix, each entry (code - min) / (max - min)."""
    return decode_codes(encoded) / float(encoded.max - encoded.min)


def _bounded_int(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EngineValidationError(FIELD, f"{key} must be an integer")
    if not SIMILARITY_MIN <= value <= SIMILARITY_MAX:
        raise EngineValidationError(
            FIELD, f"{key} must be within {SIMILARITY_MIN}..{SIMILARITY_MAX} (printable ASCII)"
        )
    return value


def parse_similarity(obj: object, boundary_count: int) -> EncodedSimilarity:
    """Check a JSON similarity object against the boundaries it belongs to."""
    if not isinstance(obj, dict):
        raise EngineValidationError(FIELD, "must be an object with data, min and max")
    data = obj.get("data")
    if not isinstance(data, str):
        raise EngineValidationError(FIELD, "data must be a string")
    lo, hi = _bounded_int(obj, "min"), _bounded_int(obj, "max")
    if lo >= hi:
        raise EngineValidationError(FIELD, "min must be less than max")
    expected = triangle_size(boundary_count)
    if len(data) != expected:
        raise EngineValidationError(
            FIELD,
            f"data has {len(data)} characters;"
            f" {boundary_count} boundaries need N(N+1)/2 = {expected}",
        )
    if data and (min(data) < chr(lo) or max(data) > chr(hi)):
        raise EngineValidationError(FIELD, f"data has characters outside {lo}..{hi}")
    return EncodedSimilarity(data, lo, hi)
