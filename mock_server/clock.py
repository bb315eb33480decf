"""Mock time: what rate windows, usage windows, artifact lifetimes and the job limit all read.

It runs with the wall clock and can be pushed forward (`advance`), so a test can skip 30 days in a
call; `time_scale` shortens the mock's simulated waits (retry backoff, slow jobs, delayed webhooks).
"""

from __future__ import annotations

import asyncio
import time


class MockClock:
    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale
        self._offset = 0.0
        # One future per simulated wait in progress, resolved when the clock moves. A wait used to
        # poll every 50 ms instead: with a few thousand webhooks in their backoff under load, that
        # was 13% of the event loop (py-spy, BENCHMARKS.md); now a wait wakes when it is due or
        # when `advance` or `reset` moves the clock, and never in between.
        self._sleepers: set[asyncio.Future[None]] = set()

    def now(self) -> float:
        """Mock epoch seconds."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("mock time only moves forward")
        self._offset += seconds
        self._wake_sleepers()

    def reset(self) -> None:
        self._offset = 0.0
        self._wake_sleepers()

    def _wake_sleepers(self) -> None:
        """Every wait recomputes what is left of it: `advance` may have ended it."""
        for woken in self._sleepers:
            if not woken.done():
                woken.set_result(None)

    async def sleep(self, mock_seconds: float) -> None:
        """A simulated wait: real time counts `time_scale` times over; `advance` cuts it short."""
        loop = asyncio.get_running_loop()
        started_at, started = self.now(), time.monotonic()
        while True:
            real = time.monotonic() - started
            elapsed = self.now() - started_at + real * (self.time_scale - 1)
            remaining = mock_seconds - elapsed
            if remaining <= 0:
                return
            woken: asyncio.Future[None] = loop.create_future()
            due = loop.call_later(remaining / self.time_scale, _wake, woken)
            self._sleepers.add(woken)
            try:
                await woken
            finally:
                due.cancel()
                self._sleepers.discard(woken)


def _wake(woken: asyncio.Future[None]) -> None:
    if not woken.done():
        woken.set_result(None)
