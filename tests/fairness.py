"""Targets that differ from the mock only where the reference leaves room: each variation is a
`Tamper` for the front of tests/tampering.py, with the reference's sentence that leaves the
difference open (quoted word for word; a test checks each against the reference) and the ledger
rows whose findings the contract suite must report against it.

The contract suite is meant for the live API, which may differ from the mock in any of these
ways without breaking a promise: run against each, it must pass (tests/contract/test_fairness.py).
Breakers that must fail are the other half (tests/breakers.py).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soundfile

from mock_server.contract.conformance import parse_json
from tests.tampering import Edit, Tamper, json_edit

Change = Callable[[dict[str, Any]], None]
SIGNED = "X-Amz-Expires=3600&X-Amz-Signature="
ID_PREFIX = "req_"


@dataclass(frozen=True)
class Variation:
    """One way a target may differ: what leaves it open, the front that makes it, the ledger
    rows the suite reports a finding for (a reading the target departs from)."""

    name: str
    cites: str  # the reference's sentence that leaves the difference open, word for word
    tamper: Tamper
    findings: frozenset[str] = field(default_factory=frozenset)


def everywhere(change: Change) -> Tamper:
    """`change` applied to every JSON document: answers, webhooks and result files alike, so
    the copies of one result still agree."""
    edit = json_edit(lambda name, document: change(document))
    return Tamper(answer=edit, webhook=edit, result=edit)


def is_ack(document: dict[str, Any]) -> bool:
    results = ("result", "failures", "sections")  # a structure answered at once is its result
    return "requestId" in document and not any(name in document for name in results)


def is_error(document: dict[str, Any]) -> bool:
    return document.get("success") is False or "requestId" not in document


def on_acks(change: Change) -> Edit:
    return json_edit(lambda name, document: change(document) if is_ack(document) else None)


def on_errors(change: Change) -> Edit:
    return json_edit(lambda name, document: change(document) if is_error(document) else None)


def analyses(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    result = document.get("result")
    if isinstance(result, dict) and "tempo" in result:
        yield result


def candidates(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    result = document.get("result")
    if isinstance(result, list):
        yield from result


def _status_of_acks(status: int) -> Callable[[str, int, bytes], int]:
    def relabel(route: str, old: int, data: bytes) -> int:
        document = parse_json(data)
        return status if isinstance(document, dict) and is_ack(document) else old

    return relabel


def _status_of_errors(statuses: dict[int, int]) -> Callable[[str, int, bytes], int]:
    return lambda route, status, data: statuses.get(status, status)


def _extra_fields(document: dict[str, Any]) -> None:
    document["region"] = "eu-west-1"
    document["apiVersion"] = "2024-06"


def _float_tempo(document: dict[str, Any]) -> None:
    for result in analyses(document):
        result["tempo"] = result["tempo"] + 0.37


def _wide_features(document: dict[str, Any]) -> None:
    for result in analyses(document):
        if "features" in result:
            result["features"] = [[4 * v - 2 for v in vector] for vector in result["features"]]


def _twelve_features(document: dict[str, Any]) -> None:
    for result in analyses(document):
        if "features" in result:
            result["features"] = [vector[:12] for vector in result["features"]]


def _reversed_candidates(document: dict[str, Any]) -> None:
    if isinstance(document.get("result"), list):
        document["result"].reverse()


def _signed(url: str, signature: str) -> str:
    return f"{url}?{SIGNED}{signature}"


def _resign(signature: str) -> Change:
    def change(document: dict[str, Any]) -> None:
        if isinstance(document.get("resultUrl"), str):
            document["resultUrl"] = _signed(document["resultUrl"], signature)
        if isinstance(document.get("resultUrls"), list):
            document["resultUrls"] = [_signed(url, signature) for url in document["resultUrls"]]
        if isinstance(document.get("failures"), dict):
            failures = document["failures"].items()
            document["failures"] = {_signed(url, signature): why for url, why in failures}

    return change


def _unrounded_duration(document: dict[str, Any]) -> None:
    for candidate in candidates(document):
        spans = sum(end - start for start, end in candidate["segmentsSeconds"])
        candidate["durationSeconds"] = round(spans, 2)


def _scaled_dissimilarity(document: dict[str, Any]) -> None:
    for candidate in candidates(document):
        candidate["dissimilarity"] = candidate["dissimilarity"] * 1.5


def _drifting_second_analysis(document: dict[str, Any]) -> None:
    for result in analyses(document):
        if "features" not in result:
            result["tempo"] += 1


def _renamed_id(value: str) -> str:
    return value if value.startswith(ID_PREFIX) else ID_PREFIX + value


def _renamed_ids(document: dict[str, Any]) -> None:
    request_id = document.get("requestId")
    if not isinstance(request_id, str):
        return
    renamed = _renamed_id(request_id)
    text = json.dumps(document).replace(f"/{request_id}/", f"/{renamed}/")
    document.clear()
    document.update(json.loads(text), requestId=renamed)


def _ids_back(path: str) -> str:
    return path.replace(f"/{ID_PREFIX}", "/", 1)


def wav_edit(seconds: float) -> Edit:
    """WAV files `seconds` longer (silence at the end) or shorter (cut from the end): what a
    crossfade at each join, or a fade-out tail, does to a file's length."""

    def edit(name: str, data: bytes) -> bytes:
        if not name.endswith(".wav"):
            return data
        audio, rate = soundfile.read(io.BytesIO(data), always_2d=True)
        frames = round(abs(seconds) * rate)
        if seconds < 0:
            audio = audio[:-frames]
        else:
            audio = np.concatenate([audio, np.zeros((frames, audio.shape[1]))])
        out = io.BytesIO()
        soundfile.write(out, audio, rate, format="WAV", subtype="PCM_16")
        return out.getvalue()

    return edit


