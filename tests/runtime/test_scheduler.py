"""The scheduler with loopback sources and a ManualClock: no sleeping, no timing thresholds.

Simulated time only moves through ``ManualClock``; real time is spent only on loopback HTTP.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

import pytest
from aiohttp import web

from bot.catalog import Catalog, Service
from bot.db.models import Incident, SourceState
from bot.detect.model import EventKind, IncidentEvent
from bot.runtime.monitor import Monitor
from bot.net.client import HttpClient, jitter
from bot.detect.vantage import canary_spec
from tests.clock import ManualClock
from bot.runtime.scheduler import Scheduler, SchedulerConfig, backoff_delay, is_source_error
from bot.sources.base import Observation, PollContext, SourceError, SourceSpec
from bot.sources.http import HttpKind
from bot.status import Status
from tests.conftest import TestDB
from tests.loopback import Server, free_port, serve

T0 = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)


class Switch:
    """A loopback route whose HTTP status the test flips."""

    def __init__(self, status: int = 200, body: str = "ok") -> None:
        self.status = status
        self.body = body

    async def handler(self, request: web.Request) -> web.Response:
        return web.Response(text=self.body, status=self.status)


def service(service_id: str, *specs: SourceSpec) -> Service:
    return Service(id=service_id, name=service_id.title(), name_ar=service_id, sources=tuple(specs))


def probe(server: Server, path: str, interval: float | None = None) -> SourceSpec:
    return SourceSpec(kind="http", url=server.url(path), interval=interval)


class Harness:
    def __init__(self, catalog: Catalog, *, canaries: tuple[str, ...] = (), owner: str = "w1",
                 monitor: Monitor | None = None, clock: ManualClock | None = None, claim_batch: int = 500) -> None:
        self.events: list[IncidentEvent] = []
        self.clock = clock or ManualClock(T0)
        self.monitor = monitor or Monitor(on_events=self._collect)
        self.http = HttpClient(timeout=5)
        config = SchedulerConfig(poll_interval=60, canary_targets=canaries, owner=owner, claim_batch=claim_batch)
        self.polls: list[tuple[str, bool]] = []
        self.scheduler = Scheduler(catalog, self.monitor, self.http, config, self.clock,
                                   on_poll=lambda kind, ok: self.polls.append((kind, ok)))

    async def _collect(self, events: list[IncidentEvent]) -> None:
        self.events.extend(events)

    async def __aenter__(self) -> "Harness":
        await self.scheduler.sync(self.clock.now())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()

    async def step(self) -> int:
        """Jump to the next due time and run that round."""
        due = await self.scheduler.next_due(self.clock.now())
        assert due is not None
        self.clock.set(due)
        return await self.scheduler.run_due(self.clock.now())

    async def run_until(self, until: datetime, stop: Callable[[], bool] = lambda: False) -> None:
        while self.clock.now() < until and not stop():
            await self.step()


async def test_probe_only_outage_is_confirmed_within_60_s(db: TestDB) -> None:
    site, canary = Switch(), Switch()
    async with serve({"/": site.handler, "/canary": canary.handler}) as server:
        catalog = Catalog([service("acme", probe(server, "/"))])
        async with Harness(catalog, canaries=(server.url("/canary"),)) as h:
            await h.run_until(T0 + timedelta(minutes=3))
            assert h.events == []
            broke_at = h.clock.now()
            site.status = 503
            first_failure: datetime | None = None
            while not h.events and h.clock.now() < broke_at + timedelta(minutes=5):
                hits = server.hits["/"]
                await h.step()
                if first_failure is None and server.hits["/"] > hits:
                    first_failure = h.clock.now()
            assert [e.kind for e in h.events] == [EventKind.OPENED]
            opened = h.events[0]
            assert first_failure is not None
            # confirmed well inside one poll interval after the first failed poll (Gatus: ~3)
            assert opened.at - first_failure <= timedelta(seconds=60)
            assert opened.at - broke_at <= timedelta(seconds=60 + 60)
            assert opened.started_at == first_failure
            assert opened.status is Status.MAJOR_OUTAGE and opened.unacknowledged is False
            assert h.monitor.health()["monitoring"] == "ok"

            site.status = 200
            await h.run_until(h.clock.now() + timedelta(minutes=5), stop=lambda: len(h.events) > 1)
            assert [e.kind for e in h.events] == [EventKind.OPENED, EventKind.RESOLVED]


async def test_all_canaries_down_means_no_incident_from_probes(db: TestDB) -> None:
    site = Switch(status=503)
    dead = free_port()
    async with serve({"/": site.handler, "/canary": Switch(status=503).handler}) as server:
        catalog = Catalog([service("acme", probe(server, "/")), service("other", probe(server, "/"))])
        canaries = (server.url("/canary"), f"127.0.0.1:{dead}")
        async with Harness(catalog, canaries=canaries) as h:
            await h.run_until(T0 + timedelta(minutes=10))
            assert h.events == []
            assert await Incident.all().count() == 0
            assert h.monitor.health()["monitoring"] == "degraded"
            assert h.monitor.verdict("acme").status is Status.UNKNOWN
            assert sum(kind == "http" for kind, _ in h.polls) >= 20  # the probes did run


async def test_our_network_failing_mid_run_opens_nothing(db: TestDB) -> None:
    """Probes and canaries fail together: the canaries are re-checked before the probes'
    fast re-checks can add up to an incident."""
    site, canary = Switch(), Switch()
    async with serve({"/": site.handler, "/canary": canary.handler}) as server:
        catalog = Catalog([service("acme", probe(server, "/"))])
        async with Harness(catalog, canaries=(server.url("/canary"),)) as h:
            await h.run_until(T0 + timedelta(minutes=3))
            site.status = canary.status = 503
            await h.run_until(h.clock.now() + timedelta(minutes=10))
            assert h.events == []
            assert h.monitor.probes_blind


class Boom(HttpKind):
    """A source kind that breaks its promise never to raise."""

    calls: ClassVar[int] = 0

    @classmethod
    async def poll(cls, ctx: PollContext) -> Observation:
        cls.calls += 1
        raise RuntimeError("parser exploded")


class ExplodingMonitor(Monitor):
    async def ingest(self, service_id, source_key, observation, now, *, persist_observation=True):  # type: ignore[no-untyped-def]
        if service_id == "cursed":
            raise RuntimeError("detector exploded")
        return await super().ingest(service_id, source_key, observation, now, persist_observation=persist_observation)


async def test_a_failing_source_never_stops_the_others(db: TestDB) -> None:
    async with serve({"/a": Switch().handler, "/b": Switch().handler, "/c": Switch().handler}) as server:
        catalog = Catalog([
            service("good", probe(server, "/a")),
            service("broken", probe(server, "/b")),
            service("cursed", probe(server, "/c")),
        ])
        async with Harness(catalog, monitor=ExplodingMonitor()) as h:
            h.scheduler.slots["broken:0"].kind = Boom
            Boom.calls = 0
            await h.run_until(T0 + timedelta(minutes=10))
            assert server.hits["/a"] >= 9 and server.hits["/c"] >= 9
            assert Boom.calls >= 3
            broken = await SourceState.get(key="broken:0")
            assert Observation.from_dict(broken.last_observation).error == SourceError(
                "exception", "RuntimeError: parser exploded"
            )
            assert broken.consecutive_errors == Boom.calls
            cursed = await SourceState.get(key="cursed:0")
            assert cursed.owner is None and cursed.lease_until is None  # the lease was released
            assert h.monitor.verdict("good").status is Status.OPERATIONAL
            assert h.scheduler.stats["ingest_errors"] >= 9


async def test_erroring_source_backs_off_exponentially_up_to_the_cap(db: TestDB) -> None:
    page = Switch(status=500, body="oops")
    async with serve({"/api/v2/summary.json": page.handler}) as server:
        spec = SourceSpec(kind="statuspage", url=server.url("/").rstrip("/"))
        async with Harness(Catalog([service("flaky", spec)])) as h:
            gaps: list[float] = []
            last: datetime | None = None
            for _ in range(7):
                await h.step()
                if last is not None:
                    gaps.append((h.clock.now() - last).total_seconds())
                last = h.clock.now()
            assert gaps == [60, 120, 240, 480, 600, 600]
            row = await SourceState.get(key="flaky:0")
            assert row.consecutive_errors == 7

            page.status, page.body = 200, _fixture("github_operational")
            await h.step()
            await h.step()
            assert (h.clock.now() - last).total_seconds() == 600 + 60  # back to the interval
            assert (await SourceState.get(key="flaky:0")).consecutive_errors == 0


def _fixture(name: str) -> str:
    return (Path(__file__).resolve().parents[1] / "fixtures" / "statuspage" / f"{name}.json").read_text()


async def test_first_polls_are_jittered_deterministically(db: TestDB) -> None:
    specs = [SourceSpec(kind="http", url=f"http://127.0.0.1:9/{i}") for i in range(5)]
    catalog = Catalog([service("many", *specs), service("slow", SourceSpec(kind="dns", url="dns://x.test", interval=300))])
    async with Harness(catalog) as h:
        rows = {r.key: r.next_due for r in await SourceState.all()}
        assert rows["many:3"] == T0 + timedelta(seconds=jitter(60, "many:3"))
        assert rows["slow:0"] == T0 + timedelta(seconds=jitter(300, "slow:0"))
        assert len(set(rows.values())) == len(rows)
        await h.scheduler.sync(T0 + timedelta(hours=1))  # a restart keeps the slots
        assert {r.key: r.next_due for r in await SourceState.all()} == rows


async def test_sync_forgets_sources_removed_from_the_catalog(db: TestDB) -> None:
    a = SourceSpec(kind="http", url="http://127.0.0.1:9/a")
    b = SourceSpec(kind="http", url="http://127.0.0.1:9/b")
    async with Harness(Catalog([service("s", a, b)])) as h:
        assert await SourceState.all().count() == 2
        h.scheduler.catalog = Catalog([service("s", a)])
        await h.scheduler.sync(T0)
        assert [r.key for r in await SourceState.all()] == ["s:0"]


async def test_a_source_leased_by_another_worker_is_left_alone(db: TestDB) -> None:
    async with serve({"/a": Switch().handler, "/b": Switch().handler}) as server:
        catalog = Catalog([service("a", probe(server, "/a")), service("b", probe(server, "/b"))])
        async with Harness(catalog) as h:
            await SourceState.filter(key="b:0").update(owner="other", lease_until=T0 + timedelta(hours=1))
            h.clock.set(T0 + timedelta(minutes=2))
            assert await h.scheduler.run_due(h.clock.now()) == 1
            assert server.hits["/a"] == 1 and server.hits["/b"] == 0


async def test_two_schedulers_on_postgres_never_poll_a_source_twice(postgres_db: TestDB) -> None:
    n = 60
    paths = [f"/p{i}" for i in range(n)]
    async with serve({p: Switch().handler for p in paths}) as server:
        catalog = Catalog([service(f"s{i}", probe(server, p)) for i, p in enumerate(paths)])
        clock = ManualClock(T0)
        # small claim batches make the two workers' claims interleave on the database
        one_h = Harness(catalog, owner="w1", clock=clock, claim_batch=4)
        two_h = Harness(catalog, owner="w2", clock=clock, claim_batch=4)
        async with one_h as one, two_h as two:
            for round_no in range(1, 4):
                clock.set(T0 + timedelta(minutes=round_no))
                counts = await asyncio.gather(one.scheduler.run_due(clock.now()), two.scheduler.run_due(clock.now()))
                assert sum(counts) == n
                assert all(server.hits[p] == round_no for p in paths)
            assert one.scheduler.stats["polls"] > 0 and two.scheduler.stats["polls"] > 0


def test_backoff_and_error_rules() -> None:
    assert [backoff_delay(60, e, 10) for e in range(7)] == [60, 60, 120, 240, 480, 600, 600]
    failing_probe = Observation("x", "http", Status.MAJOR_OUTAGE, T0, error=SourceError("timeout", "t"))
    unreadable = Observation("x", "statuspage", Status.UNKNOWN, T0, error=SourceError("parse", "p"))
    assert not is_source_error(failing_probe)  # evidence, re-checked fast, never backed off
    assert is_source_error(unreadable)


@pytest.mark.parametrize(
    ("target", "kind", "url"),
    [
        ("https://www.google.com/generate_204", "http", "https://www.google.com/generate_204"),
        ("dns://example.com", "dns", "dns://example.com"),
        ("1.1.1.1:53", "tcp", "tcp://1.1.1.1:53"),
    ],
)
def test_canary_targets_map_to_kinds(target: str, kind: str, url: str) -> None:
    assert canary_spec(target) == SourceSpec(kind=kind, url=url)


async def test_run_loop_keeps_polling_past_a_raising_source_and_stops_cleanly(db: TestDB) -> None:
    """The production loop (``run``) on a ManualClock: it jumps from due time to due time."""
    seen = asyncio.Event()
    hits = {"n": 0}

    async def counted(request: web.Request) -> web.Response:
        hits["n"] += 1
        if hits["n"] >= 5:
            seen.set()
        return web.Response(text="ok")

    async with serve({"/good": counted, "/bad": Switch().handler}) as server:
        catalog = Catalog([service("good", probe(server, "/good")), service("broken", probe(server, "/bad"))])
        async with Harness(catalog) as h:
            h.scheduler.slots["broken:0"].kind = Boom
            task = asyncio.create_task(h.scheduler.run())
            await asyncio.wait_for(seen.wait(), timeout=30)  # a guard against hanging, not a timing assertion
            h.scheduler.stop()
            await asyncio.wait_for(task, timeout=30)
            assert task.exception() is None
            assert h.clock.now() >= T0 + timedelta(minutes=4)  # five polls of a 60 s source
            assert await SourceState.filter(owner__not_isnull=True).count() == 0
            assert (await SourceState.get(key="broken:0")).consecutive_errors >= 1


async def test_sqlite_start_clears_leases_left_by_a_crash(sqlite_db: TestDB) -> None:
    async with serve({"/a": Switch().handler}) as server:
        catalog = Catalog([service("a", probe(server, "/a"))])
        async with Harness(catalog) as first:
            await SourceState.filter(key="a:0").update(owner="dead-worker", lease_until=T0 + timedelta(hours=1))
        async with Harness(catalog) as second:
            second.clock.set(T0 + timedelta(minutes=1))
            assert await second.scheduler.run_due(second.clock.now()) == 1
            assert server.hits["/a"] == 1
        assert first.scheduler.stats["polls"] == 0


# ---------------------------------------------------------------- the database going away


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
async def test_an_outage_that_began_while_the_database_was_away_is_alerted_one_poll_after_it_returns(
    dialect: str, tmp_path: Path
) -> None:
    """The database goes away between a source's claim and its result (PostgreSQL refused and
    its connections cut; SQLite write-locked): the lease the scheduler took must not hold the
    source back once the database is back — the next round polls it and the alert goes out."""
    from bot.db.models import Delivery, Subscription
    from bot.db.setup import close_db, init_db
    from tests.conftest import postgres_url, NO_POSTGRES
    from tests.dbfaults import database_that_goes_away

    if dialect == "postgres" and postgres_url() is None:
        pytest.skip(NO_POSTGRES)
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "statuspage"
    page = {"body": (fixtures / "github_operational.json").read_bytes()}
    away: dict[str, Callable[[], None]] = {}

    async def summary(request: web.Request) -> web.Response:
        if "now" in away:  # the database goes away while this poll is on the wire
            away.pop("now")()
        return web.Response(body=page["body"], content_type="application/json")

    async with database_that_goes_away(dialect, tmp_path) as (url, outage):
        await init_db(url, apply_migrations=False)
        try:
            async with serve({"/api/v2/summary.json": summary}) as server:
                spec = SourceSpec(kind="statuspage", url=server.url("/"))
                catalog = Catalog([service("octo", spec)])
                await Subscription.create(guild_id=1, channel_id=2, service_id="octo", language="en")
                async with Harness(catalog) as h:
                    assert await h.step() == 1 and h.events == []  # operational, all is well

                    page["body"] = (fixtures / "github_major_outage.json").read_bytes()
                    away["now"] = outage.down
                    outage_seen_at = await h.scheduler.next_due(h.clock.now())
                    assert await h.step() == 1  # the page says major outage; nothing could be saved
                    assert "now" not in away and h.events == []

                    await outage.up()
                    assert outage_seen_at is not None
                    back = outage_seen_at + timedelta(seconds=h.scheduler.config.poll_interval)
                    while h.clock.now() < back and not h.events:
                        due = await h.scheduler.next_due(h.clock.now())
                        h.clock.set(min(due or back, back))
                        await h.scheduler.run_due(h.clock.now())
                    assert [e.kind for e in h.events] == [EventKind.OPENED]
                    assert h.events[0].at <= back
                    assert await Delivery.filter(state="pending").count() == 1
        finally:
            await close_db()


async def test_a_database_away_at_start_delays_the_first_round_but_does_not_end_the_scheduler(db: TestDB) -> None:
    """The catalog sync is the first thing ``run`` does; if the database is not there yet, the
    scheduler must try again a round later, not die (its task would end and nothing be polled)."""
    hits = {"n": 0}
    seen = asyncio.Event()

    async def counted(_request: web.Request) -> web.Response:
        hits["n"] += 1
        seen.set()
        return web.Response(text="ok")

    async with serve({"/": counted}) as server:
        catalog = Catalog([service("acme", probe(server, "/"))])
        clock = ManualClock(T0)
        http = HttpClient(timeout=5)
        scheduler = Scheduler(catalog, Monitor(), http, SchedulerConfig(poll_interval=60, owner="w1"), clock)
        real_sync, failures = scheduler.sync, {"left": 2}

        async def flaky_sync(now: datetime) -> None:
            if failures["left"]:
                failures["left"] -= 1
                raise ConnectionRefusedError("the database is not up yet")
            await real_sync(now)

        scheduler.sync = flaky_sync  # type: ignore[method-assign]
        try:
            task = asyncio.create_task(scheduler.run())
            await asyncio.wait_for(seen.wait(), timeout=30)  # a guard against hanging, not a timing assertion
            scheduler.stop()
            await asyncio.wait_for(task, timeout=30)
        finally:
            await http.close()
        assert task.exception() is None and failures["left"] == 0 and hits["n"] >= 1


async def test_probes_of_followed_services_are_polled_at_the_probe_interval(db: TestDB) -> None:
    """PROBE_INTERVAL (issue 13 item 5): a followed service's probes every 20 s, its official
    page and unfollowed services' probes at POLL_INTERVAL; following later speeds them up."""
    from bot.db.models import Subscription

    catalog = Catalog([
        Service("a", "A", "أ", sources=(SourceSpec("http", "https://a.example/"), SourceSpec("statuspage", "https://status.a.example"))),
        Service("b", "B", "ب", sources=(SourceSpec("http", "https://b.example/"),)),
    ])  # fmt: skip
    await Subscription.create(guild_id=1, channel_id=2, service_id="a", language="en")
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    config = SchedulerConfig(poll_interval=60.0, probe_interval=20.0)
    scheduler = Scheduler(catalog, Monitor(), HttpClient(), config, clock)
    await scheduler.sync(clock.now())
    assert {k: s.interval for k, s in scheduler.slots.items()} == {"a:0": 20.0, "a:1": 60.0, "b:0": 60.0}
    await Subscription.create(guild_id=1, channel_id=3, service_id="all", language="en")
    await scheduler.refresh_watched(clock.now())
    assert scheduler.slots["b:0"].interval == 20.0
    row = await SourceState.get(key="b:0")
    assert row.next_due <= clock.now() + timedelta(seconds=20)  # no waiting out the old interval


