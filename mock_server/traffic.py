"""The traffic log: one record per API request, result download and webhook attempt, on the
logger `audjust_mock.traffic`, so `serve` can show what happens as it happens.

Records carry their fields in `record.traffic` (the control API's camelCase names plus an
`event`); `serve` prints them as text or JSON lines. With no handler (the plugin, in-process
tests) a record costs one level check.
"""

from __future__ import annotations

import json
import logging
from typing import Any

LOG = logging.getLogger("audjust_mock.traffic")
FIELDS = "traffic"  # the record attribute that holds an event's fields


def enabled() -> bool:
    """Whether anyone listens: check before building an event's fields."""
    return LOG.isEnabledFor(logging.INFO)


def emit(event: str, fields: dict[str, Any]) -> None:
    LOG.info(event, extra={FIELDS: {"event": event, **fields}})


def _text(fields: dict[str, Any]) -> str:
    event = fields["event"]
    if event == "request":
        scenarios = ",".join(fields["scenarios"]) or "-"
        status = "no answer" if fields["status"] is None else fields["status"]
        return (
            f"{fields['method']} {fields['path']} -> {status} ({fields['durationMs']:.1f} ms) "
            f"key={fields['key'] or '-'} requestId={fields['requestId'] or '-'} "
            f"scenarios={scenarios}"
        )
    if event == "webhook":
        outcome = fields["status"] if fields["status"] is not None else fields["error"]
        return (
            f"webhook {fields['requestId']} -> {fields['url']} {outcome} "
            f"(attempt {fields['attempt']}, {fields['durationMs']:.1f} ms)"
        )
    if event == "stopped":
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
