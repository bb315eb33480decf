"""Which namespace a request is in (see mock_server/namespaces.py): its X-Mock-Namespace header
(or, on a sink's URL, its `namespace` query), else the namespace that owns its API key, else,
for a result download, its job's; else the default."""

from __future__ import annotations

from aiohttp import web

from mock_server.contract.results import ROUTE_NAME as RESULT_ROUTE
from mock_server.contract.wire import KEY_HEADER
from mock_server.namespaces import DEFAULT, HEADER, QUERY, NamespaceError, Space, checked_name
from mock_server.web import errors
from mock_server.web.keys import SERVICES

NAMESPACE = web.RequestKey("namespace", str)


def _named(request: web.Request) -> str | None:
    named = request.headers.get(HEADER)
    if named is None and request.path.startswith("/_mock/sink/"):
        named = request.query.get(QUERY)
    return named


def namespace_of(request: web.Request) -> str:
    """The request's namespace; a 400 naming the problem if its header names none."""
    cached: str | None = request.get(NAMESPACE)
    if cached is not None:
        return cached
    found: str
    named = _named(request)
    if named is not None:
        try:
            found = checked_name(named)
        except NamespaceError as problem:
            raise errors.InvalidParameter(f"{HEADER}: {problem}") from problem
    else:
        found = _implied(request)
    request[NAMESPACE] = found
    return found


def namespace_or_default(request: web.Request) -> str:
    """`namespace_of`, or the default for a request whose header names no namespace (it is
    answered 400 by whoever reads the header strictly)."""
    try:
        return namespace_of(request)
    except errors.ApiError:
        return DEFAULT


def _implied(request: web.Request) -> str:
    services = request.app[SERVICES]
    key = request.headers.get(KEY_HEADER)
    owner = services.accounts.owner(key) if key else None
    if owner is not None:
        return owner
    if request.match_info.route.name == RESULT_ROUTE:
        job = services.jobs.jobs.get(request.match_info.get("request_id", ""))
        return job.namespace if job else DEFAULT
    return DEFAULT


def space_of(request: web.Request) -> Space:
    services = request.app[SERVICES]
    try:
        return services.space(namespace_of(request))
    except NamespaceError as problem:
        raise errors.InvalidParameter(str(problem)) from problem
