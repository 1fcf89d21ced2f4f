"""Discord's global rate limit and its invalid-request ban, for the whole process.

Why it works this way:

- **One gate for every request.** A global 429 (body ``"global": true``, or the header
  ``X-RateLimit-Global: true`` / ``X-RateLimit-Scope: global``) means no request with the bot's
  token may go out until its ``Retry-After`` has passed; each one sent meanwhile is answered 429
  again and counts towards the ban. discord.py honours it only partly: it waits for it before a
  request's first try, but its retries after a per-route 429, requests already waiting on
  their bucket, and an earlier global limit ending during a later one all go out anyway, and
  it ignores the headers. So ``discord_http_trace`` hooks discord.py's own aiohttp session:
  every request waits on a ``GlobalLimit`` before it is sent, and every 429 answer that says
  global holds that limit, before discord.py even reads it. The outbox waits on the same object
  before it takes a paced slot (``bot/discord/delivery.py``, ``bot/discord/pacing.py``).
- **An interface, so processes can share it.** ``GlobalLimit`` is two coroutines, ``wait()``
  and ``hold(seconds)``. ``LocalGlobalLimit`` is this process's; one backed by Redis
  (``REDIS_URL``: hold = ``SET key until PX``, wait = read it) plugs in where ``run_bot``
  builds it, for several processes behind one token.
- **Interaction responses are exempt.** Discord documents that interaction endpoints
  (``/interactions/…/callback`` and the follow-up webhooks) are not bound to the global limit:
  ``/isitdown`` keeps answering while alerts wait.
- **Invalid requests are counted.** Discord bans the IP for a while after 10,000 invalid
  requests (401, 403, 429) in 10 minutes; 429s with ``X-RateLimit-Scope: shared`` (a shared
  resource's limit) do not count. ``InvalidRequests`` counts them from the same hook into
  ``outage_bot_discord_invalid_requests_total{status}`` and the 10-minute window gauge, and
  logs a warning each time the window crosses another ``WARN_EVERY`` (1,000: a tenth of the
  ban). A healthy bot makes almost none — pacing avoids 429s and a 403/404 channel is disabled
  after one — so 1,000 in ten minutes (1.7 a second, sustained) is already a bug or an attack,
  and leaves 9,000 (three minutes even at the full 50 requests a second) to act.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Awaitable, Callable, Protocol

import aiohttp

from bot.ops import metrics

log = logging.getLogger(__name__)

#: Discord's ban: this many invalid requests within BAN_WINDOW_S seconds
BAN_THRESHOLD = 10_000
BAN_WINDOW_S = 600.0
#: warn each time the 10-minute window crosses another multiple of this (a tenth of the ban)
WARN_EVERY = 1_000
#: paths (after the API version) not bound to the global limit
EXEMPT_PREFIXES = ("/interactions/", "/webhooks/")


class GlobalLimit(Protocol):
    """Discord's global rate limit as this bot sees it (one process, or shared)."""

    async def wait(self) -> None:
        """Return when a request may be sent (at once when no global limit is in force)."""

    async def hold(self, seconds: float) -> None:
        """Discord announced a global limit: nothing is sent for ``seconds`` from now (a longer
        limit already in force stays)."""


