"""Jobs: queued requests, run in the background, ending in exactly one terminal state and webhook.

CPU work (analysis, resize, export) runs in a process pool so the event loop keeps answering; a
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
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ParamSpec, TypeVar

from mock_server.accounts import (
    Accounts,
    PricingRule,
    analyze_cost,
    export_cost,
    resize_cost,
)
from mock_server.artifacts import ArtifactStore
from mock_server.audio.analysis import analyze_bytes
from mock_server.audio.decode import probe_duration
from mock_server.audio.errors import AudioEngineError
from mock_server.audio.export import ExportedFile, ExportFailure, SegmentGroups, export_bytes
from mock_server.audio.resize import ResizeInput, resize_candidates
from mock_server.audio.types import DecodeLimits, ExportFormat
from mock_server.clock import MockClock
from mock_server.ledger import JobLedger, OwedJob
from mock_server.results import ANALYSIS, RESIZE, export_name
from mock_server.scenarios import Fault, Phase, Scenario, scenario_note
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
    """Why a job failed, for the layer that answers a synchronous request to choose a status."""

    INTERNAL = "internal"
    TIMED_OUT = "timed_out"


class JobFailed(Exception):
    """A job ends as failed with this message, sent in the failure webhook (or, for a synchronous
    resize, answered with a status the web layer chooses for `reason`)."""

    def __init__(self, message: str, reason: FailureReason = FailureReason.INTERNAL) -> None:
        super().__init__(message)
        self.reason = reason


INTERNAL_FAILURE = "Internal error while processing the request."
RESTARTED = "The mock restarted while this request was in flight; submit it again."


@dataclass
class Job:
    request_id: str
    key: str
    created_at: float
    webhook: str | None
    source_url: str | None = None
    faults: tuple[Scenario, ...] = ()
    state: JobState = JobState.QUEUED
    order: int = 0  # place in acknowledgement order, set when the job is submitted
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def fault(self, fault: Fault) -> Scenario | None:
        return next((s for s in self.faults if s.fault is fault), None)

    def delivery_fault(self) -> Scenario | None:
        return next((s for s in self.faults if s.spec.phase is Phase.DELIVERY), None)


@dataclass(frozen=True)
class JobContext:
    """What a job's work needs: where results go and how they are priced."""

    results_base: str
    pricing: PricingRule
    decode_limits: DecodeLimits


