"""The request parameters the engine validates: its names for them, and the API's.

The engine names a parameter in its own words (`target_length_seconds`); whoever tells a user of
the API what is wrong with one (the web layer's 400, the CLI's usage error) names it as the API
spells it (`targetLengthSeconds`), through this table.
"""

from __future__ import annotations

from collections.abc import Mapping

from mock_server.audio import export, resize, similarity
from mock_server.audio.errors import EngineValidationError

WIRE_NAMES: Mapping[str, str] = {
    similarity.FIELD: "similarity",
    resize.BOUNDARIES: "boundaries",
    resize.TARGET_LENGTH_SECONDS: "targetLengthSeconds",
    export.FIELD: "segmentsGroups",
}


def wire_name(field: str) -> str:
    """The API's name for the parameter the engine calls `field`."""
    return WIRE_NAMES[field]


def wire_problem(error: EngineValidationError) -> str:
    """`field: detail`, the field as the API spells it: what a client is told is wrong."""
    return f"{wire_name(error.field)}: {error.detail}"
