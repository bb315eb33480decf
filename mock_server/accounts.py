"""API keys, plans, pricing and the rolling 30-day credit ledger.

The reference: "Queued requests in the last 30 days count against your credit limit (except for
failed requests)". So a request's cost counts from the moment it is known (at once for resize and
export, whose prices follow from the request; for analyze once the source's duration is read),
is corrected when the job succeeds, and is released when it fails.

The reference says durations are rounded up to the minute, yet all three of its examples fit
max(1, round(minutes x rate)) instead (analyze 175.26 s with raw features -> 44, resize to 30 s
-> 2, export of 68.5 s -> 1, where rounding up gives 45, 4 and 2). EXAMPLES is the default;
DOCUMENTED applies the sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class Plan(Enum):
    FREE = "free"
    STARTER = "starter"
    PLUS = "plus"
    MEGA = "mega"
    ENTERPRISE = "enterprise"

    @property
    def credit_limit(self) -> int | None:
        """Credits per rolling 30 days; None is unlimited."""
        return {"free": 100, "starter": 2000, "plus": 10000, "mega": 30000}.get(self.value)

    @classmethod
    def named(cls, name: str) -> Plan:
        """The plan called `name`, or a ValueError that lists the plans there are."""
        try:
            return cls(name)
        except ValueError:
            plans = ", ".join(plan.value for plan in cls)
            raise ValueError(f"unknown plan {name!r}; use one of {plans}") from None


class PricingRule(Enum):
    EXAMPLES = "examples"
    DOCUMENTED = "documented"


class CreditRate(Enum):
    """What each operation costs, in credits per minute of its unit (the source analyzed, the
    target length, the audio exported)."""

    ANALYZE = 10
    ANALYZE_RAW = 15
    RESIZE = 4
    EXPORT = 1

    @property
    def rate(self) -> int:
        """Credits per minute of the operation's unit."""
        return self.value


def credit_cost(operation: CreditRate, minutes: float, rule: PricingRule) -> int:
    return rated_cost(operation.rate, minutes, rule)


def rated_cost(rate: int, minutes: float, rule: PricingRule) -> int:
    """`minutes` at `rate` credits a minute, rounded as `rule` reads the price list; at least 1
    credit, unless the rate is 0 (free)."""
    if rate == 0:
        return 0
    if rule is PricingRule.DOCUMENTED:
        return max(1, math.ceil(minutes) * rate)
    return max(1, math.floor(minutes * rate + 0.5))


def analyze_cost(duration_seconds: float, raw_features: bool, rule: PricingRule) -> int:
    operation = CreditRate.ANALYZE_RAW if raw_features else CreditRate.ANALYZE
    return credit_cost(operation, duration_seconds / 60, rule)


def resize_cost(target_seconds: float, rule: PricingRule) -> int:
    return credit_cost(CreditRate.RESIZE, target_seconds / 60, rule)


def export_cost(output_seconds: float, rule: PricingRule) -> int:
    return credit_cost(CreditRate.EXPORT, output_seconds / 60, rule)


def structure_cost(duration_seconds: float, credits_per_minute: int, rule: PricingRule) -> int:
    """/structure's price: unknown live, so the rate is the profile's (`structure.
    creditsPerMinute`) over the source's minutes."""
    return rated_cost(credits_per_minute, duration_seconds / 60, rule)


def mask_key(key: str) -> str:
    """Enough of a key to tell keys apart in a journal, never enough to use it."""
    return key[:4] + "*" * max(4, len(key) - 4)


@dataclass(frozen=True)
class Charge:
    key: str
    request_id: str
    credits: int
    at: float


class Accounts:
    """Keys, their plans, and the credits each key spent: charges are kept per key and by
    request id, so a usage check or a refund costs one key's charges, not everyone's."""

    def __init__(self, keys: dict[str, Plan], window_seconds: float = 30 * 86400.0) -> None:
        self._configured = dict(keys)
        self._keys = dict(keys)
        self._charges: dict[str, dict[str, Charge]] = {}  # key -> request id -> charge
        self._payer: dict[str, str] = {}  # request id -> key
        self._owner: dict[str, str] = {}  # an added key -> the namespace it was added in
        self.window_seconds = window_seconds

    def plan_of(self, key: str) -> Plan | None:
        return self._keys.get(key)

    def add_key(self, key: str, plan: Plan, namespace: str = "") -> None:
        self._keys[key] = plan
        self._owner[key] = namespace

    def keys_of(self, namespace: str) -> list[tuple[str, Plan]]:
        """The keys a namespace uses: those the mock was started with, and those it added."""
        return [
            (key, plan)
            for key, plan in self._keys.items()
            if self._owner.get(key, namespace) == namespace
        ]

    def owner(self, key: str) -> str | None:
        """The namespace `key` was added in; None for a key the mock was started with."""
        return self._owner.get(key)

    def reset_namespace(self, namespace: str, request_ids: list[str]) -> list[str]:
        """Release what `request_ids` counted and drop the keys added in `namespace` with all
        they spent; the keys dropped."""
        for request_id in request_ids:
            self.refund(request_id)
        dropped = [key for key, owner in self._owner.items() if owner == namespace]
        for key in dropped:
            del self._owner[key]
            if key in self._configured:
                self._keys[key] = self._configured[key]
            else:
                del self._keys[key]
            for request_id in self._charges.pop(key, {}):
                self._payer.pop(request_id, None)
        return dropped

    def charge(self, key: str, request_id: str, credits: int, at: float) -> None:
        self._charges.setdefault(key, {})[request_id] = Charge(key, request_id, credits, at)
        self._payer[request_id] = key

    def refund(self, request_id: str) -> None:
        key = self._payer.pop(request_id, None)
        if key is not None:
            self._charges[key].pop(request_id, None)

    def used(self, key: str, now: float) -> int:
        since = now - self.window_seconds
        charges = self._charges.get(key, {})
        for request_id in [r for r, c in charges.items() if c.at <= since]:
            del charges[request_id]  # out of the window for good: mock time only moves on
            self._payer.pop(request_id, None)
        return sum(c.credits for c in charges.values() if c.at <= now)

    def has_limit(self, key: str) -> bool:
        """Whether `key` is on a plan whose credits its usage could use up."""
        plan = self._keys.get(key)
        return plan is not None and plan.credit_limit is not None

    def remaining(self, key: str, now: float) -> int | None:
        plan = self._keys.get(key)
        limit = plan.credit_limit if plan else 0
        return None if limit is None else max(0, limit - self.used(key, now))

    def reset(self) -> None:
        self._keys = dict(self._configured)
        self._charges.clear()
        self._payer.clear()
        self._owner.clear()
