"""``tcp`` source kind: can we open a TCP connection to ``tcp://host:port`` in time?

Connected → operational (degraded past ``degraded_ms``); refused, timed out or unresolvable →
major outage with that error kind (down from our vantage point).
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from bot.sources.base import Observation, PollContext, SourceError, SourceKind, SourceRole, register
from bot.status import Status


def _positive(options: dict[str, Any], name: str) -> tuple[float | None, str | None]:
    value = options.get(name)
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None, f"{name}: must be a positive number"
    return float(value), None


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
class TcpKind(SourceKind):
    """Connect and hang up."""

    name: ClassVar[str] = "tcp"
    role: ClassVar[SourceRole] = SourceRole.PROBE
    options: ClassVar[frozenset[str]] = frozenset({"timeout", "degraded_ms"})

    @classmethod
    def validate_url(cls, url: str) -> str | None:
        try:
            parse_target(url)
        except ValueError as exc:
            return str(exc)
        return None

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> list[str]:
        problems = super().validate_options(options)
        for name in ("timeout", "degraded_ms"):
            problem = _positive(options, name)[1]
            if problem:
                problems.append(problem)
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
            host, port = parse_target(ctx.spec.url)
        except ValueError as exc:
            return observe(Status.UNKNOWN, error=SourceError("config", f"url {exc}"))
        timeout, problem = _positive(ctx.spec.options, "timeout")
        degraded_ms, problem2 = _positive(ctx.spec.options, "degraded_ms")
        if problem or problem2:
            return observe(Status.UNKNOWN, error=SourceError("config", problem or problem2 or ""))
        latency, error = await ctx.fetcher.connect(host, port, timeout=timeout)
        if error is not None:
            return observe(Status.MAJOR_OUTAGE, latency, error)
        if degraded_ms is not None and latency is not None and latency > degraded_ms:
            return observe(Status.DEGRADED, latency, description=f"connected in {latency:.0f} ms (threshold {degraded_ms:.0f} ms)")
        return observe(Status.OPERATIONAL, latency)
