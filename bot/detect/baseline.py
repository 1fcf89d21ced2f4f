"""What is usual: crowd reports per 5-minute bucket for each hour of the week (pure).

A service's report volume follows people's days (quiet at 04:00, busy in the evening) and their
weeks, so "usual" is kept per *hour of the week* (168 slots, UTC). For each slot and each past
week the learner stores one number: the mean weighted reports per 5-minute bucket in that hour.
The usual value is the **median** of the last ``weeks_kept`` weeks' numbers, so one past outage
(a week whose 12:00 hour had 8,000 reports) does not teach the detector that outages are normal;
a mean or an EWMA would carry that spike for weeks.

Cold start: a slot never seen uses a prior — the median of this service's learned slots once it
has a day's worth of them (so a busy service added on Monday does not look like it is melting
down on its first Tuesday), else the global prior. While a slot has fewer than ``warmup_weeks``
weeks, its value is a blend ``w·learned + (1-w)·prior`` with ``w = weeks/warmup_weeks``; then the
prior no longer counts. Everything is floored at ``floor_per_bucket`` so a silent slot never
makes a single report look infinitely surprising.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

BUCKET = timedelta(minutes=5)
BUCKETS_PER_HOUR = 12
HOURS_PER_WEEK = 168
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: pass timezone-aware times")
    return dt.astimezone(timezone.utc)


def bucket_start(dt: datetime) -> datetime:
    """The start (UTC) of the 5-minute bucket holding ``dt``."""
    dt = _utc(dt)
    return dt.replace(minute=dt.minute - dt.minute % 5, second=0, microsecond=0)


def hour_of_week(dt: datetime) -> int:
    """0 = Monday 00:00-00:59 UTC … 167 = Sunday 23:00-23:59 UTC."""
    dt = _utc(dt)
    return dt.weekday() * 24 + dt.hour


def _hour_index(dt: datetime) -> int:
    """Hours since the Unix epoch: identifies one concrete hour (for de-duplication)."""
    return int((_utc(dt) - _EPOCH).total_seconds() // 3600)


@dataclass(frozen=True, slots=True)
class BaselineConfig:
    prior_per_bucket: float = 0.5  # global prior: a service nobody reports on
    floor_per_bucket: float = 0.5  # never expect less than this
    warmup_weeks: int = 3  # weeks of a slot after which the prior stops counting
    weeks_kept: int = 8  # weekly values kept per slot (the median's memory)
    service_prior_min_slots: int = 24  # learned slots needed before the service's own prior


@dataclass(slots=True)
class Baseline:
    """Usual reports per 5-minute bucket for one service, by hour of the week."""

    config: BaselineConfig = field(default_factory=BaselineConfig)
    #: hour-of-week slot → [(hour index, mean reports per bucket)], oldest first
    slots: dict[int, list[tuple[int, float]]] = field(default_factory=dict)

    def observe_hour(self, hour_start: datetime, per_bucket: float) -> None:
        """Record one concrete hour's mean reports per bucket (re-observing replaces it)."""
        if per_bucket < 0:
            raise ValueError("a report count cannot be negative")
        index = _hour_index(hour_start)
        values = [v for v in self.slots.get(hour_of_week(hour_start), []) if v[0] != index]
        values.append((index, float(per_bucket)))
        values.sort()
        self.slots[hour_of_week(hour_start)] = values[-self.config.weeks_kept :]

    def learn(self, totals: Mapping[datetime, float], start: datetime, end: datetime) -> int:
        """Learn every full hour in ``[start, end)`` from 5-minute totals keyed by bucket start.

        A bucket missing from ``totals`` counts as zero reports, so pass only a range in which
        reports were being collected. Returns how many hours were learned.
        """
        by_start = {bucket_start(k): v for k, v in totals.items()}
        hour = _utc(start).replace(minute=0, second=0, microsecond=0)
        if hour < _utc(start):
            hour += timedelta(hours=1)
        learned = 0
        while hour + timedelta(hours=1) <= _utc(end):
            total = sum(by_start.get(hour + i * BUCKET, 0.0) for i in range(BUCKETS_PER_HOUR))
            self.observe_hour(hour, total / BUCKETS_PER_HOUR)
            hour += timedelta(hours=1)
            learned += 1
        return learned

    def weeks_seen(self, at: datetime) -> int:
        return len(self.slots.get(hour_of_week(at), ()))

    def prior(self) -> float:
        """The cold-start value: the service's own typical slot, or the global prior."""
        learned = [statistics.median(v for _, v in vals) for vals in self.slots.values() if vals]
        if len(learned) >= self.config.service_prior_min_slots:
            return max(statistics.median(learned), self.config.prior_per_bucket)
        return self.config.prior_per_bucket

    def expected(self, at: datetime) -> float:
        """Usual weighted reports in the 5-minute bucket holding ``at``."""
        values = self.slots.get(hour_of_week(at), [])
        if not values:
            usual = self.prior()
        else:
            learned = statistics.median(v for _, v in values)
            w = min(1.0, len(values) / self.config.warmup_weeks)
            usual = learned if w >= 1.0 else w * learned + (1.0 - w) * self.prior()
        return max(usual, self.config.floor_per_bucket)

    def expected_between(self, start: datetime, end: datetime) -> float:
        """Usual weighted reports in ``(start, end]``, prorated by time per bucket."""
        total = 0.0
        t = bucket_start(start)
        while t < end:
            overlap = min(t + BUCKET, end) - max(t, start)
            if overlap > timedelta(0):
                total += self.expected(t) * (overlap / BUCKET)
            t += BUCKET
        return total

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for storage (the config is operator settings, not stored)."""
        return {
            "version": 1,
            "slots": {str(slot): [[i, v] for i, v in vals] for slot, vals in self.slots.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], config: BaselineConfig | None = None) -> Baseline:
        if data.get("version") != 1:
            raise ValueError(f"unknown baseline version: {data.get('version')!r}")
        slots = {
            int(slot): [(int(i), float(v)) for i, v in vals]
            for slot, vals in data.get("slots", {}).items()
        }
        for slot in slots:
            if not 0 <= slot < HOURS_PER_WEEK:
                raise ValueError(f"hour-of-week slot out of range: {slot}")
        return cls(config=config or BaselineConfig(), slots=slots)
