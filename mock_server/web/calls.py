"""An authenticated API request (`Call`) and the gate every one passes: method, key, rate
limit, JSON, then, in its handler, parameters and usage; and what answers it: a per-test answer,
a recording or the engine (`Call.operation`). The reference lists these errors but not their order
or statuses; the order and the statuses are the mock's choice."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from yarl import URL

from mock_server.answers import AnswerRefused
from mock_server.audio.errors import EngineValidationError
from mock_server.contract import wire
from mock_server.contract.parameters import wire_problem
from mock_server.contract.profile import UsageRule
from mock_server.jobs.job import Job
from mock_server.jobs.operations import (
    Operation,
    answered_by,
    overrides,
)
from mock_server.jobs.recordings import Replayed
from mock_server.jsonbody import loads_strict
from mock_server.services import Services
from mock_server.sources import validate_source_url
from mock_server.web import errors
from mock_server.web.faults import SCENARIOS
from mock_server.web.keys import SERVICES
from mock_server.web.namespace import namespace_of, space_of

PARSED_BODY = web.RequestKey("parsed_body", dict[str, Any])  # parsed once, read by the journal
# The job a request queued or whose result it fetched, for the journal.
REQUEST_ID = web.RequestKey("request_id", str)
# The recording a request was answered from (serve --replay), for the journal and traffic line.
REPLAYED = web.RequestKey("replayed", str)
ANSWERED = web.RequestKey("answered", int)  # the per-test answer that answered it, by id
NOTES = web.RequestKey("notes", tuple[str, ...])  # scenarios its stand-in overrode, said
ApiHandler = Callable[[web.Request, "Call"], Awaitable[web.Response]]


class Call:
    """An authenticated API request: its route, key, body and the app's services."""

    def __init__(
        self,
        request: web.Request,
        route: wire.Route,
        key: str,
        body: dict[str, Any],
        services: Services,
    ) -> None:
        self.request = request
        self.route = route
        self.key = key
        self.body = body
        self.services = services

    def takes_only(self, *names: str) -> None:
        """Refuse fields other than `names` (by default, every field the route takes)."""
        refuse_unknown_fields(self.body, names or self.route.fields, self.request.path)

    def required(self, name: str) -> object:
        if name not in self.body or self.body[name] is None:
            raise errors.MissingParameter(name)
        return self.body[name]

    def url(self, name: str, *, required: bool) -> str | None:
        if not required and self.body.get(name) is None:
            return None
        return checked_url(name, self.required(name), self.services.settings.allow_file_urls)

    def check_usage(self, price: int | None = None) -> None:
        """Refuse once the key's usage has reached its limit; under the profile's `exceeded`
        rule, also when this request's `price` (known at once for resize and export) would
        take it past the limit."""
        left = self.services.accounts.remaining(self.key, self.services.clock.now())
        if left == 0:
            raise errors.UsageExceeded("this key's plan has no credits left in the last 30 days")
        rule = self.services.settings.profile.usage_rule
        if left is not None and price is not None and price > left and rule is UsageRule.EXCEEDED:
            raise errors.UsageExceeded(
                f"this request costs {price} credits and the key's plan has {left} left"
            )

    def operation(self, route: str, engine: Operation, urls: Sequence[str] = ()) -> Operation:
        """What answers this request: the test's per-test answer for the route (answers.py),
        else the recording it matches (serve --replay), else `engine`. A request that got a
        scenario its stand-in overrides is told so, in its journal entry and traffic line."""
        try:
            answer = space_of(self.request).answers.take(route, self.body)
        except AnswerRefused as misfit:
            raise errors.InvalidParameter(str(misfit)) from misfit
        chosen: Operation | None
        if answer is not None:
            self.request[ANSWERED] = answer.id
            chosen = answered_by(engine, answer, self.body, self.services.settings.profile)
            by = f"per-test answer {answer.id}"
        else:
            chosen = self.replayed(route, urls)
            if chosen is None:
                return engine
            by = f"recording {self.request[REPLAYED]}"
        overridden = overrides(chosen)
        self.request[NOTES] = tuple(
            f"scenario {scenario.fault} not applied: the {by} answers instead"
            for scenario in self.request.get(SCENARIOS, ())
            if scenario.fault in overridden
        )
        return chosen

    def replayed(self, route: str, urls: Sequence[str] = ()) -> Replayed | None:
        """The recording this request replays (serve --replay), if one matches; with
        --replay-strict, a request none matches is refused with the closest one named."""
        replays = self.services.replays
        if replays is None:
            return None
        body = self._as_recorded()
        found = replays.match(route, body)
        if found is not None:
            self.request[REPLAYED] = found.folder.name
            return Replayed(found, urls)
        if self.services.settings.replay_strict:
            closest = replays.closest(route, body)
            named = ""
            if closest is not None:
                differs = replays.difference(closest, body)
                named = f"; the closest is {closest.folder.name}, which differs {differs}"
            raise errors.InvalidParameter(f"no recording matches this /{route} request{named}")
        return None

    def _as_recorded(self) -> dict[str, Any]:
        """The body as a recording keeps it: an uploaded source named by its content, since
        its retrievalUrl is new in every run (uploads.by_content)."""
        source = self.body.get("sourceFileUrl")
        named = self.services.uploads.by_content(source) if isinstance(source, str) else None
        return self.body if named is None else {**self.body, "sourceFileUrl": named}

    def new_job(self, webhook: str | None, source_url: str | None = None) -> Job:
        request_id = self.services.ids.next()
        self.request[REQUEST_ID] = request_id
        return Job(
            request_id=request_id,
            key=self.key,
            created_at=self.services.clock.now(),
            webhook=webhook,
            source_url=source_url,
            faults=tuple(self.request.get(SCENARIOS, ())),
            namespace=namespace_of(self.request),
            route=self.route.path,
        )


