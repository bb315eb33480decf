"""The wire format of webhooks and results, written in one place from typed outcomes.

Field names and shapes follow the reference's examples; the failure payload is the mock's
inference (the reference says a failure is notified but shows no payload).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.jobs.operations import Analyzed, Exported, Outcome, Resized


def success_payload(request_id: str, source_url: str | None, outcome: Outcome) -> dict[str, Any]:
    """The webhook of a job that succeeded (also its JSON result document)."""
    payload: dict[str, Any] = {"requestId": request_id}
    match outcome:
        case Analyzed():
            payload |= {"sourceFileUrl": source_url, "result": outcome.result}
        case Resized():
            payload |= {"result": outcome.candidates}
        case Exported():
            payload |= {
                "sourceFileUrl": source_url,
                "resultUrls": list(outcome.urls),
                "failures": dict(outcome.failures),
            }
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
