"""The error catalogue: one class per error, one envelope for all of them.

The reference lists six errors by message (method, key header, key, parameter, rate limit, usage).
Those six are sent with exactly the listed text, so a client that matches on it behaves as it
will live; what the mock knows beyond it (which parameter, which limit) goes in the `X-Mock-Detail`
header and the journal. The reference gives messages, not whole bodies or statuses: the
envelope is the mock's inference, and the statuses of the API's errors are the profile's
(`Profile.errors`), whose defaults are the mock's choice. Errors it does not list (invalid
values, malformed JSON, unknown routes) are the mock's own, worded `message: detail`.
"""

from __future__ import annotations

from typing import Any

from mock_server.contract.profile import OPTIONAL_HEADERS, DetailPlacement, ErrorName, Profile
from mock_server.contract.wire import (
    INVALID_KEY,
    INVALID_METHOD,
    MISSING_KEY,
    MISSING_PARAMETER,
    RATE_LIMITED,
    USAGE_EXCEEDED,
)
from mock_server.jobs.job import FailureReason

# The listed messages are the wire's (contract/wire.py); these are the mock's own.
INVALID_PARAMETER = "Invalid parameter"
MALFORMED_JSON = "Invalid JSON body"
NOT_FOUND = "Not found"
FORBIDDEN = "Forbidden"
ALLOW_POST = {"Allow": "POST"}  # RFC 9110: a 405 names the methods that are allowed
# The profile's error for a synchronous resize that fails (the reference documents no
# synchronous failure at all).
FAILURE_ERROR = {
    FailureReason.INTERNAL: ErrorName.RESIZE_FAILED,
    FailureReason.TIMED_OUT: ErrorName.RESIZE_TIMED_OUT,
}
DETAIL_HEADER = "X-Mock-Detail"  # the mock's explanation of a listed error, beside its bare text
MAX_DETAIL_CHARS = 1000
TOO_LARGE = "Request body too large"
INTERNAL = "Internal error in audjust-mock"


def error_body(message: str) -> dict[str, Any]:
    """The one error envelope every failure is written in."""
    return {"success": False, "message": message}


class ApiError(Exception):
    status = 400  # the mock's own errors; a named one's status is the profile's
    name: ErrorName | None = None  # the API error a profile sets the status of
    message = ""
    listed = False  # one of the six errors the reference lists by message

    def __init__(self, detail: str = "", headers: dict[str, str] | None = None) -> None:
        text = f"{self.message}: {detail}" if detail else self.message
        super().__init__(text)
        self.text = text
        self.detail = detail
        self.headers = headers or {}

    def wire_message(self, profile: Profile) -> str:
        """The `message` sent: a listed error's exact text, unless the profile puts the detail
        in the message; anything else's text with the detail after it."""
        explain = profile.detail is DetailPlacement.MESSAGE
        return self.text if explain or not self.listed else self.message

    def wire_status(self, profile: Profile) -> int:
        return self.status if self.name is None else profile.error(self.name).status

    def wire_headers(self, profile: Profile) -> dict[str, str]:
        """The error's headers, less the optional ones the profile does not send, and the
        detail."""
        headers = self.headers
        if self.name is not None:
            dropped = set(OPTIONAL_HEADERS.get(self.name, ())) - set(
                profile.error(self.name).headers
            )
            headers = {name: value for name, value in headers.items() if name not in dropped}
        if not self.detail:
            return headers
        return {**headers, DETAIL_HEADER: header_safe(self.detail)}


def header_safe(text: str) -> str:
    """`text` as one header line: printable ASCII (anything else escaped), bounded."""
    flat = " ".join(text.split())
    return flat.encode("unicode_escape").decode("ascii")[:MAX_DETAIL_CHARS]


class InvalidMethod(ApiError):
    name, message = ErrorName.INVALID_METHOD, INVALID_METHOD
    listed = True


class MissingKey(ApiError):
    name, message = ErrorName.MISSING_KEY, MISSING_KEY
    listed = True


class InvalidKey(ApiError):
    name, message = ErrorName.INVALID_KEY, INVALID_KEY
    listed = True


class MissingParameter(ApiError):
    name, message = ErrorName.MISSING_PARAMETER, MISSING_PARAMETER
    listed = True


class InvalidParameter(ApiError):
    name, message = ErrorName.INVALID_PARAMETER, INVALID_PARAMETER


class MalformedJson(ApiError):
    name, message = ErrorName.MALFORMED_JSON, MALFORMED_JSON


class RateLimited(ApiError):
    name, message = ErrorName.RATE_LIMITED, RATE_LIMITED
    listed = True


class UsageExceeded(ApiError):
    name, message = ErrorName.USAGE_EXCEEDED, USAGE_EXCEEDED
    listed = True


class Forbidden(ApiError):
    status, message = 403, FORBIDDEN


class NotFound(ApiError):
    status, message = 404, NOT_FOUND


class ResultMissing(NotFound):
    """A result URL with nothing behind it: pending, failed or expired."""

    name = ErrorName.RESULT_MISSING


class TooLarge(ApiError):
    status, message = 413, TOO_LARGE
