"""Receiving Audjust's result webhooks.

Audjust POSTs each result to your `resultWebhook` "on a best-effort basis": a payload may come
twice (a retried delivery whose first answer was lost), late, in a different order than the
requests were made, before the HTTP answer that carried its requestId, or never. So:

- `handle_webhook` is idempotent: the first delivery of a requestId is recorded, later ones are
  counted and ignored (answer them 2xx too, or the sender retries them);
- it assumes no order: records are keyed by requestId alone, and a payload for a requestId
  nobody is waiting for yet is kept until someone asks;
- failures (`"success": false`) are recorded like results, so a waiter learns of them at once;
- `JobStore.wait` lets a worker block until a payload arrives; when none does, poll the
  resultUrl instead (see `jingle.make_jingle`).

Wiring it into a web framework is one line per route, e.g. Flask:

    @app.post("/audjust-webhook")
    def audjust_webhook():
        try:
            handle_webhook(request.get_json(), STORE)
        except InvalidWebhook as error:
            return {"error": str(error)}, 400
        return {"ok": True}
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)


class InvalidWebhook(ValueError):
    """Not an Audjust webhook payload: answer 400."""


class Delivery(StrEnum):
    RECORDED = "recorded"  # the first delivery for this requestId
    DUPLICATE = "duplicate"  # seen before: ignored


class JobKind(StrEnum):
    ANALYSIS = "analysis"
    RESIZE = "resize"
    EXPORT = "export"
    UNKNOWN = "unknown"  # a failure payload does not say which endpoint it came from


@dataclass
class JobRecord:
    """What Audjust reported for one requestId."""

    request_id: str
    kind: JobKind
    succeeded: bool
    payload: dict[str, Any]
    received_at: float
    deliveries: int = 1
    conflicting: list[dict[str, Any]] = field(default_factory=list)

    @property
    def message(self) -> str | None:
        message = self.payload.get("message")
        return message if isinstance(message, str) else None

    @property
    def failures(self) -> dict[str, str]:
        """An export's failed groups: result URL -> reason."""
        failures = self.payload.get("failures")
        return dict(failures) if isinstance(failures, dict) else {}


class JobStore:
    """In-memory requestId -> JobRecord, safe across threads (the web server's request threads
    record, workers wait). A real deployment would keep this in its database."""

    def __init__(self) -> None:
        self._records: dict[str, JobRecord] = {}
        self._changed = threading.Condition()

    def record(self, payload: dict[str, Any], kind: JobKind, succeeded: bool) -> Delivery:
        request_id = str(payload["requestId"])
        with self._changed:
            existing = self._records.get(request_id)
            if existing is not None:
                existing.deliveries += 1
                if existing.payload != payload:
                    # One job has one terminal state; keep the first and leave a trace.
                    existing.conflicting.append(payload)
                    log.warning("conflicting webhook for %s ignored", request_id)
                return Delivery.DUPLICATE
            self._records[request_id] = JobRecord(
                request_id, kind, succeeded, payload, received_at=time.time()
            )
            self._changed.notify_all()
            return Delivery.RECORDED

    def get(self, request_id: str) -> JobRecord | None:
        with self._changed:
            return self._records.get(request_id)

    def wait(self, request_id: str, timeout: float) -> JobRecord | None:
        """The record for `request_id`, waiting up to `timeout` seconds; None if none came."""
        with self._changed:
            self._changed.wait_for(lambda: request_id in self._records, timeout=timeout)
            return self._records.get(request_id)

    def wait_for_payload(self, request_id: str, timeout: float) -> dict[str, Any] | None:
        """`wait`, as the payload: the shape `make_jingle` takes as `wait_for_webhook`."""
        record = self.wait(request_id, timeout)
        return record.payload if record else None

    def failed(self) -> list[JobRecord]:
        with self._changed:
            return [record for record in self._records.values() if not record.succeeded]

    def __len__(self) -> int:
        with self._changed:
            return len(self._records)

    def __contains__(self, request_id: object) -> bool:
        with self._changed:
            return request_id in self._records


def classify(payload: Mapping[str, Any]) -> JobKind:
    if "resultUrls" in payload:
        return JobKind.EXPORT
    result = payload.get("result")
    if isinstance(result, dict):
        return JobKind.ANALYSIS
    if isinstance(result, list):
        return JobKind.RESIZE
    return JobKind.UNKNOWN


def handle_webhook(payload: Any, store: JobStore) -> Delivery:
    """Record one delivery. InvalidWebhook if it is not an Audjust payload."""
    if not isinstance(payload, dict):
        raise InvalidWebhook("the body must be a JSON object")
    request_id = payload.get("requestId")
    if not isinstance(request_id, str) or not request_id:
        raise InvalidWebhook("no requestId")
    success = payload.get("success")
    if not isinstance(success, bool):
        raise InvalidWebhook("no boolean 'success'")
    kind = classify(payload)
    if success and kind is JobKind.UNKNOWN:
        raise InvalidWebhook("a successful payload with neither 'result' nor 'resultUrls'")
    outcome = store.record(payload, kind, success)
    if outcome is Delivery.RECORDED and not success:
        log.warning("Audjust request %s failed: %s", request_id, payload.get("message"))
    return outcome
