"""Jobs: queued requests, run in the background, ending in exactly one terminal state and webhook.

The runner runs any operation (see operations.py) and knows none of them by name. CPU work runs in
a process pool so the event loop keeps answering; a
watchdog fails any job still running after the job limit of mock time, as the reference promises
("requests will not take longer than 7 minutes"). Job scenarios (slow, never completes, failed
download, internal failure, partial export, expired results) are applied here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import itertools
import logging
import multiprocessing
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ParamSpec, TypeVar

from mock_server.accounts import Accounts
from mock_server.audio.analysis import analyze_with_peaks
from mock_server.audio.decode import probe_duration
from mock_server.audio.errors import AudioEngineError
from mock_server.audio.types import DecodeLimits
from mock_server.clock import MockClock
from mock_server.faults.catalogue import Fault, Phase, scenario_note
from mock_server.faults.scenario import Scenario
from mock_server.jobs.analyses import AnalysisCache, analysis_key
from mock_server.jobs.artifacts import ArtifactStore
from mock_server.jobs.operations import EveryGroupFailed, Operation, Outcome
from mock_server.jobs.owed import JobLedger, OwedJob
from mock_server.jobs.payloads import failure_payload, success_payload
from mock_server.sources import SourceError, SourceFetcher
from mock_server.webhooks import Webhook, WebhookDispatcher

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
WATCHDOG_SECONDS = 0.25
KEPT_JOBS = 10_000  # finished jobs remembered for inspection, like the journal's entries


class JobState(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class FailureReason(Enum):
    """Why a job failed: for the layer that answers a synchronous request to choose a status,
    and for the dashboard, which tells a timed-out job from one that failed."""

    INTERNAL = "internal"
    TIMED_OUT = "timed_out"


class JobFailed(Exception):
    """A job ends as failed with this message, sent in the failure webhook (or, for a synchronous
    resize, answered with a status the web layer chooses for `reason`). `recorded`: a replayed
    failure's payload, whose fields beyond the mock's own are sent again as they were."""

    def __init__(
        self,
        message: str,
        reason: FailureReason = FailureReason.INTERNAL,
        recorded: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.recorded: Mapping[str, Any] = recorded or {}


INTERNAL_FAILURE = "Internal error while processing the request."
RESTARTED = "The mock restarted while this request was in flight; submit it again."


@dataclass(slots=True)
class Job:
    request_id: str
    key: str
    created_at: float
    webhook: str | None
    source_url: str | None = None
    faults: tuple[Scenario, ...] = ()
    namespace: str = ""  # the namespace that queued it (see namespaces.py)
    state: JobState = JobState.QUEUED
    failure: FailureReason | None = None  # why it failed, once it has: the dashboard says so
    order: int = 0  # place in acknowledgement order, set when the job is submitted
    peaks: bytes = b""  # an analysis's waveform summary, for the dashboard (audio/peaks.py)
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def fault(self, fault: Fault) -> Scenario | None:
        return next((s for s in self.faults if s.fault is fault), None)

    def delivery_fault(self) -> Scenario | None:
        return next((s for s in self.faults if s.spec.phase is Phase.DELIVERY), None)


class JobRunner:
    def __init__(
        self,
        *,
        workers: int,
        clock: MockClock,
        accounts: Accounts,
        artifacts: ArtifactStore,
        webhooks: WebhookDispatcher,
        fetcher: SourceFetcher,
        job_timeout_seconds: float,
        artifact_ttl_seconds: float,
        ledger: JobLedger,
        analyses: AnalysisCache | None = None,
        timeout_webhook: bool = True,
    ) -> None:
        self.workers = workers
        self.clock = clock
        self.accounts = accounts
        self.artifacts = artifacts
        self.webhooks = webhooks
        self.fetcher = fetcher
        self.job_timeout_seconds = job_timeout_seconds
        self.artifact_ttl_seconds = artifact_ttl_seconds
        self.jobs: dict[str, Job] = {}  # the latest KEPT_JOBS, by request id
        self._unfinished: dict[str, Job] = {}  # what the watchdog and a shutdown look at
        self.ledger = ledger
        self.analyses = analyses or AnalysisCache(None)  # kept across resets: same bytes, same
        self.timeout_webhook = timeout_webhook  # whether a timed-out job's failure is sent
        self._pool = self._new_pool()
        self._watchdog: asyncio.Task[None] | None = None
        self._acknowledged = itertools.count(1)  # 0 is left to webhooks owed from before a restart

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, never fork: the server process has threads.
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def start(self) -> None:
        self._watchdog = asyncio.create_task(self._watch())

    async def close(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()
        tasks = [job.task for job in self._unfinished.values() if job.task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def compute(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run `fn` in a worker process; a dead worker fails this call and the pool is replaced."""
        loop = asyncio.get_running_loop()
        pool = self._pool
        try:
            return await loop.run_in_executor(pool, functools.partial(fn, *args, **kwargs))
        except BrokenProcessPool as error:
            if self._pool is pool:  # the first job to notice replaces it, once
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            raise JobFailed(
                "Internal error: the worker processing this request stopped."
            ) from error

    def submit(self, job: Job, operation: Operation, credits: int | None = None) -> None:
        """Queue `job`; `credits`, when its price is known already, count against its key's
        limit from now on, as queued requests do (released if it fails)."""
        if credits is not None:
            self.count(job, credits)
        self.jobs[job.request_id] = job
        if len(self.jobs) > KEPT_JOBS:
            del self.jobs[next(iter(self.jobs))]
        self._unfinished[job.request_id] = job
        job.order = next(self._acknowledged)
        if job.webhook:
            self.ledger.opened(job.request_id, job.webhook, job.source_url)
        job.task = asyncio.create_task(self._run(job, operation))

    def _deliver(
        self, owed: OwedJob, job: Job | None = None, fault: Scenario | None = None
    ) -> None:
        """Send a job's final webhook; the ledger forgets the job once delivery has settled
        (delivered or given up), and keeps it if the mock stops first. Without `job` (owed
        from before a restart), in the default namespace and before every other."""
        self.ledger.finished(owed)
        assert owed.payload is not None
        order, namespace = (job.order, job.namespace) if job else (0, "")
        webhook = Webhook(owed.request_id, owed.webhook, owed.payload, order, namespace)
        task = self.webhooks.schedule(webhook, fault)

        def settled(done: asyncio.Task[Any]) -> None:
            if not done.cancelled():
                self.ledger.settled(owed.request_id)

        task.add_done_callback(settled)

    def recover(self) -> int:
        """After a restart on the same --data-dir: deliver what finished jobs still owe, fail the
        ones that were in flight. Returns how many webhooks that makes."""
        owed = self.ledger.owed()
        for entry in owed:
            if entry.payload is None:
                failure = failure_payload(entry.request_id, entry.source_url, RESTARTED)
                entry = dataclasses.replace(entry, payload=failure)
            self._deliver(entry)
        return len(owed)

    def _timed_out(self) -> JobFailed:
        return JobFailed(
            f"Request timed out after {self.job_timeout_seconds:g} seconds.",
            FailureReason.TIMED_OUT,
        )

    async def perform(self, job: Job, operation: Operation, synchronous: bool) -> Outcome:
        """The job's operation, bent by its job scenarios; JobFailed (or the engine's, the
        source's or the export's own error) when it fails."""
        if job.fault(Fault.INTERNAL_FAILURE):
            raise JobFailed(f"{INTERNAL_FAILURE} {scenario_note(Fault.INTERNAL_FAILURE)}")
        if job.fault(Fault.NEVER_COMPLETES):
            if not synchronous:
                await asyncio.Future()  # never resolves: only a reset or shutdown ends it
            await self.clock.sleep(self.job_timeout_seconds)
            raise self._timed_out()
        slow = job.fault(Fault.SLOW)
        if slow:
            seconds = slow.number("seconds")
            await self.clock.sleep(min(seconds, self.job_timeout_seconds))
            if seconds >= self.job_timeout_seconds:
                raise self._timed_out()
        return await operation.run(_JobWorkshop(self, job))

    def finish(self, job: Job, outcome: Outcome) -> dict[str, Any]:
        """Host what a successful job made, charge its price, and give its payload."""
        payload = success_payload(job.request_id, job.source_url, outcome)
        if outcome.json_name is not None:
            self.artifacts.put_json(
                job.request_id, outcome.json_name, payload, self.expires_at(job)
            )
        self.count(job, outcome.credit_cost)
        return payload

    def count(self, job: Job, credits: int) -> None:
        """`credits` count against `job`'s key from when it was queued (replacing what counted
        for it before); a failure releases them."""
        self.accounts.charge(job.key, job.request_id, credits, job.created_at)

    async def _run(self, job: Job, operation: Operation) -> None:
        try:
            await self._settle(job, operation)
        finally:
            self._unfinished.pop(job.request_id, None)
            # Only an unfinished job's task is ever cancelled. A finished one kept would hold
            # its coroutine and context for each of the KEPT_JOBS jobs: 40,000 objects more for
            # every full garbage collection to walk, which took up to 200 ms under wrk.
            job.task = None

    async def _settle(self, job: Job, operation: Operation) -> None:
        """Run the job to its one terminal state, and send what that state owes."""
        job.state = JobState.RUNNING
        try:
            outcome = await self.perform(job, operation, synchronous=False)
        except asyncio.CancelledError:
            if job.state is JobState.RUNNING:  # cancelled by shutdown, not by the watchdog
                raise
            return
        except JobFailed as error:
            self._finish_failed(job, error)
            return
        except (SourceError, AudioEngineError, EveryGroupFailed) as error:
            self._finish_failed(job, JobFailed(str(error)))
            return
        except Exception:
            log.exception("job %s failed unexpectedly", job.request_id)
            self._finish_failed(job, JobFailed(INTERNAL_FAILURE))
            return
        job.state = JobState.SUCCEEDED
        payload = self.finish(job, outcome)
        if job.webhook:
            owed = OwedJob(job.request_id, job.webhook, job.source_url, payload)
            self._deliver(owed, job, job.delivery_fault())

    def _finish_failed(self, job: Job, failed: JobFailed) -> None:
        job.state, job.failure = JobState.FAILED, failed.reason
        self.accounts.refund(job.request_id)
        if failed.reason is FailureReason.TIMED_OUT and not self.timeout_webhook:
            self.ledger.settled(job.request_id)  # the profile says a timed-out job goes unheard
            return
        if job.webhook:
            failure = failure_payload(job.request_id, job.source_url, str(failed), failed.recorded)
            owed = OwedJob(job.request_id, job.webhook, job.source_url, failure)
            self._deliver(owed, job, job.delivery_fault())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_SECONDS)
            deadline = self.clock.now() - self.job_timeout_seconds
            for job in list(self._unfinished.values()):
                if job.fault(Fault.NEVER_COMPLETES):
                    continue  # the scenario is that the client never hears back
                if job.state is JobState.RUNNING and job.created_at <= deadline and job.task:
                    self._finish_failed(job, self._timed_out())
                    job.task.cancel()

    def expires_at(self, job: Job) -> float:
        if job.fault(Fault.EXPIRED_ARTIFACT):
            return self.clock.now()  # already gone when the client comes for it
        return self.clock.now() + self.artifact_ttl_seconds

    async def source(self, job: Job) -> bytes:
        """The job's source file, or the SourceError its download scenario calls for."""
        assert job.source_url is not None
        failing = job.fault(Fault.SOURCE_DOWNLOAD_FAILS)
        if failing:
            status = int(failing.number("status"))
            raise SourceError(
                f"Could not download source file {job.source_url}: HTTP {status} "
                + scenario_note(Fault.SOURCE_DOWNLOAD_FAILS)
            )
        return await self.fetcher.fetch(job.source_url)

    def reset(self, namespace: str | None = None) -> list[str]:
        """Cancel and forget the jobs (of `namespace` only, if given); their request ids."""
        if namespace is None:
            for job in self._unfinished.values():
                if job.task:
                    job.task.cancel()
            self._unfinished.clear()
            self.ledger.clear()
            self.fetcher.reset()
            forgotten = list(self.jobs)
            self.jobs.clear()
            return forgotten
        forgotten = [rid for rid, job in self.jobs.items() if job.namespace == namespace]
        for request_id in forgotten:
            job = self.jobs.pop(request_id)
            if self._unfinished.pop(request_id, None) is not None and job.task:
                job.task.cancel()
            self.ledger.settled(request_id)
        return forgotten


