"""How late the event loop runs: one 100 ms sleep at a time, from the first line of ``run``.

Why: a poll, a query or a start-up loop that keeps the loop busy delays everything else in
the process — gateway heartbeats (Discord drops a bot that misses them), interaction answers
(3 s), sends. CPU figures do not show a stall; the lag does. ``run`` starts this watcher
before anything else, so start-up stalls count too; ``/metrics`` exports the histogram and the
worst lag since start (``benchmarks/process.py`` reads it).

A stall of 100 ms or more is also logged with the CPU time the loop's own thread used
meanwhile, because the two causes need different fixes: a thread that was running (our code or
a library's kept it busy: profile it) or one that was not (a blocking call, another thread
holding the GIL, or the machine itself paused: look outside the Python code).
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.ops import metrics

log = logging.getLogger("bot.ops.looplag")

#: how often the loop is sampled (seconds)
EVERY = 0.1
#: a lag logged as a stall (seconds): the same line the histogram's 0.1 bucket draws
STALL = 0.1
#: the share of a stalled sample's wall time (the sleep and the lag) the thread must have spent
#: on its CPU to call the loop busy
BUSY_SHARE = 0.5


class LoopLag:
    """The worst lag seen so far (seconds) and the watcher that measures it."""

    def __init__(self, every: float = EVERY) -> None:
        self.every = every
        self.worst = 0.0

    def observe(self, lag: float, cpu: float | None = None) -> None:
        """Record one sample; ``cpu`` is the loop thread's CPU time over it, when known."""
        lag = max(0.0, lag)
        metrics.event_loop_lag.observe(lag)
        if lag > self.worst:
            self.worst = lag
            metrics.event_loop_lag_max.set(lag)
        if lag >= STALL and cpu is not None:
            self._log_stall(lag, cpu)

    def _log_stall(self, lag: float, cpu: float) -> None:
        # the CPU is the whole sample's, its ``every`` of sleeping included (other tasks ran then)
        if cpu >= BUSY_SHARE * (self.every + lag):
            why = "its thread was running for most of it: a long callback (Python or a C call), profile it"
        else:
            why = "its thread was not running: a blocking call, another thread holding the GIL, or the machine paused"
        log.warning("the event loop stalled %.0f ms (its thread used %.0f ms of CPU meanwhile): %s",
                    lag * 1000, cpu * 1000, why)

    async def watch(self) -> None:
        """Sleep ``every`` forever and record how late each wake-up was (cancel to stop)."""
        loop = asyncio.get_running_loop()
        while True:
            started, cpu_started = loop.time(), time.thread_time()
            await asyncio.sleep(self.every)
            self.observe(loop.time() - started - self.every, time.thread_time() - cpu_started)


__all__ = ["BUSY_SHARE", "EVERY", "STALL", "LoopLag"]
