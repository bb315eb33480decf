"""Which schema a payload of the mock's answers to, so every test can validate what it sees, and
the contract suite's consistency rules that an analysis and its resize candidates keep."""

from __future__ import annotations

from typing import Any

from contract_tests import rules
from mock_server.schemas import validate


def schema_for(document: dict[str, Any]) -> str:
    if document.get("success") is False:
        return "failure-webhook" if "requestId" in document else "error-response"
    if "failures" in document:
        return "export-webhook"
    if "resultUrls" in document:
        return "export-queued-response"
    if "resultUrl" in document:
        return "queued-response"
    return "resize-webhook" if isinstance(document.get("result"), list) else "analyze-webhook"


def check_payload(document: dict[str, Any]) -> None:
    validate(schema_for(document), document)


def check_analysis(result: dict[str, Any]) -> None:
    """Every rule an analysis `result` keeps: one similarity value per pair of beats, within
    its min and max, a diagonal near one, increasing boundaries, one feature vector per beat
    (when features were asked for) and a plausible tempo."""
    beats = len(result["boundaries"])
    rules.check_similarity_length(result["similarity"], beats)
    rules.check_similarity_range(result["similarity"])
    rules.check_similarity_diagonal(result["similarity"], beats)
    rules.check_boundaries(result["boundaries"], result["duration"])
    if "features" in result:
        rules.check_features(result["features"], beats)
    rules.check_tempo(result["tempo"])


def check_candidate(candidate: dict[str, Any], analysis: dict[str, Any]) -> None:
    """Every rule a resize candidate keeps against the analysis it was made from: segments on
    its boundaries, its duration their total, its dissimilarity its cuts'."""
    rules.check_segments_on_boundaries(candidate, analysis["boundaries"])
    rules.check_duration(candidate, analysis["boundaries"])
    rules.check_dissimilarity(candidate, analysis["similarity"])