def _error_extras(document: dict[str, Any]) -> None:
    document["code"] = "E_REQUEST"
    document["documentation"] = "https://www.audjust.com/api"


def _error_detail(document: dict[str, Any]) -> None:
    if isinstance(document.get("message"), str):
        document["message"] += ": see the documentation"


def _error_field(document: dict[str, Any]) -> None:
    message = document.pop("message", None)
    document.pop("success", None)
    document["error"] = message


def _ack_text(document: dict[str, Any]) -> None:
    document["message"] = "Your request has been queued."


def _expiring_document(document: dict[str, Any]) -> None:
    document["expiresAt"] = "2031-01-01T00:00:00Z"


_TYPES = {"mp3": "application/octet-stream", "wav": "application/octet-stream"}

VARIATIONS = (
    Variation(
        "ack-status-202",
        "You will get back a response like this immediately:",
        Tamper(status=_status_of_acks(202)),
    ),
    Variation(
        "extra-fields",
        "You will get back a response like this immediately:",
        everywhere(_extra_fields),
    ),
    Variation(
        "ack-message-text",
        "Your request is immediately acknowledged, assigned a requestId, and put in a queue",
        Tamper(answer=on_acks(_ack_text)),
        frozenset({"ack.literals"}),
    ),
    Variation(
        "request-id-format",
        "Your request is immediately acknowledged, assigned a requestId, and put in a queue",
        Tamper(
            answer=json_edit(lambda name, d: _renamed_ids(d)),
            webhook=json_edit(lambda name, d: _renamed_ids(d)),
            result=json_edit(lambda name, d: _renamed_ids(d)),
            result_path=_ids_back,
        ),
        frozenset({"ack.request_id"}),
    ),
    Variation(
        "tempo-float",
        "Estimated tempo in beats per minute (BPM).",
        everywhere(_float_tempo),
        frozenset({"analyze.tempo"}),
    ),
    Variation(
        "features-outside-0-1",
        "The meaning of the features is opaque and may change in the future.",
        everywhere(_wide_features),
        frozenset({"analyze.feature_values"}),
    ),
    Variation(
        "features-12",
        "It will generally have 13 items, but this is not guaranteed.",
        everywhere(_twelve_features),
    ),
    Variation(
        "candidates-reversed",
        "In your application you can use blendedScore to sort the results or build your own metric",
        everywhere(_reversed_candidates),
    ),
    Variation(
        "duration-unrounded",
        "The total duration of the generated audio in seconds.",
        everywhere(_unrounded_duration),
    ),
    Variation(
        "cut-dissimilarity-scaled",
        "This is the sum of the dissimilarity of all cuts and may be greater than 1.",
        everywhere(_scaled_dissimilarity),
    ),
    Variation(
        "second-analysis-differs",
        "Estimated tempo in beats per minute (BPM).",
        everywhere(_drifting_second_analysis),
    ),
    Variation(
        "webhook-repeated",
        "When finished, the results are POSTed to your webhook and the request is marked as "
        "finished",
        Tamper(webhook_copies=2),
    ),
    Variation(
        "result-urls-resigned",
        "The URLs expire, so make sure to download them promptly.",
        Tamper(
            answer=json_edit(lambda name, d: _resign("ack")(d)),
            webhook=json_edit(lambda name, d: _resign("hook")(d)),
        ),
    ),
    Variation(
        "result-document-not-the-webhook",
        "Generated artifacts (like analysis results and exported files) are stored for 30 days "
        "(subject to change).",
        Tamper(result=json_edit(lambda name, d: _expiring_document(d))),
    ),
    Variation(
        "result-content-type",
        "You will need to grab the actual audio files from the URLs provided in the response.",
        Tamper(result_type=lambda name, kind: _TYPES.get(name.rsplit(".", 1)[-1], kind)),
    ),
    Variation(
        "wav-crossfaded-shorter",
        "Generates one or more audio files by stitching together a list of segments",
        Tamper(result=wav_edit(-0.06)),
    ),
    Variation(
        "wav-tail-longer",
        "Generates one or more audio files by stitching together a list of segments",
        Tamper(result=wav_edit(0.05)),
    ),
    Variation(
        "error-extra-fields",
        "When creating a request, you might run into errors. If you do, see the resolution "
        "steps below:",
        Tamper(answer=on_errors(_error_extras)),
    ),
    Variation(
        "error-message-detail",
        "When creating a request, you might run into errors. If you do, see the resolution "
        "steps below:",
        Tamper(answer=on_errors(_error_detail)),
    ),
    Variation(
        "error-in-another-field",
        "When creating a request, you might run into errors. If you do, see the resolution "
        "steps below:",
        Tamper(answer=on_errors(_error_field)),
    ),
    Variation(
        "error-status-422",
        "Missing parameter: Check the parameters you are passing in with the documentation above.",
        Tamper(status=_status_of_errors({400: 422})),
    ),
    Variation(
        "error-statuses-all-400",
        "Invalid API Key: Make sure your API key is not revoked or deleted.",
        Tamper(status=_status_of_errors({401: 400, 402: 400, 403: 400, 405: 400, 404: 400})),
    ),
)
