"""The baseline learns what is usual per hour of the week, robustly, and starts cold sanely."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from bot.detect.baseline import (
    BUCKET,
    Baseline,
    BaselineConfig,
    bucket_start,
    hour_of_week,
)

UTC = timezone.utc
MONDAY = datetime(2025, 3, 10, tzinfo=UTC)  # a Monday, 00:00 UTC


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's sampler, in chunks so large means do not underflow exp(-lam)."""
    n = 0
    while lam > 30:
        n, lam = n + poisson(rng, 30), lam - 30
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k, p = k + 1, p * rng.random()
    return n + k


def rhythm(t: datetime) -> float:
    """Usual reports per bucket: busiest at 15:00 UTC, quietest at 03:00, weekends at 60 %."""
    daily = 30 + 20 * math.sin(2 * math.pi * (t.hour + t.minute / 60 - 9) / 24)
    return daily * (0.6 if t.weekday() >= 5 else 1.0)


def series(
    rate: Callable[[datetime], float], start: datetime, end: datetime, seed: int = 1
) -> dict[datetime, float]:
    rng = random.Random(seed)
    out, t = {}, start
    while t < end:
        out[t] = float(poisson(rng, rate(t)))
        t += BUCKET
    return out


def test_buckets_and_slots_are_utc() -> None:
    riyadh = timezone(timedelta(hours=3))
    at = datetime(2025, 3, 10, 15, 52, 41, tzinfo=riyadh)  # 12:52:41 UTC, Monday
    assert bucket_start(at) == datetime(2025, 3, 10, 12, 50, tzinfo=UTC)
    assert hour_of_week(at) == 12
    assert hour_of_week(datetime(2025, 3, 16, 23, 59, tzinfo=UTC)) == 167  # Sunday night
    with pytest.raises(ValueError):
        bucket_start(datetime(2025, 3, 10, 12, 0))


def test_learns_a_daily_and_weekly_rhythm() -> None:
    start = MONDAY - timedelta(weeks=4)
    baseline = Baseline()
    assert baseline.learn(series(rhythm, start, MONDAY), start, MONDAY) == 4 * 168

    for day, hour in [(0, 15), (0, 3), (2, 9), (5, 15), (6, 3)]:
        at = MONDAY + timedelta(days=day, hours=hour, minutes=30)
        true = sum(rhythm(at.replace(minute=m)) for m in range(0, 60, 5)) / 12
        assert baseline.expected(at) == pytest.approx(true, rel=0.15), (day, hour)
    monday_busy = baseline.expected(MONDAY + timedelta(hours=15))
    monday_quiet = baseline.expected(MONDAY + timedelta(hours=3))
    saturday_busy = baseline.expected(MONDAY + timedelta(days=5, hours=15))
    assert monday_busy > 3 * monday_quiet
    assert saturday_busy < 0.75 * monday_busy


def test_one_past_outage_does_not_become_usual() -> None:
    start = MONDAY - timedelta(weeks=4)
    totals = series(lambda t: 20.0, start, MONDAY)
    outage_hour = start + timedelta(weeks=2, hours=12)
    for i in range(12):
        totals[outage_hour + i * BUCKET] = 2000.0
    baseline = Baseline()
    baseline.learn(totals, start, MONDAY)
    assert baseline.expected(MONDAY + timedelta(hours=12)) == pytest.approx(20, rel=0.15)


def test_cold_start_uses_the_prior_then_blends_it_out() -> None:
    cfg = BaselineConfig(prior_per_bucket=0.5, warmup_weeks=3, service_prior_min_slots=24)
    baseline = Baseline(cfg)
    noon = MONDAY + timedelta(hours=12)
    assert baseline.expected(noon) == 0.5

    baseline.observe_hour(noon - timedelta(weeks=1), 30.5)  # one week seen: 1/3 learned
    assert baseline.expected(noon) == pytest.approx((30.5 + 2 * 0.5) / 3)
    baseline.observe_hour(noon - timedelta(weeks=2), 30.5)
    baseline.observe_hour(noon - timedelta(weeks=3), 30.5)
    assert baseline.expected(noon) == pytest.approx(30.5)  # warm: the prior no longer counts


def test_a_service_added_yesterday_expects_its_own_level_in_unseen_hours() -> None:
    baseline = Baseline()
    yesterday = MONDAY - timedelta(days=1)
    baseline.learn({yesterday + i * BUCKET: 100.0 for i in range(288)}, yesterday, MONDAY)
    # Monday 12:00 was never seen; the service's own typical hour is the prior, not 0.5
    assert baseline.expected(MONDAY + timedelta(hours=12)) == pytest.approx(100.0)


def test_never_expects_less_than_the_floor() -> None:
    start = MONDAY - timedelta(weeks=4)
    baseline = Baseline(BaselineConfig(floor_per_bucket=0.5))
    baseline.learn({}, start, MONDAY)  # collecting, and nobody ever reported
    assert baseline.expected(MONDAY + timedelta(hours=4)) == 0.5


def test_relearning_an_hour_replaces_it_and_old_weeks_are_forgotten() -> None:
    baseline = Baseline(BaselineConfig(weeks_kept=3, warmup_weeks=1))
    noon = MONDAY + timedelta(hours=12)
    baseline.observe_hour(noon, 5.0)
    baseline.observe_hour(noon, 7.0)
    assert baseline.weeks_seen(noon) == 1
    assert baseline.expected(noon) == 7.0
    for week in range(1, 4):  # the service got popular: three newer weeks at 40
        baseline.observe_hour(noon + timedelta(weeks=week), 40.0)
    assert baseline.weeks_seen(noon) == 3
    assert baseline.expected(noon) == 40.0


def test_round_trips_through_a_dict() -> None:
    start = MONDAY - timedelta(weeks=2)
    baseline = Baseline()
    baseline.learn(series(rhythm, start, MONDAY, seed=3), start, MONDAY)
    restored = Baseline.from_dict(baseline.to_dict())
    assert restored.slots == baseline.slots
    for hours in range(0, 168, 7):
        at = MONDAY + timedelta(hours=hours)
        assert restored.expected(at) == baseline.expected(at)
    with pytest.raises(ValueError):
        Baseline.from_dict({"version": 99, "slots": {}})
    with pytest.raises(ValueError):
        Baseline.from_dict({"version": 1, "slots": {"168": [[0, 1.0]]}})
