"""The HTTP side of fault injection: picks each request's scenarios, forces documented errors and
breaks the exchange itself (500, an HTML 502, a reset, cut JSON, latency).

Job and delivery scenarios are only noted on the request here; the jobs and the webhook
dispatcher act on them.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable

from aiohttp import web

from mock_server.contract.wire import API_ROUTES, KEY_HEADER
from mock_server.faults.catalogue import Fault, Phase, route_of, scenario_note
from mock_server.faults.scenario import HEADER, Scenario, ScenarioError, parse_header
from mock_server.web import errors
from mock_server.web.namespace import space_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SCENARIOS = web.RequestKey("scenarios", list[Scenario])
NO_ANSWER = web.RequestKey("no_answer", bool)  # the connection was reset instead
# The parameter a forced missing_parameter names unless told: each route's first required one.
FIRST_REQUIRED = {route.path: route.required[0] for route in API_ROUTES if route.required}
ROUTES = {route.path: route for route in API_ROUTES}
BAD_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def forced_error(scenario: Scenario, route: str) -> errors.ApiError:
    """The documented error a gate scenario stands for."""
    forced = f"forced {scenario_note(scenario.fault)}"
    match scenario.fault:
        case Fault.INVALID_METHOD:
            return errors.invalid_method(ROUTES[route], forced)
        case Fault.MISSING_KEY:
            return errors.MissingKey(forced)
        case Fault.INVALID_KEY:
            return errors.InvalidKey(forced)
        case Fault.MISSING_PARAMETER:
            name = scenario.text("name") or FIRST_REQUIRED[route]
            return errors.MissingParameter(f"{name} ({forced})")
        case Fault.RATE_LIMITED:
            seconds = max(1, round(scenario.number("retry_after")))
            return errors.RateLimited(forced, headers={"Retry-After": str(seconds)})
        case Fault.USAGE_EXCEEDED:
            return errors.UsageExceeded(forced)
    raise AssertionError(f"{scenario.fault} is not a gate scenario")


def _reset_connection(request: web.Request) -> None:
    """Close with a TCP RST, as a crashed peer or a proxy does, rather than a clean FIN."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _broken_answer(request: web.Request, scenario: Scenario) -> web.Response:
    note = scenario_note(scenario.fault)
    if scenario.fault is Fault.SERVER_ERROR:
        return web.json_response(errors.error_body(f"Internal server error {note}"), status=500)
    if scenario.fault is Fault.BAD_GATEWAY:
        return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")
    _reset_connection(request)
    request[NO_ANSWER] = True
    return web.Response(status=204)  # never written: the transport is gone


def _cut_in_half(response: web.StreamResponse) -> web.StreamResponse:
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return response
    body = response.body
    return web.Response(
        status=response.status,
        body=body[: len(body) // 2],
        content_type="application/json",
        headers={k: v for k, v in response.headers.items() if k == "Retry-After"},
    )


def _choose(request: web.Request, route: str) -> list[Scenario]:
    chosen: list[Scenario] = []
    header = request.headers.get(HEADER)
    if header:
        try:
            chosen = parse_header(header, route)
        except ScenarioError as problem:
            raise errors.InvalidParameter(f"{HEADER} header: {problem}") from problem
    book = space_of(request).scenarios
    return chosen + book.take(route, request.headers.get(KEY_HEADER))


@web.middleware
async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = route_of(request.path, request.match_info.route.name)
    if route is None:
        return await handler(request)
    chosen = _choose(request, route)
    request[SCENARIOS] = chosen
    if not chosen:
        return await handler(request)
    for scenario in chosen:
        if scenario.spec.phase is Phase.GATE:
            raise forced_error(scenario, route)
    transport = [s for s in chosen if s.spec.phase is Phase.TRANSPORT]
    for scenario in transport:
        if "processed" in scenario.params and not scenario.number("processed"):
            return _broken_answer(request, scenario)
    response = await handler(request)
    for scenario in transport:
        if "processed" in scenario.params:
            return _broken_answer(request, scenario)
        if scenario.fault is Fault.MALFORMED_JSON:
            response = _cut_in_half(response)
        elif scenario.fault is Fault.LATENCY:
            await asyncio.sleep(scenario.number("seconds"))
    return response
