"""The event-loop lag watcher: a blocked loop shows up as lag, in memory and in /metrics."""

from __future__ import annotations

import asyncio
import time

from bot.ops import metrics
from bot.ops.looplag import LoopLag


async def test_a_blocked_loop_is_measured_and_the_worst_is_kept() -> None:
    watcher = LoopLag(every=0.01)
    task = asyncio.create_task(watcher.watch())
    await asyncio.sleep(0.05)
    time.sleep(0.2)  # a start-up loop that never yields
    await asyncio.sleep(0.05)
    task.cancel()
    assert watcher.worst >= 0.15
    worst = watcher.worst
    watcher.observe(0.001)  # a smaller lag later does not replace the worst
    assert watcher.worst == worst
    exported = metrics.render().decode()
    assert "outage_bot_event_loop_lag_max_seconds" in exported and "outage_bot_event_loop_lag_seconds_bucket" in exported
