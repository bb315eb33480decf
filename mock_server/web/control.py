"""The routes beside the API: /_mock/* (health, the journal, webhook attempts, reset, the clock,
keys, sinks, bundled songs, fault scenarios, per-test answers), the API's contract at
/openapi.json and the control routes' own at /_mock/openapi.json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mock_server.accounts import Plan, mask_key
from mock_server.answers import AnswerRefused
from mock_server.contract import fidelity
from mock_server.contract.schemas import bundled_openapi, control_openapi, with_results_server
from mock_server.contract.wire import TRIGGER
from mock_server.faults.arming import Arming
from mock_server.faults.catalogue import CATALOGUE
from mock_server.songs import song_bytes, song_file, song_names
from mock_server.web import errors, trigger
from mock_server.web.calls import (
    checked_url,
    read_json,
    read_json_object,
    refuse_unknown_fields,
    results_base,
)
from mock_server.web.keys import SERVICES
from mock_server.web.namespace import namespace_of, space_of


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return web.json_response({"status": "ok", "time": services.clock.now()})


async def requests(request: web.Request) -> web.Response:
    entries = space_of(request).journal.entries()
    return web.json_response([entry.to_json() for entry in entries])


async def webhooks(request: web.Request) -> web.Response:
    attempts = request.app[SERVICES].webhooks.attempts(namespace_of(request))
    return web.json_response([attempt.to_json() for attempt in attempts])


async def resend_webhook(request: web.Request) -> web.Response:
    """Send a request's recorded final webhook again, to its URL or to `{"url": ...}`."""
    body = await read_json(request) if request.can_read_body else None
    if body is not None and not isinstance(body, dict):
        raise errors.MalformedJson("the body must be a JSON object (or absent)")
    if body:
        refuse_unknown_fields(body, ("url",), request.path)
    url = (body or {}).get("url")
    if url is not None:
        url = checked_url("url", url, allow_file_urls=False)
    request_id = request.match_info["requestId"]
    webhook = request.app[SERVICES].webhooks.resend(request_id, url, namespace_of(request))
    if webhook is None:
        raise errors.NotFound(f"no webhook was recorded for request {request_id}")
    return web.json_response({"success": True, "requestId": request_id, "url": webhook.url})


async def reset(request: web.Request) -> web.Response:
    request.app[SERVICES].reset(namespace_of(request))
    return web.json_response({"success": True})


# Far enough for any window the mock keeps (30 days of usage, artifact lifetimes), and far from
# where float seconds lose their precision.
MAX_ADVANCE_SECONDS = 100 * 365 * 24 * 3600.0


def _number(body: dict[str, Any], name: str, at_most: float) -> float:
    if name not in body:
        raise errors.MissingParameter(name)
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= at_most:
        raise errors.InvalidParameter(f"{name} must be a number from 0 to {at_most:g}")
    return float(value)


async def advance_clock(request: web.Request) -> web.Response:
    body = await read_json_object(request, "seconds")
    seconds = _number(body, "seconds", MAX_ADVANCE_SECONDS)
    clock = request.app[SERVICES].clock
    clock.advance(seconds)
    return web.json_response({"success": True, "time": clock.now()})


async def sink_record(request: web.Request) -> web.Response:
    payload = await read_json(request)
    space_of(request).sinks.record(request.match_info["name"], payload)
    return web.json_response({"success": True})


async def sink_received(request: web.Request) -> web.Response:
    return web.json_response(space_of(request).sinks.received(request.match_info["name"]))


async def all_sinks(request: web.Request) -> web.Response:
    """Every sink of the namespace and what it received, in order."""
    return web.json_response(space_of(request).sinks.everything())


async def fixtures(request: web.Request) -> web.Response:
    return web.json_response(song_names())


async def fixture_song(request: web.Request) -> web.Response:
    try:
        file_name = song_file(request.match_info["name"])
    except LookupError as error:
        raise errors.NotFound(str(error)) from error
    return web.Response(body=song_bytes(file_name), content_type="audio/mpeg")


async def add_key(request: web.Request) -> web.Response:
    """Accept one more API key, on a plan (default enterprise), until the next reset."""
    body = await read_json_object(request, "key", "plan")
    if "key" not in body:
        raise errors.MissingParameter("key")
    key, plan = body["key"], body.get("plan", Plan.ENTERPRISE.value)
    if not isinstance(key, str) or not key:
        raise errors.InvalidParameter("key must be a non-empty string")
    try:
        chosen = Plan.named(str(plan))
    except ValueError as error:
        raise errors.InvalidParameter(f"plan: {error}") from error
    request.app[SERVICES].accounts.add_key(key, chosen, namespace_of(request))
    return web.json_response({"success": True, "key": key, "plan": chosen.value})


