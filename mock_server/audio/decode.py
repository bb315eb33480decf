"""Bytes to samples, within limits: whatever arrives as a "source file" is untrusted.

Limits are enforced before the expensive step each time: the byte size before opening, the
header's frame count (and a WAV's declared data size) before reading, and the running total while
reading in bounded blocks, since MP3 frame counts are estimates. Duration alone does not bound
memory (8 channels at 384 kHz are 32 times 48 kHz stereo), so decoded samples, frames x channels,
have their own cap. Samples go into one buffer sized from the header, so a long song is held once,
not once per block and again concatenated. Each block is sanitised as it lands: a float file may
hold NaN or infinities, and one NaN spreads through every spectrum into the analysis JSON.

Export needs every channel, so `decode_audio` keeps them all in one buffer sized from the header.
Analysis needs 11 kHz mono only: it reads the same `AudioStream`, within the same checks, block by
block (`open_audio`) and reduces each block as it lands, so a 10-minute song is never held in
stereo at full rate (212 MB of float32 for 10 minutes at 44.1 kHz).
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import soundfile as sf

from mock_server.audio.errors import AudioDecodeError
from mock_server.audio.types import Audio, DecodeLimits, FloatArray

DEFAULT_LIMITS = DecodeLimits()
BLOCK_FRAMES = 1 << 16
MAX_CHANNELS = 8
MAX_SAMPLE_RATE = 384_000
# Telephone audio's rate. Far below it the onset envelope has too few frames a second to hold a
# beat period (a 50 Hz file gave 0.4), and no real song is recorded there.
MIN_SAMPLE_RATE = 8_000
SUPPORTED = "WAV, MP3, FLAC or OGG"
# A WAV whose data chunk holds less than it declares by more than this is truncated.
TRUNCATION_TOLERANCE_FRAMES = 1024

NOT_AUDIO = f"The source file is a web page or text document, not audio ({SUPPORTED} expected)."
UNDECODABLE = "The source file could not be decoded as audio ({supported} expected): {reason}"
EMPTY = "The source file is empty."
NO_FRAMES = "The source file contains no audio frames."
TOO_MANY_BYTES = "The source file is {size} bytes, over the {limit}-byte limit."
TOO_LONG = "The source audio is longer than the {limit:g}-second limit ({what})."
TRUNCATED = (
    "The source file is truncated: its header declares {declared:.2f} s, it holds {held:.2f} s."
)
IMPLAUSIBLE = (
    "The source file declares {channels} channels at {rate} Hz, which is not plausible audio."
)
LOW_RATE = (
    "The source audio's sample rate is {rate} Hz, below the {minimum} Hz minimum needed to"
    " analyse it."
)
TOO_MANY_SAMPLES = (
    "The source audio is too large to decode: {channels} channels at {rate} Hz {what}, over the"
    " {limit}-sample limit (frames x channels)."
)


def _looks_like_markup(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"{", b"["))


def _wav_data_sizes(data: bytes) -> tuple[int, int, int] | None:
    """(declared data bytes, bytes actually present, bytes per frame) of a RIFF/WAVE file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    position, frame_bytes = 12, 0
    while position + 8 <= len(data):
        chunk_id = data[position : position + 4]
        (size,) = struct.unpack_from("<I", data, position + 4)
        body = position + 8
        if chunk_id == b"fmt " and body + 14 <= len(data):
            (frame_bytes,) = struct.unpack_from("<H", data, body + 12)
        elif chunk_id == b"data":
            return size, len(data) - body, frame_bytes
        position = body + size + (size & 1)
    return None


