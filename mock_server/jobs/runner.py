"""The runner: every job, queued or answered at once, ends here in exactly one terminal state.

The runner runs any operation (see operations.py) and knows none of them by name: it registers
the job, performs it (bent by its job scenarios, job_faults.py) on the worker pool, hosts what it
made, charges it, and sends or hands back its one ending. A watchdog fails any job still running
after the job limit of mock time, as the reference promises ("requests will not take longer than
7 minutes").
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from mock_server.accounts import Accounts
from mock_server.audio.errors import AudioEngineError
from mock_server.clock import MockClock
from mock_server.faults.catalogue import Fault
from mock_server.faults.scenario import Scenario
from mock_server.jobs.analyses import AnalysisCache
from mock_server.jobs.artifacts import ArtifactStore
from mock_server.jobs.job import (
    INTERNAL_FAILURE,
    RESTARTED,
    STOPPED,
    Ending,
    FailureReason,
    Job,
    JobFailed,
    JobState,
)
from mock_server.jobs.job_faults import timed_out, with_job_faults
from mock_server.jobs.operations import EveryGroupFailed, Operation, Outcome
from mock_server.jobs.owed import JobLedger, OwedJob
from mock_server.jobs.payloads import failure_payload, success_payload
from mock_server.jobs.pool import WorkerPool
from mock_server.jobs.workshop import JobWorkshop
from mock_server.sources import SourceError, SourceFetcher
from mock_server.webhooks import Webhook, WebhookDispatcher

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
WATCHDOG_SECONDS = 0.25
KEPT_JOBS = 10_000  # finished jobs remembered for inspection, like the journal's entries


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
        self.pool = WorkerPool(workers)
        self._watchdog: asyncio.Task[None] | None = None
        self._acknowledged = itertools.count(1)  # 0 is left to webhooks owed from before a restart

    def start(self) -> None:
        self._watchdog = asyncio.create_task(self._watch())

    async def close(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()
        tasks = [job.task for job in self._unfinished.values() if job.task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.pool.shutdown()

    async def compute(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run `fn` in a worker process (pool.py)."""
        return await self.pool.compute(fn, *args, **kwargs)

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

    async def answer(self, job: Job, operation: Operation, credits: int | None = None) -> Ending:
        """A synchronous request: the job submitted like any other, and its ending awaited. A
        client that drops the connection does not take the job with it (shielded): it still
        ends, is hosted and charged, and stays listed."""
        ended = job.ended = asyncio.get_running_loop().create_future()
        self.submit(job, operation, credits)
        return await asyncio.shield(ended)

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

    def count(self, job: Job, credits: int) -> None:
        """`credits` count against `job`'s key from when it was queued (replacing what counted
        for it before); a failure releases them."""
        self.accounts.charge(job.key, job.request_id, credits, job.created_at)

    async def _run(self, job: Job, operation: Operation) -> None:
        try:
            await self._settle(job, operation)
        finally:
            self._unfinished.pop(job.request_id, None)
            if job.ended is not None and not job.ended.done():  # cancelled before it ended
                failure = failure_payload(job.request_id, job.source_url, STOPPED)
                job.end(Ending(failure, JobFailed(STOPPED)))
            # Only an unfinished job's task is ever cancelled. A finished one kept would hold
            # its coroutine and context for each of the KEPT_JOBS jobs: 40,000 objects more for
            # every full garbage collection to walk, which took up to 200 ms under wrk.
            job.task = None

    async def _settle(self, job: Job, operation: Operation) -> None:
        """Run the job to its one terminal state, and send what that state owes."""
        job.state = JobState.RUNNING
        try:
            outcome = await with_job_faults(
                job,
                lambda: operation.run(JobWorkshop(self, job)),
                self.clock,
                self.job_timeout_seconds,
            )
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
        payload = self._host_and_charge(job, outcome)
        job.end(Ending(payload))
        if job.webhook:
            owed = OwedJob(job.request_id, job.webhook, job.source_url, payload)
            self._deliver(owed, job, job.delivery_fault())

    def _host_and_charge(self, job: Job, outcome: Outcome) -> dict[str, Any]:
        """Host what a successful job made, charge its price, and give its payload."""
        payload = success_payload(job.request_id, job.source_url, outcome)
        if outcome.json_name is not None:
            self.artifacts.put_json(
                job.request_id, outcome.json_name, payload, self.expires_at(job)
            )
        self.count(job, outcome.credit_cost)
        return payload

    def _finish_failed(self, job: Job, failed: JobFailed) -> None:
        job.state, job.failure = JobState.FAILED, failed.reason
        self.accounts.refund(job.request_id)
        failure = failure_payload(job.request_id, job.source_url, str(failed), failed.recorded)
        job.end(Ending(failure, failed))
        if failed.reason is FailureReason.TIMED_OUT and not self.timeout_webhook:
            self.ledger.settled(job.request_id)  # the profile says a timed-out job goes unheard
            return
        if job.webhook:
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
                    self._finish_failed(job, timed_out(self.job_timeout_seconds))
                    job.task.cancel()

    def expires_at(self, job: Job) -> float:
        if job.fault(Fault.EXPIRED_ARTIFACT):
            return self.clock.now()  # already gone when the client comes for it
        return self.clock.now() + self.artifact_ttl_seconds

    def reset(self, namespace: str | None = None) -> list[str]:
        """Forget the jobs (of `namespace` only, if given) and cancel their work; their request
        ids. A synchronous job's work is left to end, as before it was a job: its client is
        waiting on the connection for the answer, and gets it."""
        if namespace is None:
            forgotten = list(self.jobs)
            for job in list(self._unfinished.values()):
                self._cancel(job)
            self.ledger.clear()
            self.fetcher.reset()
            self.jobs.clear()
            return forgotten
        forgotten = [rid for rid, job in self.jobs.items() if job.namespace == namespace]
        for request_id in forgotten:
            job = self.jobs.pop(request_id)
            if request_id in self._unfinished:
                self._cancel(job)
            self.ledger.settled(request_id)
        return forgotten

    def _cancel(self, job: Job) -> None:
        if job.synchronous:
            return
        self._unfinished.pop(job.request_id, None)
        if job.task:
            job.task.cancel()
