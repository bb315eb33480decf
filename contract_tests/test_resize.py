"""resize, in both forms (the synchronous answer and the queued one): segments on the analysis'
boundaries, honest durations and dissimilarities, candidates best first and near the target."""

from __future__ import annotations

import pytest

from contract_tests.paid import Analysis, Resize, check_ack
from contract_tests.session import Contract
from mock_server.contract import rules

FORMS = ["sync", "queued"]


@pytest.fixture(params=FORMS)
def resize(request: pytest.FixtureRequest) -> Resize:
    done: Resize = request.getfixturevalue(f"resize_{request.param}")
    return done


def test_resize_queued_ack_matches_schema(resize_queued: Resize, contract: Contract) -> None:
    check_ack(contract, resize_queued.queued().ack, ["resize.json"], "queued-response")


def test_resize_answer_matches_schema(resize: Resize, contract: Contract) -> None:
    row = "resize.sync" if resize.outcome is None else "resize.payload"
    contract.conforms(row, "resize-webhook", resize.answer)


def test_resize_webhook_matches_schema(resize_queued: Resize, contract: Contract) -> None:
    contract.conforms("resize.payload", "resize-webhook", resize_queued.queued().require_webhook())


def test_resize_result_url_serves_the_webhook_payload(
    resize_queued: Resize, contract: Contract
) -> None:
    outcome = resize_queued.queued()
    webhook = outcome.require_webhook()
    with contract.promise("result.document"):
        assert outcome.document == webhook


def test_segments_lie_on_the_boundaries(
    resize: Resize, analysis: Analysis, contract: Contract
) -> None:
    for candidate in resize.answer["result"]:
        with contract.promise("resize.segments"):
            rules.check_segments_on_boundaries(candidate, analysis.result["boundaries"])


def test_duration_is_the_total_of_the_segments(
    resize: Resize, analysis: Analysis, contract: Contract
) -> None:
    for candidate in resize.answer["result"]:
        with contract.promise("resize.duration"):
            rules.check_duration(candidate, analysis.result["boundaries"])
        with contract.promise("resize.duration_rounding"):
            rules.check_duration_rounding(candidate, analysis.result["boundaries"])


def test_dissimilarity_is_the_sum_over_cuts(
    resize: Resize, analysis: Analysis, contract: Contract
) -> None:
    for candidate in resize.answer["result"]:
        with contract.promise("resize.dissimilarity"):
            rules.check_dissimilarity_total(candidate)
        with contract.promise("resize.cut_dissimilarity"):
            rules.check_dissimilarity(candidate, analysis.result["similarity"])


def test_blended_score_is_never_positive(resize: Resize, contract: Contract) -> None:
    for candidate in resize.answer["result"]:
        with contract.promise("resize.blended_score_sign"):
            rules.check_blended_score_sign(candidate)


def test_the_best_candidates_are_near_the_target(resize: Resize, contract: Contract) -> None:
    target = resize.request["targetLengthSeconds"]
    with contract.promise("resize.near_target"):
        rules.check_best_near_target(resize.answer["result"], target)


def test_sync_and_queued_forms_agree(
    resize_sync: Resize, resize_queued: Resize, contract: Contract
) -> None:
    with contract.promise("resize.forms_agree"):
        assert resize_sync.answer["result"] == resize_queued.answer["result"]


def test_resize_credit_cost_follows_a_pricing_rule(contract: Contract, resize: Resize) -> None:
    minutes = resize.request["targetLengthSeconds"] / 60
    rate = rules.RATES["resize"]
    with contract.promise("credits.rates"):
        matched = rules.matching_rules(resize.answer["creditCost"], minutes, rate)
        contract.report.note_pricing("resize", matched)
