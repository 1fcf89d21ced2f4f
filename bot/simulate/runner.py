"""One simulation run: the real pipeline on a scenario, in virtual time.

Wiring (the production parts, nothing stubbed): loopback servers play the service's status
page, front door and the vantage canaries → ``Scheduler`` polls them through
``bot.net.HttpClient`` (statuspage and http kinds) → ``Monitor`` fuses, steps the incident
state machine and persists events and deliveries in a temporary SQLite database (migrated) →
``CrowdService`` gives the crowd signal from reports injected on the scenario's curve → the
console sink consumes the deliveries of three subscribed channels (ar, en, both) and prints
them.

Time: a ``VirtualClock`` jumps from one due instant to the next — the scheduler's next poll,
the next minute of reports — so every reading is taken at a definite virtual time and the same
scenario tells the same story every run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from bot.catalog import Catalog, load_catalog, parse_catalog
from bot.discord.embeds import draw_charts
from bot.services.crowd import CrowdService
from bot.db.models import GuildSettings, Subscription
from bot.db.setup import close_db, init_db
from bot.detect.model import EventKind, IncidentEvent
from bot.runtime.monitor import Monitor
from bot.net.client import HttpClient
from bot.notify.render import ServiceNames
from bot.runtime.scheduler import Scheduler, SchedulerConfig
from bot.simulate.clock import VirtualClock
from bot.simulate.console import RULE, Channel, ConsoleSink, Received
from bot.simulate.crowd import ReportInjector, seed_history
from bot.simulate.loopback import ERROR_PAGE_TEXT, Servers, start_servers
from bot.simulate.scenarios import MINUTE, Scenario, ScenarioWorld

GUILD_ID = 100_000_000_000_000_001
CHANNELS = (
    Channel(200_000_000_000_000_001, "#alerts-ar", "ar", GUILD_ID),
    Channel(200_000_000_000_000_002, "#alerts-en", "en", GUILD_ID),
    Channel(200_000_000_000_000_003, "#alerts-both", "both", GUILD_ID),
)
POLL_INTERVAL = 60.0
PROBE_TIMEOUT = 1.0  # real seconds: a hanging front door costs this much wall time per poll
TARGET_WALL_S = 12.0  # the default pace plays a scenario in about this long


@dataclass
class SimulationResult:
    scenario: Scenario
    received: list[Received]
    events: list[IncidentEvent] = field(default_factory=list)
    wall_s: float = 0.0
    polls: int = 0
    reports: int = 0
    blind_periods: list[tuple[datetime, datetime | None]] = field(default_factory=list)

    def for_channel(self, language: str) -> list[Received]:
        return [r for r in self.received if r.channel.language == language]

    def kinds(self) -> list[EventKind]:
        return [e.kind for e in self.events]


def default_speed(scenario: Scenario) -> float:
    """Virtual seconds per real second so the scenario plays in about ``TARGET_WALL_S``."""
    return max(1.0, (scenario.end - scenario.start).total_seconds() / TARGET_WALL_S)


def _sim_catalog(scenario: Scenario, status_page: str, front_door: str) -> Catalog:
    """The scenario's service as the bundled catalog names it, watched through loopback."""
    service = load_catalog().get(scenario.service_id)
    if service is None:
        raise KeyError(f"scenario service {scenario.service_id!r} is not in the bundled catalog")
    raw = {
        "services": [
            {
                "id": service.id,
                "name": service.name,
                "name_ar": service.name_ar,
                "aliases": list(service.aliases),
                "homepage": service.homepage or front_door,
                "sources": [
                    {"kind": "statuspage", "url": status_page, "interval": POLL_INTERVAL},
                    {
                        "kind": "http",
                        "url": front_door,
                        "expect_status": "200-399",
                        "forbid_text": "Something went wrong",
                        "timeout": PROBE_TIMEOUT,
                        "interval": POLL_INTERVAL,
                    },
                ],
            }
        ]
    }
    return parse_catalog(raw, source=f"simulate:{scenario.name}")


