"""The engine's two failure kinds: audio it cannot read, and parameters it cannot use.

Neither speaks HTTP: a decode error carries a sentence fit for a failure webhook; a validation
error carries the field in the engine's words (`target_length_seconds`) and what is wrong with it,
and the layer above words it with the field as its users spell it (the web layer as a 400
"Invalid parameter" naming `targetLengthSeconds`, the CLI as a usage error).
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
    """A parameter is unusable: `field` names it in the engine's words, `detail` says why."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail

    def __reduce__(self) -> tuple[type[EngineValidationError], tuple[str, str]]:
        # Raised in a worker process, it is pickled back: rebuilt from both parts, not `args`.
        return type(self), (self.field, self.detail)
