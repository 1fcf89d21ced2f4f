"""The bundled scenarios: what the world does, minute by minute, in virtual time (pure data).

A ``Scenario`` names a service of the shipped catalog and says, for any virtual instant, what
each of its probed URLs answers, what its status page publishes, whether the bot's own network
works, and how many users report a problem in each minute. It says nothing about what the bot
should conclude — not even how many reports its 15-minute window will count: that is the real
pipeline's job, and the tests check its conclusions.

Dates are illustrative; the x-outage's report arrivals were chosen so that the count the bot
finds lands near the press accounts of a big X outage ("25,800 reports at the peak at 12:51
GMT"); the tests accept what the pipeline counts within a tolerance, never a scripted figure.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence

MINUTE = timedelta(minutes=1)

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

    @classmethod
    def failing(cls, mode: str, since: datetime, until: datetime) -> Timeline:
        """A probe that answers ``mode`` from ``since`` to ``until`` and normally otherwise."""
        return cls(((ALWAYS, "ok"), (since, mode), (until, "ok")))


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


@dataclass(frozen=True, slots=True)
class Spike:
    """A wave of user reports, as the world sends them: from ``onset`` the rate rises to
    ``rate`` reports a minute at ``top``, then decays (time constant ``tau`` minutes, and
    ``tail_tau`` from ``tail_from`` on, when the service is back) until ``end``.

    It describes arrivals only: how many reports the bot counts in its window, and when that
    count peaks, is the pipeline's to find."""

    onset: datetime
    top: datetime
    rate: float
    tau: float
    end: datetime
    tail_from: datetime | None = None
    tail_tau: float | None = None
    problems: tuple[tuple[str, float], ...] = (("login", 0.5), ("app", 0.3), ("website", 0.2))

    def per_minute(self) -> dict[datetime, int]:
        """Reports arriving in each minute (keyed by the minute's start)."""
        out: dict[datetime, int] = {}
        rise = max(1.0, (self.top - self.onset) / MINUTE)
        m = self.onset
        while m < self.end:
            if m <= self.top:
                level = math.sin(math.pi / 2 * ((m - self.onset) / MINUTE) / rise) ** 2
            elif self.tail_from is not None and self.tail_tau and m > self.tail_from:
                level = math.exp(-((self.tail_from - self.top) / MINUTE) / self.tau - ((m - self.tail_from) / MINUTE) / self.tail_tau)
            else:
                level = math.exp(-((m - self.top) / MINUTE) / self.tau)
            n = round(self.rate * level)
            if n:
                out[m] = n
            m += MINUTE
        return out


@dataclass(frozen=True, slots=True)
class Crowd:
    """Reports per minute: a steady background (what is usual) plus spikes."""

    background_per_minute: float = 0.8
    spikes: tuple[Spike, ...] = ()
    guilds: int = 60  # reports come from this many Discord servers (anti-brigading needs many)
    seed: int = 7
    #: the reporting servers' countries and their shares of the servers (none: no country set)
    countries: tuple[tuple[str, float], ...] = ()

    def country_of_guild(self, k: int) -> str | None:
        """The country of the ``k``-th reporting server: the shares laid out over the servers."""
        if not self.countries:
            return None
        total = sum(share for _, share in self.countries) or 1.0
        x, acc = (k % self.guilds + 0.5) / self.guilds * total, 0.0
        for country, share in self.countries:
            acc += share
            if x <= acc:
                return country
        return self.countries[-1][0]

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
            for minute, n in spike.per_minute().items():
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


ALWAYS = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class Part:
    """What the world does to one more service of a scenario that involves several (an
    upstream provider's outage): the same fields as the scenario's own service."""

    service_id: str
    page: StatusPage | None = None
    probes: tuple[tuple[str, Timeline], ...] = ()
    crowd: Crowd = field(default_factory=Crowd)

    def probe_mode(self, url: str, when: datetime) -> str:
        for probed, timeline in self.probes:
            if probed == url:
                return str(timeline.at(when))
        return "ok"


@dataclass(frozen=True, slots=True)
class NationalOutage:
    """A country's internet cut nationwide, as IODA's signals show it (``datasources``)."""

    country: str
    name: str
    since: datetime
    until: datetime
    datasources: tuple[str, ...] = ("bgp", "ping-slash24")


