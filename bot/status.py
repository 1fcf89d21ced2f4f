"""The status vocabulary shared by every layer (pure: no I/O, no third-party imports)."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """A service's or a source's status, as DESIGN.md names them.

    ``severity`` orders the outage statuses; ``maintenance`` and ``unknown`` stand aside
    (severity ``None``) because they are neither better nor worse than an outage.
    """

    OPERATIONAL = "operational"
    DEGRADED = "degraded"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"

    @property
    def severity(self) -> int | None:
        return _SEVERITY.get(self)

    @property
    def is_outage(self) -> bool:
        """True for degraded, partial and major outage."""
        return (self.severity or 0) > 0

    @classmethod
    def worst(cls, *statuses: "Status") -> "Status":
        """The most severe outage status among ``statuses`` (operational when none is worse).

        Maintenance and unknown are ignored unless nothing else is present; then maintenance
        wins over unknown.
        """
        ranked = [s for s in statuses if s.severity is not None]
        if ranked:
            return max(ranked, key=lambda s: s.severity or 0)
        if cls.MAINTENANCE in statuses:
            return cls.MAINTENANCE
        return cls.UNKNOWN if statuses else cls.OPERATIONAL


_SEVERITY: dict[Status, int] = {
    Status.OPERATIONAL: 0,
    Status.DEGRADED: 1,
    Status.PARTIAL_OUTAGE: 2,
    Status.MAJOR_OUTAGE: 3,
}
