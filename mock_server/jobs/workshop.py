"""The `Workshop` an operation runs on (operations.py): one job's view of the runner, so an
operation reaches the pool, its source, the result store and the usage ledger only through it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from mock_server.audio.analysis import AnalysisResult, analyze_with_peaks
from mock_server.audio.decode import probe_duration
from mock_server.audio.types import DecodeLimits
from mock_server.faults.catalogue import Fault
from mock_server.faults.scenario import Scenario
from mock_server.jobs.analyses import analysis_from_json, analysis_key
from mock_server.jobs.job import Job, JobState

if TYPE_CHECKING:
    from mock_server.jobs.runner import JobRunner

R = TypeVar("R")


class JobWorkshop:
    def __init__(self, runner: JobRunner, job: Job) -> None:
        self._runner = runner
        self._job = job

    async def compute(self, fn: Callable[..., R], *args: Any) -> R:
        return await self._runner.compute(fn, *args)

    async def analysis(
        self, data: bytes, raw_features: bool, limits: DecodeLimits
    ) -> AnalysisResult:
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
        return analysis_from_json(remembered["result"])

    async def source(self) -> bytes:
        assert self._job.source_url is not None
        return await self._runner.fetcher.fetch(self._job.source_url)

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