@dataclass(frozen=True, slots=True)
class Scenario:
    """What the world does to one service of the shipped catalog.

    ``probes`` gives, for the catalog's probe URLs the scenario touches, what that URL answers
    over time (``ok``, ``error_page``, ``503``, ``hang``, ``drop``); the service's other
    probes answer normally. ``page`` is its Statuspage-compatible status page, for a service
    whose catalog entry reads one (None for a service without)."""

    name: str
    title: str  # one line, English, printed first
    service_id: str  # a shipped catalog service: its names and sources come from there
    start: datetime
    end: datetime
    page: StatusPage | None = None
    probes: tuple[tuple[str, Timeline], ...] = ()
    network: Timeline = field(default_factory=lambda: Timeline(((ALWAYS, True),)))
    crowd: Crowd = field(default_factory=Crowd)
    narration: tuple[tuple[datetime, str], ...] = ()  # what happens in the world, for the reader
    expect: str = ""  # what the bot should do, in one line (printed at the end)
    #: the other services the story involves (subscribed in the same channels)
    others: tuple[Part, ...] = ()
    #: national internet outages IODA shows during the story
    national: tuple[NationalOutage, ...] = ()

    @property
    def parts(self) -> tuple[Part, ...]:
        """Every service of the story, the scenario's own first."""
        return (Part(self.service_id, self.page, self.probes, self.crowd), *self.others)

    def ioda_events(self, when: datetime, countries: Sequence[str], window: timedelta) -> dict[str, Any]:
        """IODA's ``outages/events`` answer (codf, as ``bot.sources.ioda`` reads it) for
        ``countries`` over ``window`` up to ``when``: one event per datasource of each
        national outage that overlaps the window, still going on or over."""
        start = when - window
        data = []
        for outage in self.national:
            if outage.country not in countries or outage.since > when or outage.until < start:
                continue
            end = min(outage.until, when)
            for source in outage.datasources:
                data.append({
                    "location": f"country/{outage.country}", "location_name": outage.name,
                    "start": int(outage.since.timestamp()), "duration": int((end - outage.since).total_seconds()),
                    "uncertainty": None, "method": "median", "datasource": source, "status": 0,
                    "fraction": None, "score": 10_000.0, "overlaps_window": outage.since < start,
                })  # fmt: skip
        return {
            "type": "outages.events",
            "requestParameters": {
                "from": str(int(start.timestamp())), "until": str(int(when.timestamp())),
                "entityType": "country", "entityCode": ",".join(countries), "format": "codf",
            },  # fmt: skip
            "error": None,
            "data": data,
        }

    def network_up(self, when: datetime) -> bool:
        return bool(self.network.at(when))

    def story(self) -> list[tuple[datetime, str]]:
        """What happens in the world, in order (narration only: the bot's findings are printed
        from what it computed)."""
        return sorted(self.narration, key=lambda item: item[0])

    def probe_mode(self, url: str, when: datetime) -> str:
        """What the catalog probe ``url`` answers at ``when``."""
        for probed, timeline in self.probes:
            if probed == url:
                return str(timeline.at(when))
        return "ok"

    def status_summary(self, when: datetime) -> dict[str, Any]:
        if self.page is None:
            raise LookupError(f"scenario {self.name!r} has no status page")
        return self.page.summary(when, page_id=f"sim-{self.service_id}")


class ScenarioWorld:
    """Adapter from one service of a ``Scenario`` (its own by default) to what the loopback
    servers ask (``loopback.World``)."""

    def __init__(self, scenario: Scenario, part: Part | None = None) -> None:
        self.scenario = scenario
        self.part = part or scenario.parts[0]

    def network_up(self, at: datetime) -> bool:
        return self.scenario.network_up(at)

    def probe(self, url: str, at: datetime) -> str:
        return self.part.probe_mode(url, at)

    def status_summary(self, at: datetime) -> dict[str, Any]:
        if self.part.page is None:
            raise LookupError(f"scenario {self.scenario.name!r} has no status page for {self.part.service_id}")
        return self.part.page.summary(at, page_id=f"sim-{self.part.service_id}")


#: the shipped catalog's probes the scenarios touch (``runner`` refuses a URL the catalog lacks)
X_OEMBED = "https://publish.twitter.com/oembed?url=https://twitter.com/Interior/status/507185938620219395"
DISCORD_SITE = "https://discord.com/"
DISCORD_GATEWAY = "https://discord.com/api/v10/gateway"
CHATGPT_SITE = "https://chatgpt.com/"
CLOUDFLARE_SITE = "https://www.cloudflare.com/"


