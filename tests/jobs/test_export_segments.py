"""Export segments out of range or reversed: an impossible group fails with a reason while the
others are exported, and an export whose groups are all impossible fails alone."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
import soundfile as sf

from tests.support import Hooks, expect_failure, run_beside_a_good_job


@pytest.mark.parametrize(
    ("groups", "fragment"),
    [
        ([[[5, 2]]], "start must be before end"),
        ([[[3, 3]]], "start must be before end"),
        ([[[25, 30]]], "starts after the audio ends"),
        ([[[0, 25]]], "ends after the audio ends"),
        ([[[0, 86_400]]], "ends after the audio ends"),
        ([[[0, 1e-9]]], "There is no audio to encode."),
        ([[[0, 4], [8, 2]], [[30, 40]]], "segment 2 [8, 2]: start must be before end"),
    ],
)
async def test_impossible_segments_fail_the_export_alone(
    api: aiohttp.ClientSession,
    hooks: Hooks,
    source_url: Callable[[str], str],
    groups: list[Any],
    fragment: str,
) -> None:
    body = {
        "resultWebhook": hooks.url(),
        "sourceFileUrl": source_url("/song.mp3"),
        "exportFormat": "mp3_128",
        "segmentsGroups": groups,
    }
    payload = await run_beside_a_good_job(api, hooks, source_url, body, "/export")
    expect_failure(payload, source_url("/song.mp3"), "Every export group failed", fragment)


async def test_an_impossible_group_leaves_the_others(
    api: aiohttp.ClientSession, hooks: Hooks, source_url: Callable[[str], str]
) -> None:
    body = {
        "resultWebhook": hooks.url(),
        "sourceFileUrl": source_url("/song.mp3"),
        "exportFormat": "wav",
        "segmentsGroups": [[[19, 99]], [[0, 1], [2, 3]], [[4, 4]]],
    }
    payload = await run_beside_a_good_job(api, hooks, source_url, body, "/export")
    urls = payload["resultUrls"]
    assert payload["success"] is True and list(payload["failures"]) == [urls[0], urls[2]]
    async with api.get(urls[1]) as response:
        assert response.status == 200
        samples, rate = sf.read(io.BytesIO(await response.read()))
    assert samples.shape[0] == 2 * rate
