"""An upstream that breaks one promise of the contract on purpose: a real mock behind a front
that can change what the client sends it, what it answers, the webhooks it posts and the result
files it serves. The checking proxy's rule tests stand it upstream of the proxy, so that every
rule the proxy knows is seen to fire on traffic that really went over sockets.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from mock_server.contract.conformance import parse_json
from mock_server.contract.wire import API_ROUTES
from mock_server.web.keys import SERVICES

ServerFactory = Callable[..., Awaitable[TestServer]]
MakeMock = Callable[..., Awaitable[TestClient[Any, Any]]]
# (route, or a result file's name; the bytes passing) -> the bytes passed on, or None for a 404.
Edit = Callable[[str, bytes], bytes | None]
# (route, the status, the body passed on) -> the status passed on.
Relabel = Callable[[str, int, bytes], int]
# (a result file's name, its Content-Type) -> the Content-Type passed on.
Retype = Callable[[str, str], str]
HOOKS = "/_front/hooks"


def unchanged(name: str, data: bytes) -> bytes:
    return data


def same_status(route: str, status: int, data: bytes) -> int:
    return status


def same_type(name: str, content_type: str) -> str:
    return content_type


def same_path(path: str) -> str:
    return path


def json_edit(change: Callable[[str, dict[str, Any]], None]) -> Edit:
    """An edit that changes the JSON object in place (any other body passes unchanged)."""

    def edit(name: str, data: bytes) -> bytes:
        document = parse_json(data)
        if not isinstance(document, dict):
            return data
        change(name, document)
        return json.dumps(document).encode()

    return edit


@dataclass(frozen=True)
class Tamper:
    """What the front changes: each edit sees every body of its kind, and changes the ones it
    is written for."""

    request: Edit = unchanged  # a client's request body, before the mock sees it
    answer: Edit = unchanged  # the mock's answer
    webhook: Edit = unchanged  # each webhook the mock posts
    result: Edit = unchanged  # each result file the mock serves (by file name)
    status: Relabel = same_status  # the status of each of the mock's answers (by route)
    result_type: Retype = same_type  # the Content-Type of each result file (by file name)
    # a result URL's path as the client has it -> the path the mock serves it at (a front that
    # renames request ids maps them back here); the query is never passed on
    result_path: Callable[[str], str] = same_path
    webhook_copies: int = 1  # how many times each webhook is passed on


@dataclass
class Front:
    """A running tampering upstream: the API origin to give the proxy, and the mock behind."""

    origin: str
    mock: TestClient[Any, Any]
    # hook number -> (the request's route, the webhook URL it gave)
    webhooks: dict[int, tuple[str, str]] = field(default_factory=dict)


async def tampering_upstream(
    aiohttp_server: ServerFactory, make_mock: MakeMock, tamper: Tamper, **settings: Any
) -> Front:
    """A mock (with `settings`) behind a front that applies `tamper`. Result URLs point at a
    second front, on an origin of its own as the reference has them."""
    session = aiohttp.ClientSession()
    results_behind: list[str] = []

    async def result(request: web.Request) -> web.Response:
        async with session.get(results_behind[0] + tamper.result_path(request.path)) as answer:
            status, data, kind = answer.status, await answer.read(), answer.content_type
        name = request.path.rsplit("/", 1)[-1]
        if status == 200:
            edited = tamper.result(name, data)
            if edited is None:
                return web.Response(status=404, text="tampered away")
            data, kind = edited, tamper.result_type(name, kind)
        return web.Response(status=status, body=data, content_type=kind)

    async def stored(request: web.Request) -> web.Response:
        """An upload's PUT to its storageUrl (on the results origin), passed on as it came: a
        variation changes what the API answers, not what a client stores."""
        kind = request.headers.get("Content-Type")
        async with session.put(
            results_behind[0] + request.path,
            data=await request.read(),
            headers={"Content-Type": kind} if kind else {},
            skip_auto_headers=("Content-Type",),
        ) as answer:
            return web.Response(status=answer.status, body=await answer.read())

    results_app = web.Application(client_max_size=64 * 1024 * 1024)
    results_app.router.add_get("/{path:.*}", result)
    results_app.router.add_put("/{path:.*}", stored)
    results_front = await aiohttp_server(results_app)
    mock = await make_mock(results_url=str(results_front.make_url("")).rstrip("/"), **settings)
    results_behind.append(f"http://127.0.0.1:{mock.app[SERVICES].results_port}")
    front = Front("", mock)

    async def forward(request: web.Request) -> web.Response:
        route = request.match_info["route"]
        body = tamper.request(route, _hooked(front, route, await request.read())) or b""
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("x-api-key",)}
        headers["Content-Type"] = "application/json"
        async with mock.request(request.method, f"/{route}", data=body, headers=headers) as got:
            status, data = got.status, await got.read()
        edited = tamper.answer(route, data) or b""
        kind = "application/json" if parse_json(edited) is not None else "text/html"
        return web.Response(
            status=tamper.status(route, status, edited), body=edited, content_type=kind
        )

    async def webhook(request: web.Request) -> web.Response:
        route, target = front.webhooks[int(request.match_info["number"])]
        data = tamper.webhook(route, await request.read()) or b""
        headers = {"Content-Type": "application/json"}
        for _ in range(tamper.webhook_copies):
            async with session.post(target, data=data, headers=headers) as answer:
                status, body = answer.status, await answer.read()
        return web.Response(status=status, body=body)

    async def close(app: web.Application) -> None:
        await session.close()

    app = web.Application()
    routes = "|".join(route.name for route in API_ROUTES)
    app.router.add_route("*", f"/{{route:{routes}}}", forward)
    app.router.add_post(HOOKS + "/{number:[0-9]+}", webhook)
    app.on_cleanup.append(close)
    server = await aiohttp_server(app)
    front.origin = str(server.make_url("")).rstrip("/")
    return front


def _hooked(front: Front, route: str, body: bytes) -> bytes:
    """The body with its webhook pointed at the front, which passes each one on (edited)."""
    document = parse_json(body)
    if not isinstance(document, dict) or not isinstance(document.get("resultWebhook"), str):
        return body
    number = len(front.webhooks) + 1
    front.webhooks[number] = route, document["resultWebhook"]
    document["resultWebhook"] = f"{front.origin}{HOOKS}/{number}"
    return json.dumps(document).encode()
