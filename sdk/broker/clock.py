"""Clocks the broker schedules by: the wall clock in use, a virtual one in tests.

Every time the broker reads or waits on goes through a :class:`Clock`, so a TWAP run of
ten minutes takes no time under :class:`VirtualClock` and is deterministic, and the demo
can run a real venue at ten times the speed with :class:`AcceleratedClock`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["AcceleratedClock", "Clock", "VirtualClock", "WallClock", "venue_time"]


@runtime_checkable
class Clock(Protocol):
    """What the broker needs from time: read it, wait for it."""

    def now(self) -> datetime:
        """The current time, aware UTC."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return once ``now() >= when`` (at once when it already is)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class WallClock:
    """Real time, for use against a venue."""

    def now(self) -> datetime:
        """The current time, aware UTC."""
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        """Sleep until ``when`` in real time."""
        await self.sleep((when - self.now()).total_seconds())

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of real time (nothing for zero or less, but yield)."""
        await asyncio.sleep(max(0.0, seconds))


class AcceleratedClock:
    """Wall time running ``speed`` times faster from ``start``: a ten-minute TWAP in one.

    Requests to the venue still take real time; only the waits shrink.
    """

    def __init__(self, speed: float, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start = start or datetime.now(UTC)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        """The accelerated time, aware UTC."""
        return self._start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    async def sleep_until(self, when: datetime) -> None:
        """Sleep until the accelerated clock reaches ``when``."""
        await self.sleep((when - self.now()).total_seconds())

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of accelerated time."""
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def venue_now(self) -> datetime:
        """Real time: what a venue, which does not run faster, stamps its replies with."""
        return datetime.now(UTC)


class VirtualClock:
    """Time that only moves when every task is waiting on it: instant, deterministic runs.

    Sleepers wait in a heap; once the event loop has had a few rounds with nothing else
    to do for this clock, time jumps to the earliest sleeper and wakes it (and every
    sleeper due at the same instant). Concurrent tasks therefore wake in time order, as
    they would under a wall clock, without any real waiting.
    """

    # Loop rounds granted to other ready tasks before time jumps; enough for a wave's
    # children to reach their own awaits against an in-memory venue.
    _IDLE_ROUNDS = 50

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2024, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._advancing = False

    def now(self) -> datetime:
        """The virtual time, aware UTC."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by hand (tests); due sleepers wake on the next jump."""
        self._now += timedelta(seconds=seconds)
        self._schedule_jump()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of virtual time."""
        await self.sleep_until(self._now + timedelta(seconds=max(0.0, seconds)))

    async def sleep_until(self, when: datetime) -> None:
        """Wait until virtual time reaches ``when``; yields once even when it already has."""
        if when <= self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._seq), fut))
        self._schedule_jump()
        await fut

    def _schedule_jump(self) -> None:
        if self._advancing or not self._sleepers:
            return
        self._advancing = True
        asyncio.get_running_loop().call_soon(self._step, self._IDLE_ROUNDS)

    def _step(self, rounds: int) -> None:
        if rounds > 0:
            asyncio.get_running_loop().call_soon(self._step, rounds - 1)
            return
        self._advancing = False
        while self._sleepers and self._sleepers[0][2].cancelled():
            heapq.heappop(self._sleepers)
        if not self._sleepers:
            return
        due = max(self._now, self._sleepers[0][0])
        self._now = due
        while self._sleepers and self._sleepers[0][0] <= due:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
        self._schedule_jump()


def venue_time(clock: Clock) -> datetime:
    """The time a venue's timestamps (a book's, a trade's) compare with under ``clock``.

    A venue runs in real time even when the broker schedules by an accelerated clock, so a
    book fetched a moment ago must not look minutes old; a clock that says otherwise
    (``venue_now``) is asked, any other clock's own time is the venue's.
    """
    venue_now = getattr(clock, "venue_now", None)
    return venue_now() if callable(venue_now) else clock.now()
