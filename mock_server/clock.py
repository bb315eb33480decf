"""Mock time: what rate windows, usage windows, artifact lifetimes and the job limit all read.

It runs with the wall clock and can be pushed forward (`advance`), so a test can skip 30 days in a
call; `time_scale` shortens the mock's simulated waits (retry backoff, slow jobs, delayed webhooks).
"""

from __future__ import annotations

import asyncio
import time

POLL_SECONDS = 0.05  # how soon a simulated wait notices that the clock was advanced


class MockClock:
    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale
        self._offset = 0.0

    def now(self) -> float:
        """Mock epoch seconds."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("mock time only moves forward")
        self._offset += seconds

    def reset(self) -> None:
        self._offset = 0.0

    async def sleep(self, mock_seconds: float) -> None:
        """A simulated wait: real time counts `time_scale` times over; `advance` cuts it short."""
        started_at, started = self.now(), time.monotonic()
        while True:
            real = time.monotonic() - started
            elapsed = self.now() - started_at + real * (self.time_scale - 1)
            remaining = mock_seconds - elapsed
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining / self.time_scale, POLL_SECONDS))
