"""The simulation's accelerated virtual clock.

Virtual time only moves when the runner moves it (``advance_to``), so every poll, report and
delivery of a run happens at a well-defined virtual instant: the loopback servers answer what
the scenario says for *that* instant, and two runs of a scenario print the same story. ``speed``
paces the jumps against real time (``speed=600``: ten virtual minutes per real second); 0 runs
as fast as the pipeline can go (the test suite's mode).
"""

from __future__ import annotations

from asyncio import sleep
from time import monotonic
from datetime import datetime, timedelta, timezone


#: a shorter wait is not slept but carried into the next jump's (the anchors are absolute, so
#: the pace is kept): x-outage's ~17,000 small jumps would otherwise cost one timer and one
#: epoll wake-up each, some 0.7 CPU-s of its ~5
MIN_SLEEP = 0.02


class VirtualClock:
    """A clock for ``Scheduler``/``DeliveryWorker``/``CrowdService`` (``clock()`` → now)."""

    def __init__(self, start: datetime, *, speed: float = 0.0) -> None:
        if start.tzinfo is None:
            raise ValueError("the virtual clock needs an aware start time")
        if speed < 0:
            raise ValueError("speed must be 0 (as fast as possible) or positive")
        self._now = start.astimezone(timezone.utc)
        self.start = self._now
        self.speed = speed
        self._real_anchor = monotonic()
        self._virtual_anchor = self._now

    def __call__(self) -> datetime:
        return self._now

    def now(self) -> datetime:
        return self._now

    @property
    def elapsed(self) -> timedelta:
        """Virtual time since the start."""
        return self._now - self.start

    async def advance_to(self, when: datetime) -> None:
        """Move virtual time forward to ``when`` (never backwards), first waiting the real time
        that corresponds to it at ``speed`` (none at speed 0)."""
        if when <= self._now:
            return
        if self.speed > 0:
            due_real = self._real_anchor + (when - self._virtual_anchor).total_seconds() / self.speed
            wait = due_real - monotonic()
            if wait >= MIN_SLEEP:
                await sleep(wait)
            elif wait < -1.0:  # the pipeline fell behind: re-anchor instead of racing to catch up
                self._real_anchor = monotonic()
                self._virtual_anchor = when
        self._now = when

    async def sleep_until(self, when: datetime) -> None:
        """The scheduler's ``Clock`` protocol: jump (paced) to ``when``."""
        await self.advance_to(when)