async def test_a_reading_that_says_nothing_new_is_not_rewritten_at_every_poll(db: TestDB) -> None:
    """Per poll, one small UPDATE of the schedule: the reading itself is written when it says
    something new (or every half stale_after), and a service that never left its healthy state
    has no detector row at all (absence is that state)."""
    from bot.db.models import DetectorState

    site = Switch()
    async with serve({"/": site.handler}) as server:
        catalog = Catalog([service("acme", probe(server, "/"))])
        async with Harness(catalog, monitor=Monitor(stale_after=timedelta(minutes=10))) as h:

            async def stored_at() -> str | None:
                row = await SourceState.get(key="acme:0")
                return row.last_observation["fetched_at"] if row.last_observation else None

            await h.step()
            first = await stored_at()
            assert first is not None
            await h.step()
            await h.step()  # two more polls within half stale_after, the same reading
            assert await stored_at() == first
            assert await DetectorState.filter(service_id="acme").count() == 0
            await h.run_until(h.clock.now() + timedelta(minutes=6))  # half stale_after passed
            refreshed = await stored_at()
            assert refreshed is not None and refreshed > first
            site.status = 503  # something new: written at once, and the detector's state too
            await h.step()
            down = await SourceState.get(key="acme:0")
            assert down.last_observation is not None and down.last_observation["status"] != "operational"
            assert await DetectorState.filter(service_id="acme").count() == 1


