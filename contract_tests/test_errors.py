"""Every documented error, triggered without spending a credit: the message the reference gives,
in the error envelope, with a 4xx status (which one is reported, not assumed)."""

from __future__ import annotations

from typing import Any

import pytest

from contract_tests.session import Answer, Contract
from mock_server.contract import rules
from mock_server.contract.schemas import validate
from mock_server.contract.wire import (
    API_ROUTES,
    INVALID_KEY,
    INVALID_METHOD,
    MISSING_KEY,
    MISSING_PARAMETER,
)

ROUTES = tuple(route.name for route in API_ROUTES)
WEBHOOK = "https://example.com/audjust-webhook"
SIMILARITY = {"data": "~", "min": 32, "max": 126}
# Complete bodies; each missing-parameter test drops one required field, so none can be queued.
BODIES: dict[str, dict[str, Any]] = {
    "analyze": {"resultWebhook": WEBHOOK, "sourceFileUrl": "https://example.com/a.mp3"},
    "resize": {"targetLengthSeconds": 30, "similarity": SIMILARITY, "boundaries": [0.0]},
    "export": {
        "resultWebhook": WEBHOOK,
        "sourceFileUrl": "https://example.com/a.mp3",
        "exportFormat": "mp3_128",
        "segmentsGroups": [[[0, 1]]],
    },
}
MISSING = [(route.name, name) for route in API_ROUTES for name in route.required]


def refused(contract: Contract, answer: Answer, message: str) -> None:
    """The error envelope with the listed `message` first, a 4xx, and its status noted in the
    report. Text after the listed message is not a failure (the reference lists messages, not
    whole bodies) but a finding about the target, reported in the summary."""
    document = answer.json()
    validate("error-response", document)
    rules.check_listed_error(document["message"], answer.status, message)
    contract.report.note_error(message, answer.status, document["message"])


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_is_refused(contract: Contract, method: str, route: str) -> None:
    answer = contract.target.call(method, route)
    refused(contract, answer, INVALID_METHOD)
    contract.report.note_allow("allow" in {name.lower() for name in answer.headers})


@pytest.mark.parametrize("route", ROUTES)
def test_missing_key_is_refused(contract: Contract, route: str) -> None:
    answer = contract.target.post(route, BODIES[route], key=None)
    refused(contract, answer, MISSING_KEY)


@pytest.mark.parametrize("route", ROUTES)
def test_invalid_key_is_refused(contract: Contract, route: str) -> None:
    answer = contract.target.post(route, BODIES[route], key="contract-suite-not-a-key")
    refused(contract, answer, INVALID_KEY)


@pytest.mark.parametrize(("route", "name"), MISSING, ids=[f"{r}.{n}" for r, n in MISSING])
def test_missing_parameter_is_refused(contract: Contract, route: str, name: str) -> None:
    body = {k: v for k, v in BODIES[route].items() if k != name}
    refused(contract, contract.target.post(route, body), MISSING_PARAMETER)
