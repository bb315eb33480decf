"""Built-in webhook receivers: POST /_mock/sink/{name} records, GET returns what arrived.

They let a newcomer, a demo or a test point `resultWebhook` at the mock itself. Bounded twice
over (payloads per sink, and sinks), since anyone who can reach the mock can post to them.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

MAX_PER_SINK = 1000
MAX_SINKS = 1000


class WebhookSinks:
    def __init__(self) -> None:
        self._received: OrderedDict[str, deque[Any]] = OrderedDict()

    def record(self, name: str, payload: Any) -> None:
        if name not in self._received:
            if len(self._received) >= MAX_SINKS:
                self._received.popitem(last=False)  # the sink that was created longest ago
            self._received[name] = deque(maxlen=MAX_PER_SINK)
        self._received[name].append(payload)

    def received(self, name: str) -> list[Any]:
        return list(self._received.get(name, ()))

    def reset(self) -> None:
        self._received.clear()
