"""Webhook delivery: best effort, retried, every attempt recorded; one task per delivery.

A task per delivery is what keeps one slow receiver from delaying another.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp

USER_AGENT = "audjust-mock webhook delivery"


@dataclass(frozen=True)
class DeliveryAttempt:
    request_id: str
    url: str
    attempt: int
    status: int | None
    error: str | None
    delivered: bool
    at: float  # mock time
    duration_ms: float
    payload: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"payload": dict(self.payload)}


@dataclass(frozen=True)
class DeliveryOutcome:
    delivered: bool
    attempts: int


class WebhookDispatcher:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        now: Callable[[], float],
        real_seconds: Callable[[float], float],
        max_attempts: int = 3,
        backoff_seconds: Sequence[float] = (1.0, 2.0),
        timeout_seconds: float = 10.0,
        max_log: int = 10_000,
    ) -> None:
        self._session = session
        self._now = now
        self._real_seconds = real_seconds
        self.max_attempts = max_attempts
        self.backoff_seconds = tuple(backoff_seconds)
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._log: deque[DeliveryAttempt] = deque(maxlen=max_log)
        self._tasks: set[asyncio.Task[DeliveryOutcome]] = set()

    async def _attempt(
        self, request_id: str, url: str, payload: Mapping[str, Any], number: int
    ) -> bool:
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            async with self._session.post(
                url, json=dict(payload), timeout=self.timeout, headers={"User-Agent": USER_AGENT}
            ) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as failure:
            error = f"{type(failure).__name__}: {failure}".rstrip(": ")
        delivered = status is not None and 200 <= status < 300
        elapsed = (time.perf_counter() - started) * 1000
        entry = DeliveryAttempt(
            request_id, url, number, status, error, delivered, self._now(), elapsed, payload
        )
        self._log.append(entry)
        return delivered

    async def deliver(
        self, request_id: str, url: str, payload: Mapping[str, Any]
    ) -> DeliveryOutcome:
        for number in range(1, self.max_attempts + 1):
            if await self._attempt(request_id, url, payload, number):
                return DeliveryOutcome(True, number)
            if number < self.max_attempts and self.backoff_seconds:
                backoff = self.backoff_seconds[min(number - 1, len(self.backoff_seconds) - 1)]
                await asyncio.sleep(self._real_seconds(backoff))
        return DeliveryOutcome(False, self.max_attempts)

    def schedule(
        self, request_id: str, url: str, payload: Mapping[str, Any]
    ) -> asyncio.Task[DeliveryOutcome]:
        task = asyncio.create_task(self.deliver(request_id, url, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def attempts(self) -> list[DeliveryAttempt]:
        return list(self._log)

    def reset(self) -> None:
        self._log.clear()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
