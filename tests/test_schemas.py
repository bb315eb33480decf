"""The schemas themselves: valid 2020-12, resolvable offline, and strict where the API is."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from jsonschema import Draft202012Validator

from mock_server.schemas import load_schema, schema_dir, validate

NAMES = sorted(p.stem for p in Path(schema_dir()).glob("*.json"))
ID = "z7yzictf6uct4vo9f70buboy97pgstms"


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_is_valid_2020_12_with_an_id(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"/{name}.json")


def test_the_reference_examples_validate() -> None:
    validate(
        "analyze-request",
        {
            "resultWebhook": "https://example.com/audjust-webhook",
            "sourceFileUrl": "https://audjust.com/sample.mp3",
            "features": ["raw_features"],
        },
    )
    validate(
        "queued-response",
        {
            "success": True,
            "message": "Request queued.",
            "requestId": ID,
            "resultUrl": f"https://results.api.audjust.com/{ID}/analysis.json",
        },
    )
    validate(
        "resize-webhook",
        {
            "requestId": ID,
            "result": [
                {
                    "dissimilarity": 0.648936170212766,
                    "blendedScore": -0.050321454605837035,
                    "segmentsBeats": [[0, 50], [287, 291]],
                    "segmentsSeconds": [[0, 29.77], [171.36, 175.24]],
                    "durationSeconds": 34,
                }
            ],
            "success": True,
            "creditCost": 2,
        },
    )
    validate(
        "export-webhook",
        {
            "requestId": ID,
            "sourceFileUrl": "https://audjust.com/sample.mp3",
            "resultUrls": [f"https://results.api.audjust.com/{ID}/export_1.mp3"],
            "failures": {},
            "success": True,
            "creditCost": 1,
        },
    )


@pytest.mark.parametrize(
    ("name", "document"),
    [
        (
            "analyze-request",
            {"resultWebhook": "https://e.com/h", "sourceFileUrl": "https://e.com/a", "extra": 1},
        ),
        (
            "analyze-request",
            {
                "resultWebhook": "https://e.com/h",
                "sourceFileUrl": "https://e.com/a",
                "features": ["mfcc"],
            },
        ),
        (
            "export-request",
            {
                "resultWebhook": "https://e.com/h",
                "sourceFileUrl": "https://e.com/a",
                "exportFormat": "ogg",
                "segmentsGroups": [[[0, 1]]],
            },
        ),
        (
            "export-request",
            {
                "resultWebhook": "https://e.com/h",
                "sourceFileUrl": "https://e.com/a",
                "exportFormat": "wav",
                "segmentsGroups": [[[0, 1, 2]]],
            },
        ),
        (
            "queued-response",
            {"success": True, "message": "m", "requestId": "UPPER", "resultUrl": "https://e.com/r"},
        ),
        ("resize-webhook", {"requestId": ID, "success": True, "creditCost": 1.5, "result": []}),
        ("failure-webhook", {"requestId": ID, "success": False, "message": "x", "creditCost": 3}),
        ("error-response", {"success": True, "message": "x"}),
    ],
)
def test_strict_where_the_reference_is_definite(name: str, document: object) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate(name, document)
