"""upload and structure, Audjust's newer endpoints, as far as anything is known of them.

The upload round trip is Audjust's own example (`GET /upload`, a `PUT` of the bytes to
`storageUrl` with no key and no content type, `retrievalUrl` as the source): documented rows. The
structure call is the one public client's (`POST /structure` with `sourceFileUrl`, waiting for the
answer, reading top-level `sections` of `startMs`, `endMs` and `label`, labels 0-1000): readings,
so against the live API a departure is a finding, not a failure. Its price, and whether it
answers at once, are the mock's choices: observed and noted.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from contract_tests.session import Answer, Contract
from mock_server.accounts import PricingRule, structure_cost
from mock_server.contract.rules import RATES

# /structure's price is not known: the suite reserves as for an analysis with raw features, the
# dearest of the documented rates, so --max-credits holds whatever the target charges.
WORST_RATE = RATES["analyze_raw_features"]
MAX_RATE = 1000  # the profile's bound on structure.creditsPerMinute


@dataclass
class Uploaded:
    slot: dict[str, Any]
    stored: Answer  # the PUT's answer
    source: bytes  # what was put


@dataclass
class Sections:
    answer: Answer
    document: Any


@pytest.fixture(scope="module")
def uploaded(contract: Contract) -> Uploaded:
    """The suite's own source, uploaded as Audjust's example page does."""
    source = contract.target.fetch(contract.source_url)
    if source.status != 200:  # the suite's own input, not the target's promise
        pytest.fail(f"the suite cannot download --source-url: HTTP {source.status}")
    asked = contract.target.call("GET", "upload")
    with contract.promise("upload.route"):
        assert 200 <= asked.status < 300, f"GET /upload: HTTP {asked.status} {asked.body[:300]!r}"
        slot = asked.json()
    contract.conforms("upload.route", "upload-response", slot)
    stored = contract.target.http.put_bytes(slot["storageUrl"], source.body)
    return Uploaded(slot, stored, source.body)


@pytest.fixture(scope="module")
def sections(contract: Contract, uploaded: Uploaded, source_seconds: float) -> Sections:
    """A synchronous structure of the uploaded source, as the known client calls it."""
    reserved = contract.budget.reserve(
        max(1, round(source_seconds / 60 * WORST_RATE + 0.5)), "a structure"
    )
    body = {"sourceFileUrl": uploaded.slot["retrievalUrl"]}
    answer = contract.target.post("structure", body)
    document = answer.parsed()
    cost = document.get("creditCost") if isinstance(document, dict) else None
    if isinstance(cost, int):
        contract.budget.settle(reserved, cost)
        contract.report.notes.append(f"a structure of {source_seconds:.0f} s cost {cost} credits")
        _observe_rate(contract, cost, source_seconds)
    return Sections(answer, document)


def _observe_rate(contract: Contract, cost: int, seconds: float) -> None:
    """structure.creditsPerMinute, when one rate alone gives the cost under either pricing rule;
    a short source often fits two (30 s at r or r - 1 rounds alike)."""
    fitting = sorted(
        {
            rate
            for rate in range(MAX_RATE + 1)
            for rule in PricingRule
            if structure_cost(seconds, rate, rule) == cost
        }
    )
    key = "structure.creditsPerMinute"
    if len(fitting) == 1:
        contract.report.observe(key, fitting[0])
    else:
        said = f"{cost} credits for {seconds:.0f} s fit the rates {fitting[:5]}"
        contract.report.unobserved[key] = said


def test_upload_answers_where_to_put_the_file_and_where_it_is_served(
    contract: Contract, uploaded: Uploaded
) -> None:
    with contract.promise("upload.route"):
        assert uploaded.slot["storageUrl"] != uploaded.slot["retrievalUrl"]


def test_the_put_takes_the_bytes_without_a_key_or_a_content_type(
    contract: Contract, uploaded: Uploaded
) -> None:
    stored = uploaded.stored
    with contract.promise("upload.put"):
        assert 200 <= stored.status < 300, f"PUT storageUrl: HTTP {stored.status}"


def test_the_retrieval_url_is_a_source_structure_takes(
    contract: Contract, sections: Sections
) -> None:
    answer = sections.answer
    said = f"POST /structure: HTTP {answer.status} {answer.body[:300]!r}"
    with contract.promise("upload.source"):
        assert 200 <= answer.status < 300, said


def test_structure_answers_sections_at_the_top_level(
    contract: Contract, sections: Sections
) -> None:
    contract.conforms("structure.sections", "structure-response", sections.document)


def test_sections_run_from_zero_without_gaps(contract: Contract, sections: Sections) -> None:
    listed = _sections(sections)
    with contract.promise("structure.sections"):
        assert listed, "no sections"
        assert listed[0]["startMs"] == 0, f"the first section starts at {listed[0]['startMs']}"
        for before, after in itertools.pairwise(listed):
            assert before["endMs"] == after["startMs"], f"{before} then {after}"


def test_labels_lie_between_0_and_1000(contract: Contract, sections: Sections) -> None:
    with contract.promise("structure.labels"):
        labels = [section.get("label") for section in _sections(sections)]
        assert all(isinstance(x, int) and 0 <= x <= 1000 for x in labels), labels


def test_structure_answers_at_once_without_a_webhook(
    contract: Contract, sections: Sections
) -> None:
    """Whether /structure answers at once is a choice (the known client waits for it). An answer
    at once fits `both` and `synchronous` alike, so the profile key is not written."""
    with contract.promise("structure.calls"):
        assert "sections" in (sections.document or {}), "no sections in the immediate answer"
    contract.report.unobserved["structure.calls"] = (
        "it answered at once without resultWebhook; whether it also queues with one was not tried"
    )


def _sections(sections: Sections) -> list[dict[str, Any]]:
    document = sections.document
    found = document.get("sections") if isinstance(document, dict) else None
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []
