"""Built-in webhook receivers: POST /_mock/sink/{name} records, GET returns what arrived.

They let a newcomer, a demo or a test point `resultWebhook` at the mock itself. Bounded twice
over (payloads per sink, and sinks), since anyone who can reach the mock can post to them.
Every payload keeps its place in arrival order across all sinks, so one request's deliveries can
be found wherever they went.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

MAX_PER_SINK = 1000
MAX_SINKS = 1000


@dataclass(frozen=True)
class SinkDelivery:
    sink: str
    arrival: int  # place in arrival order across every sink
    payload: Any

    @property
    def request_id(self) -> str | None:
        return payload_request_id(self.payload)


def payload_request_id(payload: Any) -> str | None:
    """The requestId a webhook payload carries, if it is one that carries one."""
    found = payload.get("requestId") if isinstance(payload, dict) else None
    return found if isinstance(found, str) else None


class WebhookSinks:
    def __init__(self) -> None:
        self._received: OrderedDict[str, deque[SinkDelivery]] = OrderedDict()
        self._arrivals = itertools.count()

    def record(self, name: str, payload: Any) -> None:
        if name not in self._received:
            if len(self._received) >= MAX_SINKS:
                self._received.popitem(last=False)  # the sink that was created longest ago
            self._received[name] = deque(maxlen=MAX_PER_SINK)
        self._received[name].append(SinkDelivery(name, next(self._arrivals), payload))

    def received(self, name: str) -> list[Any]:
        return [delivery.payload for delivery in self._received.get(name, ())]

    def deliveries_for(self, request_id: str, sink: str | None = None) -> list[SinkDelivery]:
        """Every payload for `request_id`, duplicates included, in arrival order; in one sink
        if `sink` is given, else in any."""
        names = [sink] if sink is not None else list(self._received)
        found = [
            delivery
            for name in names
            for delivery in self._received.get(name, ())
            if delivery.request_id == request_id
        ]
        return sorted(found, key=lambda delivery: delivery.arrival)

    def everything(self) -> dict[str, list[Any]]:
        """Each sink's payloads, in arrival order."""
        return {name: self.received(name) for name in self._received}

    def summary(self) -> dict[str, list[str | None]]:
        """Each sink and the request ids of what it received: what a failed wait reports."""
        return {
            name: [delivery.request_id for delivery in deliveries]
            for name, deliveries in self._received.items()
        }

    def reset(self) -> None:
        self._received.clear()