def failure_payload(request_id: str, source_url: str | None, message: str) -> dict[str, Any]:
    """The failure webhook. The reference says a failure is notified but shows no payload: this
    shape (`success: false`, a `message`, `creditCost: 0`) is the mock's inference."""
    payload: dict[str, Any] = {"requestId": request_id, "success": False, "message": message}
    if source_url is not None:
        payload["sourceFileUrl"] = source_url
    payload["creditCost"] = 0
    return payload


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

    def submit(
        self,
        job: Job,
        work: Callable[[Job], Awaitable[dict[str, Any]]],
        credits: int | None = None,
    ) -> None:
        """Queue `job`; `credits`, when its price is known already, count against its key's
        limit from now on, as queued requests do (released if it fails)."""
        if credits is not None:
            self.accounts.charge(job.key, job.request_id, credits, job.created_at)
        self.jobs[job.request_id] = job
        if len(self.jobs) > KEPT_JOBS:
            del self.jobs[next(iter(self.jobs))]
        self._unfinished[job.request_id] = job
        job.order = next(self._acknowledged)
        if job.webhook:
            self.ledger.opened(job.request_id, job.webhook, job.source_url)
        job.task = asyncio.create_task(self._run(job, work))

    def _deliver(self, owed: OwedJob, order: int = 0, fault: Scenario | None = None) -> None:
        """Send a job's final webhook; the ledger forgets the job once delivery has settled
        (delivered or given up), and keeps it if the mock stops first."""
        self.ledger.finished(owed)
        assert owed.payload is not None
        webhook = Webhook(owed.request_id, owed.webhook, owed.payload, order)
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

    async def perform(
        self, job: Job, work: Callable[[Job], Awaitable[dict[str, Any]]], synchronous: bool
    ) -> dict[str, Any]:
        """The job's work, bent by its job scenarios; JobFailed when it fails."""
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
        return await work(job)

    async def _run(self, job: Job, work: Callable[[Job], Awaitable[dict[str, Any]]]) -> None:
        try:
            await self._settle(job, work)
        finally:
            self._unfinished.pop(job.request_id, None)

    async def _settle(self, job: Job, work: Callable[[Job], Awaitable[dict[str, Any]]]) -> None:
        """Run the job to its one terminal state, and send what that state owes."""
        job.state = JobState.RUNNING
        try:
            payload = await self.perform(job, work, synchronous=False)
        except asyncio.CancelledError:
            if job.state is JobState.RUNNING:  # cancelled by shutdown, not by the watchdog
                raise
            return
        except (JobFailed, SourceError, AudioEngineError) as error:
            self._finish_failed(job, str(error))
            return
        except Exception:
            log.exception("job %s failed unexpectedly", job.request_id)
            self._finish_failed(job, INTERNAL_FAILURE)
            return
        job.state = JobState.SUCCEEDED
        self.accounts.charge(job.key, job.request_id, int(payload["creditCost"]), job.created_at)
        if job.webhook:
            owed = OwedJob(job.request_id, job.webhook, job.source_url, payload)
            self._deliver(owed, job.order, job.delivery_fault())

    def _finish_failed(self, job: Job, message: str) -> None:
        job.state = JobState.FAILED
        self.accounts.refund(job.request_id)
        if job.webhook:
            failure = failure_payload(job.request_id, job.source_url, message)
            owed = OwedJob(job.request_id, job.webhook, job.source_url, failure)
            self._deliver(owed, job.order, job.delivery_fault())

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_SECONDS)
            deadline = self.clock.now() - self.job_timeout_seconds
            for job in list(self._unfinished.values()):
                if job.fault(Fault.NEVER_COMPLETES):
                    continue  # the scenario is that the client never hears back
                if job.state is JobState.RUNNING and job.created_at <= deadline and job.task:
                    self._finish_failed(job, str(self._timed_out()))
                    job.task.cancel()

    def expires_at(self, job: Job) -> float:
        if job.fault(Fault.EXPIRED_ARTIFACT):
            return self.clock.now()  # already gone when the client comes for it
        return self.clock.now() + self.artifact_ttl_seconds

    async def _source(self, job: Job) -> bytes:
        assert job.source_url is not None
        failing = job.fault(Fault.SOURCE_DOWNLOAD_FAILS)
        if failing:
            status = int(failing.number("status"))
            raise SourceError(
                f"Could not download source file {job.source_url}: HTTP {status} "
                + scenario_note(Fault.SOURCE_DOWNLOAD_FAILS)
            )
        return await self.fetcher.fetch(job.source_url)

    def reset(self) -> None:
        for job in self._unfinished.values():
            if job.task:
                job.task.cancel()
        self._unfinished.clear()
        self.ledger.clear()
        self.fetcher.reset()
        self.jobs.clear()

    async def analyze(self, job: Job, raw: bool, context: JobContext) -> dict[str, Any]:
        data = await self._source(job)
        declared = await asyncio.to_thread(probe_duration, data)
        if declared is not None and job.state is JobState.RUNNING:  # its price is known now
            estimate = analyze_cost(declared, raw, context.pricing)
            self.accounts.charge(job.key, job.request_id, estimate, job.created_at)
        result = await self.compute(analyze_bytes, data, raw, context.decode_limits)
        payload = {
            "requestId": job.request_id,
            "sourceFileUrl": job.source_url,
            "result": result,
            "success": True,
            "creditCost": analyze_cost(result["duration"], raw, context.pricing),
        }
        self.artifacts.put_json(job.request_id, ANALYSIS, payload, self.expires_at(job))
        return payload

    async def resize(self, job: Job, request: ResizeInput, context: JobContext) -> dict[str, Any]:
        result = await self.compute(resize_candidates, request)
        payload = {
            "requestId": job.request_id,
            "result": result,
            "success": True,
            "creditCost": resize_cost(request.target_seconds, context.pricing),
        }
        self.artifacts.put_json(job.request_id, RESIZE, payload, self.expires_at(job))
        return payload

    async def export(
        self,
        job: Job,
        groups: SegmentGroups,
        fmt: ExportFormat,
        urls: list[str],
        context: JobContext,
    ) -> dict[str, Any]:
        data = await self._source(job)
        outcomes = await self.compute(export_bytes, data, groups, fmt, context.decode_limits)
        broken = job.fault(Fault.PARTIAL_EXPORT_FAILURE)
        if broken:
            number = int(broken.number("group"))
            index = number - 1 if 1 <= number <= len(outcomes) else len(outcomes) - 1
            outcomes[index] = ExportFailure(
                f"Failed to generate {export_name(index + 1, fmt)} "
                + scenario_note(Fault.PARTIAL_EXPORT_FAILURE)
            )
        failures: dict[str, str] = {}
        seconds = 0.0
        for number, (outcome, url) in enumerate(zip(outcomes, urls, strict=True), start=1):
            if isinstance(outcome, ExportedFile):
                name = export_name(number, fmt)
                self.artifacts.put_file(job.request_id, name, outcome.data, self.expires_at(job))
                seconds += outcome.duration_seconds
            else:
                failures[url] = outcome.message
        if len(failures) == len(urls):
            raise JobFailed("Every export group failed: " + "; ".join(failures.values()))
        return {
            "requestId": job.request_id,
            "sourceFileUrl": job.source_url,
            "resultUrls": urls,
            "failures": failures,
            "success": True,
            "creditCost": export_cost(seconds, context.pricing),
        }
