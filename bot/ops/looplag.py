"""How late the event loop runs: one 100 ms sleep at a time, from the first line of ``run``.

Why: a poll, a query or a start-up loop that keeps the loop busy delays everything else in
the process — gateway heartbeats (Discord drops a bot that misses them), interaction answers
(3 s), sends. CPU figures do not show a stall; the lag does. ``run`` starts this watcher
before anything else, so start-up stalls count too; ``/metrics`` exports the histogram and the
worst lag since start (``benchmarks/process.py`` reads it).
"""

from __future__ import annotations

import asyncio

from bot.ops import metrics

#: how often the loop is sampled (seconds)
EVERY = 0.1


class LoopLag:
    """The worst lag seen so far (seconds) and the watcher that measures it."""

    def __init__(self, every: float = EVERY) -> None:
        self.every = every
        self.worst = 0.0

    def observe(self, lag: float) -> None:
        lag = max(0.0, lag)
        metrics.event_loop_lag.observe(lag)
        if lag > self.worst:
            self.worst = lag
            metrics.event_loop_lag_max.set(lag)

    async def watch(self) -> None:
        """Sleep ``every`` forever and record how late each wake-up was (cancel to stop)."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.every)
            self.observe(loop.time() - started - self.every)


__all__ = ["EVERY", "LoopLag"]
