"""The application factory: routes, middlewares, and the services owned by cleanup contexts.

The API app's cleanup context owns a second, small app on a port of its own: the results origin
(`/{requestId}/{name}`), sharing the API's services. Whatever serves the API app (`serve`, the
plugin, pytest-aiohttp's test client) gets the results listener with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from mock_server.contract import results, wire
from mock_server.jobs.recordings import Replays
from mock_server.services import Services, replays_of, running
from mock_server.settings import Settings, bind
from mock_server.web import control, dashboard, handlers, storage
from mock_server.web.faults import inject_faults
from mock_server.web.keys import SERVICES
from mock_server.web.middlewares import error_envelope, guard_control, journal


def _services_context(
    settings: Settings, replays: Replays | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The running backend (services.running) for the app's lifetime, and the results
    listener beside it, sharing its services."""

    async def services(app: web.Application) -> AsyncIterator[None]:
        async with running(settings, replays) as backend:
            app[SERVICES] = backend
            app[RESULTS_APP] = _results_app(backend)
            results_runner = web.AppRunner(app[RESULTS_APP], handle_signals=False)
            await results_runner.setup()
            port = _results_port(settings)
            site = web.TCPSite(results_runner, settings.host, port)
            await bind(site.start, port, "--results-port", "the results origin")
            backend.results_port = results_runner.addresses[0][1]
            try:
                yield
            finally:
                await results_runner.cleanup()

    return services


RESULTS_APP = web.AppKey("results_app", web.Application)  # the second listener's app


def _results_port(settings: Settings) -> int:
    """The results listener's port: as configured, else the API's next one (any free one when
    the API's is 0, as in tests)."""
    if settings.results_port is not None:
        return settings.results_port
    return settings.port + 1 if settings.port else 0


def _results_app(services: Services) -> web.Application:
    app = web.Application(middlewares=[journal, error_envelope, inject_faults])
    app[SERVICES] = services
    storage.add_routes(app)  # before the result route, whose pattern would match them too
    app.router.add_get(
        "/{request_id:[a-z0-9]{32}}/{name}", handlers.result, name=results.ROUTE_NAME
    )
    return app


def create_app(settings: Settings | None = None) -> web.Application:
    """The API app for `settings`. Recordings to replay are read here, so a bad one
    (RecordingError) stops `serve` or a test before a port is bound or a worker started."""
    settings = settings or Settings()
    replays = replays_of(settings)
    app = web.Application(
        middlewares=[journal, error_envelope, guard_control, inject_faults],
        client_max_size=settings.max_body_bytes,
    )
    app.cleanup_ctx.append(_services_context(settings, replays))
    for path, handler in (
        (wire.ANALYZE.path, handlers.analyze),
        (wire.RESIZE.path, handlers.resize),
        (wire.EXPORT.path, handlers.export),
        (wire.STRUCTURE.path, handlers.structure),
        (wire.UPLOAD.path, handlers.upload),
    ):
        app.router.add_route("*", path, handler)
    control.add_routes(app)
    dashboard.add_routes(app)
    return app