def checked_url(name: str, value: object, allow_file_urls: bool) -> str:
    """`value` as a URL the mock will fetch or post to; a 400 naming `name` otherwise."""
    try:
        return validate_source_url(value, allow_file_urls)
    except ValueError as problem:
        raise errors.InvalidParameter(f"{name} {problem}") from problem


def results_base(request: web.Request) -> str:
    """Where result URLs point, for a client that sent `request`: --results-url, else the host
    it addressed (or --public-url's) on the results listener's port. The one rule for the URLs
    in payloads and the results server in the served OpenAPI document."""
    services = request.app[SERVICES]
    settings = services.settings
    if settings.results_url:
        return settings.results_url.rstrip("/")
    if settings.public_url:
        return _on_port(settings.public_url, services.results_port)
    try:
        return _on_port(f"{request.scheme}://{request.host}", services.results_port)
    except ValueError as problem:  # result URLs are built on the host the client addressed
        raise errors.InvalidParameter(
            f"the Host header {request.host!r} is not host[:port]"
        ) from problem


@functools.lru_cache(maxsize=256)
def _on_port(origin: str, port: int) -> str:
    """`origin` with `port`: cached, since every acknowledgement asks and a client rarely
    changes the host it addresses (parsing it each time cost about 25 us an ack)."""
    return str(URL(origin).origin().with_port(port)).rstrip("/")


async def read_json(request: web.Request) -> Any:
    """The body as strict JSON (no NaN, no Infinity, bounded nesting); a 400 naming the problem
    otherwise. Every route that takes JSON, the API's and /_mock/*'s alike, reads it here."""
    raw = await request.read()
    try:
        return loads_strict(raw or b"null")
    except ValueError as error:
        raise errors.MalformedJson(f"the body is not valid JSON ({error})") from error


async def read_json_object(request: web.Request, *names: str) -> dict[str, Any]:
    """`read_json`, which must give an object; with `names`, one taking only those fields."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise errors.MalformedJson("the body must be a JSON object")
    request[PARSED_BODY] = body
    if names:
        refuse_unknown_fields(body, names, request.path)
    return body


def refuse_unknown_fields(body: dict[str, Any], names: tuple[str, ...], path: str) -> None:
    """Refuse fields a route does not take: a typo ("sourceFileURL") is named, with the
    parameter it was probably meant to be, instead of being silently ignored."""
    for field in body:
        if field not in names:
            close = difflib.get_close_matches(field, names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise errors.InvalidParameter(
                f"{field} is not a parameter of {path} (it takes {', '.join(names)}){hint}"
            )


def api_endpoint(
    route: wire.Route,
) -> Callable[[ApiHandler], Callable[[web.Request], Awaitable[web.Response]]]:
    """The gate every API request passes, for `route`'s handler."""

    def gated(handler: ApiHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def gate(request: web.Request) -> web.Response:
            if request.method not in route.methods:
                raise errors.invalid_method(route)
            services = request.app[SERVICES]
            key = request.headers.get(wire.KEY_HEADER)
            if not key:
                raise errors.MissingKey(f"send your key in the {wire.KEY_HEADER} header")
            if services.accounts.plan_of(key) is None:
                raise errors.InvalidKey()
            retry_after = services.limiter.try_acquire(key, services.clock.now())
            if retry_after is not None:
                seconds = max(1, int(retry_after + 0.999))
                settings = services.settings
                raise errors.RateLimited(
                    f"{settings.rate_limit} requests per {settings.rate_window_seconds:g} s",
                    headers={"Retry-After": str(seconds)},
                )
            body = await _body_of(request, route)
            call = Call(request, route, key, body, services)
            try:
                return await handler(request, call)
            except EngineValidationError as problem:
                raise errors.InvalidParameter(wire_problem(problem)) from problem

        return gate

    return gated


async def _body_of(request: web.Request, route: wire.Route) -> dict[str, Any]:
    """The JSON object a request carries. A GET, or a route that takes no parameters (upload),
    may send no body at all."""
    if not (request.method == "GET" or not route.fields) or request.body_exists:
        return await read_json_object(request)
    return {}
