"""Which schema a payload of the mock's answers to, so every test can validate what it sees;
the consistency rules an analysis and its candidates keep live in `mock_server.contract.rules`
and are re-exported here for the tests that import them from this module."""

from __future__ import annotations

from typing import Any

from mock_server.contract.rules import check_analysis, check_candidate
from mock_server.contract.schemas import validate

__all__ = ["check_analysis", "check_candidate", "check_payload", "schema_for"]


def schema_for(document: dict[str, Any]) -> str:
    if document.get("success") is False:
        return "failure-webhook" if "requestId" in document else "error-response"
    if "storageUrl" in document:
        return "upload-response"
    if "sections" in document:
        return "structure-response"
    if "failures" in document:
        return "export-webhook"
    if "resultUrls" in document:
        return "export-queued-response"
    if "resultUrl" in document:
        return "queued-response"
    return "resize-webhook" if isinstance(document.get("result"), list) else "analyze-webhook"


def check_payload(document: dict[str, Any]) -> None:
    validate(schema_for(document), document)
