"""Decoding: the four formats come back as float32 frames; anything else is one clear error."""

from __future__ import annotations

import numpy as np
import pytest

from mock_server.audio.decode import decode_audio
from mock_server.audio.errors import AudioDecodeError
from mock_server.audio.synth import SongSpec, render_song, song_bytes
from mock_server.audio.types import DecodeLimits
from tests.forged_audio import wav_claiming

SPEC = SongSpec(tempo_bpm=120, duration_seconds=4.0, seed=11)
FRAMES = 4 * 44100


@pytest.fixture(scope="module")
def wav() -> bytes:
    return song_bytes(SPEC, "wav")


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_supported_formats_decode_to_float32_frames(fmt: str) -> None:
    audio = decode_audio(song_bytes(SPEC, fmt))
    assert audio.sample_rate == 44100
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 2 and audio.channels == 2
    assert audio.samples.shape[0] == pytest.approx(FRAMES, abs=2 * 1152 + 529)
    assert 0.5 < float(np.abs(audio.samples).max()) <= 1.0


def test_wav_round_trips_at_16_bit_precision(wav: bytes) -> None:
    original = render_song(SPEC).audio.samples
    decoded = decode_audio(wav).samples
    assert decoded.shape == original.shape
    assert float(np.abs(decoded - original).max()) < 1.0 / 16384


def test_decoding_is_deterministic(wav: bytes) -> None:
    assert np.array_equal(decode_audio(wav).samples, decode_audio(wav).samples)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "not audio"),
        (b"<html><head><title>Login</title></head></html>", "not audio"),
        (bytes(range(256)) * 40, "could not be decoded"),
    ],
)
def test_non_audio_is_rejected_with_a_message(data: bytes, message: str) -> None:
    with pytest.raises(AudioDecodeError, match=message):
        decode_audio(data)


def test_a_header_without_samples_is_rejected(wav: bytes) -> None:
    with pytest.raises(AudioDecodeError):
        decode_audio(wav[:30])
    with pytest.raises(AudioDecodeError):
        decode_audio(wav[:44])


def test_a_truncated_wav_is_rejected(wav: bytes) -> None:
    with pytest.raises(AudioDecodeError, match="truncated"):
        decode_audio(wav[: len(wav) // 2])


def test_a_header_claiming_hours_is_rejected_before_reading(wav: bytes) -> None:
    with pytest.raises(AudioDecodeError, match="limit"):
        decode_audio(wav_claiming(wav, 0xFFFFFFF0))


def test_over_max_bytes_is_rejected(wav: bytes) -> None:
    with pytest.raises(AudioDecodeError, match="byte"):
        decode_audio(wav, DecodeLimits(max_bytes=len(wav) - 1))


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_over_max_seconds_is_rejected(fmt: str) -> None:
    with pytest.raises(AudioDecodeError, match="limit"):
        decode_audio(song_bytes(SPEC, fmt), DecodeLimits(max_seconds=2.0))


def test_exactly_at_the_limits_is_accepted(wav: bytes) -> None:
    audio = decode_audio(wav, DecodeLimits(max_bytes=len(wav), max_seconds=4.0))
    assert audio.samples.shape[0] == FRAMES
