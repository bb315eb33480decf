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


def _queue(contract: Contract, route: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = contract.target.post(route, body)
    assert answer.status == 200, f"{route} was refused: HTTP {answer.status} {answer.body[:300]!r}"
    ack: dict[str, Any] = answer.json()
    return ack


def spend(contract: Contract, reserved: int, payload: dict[str, Any] | None, what: str) -> None:
    if payload is not None and isinstance(payload.get("creditCost"), int):
        contract.budget.settle(reserved, payload["creditCost"])
    else:
        contract.report.notes.append(f"credits of {what} unknown: no webhook arrived")


@pytest.fixture(scope="session")
def source_seconds(contract: Contract) -> float:
    """The source's length, read by the suite itself, to price calls before making them."""
    answer = contract.target.fetch(contract.source_url)
    assert answer.status == 200, f"the suite cannot download --source-url: HTTP {answer.status}"
    return float(soundfile.info(io.BytesIO(answer.body)).duration)


def _analyze(contract: Contract, seconds: float, features: list[str], what: str) -> Analysis:
    rate = RATES["analyze_raw_features" if features else "analyze"]
    reserved = contract.budget.reserve(worst_case(seconds / 60, rate), what)
    request = {
        "resultWebhook": contract.webhook_url,
        "sourceFileUrl": contract.source_url,
        "features": features,
    }
    outcome = contract.waiter.wait(_queue(contract, "analyze", request))
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
    answer = contract.target.post("resize", request)
    assert answer.status == 200, f"resize was refused: HTTP {answer.status} {answer.body[:300]!r}"
    document: dict[str, Any] = answer.json()
    spend(contract, reserved, document, "a synchronous resize")
    return Resize(request, document, None)


@pytest.fixture(scope="session")
def resize_queued(contract: Contract, analysis: Analysis) -> Resize:
    request = {**resize_request(analysis), "resultWebhook": contract.webhook_url}
    minutes = request["targetLengthSeconds"] / 60
    reserved = contract.budget.reserve(worst_case(minutes, RATES["resize"]), "a queued resize")
    outcome = contract.waiter.wait(_queue(contract, "resize", request))
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
    outcome = contract.waiter.wait(_queue(contract, "export", request))
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
