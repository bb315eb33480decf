"""The request parameters the engine validates: its names for them, and the API's.

The engine names a parameter in its own words (`target_length_seconds`); whoever tells a user of
the API what is wrong with one (the web layer's 400, the CLI's usage error) names it as the API
spells it (`targetLengthSeconds`), through the wire's table (contract/wire.py).
"""

from __future__ import annotations

from mock_server.audio.errors import EngineValidationError
from mock_server.contract.wire import WIRE_NAMES


def wire_name(field: str) -> str:
    """The API's name for the parameter the engine calls `field`."""
    return WIRE_NAMES[field]


def wire_problem(error: EngineValidationError) -> str:
    """`field: detail`, the field as the API spells it: what a client is told is wrong."""
    return f"{wire_name(error.field)}: {error.detail}"
