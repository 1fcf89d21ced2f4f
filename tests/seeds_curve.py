"""The seeds' outage as a report curve, shared by the crowd tests: a daily rhythm of usual
reports, a ramp to about 25,800 reports per 15 minutes at 12:51 GMT, and a long tail under
650 a few hours later. Deterministic for a given ``random.Random``."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

from bot.detect.baseline import BUCKET, Baseline

MONDAY = datetime(2025, 3, 10, tzinfo=timezone.utc)
PROBLEMS = ["login"] * 63 + ["app"] * 17 + ["website"] * 10 + ["connection"] * 10


def poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k, p = k + 1, p * rng.random()
    return k


def usual_per_bucket(t: datetime) -> float:
    """A daily rhythm: about 10 reports per 5 minutes at 03:00, 50 at 15:00."""
    return 30 + 20 * math.sin(2 * math.pi * (t.hour + t.minute / 60 - 9) / 24)


def outage_per_minute(t: datetime) -> float:
    """Reports beyond the usual: a ramp from 12:20 to 12:50, then a fix lands at 12:51 and
    reports fall fast, with a long tail of people still reporting for hours."""
    m = (t - MONDAY).total_seconds() / 60 - 12 * 60
    if 20 <= m <= 50:
        return 2840 * ((m - 20) / 30) ** 2
    if m > 50:
        x = m - 51
        return 2840 * (0.15 * math.exp(-x / 5) + 0.10 * math.exp(-x / 50))
    return 0.0


def learned_baseline(rng: random.Random) -> Baseline:
    """Four quiet weeks of history before the outage day."""
    start = MONDAY - timedelta(weeks=4)
    history, t = {}, start
    while t < MONDAY:
        history[t] = float(sum(poisson(rng, usual_per_bucket(t) / 5) for _ in range(5)))
        t += BUCKET
    baseline = Baseline()
    baseline.learn(history, start, MONDAY)
    return baseline
