"""The routes beside the API: /_mock/* (health, the journal, webhook attempts, reset, the clock,
keys, sinks, bundled songs, fault scenarios) and the contract at /openapi.json."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from mock_server import errors
from mock_server.accounts import Plan
from mock_server.scenarios import CATALOGUE, Arming
from mock_server.schemas import bundled_openapi
from mock_server.services import SERVICES


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return web.json_response({"status": "ok", "time": services.clock.now()})


async def requests(request: web.Request) -> web.Response:
    entries = request.app[SERVICES].journal.entries()
    return web.json_response([entry.to_json() for entry in entries])


async def webhooks(request: web.Request) -> web.Response:
    attempts = request.app[SERVICES].webhooks.attempts()
    return web.json_response([attempt.to_json() for attempt in attempts])


async def reset(request: web.Request) -> web.Response:
    request.app[SERVICES].reset()
    return web.json_response({"success": True})


async def advance_clock(request: web.Request) -> web.Response:
    try:
        seconds = json.loads(await request.read())["seconds"]
    except (ValueError, KeyError, TypeError) as error:
        raise errors.MissingParameter("seconds") from error
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
        raise errors.InvalidParameter("seconds must be a number >= 0")
    clock = request.app[SERVICES].clock
    clock.advance(float(seconds))
    return web.json_response({"success": True, "time": clock.now()})


async def sink_record(request: web.Request) -> web.Response:
    try:
        payload = json.loads(await request.read())
    except ValueError as error:
        raise errors.MalformedJson("a webhook sink takes a JSON body") from error
    request.app[SERVICES].sinks.record(request.match_info["name"], payload)
    return web.json_response({"success": True})


async def sink_received(request: web.Request) -> web.Response:
    return web.json_response(request.app[SERVICES].sinks.received(request.match_info["name"]))


# The committed fixture songs, shipped in the wheel: sources that need no file server.
SONG_DIR = Path(__file__).resolve().parent / "data" / "songs"


def song_names() -> list[str]:
    return sorted(path.name for path in SONG_DIR.glob("*.mp3"))


def song_file(name: str) -> str:
    """The file name of the bundled song `name` (`pop_120` or `pop_120.mp3`); LookupError
    naming the songs there are otherwise."""
    file_name = name if name.endswith(".mp3") else f"{name}.mp3"
    names = song_names()
    if file_name not in names:
        raise LookupError(f"no fixture song {name!r}; there are {', '.join(names)}")
    return file_name


async def fixtures(request: web.Request) -> web.Response:
    return web.json_response(song_names())


async def fixture_song(request: web.Request) -> web.FileResponse:
    try:
        file_name = song_file(request.match_info["name"])
    except LookupError as error:
        raise errors.NotFound(str(error)) from error
    return web.FileResponse(SONG_DIR / file_name, headers={"Content-Type": "audio/mpeg"})


async def add_key(request: web.Request) -> web.Response:
    """Accept one more API key, on a plan (default enterprise), until the next reset."""
    try:
        body = json.loads(await request.read())
        key, plan = body["key"], body.get("plan", Plan.ENTERPRISE.value)
    except (ValueError, KeyError, TypeError) as error:
        raise errors.MissingParameter("key") from error
    if not isinstance(key, str) or not key:
        raise errors.InvalidParameter("key must be a non-empty string")
    try:
        chosen = Plan.named(str(plan))
    except ValueError as error:
        raise errors.InvalidParameter(f"plan: {error}") from error
    request.app[SERVICES].accounts.add_key(key, chosen)
    return web.json_response({"success": True, "key": key, "plan": chosen.value})


async def scenarios(request: web.Request) -> web.Response:
    """The catalogue, each with what a robust client does about it, and what is armed now."""
    armed = request.app[SERVICES].scenarios.armed()
    return web.json_response(
        {
            "catalogue": [spec.to_json() for spec in CATALOGUE.values()],
            "armed": [entry.to_json() for entry in armed],
        }
    )


async def arm_scenario(request: web.Request) -> web.Response:
    """Arm a scenario for the next `count` requests (null: all) of a route and/or key."""
    try:
        arming = Arming.from_json(json.loads(await request.read()))
        armed = request.app[SERVICES].scenarios.arm(arming)
    except ValueError as error:  # ScenarioError and bad JSON alike
        raise errors.InvalidParameter(f"scenario: {error}") from error
    return web.json_response({"success": True, "armed": armed.to_json()})


async def disarm_scenarios(request: web.Request) -> web.Response:
    """Back to the scenarios given for the whole run (none, unless `serve --scenario`)."""
    request.app[SERVICES].scenarios.reset()
    return web.json_response({"success": True})


async def openapi(request: web.Request) -> web.Response:
    """The bundled document, with this mock's own origin as the first server."""
    document = dict(bundled_openapi())
    here = {"url": f"{request.scheme}://{request.host}", "description": "This mock"}
    document["servers"] = [here, *document["servers"]]
    return web.json_response(document)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/_mock/health", health)
    app.router.add_get("/_mock/requests", requests)
    app.router.add_get("/_mock/webhooks", webhooks)
    app.router.add_post("/_mock/reset", reset)
    app.router.add_post("/_mock/clock/advance", advance_clock)
    app.router.add_post("/_mock/keys", add_key)
    app.router.add_get("/_mock/fixtures", fixtures)
    app.router.add_get("/_mock/fixtures/{name}", fixture_song)
    app.router.add_post("/_mock/sink/{name}", sink_record)
    app.router.add_get("/_mock/sink/{name}", sink_received)
    app.router.add_get("/_mock/scenarios", scenarios)
    app.router.add_post("/_mock/scenarios", arm_scenario)
    app.router.add_delete("/_mock/scenarios", disarm_scenarios)
