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

from mock_server import uploads
from mock_server.contract.profile import OPTIONAL_HEADERS, DetailPlacement, ErrorName, Profile
from mock_server.contract.wire import (
    INVALID_KEY,
    INVALID_METHOD,
    MISSING_KEY,
    MISSING_PARAMETER,
    RATE_LIMITED,
    USAGE_EXCEEDED,
    Route,
)
from mock_server.jobs.job import FailureReason

# The listed messages are the wire's (contract/wire.py); these are the mock's own.
INVALID_PARAMETER = "Invalid parameter"
MALFORMED_JSON = "Invalid JSON body"
NOT_FOUND = "Not found"
FORBIDDEN = "Forbidden"
# The profile's error for a synchronous resize that fails (the reference documents no
# synchronous failure at all).
FAILURE_ERROR = {
    FailureReason.INTERNAL: ErrorName.RESIZE_FAILED,
    FailureReason.TIMED_OUT: ErrorName.RESIZE_TIMED_OUT,
}
# A synchronous structure's failure, whatever its reason: a 4xx by default (the issue that added
# the route settled it: a client such as the known one treats any status of 400 or more as a
# failure, and a 5xx would read as the mock's own crash).
STRUCTURE_FAILURE_ERROR = dict.fromkeys(FailureReason, ErrorName.STRUCTURE_FAILED)
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


def invalid_method(route: Route, why: str = "") -> InvalidMethod:
    """The refusal of a method `route` does not serve, naming the ones it does (in Allow, as
    RFC 9110 asks of a 405)."""
    methods = " or ".join(route.methods)
    detail = f"use {methods} for {route.path}" + (f" ({why})" if why else "")
    return InvalidMethod(detail, headers={"Allow": ", ".join(route.methods)})


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


class UploadMissing(NotFound):
    """A storage or retrieval URL the store never handed out, or a retrieval before its PUT."""


class UploadExpired(ApiError):
    """A retrieval URL past its hour, or removed by a reset: the status is the profile's, since
    the live API's is not known (403, 404 and 410 are all plausible)."""

    name, message = ErrorName.UPLOAD_EXPIRED, "Upload expired"


class EmptyUpload(ApiError):
    status, message = 400, "Empty upload"


class UploadStoreFull(ApiError):
    status, message = 413, "Upload store full"


class TooManyUploads(ApiError):
    """`GET /upload` while as many uploads are handed out as the store keeps: a wait (they
    expire) or a reset frees them, hence 429."""

    status, message = 429, "Too many uploads"


_UPLOAD_ERRORS: dict[str, type[ApiError]] = {
    uploads.UNKNOWN: UploadMissing,
    uploads.NOT_YET: UploadMissing,
    uploads.EXPIRED: UploadExpired,
    uploads.EMPTY: EmptyUpload,
    uploads.TOO_LARGE: TooLarge,
    uploads.FULL: UploadStoreFull,
    uploads.SLOTS: TooManyUploads,
}


def upload_error(problem: uploads.UploadProblem) -> ApiError:
    """The answer to a storage or retrieval request the upload store refused."""
    return _UPLOAD_ERRORS[problem.kind](problem.message)
