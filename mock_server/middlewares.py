"""Middlewares: every failure in the one JSON envelope, and every API call in the journal."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from mock_server import errors
from mock_server.accounts import mask_key
from mock_server.faults import NO_ANSWER, SCENARIOS
from mock_server.handlers import PARSED_BODY
from mock_server.journal import JournalEntry
from mock_server.jsonbody import loads_strict
from mock_server.services import SERVICES

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API_PATHS = frozenset({"/analyze", "/resize", "/export"})


def _error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(errors.error_body(message), status=status, headers=headers)


def _too_large(request: web.Request) -> web.Response:
    limit = request.app[SERVICES].settings.max_body_bytes
    return _error_response(413, f"{errors.TOO_LARGE}: the limit is {limit} bytes")


@web.middleware
async def error_envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.ApiError as error:
        return _error_response(error.status, error.text, error.headers)
    except web.HTTPRequestEntityTooLarge:
        return _too_large(request)
    except web.HTTPMethodNotAllowed:
        return _error_response(
            405, f"{errors.INVALID_METHOD}: {request.method} is not allowed here"
        )
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
async def journal(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path not in API_PATHS:
        return await handler(request)
    services = request.app[SERVICES]
    started, at = time.perf_counter(), services.clock.now()
    generation = services.journal.generation
    response: web.StreamResponse
    try:
        body = await request.read() if request.can_read_body else b""
    except web.HTTPRequestEntityTooLarge:
        body = b""
        response = _too_large(request)
    else:
        response = await handler(request)
    key = request.headers.get("X-API-Key")
    services.journal.record(
        JournalEntry(
            method=request.method,
            path=request.path,
            key=mask_key(key) if key else None,
            body=_body_summary(request, body),
            status=None if request.get(NO_ANSWER) else response.status,
            at=at,
            duration_ms=(time.perf_counter() - started) * 1000,
            scenarios=tuple(s.describe() for s in request.get(SCENARIOS, ())),
        ),
        generation,
    )
    return response
