"""Helpers for the tests, all built on the `audjust_mock` fixture."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from jingle_maker import (
    AnalysisResult,
    AudjustClient,
    Delivery,
    JobStore,
    RetryPolicy,
    handle_webhook,
    make_jingle,
)
from jingle_maker.models import Similarity

if TYPE_CHECKING:
    from mock_server.pytest_plugin import AudjustMock

# The smallest analysis the API accepts (two beats): enough for resize and the error paths,
# with no audio to analyze.
TINY_ANALYSIS = AnalysisResult(
    duration=1.0, tempo=120.0, similarity=Similarity("~~~", 32, 126), boundaries=(0.0, 0.5)
)
FAST_RETRIES = RetryPolicy(backoff=0.1, max_backoff=0.4)


def bundled_jingle(
    audjust_mock: AudjustMock,
    client: AudjustClient,
    relay: SinkRelay,
    webhook_timeout: float = 20,
    song: str = "pop_120",
    target_seconds: float = 8,
) -> bytes:
    """make_jingle of a bundled song, its webhooks to the mock's sink through `relay`."""
    return make_jingle(
        client,
        audjust_mock.fixture_url(song),
        target_seconds,
        audjust_mock.webhook_url(),
        relay.wait_for_payload,
        webhook_timeout=webhook_timeout,
    )


def local_song(audjust_mock: AudjustMock, directory: Path, song: str = "pop_120") -> Path:
    """A bundled song as a local file, the kind a user hands the app: downloaded from the mock."""
    response = requests.get(audjust_mock.fixture_url(song), timeout=10)
    response.raise_for_status()
    path = directory / f"{song}.mp3"
    path.write_bytes(response.content)
    return path


def is_mp3(data: bytes) -> bool:
    """An ID3 tag or an MPEG audio frame sync (11 set bits) at the start."""
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


class RecordingSleep:
    """The client's `sleep`: records each wait and sleeps at most `cap` seconds of real time,
    so a Retry-After of 60 costs the test nothing."""

    def __init__(self, cap: float = 0.05) -> None:
        self.calls: list[float] = []
        self.cap = cap

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        time.sleep(min(seconds, self.cap))


class SinkRelay:
    """Stands in for the web app's webhook endpoint: hands what the mock's webhook sink received
    to `handle_webhook`, in arrival order, duplicates included."""

    def __init__(self, mock: AudjustMock, store: JobStore, sink: str = "default") -> None:
        self.mock = mock
        self.store = store
        self.sink = sink
        self.outcomes: list[tuple[str, Delivery]] = []
        self._delivered = 0

    def pump(self) -> None:
        received = self.mock.webhooks(self.sink)
        for payload in received[self._delivered :]:
            self.outcomes.append((payload["requestId"], handle_webhook(payload, self.store)))
        self._delivered = len(received)

    def outcomes_for(self, request_id: str) -> list[Delivery]:
        return [outcome for rid, outcome in self.outcomes if rid == request_id]

    def wait_for_payload(self, request_id: str, timeout: float) -> dict[str, Any] | None:
        """The `wait_for_webhook` callable `make_jingle` takes."""
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            record = self.store.get(request_id)
            if record is not None:
                return record.payload
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not hold in time")
        time.sleep(0.01)