def _max_frames(limits: DecodeLimits, rate: int, channels: int) -> int:
    """Frames a decode may hold: the tighter of the duration and the decoded-samples caps."""
    return min(int(limits.max_seconds * rate), limits.max_samples // channels)


def _over_limit(
    frames: int, rate: int, channels: int, limits: DecodeLimits, declared: bool
) -> AudioDecodeError:
    """The refusal for `frames` past `_max_frames`, naming whichever limit they pass.

    `declared` frames come from a header (the whole length is known); otherwise reading stopped
    one frame past the limit, so all that is known is that the audio plays on past it.
    """
    seconds = frames / rate
    if frames > int(limits.max_seconds * rate):
        what = f"its header declares {seconds:.0f} s" if declared else "it plays on past it"
        return AudioDecodeError(TOO_LONG.format(limit=limits.max_seconds, what=what))
    if declared:
        what = f"for {seconds:.0f} s are {frames * channels} samples"
    else:
        what = f"play on past {(frames - 1) / rate:.0f} s"
    return AudioDecodeError(
        TOO_MANY_SAMPLES.format(channels=channels, rate=rate, what=what, limit=limits.max_samples)
    )


def _check_wav_header(data: bytes, limits: DecodeLimits, rate: int, channels: int) -> None:
    sizes = _wav_data_sizes(data)
    if sizes is None or sizes[2] == 0:
        return
    declared, present, frame_bytes = sizes
    declared_frames = declared // frame_bytes
    if declared_frames > _max_frames(limits, rate, channels):
        raise _over_limit(declared_frames, rate, channels, limits, declared=True)
    if declared - present > TRUNCATION_TOLERANCE_FRAMES * frame_bytes:
        raise AudioDecodeError(
            TRUNCATED.format(
                declared=declared / frame_bytes / rate, held=present / frame_bytes / rate
            )
        )


def sanitise(block: FloatArray) -> None:
    """In place: non-finite samples to 0, the rest clipped into [-1, 1] as `Audio` promises.

    Float WAV (or AIFF, CAF) can carry NaN, infinities or huge values, and lossy decoders can
    overshoot. Left alone, one NaN turns every later spectrum NaN, and the analysis JSON holds
    bare NaN, which no JSON parser accepts.
    """
    if block.size == 0:
        return
    # Two fast reductions tell the common cases apart: finite extremes mean no NaN or infinity
    # anywhere (either would be an extreme), so at most a clip (an MP3's overshoot) is needed.
    low, high = float(block.min()), float(block.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        np.nan_to_num(block, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    elif low >= -1.0 and high <= 1.0:
        return
    np.clip(block, -1.0, 1.0, out=block)


def _may_be_unsanitary(handle: sf.SoundFile) -> bool:
    """Integer PCM (WAV, FLAC) always decodes into [-1, 1): only float and lossy data need a pass.

    Skipping it there keeps the common case as fast as before (the pass doubled WAV decode time).
    """
    return not str(handle.subtype).startswith("PCM_")


class AudioStream:
    """An opened source read block by block within its limits, so no caller must hold it all.

    `read_into` fills a caller's buffer: the whole-song decode reads straight into its one buffer,
    the analysis reuses one small block. A 10-minute stereo MP3 is 212 MB of float32, which the
    analysis never needs at once (it keeps 11 kHz mono, an eighth of that).
    """

    def __init__(self, handle: sf.SoundFile, limits: DecodeLimits) -> None:
        self.sample_rate, self.channels = int(handle.samplerate), int(handle.channels)
        self._max_frames = _max_frames(limits, self.sample_rate, self.channels)
        # The header's count (exact for WAV, FLAC and OGG, an estimate for MP3), capped at what
        # reading may return.
        self.declared_frames = min(max(int(handle.frames), 0), self._max_frames + 1)
        self.total = 0
        self._handle = handle
        self._limits = limits
        self._sanitise = _may_be_unsanitary(handle)

    def read_into(self, out: FloatArray) -> FloatArray:
        """Up to len(out) frames into `out`, sanitised: the view of `out` read (empty at the end).

        Reading stops one frame past the limits, which proves the audio too long, and raises; so
        does an end without a single frame.
        """
        wanted = min(out.shape[0], self._max_frames + 1 - self.total)
        try:
            block: FloatArray = self._handle.read(
                wanted, dtype="float32", always_2d=True, out=out[:wanted]
            )
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
            raise _undecodable(error) from error
        self.total += block.shape[0]
        if self._sanitise:
            sanitise(block)
        if self.total > self._max_frames:
            raise _over_limit(
                self.total, self.sample_rate, self.channels, self._limits, declared=False
            )
        if self.total == 0:
            raise AudioDecodeError(NO_FRAMES)
        return block

    def blocks(self, frames: int = BLOCK_FRAMES) -> Iterator[FloatArray]:
        """The audio as consecutive blocks of `frames` (the last may be shorter), each a view of
        one reused buffer: a consumer reduces a block before it asks for the next."""
        buffer = np.empty((frames, self.channels), np.float32)
        while True:
            block = self.read_into(buffer)
            if block.shape[0] > 0:
                yield block
            if block.shape[0] < frames:
                return


def _read_frames(stream: AudioStream) -> FloatArray:
    """Every frame into one buffer sized from the header.

    The buffer grows (geometrically; reading stops past the limits) only when the header
    undercounted, which MP3 estimates may do. Past the buffer's end a block is read aside, so a
    header that counted right costs no copy.
    """
    samples = np.empty((max(stream.declared_frames, 1), stream.channels), np.float32)
    spare = np.empty((BLOCK_FRAMES, stream.channels), np.float32)
    while True:
        if stream.total < samples.shape[0]:
            wanted = min(samples.shape[0] - stream.total, BLOCK_FRAMES)
            if stream.read_into(samples[stream.total : stream.total + wanted]).shape[0] < wanted:
                break
            continue
        block = stream.read_into(spare)
        if block.shape[0] == 0:
            break
        grown = np.empty((max(2 * samples.shape[0], stream.total), stream.channels), np.float32)
        grown[: samples.shape[0]] = samples
        grown[stream.total - block.shape[0] : stream.total] = block
        samples = grown
    return samples[: stream.total]


def _undecodable(error: Exception) -> AudioDecodeError:
    reason = error.error_string if isinstance(error, sf.LibsndfileError) else str(error)
    return AudioDecodeError(UNDECODABLE.format(supported=SUPPORTED, reason=reason))


def _check_header(handle: sf.SoundFile, data: bytes, limits: DecodeLimits) -> None:
    """Refuse what the header alone shows to be implausible or over the limits."""
    rate, channels = int(handle.samplerate), int(handle.channels)
    if not (0 < rate <= MAX_SAMPLE_RATE) or not (0 < channels <= MAX_CHANNELS):
        raise AudioDecodeError(IMPLAUSIBLE.format(channels=channels, rate=rate))
    if rate < MIN_SAMPLE_RATE:
        raise AudioDecodeError(LOW_RATE.format(rate=rate, minimum=MIN_SAMPLE_RATE))
    # MP3 frame counts are estimates: the running total in AudioStream decides for MP3.
    frames = int(handle.frames)
    if frames > _max_frames(limits, rate, channels) and handle.format != "MP3":
        raise _over_limit(frames, rate, channels, limits, declared=True)
    if handle.format == "WAV":
        _check_wav_header(data, limits, rate, channels)


@contextmanager
def open_audio(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Iterator[AudioStream]:
    """WAV, MP3, FLAC or OGG bytes opened for reading block by block, with every limit that the
    bytes and the header can show already checked."""
    if not data:
        raise AudioDecodeError(EMPTY)
    if len(data) > limits.max_bytes:
        raise AudioDecodeError(TOO_MANY_BYTES.format(size=len(data), limit=limits.max_bytes))
    if _looks_like_markup(data):
        raise AudioDecodeError(NOT_AUDIO)
    try:
        handle = sf.SoundFile(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise _undecodable(error) from error
    with handle:
        _check_header(handle, data, limits)
        yield AudioStream(handle, limits)


def probe_duration(data: bytes) -> float | None:
    """Seconds of audio the header declares (an estimate for MP3), without decoding; None when
    there is no header to read. Cheap enough to run before the real decode."""
    if not data or _looks_like_markup(data):
        return None
    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        return None
    duration = float(info.duration)
    return duration if math.isfinite(duration) and duration > 0 else None


def decode_audio(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Audio:
    """Decode WAV, MP3, FLAC or OGG bytes into float32 (frames, channels) samples."""
    with open_audio(data, limits) as stream:
        return Audio(_read_frames(stream), stream.sample_rate)
