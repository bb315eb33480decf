"""The traffic log: one record per API request, result download and webhook attempt, on the
logger `audjust_mock.traffic`, so `serve` can show what happens as it happens.

Records carry their fields in `record.traffic` (the control API's camelCase names plus an
`event`); `serve` prints them as text or JSON lines. With no handler (the plugin, in-process
tests) a record costs one level check.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, TextIO

LOG = logging.getLogger("audjust_mock.traffic")
FIELDS = "traffic"  # the record attribute that holds an event's fields


def enabled() -> bool:
    """Whether anyone listens: check before building an event's fields."""
    return LOG.isEnabledFor(logging.INFO)


def emit(event: str, fields: dict[str, Any]) -> None:
    if not LOG.isEnabledFor(logging.INFO):
        return
    # makeRecord and handle, as Logger.info does, less the walk up the stack for the caller's
    # file and line, which no traffic line shows: a third of a record's cost under load.
    extra = {FIELDS: {"event": event, **fields}}
    LOG.handle(LOG.makeRecord(LOG.name, logging.INFO, __file__, 0, event, (), None, extra=extra))


def _text(fields: dict[str, Any]) -> str:
    event = fields["event"]
    if event == "request":
        scenarios = ",".join(fields["scenarios"]) or "-"
        status = "no answer" if fields["status"] is None else fields["status"]
        return (
            f"{fields['method']} {fields['path']} -> {status} ({fields['durationMs']:.1f} ms) "
            f"key={fields['key'] or '-'} requestId={fields['requestId'] or '-'} "
            f"scenarios={scenarios}"
            + (f" replayed={fields['replayed']}" if fields.get("replayed") else "")
            + (f" answered={fields['answered']}" if fields.get("answered") else "")
            + "".join(f" (note: {note})" for note in fields.get("notes", ()))
        )
    if event == "webhook":
        outcome = fields["status"] if fields["status"] is not None else fields["error"]
        return (
            f"webhook {fields['requestId']} -> {fields['url']} {outcome} "
            f"(attempt {fields['attempt']}, {fields['durationMs']:.1f} ms)"
        )
    if event in ("stopped", "namespace"):
        return str(fields["message"])
    return " ".join(f"{name}={value}" for name, value in fields.items() if name != "event")


class TextFormatter(logging.Formatter):
    """`POST /analyze -> 200 (3.1 ms) key=test**** requestId=... scenarios=-`, and the like."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, FIELDS, None)
        return _text(fields) if isinstance(fields, dict) else record.getMessage()


class JsonFormatter(logging.Formatter):
    """One JSON object a line: `event` (request, webhook, stopped) and that event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, FIELDS, None)
        if not isinstance(fields, dict):
            fields = {"event": "message", "message": record.getMessage()}
        return json.dumps(fields, separators=(",", ":"))


class TurnHandler(logging.StreamHandler[TextIO]):
    """A stream handler that writes the lines of one turn of the event loop at its end, in one
    write: stderr is line-buffered, so a line each meant a system call each, two per request
    under load (the request's, its webhook attempt's). Lines keep their order and are out
    within the turn; `flush` writes what is waiting at once."""

    def __init__(self, stream: TextIO, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(stream)
        self._loop = loop
        self._lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._lines.append(line)
        if len(self._lines) == 1 and not self._flush_later():
            self.flush()

    def _flush_later(self) -> bool:
        """Flush at the end of this turn of the loop; false when the loop is gone."""
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        try:
            (self._loop.call_soon if on_loop else self._loop.call_soon_threadsafe)(self.flush)
        except RuntimeError:  # closed
            return False
        return True

    def flush(self) -> None:
        self.acquire()
        try:
            lines, self._lines = self._lines, []
            if lines:
                self.stream.write(self.terminator.join(lines) + self.terminator)
                self.stream.flush()
        finally:
            self.release()
