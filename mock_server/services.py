"""Everything one running mock owns, in one object, and the one call that builds it from
`Settings` and tears it down (`running`): the web app, `MockServer`, the trigger and the bench all
get their backend from it, and nothing here knows HTTP's server side."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from faker import Faker

from mock_server import traffic
from mock_server.accounts import Accounts
from mock_server.clock import MockClock
from mock_server.faults.arming import Arming, ScenarioBook
from mock_server.faults.catalogue import Fault
from mock_server.faults.scenario import Scenario
from mock_server.jobs.analyses import AnalysisCache
from mock_server.jobs.artifacts import ArtifactStore
from mock_server.jobs.owed import JobLedger
from mock_server.jobs.recordings import Replays, survey
from mock_server.jobs.runner import JobRunner
from mock_server.journal import Journal
from mock_server.namespaces import DEFAULT, Namespaces, Space
from mock_server.ratelimit import RateLimiter
from mock_server.settings import Settings
from mock_server.sinks import WebhookSinks
from mock_server.sources import FetchLimits, SourceFetcher, SourceMode, sources_session
from mock_server.uploads import UploadLimits, Uploads
from mock_server.webhooks import WebhookDispatcher

ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class RequestIds:
    """32-character [a-z0-9] ids, the shape of the reference's examples. A seed makes the
    sequence reproducible; a reset never rewinds it, so tests that share a receiver or a
    database with unique request ids never see one twice in a run."""

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self._faker = Faker()
        self._faker.seed_instance(seed if seed is not None else secrets.randbits(64))

    def next(self) -> str:
        if self.seed is None:
            return _unseeded_id()
        # Faker's own seeded generator, without lexify: 6 µs an id instead of 39 (measured).
        return "".join(self._faker.random.choices(ID_ALPHABET, k=32))


# Bytes to ID_ALPHABET, 6 bytes to a character; the 40 bytes past 6 x 36 are dropped, so every
# character is as likely as every other.
_TO_ALPHABET = bytes(ord(ID_ALPHABET[n % len(ID_ALPHABET)]) for n in range(256))
_PAST_ALPHABET = bytes(range(6 * len(ID_ALPHABET), 256))


def _unseeded_id() -> str:
    """An id no seed asked to repeat, from os.urandom: 1 µs against the seeded path's 6, which
    was 5% of the loop under wrk (a Python call to random() for each of its 32 characters)."""
    while True:
        drawn = os.urandom(48).translate(_TO_ALPHABET, _PAST_ALPHABET)  # 40.5 kept on average
        if len(drawn) >= 32:
            return drawn[:32].decode()


@dataclass
class Services:
    settings: Settings
    clock: MockClock
    accounts: Accounts
    limiter: RateLimiter
    artifacts: ArtifactStore
    webhooks: WebhookDispatcher
    jobs: JobRunner
    ids: RequestIds
    spaces: Namespaces
    uploads: Uploads
    results_port: int = 0  # where the results listener was bound
    replays: Replays | None = None  # serve --replay: recordings answering matching requests

    # The default namespace's: what a mock used by one suite has.
    @property
    def journal(self) -> Journal:
        return self.spaces.default.journal

    @property
    def sinks(self) -> WebhookSinks:
        return self.spaces.default.sinks

    @property
    def scenarios(self) -> ScenarioBook:
        return self.spaces.default.scenarios

    def reset(self, namespace: str = DEFAULT) -> None:
        """Back to a fresh start: what a test wants between tests. In a named namespace, or
        once one is in use, only that namespace's state: the clock and the configured keys' rate
        windows are everyone's. Request ids go on where they were (RequestIds)."""
        if namespace == DEFAULT and not self.spaces.named_in_use():
            self.jobs.reset()
            self.clock.reset()
            self.accounts.reset()
            self.limiter.reset()
            self.artifacts.reset()
            self.webhooks.reset()
            self.spaces.reset_all()
            self.uploads.reset()
            return
        request_ids = self.jobs.reset(namespace)
        self.artifacts.remove(request_ids)
        self.limiter.forget(self.accounts.reset_namespace(namespace, request_ids))
        self.webhooks.reset(namespace)
        self.uploads.reset(namespace)
        self.spaces.get(namespace).reset()

    def space(self, namespace: str) -> Space:
        """`namespace`'s state, idle namespaces expired first. A name that had expired starts
        afresh, and the traffic log says so."""
        for idle in self.spaces.idle():
            self.reset(idle)
            self.spaces.forget(idle)
            traffic.emit("namespace", {"namespace": idle, "message": f"namespace {idle} expired"})
        space = self.spaces.get(namespace)
        if self.spaces.expired_before(namespace):
            message = f"namespace {namespace} had expired; it starts afresh"
            traffic.emit("namespace", {"namespace": namespace, "message": message})
        return space

    def use_sources(self, mode: SourceMode) -> None:
        """Where source URLs are read from from now on (the testing handle's `use_sources`)."""
        self.jobs.fetcher.mode = mode


