"""One job: what a request queued (or asked to be answered at once), its states, and how it ended.

Every job, queued with a webhook or answered synchronously, is the same object in the runner's
table: the dashboard lists it, a namespace's reset finds it, and its ending is one `Ending`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mock_server.faults.catalogue import Fault, Phase
from mock_server.faults.scenario import Scenario

INTERNAL_FAILURE = "Internal error while processing the request."
RESTARTED = "The mock restarted while this request was in flight; submit it again."
STOPPED = "The mock stopped while this request was in flight; submit it again."


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
    request, answered with a status the web layer chooses for `reason`). `recorded`: a replayed
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


@dataclass(frozen=True)
class Ending:
    """How a job ended: the payload its webhook carries (a synchronous request's answer body),
    and why it failed when it did."""

    payload: dict[str, Any]
    failed: JobFailed | None = None


@dataclass(slots=True)
class Job:
    request_id: str
    key: str
    created_at: float
    webhook: str | None
    source_url: str | None = None
    faults: tuple[Scenario, ...] = ()
    namespace: str = ""  # the namespace that queued it (see namespaces.py)
    route: str = ""  # the API route that made it ("/structure"): the dashboard names it
    state: JobState = JobState.QUEUED
    failure: FailureReason | None = None  # why it failed, once it has: the dashboard says so
    order: int = 0  # place in acknowledgement order, set when the job is submitted
    peaks: bytes = b""  # an analysis's waveform summary, for the dashboard (audio/peaks.py)
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    # What a synchronous request's client awaits (JobRunner.answer); None for a queued job.
    ended: asyncio.Future[Ending] | None = field(default=None, repr=False)

    @property
    def synchronous(self) -> bool:
        """Its client waits on the connection for the answer instead of a webhook."""
        return self.ended is not None

    def fault(self, fault: Fault) -> Scenario | None:
        return next((s for s in self.faults if s.fault is fault), None)

    def delivery_fault(self) -> Scenario | None:
        return next((s for s in self.faults if s.spec.phase is Phase.DELIVERY), None)

    def end(self, ending: Ending) -> None:
        """Settle what a synchronous client awaits; the first ending counts (the watchdog's
        timeout before the cancelled work's)."""
        if self.ended is not None and not self.ended.done():
            self.ended.set_result(ending)
