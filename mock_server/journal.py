"""The request journal: what clients sent and got (API calls and result downloads), bounded, with
key secrets masked."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from mock_server import traffic


@dataclass(frozen=True, slots=True)
class JournalEntry:
    method: str
    path: str
    key: str | None  # masked
    body: dict[str, Any]  # size and top-level fields, not the content
    status: int | None  # None: no answer, the connection was reset (a scenario)
    at: float  # mock time
    duration_ms: float
    scenarios: tuple[str, ...] = ()  # the fault scenarios this request got
    request_id: str | None = None  # the job it queued, or whose result it fetched
    detail: str | None = None  # the mock's explanation of an error (its X-Mock-Detail)

    def to_json(self) -> dict[str, Any]:
        """The control API's shape: camelCase, as the API's own payloads are."""
        return {
            "method": self.method,
            "path": self.path,
            "requestId": self.request_id,
            "key": self.key,
            "body": self.body,
            "status": self.status,
            "at": self.at,
            "durationMs": self.duration_ms,
            "scenarios": list(self.scenarios),
            "detail": self.detail,
        }


def entry_from_json(document: dict[str, Any]) -> JournalEntry:
    """An entry as `GET /_mock/requests` gives it (what `to_json` wrote)."""
    return JournalEntry(
        method=document["method"],
        path=document["path"],
        key=document["key"],
        body=document["body"],
        status=document["status"],
        at=document["at"],
        duration_ms=document["durationMs"],
        scenarios=tuple(document["scenarios"]),
        request_id=document["requestId"],
        detail=document["detail"],
    )


class Journal:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=max_entries)
        self.generation = 0  # bumped by reset

    def record(self, entry: JournalEntry, generation: int) -> None:
        """Keep `entry` unless its request began before the last reset: a slow answer from the
        previous test must not land in the next test's journal."""
        if generation == self.generation:
            self._entries.append(entry)
            if traffic.enabled():
                traffic.emit("request", entry.to_json())

    def entries(self) -> list[JournalEntry]:
        return list(self._entries)

    def reset(self) -> None:
        self._entries.clear()
        self.generation += 1
