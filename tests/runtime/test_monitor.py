"""The monitor against a real database (SQLite, and PostgreSQL when configured).

A loopback Statuspage serving real captured payloads flips to a major outage and back; the
whole pipeline runs (scheduler → source kind → monitor → database). Time is a ManualClock.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import AsyncIterator

import pytest
from aiohttp import web

import bot.runtime.monitor as monitor_module
from bot.catalog import Catalog, Service
from bot.db.models import Delivery, DetectorState, Incident, IncidentEventRecord, SourceState, Subscription
from bot.db.setup import close_db, init_db
from bot.detect.model import CrowdLevel, CrowdSignal, EventKind, IncidentEvent
from bot.detect.serialize import event_from_dict
from bot.detect.track_record import RECORD
from bot.detect.upstream import UPSTREAM, Upstreams
from bot.runtime.monitor import Monitor
from bot.net.client import HttpClient
from tests.clock import ManualClock
from bot.runtime.scheduler import Scheduler, SchedulerConfig
from bot.sources.base import Observation, SourceRole, SourceSpec
from bot.sources.statuspage import parse as parse_statuspage
from bot.status import Status
from tests.conftest import TestDB
from tests.loopback import Server, respond, serve

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statuspage"
T0 = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)


class Page:
    """A status page whose payload the test switches between real captures."""

    def __init__(self) -> None:
        self.name = "github_operational"

    async def handler(self, request: web.Request) -> web.Response:
        return web.Response(body=(FIXTURES / f"{self.name}.json").read_bytes(), content_type="application/json")


@asynccontextmanager
async def status_page() -> AsyncIterator[tuple[Page, Server]]:
    page = Page()
    async with serve({"/api/v2/summary.json": page.handler}) as server:
        yield page, server


def catalog_for(server: Server) -> Catalog:
    spec = SourceSpec(kind="statuspage", url=server.url("/").rstrip("/"))
    return Catalog([Service(id="github", name="GitHub", name_ar="جيت هب", sources=(spec,))])


class Pipeline:
    """Monitor + scheduler + HTTP client, as one process would hold them."""

    def __init__(self, catalog: Catalog, clock: ManualClock) -> None:
        self.events: list[IncidentEvent] = []
        self.monitor = Monitor(on_events=self._collect)
        self.http = HttpClient(timeout=5)
        self.scheduler = Scheduler(catalog, self.monitor, self.http, SchedulerConfig(poll_interval=60), clock)
        self.clock = clock

    async def _collect(self, events: list[IncidentEvent]) -> None:
        self.events.extend(events)

    async def start(self) -> "Pipeline":
        await self.monitor.load(self.clock.now())
        await self.scheduler.sync(self.clock.now())
        return self

    async def poll(self) -> list[IncidentEvent]:
        """Advance to the next due time and run that round; the events it produced."""
        due = await self.scheduler.next_due(self.clock.now())
        assert due is not None
        self.clock.set(due)
        before = len(self.events)
        polled = await self.scheduler.run_due(self.clock.now())
        assert polled >= 1
        return self.events[before:]

    async def close(self) -> None:
        await self.http.close()


def kinds(events: list[IncidentEvent]) -> list[EventKind]:
    return [e.kind for e in events]


async def restart_database(db: TestDB) -> None:
    """What a process restart does to the database connection."""
    await close_db()
    await init_db(db.url, apply_migrations=False)


async def test_flip_to_major_outage_opens_once_and_resolves_once(db: TestDB) -> None:
    clock = ManualClock(T0)
    async with status_page() as (page, server):
        p = await Pipeline(catalog_for(server), clock).start()
        try:
            assert await p.poll() == []
            assert p.monitor.verdict("github").status is Status.OPERATIONAL

            page.name = "github_major_outage"
            opened = await p.poll()
            assert kinds(opened) == [EventKind.OPENED]
            assert opened[0].status is Status.MAJOR_OUTAGE
            for _ in range(5):  # the same outage, polled again: nothing new to say
                assert await p.poll() == []

            page.name = "github_operational"
            after_recovery = await p.poll() + await p.poll()
            assert kinds(after_recovery) == [EventKind.RESOLVED]
            assert after_recovery[0].incident_key == opened[0].incident_key
        finally:
            await p.close()

    incident = await Incident.get(key=opened[0].incident_key)
    assert incident.peak_status == "major_outage"
    assert incident.resolved_at == after_recovery[0].resolved_at
    records = await IncidentEventRecord.filter(incident=incident).order_by("id")
    assert [r.kind for r in records] == ["opened", "resolved"]
    assert event_from_dict(records[0].payload) == opened[0]
    row = await SourceState.get(key="github:0")
    assert Observation.from_dict(row.last_observation).status is Status.OPERATIONAL
    assert row.owner is None and row.lease_until is None


async def test_restart_mid_incident_neither_reopens_nor_reannounces(db: TestDB) -> None:
    clock = ManualClock(T0)
    async with status_page() as (page, server):
        first = await Pipeline(catalog_for(server), clock).start()
        await first.poll()
        page.name = "github_major_outage"
        opened = await first.poll()
        assert kinds(opened) == [EventKind.OPENED]
        await first.close()

        await restart_database(db)
        second = await Pipeline(catalog_for(server), clock).start()
        try:
            assert second.monitor.open_incidents() == {"github": opened[0].incident_key}
            assert second.monitor.verdict("github").status is Status.MAJOR_OUTAGE  # answered from the DB
            during = [e for _ in range(4) for e in await second.poll()]
            assert during == []
            page.name = "github_operational"
            after = await second.poll() + await second.poll()
            assert kinds(after) == [EventKind.RESOLVED]
            assert after[0].incident_key == opened[0].incident_key
        finally:
            await second.close()
    assert await Incident.all().count() == 1
    assert await IncidentEventRecord.filter(kind="opened").count() == 1


async def test_outage_that_ended_while_stopped_resolves_on_first_poll(db: TestDB) -> None:
    clock = ManualClock(T0)
    async with status_page() as (page, server):
        first = await Pipeline(catalog_for(server), clock).start()
        await first.poll()
        page.name = "github_major_outage"
        opened = await first.poll()
        assert kinds(opened) == [EventKind.OPENED]
        await first.close()

        page.name = "github_operational"  # recovered while we were down …
        clock.advance(45 * 60)  # … for three quarters of an hour
        await restart_database(db)
        second = await Pipeline(catalog_for(server), clock).start()
        try:
            resolved = await second.poll()
            assert kinds(resolved) == [EventKind.RESOLVED]
            assert resolved[0].incident_key == opened[0].incident_key
            assert resolved[0].resolved_at is not None and resolved[0].resolved_at >= T0 + timedelta(minutes=45)
            assert await second.poll() == []
        finally:
            await second.close()
    incident = await Incident.get(key=opened[0].incident_key)
    assert incident.resolved_at is not None


# -- deliveries, written with the events -----------------------------------------------------


def official(status_name: str, at: datetime) -> Observation:
    return parse_statuspage((FIXTURES / f"{status_name}.json").read_bytes(), service_id="github", fetched_at=at)


def degraded_page(at: datetime) -> Observation:
    return Observation(
        service_id="github", source_kind="statuspage", status=Status.DEGRADED, fetched_at=at,
        role=SourceRole.OFFICIAL, description="Minor Service Outage",
    )


async def subscribe(channel: int, service: str, min_severity: str = "degraded", *, enabled: bool = True,
                    language: str = "en") -> Subscription:
    return await Subscription.create(
        guild_id=1, channel_id=channel, service_id=service, min_severity=min_severity, enabled=enabled, language=language
    )


async def deliveries_of(kind: str) -> dict[int, Delivery]:
    record = await IncidentEventRecord.get(kind=kind)
    return {d.channel_id: d for d in await Delivery.filter(event=record)}


async def test_deliveries_follow_subscriptions_severity_and_the_alert(db: TestDB) -> None:
    everything = await subscribe(101, "all")
    await subscribe(102, "github", "major_outage", language="ar")  # (no alert below a major outage)
    await subscribe(103, "github", "degraded", enabled=False)
    await subscribe(104, "discord")
    both_all = await subscribe(105, "all")
    both_specific = await subscribe(105, "github", language="both")

    monitor = Monitor()
    t = T0
    assert kinds(await monitor.ingest("github", "github:0", degraded_page(t), t)) == [EventKind.OPENED]
    opened = await deliveries_of("opened")
    assert set(opened) == {101, 105}
    assert opened[105].subscription_id == both_specific.id and opened[105].language == "both"
    assert all(d.state == "pending" for d in opened.values())

    t += timedelta(minutes=1)
    assert kinds(await monitor.ingest("github", "github:0", official("github_major_outage", t), t)) == [EventKind.ESCALATED]
    escalated = await deliveries_of("escalated")
    assert set(escalated) == {101, 102, 105}  # the major-only channel hears of it now
    assert escalated[102].language == "ar"

    latecomer = await subscribe(106, "github")  # subscribed mid-incident: no orphan recovery
    for _ in range(2):
        t += timedelta(minutes=1)
        events = await monitor.ingest("github", "github:0", official("github_operational", t), t)
    assert kinds(events) == [EventKind.RESOLVED]
    resolved = await deliveries_of("resolved")
    assert set(resolved) == {101, 102, 105}
    assert latecomer.id not in {d.subscription_id for d in resolved.values()}

    every = await Delivery.all()
    assert len({d.nonce for d in every}) == len(every)
    for d in every:  # "o<event>-<subscription>" in base 36: Discord's 25-character nonce names the pair
        event_part, _, sub_part = d.nonce.removeprefix("o").partition("-")
        assert len(d.nonce) <= 25 and d.nonce.startswith("o")
        assert (int(event_part, 36), int(sub_part, 36)) == (d.event_id, d.subscription_id)  # type: ignore[attr-defined]
    assert both_all.id not in {d.subscription_id for d in every}
    assert everything.id in {d.subscription_id for d in every}


async def test_event_incident_and_deliveries_share_one_transaction(db: TestDB, monkeypatch: pytest.MonkeyPatch) -> None:
    await subscribe(201, "all")
    await subscribe(202, "github")
    real = monitor_module.create_deliveries

    async def half_then_crash(record, incident, event, *, using_db=None):  # type: ignore[no-untyped-def]
        created = await real(record, incident, event, using_db=using_db)
        assert created  # rows were written inside the transaction …
        raise RuntimeError("crash while fanning out")

    monkeypatch.setattr(monitor_module, "create_deliveries", half_then_crash)
    monitor = Monitor()
    with pytest.raises(RuntimeError):
        await monitor.ingest("github", "github:0", official("github_major_outage", T0), T0)
    # … and none survived, nor the event, the incident or the detector state
    assert await Delivery.all().count() == 0
    assert await IncidentEventRecord.all().count() == 0
    assert await Incident.all().count() == 0
    assert await DetectorState.all().count() == 0
    assert monitor.open_incidents() == {}

    monkeypatch.setattr(monitor_module, "create_deliveries", real)
    t = T0 + timedelta(seconds=30)
    assert kinds(await monitor.ingest("github", "github:0", official("github_major_outage", t), t)) == [EventKind.OPENED]
    assert await Delivery.all().count() == 2
    assert await IncidentEventRecord.all().count() == 1


# -- vantage and health -----------------------------------------------------------------------


async def test_canaries_degrade_and_restore_once(db: TestDB, caplog: pytest.LogCaptureFixture) -> None:
    monitor = Monitor()
    caplog.set_level(logging.INFO, logger="bot.runtime.monitor")
    down = {"a": False, "b": False, "c": True}
    assert await monitor.ingest_canaries(down, T0) is True
    assert await monitor.ingest_canaries(down, T0 + timedelta(minutes=1)) is True
    health = monitor.health()
    assert health["monitoring"] == "degraded" and health["canaries_failing"] == ["a", "b"]
    assert await monitor.ingest_canaries({"a": True, "b": True, "c": True}, T0 + timedelta(minutes=2)) is False
    assert await monitor.ingest_canaries({"a": True, "b": True, "c": True}, T0 + timedelta(minutes=3)) is False
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.runtime.monitor"]
    assert sum(m.startswith("monitoring degraded") for m in messages) == 1
    assert sum(m.startswith("monitoring restored") for m in messages) == 1
    assert monitor.health()["monitoring"] == "ok"

    again = Monitor()
    await again.ingest_canaries(down, T0 + timedelta(minutes=4))
    reloaded = Monitor()
    await reloaded.load()
    assert reloaded.health()["probes_blind"] is True  # the vantage state survives a restart


async def test_blind_probes_open_nothing_but_official_still_counts(db: TestDB) -> None:
    monitor = Monitor()
    await monitor.ingest_canaries({"a": False, "b": False}, T0)
    events: list[IncidentEvent] = []
    for i in range(6):
        t = T0 + timedelta(seconds=10 * i)
        probe = Observation(
            service_id="github", source_kind="http", status=Status.MAJOR_OUTAGE, fetched_at=t, role=SourceRole.PROBE
        )
        events += await monitor.ingest("github", "github:1", probe, t)
    assert events == []
    assert monitor.verdict("github").status is Status.UNKNOWN
    t = T0 + timedelta(minutes=1)
    assert kinds(await monitor.ingest("github", "github:0", official("github_major_outage", t), t)) == [EventKind.OPENED]


async def test_crowd_provider_failure_does_not_stop_detection(db: TestDB) -> None:
    async def broken(service_id: str, now: datetime) -> None:
        raise RuntimeError("crowd store down")

    monitor = Monitor(crowd_provider=broken)
    assert kinds(await monitor.ingest("github", "github:0", official("github_major_outage", T0), T0)) == [EventKind.OPENED]


def fixture_names() -> Iterator[str]:
    for path in sorted(FIXTURES.glob("*.json")):
        yield path.stem


@pytest.mark.parametrize("name", list(fixture_names()))
def test_observation_round_trips_through_json(name: str) -> None:
    obs = parse_statuspage((FIXTURES / f"{name}.json").read_bytes(), service_id="x", fetched_at=T0, url="https://x.test")
    assert Observation.from_dict(json.loads(json.dumps(obs.to_dict()))) == obs


async def test_a_reading_that_says_nothing_new_is_not_written_every_poll(db: TestDB) -> None:
    """The source's last reading is stored when it changes, or every half ``stale_after`` so a
    restart never loads a stale one — not on every poll of a page that reads the same all day."""
    from bot.db.models import SourceState

    monitor = Monitor(stale_after=timedelta(minutes=10))
    t0 = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)

    async def stored_at() -> str:
        row = await SourceState.get(key="github:0")
        return row.last_observation["fetched_at"]  # type: ignore[index]

    await monitor.ingest("github", "github:0", official("github_operational", t0), t0)
    first = await stored_at()
    await monitor.ingest("github", "github:0", official("github_operational", t0 + timedelta(minutes=1)), t0 + timedelta(minutes=1))
    assert await stored_at() == first  # the same reading: no write
    await monitor.ingest("github", "github:0", official("github_major_outage", t0 + timedelta(minutes=2)), t0 + timedelta(minutes=2))
    changed = await stored_at()
    assert changed != first  # a new reading is written at once
    await monitor.ingest("github", "github:0", official("github_major_outage", t0 + timedelta(minutes=7)), t0 + timedelta(minutes=7))
    assert await stored_at() != changed  # and the same one again after half stale_after


async def test_healthy_services_cost_the_monitor_no_state_beyond_their_readings(db: TestDB) -> None:
    """Issue 13 (memory at 20,000 services): a healthy service keeps no lock, no copy of its
    blank state, no first-failure or acknowledgment entry, and one reading per source (the
    stored one is the object the cache holds, not a copy). A service in trouble keeps them."""
    monitor = Monitor(stale_after=timedelta(minutes=10))
    t0 = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
    services = [f"svc{i}" for i in range(20)]
    for minute in range(3):
        now = t0 + timedelta(minutes=minute)
        for sid in services:
            await monitor.ingest(sid, f"{sid}:0", official("github_operational", now), now)
    assert len(monitor._locks) == 0 and monitor._saved == {}
    assert monitor._first_failures == {} and monitor._acknowledged == {}
    for sid in services:
        [latest] = monitor.observations(sid).values()
        assert monitor._stored[f"{sid}:0"][0] is latest  # (the same object, written at t0)
        assert monitor._stored[f"{sid}:0"][1] == t0
    now = t0 + timedelta(minutes=3)
    await monitor.ingest("svc0", "svc0:0", official("github_major_outage", now), now)
    assert set(monitor._saved) == {"svc0"} and set(monitor._acknowledged) == {"svc0"}
    held: list[int] = []
    real_advance = monitor._advance

    async def advance(service_id: str, at: datetime) -> list[IncidentEvent]:
        held.append(1)
        assert len(held) == 1  # one at a time per service, while several wait for the lock
        await asyncio.sleep(0.01)
        try:
            return await real_advance(service_id, at)
        finally:
            held.pop()

    monitor._advance = advance  # type: ignore[method-assign]
    await asyncio.gather(*(monitor.refresh("svc0", now) for _ in range(4)))
    assert len(monitor._locks) == 0


# -- national internet connectivity (IODA) on the alert -----------------------------------------


async def test_the_alert_carries_what_ioda_says_of_the_reporting_countries(db: TestDB) -> None:
    from bot.detect.crowd import CrowdLevel
    from bot.detect.model import CrowdSignal
    from bot.detect.national import ContextKind, NationalState, context_from_extra, internet_context
    from bot.sources.ioda import CountryOutage, IodaReading

    since = T0 - timedelta(hours=3)
    state = NationalState().apply(IodaReading(T0, frozenset({"IQ", "US", "DE"}), {"IQ": CountryOutage("IQ", since, ("bgp",))}))
    asked: list[tuple[str, ...]] = []
    reporting = {"countries": ("US", "IQ")}

    def internet(countries, now):
        asked.append(tuple(countries))
        return internet_context(countries, state, now)

    async def crowd(service_id: str, now: datetime) -> CrowdSignal | None:
        if not reporting["countries"]:
            return None
        return CrowdSignal(CrowdLevel.PROBLEMS, recent=400, usual=10, window=timedelta(minutes=15), countries=reporting["countries"])

    await subscribe(301, "github")
    monitor = Monitor(crowd_provider=crowd, internet=internet)
    opened = await monitor.ingest("github", "github:0", official("github_major_outage", T0), T0)
    assert kinds(opened) == [EventKind.OPENED]
    assert asked[-1] == ("US", "IQ")
    ctx = context_from_extra(opened[0].extra)
    assert ctx is not None and ctx.kind is ContextKind.NATIONAL and ctx.countries == ("IQ",) and ctx.since == since
    stored = await IncidentEventRecord.get(kind="opened")
    assert stored.payload["extra"]["internet"] == "national"  # what delivery renders from

    # Iraq stops reporting; US and Germany report: the next alert edit says "international"
    reporting["countries"] = ("US", "DE")
    t = T0 + timedelta(minutes=1)
    escalated = await monitor.ingest("github", "github:0", degraded_page(t), t)
    assert kinds(escalated) == [EventKind.DEESCALATED]
    assert context_from_extra(escalated[0].extra).kind is ContextKind.INTERNATIONAL

    # recoveries carry no such line
    reporting["countries"] = ()
    for _ in range(2):
        t += timedelta(minutes=1)
        events = await monitor.ingest("github", "github:0", official("github_operational", t), t)
    assert kinds(events) == [EventKind.RESOLVED] and "internet" not in events[0].extra


async def test_a_failing_internet_provider_does_not_stop_the_alert(db: TestDB) -> None:
    def broken(countries, now):
        raise RuntimeError("ioda state broken")

    monitor = Monitor(internet=broken)
    events = await monitor.ingest("github", "github:0", official("github_major_outage", T0), T0)
    assert kinds(events) == [EventKind.OPENED] and "internet" not in events[0].extra


# -- the likely upstream ----------------------------------------------------------------------


def degraded(service_id: str, at: datetime) -> Observation:
    return Observation(
        service_id=service_id, source_kind="statuspage", status=Status.DEGRADED, fetched_at=at,
        role=SourceRole.OFFICIAL, description="Minor Service Outage",
    )  # fmt: skip


async def test_an_alert_names_the_provider_that_failed_at_the_same_time(db: TestDB) -> None:
    upstreams = Upstreams(depends_on={"github": ("cloudflare",), "discord": ("cloudflare",)}, providers=frozenset({"cloudflare"}))
    monitor = Monitor(upstreams=upstreams)
    t = T0
    (provider,) = await monitor.ingest("cloudflare", "cloudflare:0", degraded("cloudflare", t), t)
    assert provider.kind is EventKind.OPENED and UPSTREAM not in provider.extra  # a provider is no one's dependent
    t += timedelta(minutes=5)
    (dependent,) = await monitor.ingest("github", "github:0", degraded("github", t), t)
    assert dependent.kind is EventKind.OPENED and dependent.extra[UPSTREAM] == "cloudflare"
    stored = await IncidentEventRecord.filter(incident__service_id="github").first()
    assert stored is not None and event_from_dict(stored.payload).extra[UPSTREAM] == "cloudflare"  # what delivery renders


async def test_no_upstream_without_a_documented_link_or_outside_the_window(db: TestDB) -> None:
    upstreams = Upstreams(depends_on={"github": ("cloudflare",)}, providers=frozenset({"cloudflare"}))
    monitor = Monitor(upstreams=upstreams)
    t = T0
    await monitor.ingest("cloudflare", "cloudflare:0", degraded("cloudflare", t), t)
    (unlinked,) = await monitor.ingest("discord", "discord:0", degraded("discord", t), t)
    assert UPSTREAM not in unlinked.extra
    late = t + upstreams.window + timedelta(minutes=1)
    (too_late,) = await monitor.ingest("github", "github:0", degraded("github", late), late)
    assert UPSTREAM not in too_late.extra


# -- the status page's track record -----------------------------------------------------------


async def _past(service_id: str, started: datetime, acknowledged: datetime | None, *, watched: bool = True) -> None:
    await Incident.create(
        key=f"{service_id}-{started:%Y%m%d%H%M}", service_id=service_id, status="major_outage", peak_status="major_outage",
        started_at=started, resolved_at=started + timedelta(hours=1), acknowledged_at=acknowledged, page_watched=watched,
    )  # fmt: skip


async def _silent_alert(monitor: Monitor, at: datetime) -> IncidentEvent:
    """An outage users report while the official page says all is well."""
    for minute in range(6):
        events = await monitor.ingest("github", "github:0", official("github_operational", at), at + timedelta(minutes=minute))
        if events:
            return events[0]
    raise AssertionError("no alert")


def _reporting(level: CrowdLevel = CrowdLevel.PROBLEMS):
    async def crowd(service_id: str, now: datetime) -> CrowdSignal | None:
        return CrowdSignal(level, recent=400, usual=10, window=timedelta(minutes=15))

    return crowd


@pytest.mark.parametrize(
    ("delays", "expected"),
    [
        ([None, None, None], "never:3"),  # acknowledged none of the last three
        ([timedelta(minutes=12), timedelta(minutes=14), timedelta(minutes=30)], "usually_late:14"),  # median
        ([timedelta(minutes=1), timedelta(0), timedelta(minutes=2)], None),  # prompt: nothing to say
        ([None, None], None),  # too few to say "usually"
    ],
)
async def test_a_silent_page_alert_says_how_the_page_usually_answers(db: TestDB, delays: list[timedelta | None], expected: str | None) -> None:
    for n, delay in enumerate(delays):
        started = T0 - timedelta(days=10 * (n + 1))
        await _past("github", started, started + delay if delay is not None else None)
    await _past("github", T0 - timedelta(days=200), None)  # outside the 90 days
    await _past("github", T0 - timedelta(days=5), None, watched=False)  # from before pages were watched
    opened = await _silent_alert(Monitor(crowd_provider=_reporting()), T0)
    assert opened.kind is EventKind.OPENED and opened.unacknowledged
    assert opened.extra.get(RECORD) == expected


async def test_the_first_acknowledgment_is_kept_for_the_record(db: TestDB) -> None:
    monitor = Monitor(crowd_provider=_reporting())
    opened = await _silent_alert(monitor, T0)
    later = opened.at + timedelta(minutes=9)
    await monitor.ingest("github", "github:0", official("github_major_outage", later), later)
    await monitor.ingest("github", "github:0", official("github_major_outage", later + timedelta(minutes=5)), later + timedelta(minutes=5))
    incident = await Incident.get(key=opened.incident_key)
    assert incident.page_watched and incident.acknowledged_at == later


async def _probe_failing_for_three_minutes(server: Server) -> tuple[Catalog, Pipeline, datetime]:
    """A service whose page says all is well while its probe has failed for three minutes;
    the pipeline and when the probe first failed."""
    catalog = Catalog([Service(id="octo", name="Octo", name_ar="أوكتو", sources=(
        SourceSpec(kind="statuspage", url=server.url("/").rstrip("/")),
        SourceSpec(kind="http", url=server.url("/probe")),
    ))])
    p = await Pipeline(catalog, ManualClock(T0)).start()
    await p.poll()
    while p.clock.now() < T0 + timedelta(minutes=3):
        await p.poll()
    first = p.monitor.first_failures("octo", p.clock.now())["octo:1"]
    assert first < p.clock.now() - timedelta(minutes=2)
    return catalog, p, first


async def test_a_live_answer_keeps_the_clock_of_an_outage_the_monitor_saw_begin(db: TestDB) -> None:
    """``/isitdown`` on a service whose verdict went stale probes live; the outage it finds
    is the one the monitor watched begin: "since" and the page's silence count from then."""
    from bot.services.status import LIVE_AFTER, StatusService

    routes = {"/api/v2/summary.json": respond((FIXTURES / "github_operational.json").read_bytes()),
              "/probe": respond("down", status=503)}
    async with serve(routes) as server:
        catalog, p, first = await _probe_failing_for_three_minutes(server)
        try:
            status = StatusService(catalog, p.http, monitor=p.monitor)
            target = status.target("octo")
            now = p.clock.now() + LIVE_AFTER + timedelta(minutes=1)  # no poll since: the verdict is stale
            assert status.needs_live(target, now)
            answer = await status.live(target, now)
            assert answer.verdict.status.is_outage and answer.verdict.unacknowledged
            assert answer.verdict.since == first and answer.verdict.unacknowledged_since == first

            # readings the monitor took too long ago say nothing of now: a new clock starts
            long_after = p.clock.now() + p.monitor.stale_after + timedelta(minutes=1)
            assert p.monitor.first_failures("octo", long_after) == {}
            answer = await status.live(target, long_after)
            assert answer.verdict.since == long_after
        finally:
            await p.close()


