"""analyze: the acknowledgement, the webhook, the document at resultUrl and what the analysis
promises (one similarity value per pair of beats, increasing boundaries, features per beat)."""

from __future__ import annotations

from contract_tests.paid import Analysis, check_ack
from contract_tests.session import Contract
from mock_server.contract import rules

COMPARED = ("duration", "tempo", "similarity", "boundaries")


def test_analyze_ack_matches_schema(analysis: Analysis, contract: Contract) -> None:
    check_ack(contract, analysis.outcome.ack, ["analysis.json"], "queued-response")


def test_analyze_webhook_matches_schema(analysis: Analysis, contract: Contract) -> None:
    webhook = analysis.outcome.require_webhook()
    contract.conforms("analyze.payload", "analyze-webhook", webhook)
    with contract.promise("analyze.payload"):
        assert webhook["requestId"] == analysis.outcome.ack["requestId"]
        assert webhook["sourceFileUrl"] == analysis.request["sourceFileUrl"]


def test_analysis_result_url_matches_schema(analysis: Analysis, contract: Contract) -> None:
    document = analysis.outcome.document
    contract.check("result.document", document is not None, "resultUrl served no JSON document")
    if document is not None:
        contract.conforms("result.document", "analyze-webhook", document)


def test_analysis_result_url_serves_the_webhook_payload(
    analysis: Analysis, contract: Contract
) -> None:
    webhook = analysis.outcome.require_webhook()
    with contract.promise("result.document"):
        assert analysis.outcome.document == webhook


def test_similarity_has_one_value_per_pair_of_beats(analysis: Analysis, contract: Contract) -> None:
    result = analysis.result
    with contract.promise("analyze.similarity"):
        rules.check_similarity_length(result["similarity"], len(result["boundaries"]))


def test_similarity_characters_lie_within_min_and_max(
    analysis: Analysis, contract: Contract
) -> None:
    with contract.promise("analyze.similarity"):
        rules.check_similarity_range(analysis.result["similarity"])


def test_similarity_decodes_with_a_diagonal_near_one(
    analysis: Analysis, contract: Contract
) -> None:
    result = analysis.result
    with contract.promise("analyze.similarity"):
        rules.check_similarity_diagonal(result["similarity"], len(result["boundaries"]))


def test_boundaries_start_at_zero_increase_and_end_before_the_duration(
    analysis: Analysis, contract: Contract
) -> None:
    with contract.promise("analyze.boundaries"):
        rules.check_boundaries(analysis.result["boundaries"], analysis.result["duration"])


def test_features_give_one_vector_per_beat_within_zero_and_one(
    analysis: Analysis, contract: Contract
) -> None:
    result = analysis.result
    with contract.promise("analyze.features"):
        assert "features" in result, "raw_features were asked for but no features came back"
        rules.check_feature_vectors(result["features"], len(result["boundaries"]))
    with contract.promise("analyze.feature_values"):
        rules.check_feature_values(result["features"])


def test_tempo_is_a_plausible_integer(analysis: Analysis, contract: Contract) -> None:
    with contract.promise("analyze.tempo"):
        rules.check_tempo(analysis.result["tempo"])


def test_a_second_analysis_of_the_same_file_gives_the_same_result(
    analysis: Analysis, analysis_again: Analysis, contract: Contract
) -> None:
    first = {key: analysis.result[key] for key in COMPARED}
    again = {key: analysis_again.result[key] for key in COMPARED}
    differing = [key for key in COMPARED if first[key] != again[key]]
    contract.check(
        "analyze.deterministic", not differing, f"a second analysis differs in {differing}"
    )
    with contract.promise("analyze.features"):
        assert "features" not in analysis_again.result, "features came back without raw_features"


def test_analyze_credit_cost_follows_a_pricing_rule(
    contract: Contract, analysis: Analysis, analysis_again: Analysis
) -> None:
    for done, rate in ((analysis, "analyze_raw_features"), (analysis_again, "analyze")):
        payload = done.outcome.payload
        minutes = done.result["duration"] / 60
        with contract.promise("credits.rates"):
            matched = rules.matching_rules(payload["creditCost"], minutes, rules.RATES[rate])
            contract.report.note_pricing(rate, matched)