async def run(
    scenario: Scenario,
    *,
    show: str = "both",
    speed: float = 0.0,
    out: TextIO | None = None,
    workdir: Path | None = None,
    charts: Path | None = None,
) -> SimulationResult:
    """Play ``scenario`` and print what the ``show`` channel (ar, en or both) receives; with
    ``charts``, write there the report chart each of its messages would carry (PNG)."""
    out = out or sys.stdout
    started = time.perf_counter()
    clock = VirtualClock(scenario.start, speed=speed)
    tmp = tempfile.TemporaryDirectory(prefix="outage-sim-") if workdir is None else None
    base = Path(tmp.name) if tmp is not None else workdir
    assert base is not None
    db_url = f"sqlite://{base / 'simulate.sqlite3'}"
    world = ScenarioWorld(scenario)
    servers = await start_servers(world, clock, service_name=scenario.service_id)
    client = HttpClient(allow_private=True, timeout=PROBE_TIMEOUT * 2)
    try:
        await init_db(db_url)
        try:
            return await _play(scenario, clock, servers, client, show=show, out=out, started=started, charts=charts)
        finally:
            await close_db()
    finally:
        await client.close()
        await servers.close()
        if tmp is not None:
            tmp.cleanup()


async def _play(
    scenario: Scenario,
    clock: VirtualClock,
    servers: Servers,
    client: HttpClient,
    *,
    show: str,
    out: TextIO,
    started: float,
    charts: Path | None = None,
) -> SimulationResult:
    catalog = _sim_catalog(scenario, servers.status_page, servers.front_door)
    service = catalog.get(scenario.service_id)
    assert service is not None
    names = ServiceNames(service.id, service.name, service.name_ar, scenario.page.url)

    crowd = CrowdService(catalog, clock=clock)
    await crowd.start()
    await seed_history(service.id, scenario.start, scenario.crowd.background_per_minute)
    injector = ReportInjector(crowd, service.id, scenario.crowd.plan(scenario.start, scenario.end), guilds=scenario.crowd.guilds)

    events: list[IncidentEvent] = []
    fresh = [False]  # deliveries were written since the sink last looked

    async def collect(new: list[IncidentEvent]) -> None:
        events.extend(new)
        fresh[0] = True

    monitor = Monitor(crowd_provider=crowd.signal, on_events=collect)
    scheduler = Scheduler(
        catalog,
        monitor,
        client,
        SchedulerConfig(poll_interval=POLL_INTERVAL, canary_targets=servers.canaries, owner="simulate"),
        clock=clock,
    )
    await GuildSettings.create(guild_id=GUILD_ID, language="en", timezone="UTC", digits="latn")
    for ch in CHANNELS:
        await Subscription.create(guild_id=ch.guild_id, channel_id=ch.id, service_id=service.id, language=ch.language)
    shown = {ch.id for ch in CHANNELS if ch.language == show}
    sink = ConsoleSink(lambda _sid: names, {ch.id: ch for ch in CHANNELS}, show=shown, out=out)

    _intro(scenario, service.name, show, clock.speed, out)
    narration = scenario.story()
    blind: list[tuple[datetime, datetime | None]] = []
    next_minute = scenario.start
    due: datetime | None = scenario.start
    while True:
        now = clock.now()
        while narration and narration[0][0] <= now:
            when, what = narration.pop(0)
            print(f"\n{_clock(when)} UTC \u00b7 in the world: {what}", file=out, flush=True)
        if now >= next_minute:
            await injector.inject(next_minute)
            await monitor.refresh(service.id, now)  # as /report does: the crowd signal moved
            next_minute += MINUTE
        if due is not None and due <= now:
            await scheduler.run_due(now)
            due = await scheduler.next_due(now)
            _track_vantage(monitor, now, blind, out)
        if fresh[0]:
            fresh[0] = False
            seen = len(sink.received)
            await sink.drain(now)
            if charts is not None:
                await _write_charts(sink.received[seen:], shown, crowd, names, charts, now, out)
        if now >= scenario.end:
            break
        candidates = [next_minute, scenario.end] + ([due] if due is not None and due > now else [])
        if narration:
            candidates.append(narration[0][0])
        await clock.advance_to(min(c for c in candidates if c > now))

    result = SimulationResult(
        scenario=scenario,
        received=sink.received,
        events=events,
        wall_s=time.perf_counter() - started,
        polls=scheduler.stats["polls"],
        reports=injector.injected,
        blind_periods=blind,
    )
    _summary(result, show, out)
    return result