class LocalGlobalLimit:
    """The global limit of one process."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._until = float("-inf")

    def remaining(self) -> float:
        """Seconds until the limit ends (0 when none is in force)."""
        return max(0.0, self._until - self._clock())

    async def wait(self) -> None:
        while True:
            until = self._until
            delay = until - self._clock()
            if delay <= 0:
                return
            await self._sleep(delay)
            if self._until <= until:  # not extended while we slept
                return

    async def hold(self, seconds: float) -> None:
        until = self._clock() + max(0.0, seconds)
        if until > self._until:
            self._until = until
            metrics.discord_global_limits.inc()
            log.warning("Discord announced a global rate limit: holding every send for %.2f s", seconds)


class InvalidRequests:
    """Counts the requests Discord counts towards its ban (see the module docstring)."""

    def __init__(
        self,
        *,
        window: float = BAN_WINDOW_S,
        warn_every: int = WARN_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.warn_every = warn_every
        self._clock = clock
        self._at: deque[float] = deque()
        self._warned = 0  # the multiple of warn_every last warned about

    def __len__(self) -> int:
        self._expire(self._clock())
        return len(self._at)

    def observe(self, status: int, headers: Mapping[str, str]) -> bool:
        """Count one answer if it is invalid; returns whether it was."""
        if not is_invalid(status, headers):
            return False
        now = self._clock()
        self._at.append(now)
        self._expire(now)
        count = len(self._at)
        metrics.discord_invalid_requests.labels(status=str(status)).inc()
        metrics.discord_invalid_requests_window.set(count)
        level = count // self.warn_every
        if level > self._warned:
            log.warning(
                "%d invalid Discord requests (401/403/429) in the last %.0f minutes; Discord bans "
                "the bot's IP at %d: find what keeps being refused", count, self.window / 60, BAN_THRESHOLD,
            )
        self._warned = level
        return True

    def _expire(self, now: float) -> None:
        while self._at and now - self._at[0] > self.window:
            self._at.popleft()
        metrics.discord_invalid_requests_window.set(len(self._at))


def is_invalid(status: int, headers: Mapping[str, str]) -> bool:
    """Discord counts 401, 403 and 429 towards its ban, except 429s of a shared resource."""
    if status in (401, 403):
        return True
    return status == 429 and headers.get("X-RateLimit-Scope", "").lower() != "shared"


def global_retry_after(status: int, headers: Mapping[str, str], body: Any) -> float | None:
    """Seconds to hold every send when this answer announces a global limit, else None.

    The body's ``retry_after`` is precise (the header is whole seconds, rounded up); a 429
    that says global only in its headers still counts; one without ``Via`` is Cloudflare
    refusing us, not Discord's limit (the outbox handles that ban)."""
    if status != 429 or not headers.get("Via"):
        return None
    data = body if isinstance(body, dict) else {}
    is_global = (
        bool(data.get("global"))
        or headers.get("X-RateLimit-Global", "").lower() == "true"
        or headers.get("X-RateLimit-Scope", "").lower() == "global"
    )
    if not is_global:
        return None
    for value in (data.get("retry_after"), headers.get("Retry-After")):
        try:
            if value is not None:
                return max(0.0, float(value))
        except (TypeError, ValueError):
            continue
    return 1.0


def _exempt(url: Any) -> bool:
    path = url.path
    return any(prefix in path for prefix in EXEMPT_PREFIXES)


def discord_http_trace(limit: GlobalLimit, invalid: InvalidRequests | None = None) -> aiohttp.TraceConfig:
    """An aiohttp trace for discord.py's session (``discord.Client(http_trace=…)``): every REST
    request waits on ``limit``; every answer is counted by ``invalid``; a global 429 holds
    ``limit``. The gateway's websocket upgrade and interaction responses pass freely."""
    trace = aiohttp.TraceConfig()

    async def on_request_start(session: Any, ctx: Any, params: aiohttp.TraceRequestStartParams) -> None:
        if params.headers.get("Upgrade", "").lower() == "websocket" or _exempt(params.url):
            return
        await limit.wait()

    async def on_request_end(session: Any, ctx: Any, params: aiohttp.TraceRequestEndParams) -> None:
        response = params.response
        if invalid is not None:
            invalid.observe(response.status, response.headers)
        if response.status != 429 or _exempt(params.url):
            return
        body: Any = None
        if response.content_type == "application/json":
            try:  # read now (small); discord.py reads the same cached body afterwards
                body = json.loads(await response.read())
            except (ValueError, aiohttp.ClientError):
                body = None
        seconds = global_retry_after(response.status, response.headers, body)
        if seconds is not None:
            await limit.hold(seconds)

    trace.on_request_start.append(on_request_start)
    trace.on_request_end.append(on_request_end)
    return trace


__all__ = [
    "BAN_THRESHOLD",
    "BAN_WINDOW_S",
    "GlobalLimit",
    "InvalidRequests",
    "LocalGlobalLimit",
    "WARN_EVERY",
    "discord_http_trace",
    "global_retry_after",
    "is_invalid",
]
