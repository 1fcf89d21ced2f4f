"""One simulation run: the real pipeline on a scenario, in virtual time.

Wiring (the production parts, nothing stubbed): the scenario's service is the shipped
catalog's entry with each source URL pointed at a loopback stand-in (the status page, one
endpoint per probe, the vantage canaries) → ``Scheduler`` polls them through
``bot.net.HttpClient`` on the production schedule → ``Monitor`` fuses, steps the incident state
machine and persists events and deliveries in an in-memory SQLite database (migrated) → user
reports arrive through ``CrowdService.record``/``record_many`` as they come, and re-fuse the
service as ``/report`` does (``RefreshThrottle``) → the real ``DeliveryWorker`` delivers to
three subscribed channels (ar, en, both) through a console transport that prints them.

Time: a ``VirtualClock`` jumps from one due instant to the next — the scheduler's next poll,
the next arrival of reports — so every reading is taken at a definite virtual time and the
same scenario tells the same story every run. What the summary prints (events, peak) is what
the pipeline computed.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from aiohttp import web

from bot.catalog import Catalog, Service, load_catalog
from bot.db.models import GuildSettings, Subscription
from bot.db.setup import close_db, init_db
from bot.detect.model import EventKind, IncidentEvent
from bot.detect.upstream import Upstreams
from bot.discord.delivery import DeliveryWorker
from bot.net.client import HttpClient
from bot.runtime.monitor import Monitor, RefreshThrottle
from bot.runtime.scheduler import Scheduler, SchedulerConfig
from bot.services.crowd import CrowdService
from bot.settings import Settings
from bot.simulate.clock import VirtualClock
from bot.simulate.console import RULE, Channel, ConsoleTransport, Received
from bot.runtime.ioda import DEFAULT_INTERVAL as DEFAULT_IODA_INTERVAL, IodaPoller
from bot.services.guilds import countries_that_matter
from bot.simulate.crowd import GUILD_BASE, ReportInjector, seed_history
from bot.simulate.loopback import ERROR_PAGE_TEXT, Servers, start_ioda, start_servers
from bot.simulate.scenarios import Part, Scenario, ScenarioWorld
from bot.sources.ioda import WINDOW_SECONDS

GUILD_ID = 100_000_000_000_000_001
CHANNELS = (
    Channel(200_000_000_000_000_001, "#alerts-ar", "ar", GUILD_ID),
    Channel(200_000_000_000_000_002, "#alerts-en", "en", GUILD_ID),
    Channel(200_000_000_000_000_003, "#alerts-both", "both", GUILD_ID),
)
POLL_INTERVAL = 60.0
PROBE_INTERVAL = Settings().probe_interval  # the production default: the channels subscribe
# The simulation's database lives as long as the run: in memory (no file to write pages to at
# every commit), its statements run on the loop's thread (``bot.db.loop_sqlite``: no thread
# hop per statement, and virtual time on loopback servers does not mind the loop waiting for
# SQLite). x-outage's some 10,500 statements: 6.5 CPU-s on a file through aiosqlite's thread,
# 5.1 so (2-core machine, Python's 30 M additions in 2.1 s).
SIMULATION_DB = "sqlite://:memory:"
PROBE_TIMEOUT = 1.0  # real seconds: a hanging probe costs this much wall time per poll
TARGET_WALL_S = 12.0  # the default pace plays a scenario in about this long
#: source kinds the loopback world can play
PLAYABLE = frozenset({"statuspage", "http", "tcp"})
#: how often the simulated bot reads IODA (the production default)
IODA_INTERVAL = timedelta(seconds=DEFAULT_IODA_INTERVAL)
IODA_WINDOW = timedelta(seconds=WINDOW_SECONDS)


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


def shipped_service(scenario: Scenario, part: Part | None = None, shipped: Catalog | None = None) -> Service:
    """A service of the scenario (its own by default) as the shipped catalog (``shipped``, else
    read now) has it (names, sources, options)."""
    part = part or scenario.parts[0]
    service = (shipped or load_catalog()).get(part.service_id)
    if service is None:
        raise KeyError(f"scenario service {part.service_id!r} is not in the shipped catalog")
    kinds = {spec.kind for spec in service.sources}
    if not kinds <= PLAYABLE:
        raise ValueError(f"scenario {scenario.name!r}: {service.id} reads {', '.join(sorted(kinds - PLAYABLE))}, which the loopback world cannot play")
    probes = {spec.url for spec in service.sources if spec.kind == "http"}
    unknown = [url for url, _ in part.probes if url not in probes]
    if unknown:
        raise ValueError(f"scenario {scenario.name!r} changes {', '.join(unknown)}, which the shipped catalog does not probe for {service.id}")
    has_page = "statuspage" in kinds
    if has_page != (part.page is not None):
        raise ValueError(f"scenario {scenario.name!r}: the shipped catalog {'reads' if has_page else 'has no'} status page for {service.id}")
    return service


def _on_loopback(service: Service, servers: Servers) -> Catalog:
    """``service`` with each source URL pointed at its loopback stand-in; everything else —
    options, intervals — as shipped (a probe's timeout capped at ``PROBE_TIMEOUT`` real
    seconds, so a hanging answer costs little wall time)."""
    return Catalog([_service_on_loopback(service, servers)])


def _service_on_loopback(service: Service, servers: Servers) -> Service:
    sources = []
    for spec in service.sources:
        if spec.kind == "statuspage":
            assert servers.status_page is not None
            sources.append(dataclasses.replace(spec, url=servers.status_page))
            continue
        options = dict(spec.options)
        options["timeout"] = min(float(options.get("timeout", PROBE_TIMEOUT)), PROBE_TIMEOUT)
        url = servers.tcp[spec.url] if spec.kind == "tcp" else servers.probes[spec.url]
        sources.append(dataclasses.replace(spec, url=url, options=options))
    return dataclasses.replace(service, sources=tuple(sources))


async def run(
    scenario: Scenario,
    *,
    show: str = "both",
    speed: float = 0.0,
    out: TextIO | None = None,
    charts: Path | None = None,
) -> SimulationResult:
    """Play ``scenario`` and print what the ``show`` channel (ar, en or both) receives; with
    ``charts``, write there the report chart each of its messages would carry (PNG)."""
    out = out or sys.stdout
    started = time.perf_counter()
    clock = VirtualClock(scenario.start, speed=speed)
    bundled = load_catalog()  # (read once: the file is 250 services, some 70 ms to read)
    shipped = [shipped_service(scenario, part, bundled) for part in scenario.parts]
    all_servers: list[Servers] = []
    ioda: tuple[web.AppRunner, str] | None = None
    client = HttpClient(allow_private=True, timeout=PROBE_TIMEOUT * 2)
    try:
        for part, service in zip(scenario.parts, shipped):
            probes = [spec.url for spec in service.sources if spec.kind == "http"]
            required = {spec.url: str(spec.options["require_text"]) for spec in service.sources if spec.options.get("require_text")}
            all_servers.append(await start_servers(
                ScenarioWorld(scenario, part), clock, service_name=service.name, probes=probes, required=required,
                status_page=part.page is not None, tcp=[spec.url for spec in service.sources if spec.kind == "tcp"],
            ))  # fmt: skip
        if scenario.national:
            ioda = await start_ioda(lambda now, countries: scenario.ioda_events(now, countries, IODA_WINDOW), clock)
        await init_db(SIMULATION_DB, on_loop_thread=True)
        try:
            return await _play(
                scenario, shipped, clock, all_servers, client, show=show, out=out, started=started, charts=charts,
                ioda_url=ioda[1] if ioda else None, bundled=bundled,
            )  # fmt: skip
        finally:
            await close_db()
    finally:
        await client.close()
        for servers in all_servers:
            await servers.close()
        if ioda is not None:
            await ioda[0].cleanup()


async def _play(
    scenario: Scenario,
    shipped: list[Service],
    clock: VirtualClock,
    servers: list[Servers],
    client: HttpClient,
    *,
    show: str,
    out: TextIO,
    started: float,
    charts: Path | None = None,
    ioda_url: str | None = None,
    bundled: Catalog,
) -> SimulationResult:
    catalog = Catalog([_service_on_loopback(service, srv) for service, srv in zip(shipped, servers)])

    crowd = CrowdService(catalog, clock=clock)
    await crowd.start()
    injectors: list[ReportInjector] = []
    for n, part in enumerate(scenario.parts):
        await seed_history(part.service_id, scenario.start, part.crowd.background_per_minute)
        injectors.append(ReportInjector(
            crowd, part.service_id, part.crowd.plan(scenario.start, scenario.end), guilds=part.crowd.guilds,
            country_of_guild=part.crowd.country_of_guild, guild_base=GUILD_BASE + n * 1_000,
        ))  # fmt: skip

    events: list[IncidentEvent] = []
    fresh = [False]  # deliveries were written since the worker last looked

    async def collect(new: list[IncidentEvent]) -> None:
        events.extend(new)
        fresh[0] = True

    poller = None
    if ioda_url is not None:  # IODA as production reads it: the countries that matter, from the database
        poller = IodaPoller(client, countries_that_matter, api=ioda_url, interval=IODA_INTERVAL.total_seconds(), clock=clock, persist=False)
    monitor = Monitor(
        crowd_provider=crowd.signal, on_events=collect, upstreams=Upstreams.of(bundled.services),
        internet=poller.context if poller is not None else None,
    )  # fmt: skip
    scheduler = Scheduler(
        catalog,
        monitor,
        client,
        SchedulerConfig(
            poll_interval=POLL_INTERVAL, probe_interval=PROBE_INTERVAL, canary_targets=servers[0].canaries, owner="simulate"
        ),
        clock=clock,
    )
    refresh = RefreshThrottle()
    await GuildSettings.create(guild_id=GUILD_ID, language="en", timezone="UTC", digits="latn")
    for ch in CHANNELS:
        for service in shipped:
            await Subscription.create(guild_id=ch.guild_id, channel_id=ch.id, service_id=service.id, language=ch.language)
    shown = {ch.id for ch in CHANNELS if ch.language == show}
    console = ConsoleTransport({ch.id: ch for ch in CHANNELS}, show=shown, out=out, clock=clock, charts=charts)
    # the shipped catalog names the service and links its public status page in the messages
    worker = DeliveryWorker(
        console, bundled, rate_per_s=None, clock=clock, charts=crowd.event_series if charts is not None else None
    )

    _intro(scenario, ", ".join(service.name for service in shipped), show, clock.speed, out)
    narration = scenario.story()
    blind: list[tuple[datetime, datetime | None]] = []
    reports_due: list[datetime | None] = [injector.next_at() for injector in injectors]
    due: datetime | None = scenario.start
    ioda_due: datetime | None = scenario.start if poller is not None else None
    while True:
        now = clock.now()
        while narration and narration[0][0] <= now:
            when, what = narration.pop(0)
            print(f"\n{_clock(when)} UTC \u00b7 in the world: {what}", file=out, flush=True)
        if poller is not None and ioda_due is not None and ioda_due <= now:
            await poller.poll_once(now)
            ioda_due = now + IODA_INTERVAL
        for n, injector in enumerate(injectors):
            arrival = reports_due[n]
            if arrival is not None and arrival <= now:
                if await injector.inject(arrival) and refresh.due(injector.service_id, now):
                    await monitor.refresh(injector.service_id, now)  # as /report does: the crowd signal moved
                reports_due[n] = injector.next_at(arrival)
        if due is not None and due <= now:
            await scheduler.run_due(now)
            due = await scheduler.next_due(now)
            _track_vantage(monitor, now, blind, out)
        if fresh[0]:
            fresh[0] = False
            while await worker.run_once(now):
                pass  # the next event of an incident waits for the one before it
        if now >= scenario.end:
            break
        candidates = [scenario.end] + [c for c in (*reports_due, due, ioda_due) if c is not None and c > now]
        if narration:
            candidates.append(narration[0][0])
        await clock.advance_to(min(c for c in candidates if c > now))

    result = SimulationResult(
        scenario=scenario,
        received=console.received,
        events=events,
        wall_s=time.perf_counter() - started,
        polls=scheduler.stats["polls"],
        reports=sum(injector.injected for injector in injectors),
        blind_periods=blind,
    )
    _summary(result, show, out)
    return result


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
    print("No token, no internet: the shipped catalog's entry, its status page and probes served on loopback;", file=out)
    print("polling, detection, crowd reports, database, delivery and rendering are the bot's own.", file=out)
    if any(mode == "error_page" for _, timeline in scenario.probes for _, mode in timeline.changes()):
        print(f"The error page served with HTTP 200 says: \u201c{ERROR_PAGE_TEXT}\u201d", file=out)
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
