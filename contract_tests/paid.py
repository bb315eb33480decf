"""The calls that cost credits, each made once per session and shared by the tests that check
its answer. Each reserves its worst-case price first, so --max-credits is never overrun, and
releases what it did not cost once its creditCost is known."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest
import soundfile

from contract_tests.session import Answer, Contract, Outcome
from mock_server.contract import rules
from mock_server.contract.rules import RATES, best_first, pricing

# What the suite asks of resize: a length well inside the song.
TARGET_FRACTION = 2 / 3


@dataclass
class Analysis:
    request: dict[str, Any]
    outcome: Outcome

    @property
    def result(self) -> dict[str, Any]:
        result: dict[str, Any] = self.outcome.payload["result"]
        return result


@dataclass
class Resize:
    request: dict[str, Any]
    answer: dict[str, Any]  # the sync response or the webhook-or-document of the queued one
    outcome: Outcome | None  # only for the queued form

    def queued(self) -> Outcome:
        if self.outcome is None:
            raise RuntimeError("a synchronous resize has no outcome")
        return self.outcome


@dataclass
class Export:
    request: dict[str, Any]
    outcome: Outcome
    files: dict[str, Answer] = field(default_factory=dict)

    def file(self, contract: Contract, url: str) -> Answer:
        if url not in self.files:
            self.files[url] = contract.target.fetch(url)
        return self.files[url]


def worst_case(minutes: float, rate: int) -> int:
    return max(pricing(minutes, rate).values())


def accepted(contract: Contract, route: str, answer: Answer) -> dict[str, Any]:
    """The answer to a request that is to be taken: a 2xx (a reading: the reference shows these
    answers' bodies, not their statuses), 200 exactly (the mock's choice), and a JSON object
    with a requestId (documented: the request is acknowledged and assigned a requestId)."""
    said = f"{route}: HTTP {answer.status} {answer.body[:300]!r}"
    contract.check("ack.status_class", 200 <= answer.status < 300, said)
    contract.check("ack.status", answer.status == 200, said)
    with contract.promise("ack.queued"):
        document = answer.json()
        assert isinstance(document, dict) and "requestId" in document, said
    taken: dict[str, Any] = document
    return taken


def check_ack(contract: Contract, ack: dict[str, Any], names: list[str], schema: str) -> None:
    """An acknowledgement: its documented fields (ack.queued), one result URL per result
    (export.files), the example's literals and URL shape (readings)."""
    contract.conforms("ack.queued", schema, ack)
    with contract.promise("export.files"):
        rules.check_result_url_count(ack, names)
    with contract.promise("ack.literals"):
        rules.check_ack_message(ack)
    with contract.promise("result.url"):
        rules.check_result_url_shape(ack, contract.target.base_url, names)


def _queue(contract: Contract, route: str, body: dict[str, Any]) -> dict[str, Any]:
    return accepted(contract, route, contract.target.post(route, body))


def spend(contract: Contract, reserved: int, payload: dict[str, Any] | None, what: str) -> None:
    if payload is not None and isinstance(payload.get("creditCost"), int):
        contract.budget.settle(reserved, payload["creditCost"])
    else:
        contract.report.notes.append(f"credits of {what} unknown: no webhook arrived")


@pytest.fixture(scope="session")
def source_seconds(contract: Contract) -> float:
    """The source's length, read by the suite itself, to price calls before making them."""
    answer = contract.target.fetch(contract.source_url)
    if answer.status != 200:  # the suite's own input, not the target's promise
        pytest.fail(f"the suite cannot download --source-url: HTTP {answer.status}")
    return float(soundfile.info(io.BytesIO(answer.body)).duration)


def _analyze(contract: Contract, seconds: float, features: list[str], what: str) -> Analysis:
    rate = RATES["analyze_raw_features" if features else "analyze"]
    reserved = contract.budget.reserve(worst_case(seconds / 60, rate), what)
    request = {
        "resultWebhook": contract.webhook_url,
        "sourceFileUrl": contract.source_url,
        "features": features,
    }
    outcome = contract.waiter.wait(_queue(contract, "analyze", request), "analyze.payload")
    spend(contract, reserved, outcome.webhook or outcome.document, what)
    return Analysis(request, outcome)


@pytest.fixture(scope="session")
def analysis(contract: Contract, source_seconds: float) -> Analysis:
    return _analyze(contract, source_seconds, ["raw_features"], "an analysis with raw features")


@pytest.fixture(scope="session")
def analysis_again(contract: Contract, source_seconds: float) -> Analysis:
    return _analyze(contract, source_seconds, [], "a second analysis")


def resize_request(analysis: Analysis) -> dict[str, Any]:
    result = analysis.result
    return {
        "targetLengthSeconds": round(result["duration"] * TARGET_FRACTION),
        "similarity": result["similarity"],
        "boundaries": result["boundaries"],
    }


@pytest.fixture(scope="session")
def resize_sync(contract: Contract, analysis: Analysis) -> Resize:
    request = resize_request(analysis)
    reserved = contract.budget.reserve(
        worst_case(request["targetLengthSeconds"] / 60, RATES["resize"]), "a sync resize"
    )
    document = accepted(contract, "resize", contract.target.post("resize", request))
    spend(contract, reserved, document, "a synchronous resize")
    return Resize(request, document, None)


@pytest.fixture(scope="session")
def resize_queued(contract: Contract, analysis: Analysis) -> Resize:
    request = {**resize_request(analysis), "resultWebhook": contract.webhook_url}
    minutes = request["targetLengthSeconds"] / 60
    reserved = contract.budget.reserve(worst_case(minutes, RATES["resize"]), "a queued resize")
    outcome = contract.waiter.wait(_queue(contract, "resize", request), "resize.payload")
    spend(contract, reserved, outcome.webhook or outcome.document, "a queued resize")
    return Resize(request, outcome.payload, outcome)


def _export(contract: Contract, groups: list[Any], export_format: str) -> Export:
    seconds = sum(end - start for group in groups for start, end in group)
    what = f"the {export_format} export"
    reserved = contract.budget.reserve(worst_case(seconds / 60, RATES["export"]), what)
    request = {
        "resultWebhook": contract.webhook_url,
        "sourceFileUrl": contract.source_url,
        "exportFormat": export_format,
        "segmentsGroups": groups,
    }
    outcome = contract.waiter.wait(_queue(contract, "export", request), "export.payload")
    spend(contract, reserved, outcome.webhook, what)
    return Export(request, outcome)


@pytest.fixture(scope="session")
def export_mp3(contract: Contract, resize_sync: Resize) -> Export:
    """Two groups, the two best candidates, as MP3 at 128 kbit/s."""
    candidates = best_first(resize_sync.answer["result"])
    return _export(contract, [c["segmentsSeconds"] for c in candidates[:2]], "mp3_128")


@pytest.fixture(scope="session")
def export_wav(contract: Contract, resize_sync: Resize) -> Export:
    best = best_first(resize_sync.answer["result"])[0]
    return _export(contract, [best["segmentsSeconds"]], "wav")
