"""resize, in both forms (the synchronous answer and the queued one): segments on the analysis'
boundaries, honest durations and dissimilarities, candidates best first and near the target."""

from __future__ import annotations

import pytest

from contract_tests.paid import Analysis, Resize
from contract_tests.session import Contract
from mock_server.contract import rules
from mock_server.contract.schemas import validate

FORMS = ["sync", "queued"]


@pytest.fixture(params=FORMS)
def resize(request: pytest.FixtureRequest) -> Resize:
    done: Resize = request.getfixturevalue(f"resize_{request.param}")
    return done


def test_resize_queued_ack_matches_schema(resize_queued: Resize, contract: Contract) -> None:
    assert resize_queued.outcome is not None
    ack = resize_queued.outcome.ack
    validate("queued-response", ack)
    rules.check_ack_literals(ack, contract.target.base_url, ["resize.json"])


def test_resize_answer_matches_schema(resize: Resize) -> None:
    validate("resize-webhook", resize.answer)


def test_resize_webhook_matches_schema(resize_queued: Resize) -> None:
    assert resize_queued.outcome is not None
    validate("resize-webhook", resize_queued.outcome.require_webhook())


def test_resize_result_url_serves_the_webhook_payload(resize_queued: Resize) -> None:
    assert resize_queued.outcome is not None
    webhook = resize_queued.outcome.require_webhook()
    assert resize_queued.outcome.document == webhook


def test_segments_lie_on_the_boundaries(resize: Resize, analysis: Analysis) -> None:
    for candidate in resize.answer["result"]:
        rules.check_segments_on_boundaries(candidate, analysis.result["boundaries"])


def test_duration_is_the_total_of_the_segments(resize: Resize, analysis: Analysis) -> None:
    for candidate in resize.answer["result"]:
        rules.check_duration(candidate, analysis.result["boundaries"])


def test_dissimilarity_is_the_sum_over_cuts(resize: Resize, analysis: Analysis) -> None:
    for candidate in resize.answer["result"]:
        rules.check_dissimilarity(candidate, analysis.result["similarity"])


def test_blended_score_is_never_positive(resize: Resize) -> None:
    scores = [c["blendedScore"] for c in resize.answer["result"]]
    assert all(score <= 0 for score in scores), scores


def test_the_best_candidates_are_near_the_target(resize: Resize) -> None:
    rules.check_best_near_target(resize.answer["result"], resize.request["targetLengthSeconds"])


def test_sync_and_queued_forms_agree(resize_sync: Resize, resize_queued: Resize) -> None:
    assert resize_sync.answer["result"] == resize_queued.answer["result"]


def test_resize_credit_cost_follows_a_pricing_rule(contract: Contract, resize: Resize) -> None:
    minutes = resize.request["targetLengthSeconds"] / 60
    rate = rules.RATES["resize"]
    matched = rules.matching_rules(resize.answer["creditCost"], minutes, rate)
    contract.report.note_pricing("resize", matched)
