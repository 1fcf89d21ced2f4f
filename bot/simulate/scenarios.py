"""The bundled scenarios: what the world does, minute by minute, in virtual time (pure data).

A ``Scenario`` says, for any virtual instant, what the service's front door answers, what its
status page publishes, whether the bot's own network works, and how many users report a
problem in each minute. It says nothing about what the bot should conclude: that is the real
pipeline's job, and the tests check its conclusions.

Dates are illustrative; the x-outage numbers follow the press accounts of a big X outage:
"25,800 reports at the peak at 12:51 GMT, under 650 a few hours later, and the official status
page said all systems were operational".
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping, Sequence

MINUTE = timedelta(minutes=1)
BUCKET_MINUTES = 5
WINDOW_BUCKETS = 3  # the crowd signal's 15-minute window (bot.detect.crowd.CrowdConfig)

IMPACT_INDICATOR = {"none": "none", "minor": "minor", "major": "major", "critical": "critical"}
IMPACT_COMPONENT = {"minor": "degraded_performance", "major": "partial_outage", "critical": "major_outage"}
INDICATOR_TEXT = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
_IMPACT_ORDER = ("none", "minor", "major", "critical")


def at(day: str, hhmm: str) -> datetime:
    """``at("2025-06-12", "12:51")`` → that minute in UTC."""
    return datetime.fromisoformat(f"{day}T{hhmm}:00+00:00")


@dataclass(frozen=True, slots=True)
class Timeline:
    """A value that changes at given instants: ``(since, value)`` pairs, in order."""

    points: tuple[tuple[datetime, Any], ...]

    def at(self, when: datetime) -> Any:
        value = self.points[0][1]
        for since, v in self.points:
            if since <= when:
                value = v
            else:
                break
        return value

    def changes(self) -> tuple[tuple[datetime, Any], ...]:
        return self.points


@dataclass(frozen=True, slots=True)
class PageUpdate:
    at: datetime
    status: str  # investigating | identified | monitoring | resolved
    body: str
    impact: str = "minor"  # the incident's impact from this update on


@dataclass(frozen=True, slots=True)
class PageIncident:
    """An incident as a Statuspage publishes it, update by update."""

    id: str
    name: str
    components: tuple[str, ...]
    updates: tuple[PageUpdate, ...]

    def visible(self, when: datetime) -> list[PageUpdate]:
        return [u for u in self.updates if u.at <= when]

    def open_at(self, when: datetime) -> bool:
        shown = self.visible(when)
        return bool(shown) and shown[-1].status != "resolved"


@dataclass(frozen=True, slots=True)
class StatusPage:
    """A Statuspage-compatible page: components and incidents over time."""

    name: str
    url: str  # what users open (shown in the alerts); the bot reads the loopback copy
    components: tuple[str, ...]
    incidents: tuple[PageIncident, ...] = ()

    def summary(self, when: datetime, page_id: str) -> dict[str, Any]:
        """``/api/v2/summary.json`` as the page serves it at ``when``."""
        open_incidents = [i for i in self.incidents if i.open_at(when)]
        worst = "none"
        component_status = {c: "operational" for c in self.components}
        incidents = []
        for inc in open_incidents:
            shown = inc.visible(when)
            impact = shown[-1].impact
            if _IMPACT_ORDER.index(impact) > _IMPACT_ORDER.index(worst):
                worst = impact
            for comp in inc.components:
                component_status[comp] = IMPACT_COMPONENT.get(impact, "operational")
            incidents.append(
                {
                    "id": inc.id,
                    "name": inc.name,
                    "status": shown[-1].status,
                    "impact": impact,
                    "created_at": _iso(shown[0].at),
                    "started_at": _iso(shown[0].at),
                    "updated_at": _iso(shown[-1].at),
                    "shortlink": f"{self.url}/incidents/{inc.id}",
                    "page_id": page_id,
                    "incident_updates": [
                        {"id": f"{inc.id}-{n}", "status": u.status, "body": u.body, "created_at": _iso(u.at), "display_at": _iso(u.at)}
                        for n, u in reversed(list(enumerate(shown)))
                    ],
                    "components": [{"name": c, "status": component_status[c]} for c in inc.components],
                }
            )
        return {
            "page": {"id": page_id, "name": self.name, "url": self.url, "time_zone": "Etc/UTC", "updated_at": _iso(when)},
            "status": {"indicator": IMPACT_INDICATOR[worst], "description": INDICATOR_TEXT[worst]},
            "components": [
                {"id": f"c{n}", "name": c, "status": component_status[c], "position": n, "group": False, "group_id": None}
                for n, c in enumerate(self.components, start=1)
            ],
            "incidents": incidents,
            "scheduled_maintenances": [],
        }


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --- crowd reports -----------------------------------------------------------------------------


def window_count(counts: Mapping[datetime, float], now: datetime) -> float:
    """The crowd signal's live 15-minute estimate at ``now`` for reports that arrive on the
    minute (``bot.detect.crowd``: the current 5-minute bucket in full, the two before it, and
    the time share of the one before those still inside the window)."""
    current = now.replace(minute=now.minute - now.minute % BUCKET_MINUTES, second=0, microsecond=0)
    elapsed = (now - current) / timedelta(minutes=BUCKET_MINUTES)
    total = 0.0
    m = current
    while m <= now:
        total += counts.get(m, 0)
        m += MINUTE
    for minute in range(BUCKET_MINUTES * (WINDOW_BUCKETS - 1)):
        total += counts.get(current - MINUTE * (minute + 1), 0)
    oldest = current - timedelta(minutes=BUCKET_MINUTES * WINDOW_BUCKETS)
    total += (1 - elapsed) * sum(counts.get(oldest + MINUTE * k, 0) for k in range(BUCKET_MINUTES))
    return total


@dataclass(frozen=True, slots=True)
class Spike:
    """A wave of reports: rises from ``onset`` to a plateau, then decays (``tau`` minutes,
    ``tail_tau`` from ``tail_from``), tuned so the 15-minute count peaks at ``peak`` reports
    exactly at ``peak_at``."""

    onset: datetime
    peak: int
    peak_at: datetime
    tau: float
    end: datetime
    tail_from: datetime | None = None
    tail_tau: float | None = None
    problems: tuple[tuple[str, float], ...] = (("login", 0.5), ("app", 0.3), ("website", 0.2))

    def plan(self, background: Mapping[datetime, int] | None = None) -> dict[datetime, int]:
        """Reports per minute (at the minute) on top of ``base`` (the background), solved so
        that the window count of ``base`` + spike is largest at ``peak_at`` — strictly, so the
        detector records the peak at that minute — and rounds to ``peak`` there."""
        base: dict[datetime, int] = dict(background or {})

        def combined(spike: Mapping[datetime, float]) -> dict[datetime, float]:
            out: dict[datetime, float] = dict(base)
            for m, c in spike.items():
                out[m] = out.get(m, 0) + c
            return out

        def scaled(top: datetime) -> dict[datetime, float]:
            shape = self._shape(top, 1.0)
            need = self.peak - window_count(base, self.peak_at)
            scale = need / window_count(shape, self.peak_at)
            return {m: c * scale for m, c in shape.items()}

        top = self.peak_at - timedelta(minutes=8)
        for _ in range(12):
            counts = combined(scaled(top))
            best = max(counts, key=lambda m: (window_count(counts, m), -m.timestamp()))
            if best == self.peak_at:
                break
            top += self.peak_at - best
        spike = {m: int(round(c)) for m, c in scaled(top).items()}
        return _make_strict_peak(spike, base, self.peak, self.peak_at)

    def _shape(self, top: datetime, height: float) -> dict[datetime, float]:
        out: dict[datetime, float] = {}
        rise = max(1.0, (top - self.onset) / MINUTE)
        m = self.onset
        while m < self.end:
            x = (m - self.onset) / MINUTE
            if m <= top:
                rate = height * math.sin(math.pi / 2 * x / rise) ** 2
            else:
                after = (m - top) / MINUTE
                if self.tail_from is not None and self.tail_tau and m > self.tail_from:
                    before_tail = (self.tail_from - top) / MINUTE
                    rate = height * math.exp(-before_tail / self.tau - (m - self.tail_from) / MINUTE / self.tail_tau)
                else:
                    rate = height * math.exp(-after / self.tau)
            out[m] = rate
            m += MINUTE
        return out


def _make_strict_peak(spike: dict[datetime, int], base: Mapping[datetime, int], peak: int, peak_at: datetime) -> dict[datetime, int]:
    """Adjust ``spike`` so ``round(window)`` is exactly ``peak`` at ``peak_at``, no earlier
    minute reaches it (a tie keeps the earlier time) and no later minute exceeds it."""
    minutes = sorted(set(spike) | set(base))

    def total(m: datetime) -> int:
        return spike.get(m, 0) + base.get(m, 0)

    def w(m: datetime) -> float:
        return window_count({x: total(x) for x in minutes if m - timedelta(minutes=21) <= x <= m}, m)

    for _ in range(500):
        fix = peak - round(w(peak_at))
        if fix:  # the peak minute's own reports are in no earlier window
            spike[peak_at] = spike.get(peak_at, 0) + fix
            continue
        offender = next(
            (m for m in minutes if m != peak_at and peak_at - timedelta(minutes=20) <= m <= peak_at + timedelta(minutes=20)
             and (round(w(m)) >= peak if m < peak_at else round(w(m)) > peak)),
            None,
        )
        if offender is None:
            return {m: c for m, c in spike.items() if c > 0}
        # take reports away where they count for the offender but not (fully) for the peak:
        # the offender's own minute when it is later, its oldest minutes when it is earlier
        # (the peak minute's count then restores the peak's window on the next turn)
        spots = [offender] if offender > peak_at else [m for m in minutes if offender - timedelta(minutes=20) <= m <= offender]
        for spot in spots:
            if spike.get(spot, 0) > 0:
                spike[spot] -= 1
                break
        else:
            raise ValueError(f"cannot shape a strict peak at {peak_at:%H:%M}")
    raise ValueError(f"cannot shape a strict peak at {peak_at:%H:%M}")


@dataclass(frozen=True, slots=True)
class Crowd:
    """Reports per minute: a steady background (what is usual) plus spikes."""

    background_per_minute: float = 0.8
    spikes: tuple[Spike, ...] = ()
    guilds: int = 60  # reports come from this many Discord servers (anti-brigading needs many)
    seed: int = 7

    def plan(self, start: datetime, end: datetime) -> dict[datetime, tuple[int, tuple[tuple[str, float], ...]]]:
        """Minute → (reports, problem mix) for the whole run."""
        rng = random.Random(self.seed)
        out: dict[datetime, tuple[int, tuple[tuple[str, float], ...]]] = {}
        m = start
        while m <= end:
            n = poisson(rng, self.background_per_minute)
            if n:
                out[m] = (n, (("other", 0.4), ("login", 0.3), ("app", 0.3)))
            m += MINUTE
        for spike in self.spikes:
            background = {m: n for m, (n, _) in out.items()}
            for minute, n in spike.plan(background).items():
                if start <= minute <= end:
                    base = out.get(minute, (0, spike.problems))[0]
                    out[minute] = (base + n, spike.problems)
        return out


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson-distributed count with mean ``lam`` (Knuth; small means only)."""
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# --- scenarios ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str  # one line, English, printed first
    service_id: str  # a bundled catalog service (names in both languages come from there)
    start: datetime
    end: datetime
    page: StatusPage
    front_door: Timeline  # mode: ok | error_page | 503 | hang | drop
    network: Timeline = field(default_factory=lambda: Timeline(((datetime.min.replace(tzinfo=timezone.utc), True),)))
    crowd: Crowd = field(default_factory=Crowd)
    narration: tuple[tuple[datetime, str], ...] = ()  # what happens in the world, for the reader
    #: (after, threshold, text): narrate when the report count first falls under threshold
    milestones: tuple[tuple[datetime, int, str], ...] = ()
    expect: str = ""  # what the bot should do, in one line (printed at the end)

    def network_up(self, when: datetime) -> bool:
        return bool(self.network.at(when))

    def story(self) -> list[tuple[datetime, str]]:
        """The narration, with the report milestones placed where the planned curve crosses
        them (the crowd signal's own 15-minute count)."""
        lines = list(self.narration)
        if self.milestones:
            counts = {m: n for m, (n, _) in self.crowd.plan(self.start, self.end).items()}
            for after, threshold, text in self.milestones:
                m = after
                while m <= self.end:
                    if window_count(counts, m) < threshold:
                        lines.append((m, text))
                        break
                    m += MINUTE
        return sorted(lines, key=lambda item: item[0])

    def front_door_mode(self, when: datetime) -> str:
        return str(self.front_door.at(when))

    def status_summary(self, when: datetime) -> dict[str, Any]:
        return self.page.summary(when, page_id=f"sim-{self.service_id}")


