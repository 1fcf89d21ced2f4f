"""Crowd reports on a real database (SQLite, and PostgreSQL when TEST_POSTGRES_URL is set):
recording with hashed users, weights and the per-user limit, signals with anti-brigading,
baselines learned from stored buckets, retention."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from tortoise import Tortoise

from bot.catalog import Catalog, Service
from bot.db.crowd import SALT_KEY
from bot.services.crowd import (
    CrowdService,
    CrowdServiceConfig,
    UnknownService,
    baseline_key,
)
from bot.db.models import CrowdBucket, CrowdReport, KeyValue
from bot.detect.crowd import hash_user
from bot.detect.model import CrowdLevel
from bot.services.errors import UserError
from tests.conftest import TestDB

UTC = timezone.utc
NOW = datetime(2025, 3, 10, 4, 7, tzinfo=UTC)  # a Monday, 04:07 UTC
OLD_ACCOUNT = datetime(2020, 1, 1, tzinfo=UTC)


def snowflake(created: datetime, low: int = 0) -> int:
    ms = int(created.timestamp() * 1000) - 1420070400000
    return (ms << 22) | low


def user(n: int, created: datetime = OLD_ACCOUNT) -> int:
    return snowflake(created, n)


def catalog() -> Catalog:
    return Catalog(
        [
            Service("x", "X", "إكس", aliases=("twitter", "تويتر")),
            Service("github", "GitHub", "جيت هب", aliases=("gh",)),
        ]
    )


def service(**config: object) -> CrowdService:
    return CrowdService(catalog(), clock=lambda: NOW, config=CrowdServiceConfig(**config))  # type: ignore[arg-type]


async def burst(crowd: CrowdService, n: int, guilds: int, start: datetime, minutes: float = 10, first_user: int = 1) -> None:
    """``n`` reports by distinct old accounts spread over ``minutes``, round-robin over guilds."""
    step = timedelta(minutes=minutes) / n
    for i in range(n):
        await crowd.record("x", 1000 + i % guilds, user(first_user + i), "login", start + i * step)


# --- recording -------------------------------------------------------------------------------


async def test_a_report_is_stored_with_a_hashed_user_and_counted_in_its_bucket(db: TestDB) -> None:
    crowd = service()
    await crowd.start()
    uid = user(7)
    result = await crowd.record("x", 555, uid, "login", NOW)
    assert result.counted and result.weight == 1.0 and result.next_count_at is None

    [row] = await CrowdReport.all()
    assert row.service_id == "x" and row.guild_id == 555 and row.problem == "login" and row.counted
    assert row.user_hash == crowd.user_hash(uid) and str(uid) not in row.user_hash
    salt = bytes.fromhex((await KeyValue.get(key=SALT_KEY)).value["hex"])
    assert len(salt) == 32 and row.user_hash == hash_user(uid, salt)

    [bucket] = await CrowdBucket.all()
    assert bucket.bucket_start == datetime(2025, 3, 10, 4, 5, tzinfo=UTC) and bucket.count == 1.0


async def test_the_salt_survives_a_restart(db: TestDB) -> None:
    first = service()
    await first.start()
    second = service()
    await second.start()
    assert first.user_hash(42) == second.user_hash(42)
    assert await KeyValue.filter(key=SALT_KEY).count() == 1


async def test_a_repeat_within_30_minutes_is_thanked_not_counted(db: TestDB) -> None:
    crowd = service()
    uid = user(1)
    assert (await crowd.record("x", 1, uid, "login", NOW)).counted
    repeat = await crowd.record("x", 2, uid, "app", NOW + timedelta(minutes=29))
    assert not repeat.counted and repeat.next_count_at == NOW + timedelta(minutes=30)
    other_service = await crowd.record("github", 1, uid, "login", NOW + timedelta(minutes=29))
    assert other_service.counted  # the limit is per service
    again = await crowd.record("x", 1, uid, "login", NOW + timedelta(minutes=30))
    assert again.counted

    rows = await CrowdReport.filter(service_id="x").order_by("at")
    assert [r.counted for r in rows] == [True, False, True]
    totals = {b.bucket_start: b.count for b in await CrowdBucket.filter(service_id="x")}
    assert sum(totals.values()) == 2.0  # the repeat added nothing


async def test_simultaneous_clicks_of_one_user_count_once(db: TestDB) -> None:
    crowd = service()
    await crowd.start()
    uid = user(3)
    results = await asyncio.gather(*(crowd.record("x", 1, uid, "app", NOW) for _ in range(6)))
    assert sum(r.counted for r in results) == 1
    assert await CrowdReport.filter(counted=True).count() == 1
    assert (await CrowdBucket.get(service_id="x")).count == 1.0


async def test_accounts_younger_than_a_day_weigh_half(db: TestDB) -> None:
    crowd = service()
    young = user(9, created=NOW - timedelta(hours=3))
    result = await crowd.record("x", 1, young, "other", NOW)
    assert result.counted and result.weight == 0.5
    assert (await CrowdReport.get()).weight == 0.5
    assert (await CrowdBucket.get()).count == 0.5
    assert (await crowd.counts("x", NOW)).recent == 1  # people read whole reports


async def test_unknown_service_and_problem_are_refused(db: TestDB) -> None:
    crowd = service()
    with pytest.raises(UnknownService):
        await crowd.record("myspace", 1, user(1), "login", NOW)
    with pytest.raises(ValueError):
        await crowd.record("x", 1, user(1), "vibes", NOW)
    assert await CrowdReport.all().count() == 0
    assert await crowd.signal("myspace", NOW) is None


# --- retention -------------------------------------------------------------------------------


async def test_purge_drops_raw_reports_after_retention_and_keeps_bucket_counts(db: TestDB) -> None:
    crowd = service(retention=timedelta(days=7), bucket_retention=timedelta(days=56))
    old, recent = NOW - timedelta(days=8), NOW - timedelta(days=6)
    await crowd.record("x", 1, user(1), "login", old)
    await crowd.record("x", 1, user(2), "login", recent)
    await CrowdBucket.create(service_id="x", bucket_start=NOW - timedelta(days=60), count=4.0)

    result = await crowd.purge(NOW)
    assert (result.reports, result.buckets) == (1, 1)
    assert [r.at for r in await CrowdReport.all()] == [recent]
    kept = sorted(b.bucket_start for b in await CrowdBucket.all())
    assert kept == [datetime(2025, 3, 2, 4, 5, tzinfo=UTC), datetime(2025, 3, 4, 4, 5, tzinfo=UTC)]


async def test_retention_is_configurable(db: TestDB) -> None:
    crowd = service(retention=timedelta(days=1), bucket_retention=timedelta(days=2))
    await crowd.record("x", 1, user(1), "login", NOW - timedelta(days=1, minutes=1))
    result = await crowd.purge(NOW)
    assert result.reports == 1 and await CrowdBucket.all().count() == 1
    assert (await crowd.purge(NOW + timedelta(days=1))).buckets == 1
    with pytest.raises(ValueError):
        CrowdServiceConfig(retention=timedelta(days=3), bucket_retention=timedelta(days=1))


# --- signal ----------------------------------------------------------------------------------


async def test_one_guild_brigading_alone_is_no_signal(db: TestDB) -> None:
    crowd = service()
    await burst(crowd, 60, guilds=1, start=NOW - timedelta(minutes=10))
    signal = await crowd.signal("x", NOW)
    assert signal is not None
    assert signal.level is CrowdLevel.NONE and signal.recent == 0 and signal.distinct_guilds == 1
    counts = await crowd.counts("x", NOW)
    assert counts.recent == 60  # the reports are real; they just prove nothing alone


async def test_three_guilds_reporting_is_problems_detected(db: TestDB) -> None:
    crowd = service()
    await burst(crowd, 30, guilds=3, start=NOW - timedelta(minutes=10))
    signal = await crowd.signal("x", NOW)
    assert signal is not None
    assert signal.level is CrowdLevel.PROBLEMS
    assert signal.recent == 30 and signal.distinct_guilds == 3
    assert signal.top_problem == "login" and signal.top_problem_share == 1.0
    assert signal.since == datetime(2025, 3, 10, 3, 55, tzinfo=UTC)
    assert (await crowd.signal("github", NOW)).level is CrowdLevel.NONE  # type: ignore[union-attr]


async def test_a_spike_is_measured_against_the_usual_learned_from_buckets(db: TestDB) -> None:
    """Three weeks at 20 reports per 5 minutes: 30 reports in 15 minutes are normal there,
    while the same 30 on a service nobody usually reports are a spike."""
    history_start = NOW.replace(minute=0) - timedelta(weeks=3)
    rows, t = [], history_start
    while t < NOW.replace(minute=0):
        rows.append(CrowdBucket(service_id="x", bucket_start=t, count=20.0))
        t += timedelta(minutes=5)
    await CrowdBucket.bulk_create(rows, batch_size=500)

    crowd = service()
    await burst(crowd, 30, guilds=3, start=NOW - timedelta(minutes=10))
    signal = await crowd.signal("x", NOW)
    assert signal is not None
    assert signal.level is CrowdLevel.NONE and signal.recent == 30
    assert signal.usual == pytest.approx(60.0)
    counts = await crowd.counts("x", NOW)
    assert counts.recent == 30 and counts.usual == pytest.approx(120.0)

    # the learned baseline is stored with the hour it is learned up to
    stored = (await KeyValue.get(key=baseline_key("x"))).value
    assert stored["learned_until"] == NOW.replace(minute=0).isoformat()
    reloaded = service()
    assert (await reloaded.baseline("x", NOW)).expected(NOW) == pytest.approx(20.0)

    fresh = service()
    await KeyValue.filter(key=baseline_key("x")).delete()
    await CrowdBucket.filter(service_id="x", bucket_start__lt=NOW.replace(minute=0)).delete()
    fresh_signal = await fresh.signal("x", NOW)
    assert fresh_signal is not None and fresh_signal.level is CrowdLevel.PROBLEMS


async def test_relearning_adds_new_full_hours_only(db: TestDB) -> None:
    crowd = service(relearn_every=timedelta(hours=1))
    await crowd.record("x", 1, user(1), "login", NOW)  # 04:07 → the 04:00 hour
    baseline = await crowd.baseline("x", NOW)
    assert baseline.weeks_seen(NOW) == 0  # the 04:00 hour is not over yet
    later = NOW + timedelta(hours=1)
    baseline = await crowd.baseline("x", later)
    assert baseline.weeks_seen(NOW) == 1
    assert baseline.slots[NOW.weekday() * 24 + 4][0][1] == pytest.approx(1 / 12)
    stored = (await KeyValue.get(key=baseline_key("x"))).value
    assert stored["learned_until"] == "2025-03-10T05:00:00+00:00"


async def test_since_is_found_again_after_a_restart(db: TestDB) -> None:
    start = NOW - timedelta(minutes=40)
    first = service()
    await burst(first, 120, guilds=4, start=start, minutes=40)
    before = await first.signal("x", NOW)
    assert before is not None and before.level is CrowdLevel.PROBLEMS

    restarted = service()
    after = await restarted.signal("x", NOW)
    assert after == before
    assert after.since is not None and after.since <= start + timedelta(minutes=5)


async def test_upkeep_runs_at_once_survives_a_failure_and_stops_when_told() -> None:
    """Purging and relearning run as the app's background task: a failing run is logged and
    the next one still happens; setting ``stop`` ends the loop."""
    runs: list[datetime] = []
    stop = asyncio.Event()

    class Flaky(CrowdService):
        async def maintain(self, now: datetime | None = None):  # type: ignore[override]
            runs.append(now or NOW)
            if len(runs) == 1:
                raise RuntimeError("database hiccup")
            if len(runs) == 3:
                stop.set()

    service = Flaky(catalog(), clock=lambda: NOW)
    await asyncio.wait_for(service.run_upkeep(stop, every=timedelta(0)), 5)
    assert len(runs) == 3


async def test_the_chart_series_holds_the_last_24_hours_in_quarter_hours(db: TestDB) -> None:
    crowd = service()
    await crowd.start()
    await burst(crowd, 12, 3, NOW - timedelta(minutes=20), minutes=10)  # 03:47–03:57
    await crowd.record("x", 1, user(500), "app", NOW - timedelta(hours=30))  # older than the chart
    series = await crowd.series("x", NOW, peak=12, peak_at=NOW - timedelta(minutes=10))
    assert len(series.counts) == len(series.usual) == 96
    assert series.start == datetime(2025, 3, 9, 4, 15, tzinfo=UTC)  # the bar holding 04:07 is the last
    assert sum(series.counts) == 12
    quarter = {series.start + i * timedelta(minutes=15): c for i, c in enumerate(series.counts) if c}
    assert set(quarter) <= {datetime(2025, 3, 10, 3, 45, tzinfo=UTC), datetime(2025, 3, 10, 3, 30, tzinfo=UTC)}
    assert all(u > 0 for u in series.usual)  # the baseline's usual level, never nothing
    with pytest.raises(UnknownService):
        await crowd.series("myspace", NOW)


async def test_a_warm_signal_reads_memory_not_the_database(db: TestDB) -> None:
    """Per poll, the crowd signal costs no database round trip: after the first read, reports
    join the in-memory window as they are recorded, and a fresh service reading the database
    agrees with the warm one."""
    from bot.db.setup import close_db, init_db

    crowd = service()
    await crowd.start()
    await burst(crowd, 30, 6, NOW - timedelta(minutes=12), minutes=10)
    first = await crowd.signal("x", NOW)  # loads the window once
    await crowd.record("x", 1007, user(900), "app", NOW)  # joins memory as it is stored
    warm_before_close = await crowd.signal("x", NOW + timedelta(seconds=30))
    await close_db()
    try:
        warm = await crowd.signal("x", NOW + timedelta(seconds=30))  # no database at all
    finally:
        await init_db(db.url, apply_migrations=False)
    assert warm == warm_before_close and warm is not None and first is not None
    assert warm.recent >= first.recent + 1
    cold = await service().signal("x", NOW + timedelta(seconds=30))
    assert cold is not None and (cold.level, cold.recent) == (warm.level, warm.recent)


async def test_record_many_keeps_the_rules_of_record(db: TestDB) -> None:
    crowd = service()
    await crowd.start()
    await crowd.record("x", 1, user(1), "login", NOW - timedelta(minutes=5))  # already counted
    batch = [(10, user(1), "login", "IQ"), (11, user(2), "app", "IQ"), (12, user(2), "app", None), (13, user(3, NOW - timedelta(hours=2)), "website", "SA")]
    counted = await crowd.record_many("x", batch, NOW)
    assert counted == 2  # user 1 repeats within the window, user 2 twice in the batch
    rows = await CrowdReport.filter(at=NOW).order_by("id")
    assert [r.counted for r in rows] == [False, True, False, True]
    assert [r.weight for r in rows if r.counted] == [1.0, 0.5]  # a two-hour-old account weighs half
    [bucket] = await CrowdBucket.filter(bucket_start=datetime(2025, 3, 10, 4, 5, tzinfo=UTC))
    assert bucket.count == 1.5  # the two that counted: weights 1 and 0.5
    with pytest.raises(UnknownService):
        await crowd.record_many("myspace", batch, NOW)
    with pytest.raises(ValueError):
        await crowd.record_many("x", [(1, user(5), "nonsense", None)], NOW)


async def test_simultaneous_batches_with_the_same_users_count_each_user_once(db: TestDB) -> None:
    """Two bursts written at the same instant (two processes on PostgreSQL) share users: the
    bucket's upsert locks it first, so the second batch sees the first one's counted reports."""
    crowd = service()
    await crowd.start()
    await asyncio.gather(*(CrowdReport.filter(service_id="x").count() for _ in range(6)))  # (a warm pool: they overlap)
    batches = [[(n, user(k), "app", None) for k in range(1 + 4 * n, 9 + 4 * n)] for n in range(6)]  # 4 users shared with the next
    counted = await asyncio.gather(*(crowd.record_many("x", batch, NOW) for batch in batches))
    assert sum(counted) == 28  # users 1-28, each once
    assert await CrowdReport.filter(counted=True).count() == 28
    assert await CrowdReport.filter(counted=False).count() == 20
    assert (await CrowdBucket.get(service_id="x")).count == 28.0


async def test_on_sqlite_the_rate_window_is_read_once_then_kept_in_memory(sqlite_db: TestDB) -> None:
    """SQLite has one writer, this process: a burst's batches ask the database who was counted
    in the last 30 minutes once per service, then keep it — and still refuse a repeat, across
    batches and across a restart (which reads the window again)."""
    crowd = service()
    await crowd.start()
    statements: list[str] = []
    await Tortoise.get_connection("default")._connection.set_trace_callback(statements.append)  # type: ignore[attr-defined]
    counted = [await crowd.record_many("x", [(k, user(10 * k + i), "app", None) for i in range(5)], NOW + timedelta(minutes=k)) for k in range(5)]
    repeat = await crowd.record_many("x", [(9, user(10 * 0 + 1), "app", None), (9, user(99), "app", None)], NOW + timedelta(minutes=6))
    single = await crowd.record("x", 9, user(10 * 1 + 2), "login", NOW + timedelta(minutes=7))
    await Tortoise.get_connection("default")._connection.set_trace_callback(None)  # type: ignore[attr-defined]
    assert counted == [5] * 5 and repeat == 1  # user 1 was counted at NOW
    assert not single.counted and single.next_count_at == NOW + timedelta(minutes=31)
    assert sum("MAX(" in sql for sql in statements) == 1  # one read of the window, for 7 writes
    restarted = service()
    assert await restarted.record_many("x", [(1, user(1), "app", None), (1, user(12), "app", None)], NOW + timedelta(minutes=29)) == 0
    assert await restarted.record_many("x", [(1, user(1), "app", None), (1, user(12), "app", None)], NOW + timedelta(minutes=30, seconds=30)) == 1
    assert await CrowdReport.filter(counted=True).count() == 5 * 5 + 1 + 1


async def test_upkeep_forgets_a_kept_rate_window_gone_quiet(sqlite_db: TestDB) -> None:
    """A burst's users are not kept for ever: once nobody in the window counts any more, the
    hourly purge forgets it, and the next report reads it again."""
    crowd = service()
    await crowd.start()
    await crowd.record_many("x", [(1, user(1), "app", None)], NOW)
    await crowd.purge(NOW + timedelta(minutes=20))  # user 1 still counts until NOW + 30: kept
    statements: list[str] = []
    await Tortoise.get_connection("default")._connection.set_trace_callback(statements.append)  # type: ignore[attr-defined]
    await crowd.record_many("x", [(1, user(2), "app", None)], NOW + timedelta(minutes=21))
    await crowd.purge(NOW + timedelta(minutes=52))  # the newest, user 2 at NOW + 21, is out: forgotten
    again = await crowd.record_many("x", [(1, user(1), "app", None), (1, user(2), "app", None), (1, user(2), "app", None)], NOW + timedelta(minutes=53))
    await Tortoise.get_connection("default")._connection.set_trace_callback(None)  # type: ignore[attr-defined]
    assert again == 2  # both count again (the second of user 2 is a repeat)
    assert sum("MAX(" in sql for sql in statements) == 1  # read again once, after the purge forgot it


async def test_a_batch_whose_commit_fails_is_forgotten_by_the_kept_window(sqlite_db: TestDB) -> None:
    """The kept window notes a batch's counted users inside its transaction: when the commit
    itself fails (here a deferred foreign key a trigger breaks, checked only at COMMIT), the
    reports are not stored, so those users must count next time."""
    crowd = service()
    await crowd.start()
    await crowd.record_many("x", [(1, user(1), "app", None)], NOW)  # the window is kept from here on
    conn = Tortoise.get_connection("default")
    await conn.execute_script(
        "CREATE TABLE t_parent (id INTEGER PRIMARY KEY);"
        "CREATE TABLE t_child (pid INTEGER REFERENCES t_parent (id) DEFERRABLE INITIALLY DEFERRED);"
        f"CREATE TRIGGER t_fail_at_commit AFTER INSERT ON crowd_reports WHEN NEW.user_hash = '{crowd.user_hash(user(2))}' "
        "BEGIN INSERT INTO t_child VALUES (42); END;"
    )
    with pytest.raises(Exception, match="FOREIGN KEY"):
        await crowd.record_many("x", [(2, user(2), "app", None)], NOW + timedelta(minutes=1))
    await conn.execute_query("ROLLBACK")  # (a failed COMMIT leaves its transaction open)
    await conn.execute_query("DROP TRIGGER t_fail_at_commit")
    assert not await CrowdReport.filter(user_hash=crowd.user_hash(user(2))).exists()
    assert await crowd.record_many("x", [(2, user(2), "app", None), (1, user(1), "app", None)], NOW + timedelta(minutes=2)) == 1


async def test_a_failed_batch_leaves_nothing_in_the_kept_window(db: TestDB) -> None:
    crowd = service()
    await crowd.start()
    await crowd.record_many("x", [(1, user(1), "app", None)], NOW)  # the window is kept from here on
    with pytest.raises(Exception):
        await crowd.record_many("x", [(2, user(2), "app", None), ("not a guild", user(3), "app", None)], NOW + timedelta(minutes=1))  # type: ignore[list-item]
    assert await crowd.record_many("x", [(2, user(2), "app", None), (3, user(3), "app", None), (1, user(1), "app", None)], NOW + timedelta(minutes=2)) == 2
    assert await CrowdReport.filter(counted=True).count() == 3


# --- "works for me" ----------------------------------------------------------------------------


async def test_works_for_me_weighs_against_a_crowd_only_signal_and_survives_a_restart(db: TestDB) -> None:
    crowd = service()
    await burst(crowd, 30, guilds=3, start=NOW - timedelta(minutes=10))
    assert (await crowd.signal("x", NOW)).level is CrowdLevel.PROBLEMS  # type: ignore[union-attr]
    for n in range(40):
        assert await crowd.works_for_me("x", 2000 + n % 4, user(500 + n), NOW - timedelta(minutes=2))
    assert not await crowd.works_for_me("x", 2000, user(500), NOW)  # once per user in the window
    signal = await crowd.signal("x", NOW)
    assert signal is not None and signal.works == 40 and signal.recent == 30
    assert signal.level is CrowdLevel.POSSIBLE  # more than half say it works: one level lower
    restarted = service()
    again = await restarted.signal("x", NOW)
    assert again is not None and again.works == 40 and again.level is CrowdLevel.POSSIBLE
    later = await restarted.signal("x", NOW + timedelta(minutes=20))  # out of the window: forgotten
    assert later is not None and later.works == 0
    with pytest.raises(UserError):
        await crowd.works_for_me("myspace", 1, user(1), NOW)


async def test_reports_another_process_stored_reach_this_ones_signal_after_catch_up(db: TestDB) -> None:
    """Several ``run`` processes: ``/report`` and "works for me" are taken by the process holding
    the guild's shard, the signal is computed by the elected poller. Its in-memory window learns
    of them at the next ``catch_up`` (every few seconds), not never."""
    poller, shard = service(), service()
    await poller.start()
    await shard.start()
    assert (await poller.signal("x", NOW)).level is CrowdLevel.NONE  # type: ignore[union-attr]  # window now in memory
    await burst(shard, 30, guilds=3, start=NOW - timedelta(minutes=10))
    assert (await poller.signal("x", NOW)).recent == 0  # type: ignore[union-attr]  # memory: not yet
    assert await poller.catch_up(NOW) == {"x"}
    signal = await poller.signal("x", NOW)
    assert signal is not None and signal.level is CrowdLevel.PROBLEMS and signal.recent == 30
    for n in range(40):
        assert await shard.works_for_me("x", 2000 + n % 4, user(500 + n), NOW + timedelta(seconds=2))
    assert await poller.catch_up(NOW + timedelta(seconds=5)) == {"x"}
    weighed = await poller.signal("x", NOW + timedelta(seconds=5))
    assert weighed is not None and weighed.works == 40 and weighed.level is CrowdLevel.POSSIBLE
    # quiet: once nothing was stored since the last look (and its slack), nothing is read again
    await poller.catch_up(NOW + timedelta(minutes=5))
    assert await poller.catch_up(NOW + timedelta(minutes=10)) == set()


async def test_preload_reads_every_service_at_once_and_then_signals_need_no_database(db: TestDB) -> None:
    """Start-up: four bulk queries instead of four per service at its first poll; the signals
    then agree with a service that read the database one service at a time."""
    from bot.db.setup import close_db, init_db

    writer = service()
    await writer.start()
    await burst(writer, 30, 3, NOW - timedelta(minutes=12), minutes=10)
    for n in range(4):
        await writer.works_for_me("x", 2000 + n, user(700 + n), NOW - timedelta(minutes=1))
    await writer.relearn_all(NOW)  # x's baseline stored
    lazy = await service().signal("x", NOW)
    quiet = await service().signal("github", NOW)

    preloaded = service()
    await preloaded.start()
    await preloaded.preload(NOW)
    await close_db()
    try:  # every service's first signal from memory alone, relearning included
        warm = await preloaded.signal("x", NOW)
        warm_quiet = await preloaded.signal("github", NOW)
    finally:
        await init_db(db.url, apply_migrations=False)
    assert warm == lazy and warm is not None and warm.recent == 30 and warm.works == 4
    assert warm_quiet == quiet and warm_quiet is not None and warm_quiet.level is CrowdLevel.NONE
    assert len(preloaded._relearning) == 0  # no lock per service once nothing is being relearned
