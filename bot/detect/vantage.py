"""Vantage self-check: are our probes blind? (pure quorum logic over canary results).

We probe a few diverse, well-known endpoints ("canaries") on the same schedule as the
services. When more than ``quorum`` of them fail at once, the problem is our own network, not
every service on the internet: probe readings then count as unknown (``fuse(...,
probes_blind=True)``), no incident opens from probes, and official and crowd evidence still
count. Entering and leaving that state is reported once each as a ``VantageChange`` — for
logs and ``/healthz`` only, never for subscribed channels (it is not an ``IncidentEvent``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from bot.sources.base import SourceSpec


class VantageChangeKind(str, Enum):
    DEGRADED = "degraded"  # monitoring degraded: most canaries fail
    RESTORED = "restored"  # monitoring restored


@dataclass(frozen=True, slots=True)
class VantageState:
    """Whether probes are blind, since when, and the last assessment (JSON via to_dict)."""

    blind: bool = False
    since: datetime | None = None  # when the current blind/seeing state began
    checked_at: datetime | None = None
    failing: tuple[str, ...] = ()
    total: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "blind": self.blind,
            "since": self.since.isoformat() if self.since else None,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "failing": list(self.failing),
            "total": self.total,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VantageState:
        def dt(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            blind=bool(data.get("blind", False)),
            since=dt(data.get("since")),
            checked_at=dt(data.get("checked_at")),
            failing=tuple(data.get("failing", ())),
            total=int(data.get("total", 0)),
        )


@dataclass(frozen=True, slots=True)
class VantageChange:
    """Monitoring degraded or restored; ``duration`` is set on restore."""

    kind: VantageChangeKind
    at: datetime
    failing: tuple[str, ...]
    total: int
    blind_since: datetime | None = None

    @property
    def duration(self) -> float | None:
        """Seconds the probes were blind (restore only)."""
        if self.kind is VantageChangeKind.RESTORED and self.blind_since is not None:
            return (self.at - self.blind_since).total_seconds()
        return None

    def log_message(self) -> str:
        """One line for the operator's log (English; never sent to Discord channels)."""
        if self.kind is VantageChangeKind.DEGRADED:
            return (
                f"monitoring degraded: {len(self.failing)} of {self.total} canaries failing "
                f"({', '.join(self.failing)}); probe results are ignored"
            )
        return f"monitoring restored after {self.duration or 0:.0f} s; probe results count again"


def assess(
    canary_results: Mapping[str, bool], previous: VantageState, now: datetime, quorum: float = 0.5
) -> tuple[VantageState, VantageChange | None]:
    """Update the vantage state from one round of canary results (name → succeeded).

    Blind when the failing share is strictly above ``quorum`` ("most fail" at 0.5: 2 of 3,
    3 of 4, 1 of 1). No canaries (self-check turned off) means not blind. A change object is
    returned only on the transition, so a long blind spell is reported once and cleared once.
    """
    if not 0 <= quorum < 1:
        raise ValueError("quorum must be in [0, 1)")
    failing = tuple(sorted(name for name, ok in canary_results.items() if not ok))
    total = len(canary_results)
    blind = total > 0 and len(failing) > quorum * total
    since = previous.since if blind == previous.blind and previous.since is not None else now
    state = VantageState(blind=blind, since=since, checked_at=now, failing=failing, total=total)
    if blind and not previous.blind:
        return state, VantageChange(VantageChangeKind.DEGRADED, now, failing, total)
    if previous.blind and not blind:
        return state, VantageChange(VantageChangeKind.RESTORED, now, failing, total, blind_since=previous.since)
    return state, None


def canary_spec(target: str) -> SourceSpec:
    """``https://…`` → http, ``dns://name`` → dns, ``host:port`` → tcp."""
    if target.startswith(("http://", "https://")):
        return SourceSpec(kind="http", url=target)
    if target.startswith("dns://"):
        return SourceSpec(kind="dns", url=target)
    if target.startswith("tcp://"):
        return SourceSpec(kind="tcp", url=target)
    return SourceSpec(kind="tcp", url=f"tcp://{target}")
