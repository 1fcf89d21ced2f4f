"""``dns`` source kind: does ``dns://hostname`` still resolve?

Resolved → operational, the addresses in ``description``; no answer, NXDOMAIN or a timeout →
major outage with error ``dns`` / ``timeout`` (a service whose name does not resolve is down
for its users, as in the Facebook outage of October 2021).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from bot.sources._toolkit.probe import ProbeKind
from bot.sources.base import Observation, PollContext, register
from bot.status import Status


def parse_name(url: str) -> str:
    """``dns://hostname`` → hostname; ``ValueError`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "dns" or not parts.hostname:
        raise ValueError("must look like dns://hostname")
    return parts.hostname


@register
class DnsKind(ProbeKind):
    """Resolve a name through the client's resolver."""

    name: ClassVar[str] = "dns"
    options: ClassVar[frozenset[str]] = frozenset({"timeout"})

    @classmethod
    def target(cls, url: str) -> str:
        return parse_name(url)

    @classmethod
    async def probe(cls, ctx: PollContext, target: Any, **options: float | None) -> Observation:
        addresses, latency, error = await ctx.fetcher.resolve(target, timeout=options.get("timeout"))
        if error is not None:
            return cls.observe(ctx, Status.MAJOR_OUTAGE, latency, error)
        return cls.observe(ctx, Status.OPERATIONAL, latency, description=", ".join(addresses))
