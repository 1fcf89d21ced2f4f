"""The delivery worker against the loopback fake Discord and the real discord.py HTTP client:
claiming and leases, event order per channel, render caching, pacing, and what each Discord
error does to a delivery. End-to-end stories (languages, edits, replies, restarts) live in
tests/e2e/test_delivery.py; this file pins the rules one by one.

Helpers here (``persist``, ``subscribe``, ``worker_for``) are reused by the e2e tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import discord
import pytest

from bot.catalog import Catalog, load_catalog
from bot.db.models import AlertMessage, Delivery, Incident, IncidentEventRecord, Subscription
from bot.detect.model import IncidentEvent
from bot.detect.serialize import event_to_dict
from bot.discord import delivery as delivery_mod
from bot.discord.delivery import DeliveryWorker
from bot.discord.pacing import Pacer
from bot.discord.ratelimit import LocalGlobalLimit
from bot.notify.outbox import create_deliveries
from bot.notify.render.chart import ReportSeries, series_span
from tests.fake_discord import discord_py_on_fake, rest_client, FakeDiscord, FakeGuild
from tests.notify.samples import ALERT, RECOVERY, UPDATE

NOW = ALERT.at + timedelta(minutes=1)


# ---------------------------------------------------------------- helpers (shared with e2e)


class RecordingSleep:
    """Stands in for ``asyncio.sleep`` in a ``Pacer``: records the waits, never waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def persist(event: IncidentEvent) -> IncidentEventRecord:
    """Store ``event`` the way the monitor does: incident row, event record, outbox rows."""
    incident, _ = await Incident.get_or_create(
        key=event.incident_key,
        defaults={
            "service_id": event.service_id,
            "status": event.status.value,
            "peak_status": event.status.value,
            "started_at": event.started_at,
        },
    )
    record = await IncidentEventRecord.create(
        incident=incident, kind=event.kind.value, at=event.at, status=event.status.value,
        payload=event_to_dict(event),
    )
    await create_deliveries(record, incident, event)
    return record


async def subscribe(
    guild: FakeGuild, channel_id: int, language: str = "en", *, role_id: int | None = None, service: str = "x"
) -> Subscription:
    return await Subscription.create(
        guild_id=guild.id, channel_id=channel_id, service_id=service, language=language, role_id=role_id
    )


def worker_for(client: discord.Client, catalog: Catalog, **kw: Any) -> tuple[DeliveryWorker, RecordingSleep]:
    """A worker whose pacer and global limit never really sleep (tests drive time, they don't
    wait for it)."""
    sleep = RecordingSleep()
    kw.setdefault("pacer", Pacer(kw.pop("rate_per_s", None), sleep=sleep))
    kw.setdefault("global_limit", LocalGlobalLimit(sleep=sleep))
    return DeliveryWorker(client, catalog, **kw), sleep


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_py_on_fake() as f:
        yield f


@pytest.fixture
def guild(fake: FakeDiscord) -> FakeGuild:
    return fake.add_guild("Watchers", channels=("alerts-en", "alerts-ar", "alerts-both", "spare"))


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    async with rest_client(fake) as c:
        yield c


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# ---------------------------------------------------------------- pacing (pure)


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_pacer_spaces_slots_evenly_at_its_rate() -> None:
    clock = FakeClock()
    pacer = Pacer(50.0, clock=clock)
    waits = [pacer.reserve() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08])
    clock.t += 1.0  # idle time is not banked beyond the burst
    assert pacer.reserve() == 0.0
    assert pacer.reserve() == pytest.approx(0.02)


def test_pacer_burst_allows_that_many_at_once_then_the_rate() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, burst=3, clock=clock)
    assert [pacer.reserve() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 0.1])


def test_pacer_never_exceeds_the_rate_in_any_window() -> None:
    """The fake (like Discord) counts requests in fixed 1 s windows: 48/s never reaches 50."""
    clock = FakeClock()
    pacer = Pacer(48.0, clock=clock)
    slots = []
    for _ in range(500):
        slots.append(clock.t + pacer.reserve())
    for start in slots:
        assert sum(1 for s in slots if start <= s < start + 1.0) <= 49


