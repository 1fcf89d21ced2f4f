"""A clock for tests: time moves only when told to, and ``sleep_until`` jumps."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta


class ManualClock:
    """Time that moves only when told to; ``sleep_until`` jumps (no real sleeping)."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = max(self._now, when)

    async def sleep_until(self, when: datetime) -> None:
        self.set(when)
        await asyncio.sleep(0)
