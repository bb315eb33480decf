"""The request journal: what clients sent and got (API calls and result downloads), bounded, with
key secrets masked.

An entry keeps only the size and field names of a body; the bodies themselves are kept for the
latest KEPT_EXCHANGES entries only (an analysis answer can be 40,000 characters, and 10,000 of them
would be most of a gigabyte): as text cut at MAX_BODY_CHARACTERS for the dashboard, and as a test
reads them (`wire_body`: JSON parsed, anything else or anything larger summarised by its size and
sha256)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections import deque
from dataclasses import dataclass
from typing import Any

from mock_server import traffic
from mock_server.jsonbody import loads_strict


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
    replayed: str | None = None  # the recording it was answered from (serve --replay)
    answered: int | None = None  # the per-test answer it was answered with, by its id
    # What the mock did otherwise than asked, said once: a scenario a stand-in overrode.
    notes: tuple[str, ...] = ()
    # What was sent and answered (`wire_body`), while the journal keeps the bodies; else None.
    request: Any = None
    answer: Any = None

    def to_json(self, bodies: bool = True) -> dict[str, Any]:
        """The control API's shape: camelCase, as the API's own payloads are. Without `bodies`
        for a traffic line, which never prints what was sent."""
        shown = {
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
            "replayed": self.replayed,
            "answered": self.answered,
            "notes": list(self.notes),
        }
        if bodies:
            shown |= {"request": self.request, "answer": self.answer}
        return shown


MAX_BODY_CHARACTERS = 65_536  # a default analysis of a 4-minute song fits whole
KEPT_EXCHANGES = 100
SUMMARISED_BYTES = 64 * 1024  # bodies larger than this reach tests as their size and hash


def wire_body(kept: bytes | dict[str, Any] | None) -> Any:
    """A body as a test reads it: None when empty or not kept, the JSON document it holds, or,
    for audio, text that is not JSON and anything over SUMMARISED_BYTES, `{"size", "sha256"}`.
    Parsed when read, never on the request's path: the journal keeps the bytes."""
    if isinstance(kept, dict) or not kept:
        return kept or None
    try:
        return loads_strict(kept)
    except ValueError:
        return _summary(kept)


def _kept(raw: bytes) -> bytes | dict[str, Any]:
    """What the journal holds of a body for tests: itself, or its summary when large."""
    return raw if len(raw) <= SUMMARISED_BYTES else _summary(raw)


def _summary(raw: bytes) -> dict[str, Any]:
    return {"size": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


@dataclass(frozen=True)
class ExchangeBodies:
    """A request's body and its answer's: as text cut at MAX_BODY_CHARACTERS (the dashboard),
    and as kept for tests (`wire_body` reads them)."""

    request: str
    answer: str
    request_kept: bytes | dict[str, Any] | None = None
    answer_kept: bytes | dict[str, Any] | None = None

    @classmethod
    def of(cls, request: bytes, answer: bytes, answer_kept: bool = True) -> ExchangeBodies:
        """`answer_kept`: false for a streamed answer, of which `answer` only names the type."""
        kept = _kept(answer) if answer_kept else None
        return cls(_text(request), _text(answer), _kept(request), kept)

    @classmethod
    def described(cls, request: dict[str, Any], answer: bytes) -> ExchangeBodies:
        """An upload's exchange: its request body was never held, and is only described
        (`{"bytes", "sha256"}`, as far as it was read)."""
        facts = ", ".join(f"{name} {value}" for name, value in request.items())
        summary = {("size" if name == "bytes" else name): v for name, v in request.items()}
        return cls(f"(not kept: {facts})", _text(answer), summary, _kept(answer))

    def to_json(self) -> dict[str, str]:
        return {"request": self.request, "answer": self.answer}


def _text(body: bytes) -> str:
    text = body[: MAX_BODY_CHARACTERS * 4].decode("utf-8", errors="replace")
    if len(text) <= MAX_BODY_CHARACTERS:
        return text
    return text[:MAX_BODY_CHARACTERS] + f"\u2026 ({len(body)} bytes in all)"


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
        replayed=document.get("replayed"),
        answered=document.get("answered"),
        notes=tuple(document.get("notes", ())),
        request=document.get("request"),
        answer=document.get("answer"),
    )


class Journal:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=max_entries)
        self.generation = 0  # bumped by reset
        self.recorded = 0  # entries ever kept: the number of the next one, for the live feed
        self._exchanges: deque[tuple[int, ExchangeBodies]] = deque(maxlen=KEPT_EXCHANGES)

    def record(
        self, entry: JournalEntry, generation: int, exchange: ExchangeBodies | None = None
    ) -> None:
        """Keep `entry` unless its request began before the last reset: a slow answer from the
        previous test must not land in the next test's journal."""
        if generation == self.generation:
            self._entries.append(entry)
            if exchange is not None:
                self._exchanges.append((self.recorded, exchange))
            self.recorded += 1
            if traffic.enabled():
                traffic.emit("request", entry.to_json(bodies=False))

    def entries(self) -> list[JournalEntry]:
        """Every entry kept, oldest first; the latest KEPT_EXCHANGES with their bodies."""
        entries = list(self._entries)
        if not self._exchanges:
            return entries
        first = self.recorded - len(entries)
        for number, bodies in self._exchanges:
            at = number - first
            if 0 <= at < len(entries):
                entries[at] = dataclasses.replace(
                    entries[at],
                    request=wire_body(bodies.request_kept),
                    answer=wire_body(bodies.answer_kept),
                )
        return entries

    def since(self, number: int) -> list[tuple[int, JournalEntry, ExchangeBodies | None]]:
        """The entries from the `number`th kept on (as many as are still kept), each with its
        number and, for the latest ones, its bodies."""
        entries = list(self._entries)
        first = self.recorded - len(entries)
        bodies = dict(self._exchanges)
        return [
            (at, entry, bodies.get(at))
            for at, entry in enumerate(entries, start=first)
            if at >= number
        ]

    def reset(self) -> None:
        self._entries.clear()
        self._exchanges.clear()
        self.generation += 1
