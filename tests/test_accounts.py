"""Pricing against the reference's three examples, plans and the rolling ledger."""

from __future__ import annotations

import pytest

from mock_server.accounts import Accounts, CreditRate, Plan, PricingRule, credit_cost, mask_key
from mock_server.ratelimit import RateLimiter

DAY = 86400.0


@pytest.mark.parametrize(
    ("operation", "seconds", "examples", "documented"),
    [
        (CreditRate.ANALYZE_RAW, 175.26, 44, 45),  # the analyze example
        (CreditRate.RESIZE, 30, 2, 4),  # the resize example
        (CreditRate.EXPORT, 29.77 + 3.88 + 5.15 + 29.67, 1, 2),  # the export example, 68.47 s
        (CreditRate.ANALYZE, 1, 1, 10),  # at least 1 credit
        (CreditRate.ANALYZE, 90, 15, 20),  # 1.5 minutes: half rounds up
    ],
)
def test_both_pricing_rules(
    operation: CreditRate, seconds: float, examples: int, documented: int
) -> None:
    assert credit_cost(operation, seconds / 60, PricingRule.EXAMPLES) == examples
    assert credit_cost(operation, seconds / 60, PricingRule.DOCUMENTED) == documented


def test_plans_limits_and_the_rolling_window() -> None:
    accounts = Accounts({"k": Plan.FREE, "e": Plan.ENTERPRISE})
    accounts.charge("k", "a", 60, at=0.0)
    accounts.charge("k", "b", 40, at=10 * DAY)
    assert accounts.used("k", 10 * DAY) == 100 and accounts.remaining("k", 10 * DAY) == 0
    accounts.refund("b")
    assert accounts.remaining("k", 10 * DAY) == 40
    assert accounts.used("k", 30 * DAY + 1) == 0  # the first charge left the window
    accounts.charge("e", "c", 10**9, at=0.0)
    assert accounts.remaining("e", 0.0) is None
    assert accounts.plan_of("nobody") is None


def test_reset_restores_the_configured_keys() -> None:
    accounts = Accounts({"k": Plan.FREE})
    accounts.add_key("new", Plan.MEGA)
    accounts.charge("k", "a", 5, at=0.0)
    accounts.reset()
    assert accounts.plan_of("new") is None and accounts.used("k", 0.0) == 0


def test_keys_are_masked() -> None:
    assert mask_key("test-key") == "test****"
    assert "secret" not in mask_key("ab-secret-value")


def test_rate_limiter_admits_exactly_its_limit_per_rolling_window() -> None:
    limiter = RateLimiter(limit=100, window_seconds=60)
    admitted = [limiter.try_acquire("k", 0.5 * i) is None for i in range(101)]
    assert admitted.count(True) == 100 and admitted[-1] is False
    assert limiter.try_acquire("k", 50.0) == pytest.approx(10.0)
    assert limiter.try_acquire("other", 50.0) is None
    assert limiter.try_acquire("k", 60.0) is None  # the request at 0.0 has left the window