class _JobWorkshop:
    """The `Workshop` an operation runs on: one job's view of the runner."""

    def __init__(self, runner: JobRunner, job: Job) -> None:
        self._runner = runner
        self._job = job

    async def compute(self, fn: Callable[..., R], *args: Any) -> R:
        return await self._runner.compute(fn, *args)

    async def analysis(
        self, data: bytes, raw_features: bool, limits: DecodeLimits
    ) -> dict[str, Any]:
        """The analysis, computed or remembered; either way the job keeps the song's waveform
        summary for the dashboard (audio/peaks.py), remembered beside the result."""
        analyses = self._runner.analyses
        key = await asyncio.to_thread(analysis_key, data, raw_features, limits)
        remembered = analyses.get(key)
        if remembered is None:
            fresh, levels = await self.compute(analyze_with_peaks, data, raw_features, limits)
            remembered = {"result": fresh, "peaks": list(levels)}
            analyses.put(key, remembered)
        self._job.peaks = bytes(remembered["peaks"])
        result: dict[str, Any] = remembered["result"]
        return result

    async def source(self) -> bytes:
        return await self._runner.source(self._job)

    async def probe(self, data: bytes) -> float | None:
        return await asyncio.to_thread(probe_duration, data)

    def store_file(self, name: str, data: bytes) -> None:
        job = self._job
        expires_at = self._runner.expires_at(job)
        self._runner.artifacts.put_file(job.request_id, name, data, expires_at)

    def count(self, credits: int) -> None:
        if self._job.state is JobState.RUNNING:  # not once the watchdog has failed it
            self._runner.count(self._job, credits)

    def has_limit(self) -> bool:
        return self._runner.accounts.has_limit(self._job.key)

    def fault(self, fault: Fault) -> Scenario | None:
        return self._job.fault(fault)
