"""One exchange: a client's request and everything it led to (the upstream's answer, each
webhook delivery, the result files), with the violations found along the way."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mock_server.accounts import mask_key
from mock_server.contract.conformance import Departure, graded, parse_json
from mock_server.contract.rulebook import Grade


@dataclass
class Delivery:
    """One webhook the upstream sent, and what the client's receiver answered it."""

    body: bytes
    client_status: int | None
    error: str | None = None
    # When it arrived (monotonic seconds): the gaps between retries are the upstream's backoff.
    at: float = field(default_factory=time.monotonic)

    @property
    def settled(self) -> bool:
        """The client's receiver has answered it, or could not be reached."""
        return self.client_status is not None or self.error is not None

    @property
    def taken(self) -> bool:
        """The client's receiver answered it 2xx: the upstream makes no further attempt."""
        return self.client_status is not None and 200 <= self.client_status < 300


@dataclass
class Fetched:
    """A result file fetched from its URL (--check-results)."""

    url: str
    status: int
    content_type: str
    body: bytes


@dataclass
class Exchange:
    number: int
    route: str
    masked_key: str | None
    request: bytes
    sent: Any
    client_webhook: str | None = None
    status: int | None = None
    content_type: str = ""
    answer: bytes = b""
    answer_headers: dict[str, str] = field(default_factory=dict)  # as the upstream sent them
    error: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    results: list[Fetched] = field(default_factory=list)
    departures: list[Departure] = field(default_factory=list)  # every grade
    request_id: str | None = None  # the acknowledgement's, once the upstream has answered
    results_started: bool = False  # checking the result files has begun (once per exchange)
    results_checked: bool = False  # ... and every file is checked (or there is none to check)
    let_go_of_bodies: bool = False  # done: only the summary is held (see `let_go`)
    # The secret in this exchange's webhook URL: only the upstream, which was given it, can post
    # a webhook the proxy forwards to the client. Never reported or recorded.
    hook_token: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)

    @property
    def ack(self) -> dict[str, Any]:
        document = parse_json(self.answer)
        return document if isinstance(document, dict) else {}

    def ack_id(self) -> str | None:
        """The request id the upstream's answer gives, if it gives one."""
        found = self.ack.get("requestId")
        return found if isinstance(found, str) else None

    @property
    def awaits_webhook(self) -> bool:
        """Queued with a webhook the proxy receives, and no delivery the client took yet."""
        succeeded = self.status is not None and 200 <= self.status < 300
        if self.client_webhook is None or not succeeded or self.request_id is None:
            return False
        return not any(delivery.taken for delivery in self.deliveries)

    @property
    def violations(self) -> list[Departure]:
        """Broken documented promises: what X-Mock-Violations counts."""
        return graded(self.departures, Grade.VIOLATION)

    @property
    def findings(self) -> list[Departure]:
        """Readings of the reference's examples departed from: X-Mock-Findings."""
        return graded(self.departures, Grade.FINDING)

    def done(self, check_results: bool) -> bool:
        """Nothing more is expected: what tests and the report wait for."""
        if self.error is not None:
            return True  # the upstream could not be reached: nothing follows
        if self.status is None:
            return False
        return not self.awaits_webhook and (self.results_checked or not check_results)

    def let_go(self) -> None:
        """Drop every body once the exchange is done and written down: what stays (numbers,
        statuses, violations, the client's webhook URL for a late retry) is a few hundred
        bytes, however large the analyses and audio it carried."""
        self.request, self.sent, self.answer = b"", None, b""
        for delivery in self.deliveries:
            delivery.body = b""
        for fetched in self.results:
            fetched.body = b""
        self.let_go_of_bodies = True

    def held_bytes(self) -> int:
        """The bodies still held: what `let_go` frees."""
        bodies = [self.request, self.answer, *(d.body for d in self.deliveries)]
        return sum(map(len, bodies)) + sum(len(f.body) for f in self.results)

    def summary(self) -> dict[str, Any]:
        """What the report and /_proxy/exchanges show: no body, no key beyond its mask."""
        return {
            "number": self.number,
            "route": f"/{self.route}",
            "key": self.masked_key,
            "requestId": self.request_id,
            "status": self.status,
            "error": self.error,
            "webhooks": [d.client_status for d in self.deliveries],
            "results": [r.status for r in self.results],
            **graded_json(self),
        }


# How an exchange's departures are listed, by grade, in summaries and recordings.
GRADED_KEYS = {"violations": Grade.VIOLATION, "findings": Grade.FINDING, "observed": Grade.OBSERVED}


def graded_json(exchange: Exchange) -> dict[str, list[dict[str, Any]]]:
    return {
        key: [d.as_json() for d in graded(exchange.departures, wanted)]
        for key, wanted in GRADED_KEYS.items()
    }


def masked(key: str | None) -> str | None:
    return None if key is None else mask_key(key)


def pretty(data: bytes) -> Any:
    """A body as a reader wants it in a record: the JSON document, or the text."""
    document = parse_json(data)
    if document is not None:
        return document
    return {"text": data.decode("utf-8", errors="replace")}


def dumps(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class KeptExchanges:
    """Every exchange counted, the latest `limit` kept whole: a proxy in front of the live API
    for weeks kept about 2 KB a summary (62 MB to 100 MB over 18,000 acknowledgements) and never
    let one go. The oldest exchange that is done goes first; one still waiting for its webhook
    stays (and the done ones after it go instead), so the kept ones exceed `limit` only by the
    jobs in flight."""

    def __init__(self, limit: int, done: Callable[[Exchange], bool]) -> None:
        self.limit = limit
        self._done = done
        self._kept: dict[int, Exchange] = {}
        self.total = 0
        self._dropped = {"withViolations": 0, "violations": 0, "findings": 0, "observed": 0}

    def add(self, exchange: Exchange) -> None:
        self._kept[exchange.number] = exchange
        self.total = max(self.total, exchange.number)
        self._trim()

    def next_number(self) -> int:
        return self.total + 1

    def get(self, number: int) -> Exchange | None:
        return self._kept.get(number)

    def __iter__(self) -> Iterator[Exchange]:
        return iter(list(self._kept.values()))

    def __len__(self) -> int:
        return len(self._kept)

    def totals(self) -> dict[str, int]:
        """Counts over every exchange, the dropped ones included."""
        counts = dict(self._dropped)
        for exchange in self._kept.values():
            for name, count in _counts(exchange).items():
                counts[name] += count
        return {"exchanges": self.total, "kept": len(self._kept), **counts}

    def _trim(self) -> None:
        excess = len(self._kept) - self.limit
        if excess <= 0:
            return
        done = (exchange for exchange in self._kept.values() if self._done(exchange))
        going = list(itertools.islice(done, excess))  # the oldest first: mostly the very first
        for exchange in going:
            del self._kept[exchange.number]
            for name, count in _counts(exchange).items():
                self._dropped[name] += count


def _counts(exchange: Exchange) -> dict[str, int]:
    """What the reports' totals add up for one exchange."""
    grades = [departure.grade for departure in exchange.departures]
    return {
        "withViolations": int(Grade.VIOLATION in grades),
        "violations": grades.count(Grade.VIOLATION),
        "findings": grades.count(Grade.FINDING),
        "observed": grades.count(Grade.OBSERVED),
    }
