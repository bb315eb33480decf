"""Typed errors for the Audjust API.

The reference names its errors by message ("Invalid API Key", "Rate limit exceeded", ...) but not
by HTTP status, so a response is classified by the message first and by the status only when the
message is not one of the documented ones (the statuses below are the ones the mock uses).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

DETAIL_HEADER = "X-Mock-Detail"


class AudjustError(Exception):
    """Anything the Audjust API refused or failed to do. `status` is the HTTP status, or None
    when there was no HTTP answer (a connection reset, a timeout, a failure webhook)."""

    default_status: ClassVar[int | None] = None

    def __init__(self, message: str, status: int | None = None) -> None:
        self.message = message
        self.status = status if status is not None else self.default_status
        super().__init__(f"{message} (HTTP {self.status})" if self.status else message)


class InvalidRequestMethod(AudjustError):
    default_status = 405


class MissingApiKey(AudjustError):
    default_status = 401


class InvalidApiKey(AudjustError):
    default_status = 403


class BadRequest(AudjustError):
    """A 400: the request itself is wrong; sending it again will not help.

    The reference's "Missing parameter" does not say which one. `detail` holds the server's
    explanation when it sends one (audjust-mock's `X-Mock-Detail` header; the live API documents
    none), for logs and for `parameter`."""

    default_status = 400

    def __init__(self, message: str, status: int | None = None, detail: str | None = None) -> None:
        super().__init__(message, status)
        self.detail = detail

    @property
    def parameter(self) -> str | None:
        """The parameter named by the message ('Invalid parameter: boundaries ...') or, failing
        that, by the detail ('boundaries'); None when neither names one."""
        match = re.match(r"[^:]*:\s*([A-Za-z_][A-Za-z0-9_]*)", self.message)
        if match:
            return match.group(1)
        named = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\b", self.detail or "")
        return named.group(1) if named else None


class MissingParameter(BadRequest):
    pass


class InvalidParameter(BadRequest):
    pass


class UsageLimitExceeded(AudjustError):
    default_status = 402


class RateLimited(AudjustError):
    """A 429. `retry_after` is the server's Retry-After in seconds, None when it sent none."""

    default_status = 429

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class ResultNotFound(AudjustError):
    """A result URL answered 404: the result is still pending, the request failed, or the
    link expired (the reference keeps artifacts for 30 days)."""

    default_status = 404


class TransientError(AudjustError):
    """No usable answer: a 5xx, a body that is not JSON (an HTML 502 from a proxy), a truncated
    JSON body, a connection reset or a timeout. Worth retrying.

    `ambiguous` is True when the server may have acted on the request before the failure (a
    reset after sending, a read timeout, a malformed 200): retrying a POST then may create a
    second job. It is False only when the request certainly never reached the server.
    """

    def __init__(self, message: str, status: int | None = None, *, ambiguous: bool = True) -> None:
        super().__init__(message, status)
        self.ambiguous = ambiguous


class ResultTimeout(AudjustError, TimeoutError):
    """A queued request produced no result before the deadline. The reference: "Requests will
    not take longer than 7 minutes to complete. You can consider a request failed if it takes
    longer than that." """


class JobFailed(AudjustError):
    """A request was taken and then failed (`"success": false` with its requestId): a queued one
    in its failure webhook, a synchronous one (structure) in its answer, under a 4xx status
    Audjust does not document (`status`)."""

    def __init__(
        self, message: str, request_id: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, status)
        self.request_id = request_id


class ExportFailed(JobFailed):
    """One export group failed: its URL is in the webhook's `failures`."""

    def __init__(self, message: str, request_id: str | None, url: str) -> None:
        super().__init__(message, request_id)
        self.url = url


# The reference's own words, most specific first.
_BY_MESSAGE: tuple[tuple[str, type[AudjustError]], ...] = (
    ("Invalid request method", InvalidRequestMethod),
    ("Missing API key header", MissingApiKey),
    ("Invalid API Key", InvalidApiKey),
    ("Missing parameter", MissingParameter),
    ("Invalid parameter", InvalidParameter),
    ("Rate limit exceeded", RateLimited),
    ("Usage limit exceeded", UsageLimitExceeded),
)
_BY_STATUS: dict[int, type[AudjustError]] = {
    400: BadRequest,
    401: MissingApiKey,
    402: UsageLimitExceeded,
    403: InvalidApiKey,
    404: ResultNotFound,
    405: InvalidRequestMethod,
    429: RateLimited,
}


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; None when absent or not a number of seconds. (HTTP also allows a
    date; Audjust documents neither form, and a client that guesses a date wrong waits hours.)"""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def error_from_response(
    status: int, body: Any, text: str, headers: Mapping[str, str]
) -> AudjustError:
    """The typed error for a response that was not a success."""
    if status >= 500:
        detail = body.get("message") if isinstance(body, dict) else None
        return TransientError(str(detail or _snippet(text) or "server error"), status)
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str):
        message = _snippet(text) or f"HTTP {status}"
    cls = next((c for prefix, c in _BY_MESSAGE if message.startswith(prefix)), None)
    request_id = body.get("requestId") if isinstance(body, dict) else None
    if cls is None and isinstance(request_id, str):
        # Refusals carry no requestId; a request that was taken and then failed does.
        return JobFailed(message, request_id, status)
    cls = cls or _BY_STATUS.get(status, AudjustError)
    if cls is RateLimited:
        return RateLimited(message, status, parse_retry_after(headers.get("Retry-After")))
    if issubclass(cls, BadRequest):
        return cls(message, status, headers.get(DETAIL_HEADER))
    return cls(message, status)


def _snippet(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."
