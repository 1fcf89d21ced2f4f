"""``dns`` source kind: does ``dns://hostname`` still resolve?

Resolved → operational, the addresses in ``description``; no answer, NXDOMAIN or a timeout →
major outage with error ``dns`` / ``timeout`` (a service whose name does not resolve is down
for its users, as in the Facebook outage of October 2021).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from bot.sources.base import Observation, PollContext, SourceError, SourceKind, SourceRole, register
from bot.status import Status


def parse_name(url: str) -> str:
    """``dns://hostname`` → hostname; ``ValueError`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "dns" or not parts.hostname:
        raise ValueError("must look like dns://hostname")
    return parts.hostname


@register
class DnsKind(SourceKind):
    """Resolve a name through the client's resolver."""

    name: ClassVar[str] = "dns"
    role: ClassVar[SourceRole] = SourceRole.PROBE
    options: ClassVar[frozenset[str]] = frozenset({"timeout"})

    @classmethod
    def validate_url(cls, url: str) -> str | None:
        try:
            parse_name(url)
        except ValueError as exc:
            return str(exc)
        return None

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> list[str]:
        problems = super().validate_options(options)
        value = options.get("timeout")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            problems.append("timeout: must be a positive number")
        return problems

    @classmethod
    async def poll(cls, ctx: PollContext) -> Observation:
        def observe(status: Status, latency: float | None = None, error: SourceError | None = None,
                    description: str | None = None) -> Observation:
            return Observation(
                service_id=ctx.service_id, source_kind=cls.name, status=status, fetched_at=ctx.now,
                role=cls.role, latency_ms=latency, error=error, description=description,
            )

        try:
            host = parse_name(ctx.spec.url)
        except ValueError as exc:
            return observe(Status.UNKNOWN, error=SourceError("config", f"url {exc}"))
        problems = cls.validate_options({"timeout": ctx.spec.options.get("timeout")})
        if problems:
            return observe(Status.UNKNOWN, error=SourceError("config", problems[0]))
        timeout = ctx.spec.options.get("timeout")
        addresses, latency, error = await ctx.fetcher.resolve(host, timeout=timeout)
        if error is not None:
            return observe(Status.MAJOR_OUTAGE, latency, error)
        return observe(Status.OPERATIONAL, latency, description=", ".join(addresses))
