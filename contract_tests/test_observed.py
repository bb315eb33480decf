"""Observations: behaviours the reference leaves open, measured on the target, not judged.

Each test asserts only what any answer must be (an error envelope, a webhook that arrives) and
notes what the target chose under its profile key, for the report and --observed-profile.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from contract_tests.paid import Analysis, Resize, accepted, resize_request, spend, worst_case
from contract_tests.session import Answer, Contract, refusing
from contract_tests.test_errors import BODIES
from mock_server.contract.rules import RATES

# The cheapest paid call: a queued resize to 15 s costs one credit under either pricing rule.
RETRY_TARGET_SECONDS = 15
# After the last attempt, how long no further one must come, at least (local, remote).
QUIET_SECONDS = (3.0, 120.0)


def _error_status(contract: Contract, answer: Answer, key: str) -> None:
    """A refusal the reference does not list: a 4xx in the envelope is the mock's choice; its
    status is what the target chose for `key`."""
    said = f"HTTP {answer.status}: {answer.body[:200]!r}"
    contract.check("error.unlisted_status_class", answer.status < 500, said)
    if answer.status < 400:
        contract.report.unobserved[key] = f"the request was accepted (HTTP {answer.status})"
        return
    contract.conforms("error.envelope", "error-response", answer.parsed())
    contract.report.observe(key, answer.status)


def test_an_unusable_parameter_value_is_refused(contract: Contract) -> None:
    body = {**BODIES["export"], "exportFormat": "flac"}
    answer = contract.target.post("export", body)
    _error_status(contract, answer, "errors.invalid_parameter.status")


def test_a_body_that_is_not_json_is_refused(contract: Contract) -> None:
    answer = contract.target.post("analyze", b'{"resultWebhook": ')
    _error_status(contract, answer, "errors.malformed_json.status")


def test_an_unknown_result_url_is_refused(contract: Contract, analysis: Analysis) -> None:
    ack = analysis.outcome.ack
    unknown = ack["resultUrl"].replace(ack["requestId"], "0" * 32)
    answer = contract.target.fetch(unknown)
    refused = 400 <= answer.status < 500
    contract.check("error.unlisted_status_class", refused, f"{unknown}: HTTP {answer.status}")
    contract.report.observe("errors.result_missing.status", answer.status)


def test_the_order_of_the_candidates_is_observed(contract: Contract, resize_sync: Resize) -> None:
    candidates = resize_sync.answer["result"]
    contract.check("resize.payload", bool(candidates), "resize gave no candidates")
    contract.report.note_order(candidates)


def _attempts(contract: Contract, request_id: str) -> list[tuple[float, dict[str, Any]]]:
    """Every refused attempt for `request_id`: waits for the first, then until none has come
    for a while longer than the longest gap so far."""
    receiver, local = contract.waiter.receiver, contract.target.is_local
    deadline = time.monotonic() + contract.waiter.timeout
    quiet = QUIET_SECONDS[0 if local else 1]
    while time.monotonic() < deadline:
        seen = receiver.refused(request_id)
        if seen:
            gaps = [b[0] - a[0] for a, b in itertools.pairwise(seen)]
            if time.monotonic() - seen[-1][0] > max(quiet, 3 * max(gaps, default=0.0)):
                return seen
        time.sleep(contract.waiter.interval)
    return receiver.refused(request_id)


def test_a_refused_webhook_is_retried(contract: Contract, analysis: Analysis) -> None:
    if not contract.waiter.webhooks_expected:
        pytest.skip("the target cannot reach this machine: pass --webhook-url")
    request = {
        **resize_request(analysis),
        "targetLengthSeconds": RETRY_TARGET_SECONDS,
        "resultWebhook": refusing(contract.webhook_url),
    }
    price = worst_case(RETRY_TARGET_SECONDS / 60, RATES["resize"])
    reserved = contract.budget.reserve(price, "a resize whose webhook is refused")
    ack = accepted(contract, "resize", contract.target.post("resize", request))
    seen = _attempts(contract, ack["requestId"])
    contract.check("resize.payload", bool(seen), "no webhook attempt arrived")
    spend(contract, reserved, seen[0][1], "a resize whose webhook is refused")
    contract.report.note_attempts([at for at, _ in seen], taken=False)