def replays_of(settings: Settings) -> Replays | None:
    """The recordings `settings` replays, read at once: a bad one (RecordingError) stops the
    caller before anything is bound or started."""
    if settings.replay is None:
        return None
    return Replays(survey(settings.replay))


@asynccontextmanager
async def running(settings: Settings, replays: Replays | None = None) -> AsyncIterator[Services]:
    """The running backend for `settings`: the runner and its worker pool, the webhook
    dispatcher, the source fetcher and every store, torn down (and a data folder of its own
    removed) on exit."""
    owned_dir = settings.data_dir is None
    root = Path(tempfile.mkdtemp(prefix="audjust-mock-")) if owned_dir else settings.data_dir
    assert root is not None
    clock = MockClock(settings.time_scale)
    accounts = Accounts(dict(settings.api_keys))
    uploads = Uploads(_upload_limits(settings), clock.now)
    try:
        async with (
            aiohttp.ClientSession() as session,
            sources_session(session, settings.public_sources_only) as sources,
        ):
            dispatcher = _dispatcher(settings, session, clock)
            runner = _runner(
                settings, root, clock, accounts, dispatcher, _fetcher(settings, sources, uploads)
            )
            runner.start()
            runner.recover()
            try:
                yield Services(
                    settings=settings,
                    clock=clock,
                    accounts=accounts,
                    limiter=RateLimiter(
                        limit=settings.rate_limit, window_seconds=settings.rate_window_seconds
                    ),
                    artifacts=runner.artifacts,
                    webhooks=dispatcher,
                    jobs=runner,
                    ids=RequestIds(settings.seed),
                    spaces=Namespaces(
                        _for_the_run(settings), settings.namespace_idle_seconds or None
                    ),
                    uploads=uploads,
                    replays=replays,
                )
            finally:
                await runner.close()
                await dispatcher.close()
    finally:
        if owned_dir:
            shutil.rmtree(root, ignore_errors=True)


def _dispatcher(
    settings: Settings, session: aiohttp.ClientSession, clock: MockClock
) -> WebhookDispatcher:
    profile = settings.profile
    return WebhookDispatcher(
        session=session,
        now=clock.now,
        sleep=clock.sleep,
        max_attempts=profile.webhook_attempts,
        backoff_seconds=profile.webhook_backoff_seconds,
        timeout_seconds=profile.webhook_timeout_seconds,
    )


def _upload_limits(settings: Settings) -> UploadLimits:
    """One upload is capped as a source download is; all of them by --upload-store-bytes."""
    return UploadLimits(
        max_bytes=settings.download_max_bytes,
        total_bytes=settings.upload_store_bytes,
        max_slots=MAX_UPLOAD_SLOTS,
    )


# Upload slots handed out and not yet expired: a client that asks for URLs and never PUTs
# cannot grow the store without bound either.
MAX_UPLOAD_SLOTS = 10_000


def _fetcher(settings: Settings, sources: aiohttp.ClientSession, uploads: Uploads) -> SourceFetcher:
    limits = FetchLimits(
        max_bytes=settings.download_max_bytes,
        timeout_seconds=settings.download_timeout_seconds,
        max_redirects=settings.download_max_redirects,
    )
    return SourceFetcher(
        session=sources,
        limits=limits,
        allow_file_urls=settings.allow_file_urls,
        mode=settings.sources,
        public_only=settings.public_sources_only,
        uploads=uploads,
    )


def _runner(
    settings: Settings,
    root: Path,
    clock: MockClock,
    accounts: Accounts,
    dispatcher: WebhookDispatcher,
    fetcher: SourceFetcher,
) -> JobRunner:
    return JobRunner(
        workers=settings.workers,
        clock=clock,
        accounts=accounts,
        artifacts=ArtifactStore(root),
        webhooks=dispatcher,
        fetcher=fetcher,
        job_timeout_seconds=settings.job_timeout_seconds,
        artifact_ttl_seconds=settings.artifact_ttl_seconds,
        timeout_webhook=settings.profile.timeout_webhook,
        ledger=JobLedger(None if settings.data_dir is None else root / "jobs"),
        analyses=AnalysisCache(root / "analyses"),
    )


def _for_the_run(settings: Settings) -> tuple[Arming, ...]:
    """The scenarios every matching request gets: --scenario's, and contract_edges when the
    profile turns it on."""
    if not settings.profile.contract_edges:
        return settings.scenarios
    edges = Arming(Scenario.named(Fault.CONTRACT_EDGES.value), count=None)
    return (*settings.scenarios, edges)
