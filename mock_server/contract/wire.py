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
    """An API route, the methods it serves and the JSON object it takes.

    `fields` is every field the body may carry, in the order a refusal of an unknown field lists
    them; `required` the ones it must carry, the one a forced `missing_parameter` names by
    default first. `methods`: the reference's first page said every request POSTs; the newer
    overview says "a GET request or POST request", without saying which route takes which, so
    which methods a route serves is the mock's choice (the ledger's `request.methods`), led by the
    one public client: `GET /upload`, `POST /structure`.
    """

    path: str
    fields: tuple[str, ...]
    required: tuple[str, ...]
    methods: tuple[str, ...] = ("POST",)

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
# The newer overview's two routes. Structure's fields are those the known client sends and the
# webhook the mock's own pattern for resize (synchronous without it, queued with it); upload takes
# no parameters: it hands out a storage URL and a retrieval URL.
STRUCTURE = Route(
    "/structure",
    fields=("sourceFileUrl", "resultWebhook"),
    required=("sourceFileUrl",),  # resultWebhook: optional (profile key structure.calls)
)
UPLOAD = Route("/upload", fields=(), required=(), methods=("GET", "POST"))
API_ROUTES = (ANALYZE, RESIZE, EXPORT, STRUCTURE, UPLOAD)
API_PATHS = frozenset(route.path for route in API_ROUTES)
BY_NAME: Mapping[str, Route] = {route.name: route for route in API_ROUTES}  # "upload" -> UPLOAD
JOB_ROUTES = (ANALYZE, RESIZE, EXPORT, STRUCTURE)  # each request is a job (upload's is not)
JOB_PATHS = frozenset(route.path for route in JOB_ROUTES)
# Their jobs download a source file.
SOURCE_PATHS = frozenset({ANALYZE.path, EXPORT.path, STRUCTURE.path})

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
