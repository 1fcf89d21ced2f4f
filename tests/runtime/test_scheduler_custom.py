"""Status pages typed by users join and leave the scheduler's set (``Scheduler.service_added`` /
``service_removed``, wired as a ``bot.services.custom`` listener): polled like catalog sources,
but always through the SSRF guard; forgotten when no subscription uses them; back after a restart."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from bot.catalog import Catalog, Service
from bot.db.models import SourceState, Subscription
from bot.net.client import HttpClient
from bot.runtime.monitor import Monitor
from tests.clock import ManualClock
from bot.runtime.scheduler import Scheduler, SchedulerConfig
from bot.services.custom import CustomServices
from bot.services.subscriptions import SubscriptionService
from bot.sources.base import SourceSpec
from bot.status import Status
from tests.conftest import TestDB
from tests.loopback import respond, serve

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
T0 = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
SUMMARY = "/api/v2/summary.json"


async def test_a_typed_page_is_polled_from_the_next_round_until_nobody_uses_it(db: TestDB) -> None:
    clock = ManualClock(T0)
    catalog = Catalog([])
    monitor = Monitor()
    routes = {SUMMARY: respond((FIXTURES / "statuspage/cloudamqp_maintenance.json").read_bytes())}
    async with serve(routes) as server, HttpClient(allow_private=True, timeout=5) as http:
        scheduler = Scheduler(catalog, monitor, http, SchedulerConfig(poll_interval=60, owner="w1"), clock)
        await scheduler.sync(clock.now())
        custom = CustomServices(catalog, http, allow_private=True, listeners=[scheduler])
        subs = SubscriptionService(catalog, custom)
        sub, _ = await subs.subscribe(1, 10, server.url("/"), language="en", now=clock.now())
        assert server.hits[SUMMARY] == 1  # the detection read

        assert await scheduler.run_due(clock.now()) == 1  # due at once, not after a jittered interval
        assert server.hits[SUMMARY] == 2
        verdict = monitor.verdict(sub.service_id)
        assert verdict is not None and verdict.status is Status.MAINTENANCE
        row = await SourceState.get(key=f"{sub.service_id}:0")
        assert row.last_observation is not None and "Shared servers" in row.last_observation["component_names"]

        # a restart: the stored page joins a fresh catalog before the new scheduler syncs
        fresh = Catalog([])
        assert [s.id for s in await CustomServices(fresh, http).load()] == [sub.service_id]
        restarted = Scheduler(fresh, Monitor(), http, SchedulerConfig(poll_interval=60, owner="w2"), clock)
        await restarted.sync(clock.now())
        assert f"{sub.service_id}:0" in restarted.slots and await SourceState.exists(key=f"{sub.service_id}:0")

        await subs.unsubscribe(1, 10, "all")
        assert not await SourceState.filter(service_id=sub.service_id).exists()
        assert scheduler.slots == {}
        clock.advance(3600)
        assert await scheduler.run_due(clock.now()) == 0
        assert server.hits[SUMMARY] == 2


async def test_a_typed_page_is_fetched_through_the_ssrf_guard_unlike_a_catalog_source(db: TestDB) -> None:
    """The same loopback page: read as operator configuration, refused as a user's URL."""
    clock = ManualClock(T0)
    routes = {SUMMARY: respond((FIXTURES / "statuspage/github_operational.json").read_bytes())}
    async with serve(routes) as server, HttpClient(timeout=5) as http:  # no ALLOW_PRIVATE_TARGETS
        trusted = Service("acme", "Acme", "أكمي", sources=(SourceSpec("statuspage", server.url("/")),))
        typed = replace(trusted, id="u-acme", name="Acme typed", sources=(SourceSpec("statuspage", server.url("/"), guarded=True),))
        catalog = Catalog([trusted])
        monitor = Monitor()
        scheduler = Scheduler(catalog, monitor, http, SchedulerConfig(poll_interval=60, owner="w1"), clock)
        await scheduler.sync(clock.now())
        catalog.add(typed)
        await scheduler.service_added(typed)
        clock.advance(120)
        assert await scheduler.run_due(clock.now()) == 2
    assert server.hits[SUMMARY] == 1  # only the trusted source reached the loopback page
    assert monitor.observations("acme")["acme:0"].status is Status.OPERATIONAL
    refused = monitor.observations("u-acme")["u-acme:0"]
    assert refused.status is Status.UNKNOWN and refused.error is not None and refused.error.kind == "ssrf"
    assert await Subscription.all().count() == 0
