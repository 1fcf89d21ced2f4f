"""Crowd reports: who counts, how much, and when many reports are really a spike."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from bot.detect.baseline import BUCKET, Baseline, BaselineConfig
from bot.detect.crowd import (
    BucketCounts,
    CrowdConfig,
    Peak,
    Report,
    account_created_at,
    account_weigher,
    account_weight,
    assess,
    counted_total,
    hash_user,
    user_hasher,
    poisson_tail,
    should_count,
)
from bot.detect.model import CrowdLevel, CrowdSignal
from tests.seeds_curve import PROBLEMS, learned_baseline, outage_per_minute, poisson, usual_per_bucket

UTC = timezone.utc
MONDAY = datetime(2025, 3, 10, tzinfo=UTC)
QUIET = MONDAY + timedelta(hours=4, minutes=7)  # usual: 1 report per 5 minutes
BUSY = MONDAY + timedelta(hours=15, minutes=7)  # usual: 40 reports per 5 minutes


def snowflake(created: datetime, low: int = 0) -> int:
    ms = int(created.timestamp() * 1000) - 1420070400000
    return (ms << 22) | low


def day_and_night() -> Baseline:
    """Three weeks learned: 40 reports per bucket from 09:00 to 22:59 UTC, 1 at night."""
    baseline = Baseline(BaselineConfig(warmup_weeks=3))
    for week in range(1, 4):
        for hour in range(168):
            start = MONDAY - timedelta(weeks=week) + timedelta(hours=hour)
            baseline.observe_hour(start, 40.0 if 9 <= start.hour < 23 else 1.0)
    return baseline


def burst(
    n: int,
    start: datetime,
    minutes: float,
    guilds: int,
    problem: str = "login",
    weight: float = 1.0,
    first_guild: int = 1,
) -> list[Report]:
    """``n`` reports spread evenly over ``minutes`` from ``start``, round-robin over guilds."""
    step = timedelta(minutes=minutes) / n
    return [
        Report("x", first_guild + i % guilds, f"user{i}", problem, start + i * step, weight)
        for i in range(n)
    ]


# --- who counts ------------------------------------------------------------------------------


def test_user_hash_never_holds_the_raw_id_and_is_stable_per_salt() -> None:
    user_id = 175928847299117063
    h = hash_user(user_id, b"secret-salt")
    assert str(user_id) not in h and hex(user_id)[2:] not in h
    assert len(h) == 32 and int(h, 16) >= 0
    assert hash_user(user_id, b"secret-salt") == h
    assert hash_user(user_id, b"other-salt") != h
    assert hash_user(user_id + 1, b"secret-salt") != h
    with pytest.raises(ValueError):
        hash_user(user_id, b"")


def test_user_hash_is_the_one_stored_before_so_a_repeat_across_an_upgrade_is_still_a_repeat() -> None:
    """Stored reports keep the pseudonyms of earlier versions (HMAC-SHA256 of the decimal id,
    first 32 hex digits): the rate limit compares new hashes with them."""
    assert hash_user(175928847299117063, b"secret-salt") == "9b0715216bef62373250b80162409898"


def test_a_hasher_keyed_once_gives_each_user_the_pseudonym_hash_user_gives() -> None:
    """``record_many`` hashes a burst with one keyed HMAC copied per user: the copies must not
    carry one user's id into the next one's hash."""
    pseudonym = user_hasher(b"secret-salt")
    users = [175928847299117063, 1, 2**63 - 1, 175928847299117063]
    assert [pseudonym(u) for u in users] == [hash_user(u, b"secret-salt") for u in users]
    assert pseudonym(175928847299117063) == "9b0715216bef62373250b80162409898"
    with pytest.raises(ValueError):
        user_hasher(b"")


def test_account_age_comes_from_the_snowflake() -> None:
    # the example snowflake of Discord's API reference
    assert account_created_at(175928847299117063) == datetime(
        2016, 4, 30, 11, 18, 25, 796000, tzinfo=UTC
    )
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    assert account_weight(snowflake(now - timedelta(hours=3), 12345), now) == 0.5
    assert account_weight(snowflake(now - timedelta(days=2), 12345), now) == 1.0
    assert account_weight(175928847299117063, now) == 1.0


def test_the_age_limit_is_exact_to_the_millisecond_as_the_snowflake_is() -> None:
    """``account_weigher`` compares whole microseconds instead of building a datetime per user;
    at the limit it must agree with ``now - created < 1 day`` on both sides."""
    now = datetime(2025, 3, 10, 12, 0, 0, 500, tzinfo=UTC)  # (not on a millisecond)
    for offset_ms in (-2, -1, 0, 1, 2):
        user_id = snowflake(now - timedelta(days=1) + timedelta(milliseconds=offset_ms), 7)
        expected = 0.5 if now - account_created_at(user_id) < timedelta(days=1) else 1.0
        assert account_weigher(now)(user_id) == account_weight(user_id, now) == expected
    with pytest.raises(ValueError):
        account_weigher(now)(0)


def test_one_counted_report_per_user_per_30_minutes() -> None:
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    assert should_count(None, now)
    assert not should_count(now - timedelta(minutes=29, seconds=59), now)
    assert should_count(now - timedelta(minutes=30), now)
    assert not should_count(now + timedelta(minutes=5), now)  # clock skew never double-counts
    assert should_count(now - timedelta(minutes=10), now, window=timedelta(minutes=5))


def test_reports_land_in_five_minute_buckets_with_their_weight() -> None:
    at = datetime(2025, 3, 10, 12, 53, 10, tzinfo=UTC)
    counts = BucketCounts.from_reports(
        [
            Report("x", 1, "a", "login", at),
            Report("x", 2, "b", "app", at + timedelta(minutes=1), 0.5),
            Report("x", 1, "c", "login", at + timedelta(minutes=2)),  # 12:55: next bucket
        ]
    )
    first = counts.get(datetime(2025, 3, 10, 12, 50, tzinfo=UTC))
    assert first is not None and first.total == 1.5
    assert first.by_guild == {1: 1.0, 2: 0.5}
    assert first.by_problem == {"login": 1.0, "app": 0.5}
    with pytest.raises(ValueError):
        Report("x", 1, "a", "it is slow", at)
    assert counts.totals() == {
        datetime(2025, 3, 10, 12, 50, tzinfo=UTC): 1.5,
        datetime(2025, 3, 10, 12, 55, tzinfo=UTC): 1.0,
    }


# --- the statistics -------------------------------------------------------------------------


@pytest.mark.parametrize("k,lam", [(1, 0.5), (5, 1.5), (10, 1.5), (3, 7.0), (20, 7.0), (55, 40.0)])
def test_poisson_tail_matches_the_textbook_sum(k: int, lam: float) -> None:
    below = sum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(k))
    assert poisson_tail(k, lam) == pytest.approx(1 - below, rel=1e-9, abs=1e-15)


def test_poisson_tail_is_stable_far_out() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert 0.0 <= poisson_tail(25_800, 300.0) < 1e-300
    assert poisson_tail(1_000_000, 1_000_000.0) == pytest.approx(0.5, abs=0.01)
    assert poisson_tail(10.7, 2.0) == poisson_tail(10, 2.0)  # weighted counts round down


def test_no_guild_counts_for_more_than_a_third() -> None:
    third = 1 / 3
    assert counted_total([500], third) == 0
    assert counted_total([250, 250], third) == 0
    assert counted_total([5, 5, 5], third) == pytest.approx(15)
    assert counted_total([100, 1, 1], third) == pytest.approx(3)
    assert counted_total([30, 10, 10, 10, 10], third) == pytest.approx(60)  # 30 capped at 20
    assert counted_total([4, 3, 3, 2], third) == pytest.approx(12)  # nobody above a third


# --- spikes ---------------------------------------------------------------------------------


def test_a_quiet_hour_surge_from_many_guilds_is_problems() -> None:
    reports = burst(45, QUIET - timedelta(minutes=12), 12, guilds=12)
    reports += burst(15, QUIET - timedelta(minutes=12), 12, guilds=12, problem="app")
    signal = assess(BucketCounts.from_reports(reports), day_and_night(), QUIET)
    assert signal.level is CrowdLevel.PROBLEMS
    assert signal.recent == 60
    assert signal.usual == pytest.approx(3.0)
    assert signal.window == timedelta(minutes=15)
    assert signal.distinct_guilds == 12
    assert (signal.top_problem, signal.top_problem_share) == ("login", pytest.approx(0.75))
    assert signal.since == datetime(2025, 3, 10, 3, 55, tzinfo=UTC)


def test_normal_volume_in_a_busy_hour_is_not_a_spike() -> None:
    reports = burst(130, BUSY - timedelta(minutes=12), 12, guilds=40)
    signal = assess(BucketCounts.from_reports(reports), day_and_night(), BUSY)
    assert signal.recent == 130 and signal.usual == pytest.approx(120.0)
    assert signal.level is CrowdLevel.NONE
    assert signal.since is None


def test_a_small_quiet_hour_rise_is_not_problems() -> None:
    baseline = day_and_night()
    few = burst(4, QUIET - timedelta(minutes=10), 10, guilds=4)
    assert assess(BucketCounts.from_reports(few), baseline, QUIET).level is CrowdLevel.NONE
    # nine reports when three are usual: surprising, yet under the minimum of ten
    nine = burst(9, QUIET - timedelta(minutes=10), 10, guilds=3)
    signal = assess(BucketCounts.from_reports(nine), baseline, QUIET)
    assert signal.recent == 9
    assert signal.level is CrowdLevel.POSSIBLE


def test_cold_start_uses_the_prior() -> None:
    cold = Baseline()
    twelve = burst(12, QUIET - timedelta(minutes=10), 10, guilds=4)
    signal = assess(BucketCounts.from_reports(twelve), cold, QUIET)
    assert signal.usual == pytest.approx(1.5)  # 0.5 per bucket, three buckets
    assert signal.level is CrowdLevel.PROBLEMS
    three = burst(3, QUIET - timedelta(minutes=10), 10, guilds=3)
    assert assess(BucketCounts.from_reports(three), cold, QUIET).level is CrowdLevel.NONE


def test_one_guild_alone_triggers_nothing() -> None:
    brigade = burst(500, QUIET - timedelta(minutes=10), 10, guilds=1)
    signal = assess(BucketCounts.from_reports(brigade), day_and_night(), QUIET)
    assert signal.level is CrowdLevel.NONE
    assert signal.recent == 0 and signal.distinct_guilds == 1


def test_two_guilds_are_not_enough() -> None:
    pair = burst(500, QUIET - timedelta(minutes=10), 10, guilds=2)
    baseline = day_and_night()
    assert assess(BucketCounts.from_reports(pair), baseline, QUIET).level is CrowdLevel.NONE
    # even with the share cap loosened to a half, the distinct-guild rule still holds
    loose = CrowdConfig(max_guild_share=0.5)
    signal = assess(BucketCounts.from_reports(pair), baseline, QUIET, loose)
    assert signal.recent == 500 and signal.level is CrowdLevel.NONE


def test_a_loud_guild_counts_for_a_third_at_most() -> None:
    reports = burst(500, QUIET - timedelta(minutes=10), 10, guilds=1, first_guild=99)
    reports += burst(18, QUIET - timedelta(minutes=10), 10, guilds=3)
    signal = assess(BucketCounts.from_reports(reports), day_and_night(), QUIET)
    assert signal.recent == 27  # the three small guilds' 18, plus 9 (a third of 27) from it
    assert signal.distinct_guilds == 4
    assert signal.level is CrowdLevel.PROBLEMS


def test_new_accounts_count_half() -> None:
    now = QUIET
    young = [snowflake(now - timedelta(hours=2), i) for i in range(16)]
    old = [snowflake(now - timedelta(days=400), i) for i in range(16)]
    start = now - timedelta(minutes=10)

    def reports(users: list[int]) -> BucketCounts:
        at = [start + i * BUCKET / 8 for i in range(len(users))]
        return BucketCounts.from_reports(
            Report("x", 1 + i % 8, hash_user(u, b"s"), "login", at[i], account_weight(u, now))
            for i, u in enumerate(users)
        )

    fresh = assess(reports(young), day_and_night(), now)
    assert fresh.recent == 8 and fresh.level is not CrowdLevel.PROBLEMS
    real = assess(reports(old), day_and_night(), now)
    assert real.recent == 16 and real.level is CrowdLevel.PROBLEMS


def test_since_is_the_same_after_a_restart() -> None:
    baseline = day_and_night()
    t0 = MONDAY + timedelta(hours=3, minutes=40)
    reports: list[Report] = []
    for i, n in enumerate([6, 10, 20, 30, 40, 10]):
        reports += burst(n, t0 + i * BUCKET, 5 if i < 5 else 2, guilds=3)
    now = t0 + timedelta(minutes=27)

    counts, previous = BucketCounts(), None
    minute = t0 - timedelta(minutes=10)
    while minute <= now:  # live: assess every minute with what has arrived so far
        counts = BucketCounts.from_reports(r for r in reports if r.at <= minute)
        previous = assess(counts, baseline, minute, previous=previous)
        minute += timedelta(minutes=1)
    restarted = assess(counts, baseline, now)

    assert previous is not None and previous.level is CrowdLevel.PROBLEMS
    assert previous.since == t0
    assert restarted.since == t0


# --- hysteresis -----------------------------------------------------------------------------


def busy_window(n: int, guilds: int = 40) -> BucketCounts:
    """``n`` reports in the 15 minutes before BUSY, when 120 are usual."""
    return BucketCounts.from_reports(burst(n, BUSY - timedelta(minutes=12), 12, guilds=guilds))


def earlier(level: CrowdLevel) -> CrowdSignal:
    return CrowdSignal(level, recent=400, usual=120.0, since=BUSY - timedelta(minutes=40))


@pytest.mark.parametrize(
    "reports,previous,expected",
    [
        # entering needs 3× / 2× the usual 120 (360 / 240), whatever came before
        (300, None, CrowdLevel.POSSIBLE),
        (300, CrowdLevel.NONE, CrowdLevel.POSSIBLE),
        (400, CrowdLevel.NONE, CrowdLevel.PROBLEMS),
        # PROBLEMS is kept down to 0.75 × 3 = 2.25× the usual (270) …
        (300, CrowdLevel.PROBLEMS, CrowdLevel.PROBLEMS),
        (270, CrowdLevel.PROBLEMS, CrowdLevel.PROBLEMS),
        # … then steps down to POSSIBLE, kept down to 0.75 × 2 = 1.5× the usual (180)
        (260, CrowdLevel.PROBLEMS, CrowdLevel.POSSIBLE),
        (200, CrowdLevel.PROBLEMS, CrowdLevel.POSSIBLE),
        (200, CrowdLevel.POSSIBLE, CrowdLevel.POSSIBLE),
        (180, CrowdLevel.POSSIBLE, CrowdLevel.POSSIBLE),
        (200, None, CrowdLevel.NONE),
        (200, CrowdLevel.NONE, CrowdLevel.NONE),
        # clearly below: gone
        (170, CrowdLevel.PROBLEMS, CrowdLevel.NONE),
        (170, CrowdLevel.POSSIBLE, CrowdLevel.NONE),
        # a POSSIBLE level is never raised to PROBLEMS by holding
        (300, CrowdLevel.POSSIBLE, CrowdLevel.POSSIBLE),
    ],
)
def test_a_level_is_kept_until_the_count_falls_clearly_below_it(
    reports: int, previous: CrowdLevel | None, expected: CrowdLevel
) -> None:
    before = earlier(previous) if previous is not None else None
    signal = assess(busy_window(reports), day_and_night(), BUSY, previous=before)
    assert signal.recent == reports and signal.usual == pytest.approx(120.0)
    assert signal.level is expected
    if expected is not CrowdLevel.NONE and before is not None and previous is not CrowdLevel.NONE:
        assert signal.since == before.since  # a held spike is the same spike
    if expected is CrowdLevel.NONE:
        assert signal.since is None


def test_holding_never_keeps_what_would_be_ordinary_noise() -> None:
    """Quiet hour, 3 usual: 6 reports clear 0.75 × 5 and 1.5 × 3, but six when three are
    usual happens by chance (p ≈ 0.08): the Poisson test is not relaxed."""
    six = BucketCounts.from_reports(burst(6, QUIET - timedelta(minutes=10), 10, guilds=3))
    signal = assess(six, day_and_night(), QUIET, previous=earlier(CrowdLevel.POSSIBLE))
    assert signal.recent == 6 and signal.usual == pytest.approx(3.0)
    assert signal.level is CrowdLevel.NONE
    # under a looser test five reports (below the 2 × 3 that enters) are kept, as they should
    loose = CrowdConfig(possible_p_value=0.2)
    five = BucketCounts.from_reports(burst(5, QUIET - timedelta(minutes=10), 10, guilds=5))
    assert assess(five, day_and_night(), QUIET, loose).level is CrowdLevel.NONE
    assert assess(five, day_and_night(), QUIET, loose, earlier(CrowdLevel.POSSIBLE)).level is CrowdLevel.POSSIBLE


def test_holding_never_relaxes_anti_brigading() -> None:
    two_guilds = busy_window(300, guilds=2)
    signal = assess(two_guilds, day_and_night(), BUSY, previous=earlier(CrowdLevel.PROBLEMS))
    assert signal.level is CrowdLevel.NONE


def test_a_count_wobbling_around_the_threshold_does_not_flip_the_level() -> None:
    """The tail of an outage: entering at 250, then 230, 245, 220, 238, 200 (all under the
    240 that enters POSSIBLE, all above the 180 that keeps it), then 170 ends it."""
    baseline, previous = day_and_night(), None
    levels = []
    for n in (250, 230, 245, 220, 238, 200, 170, 230):
        previous = assess(busy_window(n), baseline, BUSY, previous=previous)
        levels.append(previous.level)
    possible, none = CrowdLevel.POSSIBLE, CrowdLevel.NONE
    assert levels == [possible] * 6 + [none, none]  # 230 after the end does not re-enter


def test_hold_must_be_a_fraction() -> None:
    with pytest.raises(ValueError):
        CrowdConfig(hold=0)
    with pytest.raises(ValueError):
        CrowdConfig(hold=1.5)
    strict = CrowdConfig(hold=1.0)  # no hysteresis at all
    assert assess(busy_window(300), day_and_night(), BUSY, strict, earlier(CrowdLevel.PROBLEMS)).level is CrowdLevel.POSSIBLE


def test_peak_keeps_the_first_highest_count() -> None:
    peak = Peak()
    t = datetime(2025, 3, 10, 12, 50, tzinfo=UTC)
    assert peak.update(100, t)
    assert peak.update(25_800, t + timedelta(minutes=1))
    assert not peak.update(25_800, t + timedelta(minutes=2))
    assert not peak.update(640, t + timedelta(hours=3))
    assert (peak.count, peak.at) == (25_800, t + timedelta(minutes=1))


# --- the seeds' outage, replayed ------------------------------------------------------------


def test_replay_of_the_seeds_curve() -> None:
    """25,800 reports at the peak at 12:51 GMT, under 650 a few hours later."""
    rng = random.Random(7)
    baseline = learned_baseline(rng)
    problems = PROBLEMS
    counts, peak = BucketCounts(), Peak()
    signals: list[tuple[datetime, CrowdSignal]] = []
    previous: CrowdSignal | None = None
    now = MONDAY + timedelta(hours=11)
    while now < MONDAY + timedelta(hours=18):
        previous = assess(counts, baseline, now, previous=previous)
        signals.append((now, previous))
        if previous.level is not CrowdLevel.NONE:
            peak.update(previous.recent, now)
        usual = poisson(rng, usual_per_bucket(now) / 5)
        outage = round(outage_per_minute(now))
        for i in range(usual + outage):
            problem = rng.choice(problems) if i >= usual else rng.choice(problems[::10])
            at = now + timedelta(minutes=1) * i / (usual + outage)
            counts.add(Report("x", rng.randrange(400), f"u{i}", problem, at))
        now += timedelta(minutes=1)

    assert (round(peak.count, -2), peak.at) == (25_800, MONDAY + timedelta(hours=12, minutes=51))
    at_peak = dict(signals)[MONDAY + timedelta(hours=12, minutes=51)]
    assert at_peak.level is CrowdLevel.PROBLEMS
    assert at_peak.top_problem == "login" and at_peak.top_problem_share == pytest.approx(
        0.63, abs=0.02
    )
    assert at_peak.since is not None
    assert MONDAY + timedelta(hours=12, minutes=20) <= at_peak.since
    assert at_peak.since <= MONDAY + timedelta(hours=12, minutes=30)
    later = dict(signals)[MONDAY + timedelta(hours=15, minutes=51)]
    assert later.recent < 650

    # one rise and one fall: NONE … POSSIBLE/PROBLEMS … NONE, never back up again
    levels = [s.level for _, s in signals]
    raised = [i for i, level in enumerate(levels) if level is not CrowdLevel.NONE]
    assert raised and raised == list(range(raised[0], raised[-1] + 1))
    assert levels[0] is CrowdLevel.NONE and levels[-1] is CrowdLevel.NONE
    assert CrowdLevel.PROBLEMS in levels[raised[0] : raised[-1] + 1]
    assert all(s.since == at_peak.since for _, s in signals[raised[0] : raised[-1] + 1])


# --- countries --------------------------------------------------------------------------------

#: (reports per (country, guild), expected countries in order) — the anti-brigading rules of the
#: count, applied per country: two servers before a country is named, no server over a third
COUNTRY_TABLE = [
    ({("US", 1): 20, ("US", 2): 20, ("DE", 3): 10, ("DE", 4): 10}, ("US", "DE")),
    ({("US", 1): 20, ("US", 2): 20, ("IQ", 3): 500}, ("US",)),  # one server cannot name its country
    ({("US", 1): 20, ("US", 2): 20, ("IQ", 3): 500, ("IQ", 4): 1}, ("US", "IQ")),  # capped: IQ does not lead
    ({("SA", 1): 10, ("SA", 2): 10, ("EG", 3): 10, ("EG", 4): 10}, ("EG", "SA")),  # ties: by code
    ({(None, 1): 30, (None, 2): 30, (None, 3): 30}, ()),  # servers that set no country name none
]


@pytest.mark.parametrize("counts,expected", COUNTRY_TABLE)
def test_reporting_countries_follow_the_anti_brigading_rules(counts: dict[tuple[str | None, int], int], expected: tuple[str, ...]) -> None:
    reports = [
        Report("x", guild, f"user-{country}-{guild}-{i}", "login", QUIET - timedelta(minutes=5) + timedelta(seconds=i % 240), 1.0, country)
        for (country, guild), n in counts.items()
        for i in range(n)
    ]
    signal = assess(BucketCounts.from_reports(reports), day_and_night(), QUIET)
    assert signal.countries == expected


# --- "works for me" ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "reports", "works", "after"),
    [
        (CrowdLevel.PROBLEMS, 40, 0, CrowdLevel.PROBLEMS),
        (CrowdLevel.PROBLEMS, 40, 2, CrowdLevel.PROBLEMS),  # too few to weigh
        (CrowdLevel.PROBLEMS, 40, 10, CrowdLevel.PROBLEMS),  # 20 %
        (CrowdLevel.PROBLEMS, 40, 40, CrowdLevel.POSSIBLE),  # half: one level lower
        (CrowdLevel.POSSIBLE, 8, 12, CrowdLevel.NONE),
        (CrowdLevel.NONE, 2, 30, CrowdLevel.NONE),
        (CrowdLevel.POSSIBLE, 2, 2, CrowdLevel.POSSIBLE),
    ],
)
def test_works_for_me_truth_table(level: CrowdLevel, reports: int, works: int, after: CrowdLevel) -> None:
    from bot.detect.crowd import weigh_works
    from bot.detect.model import CrowdSignal

    since = datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)
    before = CrowdSignal(level, recent=reports, usual=3.0, since=since if level is not CrowdLevel.NONE else None)
    weighed = weigh_works(before, works)
    assert weighed.level is after and weighed.works == works
    assert (weighed.since is None) == (after is CrowdLevel.NONE)
