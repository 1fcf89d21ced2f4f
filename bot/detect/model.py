"""The shapes detection hands to rendering and delivery (pure dataclasses).

Evidence is structured, never pre-rendered text: ``bot.notify.render`` turns it into Arabic or
English for each channel, so one fan-out can speak several languages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from bot.sources.base import SourceRole
from bot.status import Status


class Confidence(str, Enum):
    CONFIRMED = "confirmed"  # official source says so, or two independent kinds agree
    LIKELY = "likely"  # our probes alone
    UNCONFIRMED = "unconfirmed"  # a crowd spike alone ("possible problems")


class CrowdLevel(str, Enum):
    """Downdetector-like levels of the crowd signal."""

    NONE = "none"
    POSSIBLE = "possible"  # possible problems
    PROBLEMS = "problems"  # problems detected


@dataclass(frozen=True, slots=True)
class CrowdSignal:
    """What crowd reports say about one service at one time."""

    level: CrowdLevel
    recent: int  # reports in the window (weighted count rounded)
    usual: float  # the baseline for the same window
    window: timedelta = timedelta(minutes=15)
    distinct_guilds: int = 0
    top_problem: str | None = None  # login, app, website, messages, posting, connection, other
    top_problem_share: float | None = None  # 0..1
    since: datetime | None = None
    countries: tuple[str, ...] = ()  # reporting countries (ISO 3166 alpha-2), most reports first
    works: int = 0  # users who said it works for them, in the window


@dataclass(frozen=True, slots=True)
class Evidence:
    """One line of evidence: which source said what, since when.

    Only the fields relevant to ``role`` are set: official → ``official_status``,
    ``official_title``, ``official_url``; probe → ``http_status``, ``latency_ms``,
    ``error_kind``; crowd → ``reports``, ``usual``, ``top_problem``, ``top_problem_share``,
    ``countries``.
    """

    role: SourceRole
    source_kind: str
    status: Status
    since: datetime | None = None
    official_title: str | None = None
    official_update: str | None = None
    official_url: str | None = None
    http_status: int | None = None
    latency_ms: float | None = None
    error_kind: str | None = None
    reports: int | None = None
    usual: float | None = None
    top_problem: str | None = None
    top_problem_share: float | None = None
    countries: tuple[str, ...] = ()
    #: crowd → users who said it works for them in the window (beside ``reports``)
    works: int | None = None
    #: what a probe checked, short enough to show ("discord.com/api/v10/gateway")
    target: str | None = None
    #: official → the page's components that are not operational (names as the page writes
    #: them): who a component subscription alerts, and what the alert names
    components: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The fused status of one service at ``at``."""

    service_id: str
    status: Status
    confidence: Confidence | None  # None when operational
    at: datetime
    evidence: tuple[Evidence, ...] = ()
    #: official page says operational while probes/crowd disagree
    unacknowledged: bool = False
    #: since when the official page has failed to acknowledge it (None when acknowledged)
    unacknowledged_since: datetime | None = None
    #: the official status alone (None when there is no official source or it is unreadable)
    official_status: Status | None = None
    since: datetime | None = None  # earliest evidence of the current non-operational state
    #: ``fetched_at`` of the newest usable probe reading behind this verdict (None without
    #: one); the incident state machine counts a new probe round only when it changes, so a
    #: verdict recomputed after an official or crowd update does not count the same probe twice
    probe_at: datetime | None = None


#: ``IncidentEvent.extra`` key: the confidence of the status an escalation or easing left
PREVIOUS_CONFIDENCE = "previous_confidence"


class EventKind(str, Enum):
    OPENED = "opened"
    ESCALATED = "escalated"
    DEESCALATED = "deescalated"
    UPDATED = "updated"  # new official update text or a new report peak worth telling
    RESOLVED = "resolved"
    UNSTABLE = "unstable"  # flapping: one notice, then quiet until stable


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One thing that happened to an incident; persisted, then fanned out as deliveries."""

    kind: EventKind
    service_id: str
    incident_key: str  # stable id of the incident (for message threading/editing)
    at: datetime
    status: Status
    confidence: Confidence | None
    started_at: datetime
    evidence: tuple[Evidence, ...] = ()
    unacknowledged: bool = False
    unacknowledged_since: datetime | None = None
    official_update: str | None = None
    report_peak: int | None = None
    report_peak_at: datetime | None = None
    resolved_at: datetime | None = None
    previous_status: Status | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def duration(self) -> timedelta | None:
        return (self.resolved_at - self.started_at) if self.resolved_at else None

    @property
    def previous_confidence(self) -> Confidence | None:
        """How sure the last alert was of ``previous_status`` (kept in ``extra``: older events
        lack it), so a change line words the old status as that alert did."""
        try:
            return Confidence(self.extra[PREVIOUS_CONFIDENCE])
        except (KeyError, ValueError):
            return None
