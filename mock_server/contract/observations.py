"""What a target was seen to do where the reference is silent, and the profile that follows.

Two observers fill one `Observations`: the contract suite (its own calls, `--observed-profile`)
and `audjust-mock proxy` (a client's real traffic, `--observed-profile` too). Both write the same
profile from it, so the reduction from what was seen to a profile value lives here once; a file
either writes loads with `Profile.from_json` and plays the target back with `serve --profile`.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_server.contract.profile import (
    ORDER_BY,
    Profile,
    ResultOrder,
    sparse,
)
from mock_server.contract.wire import LISTED_ERRORS

# Backoff gaps are measured in wall-clock time, one delivery's own time included: a tenth of a
# second is as close as they can be told.
BACKOFF_DECIMALS = 1


def listed_message(message: str) -> str | None:
    """The listed message `message` starts with, if any: text after it is the target's own."""
    return next((listed for listed in LISTED_ERRORS if message.startswith(listed)), None)


@dataclass
class Observations:
    """Facts noted as they are seen; `observed_values` turns them into profile values."""

    error_statuses: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # operation's rate name -> the pricing rules every creditCost of it fits
    pricing: dict[str, set[str]] = field(default_factory=dict)
    appended_text: dict[str, str] = field(default_factory=dict)  # listed message -> one seen
    allow_header: dict[bool, int] = field(default_factory=dict)  # Allow sent? -> how often
    # the result orders every list of resize candidates seen so far follows (None: none seen)
    orders: set[ResultOrder] | None = None
    # arrival times (monotonic seconds) of the longest run of webhook attempts seen
    longest_attempts: tuple[float, ...] = ()
    # the most attempts seen of a webhook none of whose attempts was taken
    failed_attempts: int = 0
    observed: dict[str, Any] = field(default_factory=dict)  # profile key -> what the target did
    unobserved: dict[str, str] = field(default_factory=dict)  # profile key -> why it was not seen

    def observe(self, key: str, value: Any) -> None:
        """The target's behaviour for profile `key`, as it was seen directly."""
        self.observed[key] = value

    def note_error(self, listed: str, status: int, message: str) -> None:
        """A listed error answered with `status` and `message` (which starts with `listed`)."""
        self.error_statuses[listed].add(status)
        if message != listed:
            self.appended_text.setdefault(listed, message)

    def note_allow(self, sent: bool) -> None:
        """Whether an invalid-method answer carried an `Allow` header."""
        self.allow_header[sent] = self.allow_header.get(sent, 0) + 1

    def note_pricing(self, rate: str, matched: Iterable[str]) -> None:
        """The pricing rules one creditCost at `rate` fits (`contract_rules.matching_rules`):
        a rule stays only while every cost of that operation fits it."""
        fits = set(matched)
        self.pricing[rate] = self.pricing[rate] & fits if rate in self.pricing else fits

    def note_order(self, candidates: Sequence[dict[str, Any]]) -> None:
        """One resize answer's candidates: the orders they follow (all of them for one)."""
        listed = list(candidates)
        follows = {o for o, by in ORDER_BY.items() if listed == sorted(listed, key=by.wire_key)}
        self.orders = follows if self.orders is None else self.orders & follows

    def note_attempts(self, arrivals: Sequence[float], taken: bool) -> None:
        """The attempts of one webhook so far (their monotonic arrival times) and whether the
        receiver took one: a run of refusals shows the backoff, and once the target has given
        up, how many attempts it makes."""
        if len(arrivals) > len(self.longest_attempts):
            self.longest_attempts = tuple(arrivals)
        if not taken:
            self.failed_attempts = max(self.failed_attempts, len(arrivals))


def observed_values(seen: Observations) -> tuple[dict[str, Any], dict[str, str]]:
    """(profile key -> observed value, profile key -> why it could not be told) from what was
    noted: statuses per listed message, text after messages, the Allow header, pricing rules
    matched, the candidates' order and webhook attempts."""
    values, reasons = dict(seen.observed), dict(seen.unobserved)
    for message, statuses in seen.error_statuses.items():
        key = f"errors.{LISTED_ERRORS[message]}.status"
        if len(statuses) == 1:
            values[key] = next(iter(statuses))
        else:
            reasons[key] = f"answered with several statuses: {sorted(statuses)}"
    if seen.error_statuses:
        values["messages.detail"] = "message" if seen.appended_text else "header"
    if len(seen.allow_header) == 1:
        sent = next(iter(seen.allow_header))
        values["errors.invalid_method.headers"] = ["Allow"] if sent else []
    if seen.pricing:
        _pricing(seen.pricing, values, reasons)
    if seen.orders is not None:
        _order(seen.orders, values, reasons)
    if seen.longest_attempts:
        _webhooks(seen, values, reasons)
    return values, reasons


def _pricing(
    pricing: Mapping[str, set[str]], values: dict[str, Any], reasons: dict[str, str]
) -> None:
    fitting = set.intersection(
        *({rule.split(":")[0] for rule in rules} for rules in pricing.values())
    )
    if len(fitting) == 1:
        values["pricing"] = fitting.pop()
    else:
        reasons["pricing"] = (
            "every creditCost seen fits both rules" if fitting else "no one rule fits them all"
        )


def _order(orders: set[ResultOrder], values: dict[str, Any], reasons: dict[str, str]) -> None:
    """The first order (in ORDER_BY's order) every answer followed: where candidates tie on
    all keys, the mock's default is as good as any."""
    followed = [order for order in ORDER_BY if order in orders]
    if followed:
        values["resize.order"] = followed[0].value
    else:
        reasons["resize.order"] = (
            "the candidates follow none of blendedScore, dissimilarity or duration"
        )


def _webhooks(seen: Observations, values: dict[str, Any], reasons: dict[str, str]) -> None:
    if seen.failed_attempts:
        values["webhooks.attempts"] = seen.failed_attempts
    arrivals = seen.longest_attempts
    gaps = [round(b - a, BACKOFF_DECIMALS) for a, b in itertools.pairwise(arrivals)]
    if gaps:
        values["webhooks.backoffSeconds"] = gaps
    else:
        reasons["webhooks.backoffSeconds"] = "the webhook was tried once"


def write_profile(path: Path, values: Mapping[str, Any]) -> None:
    """The observed values as a profile document (checked: the mock must be able to load it),
    written beside and renamed, so a reader never sees half a file."""
    document = sparse(values)
    Profile.from_json(document)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=2) + "\n")
    partial.replace(path)
