"""Time, in one place: ``utcnow`` for code that takes a ``Callable[[], datetime]`` clock, and
the ``Clock`` the scheduler sleeps on (``SystemClock`` in production, simulate's
``VirtualClock``, a manual clock in tests). Every datetime the bot handles is UTC-aware."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Protocol


def utcnow() -> datetime:
    """The current instant, UTC-aware."""
    return datetime.now(timezone.utc)


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime) -> None: ...


class SystemClock:
    """Wall-clock time (UTC) and real sleeping."""

    def now(self) -> datetime:
        return utcnow()

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(max(0.0, (when - self.now()).total_seconds()))


__all__ = ["Clock", "SystemClock", "utcnow"]
