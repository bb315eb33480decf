"""The process pool CPU work runs in, so the event loop keeps answering while a song is analysed.

Workers are spawned, never forked: the server process has threads. A worker that dies fails the
call it was running, and the first call to notice replaces the pool once.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

from mock_server.jobs.job import JobFailed

P = ParamSpec("P")
R = TypeVar("R")
WORKER_DIED = "Internal error: the worker processing this request stopped."


class WorkerPool:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

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
            raise JobFailed(WORKER_DIED) from error

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
