"""The wire format of webhooks and results, written in one place from typed outcomes: the only
place that spells a result's fields as the API does (`blendedScore`, `segmentsSeconds`).

Field names and shapes follow the reference's examples; the failure payload is the mock's
inference (the reference says a failure is notified but shows no payload).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mock_server.audio.resize import Candidate
from mock_server.audio.structure import Structure
from mock_server.jobs.operations import Analyzed, Exported, Given, Outcome, Resized, Structured


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    """One resize candidate as the reference's examples write it, in their key order."""
    return {
        "dissimilarity": candidate.dissimilarity,
        "blendedScore": candidate.blended_score,
        "segmentsBeats": [list(segment) for segment in candidate.segments_beats],
        "segmentsSeconds": [list(segment) for segment in candidate.segments_seconds],
        "durationSeconds": candidate.duration_seconds,
    }


def candidates_json(candidates: Sequence[Candidate]) -> list[dict[str, Any]]:
    """The resize webhook's `result` array."""
    return [candidate_json(candidate) for candidate in candidates]


def sections_json(structure: Structure) -> list[dict[str, int]]:
    """`sections` as the one public client of /structure reads them: `startMs`, `endMs` and
    `label`, integers."""
    return [
        {"startMs": section.start_ms, "endMs": section.end_ms, "label": section.label}
        for section in structure.sections
    ]


def success_payload(request_id: str, source_url: str | None, outcome: Outcome) -> dict[str, Any]:
    """The webhook of a job that succeeded (also its JSON result document)."""
    payload: dict[str, Any] = {"requestId": request_id}
    match outcome:
        case Analyzed():
            payload |= {"sourceFileUrl": source_url, "result": outcome.analysis.to_json()}
        case Resized():
            payload |= {"result": candidates_json(outcome.candidates)}
        case Given():  # a resize has no source, so its webhook no sourceFileUrl
            if source_url is not None:
                payload["sourceFileUrl"] = source_url
            payload[outcome.at] = outcome.document
        case Exported():
            payload |= {
                "sourceFileUrl": source_url,
                "resultUrls": list(outcome.urls),
                "failures": dict(outcome.failures),
            }
        case Structured():  # `sections` at the top level, where the known client reads it
            payload |= {"sourceFileUrl": source_url, "sections": sections_json(outcome.structure)}
    return payload | {"success": True, "creditCost": outcome.credit_cost}


def failure_payload(
    request_id: str,
    source_url: str | None,
    message: str,
    recorded: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The failure webhook: `success: false`, a `message`, and `creditCost: 0`. A replayed
    failure passes its `recorded` payload, so that whatever else the upstream's failure carried
    is sent as it was; the fields above are always the mock's own."""
    payload: dict[str, Any] = dict(recorded or {})
    payload |= {"requestId": request_id, "success": False, "message": message}
    if source_url is not None:
        payload["sourceFileUrl"] = source_url
    payload["creditCost"] = 0
    return payload
