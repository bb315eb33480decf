"""The error catalogue: one class per error, one envelope for all of them.

The reference lists six errors by message (method, key header, key, parameter, rate limit, usage).
Those six are sent with exactly the listed text, so a client that matches on it behaves as it
will live; what the mock knows beyond it (which parameter, which limit) goes in the `X-Mock-Detail`
header and the journal. The reference gives messages, not whole bodies or statuses: the envelope
and the statuses here are the mock's inference and choice. Errors it does not list (invalid values,
malformed JSON, unknown routes) are the mock's own, worded `message: detail`.
"""

from __future__ import annotations

from typing import Any

from mock_server.jobs import FailureReason

INVALID_METHOD = "Invalid request method"
MISSING_KEY = "Missing API key header"
INVALID_KEY = "Invalid API Key"
MISSING_PARAMETER = "Missing parameter"
INVALID_PARAMETER = "Invalid parameter"
MALFORMED_JSON = "Invalid JSON body"
RATE_LIMITED = "Rate limit exceeded"
USAGE_EXCEEDED = "Usage limit exceeded"
NOT_FOUND = "Not found"
FORBIDDEN = "Forbidden"
ALLOW_POST = {"Allow": "POST"}  # RFC 9110: a 405 names the methods that are allowed
# A synchronous resize that fails answers with these (the reference documents no synchronous
# failure at all: the mock's choice).
FAILURE_STATUS = {FailureReason.INTERNAL: 500, FailureReason.TIMED_OUT: 504}
DETAIL_HEADER = "X-Mock-Detail"  # the mock's explanation of a listed error, beside its bare text
MAX_DETAIL_CHARS = 1000
TOO_LARGE = "Request body too large"
INTERNAL = "Internal error in audjust-mock"


def error_body(message: str) -> dict[str, Any]:
    """The one error envelope every failure is written in."""
    return {"success": False, "message": message}


class ApiError(Exception):
    status = 400
    message = ""
    listed = False  # one of the six errors the reference lists by message

    def __init__(self, detail: str = "", headers: dict[str, str] | None = None) -> None:
        text = f"{self.message}: {detail}" if detail else self.message
        super().__init__(text)
        self.text = text
        self.detail = detail
        self.headers = headers or {}

    def wire_message(self, explain: bool) -> str:
        """The `message` sent: a listed error's exact text unless `explain`, else the text with
        the detail after it."""
        return self.text if explain or not self.listed else self.message

    def wire_headers(self) -> dict[str, str]:
        if not self.detail:
            return self.headers
        return {**self.headers, DETAIL_HEADER: header_safe(self.detail)}


def header_safe(text: str) -> str:
    """`text` as one header line: printable ASCII (anything else escaped), bounded."""
    flat = " ".join(text.split())
    return flat.encode("unicode_escape").decode("ascii")[:MAX_DETAIL_CHARS]


class InvalidMethod(ApiError):
    status, message = 405, INVALID_METHOD
    listed = True


class MissingKey(ApiError):
    status, message = 401, MISSING_KEY
    listed = True


class InvalidKey(ApiError):
    status, message = 403, INVALID_KEY
    listed = True


class MissingParameter(ApiError):
    status, message = 400, MISSING_PARAMETER
    listed = True


class InvalidParameter(ApiError):
    status, message = 400, INVALID_PARAMETER


class MalformedJson(ApiError):
    status, message = 400, MALFORMED_JSON


class RateLimited(ApiError):
    status, message = 429, RATE_LIMITED
    listed = True


class UsageExceeded(ApiError):
    status, message = 402, USAGE_EXCEEDED
    listed = True


class Forbidden(ApiError):
    status, message = 403, FORBIDDEN


class NotFound(ApiError):
    status, message = 404, NOT_FOUND


class TooLarge(ApiError):
    status, message = 413, TOO_LARGE
