"""Pacing sends under Discord's global limit (50 requests a second per bot), so the bot never
learns the limit from 429s: each send takes the next evenly spaced slot of a token bucket.
``bot.discord.ratelimit.GlobalLimit`` is the other half: it stops every send while Discord
says the limit was hit anyway.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable


class Pacer:
    """A token bucket that hands out evenly spaced send slots (``rate`` per second, ``burst`` at
    once), so the bot stays under Discord's global limit without provoking 429s. ``None`` turns
    pacing off. ``pause(s)`` holds every later slot back (after a rate limit reached us)."""

    def __init__(
        self,
        rate: float | None,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (or None for no pacing)")
        self.interval = 1.0 / rate if rate else 0.0
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._paused_until = float("-inf")

    def reserve(self) -> float:
        """Take the next slot; returns how long to wait for it (0 when it is free now)."""
        now = self._clock()
        slot = max(now - (self.burst - 1) * self.interval, self._next, self._paused_until)
        self._next = slot + self.interval
        return max(0.0, slot - now)

    async def acquire(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await self._sleep(delay)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)