async def _write_charts(
    received: list[Received], shown: set[int], crowd: CrowdService, names: ServiceNames, folder: Path, now: datetime, out: TextIO
) -> None:
    """The charts each new message of the shown channel carries, drawn by the code the bot
    attaches them with."""
    folder.mkdir(parents=True, exist_ok=True)
    for r in received:
        if r.channel.id not in shown or r.action == "edit-resolved":
            continue
        series = await crowd.event_series(r.event, now)
        if series is None:
            continue
        _, files = await draw_charts(r.messages, series, names, tz=r.channel.tz, digits=r.channel.digits, now=now)
        for name, png in files:
            path = folder / f"{now:%H%M%S}-{r.event.kind.value}-{name}"
            path.write_bytes(png)
            print(f"  [chart: {path}]", file=out)


def _track_vantage(monitor: Monitor, now: datetime, blind: list[tuple[datetime, datetime | None]], out: TextIO) -> None:
    """Print the vantage self-check's changes: logs and /healthz only, never a channel."""
    is_blind = monitor.probes_blind
    was_blind = bool(blind) and blind[-1][1] is None
    if is_blind and not was_blind:
        blind.append((now, None))
        print(f"\n{now:%H:%M:%S} UTC \u00b7 bot: monitoring degraded \u2014 the canaries fail too, so our own network is the problem; "
              "probe failures are ignored (logs and /healthz only, no message to channels)", file=out, flush=True)
    elif was_blind and not is_blind:
        blind[-1] = (blind[-1][0], now)
        print(f"\n{now:%H:%M:%S} UTC \u00b7 bot: monitoring back to normal \u2014 the canaries answer again", file=out, flush=True)


def _intro(scenario: Scenario, service_name: str, show: str, speed: float, out: TextIO) -> None:
    pace = "as fast as possible" if speed <= 0 else f"\u00d7{speed:,.0f}"
    print(RULE, file=out)
    print(f"simulate {scenario.name}: {scenario.title}", file=out)
    print(
        f"{scenario.start:%Y-%m-%d %H:%M}\u2013{scenario.end:%H:%M} UTC (virtual, {pace}) \u00b7 service: {service_name} \u00b7 "
        f"channels: {', '.join(f'{c.name} ({c.language})' for c in CHANNELS)} \u00b7 showing {', '.join(c.name for c in CHANNELS if c.language == show)}",
        file=out,
    )
    print("No token, no internet: the status page, the front door and the canaries are loopback servers;", file=out)
    print("polling, detection, crowd signal, database and rendering are the bot's own.", file=out)
    if any(mode == "error_page" for _, mode in scenario.front_door.changes()):
        print(f"The front door's error page says: \u201c{ERROR_PAGE_TEXT}\u201d", file=out)
    print(RULE, file=out, flush=True)


def _summary(result: SimulationResult, show: str, out: TextIO) -> None:
    scenario = result.scenario
    print(f"\n{RULE}", file=out)
    per_channel: dict[str, list[Received]] = {}
    for r in result.received:
        per_channel.setdefault(r.channel.name, []).append(r)
    kinds = ", ".join(f"{k.value} \u00d7{sum(1 for e in result.events if e.kind is k)}" for k in EventKind if any(e.kind is k for e in result.events))
    print(f"incident events: {kinds or 'none'}", file=out)
    for ch in CHANNELS:
        items = per_channel.get(ch.name, [])
        posts = sum(1 for r in items if r.action in ("new", "reply"))
        edits = sum(1 for r in items if r.action in ("edit", "edit-resolved"))
        print(f"{ch.name} ({ch.language}): {posts} new message{'s' if posts != 1 else ''}, {edits} edit{'s' if edits != 1 else ''}", file=out)
    peaks = [e.report_peak for e in result.events if e.report_peak]
    if peaks:
        peak_event = max((e for e in result.events if e.report_peak), key=lambda e: e.report_peak or 0)
        when = f" at {peak_event.report_peak_at:%H:%M} UTC" if peak_event.report_peak_at else ""
        print(f"peak of user reports: {max(peaks):,}{when}", file=out)
    print(f"expected: {scenario.expect}", file=out)
    virtual = scenario.end - scenario.start
    print(
        f"{_hm(virtual)} of virtual time, {result.polls} polls, {result.reports:,} user reports, in {result.wall_s:.1f} s",
        file=out,
    )
    print(RULE, file=out, flush=True)


def _clock(when: datetime) -> str:
    return f"{when:%H:%M}" if when.second == 0 else f"{when:%H:%M:%S}"


def _hm(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"
