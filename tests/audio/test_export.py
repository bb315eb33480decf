"""Export: stitched audio is the source's own samples, encoded as asked."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from mock_server.audio.encode import encode_audio
from mock_server.audio.errors import EngineValidationError
from mock_server.audio.export import (
    CROSSFADE_SECONDS,
    ExportedFile,
    ExportFailure,
    export_bytes,
    export_groups,
    parse_segments_groups,
)
from mock_server.audio.mp3_frames import frames
from mock_server.audio.types import Audio, DecodeLimits, ExportFormat

RATE = 44100


def noise_audio(seconds: float, channels: int = 2, rate: int = RATE) -> Audio:
    """16-bit-exact noise, so a WAV round trip can be compared sample for sample."""
    rng = np.random.default_rng(7)
    codes = rng.integers(-12000, 12000, (int(seconds * rate), channels))
    return Audio((codes / 32768.0).astype(np.float32), rate)


def decode(data: bytes) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return samples, rate


def only_file(outcomes: list[ExportedFile | ExportFailure]) -> ExportedFile:
    (outcome,) = outcomes
    assert isinstance(outcome, ExportedFile), outcome
    return outcome


def test_wav_output_is_the_source_away_from_the_crossfades() -> None:
    audio = noise_audio(6.0)
    segments = ((0.0, 2.0), (3.0, 4.0), (1.0, 1.5))
    out = only_file(export_groups(audio, (segments,), ExportFormat.WAV))
    samples, rate = decode(out.data)
    assert rate == RATE and samples.shape[1] == 2
    assert samples.shape[0] == int(3.5 * RATE)
    fade = round(CROSSFADE_SECONDS * RATE)
    position = 0
    for start, end in segments:
        first, last = round(start * RATE), round(end * RATE)
        length = last - first
        body = slice(0, length - fade)  # the last `fade` samples belong to the next crossfade
        np.testing.assert_array_equal(
            samples[position : position + length][body], audio.samples[first:last][body]
        )
        position += length


def test_cuts_have_no_clicks() -> None:
    rate = RATE
    t = np.arange(4 * rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    audio = Audio(np.stack([tone, tone], axis=1), rate)
    # 1.0011 s sits mid-cycle, so a hard cut there would jump by about half the amplitude.
    out = only_file(export_groups(audio, (((0.0, 1.0011), (2.0, 3.0)),), ExportFormat.WAV))
    samples, _ = decode(out.data)
    largest_step = float(np.max(np.abs(np.diff(samples[:, 0]))))
    natural_step = 0.5 * 2 * np.pi * 220 / rate
    assert largest_step < 1.5 * natural_step


@pytest.mark.parametrize("fmt", [ExportFormat.MP3_128, ExportFormat.MP3_256, ExportFormat.MP3_320])
def test_mp3_is_constant_bitrate_at_the_requested_rate(fmt: ExportFormat) -> None:
    audio = noise_audio(5.0)
    out = only_file(export_groups(audio, (((0.0, 2.0), (3.0, 4.5)),), fmt))
    headers = frames(out.data)
    assert len(headers) > 50
    assert {h.bitrate_kbps for h in headers} == {fmt.bitrate_kbps}
    assert {h.sample_rate for h in headers} == {RATE}
    samples, rate = decode(out.data)
    assert rate == RATE
    # The decoder may keep the encoder's priming and padding: up to two frames.
    assert abs(samples.shape[0] / rate - 3.5) <= 2 * 1152 / rate


@pytest.mark.parametrize("channels", [1, 2])
def test_wav_keeps_rate_and_channels(channels: int) -> None:
    audio = noise_audio(2.0, channels=channels, rate=32000)
    out = only_file(export_groups(audio, (((0.0, 1.0),),), ExportFormat.WAV))
    info = sf.info(io.BytesIO(out.data))
    assert (info.samplerate, info.channels, info.subtype) == (32000, channels, "PCM_16")
    assert out.duration_seconds == pytest.approx(1.0)


def test_mp3_of_an_unusual_rate_is_resampled_to_one_mp3_carries() -> None:
    audio = noise_audio(2.0, rate=96000)
    out = only_file(export_groups(audio, (((0.0, 1.0),),), ExportFormat.MP3_128))
    assert {h.sample_rate for h in frames(out.data)} == {48000}


def test_an_impossible_group_fails_alone() -> None:
    audio = noise_audio(3.0)
    groups = parse_segments_groups([[[0, 1]], [[2, 1]], [[0, 1], [2.5, 9]], [[5, 6]], [[1, 2]]])
    outcomes = export_groups(audio, groups, ExportFormat.WAV)
    assert [type(o) for o in outcomes] == [
        ExportedFile,
        ExportFailure,
        ExportFailure,
        ExportFailure,
        ExportedFile,
    ]
    messages = [o.message for o in outcomes if isinstance(o, ExportFailure)]
    assert "start must be before end" in messages[0]
    assert "segment 2" in messages[1] and "ends after the audio ends" in messages[1]
    assert "starts after the audio ends" in messages[2]


def test_export_bytes_decodes_the_source() -> None:
    audio = noise_audio(3.0)
    source = encode_audio(audio.samples, audio.sample_rate, ExportFormat.WAV)
    groups = parse_segments_groups([[[0, 1], [2, 3]]])
    out = only_file(export_bytes(source, groups, ExportFormat.WAV, DecodeLimits()))
    assert out.duration_seconds == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "non-empty array of segment groups"),
        ("0-10", "non-empty array of segment groups"),
        ([[]], "group 1 must be a non-empty array"),
        ([[[0, 1]], [[0, 1, 2]]], "group 2 segment 1 must be a [start, end] pair"),
        ([[[0, "1"]]], "two finite numbers"),
        ([[[0, float("nan")]]], "two finite numbers"),
        ([[[-1, 1]]], "negative time"),
        ([[[True, 1]]], "two finite numbers"),
    ],
)
def test_malformed_groups_are_rejected_by_name(value: object, message: str) -> None:
    with pytest.raises(EngineValidationError) as caught:
        parse_segments_groups(value)
    assert caught.value.field == "segments_groups"
    assert message in caught.value.message
