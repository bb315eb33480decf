"""Mock time: what rate windows, usage windows, artifact lifetimes and the job limit all read.

It runs with the wall clock and can be pushed forward (`advance`), so a test can skip 30 days in a
call; `time_scale` shortens the mock's simulated waits (webhook retry backoff).
"""

from __future__ import annotations

import time


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

    def real_seconds(self, mock_seconds: float) -> float:
        """How long to really wait for `mock_seconds` of simulated waiting (a retry backoff)."""
        return mock_seconds / self.time_scale
