"""Mock time's simulated waits: `advance` ends them, `reset` lengthens them, and a wait ends by
itself once due, without polling the clock in between."""

from __future__ import annotations

import asyncio

from mock_server.clock import MockClock


async def _settle() -> None:
    """A few loop turns: enough for a woken wait to notice it is due and return."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_advance_ends_a_wait_at_once() -> None:
    clock = MockClock()
    wait = asyncio.create_task(clock.sleep(3600))
    await _settle()
    assert not wait.done()
    clock.advance(3600)
    await _settle()
    assert wait.done()


async def test_advance_short_of_the_wait_leaves_it_waiting() -> None:
    clock = MockClock()
    wait = asyncio.create_task(clock.sleep(3600))
    await _settle()
    clock.advance(1800)
    await _settle()
    assert not wait.done()
    clock.advance(1800)
    await _settle()
    assert wait.done()


async def test_reset_wakes_a_wait_that_then_waits_on() -> None:
    clock = MockClock()
    clock.advance(100)
    wait = asyncio.create_task(clock.sleep(3600))
    await _settle()
    clock.reset()
    await _settle()
    assert not wait.done()
    wait.cancel()


async def test_a_wait_ends_by_itself_when_due() -> None:
    clock = MockClock(time_scale=1000)
    await clock.sleep(1)  # 1 ms of real time


async def test_a_cancelled_wait_leaves_no_sleeper_behind() -> None:
    clock = MockClock()
    wait = asyncio.create_task(clock.sleep(3600))
    await _settle()
    wait.cancel()
    await _settle()
    assert wait.cancelled()
    assert not clock._sleepers
