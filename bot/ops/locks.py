"""One lock per key, kept only while someone holds or waits for it.

A lock per service, channel or page typed by a user is what keeps two refreshes, relearnings
or deliveries of the same thing apart; a lock per *catalog* entry, kept for ever, is 20,000
locks (about 97 bytes each, 1.9 MB) at 20,000 services, and one per channel ever written to
grows without bound. ``KeyedLock`` makes the lock when
the first caller arrives and drops it when the last one leaves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedLock:
    """``async with locks.hold(key):`` — one holder per key at a time, in arrival order."""

    __slots__ = ("_locks",)

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        """How many keys have a holder or a waiter now."""
        return len(self._locks)
