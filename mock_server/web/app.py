"""The application factory: routes, middlewares, and the services owned by cleanup contexts.

The API app's cleanup context owns a second, small app on a port of its own: the results origin
(`/{requestId}/{name}`), sharing the API's services. Whatever serves the API app (`serve`, the
plugin, pytest-aiohttp's test client) gets the results listener with it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from mock_server.accounts import Accounts
from mock_server.clock import MockClock
from mock_server.contract import results, wire
from mock_server.faults.arming import Arming
from mock_server.faults.catalogue import Fault
from mock_server.faults.scenario import Scenario
from mock_server.jobs.analyses import AnalysisCache
from mock_server.jobs.artifacts import ArtifactStore
from mock_server.jobs.owed import JobLedger
from mock_server.jobs.recordings import Replays, load
from mock_server.jobs.runner import JobRunner
from mock_server.namespaces import Namespaces
from mock_server.ratelimit import RateLimiter
from mock_server.services import RequestIds, Services
from mock_server.settings import Settings
from mock_server.sources import FetchLimits, SourceFetcher, sources_session
from mock_server.web import control, dashboard, handlers
from mock_server.web.faults import inject_faults
from mock_server.web.keys import SERVICES
from mock_server.web.middlewares import error_envelope, guard_control, journal
from mock_server.webhooks import WebhookDispatcher


def _services_context(
    settings: Settings, replays: Replays | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def services(app: web.Application) -> AsyncIterator[None]:
        owned_dir = settings.data_dir is None
        root = Path(tempfile.mkdtemp(prefix="audjust-mock-")) if owned_dir else settings.data_dir
        assert root is not None
        clock = MockClock(settings.time_scale)
        accounts = Accounts(dict(settings.api_keys))
        async with (
            aiohttp.ClientSession() as session,
            sources_session(session, settings.public_sources_only) as sources,
        ):
            dispatcher = WebhookDispatcher(
                session=session,
                now=clock.now,
                sleep=clock.sleep,
                max_attempts=settings.profile.webhook_attempts,
                backoff_seconds=settings.profile.webhook_backoff_seconds,
                timeout_seconds=settings.profile.webhook_timeout_seconds,
            )
            limits = FetchLimits(
                max_bytes=settings.download_max_bytes,
                timeout_seconds=settings.download_timeout_seconds,
                max_redirects=settings.download_max_redirects,
            )
            artifacts = ArtifactStore(root)
            fetcher = SourceFetcher(
                session=sources,
                limits=limits,
                allow_file_urls=settings.allow_file_urls,
                mode=settings.sources,
                public_only=settings.public_sources_only,
            )
            runner = JobRunner(
                workers=settings.workers,
                clock=clock,
                accounts=accounts,
                artifacts=artifacts,
                webhooks=dispatcher,
                fetcher=fetcher,
                job_timeout_seconds=settings.job_timeout_seconds,
                artifact_ttl_seconds=settings.artifact_ttl_seconds,
                timeout_webhook=settings.profile.timeout_webhook,
                ledger=JobLedger(None if owned_dir else root / "jobs"),
                analyses=AnalysisCache(root / "analyses"),
            )
            runner.start()
            runner.recover()
            app[SERVICES] = Services(
                settings=settings,
                clock=clock,
                accounts=accounts,
                limiter=RateLimiter(
                    limit=settings.rate_limit, window_seconds=settings.rate_window_seconds
                ),
                artifacts=artifacts,
                webhooks=dispatcher,
                jobs=runner,
                ids=RequestIds(settings.seed),
                spaces=Namespaces(_for_the_run(settings)),
                replays=replays,
            )
            app[RESULTS_APP] = _results_app(app[SERVICES])
            results_runner = web.AppRunner(app[RESULTS_APP], handle_signals=False)
            await results_runner.setup()
            await web.TCPSite(results_runner, settings.host, _results_port(settings)).start()
            app[SERVICES].results_port = results_runner.addresses[0][1]
            try:
                yield
            finally:
                await results_runner.cleanup()
                await runner.close()
                await dispatcher.close()
                if owned_dir:
                    shutil.rmtree(root, ignore_errors=True)

    return services


RESULTS_APP = web.AppKey("results_app", web.Application)  # the second listener's app


def _for_the_run(settings: Settings) -> tuple[Arming, ...]:
    """The scenarios every matching request gets: --scenario's, and contract_edges when the
    profile turns it on."""
    if not settings.profile.contract_edges:
        return settings.scenarios
    edges = Arming(Scenario.named(Fault.CONTRACT_EDGES.value), count=None)
    return (*settings.scenarios, edges)


def _results_port(settings: Settings) -> int:
    """The results listener's port: as configured, else the API's next one (any free one when
    the API's is 0, as in tests)."""
    if settings.results_port is not None:
        return settings.results_port
    return settings.port + 1 if settings.port else 0


def _results_app(services: Services) -> web.Application:
    app = web.Application(middlewares=[journal, error_envelope, inject_faults])
    app[SERVICES] = services
    app.router.add_get("/{request_id}/{name}", handlers.result, name=results.ROUTE_NAME)
    return app


def create_app(settings: Settings | None = None) -> web.Application:
    """The API app for `settings`. Recordings to replay are read here, so a bad one
    (RecordingError) stops `serve` or a test before a port is bound or a worker started."""
    settings = settings or Settings()
    replays = Replays(load(settings.replay)) if settings.replay else None
    app = web.Application(
        middlewares=[journal, error_envelope, guard_control, inject_faults],
        client_max_size=settings.max_body_bytes,
    )
    app.cleanup_ctx.append(_services_context(settings, replays))
    for path, handler in (
        (wire.ANALYZE.path, handlers.analyze),
        (wire.RESIZE.path, handlers.resize),
        (wire.EXPORT.path, handlers.export),
    ):
        app.router.add_route("*", path, handler)
    control.add_routes(app)
    dashboard.add_routes(app)
    return app