def test_pacer_pause_holds_later_slots_back_and_none_means_unpaced() -> None:
    clock = FakeClock()
    pacer = Pacer(None, clock=clock)
    assert [pacer.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    pacer.pause(2.5)
    assert pacer.reserve() == pytest.approx(2.5)
    with pytest.raises(ValueError):
        Pacer(0)


# ---------------------------------------------------------------- claiming


async def test_claim_leases_before_sending_and_a_lease_hides_the_row(db: Any, fake: FakeDiscord, guild: FakeGuild,
                                                                     client: discord.Client, catalog: Catalog) -> None:
    await subscribe(guild, guild.channel_by_name("alerts-en"))
    await persist(ALERT)
    worker, _ = worker_for(client, catalog, lease=timedelta(seconds=60))

    claimed = await worker._claim(NOW)
    assert [d.attempts for d in claimed] == [1]
    row = await Delivery.get(id=claimed[0].id)
    assert (row.state, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + timedelta(seconds=60))
    # while leased (a worker is sending it, or died doing so) nobody else claims it
    assert await worker._claim(NOW + timedelta(seconds=59)) == []
    # after the lease it is claimed again: the crash case
    again = await worker._claim(NOW + timedelta(seconds=61))
    assert [d.id for d in again] == [row.id] and again[0].attempts == 2


async def test_deliveries_of_one_incident_to_one_channel_go_in_event_order(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    en = guild.channel_by_name("alerts-en")
    await subscribe(guild, en)
    await persist(ALERT)
    await persist(UPDATE)
    worker, _ = worker_for(client, catalog)

    # the update waits for the alert it edits: one step per run
    assert await worker.run_once(UPDATE.at) == 1
    assert len(fake.messages(en)) == 1 and worker.stats["posted"] == 1
    assert await worker.run_once(UPDATE.at) == 1
    assert worker.stats["edited"] == 1
    [alert] = fake.messages(en)
    assert len(fake.edit_history(int(alert["id"]))) == 1
    assert await worker.run_once(UPDATE.at) == 0
    assert await Delivery.filter(state="sent").count() == 2


async def test_a_held_back_earlier_delivery_blocks_the_later_one(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    """An alert backing off after a 5xx must not be overtaken by its update (which would then
    post a second message)."""
    en = guild.channel_by_name("alerts-en")
    await subscribe(guild, en)
    await persist(ALERT)
    await persist(UPDATE)
    await Delivery.filter(event__kind="opened").update(next_attempt_at=UPDATE.at + timedelta(minutes=5))
    worker, _ = worker_for(client, catalog)
    assert await worker.run_once(UPDATE.at) == 0
    assert fake.messages(en) == []


async def test_skip_locked_lets_two_workers_share_the_outbox(
    postgres_db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    from tortoise.transactions import in_transaction

    for i in range(4):
        await subscribe(guild, fake.add_channel(guild.id, f"c{i}"))
    await persist(ALERT)
    ids = sorted(await Delivery.all().values_list("id", flat=True))
    locked, release = asyncio.Event(), asyncio.Event()

    async def other_worker() -> None:  # holds two rows FOR UPDATE, as a claiming worker does
        async with in_transaction() as conn:
            await Delivery.filter(id__in=ids[:2]).select_for_update().using_db(conn)
            locked.set()
            await release.wait()

    holder = asyncio.create_task(other_worker())
    await locked.wait()
    worker, _ = worker_for(client, catalog, batch_size=10)
    claimed = await asyncio.wait_for(worker._claim(NOW), 5)  # must not block on the locked rows
    release.set()
    await holder
    assert sorted(d.id for d in claimed) == ids[2:]


# ---------------------------------------------------------------- rendering


async def test_each_language_and_zone_is_rendered_once_per_run(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real = delivery_mod.render_for

    def counting(language: str, *args: Any, **kw: Any) -> Any:
        calls.append((language, kw["tz"]))
        return real(language, *args, **kw)

    monkeypatch.setattr(delivery_mod, "render_for", counting)
    for i in range(6):
        await subscribe(guild, fake.add_channel(guild.id, f"en{i}"), "en")
    for i in range(3):
        await subscribe(guild, fake.add_channel(guild.id, f"ar{i}"), "ar")
    await persist(ALERT)
    worker, _ = worker_for(client, catalog)
    assert await worker.run_once(NOW) == 9
    assert sorted(calls) == [("ar", "UTC"), ("en", "UTC")]
    assert len(fake.all_messages()) == 9


# ---------------------------------------------------------------- errors


async def test_5xx_retries_with_growing_backoff_then_fails(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    en = guild.channel_by_name("alerts-en")
    await subscribe(guild, en)
    await persist(ALERT)
    fake.inject(f"POST /channels/{en}/messages", 503, {"message": "Service Unavailable", "code": 0}, times=10)
    worker, _ = worker_for(client, catalog, max_attempts=3, backoff_base=10.0)

    now = NOW
    delays = []
    for attempt in (1, 2):
        assert await worker.run_once(now) == 1
        row = await Delivery.get(channel_id=en)
        assert (row.state, row.attempts) == ("pending", attempt)
        assert row.last_error and row.last_error.startswith("503")
        delay = (row.next_attempt_at - now).total_seconds()
        delays.append(delay)
        now = row.next_attempt_at
    # jittered exponential: base × 2^(n-1) × [0.5, 1.5)
    assert 5.0 <= delays[0] < 15.0 and 10.0 <= delays[1] < 30.0
    assert await worker.run_once(now) == 1
    row = await Delivery.get(channel_id=en)
    assert (row.state, row.attempts) == ("failed", 3)
    assert len([r for r in fake.requests if r.path == f"/channels/{en}/messages"]) == 3
    assert fake.messages(en) == []


async def test_a_429_that_reaches_the_outbox_reschedules_without_using_an_attempt(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    en = guild.channel_by_name("alerts-en")
    await subscribe(guild, en)
    await persist(ALERT)
    fake.inject_429(f"POST /channels/{en}/messages", retry_after=0.01, times=5)  # discord.py gives up after 5
    fake.inject_429(f"POST /channels/{en}/messages", retry_after=0.01, times=5, is_global=True)
    worker, sleep = worker_for(client, catalog)

    assert await worker.run_once(NOW) == 1
    row = await Delivery.get(channel_id=en)
    assert (row.state, row.attempts) == ("pending", 0)
    assert row.next_attempt_at > NOW and "429" in (row.last_error or "")
    assert worker.stats["rate_limited"] == 1
    # a route's 429 holds back only that delivery
    assert await worker.run_once(row.next_attempt_at) == 1
    assert sleep.waits == []
    row = await Delivery.get(channel_id=en)
    assert (row.state, row.attempts) == ("pending", 0) and worker.stats["rate_limited"] == 2
    # a global 429 holds back every send for a while
    assert await worker.run_once(row.next_attempt_at) == 1
    assert len(sleep.waits) == 1 and sleep.waits[0] > 0
    row = await Delivery.get(channel_id=en)
    assert (row.state, row.attempts) == ("sent", 1)
    assert len(fake.messages(en)) == 1


async def test_missing_access_disables_the_channel_and_drops_its_pending_deliveries(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    en, spare = guild.channel_by_name("alerts-en"), guild.channel_by_name("spare")
    sub = await subscribe(guild, en)
    other = await subscribe(guild, spare)
    await persist(ALERT)
    fake.set_bot_permissions(guild.id, 0, channel_id=en)
    worker, _ = worker_for(client, catalog)

    assert await worker.run_once(NOW) == 2
    await sub.refresh_from_db()
    assert (sub.enabled, sub.disabled_reason) == (False, "missing_access")
    row = await Delivery.get(subscription_id=sub.id)
    assert row.state == "dropped" and "50001" in (row.last_error or "")
    await other.refresh_from_db()
    assert other.enabled and len(fake.messages(spare)) == 1
    # never retried: one invalid request in all
    assert [r.status for r in fake.requests if r.channel_id == en] == [403]
    assert await worker.run_once(NOW + timedelta(hours=1)) == 0


async def test_a_bad_request_fails_at_once(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    en = guild.channel_by_name("alerts-en")
    await subscribe(guild, en)
    await persist(ALERT)
    fake.inject(f"POST /channels/{en}/messages", 400, {"message": "Invalid Form Body", "code": 50035})
    worker, _ = worker_for(client, catalog)
    assert await worker.run_once(NOW) == 1
    row = await Delivery.get(channel_id=en)
    assert row.state == "failed" and (row.last_error or "").startswith("400 50035")


async def test_an_edit_of_a_deleted_alert_posts_a_fresh_one_and_remembers_it(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    en = guild.channel_by_name("alerts-en")
    await subscribe(guild, en)
    await persist(ALERT)
    worker, _ = worker_for(client, catalog)
    await worker.run_once(NOW)
    [first] = fake.messages(en)
    await client.http.delete_message(en, int(first["id"]))  # a moderator removed it
    await persist(UPDATE)
    assert await worker.run_once(UPDATE.at) == 1
    [fresh] = fake.messages(en)
    assert fresh["id"] != first["id"]
    alert = await AlertMessage.get(channel_id=en)
    assert alert.message_id == int(fresh["id"])


async def test_an_alert_names_its_likely_upstream_by_the_catalog_names(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    """The monitor puts the provider's id on the event; the worker names it from the catalog."""
    en, ar = guild.channel_by_name("alerts-en"), guild.channel_by_name("alerts-ar")
    await subscribe(guild, en)
    await subscribe(guild, ar, "ar")
    await persist(replace(ALERT, extra={**ALERT.extra, "upstream": "cloudflare"}))
    worker, _ = worker_for(client, catalog)
    await worker.run_once(NOW)
    [english] = fake.messages(en)
    [arabic] = fake.messages(ar)
    assert "Likely cause: Cloudflare is down at the same time." in english["embeds"][0]["description"]
    assert "كلاود فلير" in arabic["embeds"][0]["description"]


async def test_recovery_without_an_alert_is_a_plain_message(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    """The alert was never posted (its delivery failed): the recovery still arrives, unthreaded."""
    en = guild.channel_by_name("alerts-en")
    await subscribe(guild, en)
    await persist(ALERT)
    await Delivery.all().update(state="failed")
    await persist(RECOVERY)
    worker, _ = worker_for(client, catalog)
    assert await worker.run_once(RECOVERY.at) == 1
    [msg] = fake.messages(en)
    assert "message_reference" not in msg and msg["embeds"][0]["title"].endswith("is back")


async def test_run_forever_wakes_on_demand_and_stops(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    en = guild.channel_by_name("alerts-en")
    await subscribe(guild, en)
    worker, _ = worker_for(client, catalog, poll_interval=3600.0, clock=lambda: NOW)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    await persist(ALERT)
    worker.wake()  # without it the worker would sleep for an hour
    await fake.wait_for_messages(en, 1)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert (await Delivery.get(channel_id=en)).state == "sent"


async def test_pending_deliveries_resume_when_the_worker_starts(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    """Rows written before a restart are sent at start, without anyone calling ``wake``."""
    en, ar = guild.channel_by_name("alerts-en"), guild.channel_by_name("alerts-ar")
    await subscribe(guild, en, "en")
    await subscribe(guild, ar, "ar")
    await persist(ALERT)
    worker, _ = worker_for(client, catalog, poll_interval=3600.0, clock=lambda: NOW)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    await fake.wait_for(lambda: len(fake.all_messages()) == 2)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert await Delivery.filter(state="sent").count() == 2


# ---------------------------------------------------------------- the report chart


async def _charts(event: IncidentEvent, now: Any) -> ReportSeries:
    """A chart source standing in for ``CrowdService.event_series``."""
    return _series_for(event, now)


def _series_for(event: IncidentEvent, now: Any) -> ReportSeries:
    start = now - timedelta(hours=24)
    counts = tuple(float(10 + (1200 if i > 90 else 0)) for i in range(96))
    return ReportSeries(start, counts, (12.0,) * 96, incident=series_span(event), peak=event.report_peak, peak_at=event.report_peak_at)


async def test_alerts_carry_the_report_chart_and_edits_replace_it(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    both = guild.channel_by_name("alerts-both")
    await subscribe(guild, both, "both")
    await persist(ALERT)
    await persist(UPDATE)
    asked: list[str] = []

    async def charts(event: IncidentEvent, now: Any) -> Any:
        asked.append(event.kind.value)
        return _series_for(event, now)

    worker, _ = worker_for(client, catalog, charts=charts)
    assert await worker.run_once(UPDATE.at) == 1
    [alert] = fake.messages(both)
    files = [a["filename"] for a in alert["attachments"]]
    assert files == ["chart-ar.png", "chart-en.png"]  # one picture per language, Arabic first
    assert [e["image"]["url"] for e in alert["embeds"]] == ["attachment://chart-ar.png", "attachment://chart-en.png"]
    first = {a["id"] for a in alert["attachments"]}
    assert all(fake.attachment_data[int(a["id"])].startswith(b"\x89PNG") for a in alert["attachments"])

    assert await worker.run_once(UPDATE.at) == 1  # the update edits the alert: new pictures replace the old
    edited = fake.message(int(alert["id"]))
    assert [a["filename"] for a in edited["attachments"]] == ["chart-ar.png", "chart-en.png"]
    assert not first & {a["id"] for a in edited["attachments"]}
    assert asked == ["opened", "escalated"]  # the data once per event


async def test_the_recovery_reply_carries_the_whole_curve(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    en = guild.channel_by_name("alerts-en")
    await subscribe(guild, en)
    await persist(ALERT)
    await persist(RECOVERY)

    worker, _ = worker_for(client, catalog, charts=_charts)
    await worker.run_once(RECOVERY.at)
    await worker.run_once(RECOVERY.at)
    alert, reply = fake.messages(en)
    assert reply["message_reference"]["message_id"] == alert["id"]
    assert [a["filename"] for a in reply["attachments"]] == ["chart-en.png"]


async def test_a_chart_that_fails_never_holds_back_the_alert(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    en = guild.channel_by_name("alerts-en")
    await subscribe(guild, en)
    await persist(ALERT)

    async def broken(event: IncidentEvent, now: Any) -> Any:
        raise RuntimeError("database gone for a moment")

    worker, _ = worker_for(client, catalog, charts=broken)
    assert await worker.run_once(NOW) == 1
    [alert] = fake.messages(en)
    assert alert["attachments"] == [] and "image" not in alert["embeds"][0]
    assert await Delivery.filter(state="sent").count() == 1
    assert "chart data for event" in caplog.text


async def test_a_channel_without_attach_files_gets_the_alert_without_its_chart(
    db: Any, fake: FakeDiscord, guild: FakeGuild, client: discord.Client, catalog: Catalog
) -> None:
    from tests.fake_discord import DEFAULT_BOT_PERMISSIONS
    from tests.fake_discord.wire import ATTACH_FILES

    en = guild.channel_by_name("alerts-en")
    fake.set_bot_permissions(guild.id, DEFAULT_BOT_PERMISSIONS & ~ATTACH_FILES, channel_id=en)
    sub = await subscribe(guild, en)
    await persist(ALERT)
    await persist(UPDATE)

    worker, _ = worker_for(client, catalog, charts=_charts)
    assert await worker.run_once(UPDATE.at) == 1
    [alert] = fake.messages(en)
    assert alert["attachments"] == [] and "image" not in alert["embeds"][0]
    assert await worker.run_once(UPDATE.at) == 1  # the update edits it, words only
    assert len(fake.edit_history(int(alert["id"]))) == 1
    assert await Delivery.filter(state="sent").count() == 2
    await sub.refresh_from_db()
    assert sub.enabled  # a refused picture never pauses the channel's alerts
