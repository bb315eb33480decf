"""--observed-profile FILE: what the upstream was seen to do where the reference is silent,
noted from the client's traffic and written as a profile in the format the contract suite
writes (`mock_server.contract.observations`), so `audjust-mock serve --profile FILE` plays it back.

Each part of an exchange is read once, as it arrives (the answer, each webhook's body, each
delivery's outcome): an exchange may drop its bodies once it is done, and rereading every
exchange at each update would grow with the traffic. The file is rewritten whenever what it
says changes, and once more when the proxy stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import ValidationError

from mock_server.contract import rules
from mock_server.contract.conformance import parse_json
from mock_server.contract.observations import (
    Observations,
    listed_message,
    observed_values,
    write_profile,
)
from mock_server.contract.profile import ErrorName
from mock_server.contract.schemas import validate
from mock_server.contract.wire import LISTED_ERRORS
from mock_server.proxy.exchanges import Exchange


@dataclass
class _Progress:
    """How much of one exchange has been noted."""

    answer: bool = False
    bodies: int = 0  # deliveries whose body has been read
    result: bool = False  # a successful result (answer or webhook) has been noted
    arrivals: list[float] = field(default_factory=list)  # settled deliveries' arrival times
    taken: bool = False  # the client's receiver took one of them


class ObservedProfile:
    """The observations of one running proxy and the file they are written to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = Observations()
        self._progress: dict[int, _Progress] = {}
        self._written: dict[str, Any] | None = None

    def note(self, exchange: Exchange) -> None:
        """Note what is new in `exchange`; rewrite the file if the profile changed."""
        progress = self._progress.setdefault(exchange.number, _Progress())
        if not progress.answer and exchange.status is not None:
            progress.answer = True
            self._answer(exchange, progress)
        self._deliveries(exchange, progress)
        self.write(changed_only=True)

    def write(self, changed_only: bool = False) -> None:
        values = observed_values(self.seen)[0]
        if changed_only and values == self._written:
            return
        write_profile(self.path, values)
        self._written = values

    def _answer(self, exchange: Exchange, progress: _Progress) -> None:
        assert exchange.status is not None
        document = parse_json(exchange.answer)
        if not isinstance(document, dict):
            return
        message = document.get("message")
        if 400 <= exchange.status < 600 and isinstance(message, str):
            self._error(exchange, exchange.status, message)
        elif 200 <= exchange.status < 300 and "result" in document:  # a resize answered at once
            self._result(exchange, document, progress)

    def _error(self, exchange: Exchange, status: int, message: str) -> None:
        listed = listed_message(message)
        if listed is None:
            return  # an error the reference does not list: which one it is cannot be told
        self.seen.note_error(listed, status, message)
        sent = {name.lower() for name in exchange.answer_headers}
        name = LISTED_ERRORS[listed]
        if name is ErrorName.INVALID_METHOD:
            self.seen.note_allow("allow" in sent)
        if name is ErrorName.RATE_LIMITED:
            retry_after = "retry-after" in sent
            self.seen.observe("errors.rate_limited.headers", ["Retry-After"] if retry_after else [])

    def _deliveries(self, exchange: Exchange, progress: _Progress) -> None:
        for delivery in exchange.deliveries[progress.bodies :]:
            progress.bodies += 1
            document = parse_json(delivery.body)
            if not progress.result and isinstance(document, dict):
                self._result(exchange, document, progress)
        settled = len(progress.arrivals)
        for delivery in exchange.deliveries[settled:]:
            if not delivery.settled:
                break  # deliveries come one after another; a later one waits for this
            progress.arrivals.append(delivery.at)
            progress.taken = progress.taken or delivery.taken
        if len(progress.arrivals) > settled:
            self.seen.note_attempts(progress.arrivals, progress.taken)

    def _result(self, exchange: Exchange, document: dict[str, Any], progress: _Progress) -> None:
        """A successful result's creditCost and, for a resize, its candidates' order."""
        sent = exchange.sent
        if document.get("success") is not True or not isinstance(sent, dict):
            return
        try:
            validate(f"{exchange.route}-request", sent)
            validate(f"{exchange.route}-webhook", document)
        except ValidationError:
            return  # the proxy has reported it; what it would say of the profile is unsure
        progress.result = True
        rate, minutes = rules.priced_at(exchange.route, sent, document)
        try:
            matched = rules.matching_rules(document["creditCost"], minutes, rules.RATES[rate])
        except AssertionError:
            matched = []  # a cost no rule gives: no one rule fits every cost seen
        self.seen.note_pricing(rate, matched)
        if exchange.route == "resize" and document["result"]:
            self.seen.note_order(document["result"])
