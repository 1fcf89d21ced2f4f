"""Garbage collection that does not stop the loop: what start-up loads is frozen, pauses measured.

Why: CPython's full (generation 2) collection walks every tracked object with the event loop
stopped. At 20,000 sources and 100,000 cached channels that was 0.3–0.5 s every few seconds —
the process's worst loop lag and heartbeat delay, long after start-up (``benchmarks/process.py``
with ``PYTHONASYNCIODEBUG=1`` showed the stalls at arbitrary points of arbitrary tasks). Nearly
everything start-up builds (the catalog, the scheduler's slots, the detector states, discord.py's
guild and channel cache) lives as long as the process, so ``gc.freeze()`` moves it out of every
later collection; reference counting still frees what dies, only cycles among frozen objects
are kept (start-up leaves few). ``run`` freezes twice: once loaded (before the gateway
connects) and once settled (ready, the scheduler synced), and spaces full collections out from
its first line (loading and the gateway's burst of guilds build hundreds of thousands of objects
that all stay alive: at Python's default pace, full collections over them stopped the loop for
70-80 ms each during start-up). Each pause of a full collection is timed into ``/metrics``
(``gc_pause_max_seconds``), so a regression shows.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from bot.ops import metrics

log = logging.getLogger("bot.ops.gcpause")
#: a full collection at least this long is logged (at most once a minute)
SLOW = 0.1
#: a full collection at most every this many middle-generation collections (from start-up on)
FULL_EVERY = 1000


class GcPauses:
    """Times full collections (``gc.callbacks``): the worst so far, exported as a gauge."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._started: float | None = None
        self._warned_at = float("-inf")

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            pause = time.perf_counter() - self._started
            self._started = None
            if pause > self.worst:
                self.worst = pause
                metrics.gc_pause_max.set(pause)
            if pause >= SLOW and time.monotonic() - self._warned_at >= 60.0:  # (at most one a minute)
                self._warned_at = time.monotonic()
                log.warning(
                    "a full garbage collection stopped the loop for %.0f ms (%d objects collected, %d frozen)",
                    pause * 1000, info.get("collected", 0), gc.get_freeze_count(),
                )

    def install(self) -> "GcPauses":
        if self not in gc.callbacks:
            gc.callbacks.append(self)
        return self

    def uninstall(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)


def freeze(stage: str) -> int:
    """Move every object alive now out of later collections; returns how many were moved."""
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("%s: %d objects frozen out of garbage collection", stage, frozen)
    return frozen


def fewer_full_collections(every: int = FULL_EVERY) -> None:
    """A full collection at most every ``every`` collections of the middle generation (Python's
    default: 10). The per-service state the detector keeps (a reading, a verdict, an incident
    state per service: about 17 tracked objects each) lives in the oldest generation and is
    replaced at every poll, so at 20,000 sources the default ran a full collection every 8–25 s
    that found nothing to free and stopped the loop for up to 250 ms (100 still ran one every
    80 s or so; 1,000 makes it one every quarter of an hour or so). Young generations are
    still collected as often as before (cycles die young); only a cycle that lived long enough
    to reach the oldest generation waits longer."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, every)


__all__ = ["FULL_EVERY", "GcPauses", "fewer_full_collections", "freeze"]
