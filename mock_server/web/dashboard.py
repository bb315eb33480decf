"""The dashboard (docs/dashboard.md): the page and its assets, the live feed it reads, and the
JSON result documents it draws, all under /_mock/.

The feed is a server-sent event stream that looks at the namespace's journal, jobs and webhook
attempts every FEED_TICK_SECONDS and sends only what changed: at most ten updates a second
however busy the API is, and nothing on the API's own path (an idle subscriber costs one cheap
comparison a tick). The page reads it with `fetch`, not `EventSource`, so that the admin token
travels in its header as on every other control route, never in a URL that logs keep.
"""

from __future__ import annotations

import asyncio
import json
from itertools import islice
from pathlib import Path
from typing import Any

from aiohttp import web

from mock_server.contract.results import ANALYSIS, RESIZE, STRUCTURE
from mock_server.jobs.job import Job
from mock_server.journal import ExchangeBodies, JournalEntry
from mock_server.services import Services
from mock_server.web import errors
from mock_server.web.keys import SERVICES
from mock_server.web.namespace import namespace_of, space_of

UI_DIR = Path(__file__).resolve().parent.parent / "data" / "ui"
ASSETS = {"app.js": "text/javascript", "app.css": "text/css"}
FEED_TICK_SECONDS = 0.1


class OpenFeeds:
    """The feeds being served: a stream never ends by itself, so the app's shutdown ends them,
    where aiohttp would otherwise wait its 60 seconds for their handlers before stopping."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[Any]] = set()

    async def end(self, app: web.Application) -> None:
        for task in self.tasks:
            task.cancel()


FEEDS = web.AppKey("dashboard_feeds", OpenFeeds)
SHOWN_JOBS = 50  # the latest jobs the page lists; older ones are in GET /_mock/requests


async def page(request: web.Request) -> web.FileResponse:
    """Static and holding no state, so open to anyone: the page asks for the token itself."""
    return web.FileResponse(UI_DIR / "index.html", headers={"Content-Type": "text/html"})


async def index(request: web.Request) -> web.Response:
    """`GET /` on the API origin: where the mock's own pages are, for whoever opens it in a
    browser (HTML) or asks with curl (JSON). The live API's answer here is not documented."""
    links = {"dashboard": "/_mock/ui", "openapi": "/openapi.json"}
    if "text/html" in request.headers.get("Accept", ""):
        items = "".join(f'<li><a href="{url}">{name}</a></li>' for name, url in links.items())
        html = f"<!doctype html><title>audjust-mock</title><h1>audjust-mock</h1><ul>{items}</ul>"
        return web.Response(text=html, content_type="text/html")
    return web.json_response({"name": "audjust-mock", **links})


async def asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["asset"]
    if name not in ASSETS:
        raise errors.NotFound(f"no dashboard asset {name}")
    return web.FileResponse(UI_DIR / name, headers={"Content-Type": ASSETS[name]})


async def result_document(request: web.Request) -> web.Response:
    """The analysis, resize or structure document a job of this namespace made, from the results
    store, with the waveform summary of the song an analysis or a structure job analysed: the
    page draws them without fetching from the results origin."""
    services = request.app[SERVICES]
    request_id = request.match_info["requestId"]
    job = services.jobs.jobs.get(request_id)
    if job is not None and job.namespace == namespace_of(request):
        now = services.clock.now()
        for name in (ANALYSIS, RESIZE, STRUCTURE):
            stored = services.artifacts.get(request_id, name, now)
            if stored is not None:
                document = json.loads(stored.path.read_bytes())
                peaks = list(job.peaks) if job.peaks else None
                return web.json_response({"document": document, "peaks": peaks})
    raise errors.NotFound(f"no analysis, resize or structure result is kept for {request_id}")


def _jobs(services: Services, namespace: str) -> list[dict[str, Any]]:
    """The namespace's latest jobs, newest first, each with its webhook attempts."""
    latest: list[Job] = list(
        islice(
            (j for j in reversed(services.jobs.jobs.values()) if j.namespace == namespace),
            SHOWN_JOBS,
        )
    )
    attempts: dict[str, list[dict[str, Any]]] = {}
    for attempt in services.webhooks.attempts(namespace):
        shown = attempt.to_json()
        del shown["payload"]  # the result itself is a click away, at /_mock/results/{id}
        attempts.setdefault(attempt.request_id, []).append(shown)
    return [
        {
            "requestId": job.request_id,
            "route": job.route,
            "synchronous": job.synchronous,
            "state": job.state.value,
            "failure": None if job.failure is None else job.failure.value,
            "createdAt": job.created_at,
            "webhook": job.webhook,
            "sourceFileUrl": job.source_url,
            "attempts": attempts.get(job.request_id, []),
        }
        for job in latest
    ]


def _event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    """The live feed: `hello`, then `reset`, `requests` and `jobs` events as things change."""
    stream = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await stream.prepare(request)
    task = asyncio.current_task()
    assert task is not None
    feeds = request.app[FEEDS]
    feeds.tasks.add(task)
    try:
        await _follow(request, stream)
    except ConnectionResetError:
        pass  # the page went away: a feed ends when its reader does
    finally:
        feeds.tasks.discard(task)
    return stream


async def _follow(request: web.Request, stream: web.StreamResponse) -> None:
    """Send what changes in the namespace, one tick at a time, until the client goes."""
    services = request.app[SERVICES]
    namespace, journal = namespace_of(request), space_of(request).journal
    await stream.write(_event("hello", {"namespace": namespace, "time": services.clock.now()}))
    generation, sent, jobs_sent = journal.generation, 0, None
    while True:
        if journal.generation != generation:
            generation = journal.generation
            await stream.write(_event("reset", {}))
        if journal.recorded != sent:
            fresh = journal.since(sent)
            sent = journal.recorded
            await stream.write(_event("requests", [_numbered(*each) for each in fresh]))
        jobs = _jobs(services, namespace)
        if jobs != jobs_sent:
            jobs_sent = jobs
            await stream.write(_event("jobs", jobs))
        await asyncio.sleep(FEED_TICK_SECONDS)


def _numbered(number: int, entry: JournalEntry, exchange: ExchangeBodies | None) -> dict[str, Any]:
    return {
        "number": number,
        **entry.to_json(),
        "exchange": exchange.to_json() if exchange else None,
    }


def add_routes(app: web.Application) -> None:
    app[FEEDS] = OpenFeeds()
    app.on_shutdown.append(app[FEEDS].end)
    app.router.add_get("/", index)
    app.router.add_get("/_mock/ui", page)
    app.router.add_get("/_mock/ui/{asset}", asset)
    app.router.add_get("/_mock/events", events)
    app.router.add_get("/_mock/results/{requestId}", result_document)
