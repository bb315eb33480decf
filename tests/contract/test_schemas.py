"""The schemas themselves: valid 2020-12, resolvable offline, and strict where the API is."""

from __future__ import annotations

import jsonschema
import pytest
from jsonschema import Draft202012Validator

from mock_server.contract.schemas import OWN_SCHEMAS, load_schema, schema_names, validate

# The OpenAPI documents are checked in test_openapi.py and test_control_openapi.py.
NAMES = schema_names() + sorted(OWN_SCHEMAS)
ID = "z7yzictf6uct4vo9f70buboy97pgstms"


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_is_valid_2020_12_with_an_id(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"/{name}.json")


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
