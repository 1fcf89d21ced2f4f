"""Which process polls and detects: the one holding the poller lease.

Why it works this way:

- **One detector.** The monitor keeps each service's incident state in memory and writes
  events from it; two processes detecting at once would open every incident twice. So
  several ``run`` processes (``SHARD_IDS``) elect one poller; every process still answers
  commands and sends deliveries (the outbox is shared with ``SKIP LOCKED``).
- **A lease row in database time** (``bot/db/leases.py``): PostgreSQL is the one store every
  process shares, and the database's ``now()`` decides, so clocks of different hosts never
  matter.
- **Renewed every third of the lease.** A holder that dies (``kill -9``) stops renewing; its
  row runs out one lease after the last renewal and the next follower to try takes it: the
  poller is back within ``lease + lease/3``, under two lease periods. A clean stop deletes the
  row, so a deploy hands over at once.
- **The holder knows first when it lost.** ``held`` counts from the moment the renewal was
  *sent*, minus a tenth, by this process's monotonic clock: the database's ``until`` is at least
  that late, so the old poller stops writing before anyone else may start (a process paused
  longer than its lease wakes up deposed and drops what it was polling).
- **SQLite serves one process** (the settings refuse ``SHARD_IDS``/``REDIS_URL`` with it): the
  lease is always this process's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Awaitable, Callable

from bot.db.leases import POLLER, LeaseStore
from bot.ops import metrics

log = logging.getLogger(__name__)

Transition = Callable[[], Awaitable[None]]


class Leadership:
    """Holds (or waits for) the poller lease; runs ``on_elected``/``on_deposed`` as it changes."""

    def __init__(
        self,
        store: LeaseStore,
        holder: str,
        *,
        lease: float = 15.0,
        name: str = POLLER,
        on_elected: Transition | None = None,
        on_deposed: Transition | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.holder = holder
        self.lease = lease
        self.name = name
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self._clock = clock
        self._valid_until = float("-inf")
        self._leading = False

    @property
    def held(self) -> bool:
        """The lease is ours by our own clock (safely inside the database's deadline)."""
        return self._clock() < self._valid_until

    @property
    def leading(self) -> bool:
        """Held, and ``on_elected`` has finished: the poller may write."""
        return self._leading and self.held

    async def step(self) -> bool:
        """Claim or renew once, then run the transition that follows; returns ``leading``."""
        sent = self._clock()
        try:
            ok = await self.store.claim(self.name, self.holder, self.lease)
        except Exception as exc:  # the database is away: keep what the last renewal still covers
            log.warning("could not renew the poller lease: %s", exc)
            ok = False
        if ok:
            self._valid_until = sent + 0.9 * self.lease
        if self.held and not self._leading:
            log.info("elected as the poller (lease %s s)", f"{self.lease:g}")
            if self.on_elected is not None:
                await self.on_elected()
            self._leading = True
            metrics.poller_leader.set(1)
        elif not self.held and self._leading:
            await self._depose("the poller lease was lost: another process polls now")
        return self.leading

    async def _depose(self, why: str) -> None:
        log.warning("%s", why)
        self._leading = False
        metrics.poller_leader.set(0)
        if self.on_deposed is not None:
            await self.on_deposed()

    async def run(self, stop: asyncio.Event) -> None:
        """Try every third of the lease until ``stop``; then give the lease up at once."""
        try:
            while not stop.is_set():
                await self.step()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.lease / 3)
        finally:
            if self._leading:
                self._leading = False
                metrics.poller_leader.set(0)
                with contextlib.suppress(Exception):
                    await self.store.release(self.name, self.holder)
                log.info("poller lease released")


__all__ = ["Leadership"]
