"""``tcp`` source kind: can we open a TCP connection to ``tcp://host:port`` in time?

Connected → operational (degraded past ``degraded_ms``); refused, timed out or unresolvable →
major outage with that error kind (down from our vantage point).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from bot.sources._toolkit.probe import ProbeKind
from bot.sources.base import Observation, PollContext, register
from bot.status import Status


def parse_target(url: str) -> tuple[str, int]:
    """``tcp://host:port`` → (host, port); ``ValueError`` when either is missing."""
    parts = urlsplit(url)
    if parts.scheme != "tcp" or not parts.hostname:
        raise ValueError("must look like tcp://host:port")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has an invalid port") from None
    if port is None or port == 0:
        raise ValueError("needs a port: tcp://host:port")
    return parts.hostname, port


@register
class TcpKind(ProbeKind):
    """Connect and hang up."""

    name: ClassVar[str] = "tcp"
    options: ClassVar[frozenset[str]] = frozenset({"timeout", "degraded_ms"})

    @classmethod
    def target(cls, url: str) -> tuple[str, int]:
        return parse_target(url)

    @classmethod
    async def probe(cls, ctx: PollContext, target: Any, **options: float | None) -> Observation:
        host, port = target
        degraded_ms = options.get("degraded_ms")
        latency, error = await ctx.fetcher.connect(host, port, timeout=options.get("timeout"))
        if error is not None:
            return cls.observe(ctx, Status.MAJOR_OUTAGE, latency, error)
        if degraded_ms is not None and latency is not None and latency > degraded_ms:
            return cls.observe(ctx, Status.DEGRADED, latency, description=f"connected in {latency:.0f} ms (threshold {degraded_ms:.0f} ms)")
        return cls.observe(ctx, Status.OPERATIONAL, latency)
