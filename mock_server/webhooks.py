"""Webhook delivery: best effort, retried, every attempt recorded; one task per delivery.

A task per delivery is what keeps one slow receiver from delaying another. Delivery scenarios
(duplicate, delayed, out of order, dropped) are applied here, around the same attempts.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp

from mock_server.scenarios import Fault, Phase, Scenario

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
        sleep: Callable[[float], Awaitable[None]],
        max_attempts: int = 3,
        backoff_seconds: Sequence[float] = (1.0, 2.0),
        timeout_seconds: float = 10.0,
        max_log: int = 10_000,
    ) -> None:
        self._session = session
        self._now = now
        self._sleep = sleep  # in mock seconds
        self.max_attempts = max_attempts
        self.backoff_seconds = tuple(backoff_seconds)
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._log: deque[DeliveryAttempt] = deque(maxlen=max_log)
        self._tasks: set[asyncio.Task[DeliveryOutcome]] = set()
        self._held: defaultdict[str, list[asyncio.Event]] = defaultdict(list)

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
        for held in self._held.pop(url, []):
            held.set()  # an out-of-order delivery waited for this one
        return delivered

    async def deliver(
        self, request_id: str, url: str, payload: Mapping[str, Any]
    ) -> DeliveryOutcome:
        for number in range(1, self.max_attempts + 1):
            if await self._attempt(request_id, url, payload, number):
                return DeliveryOutcome(True, number)
            if number < self.max_attempts and self.backoff_seconds:
                backoff = self.backoff_seconds[min(number - 1, len(self.backoff_seconds) - 1)]
                await self._sleep(backoff)
        return DeliveryOutcome(False, self.max_attempts)

    async def _hold_for_next(self, url: str, mock_seconds: float) -> None:
        """Wait until another webhook to `url` has been attempted, or `mock_seconds` pass."""
        released = asyncio.Event()
        self._held[url].append(released)
        waits = [
            asyncio.ensure_future(released.wait()),
            asyncio.ensure_future(self._sleep(mock_seconds)),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            if released in self._held.get(url, []):
                self._held[url].remove(released)

    async def deliver_with(
        self, request_id: str, url: str, payload: Mapping[str, Any], fault: Scenario | None
    ) -> DeliveryOutcome:
        """`deliver`, bent by a delivery scenario."""
        if fault is None or fault.spec.phase is not Phase.DELIVERY:
            return await self.deliver(request_id, url, payload)
        kind = fault.fault
        if kind is Fault.WEBHOOK_DROPPED:
            note = "not sent: audjust-mock scenario webhook_dropped"
            entry = DeliveryAttempt(request_id, url, 0, None, note, False, self._now(), 0, payload)
            self._log.append(entry)
            return DeliveryOutcome(False, 0)
        if kind is Fault.WEBHOOK_DUPLICATE:
            outcomes = [
                await self.deliver(request_id, url, payload)
                for _ in range(max(1, int(fault.number("times"))))
            ]
            delivered = any(outcome.delivered for outcome in outcomes)
            return DeliveryOutcome(delivered, sum(outcome.attempts for outcome in outcomes))
        if kind is Fault.WEBHOOK_DELAYED:
            await self._sleep(fault.number("seconds"))
        else:
            await self._hold_for_next(url, fault.number("seconds"))
        return await self.deliver(request_id, url, payload)

    def schedule(
        self,
        request_id: str,
        url: str,
        payload: Mapping[str, Any],
        fault: Scenario | None = None,
    ) -> asyncio.Task[DeliveryOutcome]:
        task = asyncio.create_task(self.deliver_with(request_id, url, payload, fault))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def attempts(self) -> list[DeliveryAttempt]:
        return list(self._log)

    def reset(self) -> None:
        """Forget the log and drop deliveries still pending, so none lands in the next test."""
        self._log.clear()
        for task in self._tasks:
            task.cancel()
        self._held.clear()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
