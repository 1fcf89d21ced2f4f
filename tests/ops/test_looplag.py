"""The event-loop lag watcher: a blocked loop shows up as lag, in memory and in /metrics."""

from __future__ import annotations

import asyncio
import time

import pytest

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


def _spin(cpu_seconds: float) -> None:
    """Keep this thread on the CPU for ``cpu_seconds`` of its own CPU time."""
    until = time.thread_time() + cpu_seconds
    while time.thread_time() < until:
        pass


async def _longest_stall(block: "object", caplog: "object") -> str:
    """What was logged of the longest stall while ``block`` held the loop (a busy machine may add others)."""
    watcher = LoopLag(every=0.05)
    task = asyncio.create_task(watcher.watch())
    await asyncio.sleep(0.02)
    with caplog.at_level("WARNING", logger="bot.ops.looplag"):  # type: ignore[attr-defined]
        block()  # type: ignore[operator]
        await asyncio.sleep(0.1)
    task.cancel()
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.ops.looplag"]  # type: ignore[attr-defined]
    assert messages, "the stall was not logged"
    return max(messages, key=lambda m: int(m.split("stalled ")[1].split(" ms")[0]))


async def test_a_stall_spent_running_python_is_logged(caplog) -> None:  # type: ignore[no-untyped-def]
    """Real time: a callback that never yields is logged as a stall (how it is classified
    depends on how much of a core this thread got, which a loaded machine decides)."""
    message = await _longest_stall(lambda: _spin(0.3), caplog)
    assert message.startswith("the event loop stalled ")


async def test_a_stall_spent_blocked_is_logged_as_a_thread_that_was_not_running(caplog) -> None:  # type: ignore[no-untyped-def]
    message = await _longest_stall(lambda: time.sleep(0.3), caplog)
    assert "its thread was not running" in message


@pytest.mark.parametrize(
    ("lag", "cpu", "busy"),
    [
        (0.3, 0.33, True),  # the whole stall and a little of the sleep on the CPU
        (0.3, 0.2, True),  # half the sample's 0.4 s
        (0.3, 0.19, False),
        (0.3, 0.001, False),  # a blocking call, or the machine paused
    ],
)
def test_a_stall_is_called_busy_when_its_thread_ran_half_the_sample(caplog, lag: float, cpu: float, busy: bool) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level("WARNING", logger="bot.ops.looplag"):
        LoopLag(every=0.1).observe(lag, cpu=cpu)
    [record] = caplog.records
    assert f"stalled {lag * 1000:.0f} ms (its thread used {cpu * 1000:.0f} ms of CPU" in record.getMessage()
    assert ("its thread was running for most of it" in record.getMessage()) is busy
    assert ("its thread was not running" in record.getMessage()) is not busy


async def test_lags_under_the_stall_line_are_not_logged(caplog) -> None:  # type: ignore[no-untyped-def]
    watcher = LoopLag()
    with caplog.at_level("WARNING", logger="bot.ops.looplag"):
        watcher.observe(0.09, cpu=0.19)
        watcher.observe(0.2)  # no CPU figure (a caller outside the watcher): recorded, not logged
    assert not caplog.records
    assert watcher.worst == 0.2
