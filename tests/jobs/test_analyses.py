"""The analysis cache: the same bytes analysed once, the payload byte for byte the same, credits
and webhooks as before; bounded; found again after a restart on the same --data-dir."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mock_server.audio.types import DecodeLimits
from mock_server.jobs.analyses import AnalysisCache, analysis_key, engine_version
from mock_server.web.keys import SERVICES
from tests.conftest import AppClient, FileServer, MakeMock, Receiver, queued_webhook

LIMITS = DecodeLimits()


def test_the_key_follows_everything_that_shapes_the_result() -> None:
    key = analysis_key(b"song", False, LIMITS)
    assert key == analysis_key(b"song", False, LIMITS)
    assert key != analysis_key(b"song!", False, LIMITS)
    assert key != analysis_key(b"song", True, LIMITS)
    assert key != analysis_key(b"song", False, DecodeLimits(max_seconds=60))
    assert len(engine_version()) == 16


def test_memory_and_disk_are_bounded_and_disk_outlives_the_process(tmp_path: Path) -> None:
    result = {"duration": 1.0, "similarity": {"data": "~" * 100}}
    size = len(json.dumps(result).encode())
    cache = AnalysisCache(tmp_path, memory_bytes=2 * size, disk_bytes=3 * size)
    for name in "abcd":
        cache.put(name, result)
    assert cache.stats()["entries"] == 2  # c and d
    assert len(list(tmp_path.glob("*.json"))) == 3  # b, c and d
    again = AnalysisCache(tmp_path)
    assert again.get("d") == result and again.get("a") is None
    assert again.stats() == {"hits": 1, "misses": 1, "entries": 1}


def _analyze(files: FileServer, receiver: Receiver, raw: bool = True) -> dict[str, Any]:
    return {
        "resultWebhook": receiver.url(),
        "sourceFileUrl": files.url("/song.mp3"),
        "features": ["raw_features"] if raw else [],
    }


async def _webhook(mock: AppClient, body: dict[str, Any], receiver: Receiver) -> dict[str, Any]:
    _, payload = await queued_webhook(mock, "/analyze", body, receiver)
    return payload


def _without_id(payload: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in payload.items() if k != "requestId"})


async def test_a_second_analysis_of_the_same_bytes_is_remembered(
    make_mock: MakeMock, files: FileServer, receiver: Receiver
) -> None:
    mock = await make_mock()
    analyses = mock.app[SERVICES].jobs.analyses
    first = await _webhook(mock, _analyze(files, receiver), receiver)
    await mock.post("/_mock/reset")  # a reset keeps what was learned
    second = await _webhook(mock, _analyze(files, receiver), receiver)
    assert _without_id(second) == _without_id(first)  # credits included
    assert (analyses.hits, analyses.misses) == (1, 1)
    plain = await _webhook(mock, _analyze(files, receiver, raw=False), receiver)
    assert "features" not in plain["result"] and analyses.misses == 2
    assert files.downloads["/song.mp3"] == 3  # each analysis still downloads its source


async def test_a_restart_on_the_same_data_dir_remembers(
    make_mock: MakeMock, files: FileServer, receiver: Receiver, tmp_path: Path
) -> None:
    first_run = await make_mock(data_dir=tmp_path)
    first = await _webhook(first_run, _analyze(files, receiver), receiver)
    await first_run.close()
    second_run = await make_mock(data_dir=tmp_path)
    second = await _webhook(second_run, _analyze(files, receiver), receiver)
    assert _without_id(second) == _without_id(first)
    assert second_run.app[SERVICES].jobs.analyses.hits == 1
