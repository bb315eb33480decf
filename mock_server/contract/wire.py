"""The wire vocabulary: the reference's words for its API, each written here and nowhere else.

The six error messages the reference lists (sent with exactly this text, and recognised by it in
a target's answers), the header that carries the key, and the routes with the fields each body may
carry and the parameters each requires. The handlers, the fault scenarios, the proxy, the
observations and the contract suite read them here; `schemas/` states the same fields for
validation, and tests/contract/test_wire.py keeps the two equal and scans the package so that
none of these words is written twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mock_server.audio import export, resize, similarity
from mock_server.contract.profile import ErrorName

KEY_HEADER = "X-API-Key"  # the reference's name for the header that carries the key

INVALID_METHOD = "Invalid request method"
MISSING_KEY = "Missing API key header"
INVALID_KEY = "Invalid API Key"
MISSING_PARAMETER = "Missing parameter"
RATE_LIMITED = "Rate limit exceeded"
USAGE_EXCEEDED = "Usage limit exceeded"
# The listed messages, by the profile's name for their error (which sets their status).
LISTED_ERRORS: Mapping[str, ErrorName] = {
    INVALID_METHOD: ErrorName.INVALID_METHOD,
    MISSING_KEY: ErrorName.MISSING_KEY,
    INVALID_KEY: ErrorName.INVALID_KEY,
    MISSING_PARAMETER: ErrorName.MISSING_PARAMETER,
    RATE_LIMITED: ErrorName.RATE_LIMITED,
    USAGE_EXCEEDED: ErrorName.USAGE_EXCEEDED,
}


@dataclass(frozen=True)
class Route:
    """A POST route and the JSON object it takes.

    `fields` is every field the body may carry, in the order a refusal of an unknown field lists
    them; `required` the ones it must carry, the one a forced `missing_parameter` names by
    default first.
    """

    path: str
    fields: tuple[str, ...]
    required: tuple[str, ...]

    @property
    def name(self) -> str:
        """`analyze` for `/analyze`: how schemas, recordings and the proxy's reports name it."""
        return self.path.removeprefix("/")


ANALYZE = Route(
    "/analyze",
    fields=("resultWebhook", "sourceFileUrl", "features"),
    required=("sourceFileUrl", "resultWebhook"),
)
RESIZE = Route(
    "/resize",
    fields=("resultWebhook", "targetLengthSeconds", "similarity", "boundaries"),
    required=("similarity", "boundaries", "targetLengthSeconds"),  # resultWebhook: optional
)
EXPORT = Route(
    "/export",
    fields=("resultWebhook", "sourceFileUrl", "exportFormat", "segmentsGroups"),
    required=("sourceFileUrl", "resultWebhook", "exportFormat", "segmentsGroups"),
)
API_ROUTES = (ANALYZE, RESIZE, EXPORT)
API_PATHS = frozenset(route.path for route in API_ROUTES)
SOURCE_PATHS = frozenset({ANALYZE.path, EXPORT.path})  # their jobs download a source file

# The mock's own route that runs one operation for real (the live API has no such route).
TRIGGER = Route(
    "/_mock/trigger",
    fields=(
        "operation",
        "to",
        "song",
        "source",
        "rawFeatures",
        "format",
        "targetLengthSeconds",
        "failure",
    ),
    required=("operation", "to"),
)

# The engine's names for the parameters it validates (`target_length_seconds`), and the API's:
# what a client is told is wrong names the field as the API spells it (contract/parameters.py).
WIRE_NAMES: Mapping[str, str] = {
    similarity.FIELD: "similarity",
    resize.BOUNDARIES: "boundaries",
    resize.TARGET_LENGTH_SECONDS: "targetLengthSeconds",
    export.FIELD: "segmentsGroups",
}
