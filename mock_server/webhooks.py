"""Webhook delivery: best effort, retried, every attempt recorded; one task per delivery.

The reference promises only "best effort" delivery; the number of attempts, the backoff and the
timeout are the mock's choices (Settings and `serve` flags).

A task per delivery is what keeps one slow receiver from delaying another. Delivery scenarios
(duplicate, delayed, out of order, dropped) are applied here, around the same attempts.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from mock_server import traffic
from mock_server.faults.catalogue import Fault, Phase, scenario_note
from mock_server.faults.scenario import Scenario

USER_AGENT = "audjust-mock webhook delivery"
MAX_TRACKED_URLS = 10_000  # receivers whose latest acknowledged delivery is remembered


@dataclass(frozen=True)
class Webhook:
    """One final webhook owed to a receiver. `order` is the request's place in acknowledgement
    order: what `webhook_out_of_order` compares, so it never depends on which job ends first."""

    request_id: str
    url: str
    payload: Mapping[str, Any]
    order: int = 0
    namespace: str = ""  # the namespace of the request it answers


@dataclass(frozen=True, slots=True)
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
    namespace: str = ""  # whose log it is in; not shown, as each namespace reads its own

    def to_json(self) -> dict[str, Any]:
        """The control API's shape: camelCase, as the API's own payloads are."""
        return {
            "requestId": self.request_id,
            "url": self.url,
            "attempt": self.attempt,
            "status": self.status,
            "error": self.error,
            "delivered": self.delivered,
            "at": self.at,
            "durationMs": self.duration_ms,
            "payload": dict(self.payload),
        }


@dataclass(frozen=True)
class DeliveryOutcome:
    delivered: bool
    attempts: int


class WebhookDispatcher:
    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        now: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        max_attempts: int,
        backoff_seconds: Sequence[float],
        timeout_seconds: float,
        max_log: int = 10_000,
    ) -> None:
        self._session = session
        self._now = now
        self._sleep = sleep  # in mock seconds
        self.max_attempts = max_attempts
        self.backoff_seconds = tuple(backoff_seconds)
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._log: deque[DeliveryAttempt] = deque(maxlen=max_log)
        self._tasks: dict[asyncio.Task[DeliveryOutcome], str] = {}  # -> its namespace
        # Per receiver: webhooks held back, each with its request's order, and the latest order
        # whose webhook has been sent there.
        self._held: defaultdict[str, list[tuple[int, asyncio.Event]]] = defaultdict(list)
        self._latest_sent: OrderedDict[str, int] = OrderedDict()

    async def _attempt(self, webhook: Webhook, number: int) -> bool:
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            async with self._session.post(
                webhook.url,
                json=dict(webhook.payload),
                timeout=self.timeout,
                headers={"User-Agent": USER_AGENT},
            ) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as failure:
            error = f"{type(failure).__name__}: {failure}".rstrip(": ")
        delivered = status is not None and 200 <= status < 300
        elapsed = (time.perf_counter() - started) * 1000
        self._record(webhook, number, status, error, delivered, elapsed)
        self._sent(webhook)
        return delivered

    def _record(
        self,
        webhook: Webhook,
        number: int,
        status: int | None,
        error: str | None,
        delivered: bool,
        elapsed_ms: float,
    ) -> None:
        attempt = DeliveryAttempt(
            request_id=webhook.request_id,
            url=webhook.url,
            attempt=number,
            status=status,
            error=error,
            delivered=delivered,
            at=self._now(),
            duration_ms=elapsed_ms,
            payload=webhook.payload,
            namespace=webhook.namespace,
        )
        self._log.append(attempt)
        if traffic.enabled():
            fields = attempt.to_json()
            del fields["payload"]  # what was sent is at /_mock/webhooks; a line stays short
            traffic.emit("webhook", fields)

    def _sent(self, webhook: Webhook) -> None:
        """Note that `webhook` went out, and release the held ones acknowledged before it."""
        latest = max(self._latest_sent.pop(webhook.url, webhook.order), webhook.order)
        self._latest_sent[webhook.url] = latest
        if len(self._latest_sent) > MAX_TRACKED_URLS:
            self._latest_sent.popitem(last=False)
        waiting = self._held.get(webhook.url, [])
        for order, released in waiting:
            if order < webhook.order:
                released.set()
        waiting[:] = [(order, event) for order, event in waiting if not event.is_set()]

    async def deliver(self, webhook: Webhook) -> DeliveryOutcome:
        for number in range(1, self.max_attempts + 1):
            if await self._attempt(webhook, number):
                return DeliveryOutcome(True, number)
            if number < self.max_attempts and self.backoff_seconds:
                backoff = self.backoff_seconds[min(number - 1, len(self.backoff_seconds) - 1)]
                await self._sleep(backoff)
        return DeliveryOutcome(False, self.max_attempts)

    async def _hold_for_later(self, webhook: Webhook, mock_seconds: float) -> None:
        """Wait until a webhook to the same URL for a request acknowledged after this one has
        been sent (at once if one already was), or until `mock_seconds` pass."""
        if self._latest_sent.get(webhook.url, webhook.order) > webhook.order:
            return
        released = asyncio.Event()
        waiting = self._held[webhook.url]
        waiting.append((webhook.order, released))
        waits = [
            asyncio.ensure_future(released.wait()),
            asyncio.ensure_future(self._sleep(mock_seconds)),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            waiting[:] = [(order, event) for order, event in waiting if event is not released]

    async def deliver_with(self, webhook: Webhook, fault: Scenario | None) -> DeliveryOutcome:
        """`deliver`, bent by a delivery scenario."""
        if fault is None or fault.spec.phase is not Phase.DELIVERY:
            return await self.deliver(webhook)
        kind = fault.fault
        if kind is Fault.WEBHOOK_DROPPED:
            note = f"not sent {scenario_note(Fault.WEBHOOK_DROPPED)}"
            self._record(webhook, 0, None, note, False, 0.0)
            return DeliveryOutcome(False, 0)
        if kind is Fault.WEBHOOK_DUPLICATE:
            outcomes = [
                await self.deliver(webhook) for _ in range(max(1, int(fault.number("times"))))
            ]
            delivered = any(outcome.delivered for outcome in outcomes)
            return DeliveryOutcome(delivered, sum(outcome.attempts for outcome in outcomes))
        if kind is Fault.WEBHOOK_DELAYED:
            await self._sleep(fault.number("seconds"))
        else:
            await self._hold_for_later(webhook, fault.number("seconds"))
        return await self.deliver(webhook)

    def schedule(
        self, webhook: Webhook, fault: Scenario | None = None
    ) -> asyncio.Task[DeliveryOutcome]:
        task = asyncio.create_task(self.deliver_with(webhook, fault))
        self._tasks[task] = webhook.namespace
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[DeliveryOutcome]) -> None:
        self._tasks.pop(task, None)

    def attempts(self, namespace: str | None = None) -> list[DeliveryAttempt]:
        """Every attempt logged (of `namespace`'s requests only, if given), oldest first."""
        if namespace is None:
            return list(self._log)
        return [attempt for attempt in self._log if attempt.namespace == namespace]

    def pending(self) -> int:
        """Deliveries still under way (trying, backing off or held): none means every webhook
        owed so far has been settled, delivered or given up."""
        return len(self._tasks)

    def resend(
        self, request_id: str, url: str | None = None, namespace: str | None = None
    ) -> Webhook | None:
        """Deliver the final webhook recorded for `request_id` (in `namespace`, if given) again
        (to `url`, if given), as a new delivery with attempts of its own; None when none was
        recorded (or it has left the log). A dropped webhook was recorded too, so it can be
        sent now."""
        recorded = next(
            (a for a in reversed(self.attempts(namespace)) if a.request_id == request_id), None
        )
        if recorded is None:
            return None
        webhook = Webhook(
            request_id, url or recorded.url, recorded.payload, namespace=recorded.namespace
        )
        self.schedule(webhook)
        return webhook

    def reset(self, namespace: str | None = None) -> None:
        """Forget the log and drop deliveries still pending (of `namespace` only, if given), so
        none lands in the next test."""
        for task, owner in list(self._tasks.items()):
            if namespace is None or owner == namespace:
                task.cancel()
        if namespace is not None:
            kept = [attempt for attempt in self._log if attempt.namespace != namespace]
            self._log.clear()
            self._log.extend(kept)
            return
        self._log.clear()
        self._held.clear()
        self._latest_sent.clear()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