class ScenarioWorld:
    """Adapter from a ``Scenario`` to what the loopback servers ask (``loopback.World``)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    def network_up(self, at: datetime) -> bool:
        return self.scenario.network_up(at)

    def front_door(self, at: datetime) -> str:
        return self.scenario.front_door_mode(at)

    def status_summary(self, at: datetime) -> dict[str, Any]:
        return self.scenario.status_summary(at)


def _x_outage() -> Scenario:
    day = "2025-06-12"
    t: Callable[[str], datetime] = lambda hhmm: at(day, hhmm)  # noqa: E731
    return Scenario(
        name="x-outage",
        title="X goes down worldwide while its status page says all systems are operational",
        service_id="x",
        start=t("11:40"),
        end=t("16:40"),
        page=StatusPage(name="X", url="https://status.x.invalid", components=("Web", "API", "Mobile apps")),
        front_door=Timeline(((t("00:00"), "ok"), (t("11:51"), "error_page"), (t("15:28"), "ok"))),
        crowd=Crowd(
            background_per_minute=0.8,
            spikes=(
                Spike(
                    onset=t("11:49"),
                    peak=25_800,
                    peak_at=t("12:51"),
                    tau=38.0,
                    end=t("16:40"),
                    tail_from=t("15:28"),
                    tail_tau=7.0,
                    problems=(("login", 0.52), ("app", 0.31), ("website", 0.17)),
                ),
            ),
        ),
        narration=(
            (t("11:51"), "x.com starts serving its error page (\u201cSomething went wrong, but don\u2019t worry\u2026\u201d) with HTTP 200; users start reporting"),
            (t("12:51"), "reports peak: 25,800 in 15 minutes"),
            (t("15:28"), "x.com serves its normal page again; reports fall off"),
        ),
        milestones=((t("12:52"), 650, "reports are under 650 in 15 minutes"),),
        expect="an alert saying the official status page has not acknowledged it, updates as reports grow, a recovery notice with duration and peak",
    )


def _official_incident() -> Scenario:
    day = "2025-06-17"
    t: Callable[[str], datetime] = lambda hhmm: at(day, hhmm)  # noqa: E731
    git = ("Git Operations",)
    incident = PageIncident(
        id="sim4k2p9xq1",
        name="Incident with Git Operations",
        components=git + ("API Requests",),
        updates=(
            PageUpdate(t("14:10"), "investigating", "We are investigating reports of degraded performance for Git Operations.", "minor"),
            PageUpdate(t("14:24"), "identified", "We have identified the cause of failed git pushes and API errors and are rolling out a fix.", "major"),
            PageUpdate(t("14:47"), "monitoring", "A fix has been deployed. Git Operations are recovering and we are monitoring the results.", "major"),
            PageUpdate(t("15:06"), "resolved", "This incident has been resolved.", "major"),
        ),
    )
    return Scenario(
        name="official-incident",
        title="GitHub's status page opens an incident, posts updates and resolves it",
        service_id="github",
        start=t("14:00"),
        end=t("15:30"),
        page=StatusPage(
            name="GitHub",
            url="https://www.githubstatus.com",
            components=("Git Operations", "API Requests", "Webhooks", "Issues", "Pull Requests", "Actions", "Pages"),
            incidents=(incident,),
        ),
        front_door=Timeline(((t("00:00"), "ok"),)),
        crowd=Crowd(
            background_per_minute=0.5,
            spikes=(Spike(onset=t("14:08"), peak=420, peak_at=t("14:31"), tau=6.0, end=t("15:00"), problems=(("posting", 0.6), ("website", 0.4))),),
        ),
        narration=(
            (t("14:10"), "the status page opens \u201cIncident with Git Operations\u201d (minor): investigating"),
            (t("14:24"), "update: identified, impact raised to major"),
            (t("14:47"), "update: a fix is deployed, monitoring"),
            (t("15:06"), "the status page resolves the incident"),
        ),
        expect="an alert confirmed by the status page, an escalation, an update with the new official text, a recovery",
    )


def _flapping() -> Scenario:
    day = "2025-06-20"
    t: Callable[[str], datetime] = lambda hhmm: at(day, hhmm)  # noqa: E731
    points: list[tuple[datetime, str]] = [(t("00:00"), "ok")]
    flip = t("20:05")
    for _ in range(8):  # eight short outages: 503 for 2 minutes, fine for 4
        points += [(flip, "503"), (flip + timedelta(minutes=2), "ok")]
        flip += timedelta(minutes=6)
    return Scenario(
        name="flapping",
        title="Discord's front door keeps failing for two minutes and coming back",
        service_id="discord",
        start=t("20:00"),
        end=t("21:40"),
        page=StatusPage(name="Discord", url="https://discordstatus.com", components=("API", "Gateway", "Media Proxy", "Voice")),
        front_door=Timeline(tuple(points)),
        crowd=Crowd(background_per_minute=0.6),
        narration=(
            (t("20:05"), "discord.com starts answering 503 for two minutes in every six (eight times)"),
            (flip - timedelta(minutes=4), "the front door is stable again"),
        ),
        expect="a few alerts and recoveries, then one \u201cunstable\u201d notice and silence, then one recovery once it has been stable for 30 minutes",
    )


def _monitor_offline() -> Scenario:
    day = "2025-06-23"
    t: Callable[[str], datetime] = lambda hhmm: at(day, hhmm)  # noqa: E731
    return Scenario(
        name="monitor-offline",
        title="The bot's own network fails: every probe, the status page and the canaries go dark",
        service_id="whatsapp",
        start=t("09:50"),
        end=t("10:50"),
        page=StatusPage(name="WhatsApp", url="https://status.whatsapp.invalid", components=("Web", "Messaging")),
        front_door=Timeline(((t("00:00"), "ok"),)),
        network=Timeline(((t("00:00"), True), (t("10:00") + timedelta(seconds=40), False), (t("10:22"), True))),
        crowd=Crowd(background_per_minute=0.8),
        narration=(
            (t("10:00") + timedelta(seconds=40), "the bot's own network goes down: every connection fails, canaries included"),
            (t("10:22"), "the bot's network is back"),
        ),
        expect="no alert at all: the failures are ours, so \u201cmonitoring degraded\u201d goes to the logs and /healthz only",
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "x-outage": _x_outage,
    "official-incident": _official_incident,
    "flapping": _flapping,
    "monitor-offline": _monitor_offline,
}
DEFAULT = "x-outage"


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]()
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None


def names() -> Sequence[str]:
    return tuple(SCENARIOS)
