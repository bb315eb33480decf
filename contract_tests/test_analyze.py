"""analyze: the acknowledgement, the webhook, the document at resultUrl and what the analysis
promises (one similarity value per pair of beats, increasing boundaries, features per beat)."""

from __future__ import annotations

from contract_tests.paid import Analysis
from contract_tests.session import Contract
from mock_server.contract import rules
from mock_server.contract.schemas import validate

COMPARED = ("duration", "tempo", "similarity", "boundaries")


def test_analyze_ack_matches_schema(analysis: Analysis, contract: Contract) -> None:
    ack = analysis.outcome.ack
    validate("queued-response", ack)
    rules.check_ack_literals(ack, contract.target.base_url, ["analysis.json"])


def test_analyze_webhook_matches_schema(analysis: Analysis) -> None:
    webhook = analysis.outcome.require_webhook()
    validate("analyze-webhook", webhook)
    assert webhook["requestId"] == analysis.outcome.ack["requestId"]
    assert webhook["sourceFileUrl"] == analysis.request["sourceFileUrl"]


def test_analysis_result_url_matches_schema(analysis: Analysis) -> None:
    assert analysis.outcome.document is not None, "resultUrl never served the analysis"
    validate("analyze-webhook", analysis.outcome.document)


def test_analysis_result_url_serves_the_webhook_payload(analysis: Analysis) -> None:
    webhook = analysis.outcome.require_webhook()
    assert analysis.outcome.document == webhook


def test_similarity_has_one_value_per_pair_of_beats(analysis: Analysis) -> None:
    result = analysis.result
    rules.check_similarity_length(result["similarity"], len(result["boundaries"]))


def test_similarity_characters_lie_within_min_and_max(analysis: Analysis) -> None:
    rules.check_similarity_range(analysis.result["similarity"])


def test_similarity_decodes_with_a_diagonal_near_one(analysis: Analysis) -> None:
    result = analysis.result
    rules.check_similarity_diagonal(result["similarity"], len(result["boundaries"]))


def test_boundaries_start_at_zero_increase_and_end_before_the_duration(
    analysis: Analysis,
) -> None:
    rules.check_boundaries(analysis.result["boundaries"], analysis.result["duration"])


def test_features_give_one_vector_per_beat_within_zero_and_one(analysis: Analysis) -> None:
    result = analysis.result
    assert "features" in result, "raw_features were asked for but no features came back"
    rules.check_features(result["features"], len(result["boundaries"]))


def test_tempo_is_a_plausible_integer(analysis: Analysis) -> None:
    rules.check_tempo(analysis.result["tempo"])


def test_a_second_analysis_of_the_same_file_gives_the_same_result(
    analysis: Analysis, analysis_again: Analysis
) -> None:
    first = {key: analysis.result[key] for key in COMPARED}
    again = {key: analysis_again.result[key] for key in COMPARED}
    differing = [key for key in COMPARED if first[key] != again[key]]
    assert not differing, f"a second analysis differs in {differing}"
    assert "features" not in analysis_again.result, "features came back without raw_features"


def test_analyze_credit_cost_follows_a_pricing_rule(
    contract: Contract, analysis: Analysis, analysis_again: Analysis
) -> None:
    for done, rate in ((analysis, "analyze_raw_features"), (analysis_again, "analyze")):
        payload = done.outcome.payload
        minutes = done.result["duration"] / 60
        matched = rules.matching_rules(payload["creditCost"], minutes, rules.RATES[rate])
        contract.report.note_pricing(rate, matched)
