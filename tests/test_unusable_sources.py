"""Source files that are not (usable) audio: empty, cut, not audio, implausible, decompression
bombs, missing. Each fails its own job with a failure webhook naming the problem, never an
internal error, while a good analysis submitted beside it succeeds; odd but decodable audio
(silence, a test tone, NaN samples) gets an analysis."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest

from tests.support import VALID, Hooks, expect_failure, run_beside_a_good_job

LIMIT = "longer than the 1800-second limit"


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("/empty.mp3", "The source file is empty."),
        ("/stub.mp3", "could not be decoded as audio"),
        ("/cut.mp3", "at least 2 s needed"),
        ("/cut.wav", "The source file is truncated"),
        ("/text.mp3", "could not be decoded as audio"),
        ("/error.mp3", "not audio"),
        ("/one-second.wav", "at least 2 s needed"),
        ("/sixteen-channels.wav", "not plausible audio"),
        ("/huge-header.wav", LIMIT),
        ("/hours.wav", LIMIT),
        ("/silence.flac", LIMIT),
        ("/silence.mp3", LIMIT),
        ("/missing.mp3", "HTTP 404"),
    ],
)
async def test_a_bad_source_file_fails_alone(
    api: aiohttp.ClientSession,
    hooks: Hooks,
    source_url: Callable[[str], str],
    source: str,
    fragment: str,
) -> None:
    body = {"resultWebhook": hooks.url(), "sourceFileUrl": source_url(source), "features": []}
    payload = await run_beside_a_good_job(api, hooks, source_url, body)
    expect_failure(payload, source_url(source), fragment)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [("/empty.mp3", "empty"), ("/hours.wav", LIMIT), ("/silence.mp3", LIMIT)],
)
async def test_a_bad_source_file_fails_an_export_too(
    api: aiohttp.ClientSession,
    hooks: Hooks,
    source_url: Callable[[str], str],
    source: str,
    fragment: str,
) -> None:
    body = {**VALID["/export"], "resultWebhook": hooks.url(), "sourceFileUrl": source_url(source)}
    payload = await run_beside_a_good_job(api, hooks, source_url, body, "/export")
    expect_failure(payload, source_url(source), fragment)


@pytest.mark.parametrize(
    ("source", "refusal"),
    [
        ("/digital-silence.wav", None),
        ("/test-tone.wav", None),
        ("/fifty-hertz.wav", "sample rate is 50 Hz"),
        ("/nan-samples.wav", None),
    ],
)
async def test_odd_audio_gets_an_answer_not_an_internal_error(
    api: aiohttp.ClientSession,
    hooks: Hooks,
    source_url: Callable[[str], str],
    source: str,
    refusal: str | None,
) -> None:
    """Silence, a test tone and NaN samples get an analysis at the fallback tempo; a 50 Hz sample
    rate a failure naming it."""
    body = {
        "resultWebhook": hooks.url(),
        "sourceFileUrl": source_url(source),
        "features": ["raw_features"],
    }
    payload = await run_beside_a_good_job(api, hooks, source_url, body)
    if refusal:
        expect_failure(payload, source_url(source), refusal)
    else:
        assert payload["success"] is True, payload
        assert len(payload["result"]["boundaries"]) >= 2
