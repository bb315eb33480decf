"""The documented error catalogue: one class per error, one envelope for all of them.

Messages start with the reference's own words so clients matching on them behave as in production.
"""

from __future__ import annotations

from typing import Any

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
TOO_LARGE = "Request body too large"
INTERNAL = "Internal error in audjust-mock"


def error_body(message: str) -> dict[str, Any]:
    """The one error envelope every failure is written in."""
    return {"success": False, "message": message}


class ApiError(Exception):
    status = 400
    message = ""

    def __init__(self, detail: str = "", headers: dict[str, str] | None = None) -> None:
        text = f"{self.message}: {detail}" if detail else self.message
        super().__init__(text)
        self.text = text
        self.headers = headers or {}


class InvalidMethod(ApiError):
    status, message = 405, INVALID_METHOD


class MissingKey(ApiError):
    status, message = 401, MISSING_KEY


class InvalidKey(ApiError):
    status, message = 403, INVALID_KEY


class MissingParameter(ApiError):
    status, message = 400, MISSING_PARAMETER


class InvalidParameter(ApiError):
    status, message = 400, INVALID_PARAMETER


class MalformedJson(ApiError):
    status, message = 400, MALFORMED_JSON


class RateLimited(ApiError):
    status, message = 429, RATE_LIMITED


class UsageExceeded(ApiError):
    status, message = 402, USAGE_EXCEEDED


class Forbidden(ApiError):
    status, message = 403, FORBIDDEN


class NotFound(ApiError):
    status, message = 404, NOT_FOUND


class TooLarge(ApiError):
    status, message = 413, TOO_LARGE
