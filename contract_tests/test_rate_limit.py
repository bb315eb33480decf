"""The rate limit (the reference: currently 100 requests a minute), seen only when asked for
with --observe-rate-limit: it sends up to 110 requests that lack a parameter (so none is queued
or costs anything) and notes the first refusal's status and headers. It runs last, since the key
is limited for a while afterwards."""

from __future__ import annotations

import pytest

from contract_tests.session import Contract
from contract_tests.test_errors import BODIES
from mock_server.contract.wire import RATE_LIMITED

LIMIT = 100


def test_the_rate_limit_refuses_past_the_limit(
    contract: Contract, pytestconfig: pytest.Config
) -> None:
    if str(pytestconfig.getoption("observe_rate_limit") or "").lower() not in ("1", "yes", "true"):
        pytest.skip("pass --observe-rate-limit yes to send 110 requests in a row")
    body = {k: v for k, v in BODIES["analyze"].items() if k != "sourceFileUrl"}
    answers = []
    for _ in range(LIMIT + 10):
        answers.append(contract.target.post("analyze", body))
        if RATE_LIMITED in answers[-1].body.decode(errors="replace"):
            break
    else:
        contract.check(
            "rate_limit.number", False, f"{LIMIT + 10} requests in a row were not rate limited"
        )
    answer = answers[-1]
    contract.conforms("error.envelope", "error-response", answer.parsed())
    if len(answers) == 1:  # the suite's own state, not the target's promise
        pytest.skip("the first request was already rate limited: run again in a minute")
    report = contract.report
    report.error_statuses[RATE_LIMITED].add(answer.status)
    retry_after = "retry-after" in {name.lower() for name in answer.headers}
    report.observe("errors.rate_limited.headers", ["Retry-After"] if retry_after else [])