async def keys(request: web.Request) -> web.Response:
    """The namespace's keys, masked, each with its plan and the credits it used in the window."""
    services = request.app[SERVICES]
    accounts, now = services.accounts, services.clock.now()
    return web.json_response(
        [
            {
                "key": mask_key(key),
                "plan": plan.value,
                "used": accounts.used(key, now),
                "limit": plan.credit_limit,
            }
            for key, plan in accounts.keys_of(namespace_of(request))
        ]
    )


async def scenarios(request: web.Request) -> web.Response:
    """The catalogue, each with what a robust client does about it, and what is armed now."""
    armed = space_of(request).scenarios.armed()
    profile = request.app[SERVICES].settings.profile
    return web.json_response(
        {
            "catalogue": [spec.to_json(profile) for spec in CATALOGUE.values()],
            "armed": [entry.to_json() for entry in armed],
        }
    )


async def arm_scenario(request: web.Request) -> web.Response:
    """Arm a scenario for the next `count` requests (null: all) of a route and/or key."""
    body = await read_json_object(request, "name", "params", "count", "route", "key")
    try:
        arming = Arming.from_json(body)
        armed = space_of(request).scenarios.arm(arming)
    except ValueError as error:  # ScenarioError and bad JSON alike
        raise errors.InvalidParameter(f"scenario: {error}") from error
    return web.json_response({"success": True, "armed": armed.to_json()})


async def disarm_scenarios(request: web.Request) -> web.Response:
    """Back to the scenarios given for the whole run (none, unless `serve --scenario`)."""
    space_of(request).scenarios.reset()
    return web.json_response({"success": True})


async def answers(request: web.Request) -> web.Response:
    """The per-test answers armed in the namespace, first armed first."""
    return web.json_response([armed.to_json() for armed in space_of(request).answers.armed()])


async def arm_answer(request: web.Request) -> web.Response:
    """Make a route answer `payload` for the next `times` requests (null: until reset), once
    the contract allows it (answers.py); a 400 naming the rule it breaks otherwise."""
    body = await read_json_object(request, "route", "payload", "times", "breakContract")
    for name in ("route", "payload"):
        if name not in body:
            raise errors.MissingParameter(name)
    route, opt_out = body["route"], body.get("breakContract", False)
    if not isinstance(route, str) or not isinstance(opt_out, bool):
        raise errors.InvalidParameter("route must be a string and breakContract true or false")
    try:
        armed = space_of(request).answers.arm(route, body["payload"], body.get("times"), opt_out)
    except AnswerRefused as refusal:
        raise errors.InvalidParameter(f"answer: {refusal}") from refusal
    return web.json_response({"success": True, "answer": armed.to_json()})


async def disarm_answers(request: web.Request) -> web.Response:
    space_of(request).answers.reset()
    return web.json_response({"success": True})


def _served_here(request: web.Request, document: dict[str, Any]) -> web.Response:
    """`document` with this mock's own origin as the first server."""
    here = {"url": f"{request.scheme}://{request.host}", "description": "This mock"}
    return web.json_response({**document, "servers": [here, *document["servers"]]})


def _results_here(request: web.Request) -> dict[str, str]:
    """This mock's results origin as a server, by the same rule as the result URLs."""
    return {"url": results_base(request), "description": "This mock's results listener"}


async def openapi(request: web.Request) -> web.Response:
    """The API's document, bundled, with this mock first for the API and for the results."""
    return _served_here(request, with_results_server(bundled_openapi(), _results_here(request)))


async def mock_openapi(request: web.Request) -> web.Response:
    """The control routes' document: guarded like them, since it is under /_mock/."""
    return _served_here(request, control_openapi())


async def fidelity_ledger(request: web.Request) -> web.Response:
    return web.json_response(fidelity.to_json(request.app[SERVICES].settings.profile))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/_mock/openapi.json", mock_openapi)
    app.router.add_get("/_mock/health", health)
    app.router.add_get("/_mock/fidelity", fidelity_ledger)
    app.router.add_get("/_mock/requests", requests)
    app.router.add_get("/_mock/webhooks", webhooks)
    app.router.add_post("/_mock/webhooks/{requestId}/resend", resend_webhook)
    app.router.add_post(TRIGGER.path, trigger.trigger)
    app.router.add_post("/_mock/reset", reset)
    app.router.add_post("/_mock/clock/advance", advance_clock)
    app.router.add_post("/_mock/keys", add_key)
    app.router.add_get("/_mock/keys", keys)
    app.router.add_get("/_mock/fixtures", fixtures)
    app.router.add_get("/_mock/fixtures/{name}", fixture_song)
    app.router.add_post("/_mock/sink/{name}", sink_record)
    app.router.add_get("/_mock/sink/{name}", sink_received)
    app.router.add_get("/_mock/sinks", all_sinks)
    app.router.add_get("/_mock/scenarios", scenarios)
    app.router.add_post("/_mock/scenarios", arm_scenario)
    app.router.add_delete("/_mock/scenarios", disarm_scenarios)
    app.router.add_get("/_mock/answers", answers)
    app.router.add_post("/_mock/answers", arm_answer)
    app.router.add_delete("/_mock/answers", disarm_answers)
