"""Middlewares: every failure in the one JSON envelope, and every API call in the journal."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from mock_server.accounts import mask_key
from mock_server.contract.profile import DetailPlacement, Profile
from mock_server.contract.results import ROUTE_NAME as RESULT_ROUTE
from mock_server.contract.wire import API_PATHS, KEY_HEADER
from mock_server.journal import ExchangeBodies, JournalEntry
from mock_server.jsonbody import loads_strict
from mock_server.sources import is_loopback_host
from mock_server.web import errors
from mock_server.web.calls import ANSWERED, NOTES, PARSED_BODY, REPLAYED, REQUEST_ID
from mock_server.web.faults import NO_ANSWER, SCENARIOS
from mock_server.web.keys import SERVICES
from mock_server.web.namespace import namespace_of, namespace_or_default
from mock_server.web.storage import STORAGE_ROUTE, STORED_BODY

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ADMIN_HEADER = "X-Admin-Token"


def _open_control_route(request: web.Request) -> bool:
    """Routes anyone may use: health checks, the bundled songs, the dashboard's static page (it
    asks for the token itself) and the sinks' receiving end (webhooks, from the mock itself or
    from a peer, carry no token)."""
    path = request.path
    if path == "/_mock/health" or path.startswith(("/_mock/fixtures", "/_mock/ui")):
        return True
    return request.method == "POST" and path.startswith("/_mock/sink/")


def _error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(errors.error_body(message), status=status, headers=headers)


# The control routes are the mock's own: they explain every error and keep their statuses,
# whatever profile the API plays.
CONTROL_PROFILE = Profile(detail=DetailPlacement.MESSAGE)


def _api_error_response(request: web.Request, error: errors.ApiError) -> web.Response:
    """An error as the profile answers it on the API; as the mock does on its control routes."""
    if request.path.startswith("/_mock/"):
        profile = CONTROL_PROFILE
    else:
        profile = request.app[SERVICES].settings.profile
    return _error_response(
        error.wire_status(profile), error.wire_message(profile), error.wire_headers(profile)
    )


def _too_large(request: web.Request) -> web.Response:
    limit = request.app[SERVICES].settings.max_body_bytes
    return _error_response(413, f"{errors.TOO_LARGE}: the limit is {limit} bytes")


@web.middleware
async def error_envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.ApiError as error:
        return _api_error_response(request, error)
    except web.HTTPRequestEntityTooLarge:
        return _too_large(request)
    except web.HTTPMethodNotAllowed as refusal:
        refused = errors.InvalidMethod(
            f"{request.method} is not allowed here", headers={"Allow": refusal.headers["Allow"]}
        )
        return _api_error_response(request, refused)
    except web.HTTPNotFound:
        return _error_response(404, f"{errors.NOT_FOUND}: {request.path}")
    except web.HTTPException as error:
        return _error_response(error.status, error.reason)
    except Exception:
        log.exception("unexpected error handling %s %s", request.method, request.path)
        return _error_response(500, errors.INTERNAL)


def _body_summary(request: web.Request, body: bytes) -> dict[str, object]:
    """Size and top-level field names: enough to find a call, without storing audio analyses."""
    summary: dict[str, object] = {"bytes": len(body)}
    parsed = request.get(PARSED_BODY)
    if parsed is not None:
        summary["fields"] = sorted(parsed)
    elif body[:1] == b"{":
        try:
            summary["fields"] = sorted(loads_strict(body))
        except ValueError:
            summary["fields"] = None
    return summary


@web.middleware
async def guard_control(request: web.Request, handler: Handler) -> web.StreamResponse:
    """/_mock/* can reset state, mint keys and read the journal: with --admin-token it needs that
    token; without one it is served only when the mock listens on loopback."""
    if not request.path.startswith("/_mock/"):
        return await handler(request)
    if not _open_control_route(request):
        _check_access(request)
    namespace_of(request)  # a namespace that is no name is a 400 before the body is read
    return await handler(request)


def _check_access(request: web.Request) -> None:
    settings = request.app[SERVICES].settings
    if settings.admin_token is not None:
        given = request.headers.get(ADMIN_HEADER, "")
        if not hmac.compare_digest(given.encode(), settings.admin_token.encode()):
            raise errors.Forbidden(
                f"{request.path} needs the {ADMIN_HEADER} header (--admin-token)"
            )
    elif not is_loopback_host(settings.host):
        raise errors.Forbidden(
            f"{request.path} is off: the mock listens on {settings.host}, beyond loopback, "
            "and was started without --admin-token"
        )


def _journaled(request: web.Request) -> bool:
    """API calls, result downloads and uploads' PUTs: what a client of the live API would send
    it."""
    name = request.match_info.route.name
    return request.path in API_PATHS or name in (RESULT_ROUTE, STORAGE_ROUTE)


def _is_upload(request: web.Request) -> bool:
    """A PUT to a storage URL: up to the source size cap (200 MB), which its handler reads in
    chunks and the journal never reads (it keeps the size and sha256 the handler saw)."""
    return request.match_info.route.name == STORAGE_ROUTE


def _journal_place(request: web.Request) -> tuple[str, str]:
    """The namespace and path an entry is kept under. A PUT names no namespace: it goes to the
    one its upload was handed out in, with its secret masked as a key is."""
    if not _is_upload(request):
        return namespace_or_default(request), request.path
    secret = request.match_info["secret"]
    namespace = request.app[SERVICES].uploads.namespace_of(secret)
    path = request.path.removesuffix(secret) + mask_key(secret)
    return namespace if namespace is not None else namespace_or_default(request), path


def _exchange(
    body: bytes, response: web.StreamResponse, stored: dict[str, object] | None
) -> ExchangeBodies:
    """The bodies for the dashboard; a streamed answer (a result file) is named, not kept, and
    an upload's bytes are only described (`stored`: their size and hash)."""
    if stored is not None:
        answer = response.body if isinstance(response, web.Response) else None
        return ExchangeBodies.described(stored, answer if isinstance(answer, bytes) else b"")
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        return ExchangeBodies.of(body, response.body)
    named = f"({response.content_type}, streamed)".encode()
    return ExchangeBodies.of(body, named, answer_kept=False)


@web.middleware
async def journal(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _journaled(request):
        return await handler(request)
    services = request.app[SERVICES]
    started, at = time.perf_counter(), services.clock.now()
    namespace, path = _journal_place(request)
    space = services.space(namespace)
    generation = space.journal.generation
    response: web.StreamResponse
    try:
        body = await request.read() if request.can_read_body and not _is_upload(request) else b""
    except web.HTTPRequestEntityTooLarge:
        body = b""
        response = _too_large(request)
    else:
        response = await handler(request)
    key = request.headers.get(KEY_HEADER)
    stored = request.get(STORED_BODY)
    space.journal.record(
        JournalEntry(
            method=request.method,
            path=path,
            key=mask_key(key) if key else None,
            body=_body_summary(request, body) if stored is None else stored,
            status=None if request.get(NO_ANSWER) else response.status,
            at=at,
            duration_ms=(time.perf_counter() - started) * 1000,
            scenarios=tuple(s.describe() for s in request.get(SCENARIOS, ())),
            request_id=request.get(REQUEST_ID),
            detail=response.headers.get(errors.DETAIL_HEADER),
            replayed=request.get(REPLAYED),
            answered=request.get(ANSWERED),
            notes=request.get(NOTES, ()),
        ),
        generation,
        _exchange(body, response, stored),
    )
    return response
