"""Every documented error, triggered without spending a credit: the message the reference gives
(documented), with a 4xx status (a reading; which one is reported, not assumed), in the mock's
envelope (a choice)."""

from __future__ import annotations

from typing import Any

import pytest

from contract_tests.session import Answer, Contract
from mock_server.contract import rules
from mock_server.contract.rulebook import LISTED_ROWS  # the documented row of each listed error
from mock_server.contract.wire import (
    API_ROUTES,
    INVALID_KEY,
    INVALID_METHOD,
    MISSING_KEY,
    MISSING_PARAMETER,
)

# The routes that take only POST (upload takes a GET as well, and no parameters).
ROUTES = tuple(route.name for route in API_ROUTES if route.methods == ("POST",))
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
    "structure": {"sourceFileUrl": "https://example.com/a.mp3"},
}
MISSING = [(route.name, name) for route in API_ROUTES for name in route.required]


def refused(contract: Contract, answer: Answer, message: str) -> None:
    """A listed error: its text in the answer (documented), a 4xx (a reading), and the mock's
    envelope with the text first in `message` (a choice: no example shows an error's body).
    The status is noted in the report; text after the listed message is noted too."""
    with contract.promise(LISTED_ROWS[message]):
        rules.check_listed_text(answer.body.decode(errors="replace"), message)
    with contract.promise("error.status_class"):
        rules.check_error_status_class(answer.status, message)
    document = answer.parsed()
    contract.conforms("error.envelope", "error-response", document)
    said = document.get("message") if isinstance(document, dict) else None
    if isinstance(said, str):
        with contract.promise("error.envelope"):
            rules.check_listed_message(said, message)
    enveloped = said if isinstance(said, str) and said.startswith(message) else message
    contract.report.note_error(message, answer.status, enveloped)


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
