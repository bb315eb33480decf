"""Upstreams that break the contract one promise at a time: a forwarding proxy in front of a
real mock that rewrites answers. The contract suite's self-test and the checking proxy's tests
both stand it in front of a mock, so the breakers are written once."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

ServerFactory = Callable[..., Awaitable[TestServer]]

FORWARDED = ("host", "x-api-key", "content-type", "range")
Breaker = Callable[[web.Request, dict[str, Any], Any], None]


def misreport_a_segment(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    if request.path == "/resize" and "resultWebhook" not in sent and "result" in answer:
        answer["result"][0]["segmentsSeconds"][0][1] += 0.5


def shorten_the_hosted_similarity(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    if request.path.endswith("/analysis.json") and "result" in answer:
        similarity = answer["result"]["similarity"]
        similarity["data"] = similarity["data"][:-1]


def reword_the_missing_key_error(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    if str(answer.get("message")).startswith("Missing API key header"):
        answer["message"] = "API key required"


def explain_the_invalid_key_error(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    """Not a failure: text after a listed message is reported as a finding."""
    if answer.get("message") == "Invalid API Key":
        answer["message"] = "Invalid API Key: revoked or deleted"


def drop_the_export_ack_message(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    if request.path == "/export" and "resultUrls" in answer:
        del answer["message"]


def reword_the_analyze_ack(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    if request.path == "/analyze" and answer.get("message") == "Request queued.":
        answer["message"] = "Request queued"


BREAKERS = (
    misreport_a_segment,
    shorten_the_hosted_similarity,
    reword_the_missing_key_error,
    explain_the_invalid_key_error,
    drop_the_export_ack_message,
    reword_the_analyze_ack,
)


async def breaking_proxy(aiohttp_server: ServerFactory, upstream: list[str]) -> str:
    """A proxy to `upstream[0]` (set once the target is up) that breaks answers."""
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
        url = upstream[0] + request.path_qs
        async with session.request(request.method, url, headers=headers, data=body) as answer:
            payload, content_type, status = await answer.read(), answer.content_type, answer.status
        if content_type == "application/json":
            try:
                sent = json.loads(body) if body else {}
            except ValueError:
                sent = {}  # the suite's deliberately broken body, passed on as it is
            document = json.loads(payload)
            for breaker in BREAKERS:
                breaker(request, sent, document)
            payload = json.dumps(document).encode()
        return web.Response(status=status, body=payload, content_type=content_type)

    async def close(app: web.Application) -> None:
        await session.close()

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", forward)
    app.on_cleanup.append(close)
    return str((await aiohttp_server(app)).make_url("")).rstrip("/")
