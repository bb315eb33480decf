"""The engine's two failure kinds: audio it cannot read, and parameters it cannot use.

Both carry a message fit to show a client as is; the service turns them into a 400 or a
failure webhook without adding a traceback.
"""

from __future__ import annotations


class AudioEngineError(Exception):
    """Base of every error the engine raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AudioDecodeError(AudioEngineError):
    """The bytes are not audio we can decode, or exceed the decode limits."""


class EngineValidationError(AudioEngineError):
    """A parameter is unusable; `field` names it as the API spells it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"Invalid parameter: {field}: {message}")
        self.field = field