def _x_outage() -> Scenario:
    day = "2025-06-12"
    t: Callable[[str], datetime] = lambda hhmm: at(day, hhmm)  # noqa: E731
    down, back = t("11:51"), t("15:28")
    return Scenario(
        name="x-outage",
        title="X goes down worldwide; x.com still serves a page, X publishes no status page",
        service_id="x",
        start=t("11:40"),
        end=t("16:40"),
        probes=(
            (X_OEMBED, Timeline.failing("503", down, back)),
        ),
        crowd=Crowd(
            background_per_minute=0.8,
            spikes=(
                Spike(
                    onset=t("11:49"),
                    top=t("12:45"),
                    rate=1_760,
                    tau=38.0,
                    end=t("16:40"),
                    tail_from=back,
                    tail_tau=7.0,
                    problems=(("login", 0.52), ("app", 0.31), ("website", 0.17)),
                ),
            ),
        ),
        narration=(
            (down, "X's backend fails: x.com still answers HTTP 200 (its error page, \u201cSomething went wrong, but don\u2019t worry\u2026\u201d), "
                   "X's oEmbed API answers 503; users start reporting, up to about 1,760 reports a minute"),
            (back, "X's API answers normally again; reports fall off"),
        ),
        expect="an alert from our probe of X's API and the reports (X publishes no status page), updates as reports grow, a recovery notice with duration and peak",
    )


