"""Discord's global rate limit and the send pace, shared by every process behind one token.

Why it works this way:

- **The limit is per bot, not per process.** Discord allows a bot 50 requests a second in
  all; three ``run`` processes each pacing themselves at 48 would send 144 and collect global
  429s (and invalid requests towards the IP ban). With ``REDIS_URL`` they take their send slots
  from one schedule in Redis and honour one global-limit deadline.
- **One atomic script each, on Redis's clock.** ``RedisPacer`` is a GCRA: the key holds the
  next free slot; a caller takes ``max(slot, now - (burst - 1) × interval)``, moves the key one
  interval on and sleeps until its slot. ``RedisGlobalLimit.hold`` moves a deadline only later.
  Both read ``TIME`` inside the script, so processes on hosts whose clocks differ still agree,
  and both keys expire by themselves: a crashed process leaves nothing behind.
- **Redis going away never stops the alerts.** Each call that cannot reach Redis falls back
  to this process's own ``LocalGlobalLimit``/``Pacer`` and logs a warning (at most once a
  minute); the next call tries Redis again. At start, ``connect_shared_limits`` refuses an
  unreachable Redis with a clear error instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from bot.settings import redact_url
from bot.discord.ratelimit import LocalGlobalLimit
from bot.discord.pacing import Pacer

log = logging.getLogger(__name__)

#: seconds between two "Redis unreachable" warnings
WARN_EVERY_S = 60.0
#: seconds a process paces alone after Redis failed, before it tries Redis again
RETRY_AFTER_S = 5.0

# KEYS[1]: the next free slot (ms, Redis time); ARGV: interval ms, burst. Returns ms to wait.
_PACE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
slot = math.max(slot, now - (burst - 1) * interval)
redis.call('SET', KEYS[1], slot + interval, 'PX', math.max(1000, math.ceil(slot + interval - now) + 1000))
return math.max(0, slot - now)
"""

# KEYS[1]: the deadline (ms, Redis time); ARGV[1]: ms to hold from now. Returns 1 if extended.
_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl <= current then return 0 end
redis.call('SET', KEYS[1], untl, 'PX', math.max(1, tonumber(ARGV[1])))
return 1
"""


class _Fallback:
    """Redis failed: this process goes on alone for ``RETRY_AFTER_S`` before trying it again
    (a send must not wait for a dead Redis's timeouts each time), and says so once a minute."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._warned_at = float("-inf")
        self._failed_at = float("-inf")

    @property
    def alone(self) -> bool:
        return time.monotonic() - self._failed_at < RETRY_AFTER_S

    def note(self, exc: Exception) -> None:
        now = time.monotonic()
        self._failed_at = now
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning("Redis is unreachable (%s: %s): %s in this process alone until it is back",
                        type(exc).__name__, exc, self.what)


class RedisGlobalLimit:
    """``GlobalLimit`` (``bot.discord.ratelimit``) whose deadline lives in Redis."""

    def __init__(self, client: Any, key: str, *, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.key = key
        self._client = client
        self._hold = client.register_script(_HOLD)
        self._sleep = sleep
        self._local = LocalGlobalLimit()
        self._fallback = _Fallback("Discord's global limit is honoured")

    async def wait(self) -> None:
        await self._local.wait()
        while not self._fallback.alone:
            try:
                ms = int(await self._client.pttl(self.key))
            except Exception as exc:  # noqa: BLE001 - any client error: go on locally
                self._fallback.note(exc)
                return
            if ms <= 0:  # no key (-2), no limit in force
                return
            await self._sleep(ms / 1000)

    async def hold(self, seconds: float) -> None:
        await self._local.hold(seconds)  # this process stops at once, whatever Redis says
        if self._fallback.alone:
            return
        try:
            await self._hold(keys=[self.key], args=[max(1, int(seconds * 1000))])
        except Exception as exc:  # noqa: BLE001
            self._fallback.note(exc)


class RedisPacer:
    """``Pacer``'s ``acquire()`` with one schedule of send slots for every process."""

    def __init__(
        self, client: Any, key: str, rate: float | None, *, burst: int = 1,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:  # fmt: skip
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (or None for no pacing)")
        self.key = key
        self.rate = rate
        self.interval = 1.0 / rate if rate else 0.0
        self.burst = max(1, burst)
        self._client = client
        self._pace = client.register_script(_PACE)
        self._sleep = sleep
        self._local = Pacer(rate, burst=burst)
        self._fallback = _Fallback("sends are paced")

    async def acquire(self) -> None:
        if self.rate is None:
            return
        if self._fallback.alone:
            await self._local.acquire()
            return
        try:
            ms = int(await self._pace(keys=[self.key], args=[max(1, round(self.interval * 1000)), self.burst]))
        except Exception as exc:  # noqa: BLE001
            self._fallback.note(exc)
            await self._local.acquire()
            return
        if ms > 0:
            await self._sleep(ms / 1000)


@dataclass
class SharedLimits:
    """What ``connect_shared_limits`` builds: both objects over one Redis client."""

    global_limit: RedisGlobalLimit
    pacer: RedisPacer
    client: Any

    async def aclose(self) -> None:
        await self.client.aclose()


def redis_client(url: str) -> Any:
    """A client that fails fast (2 s timeouts, one retry): a send waits on it."""
    import redis.asyncio as redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0, retry=Retry(NoBackoff(), 1))


async def connect_shared_limits(url: str, *, namespace: str, rate: float | None, burst: int = 1) -> SharedLimits:
    """Connect to Redis at ``url`` (one ping: an unreachable Redis is refused at start, with a
    message naming the URL without its password); keys live under ``outage-bot:<namespace>:``."""
    client = redis_client(url)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        raise ConnectionError(
            f"REDIS_URL={redact_url(url)}: cannot reach Redis ({type(exc).__name__}): start it or fix REDIS_URL"
        ) from None
    prefix = f"outage-bot:{namespace}:"
    return SharedLimits(RedisGlobalLimit(client, prefix + "global"), RedisPacer(client, prefix + "pace", rate, burst=burst), client)


__all__ = ["RedisGlobalLimit", "RedisPacer", "SharedLimits", "connect_shared_limits", "redis_client"]