async def test_a_live_answer_counts_the_silence_from_the_pages_last_word(db: TestDB) -> None:
    """The page admitted a problem, then went back to "all good" while the probe still fails:
    a live answer's "the page has said nothing" starts at the page's last word, as the
    monitor's own verdict does."""
    from bot.services.status import StatusService

    page = {"name": "github_major_outage"}

    async def summary(request: web.Request) -> web.Response:
        return web.Response(body=(FIXTURES / f"{page['name']}.json").read_bytes(), content_type="application/json")

    async with serve({"/api/v2/summary.json": summary, "/probe": respond("down", status=503)}) as server:
        catalog, p, first = await _probe_failing_for_three_minutes(server)
        try:
            acknowledged = p.monitor.acknowledged_at("octo")
            assert acknowledged is not None and acknowledged > first
            page["name"] = "github_operational"
            status = StatusService(catalog, p.http, monitor=p.monitor)
            now = p.clock.now() + timedelta(minutes=4)
            answer = await status.live(status.target("octo"), now)
            assert answer.verdict.unacknowledged and answer.verdict.since == first
            assert answer.verdict.unacknowledged_since == acknowledged
        finally:
            await p.close()


async def test_an_unreadable_poll_keeps_the_clock_a_live_answer_continues(db: TestDB) -> None:
    """One poll that could not tell (a timeout) neither restarts the monitor's clock of a
    failing probe nor the one a live ``/isitdown`` continues; a healthy reading ends both."""
    monitor = Monitor()

    def probe(status: Status, at: datetime) -> Observation:
        return Observation(service_id="github", source_kind="http", status=status, fetched_at=at, role=SourceRole.PROBE)

    await monitor.ingest("github", "github:1", probe(Status.MAJOR_OUTAGE, T0), T0)
    unreadable = T0 + timedelta(minutes=5)
    await monitor.ingest("github", "github:1", probe(Status.UNKNOWN, unreadable), unreadable)
    assert monitor.first_failures("github", T0 + timedelta(minutes=9)) == {"github:1": T0}
    healthy = T0 + timedelta(minutes=10)
    await monitor.ingest("github", "github:1", probe(Status.OPERATIONAL, healthy), healthy)
    assert monitor.first_failures("github", healthy) == {}
