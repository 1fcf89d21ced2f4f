"""What the probe kinds (tcp, dns) share: a URL that names the target, positive-number options,
and the observation of one probe (pure except ``poll``, which only talks to ``ctx.fetcher``)."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, ClassVar

from bot.sources.base import Observation, PollContext, SourceError, SourceKind, SourceRole
from bot.status import Status


def positive(options: dict[str, Any], name: str) -> tuple[float | None, str | None]:
    """An optional positive-number option: (value, None), (None, None) when absent, or
    (None, the problem)."""
    value = options.get(name)
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None, f"{name}: must be a positive number"
    return float(value), None


class ProbeKind(SourceKind):
    """Base of a kind that probes a target itself: subclasses set ``name``, ``options`` (all
    positive numbers), and implement ``target`` (the URL → what to probe, ``ValueError`` when
    it names nothing) and ``probe`` (one attempt)."""

    role: ClassVar[SourceRole] = SourceRole.PROBE
    #: one attempt: ``await cls.probe(ctx, target, **options)`` → the observation
    probe: ClassVar[Callable[..., Awaitable[Observation]]]

    @classmethod
    def target(cls, url: str) -> Any:
        raise ValueError(f"{cls.name} names no target")

    @classmethod
    def validate_url(cls, url: str) -> str | None:
        try:
            cls.target(url)
        except ValueError as exc:
            return str(exc)
        return None

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> list[str]:
        problems = super().validate_options(options)
        return problems + [problem for name in sorted(cls.options) if (problem := positive(options, name)[1])]

    @classmethod
    def observe(cls, ctx: PollContext, status: Status, latency: float | None = None, error: SourceError | None = None,
                description: str | None = None) -> Observation:  # fmt: skip
        return Observation(
            service_id=ctx.service_id, source_kind=cls.name, status=status, fetched_at=ctx.now,
            role=cls.role, latency_ms=latency, error=error, description=description,
        )  # fmt: skip

    @classmethod
    async def poll(cls, ctx: PollContext) -> Observation:
        try:
            target = cls.target(ctx.spec.url)
        except ValueError as exc:
            return cls.observe(ctx, Status.UNKNOWN, error=SourceError("config", f"url {exc}"))
        values: dict[str, float | None] = {}
        for name in sorted(cls.options):
            values[name], problem = positive(ctx.spec.options, name)
            if problem:
                return cls.observe(ctx, Status.UNKNOWN, error=SourceError("config", problem))
        return await cls.probe(ctx, target, **values)
