"""A rolling-window rate limiter per key, on mock time; exact because it never awaits."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable


class RateLimiter:
    def __init__(self, *, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._admitted: dict[str, deque[float]] = {}

    def try_acquire(self, key: str, now: float) -> float | None:
        """None when admitted; else the seconds until the oldest admission leaves the window."""
        times = self._admitted.setdefault(key, deque())
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        if len(times) >= self.limit:
            return times[0] + self.window_seconds - now
        times.append(now)
        return None

    def forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._admitted.pop(key, None)

    def reset(self) -> None:
        self._admitted.clear()
