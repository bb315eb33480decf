"""The job-phase fault scenarios, wrapped around a job's work in one place: an internal failure,
a job that never completes, a slow one, and a source download that fails (before the work, whose
first step is the download: so it also fails a job a recording or a per-test answer stands in
for, which downloads nothing).

Each fails the job the way the live API would be seen to (a failure webhook, or for a
synchronous request a failed answer); the runner only runs what this returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mock_server.clock import MockClock
from mock_server.faults.catalogue import Fault, scenario_note
from mock_server.jobs.job import INTERNAL_FAILURE, FailureReason, Job, JobFailed
from mock_server.sources import SourceError

T = TypeVar("T")


def timed_out(limit_seconds: float) -> JobFailed:
    return JobFailed(f"Request timed out after {limit_seconds:g} seconds.", FailureReason.TIMED_OUT)


async def with_job_faults(
    job: Job, work: Callable[[], Awaitable[T]], clock: MockClock, limit_seconds: float
) -> T:
    """`work()`, bent by the job's scenarios. A synchronous job that never completes still ends
    at the job limit: its client is waiting on the connection, not on a webhook."""
    if job.fault(Fault.INTERNAL_FAILURE):
        raise JobFailed(f"{INTERNAL_FAILURE} {scenario_note(Fault.INTERNAL_FAILURE)}")
    if job.fault(Fault.NEVER_COMPLETES):
        if not job.synchronous:
            await asyncio.Future()  # never resolves: only a reset or shutdown ends it
        await clock.sleep(limit_seconds)
        raise timed_out(limit_seconds)
    slow = job.fault(Fault.SLOW)
    if slow:
        seconds = slow.number("seconds")
        await clock.sleep(min(seconds, limit_seconds))
        if seconds >= limit_seconds:
            raise timed_out(limit_seconds)
    failing = job.fault(Fault.SOURCE_DOWNLOAD_FAILS)
    if failing:
        status = int(failing.number("status"))
        raise SourceError(
            f"Could not download source file {job.source_url}: HTTP {status} "
            + scenario_note(Fault.SOURCE_DOWNLOAD_FAILS)
        )
    return await work()