def _silent_page() -> Scenario:
    day = "2025-06-10"
    t: Callable[[str], datetime] = lambda hhmm: at(day, hhmm)  # noqa: E731
    down, back = t("06:36"), t("08:12")
    return Scenario(
        name="silent-page",
        title="ChatGPT fails for users while its status page says all systems are operational",
        service_id="chatgpt",
        start=t("06:25"),
        end=t("09:00"),
        page=StatusPage(name="OpenAI", url="https://status.openai.com", components=("APIs", "ChatGPT", "Sora", "Playground")),
        probes=((CHATGPT_SITE, Timeline.failing("503", down, back)),),
        crowd=Crowd(
            background_per_minute=0.6,
            spikes=(Spike(onset=t("06:34"), top=t("07:05"), rate=260, tau=30.0, end=t("09:00"), tail_from=back, tail_tau=6.0,
                          problems=(("app", 0.6), ("login", 0.25), ("website", 0.15))),),
        ),
        narration=(
            (down, "chatgpt.com starts answering 503; users start reporting; the status page stays on \u201cAll Systems Operational\u201d"),
            (back, "chatgpt.com answers normally again; the status page never mentioned it"),
        ),
        expect="an alert that says the status page still says all systems are operational, updates as reports grow, a recovery notice",
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
        crowd=Crowd(
            background_per_minute=0.5,
            spikes=(Spike(onset=t("14:08"), top=t("14:24"), rate=40, tau=6.0, end=t("15:00"), problems=(("posting", 0.6), ("website", 0.4))),),
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
    points: list[tuple[datetime, str]] = [(ALWAYS, "ok")]
    flip = t("20:05")
    for _ in range(8):  # eight short outages: 503 for 2 minutes, fine for 4
        points += [(flip, "503"), (flip + timedelta(minutes=2), "ok")]
        flip += timedelta(minutes=6)
    return Scenario(
        name="flapping",
        title="Discord's website and API keep failing for two minutes and coming back",
        service_id="discord",
        start=t("20:00"),
        end=t("21:40"),
        page=StatusPage(name="Discord", url="https://discordstatus.com", components=("API", "Gateway", "Media Proxy", "Voice")),
        probes=((DISCORD_SITE, Timeline(tuple(points))), (DISCORD_GATEWAY, Timeline(tuple(points)))),
        crowd=Crowd(background_per_minute=0.6),
        narration=(
            (t("20:05"), "discord.com and its API start answering 503 for two minutes in every six (eight times)"),
            (flip - timedelta(minutes=4), "discord.com is stable again"),
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
        network=Timeline(((t("00:00"), True), (t("10:00") + timedelta(seconds=40), False), (t("10:22"), True))),
        crowd=Crowd(background_per_minute=0.8),
        narration=(
            (t("10:00") + timedelta(seconds=40), "the bot's own network goes down: every connection fails, canaries included"),
            (t("10:22"), "the bot's network is back"),
        ),
        expect="no alert at all: the failures are ours, so \u201cmonitoring degraded\u201d goes to the logs and /healthz only",
    )


def _upstream_outage() -> Scenario:
    day = "2025-11-18"
    t: Callable[[str], datetime] = lambda hhmm: at(day, hhmm)  # noqa: E731
    # where the reporting servers are: eight countries, Iraq among them
    countries = (("US", 0.30), ("GB", 0.12), ("DE", 0.10), ("IN", 0.10), ("FR", 0.08), ("IQ", 0.10), ("SA", 0.10), ("EG", 0.10))

    def reports(onset: str, top: str, rate: float, back: str, problems: tuple[tuple[str, float], ...]) -> Crowd:
        return Crowd(
            background_per_minute=0.6, guilds=80, countries=countries,
            spikes=(Spike(onset=t(onset), top=t(top), rate=rate, tau=45.0, end=t("15:00"), tail_from=t(back), tail_tau=6.0, problems=problems),),
        )  # fmt: skip

    cloudflare_incident = PageIncident(
        id="simcf18nov",
        name="Cloudflare Global Network experiencing issues",
        components=("Cloudflare Sites and Services", "CDN/Cache", "Dashboard"),
        updates=(
            PageUpdate(t("11:48"), "investigating", "Cloudflare is aware of, and investigating an issue which potentially impacts multiple customers.", "critical"),
            PageUpdate(t("13:09"), "identified", "The issue has been identified and a fix is being implemented.", "major"),
            PageUpdate(t("14:10"), "monitoring", "A fix has been implemented and we are monitoring the results.", "minor"),
            PageUpdate(t("14:25"), "resolved", "This incident has been resolved.", "minor"),
        ),
    )
    openai_incident = PageIncident(
        id="simoai18nov",
        name="Elevated errors for ChatGPT",
        components=("ChatGPT",),
        updates=(
            PageUpdate(t("11:40"), "investigating", "We are seeing elevated errors for ChatGPT users and are investigating.", "major"),
            PageUpdate(t("13:58"), "resolved", "ChatGPT is working normally again.", "major"),
        ),
    )
    return Scenario(
        name="upstream-outage",
        title="Cloudflare fails and takes Discord, X and ChatGPT down with it; Iraq is also cut off nationwide",
        service_id="cloudflare",
        start=t("11:05"),
        end=t("15:00"),
        page=StatusPage(name="Cloudflare", url="https://www.cloudflarestatus.com", components=cloudflare_incident.components + ("API",),
                        incidents=(cloudflare_incident,)),
        probes=((CLOUDFLARE_SITE, Timeline.failing("503", t("11:20"), t("14:05"))),),
        crowd=reports("11:20", "11:50", 40, "14:05", (("website", 0.7), ("other", 0.3))),
        others=(
            Part(
                "discord",
                page=StatusPage(name="Discord", url="https://discordstatus.com", components=("API", "Gateway", "Media Proxy", "Voice")),
                probes=((DISCORD_SITE, Timeline.failing("503", t("11:22"), t("13:20"))),
                        (DISCORD_GATEWAY, Timeline.failing("503", t("11:22"), t("13:20")))),
                crowd=reports("11:21", "11:55", 240, "13:20", (("app", 0.5), ("login", 0.3), ("website", 0.2))),
            ),
            Part(
                "x",
                probes=((X_OEMBED, Timeline.failing("503", t("11:21"), t("13:45"))),),
                crowd=reports("11:20", "11:52", 600, "13:45", (("login", 0.5), ("app", 0.3), ("website", 0.2))),
            ),
            Part(
                "chatgpt",
                page=StatusPage(name="OpenAI", url="https://status.openai.com", components=("APIs", "ChatGPT", "Sora", "Playground"),
                                incidents=(openai_incident,)),
                probes=((CHATGPT_SITE, Timeline.failing("503", t("11:23"), t("13:55"))),),
                crowd=reports("11:22", "11:58", 280, "13:55", (("app", 0.6), ("login", 0.2), ("website", 0.2))),
            ),
        ),
        national=(NationalOutage("IQ", "Iraq", t("10:30"), t("12:10")),),
        narration=(
            (t("10:30"), "Iraq's internet is cut nationwide for the morning's exams (IODA sees it in BGP and active probing)"),
            (t("11:20"), "Cloudflare's network starts failing: www.cloudflare.com answers 503, and within three minutes so do "
                         "discord.com, X's oEmbed API and chatgpt.com, all behind Cloudflare; users in eight countries report"),
            (t("11:40"), "OpenAI's status page opens \u201cElevated errors for ChatGPT\u201d; Discord's page stays on \u201cAll Systems Operational\u201d"),
            (t("11:48"), "Cloudflare's status page opens \u201cCloudflare Global Network experiencing issues\u201d"),
            (t("12:10"), "Iraq's national shutdown ends"),
            (t("13:20"), "Discord answers again"),
            (t("13:45"), "X's API answers again"),
            (t("13:55"), "chatgpt.com answers again"),
            (t("14:05"), "www.cloudflare.com answers again; Cloudflare's page resolves its incident at 14:25"),
        ),
        expect="one grouped message per channel (\u201cCloudflare outage \u2014 also affecting Discord, X and ChatGPT\u201d) edited as services join "
               "and recover, the countries reporting and Iraq's national outage in the alerts, one reply when the last service is back",
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "x-outage": _x_outage,
    "silent-page": _silent_page,
    "official-incident": _official_incident,
    "flapping": _flapping,
    "monitor-offline": _monitor_offline,
    "upstream-outage": _upstream_outage,
}
DEFAULT = "x-outage"


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]()
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None


def names() -> Sequence[str]:
    return tuple(SCENARIOS)
