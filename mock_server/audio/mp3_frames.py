"""A minimal MPEG audio frame-header reader: checks bitrates without trusting the encoder."""

from __future__ import annotations

from dataclasses import dataclass

# Layer III bitrates (kbps) by header index, for MPEG-1 and for MPEG-2/2.5.
_MPEG1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class Frame:
    bitrate_kbps: int
    sample_rate: int


def frames(data: bytes) -> list[Frame]:
    """Every layer III frame header, walking frame by frame from the first sync word."""
    found = []
    position = data.find(b"\xff")
    while 0 <= position <= len(data) - 4:
        header = int.from_bytes(data[position : position + 4], "big")
        if header >> 21 != 0x7FF:
            break
        version = (header >> 19) & 3
        bitrate_index = (header >> 12) & 15
        rate_index = (header >> 10) & 3
        padding = (header >> 9) & 1
        if version == 1 or rate_index == 3 or bitrate_index in (0, 15):
            break
        bitrate = (_MPEG1 if version == 3 else _MPEG2)[bitrate_index]
        rate = _RATES[version][rate_index]
        found.append(Frame(bitrate, rate))
        samples = 1152 if version == 3 else 576
        position += samples // 8 * bitrate * 1000 // rate + padding
    return found
