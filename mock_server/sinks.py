"""Built-in webhook receivers: POST /_mock/sink/{name} records, GET returns what arrived.

They let a newcomer, a demo or a test point `resultWebhook` at the mock itself.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

MAX_PER_SINK = 1000


class WebhookSinks:
    def __init__(self) -> None:
        self._received: defaultdict[str, deque[Any]] = defaultdict(
            lambda: deque(maxlen=MAX_PER_SINK)
        )

    def record(self, name: str, payload: Any) -> None:
        self._received[name].append(payload)

    def received(self, name: str) -> list[Any]:
        return list(self._received.get(name, ()))

    def reset(self) -> None:
        self._received.clear()
