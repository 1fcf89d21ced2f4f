"""The incident state machine: verdicts in, incident events out, without spam (pure).

One ``IncidentState`` per service. ``step(state, verdict, now)`` returns the next state and
the events to persist and announce. The state is plain data (``to_dict``/``from_dict`` give
JSON types) so the caller stores it with the incident and rebuilds it after a restart.

Words: a *round* is a step whose verdict rests on a new probe reading (``verdict.probe_at``
changed) — scheduled polls and fast re-checks alike — or any step when the verdict has no
probe reading (official- or crowd-only services, blind probes). A verdict recomputed after an
official or crowd update reuses the last probe reading and is not a new round: it can open
(official), escalate, update, but it does not add a round or an operational count.
*failing* = verdict status is an outage; *ok* = operational or maintenance; *unknown* counts
for neither (it neither opens nor resolves, and does not break an operational streak).
*official down* = the last readable official status was an outage (an unreadable page keeps
what it last said). *opens in W* = OPENED events in the last ``flap_window``.

Truth table (first matching row wins; ``down`` is the machine's own view, ``unstable`` means
an UNSTABLE notice went out and open/close notices are held):

| #  | state     | verdict / condition                                                | next     | event       |
|----|-----------|--------------------------------------------------------------------|----------|-------------|
| 1  | up        | failing round, fewer than N failing in the last M rounds           | up       | —           |
| 2  | up        | official down; or failing round, ≥ N of last M failing; opens < F  | down     | OPENED      |
| 3  | up        | as row 2, but opens in W ≥ F (this open would be one too many)     | unstable | UNSTABLE    |
| 4  | up        | ok / unknown / maintenance                                         | up       | —           |
| 5  | down      | failing, worse status than announced                               | down     | ESCALATED   |
| 6  | down      | failing, milder outage status than announced                       | down     | DEESCALATED |
| 7  | down      | failing, same status; new official update text, the page now       | down     | UPDATED     |
|    |           | acknowledges an unacknowledged outage, or report peak ≥            |          |             |
|    |           | max(1.5 × last announced peak, last announced peak + 10)           |          |             |
| 8  | down      | failing, nothing new                                               | down     | —           |
| 9  | down      | ok, fewer than K consecutive ok rounds                             | down     | —           |
| 10 | down      | ok, K consecutive ok rounds, official not down                     | up       | RESOLVED    |
| 11 | down      | ok, K consecutive ok rounds, but the page last said down           | down     | —           |
| 12 | down      | unknown                                                            | down     | —           |
| 13 | down, gap | first steps after a gap > ``gap``: failing                         | down     | — (no re-announce) |
| 14 | down, gap | ok, and every kind of evidence that reported it now reads ok       | up       | RESOLVED    |
| 15 | unstable  | would open or resolve (rows 2/10, silently); changes held          | unstable | —           |
| 16 | unstable  | no open/resolve for W, machine up                                  | up       | RESOLVED    |
| 17 | unstable  | no open/resolve for W, machine down                                | down     | — (the UNSTABLE notice stands) |

Notes:
* Row 2's official path acts at the step that sees it: no rounds needed.
* Row 7's growth rule keeps "25,800 reports" news without a message per report: the peak
  must grow by half and by at least ``peak_min_delta`` reports over the last announced one.
  At most one of ESCALATED / DEESCALATED / UPDATED per step (the first carries the text).
* Rows 13–14, restarts: the state survives in the database, so a restart mid-outage neither
  re-opens nor re-announces it. After a gap the round window and streaks restart (rounds from
  before the gap say nothing about now). We do not let *any* first ok verdict resolve: right
  after start the detector often has read only one source (the official page that never
  acknowledged a probe-detected outage would "resolve" it). Instead the K rule is waived
  only when every kind of evidence (official, probe, crowd) that reported this incident has a
  fresh ok reading; otherwise K ok rounds are needed as usual (seconds after start, since
  every source is polled then).
* Row 16: ``resolved_at`` is when the service came back and stayed (the last flip), not the
  moment the quiet period ended.
* The rounds window is cleared when an incident resolves, so a new one needs N fresh failures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.detect.model import PREVIOUS_CONFIDENCE, Confidence, EventKind, IncidentEvent, Verdict
from bot.sources.base import SourceRole
from bot.status import Status


@dataclass(frozen=True, slots=True)
class IncidentConfig:
    open_after: int = 3  # N failing rounds …
    open_window: int = 4  # … of the last M rounds
    resolve_after: int = 2  # K consecutive ok rounds
    flap_count: int = 3  # F opens …
    flap_window: timedelta = timedelta(minutes=30)  # … in W
    peak_growth: float = 1.5
    peak_min_delta: int = 10
    #: a growing report count alone edits the alert at most this often: with thousands of
    #: subscribed channels every edit is thousands of requests against Discord's 50/s
    peak_update_every: timedelta = timedelta(minutes=10)
    gap: timedelta = timedelta(minutes=5)  # longer between steps = the bot was stopped

    def __post_init__(self) -> None:
        if not 1 <= self.open_after <= self.open_window:
            raise ValueError("need 1 <= open_after <= open_window")
        if self.resolve_after < 1 or self.flap_count < 1:
            raise ValueError("resolve_after and flap_count must be >= 1")


@dataclass(frozen=True, slots=True)
class Round:
    at: datetime
    failing: bool


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """The incident being told to subscribers (its key threads the messages)."""

    key: str
    started_at: datetime
    status: Status  # last announced status
    peak_status: Status
    confidence: Confidence | None
    roles: tuple[str, ...] = ()  # kinds of evidence that reported it (official, probe, crowd)
    official_update: str | None = None
    report_peak: int | None = None
    report_peak_at: datetime | None = None
    announced_peak: int = 0
    unacknowledged: bool = False  # last announced: the official page did not acknowledge it
    announced_at: datetime | None = None  # when the last message about it went out


@dataclass(frozen=True, slots=True)
class IncidentState:
    service_id: str
    rounds: tuple[Round, ...] = ()
    ok_streak: int = 0
    down: bool = False
    official_down: bool = False
    incident: OpenIncident | None = None
    unstable: bool = False
    last_flip_at: datetime | None = None
    opens: tuple[datetime, ...] = ()  # OPENED times within the flap window
    last_at: datetime | None = None
    last_probe_at: datetime | None = None
    after_gap: bool = False
    last_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON types only (ISO 8601 datetimes, enum values)."""
        inc = self.incident
        return {
            "service_id": self.service_id,
            "rounds": [[_iso(r.at), r.failing] for r in self.rounds],
            "ok_streak": self.ok_streak,
            "down": self.down,
            "official_down": self.official_down,
            "incident": None
            if inc is None
            else {
                "key": inc.key,
                "started_at": _iso(inc.started_at),
                "status": inc.status.value,
                "peak_status": inc.peak_status.value,
                "confidence": inc.confidence.value if inc.confidence else None,
                "roles": list(inc.roles),
                "official_update": inc.official_update,
                "report_peak": inc.report_peak,
                "report_peak_at": _iso(inc.report_peak_at),
                "announced_peak": inc.announced_peak,
                "unacknowledged": inc.unacknowledged,
                "announced_at": _iso(inc.announced_at),
            },
            "unstable": self.unstable,
            "last_flip_at": _iso(self.last_flip_at),
            "opens": [_iso(t) for t in self.opens],
            "last_at": _iso(self.last_at),
            "last_probe_at": _iso(self.last_probe_at),
            "after_gap": self.after_gap,
            "last_key": self.last_key,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncidentState:
        raw = data.get("incident")
        incident = None
        if raw is not None:
            incident = OpenIncident(
                key=raw["key"],
                started_at=_dt(raw["started_at"]),
                status=Status(raw["status"]),
                peak_status=Status(raw["peak_status"]),
                confidence=Confidence(raw["confidence"]) if raw.get("confidence") else None,
                roles=tuple(raw.get("roles", ())),
                official_update=raw.get("official_update"),
                report_peak=raw.get("report_peak"),
                report_peak_at=_opt_dt(raw.get("report_peak_at")),
                announced_peak=raw.get("announced_peak", 0),
                unacknowledged=raw.get("unacknowledged", False),
                announced_at=_opt_dt(raw.get("announced_at")),
            )
        return cls(
            service_id=data["service_id"],
            rounds=tuple(Round(_dt(at), bool(failing)) for at, failing in data.get("rounds", ())),
            ok_streak=data.get("ok_streak", 0),
            down=data.get("down", False),
            official_down=data.get("official_down", False),
            incident=incident,
            unstable=data.get("unstable", False),
            last_flip_at=_opt_dt(data.get("last_flip_at")),
            opens=tuple(_dt(t) for t in data.get("opens", ())),
            last_at=_opt_dt(data.get("last_at")),
            last_probe_at=_opt_dt(data.get("last_probe_at")),
            after_gap=data.get("after_gap", False),
            last_key=data.get("last_key"),
        )


def step(
    state: IncidentState, verdict: Verdict, now: datetime, config: IncidentConfig = IncidentConfig()
) -> tuple[IncidentState, list[IncidentEvent]]:
    """Advance ``state`` by one verdict (see the module's truth table)."""
    s = state
    events: list[IncidentEvent] = []
    failing = verdict.status.is_outage
    ok = verdict.status in (Status.OPERATIONAL, Status.MAINTENANCE)

    # the bookkeeping of every verdict, in one copy of the state (this runs on every poll)
    rounds, ok_streak, after_gap = s.rounds, s.ok_streak, s.after_gap
    if s.last_at is not None and now - s.last_at > config.gap:
        rounds, ok_streak, after_gap = (), 0, s.down
    is_round = verdict.probe_at is None or verdict.probe_at != s.last_probe_at
    if is_round and (failing or ok):
        rounds = (rounds + (Round(now, failing),))[-config.open_window :]
    if failing:
        ok_streak, after_gap = 0, False
    elif ok and is_round:
        ok_streak += 1
    s = replace(
        s,
        last_at=now,
        last_probe_at=verdict.probe_at or s.last_probe_at,
        official_down=s.official_down if verdict.official_status is None else verdict.official_status.is_outage,
        rounds=rounds,
        ok_streak=ok_streak,
        after_gap=after_gap,
        opens=tuple(t for t in s.opens if now - t < config.flap_window) if s.opens else (),
    )

    if not s.down:
        official_now = official_down(verdict)
        enough = is_round and failing and sum(r.failing for r in s.rounds) >= config.open_after
        if official_now or enough:
            s, event = _open(s, verdict, now, config)
            events += [event] if event is not None else []
    elif ok and not s.official_down and (s.ok_streak >= config.resolve_after or _gap_waiver(s, verdict)):
        s, event = _close(s, verdict, now)
        events += [event] if event is not None else []
    elif failing and s.incident is not None:
        s, event = _follow(s, verdict, now, config)
        events += [event] if event is not None else []

    if s.unstable and s.last_flip_at is not None and now - s.last_flip_at >= config.flap_window:
        s, event = _settle(s, verdict, now)
        events += [event] if event is not None else []
    return s, events


def _open(
    s: IncidentState, verdict: Verdict, now: datetime, config: IncidentConfig
) -> tuple[IncidentState, IncidentEvent | None]:
    s = replace(s, down=True, last_flip_at=now)
    if s.unstable:  # row 15: the unstable incident absorbs it
        assert s.incident is not None
        return replace(s, incident=_absorb(s.incident, verdict, now)), None
    started = min([now] + [r.at for r in s.rounds if r.failing] + ([verdict.since] if verdict.since else []))
    key = f"{verdict.service_id}-{started:%Y%m%d%H%M%S}"
    if key == s.last_key:
        key += "-2"
    reports = _reports(verdict)
    incident = OpenIncident(
        key=key,
        started_at=started,
        status=verdict.status,
        peak_status=verdict.status,
        confidence=verdict.confidence,
        roles=_failing_roles(verdict),
        official_update=_official_update(verdict),
        report_peak=reports,
        report_peak_at=now if reports is not None else None,
        announced_peak=reports or 0,
        unacknowledged=verdict.unacknowledged,
        announced_at=now,
    )
    kind = EventKind.OPENED
    extra: dict[str, str] = {}
    if len(s.opens) >= config.flap_count:  # row 3
        kind = EventKind.UNSTABLE
        extra = {"opens": str(len(s.opens) + 1), "window_s": str(int(config.flap_window.total_seconds()))}
        s = replace(s, unstable=True)
    else:
        s = replace(s, opens=s.opens + (now,))
    s = replace(s, incident=incident, last_key=key)
    return s, _event(kind, incident, verdict, now, extra=extra)


def _close(s: IncidentState, verdict: Verdict, now: datetime) -> tuple[IncidentState, IncidentEvent | None]:
    s = replace(s, down=False, rounds=(), last_flip_at=now, after_gap=False)
    if s.unstable:  # row 15
        return s, None
    incident = s.incident
    s = replace(s, incident=None)
    if incident is None:
        return s, None
    return s, _resolved(incident, verdict, now, resolved_at=now)


def _settle(s: IncidentState, verdict: Verdict, now: datetime) -> tuple[IncidentState, IncidentEvent | None]:
    """Rows 16/17: stable for the flap window, so notices resume."""
    s = replace(s, unstable=False, opens=())
    if s.down or s.incident is None:
        return s, None
    incident = s.incident
    return replace(s, incident=None), _resolved(incident, verdict, now, resolved_at=s.last_flip_at or now)


def _follow(
    s: IncidentState, verdict: Verdict, now: datetime, config: IncidentConfig
) -> tuple[IncidentState, IncidentEvent | None]:
    """Rows 5–8 on a failing verdict while down."""
    assert s.incident is not None
    old = s.incident
    new = _absorb(old, verdict, now)
    if s.unstable:
        return replace(s, incident=new), None
    previous: Status | None = None
    kind: EventKind | None = None
    if verdict.status != old.status:
        worse = (verdict.status.severity or 0) > (old.status.severity or 0)
        kind = EventKind.ESCALATED if worse else EventKind.DEESCALATED
        previous = old.status
    peak = new.report_peak or 0
    peak_news = peak >= max(old.announced_peak * config.peak_growth, old.announced_peak + config.peak_min_delta)
    if peak_news and old.announced_at is not None and now - old.announced_at < config.peak_update_every:
        peak_news = False  # told recently: the next edit carries the new peak
    update_news = new.official_update is not None and new.official_update != old.official_update
    acknowledged = old.unacknowledged and official_down(verdict)
    if kind is None and (peak_news or update_news or acknowledged):
        kind = EventKind.UPDATED
    if kind is None:
        return replace(s, incident=new), None
    announced = max(peak, old.announced_peak)
    new = replace(
        new,
        status=verdict.status,
        confidence=verdict.confidence,
        announced_peak=announced,
        unacknowledged=verdict.unacknowledged,
        announced_at=now,
    )
    extra = {"acknowledged": "true"} if acknowledged else {}
    if previous is not None and old.confidence is not None:
        extra[PREVIOUS_CONFIDENCE] = old.confidence.value  # (the old status as the alert worded it)
    return replace(s, incident=new), _event(kind, new, verdict, now, previous=previous, extra=extra)


def _absorb(incident: OpenIncident, verdict: Verdict, now: datetime) -> OpenIncident:
    """Fold a failing verdict's facts (peaks, roles, official text) into the incident."""
    reports = _reports(verdict)
    peak, peak_at = incident.report_peak, incident.report_peak_at
    if reports is not None and (peak is None or reports > peak):
        peak, peak_at = reports, now
    worst = Status.worst(incident.peak_status, verdict.status)
    update = _official_update(verdict) or incident.official_update
    roles = tuple(sorted(set(incident.roles) | set(_failing_roles(verdict))))
    return replace(
        incident, peak_status=worst, report_peak=peak, report_peak_at=peak_at, official_update=update, roles=roles
    )


def _gap_waiver(s: IncidentState, verdict: Verdict) -> bool:
    """Row 14: after a gap, resolve at once when every reporting kind now reads ok."""
    if not s.after_gap or s.incident is None or not s.incident.roles:
        return False
    for role in s.incident.roles:
        readings = [e.status for e in verdict.evidence if e.role.value == role]
        if not readings or any(r.is_outage or r is Status.UNKNOWN for r in readings):
            return False
    return True


def _resolved(incident: OpenIncident, verdict: Verdict, now: datetime, *, resolved_at: datetime) -> IncidentEvent:
    return IncidentEvent(
        kind=EventKind.RESOLVED,
        service_id=verdict.service_id,
        incident_key=incident.key,
        at=now,
        status=Status.OPERATIONAL,
        confidence=None,
        started_at=incident.started_at,
        evidence=verdict.evidence,
        official_update=incident.official_update,
        report_peak=incident.report_peak,
        report_peak_at=incident.report_peak_at,
        resolved_at=resolved_at,
        previous_status=incident.status,
        extra={"peak_status": incident.peak_status.value},
    )


def _event(
    kind: EventKind,
    incident: OpenIncident,
    verdict: Verdict,
    now: datetime,
    *,
    previous: Status | None = None,
    extra: dict[str, str] | None = None,
) -> IncidentEvent:
    return IncidentEvent(
        kind=kind,
        service_id=verdict.service_id,
        incident_key=incident.key,
        at=now,
        status=verdict.status,
        confidence=verdict.confidence,
        started_at=incident.started_at,
        evidence=verdict.evidence,
        unacknowledged=verdict.unacknowledged,
        unacknowledged_since=verdict.unacknowledged_since,
        official_update=incident.official_update,
        report_peak=incident.report_peak,
        report_peak_at=incident.report_peak_at,
        previous_status=previous,
        # every event names the worst status reached, so any edit can word the story right
        extra={"peak_status": Status.worst(incident.peak_status, verdict.status).value, **(extra or {})},
    )


def official_down(verdict: Verdict) -> bool:
    """The official page, read fresh, reports an outage."""
    return verdict.official_status is not None and verdict.official_status.is_outage


def _failing_roles(verdict: Verdict) -> tuple[str, ...]:
    return tuple(sorted({e.role.value for e in verdict.evidence if e.status.is_outage}))


def _official_update(verdict: Verdict) -> str | None:
    for e in verdict.evidence:
        if e.role is SourceRole.OFFICIAL and e.official_update:
            return e.official_update
    return None


def _reports(verdict: Verdict) -> int | None:
    counts = [e.reports for e in verdict.evidence if e.role is SourceRole.CROWD and e.reports is not None]
    return max(counts) if counts else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _opt_dt(value: str | None) -> datetime | None:
    return _dt(value) if value is not None else None


__all__ = ["IncidentConfig", "IncidentState", "OpenIncident", "Round", "official_down", "step"]