class _Statements(logging.Handler):
    """The SQL statements tortoise sends (its client logs each at DEBUG before running it, as
    ``query: values``; read whole, since ``setup_logging``'s record factory folds the
    arguments into the message)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.sql.append(record.getMessage())


async def test_a_round_of_polls_writes_its_bookkeeping_in_one_statement_not_one_per_poll(db: TestDB) -> None:
    """Issue 13: the per-poll ORM UPDATE was a quarter of the busy time at 20,000 sources. A
    round's finished polls are written together (one ``executemany`` per set of changed
    columns), and every row still ends with its lease released, its next due time and its
    reading — exactly what one UPDATE each wrote."""
    site = Switch()
    async with serve({"/": site.handler}) as server:
        catalog = Catalog([service(f"s{i}", probe(server, f"/?n={i}")) for i in range(30)])
        async with Harness(catalog) as h:
            h.clock.set(T0 + timedelta(seconds=61))  # every first poll is due (jitter < interval)
            statements, client_log = _Statements(), logging.getLogger("tortoise.db_client")
            level = client_log.level
            client_log.addHandler(statements)
            client_log.setLevel(logging.DEBUG)
            try:
                assert await h.scheduler.run_due(h.clock.now()) == 30
            finally:
                client_log.removeHandler(statements)
                client_log.setLevel(level)
            # (the claim's UPDATE sets only owner and lease_until: these are the polls' writes)
            writes = [sql for sql in statements.sql if sql.lstrip().upper().startswith('UPDATE "SOURCE_STATE"') and "next_due" in sql]
            assert 1 <= len(writes) <= 2, writes  # one per set of changed columns, not one per poll
            rows = await SourceState.all()
            assert len(rows) == 30
            for row in rows:
                assert row.owner is None and row.lease_until is None
                assert row.next_due > h.clock.now() and row.consecutive_errors == 0
                assert row.last_observation is not None and row.last_observation["status"] == "operational"


async def test_a_poll_finished_while_the_loop_sleeps_is_written_without_waiting_for_a_round(db: TestDB) -> None:
    """``run()`` sleeps up to ``idle`` between rounds; a poll that ends meanwhile is written a
    ``round_gap`` later by the flusher, so other processes (and ``/isitdown`` on them) never
    wait a whole idle period for it."""
    done = asyncio.Event()

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)  # answered after the round that claimed it has gone to sleep
        done.set()
        return web.Response(text="ok")

    async with serve({"/": slow}) as server:
        catalog = Catalog([service("acme", probe(server, "/", interval=600)), service("later", probe(server, "/later", interval=600))])
        clock = ManualClock(T0)
        http = HttpClient(timeout=5)
        config = SchedulerConfig(poll_interval=60, owner="w1", idle=3600.0)
        scheduler = Scheduler(catalog, Monitor(), http, config, _RealSleep(clock))
        await scheduler.sync(T0)
        clock.set(T0 + timedelta(seconds=601))  # acme's first poll is due (jitter < interval) …
        await SourceState.filter(key="later:0").update(next_due=T0 + timedelta(seconds=611))  # … the next round 10 s on
        task = asyncio.create_task(scheduler.run())
        try:
            await asyncio.wait_for(done.wait(), timeout=30)  # (a guard against hanging)
            for _ in range(50):  # up to 5 s of polling for the row: not a timing assertion
                row = await SourceState.get(key="acme:0")
                if row.lease_until is None and row.last_observation is not None:
                    break
                await asyncio.sleep(0.1)
            assert row.lease_until is None and row.last_observation is not None
            assert scheduler.stats["polls"] == 1  # written before the next round (10 s away) ran
        finally:
            scheduler.stop()
            await asyncio.wait_for(task, timeout=30)
            await http.close()


class _RealSleep:
    """A fixed ``now`` (nothing else falls due) and real sleeping (the loop sleeps for real)."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock

    def now(self) -> datetime:
        return self._clock.now()

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(max(0.0, (when - self.now()).total_seconds()))
