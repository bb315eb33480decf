"""Reading a browser screenshot's pixels: a PNG decoder for what Chromium writes (8-bit RGB or
RGBA, not interlaced), so the tests check what was drawn without an imaging library."""

from __future__ import annotations

import struct
import zlib

import numpy as np
from numpy.typing import NDArray

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}  # PNG colour type -> samples a pixel


def rgb(png: bytes) -> NDArray[np.uint8]:
    """The image as a height x width x 3 array."""
    assert png.startswith(SIGNATURE), "not a PNG"
    at, data, header = len(SIGNATURE), b"", b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            data += body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in CHANNELS and interlace == 0, (depth, colour, interlace)
    step = CHANNELS[colour]
    raw = np.frombuffer(zlib.decompress(data), dtype=np.uint8).reshape(height, 1 + width * step)
    rows = _unfiltered(raw[:, 1:].astype(np.int32), raw[:, 0], step)
    return rows.reshape(height, width, step)[:, :, :3].astype(np.uint8)


def _unfiltered(
    lines: NDArray[np.int32], filters: NDArray[np.uint8], step: int
) -> NDArray[np.int32]:
    out = np.zeros_like(lines)
    for y in range(lines.shape[0]):
        line, above = lines[y], out[y - 1] if y else np.zeros_like(lines[0])
        kind = int(filters[y])
        if kind == 0:
            out[y] = line
        elif kind == 2:
            out[y] = (line + above) & 0xFF
        else:  # 1 (sub), 3 (average) and 4 (Paeth) depend on the pixel to the left
            row = out[y]
            for x in range(line.shape[0]):
                left = row[x - step] if x >= step else 0
                corner = above[x - step] if x >= step else 0
                row[x] = (line[x] + _predict(kind, left, int(above[x]), corner)) & 0xFF
    return out


def _predict(kind: int, left: int, up: int, corner: int) -> int:
    if kind == 1:
        return left
    if kind == 3:
        return (left + up) // 2
    guess = left + up - corner
    near_left, near_up, near_corner = abs(guess - left), abs(guess - up), abs(guess - corner)
    if near_left <= near_up and near_left <= near_corner:
        return left
    return up if near_up <= near_corner else corner
