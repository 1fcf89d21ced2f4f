"""Feeding the scenario's crowd reports into the real crowd store, on the virtual clock.

Reports arrive through each minute, not on the minute: a minute's reports are recorded in
``SLICES`` equal parts at the start of each part (every 15 s). A handful at a time go through
``CrowdService.record`` exactly as ``/report`` does; hundreds (the x-outage peak is ~1,950 a
minute) through ``CrowdService.record_many``, the service's own bulk path with the same rules,
in one transaction each. Every reporter is a distinct, long-standing Discord account (so each
report counts with weight 1), spread over many servers (so anti-brigading lets them all
count).

``seed_history`` writes the weeks of ordinary report volume a running bot would have seen, so
the baseline ("usually 12") is learned by ``CrowdService`` the normal way.
"""

from __future__ import annotations

import bisect
import random
from datetime import datetime, timedelta
from typing import Callable

from tortoise import Tortoise

from bot.db.batch import insert_many
from bot.services.crowd import CrowdService
from bot.db.models import CrowdBucket
from bot.detect.baseline import BUCKET, bucket_start
from bot.detect.crowd import DISCORD_EPOCH_MS
from bot.simulate.scenarios import poisson

BULK_FROM = 2  # reports at one instant from which the bulk path is used (a lone report: `record`)
SLICES = 4  # a minute's reports arrive in this many equal parts
GUILD_BASE = 900_000_000_000_000_000
#: reporters' accounts were created one millisecond apart from 2019-01-01 (old: weight 1)
_ACCOUNTS_FROM_MS = 1_546_300_800_000 - DISCORD_EPOCH_MS


def _problems(n: int, mix: tuple[tuple[str, float], ...], rng: random.Random) -> list[str]:
    """``n`` problem categories in the proportions of ``mix`` (a seeded random draw, so a
    minute with one report does not always get the first category)."""
    total = sum(share for _, share in mix) or 1.0
    out: list[str] = []
    for _ in range(n):
        x = rng.random() * total
        acc = 0.0
        for problem, share in mix:
            acc += share
            if x <= acc:
                out.append(problem)
                break
        else:
            out.append(mix[-1][0])
    return out


class ReportInjector:
    """Writes the planned reports of each instant when the clock reaches it."""

    def __init__(
        self,
        crowd: CrowdService,
        service_id: str,
        plan: dict[datetime, tuple[int, tuple[tuple[str, float], ...]]],
        *,
        guilds: int = 60,
        seed: int = 5,
        country_of_guild: Callable[[int], str | None] = lambda _k: None,
        guild_base: int = GUILD_BASE,
    ) -> None:
        self.crowd = crowd
        self.service_id = service_id
        self.plan = _spread(plan)
        self._instants = sorted(self.plan)
        self.guilds = guilds
        self.country_of_guild = country_of_guild
        self.guild_base = guild_base
        self._next_user = 0
        self.injected = 0
        self._rng = random.Random(seed)

    def next_at(self, after: datetime | None = None) -> datetime | None:
        """The first instant (after ``after``) with reports to write, or None when none is left."""
        if after is None:
            return self._instants[0] if self._instants else None
        k = bisect.bisect_right(self._instants, after)
        return self._instants[k] if k < len(self._instants) else None

    def _user(self) -> tuple[int, int, str | None]:
        """The next reporter: a distinct old account, in one of the servers (and its country)."""
        k = self._next_user
        self._next_user += 1
        return (_ACCOUNTS_FROM_MS + k) << 22, self.guild_base + k % self.guilds, self.country_of_guild(k % self.guilds)

    async def inject(self, when: datetime) -> int:
        """Write the reports planned for the instant ``when`` (stamped at it)."""
        planned = self.plan.get(when)
        if not planned:
            return 0
        n, mix = planned
        problems = _problems(n, mix, self._rng)
        if n < BULK_FROM:
            for problem in problems:
                user_id, guild_id, country = self._user()
                await self.crowd.record(self.service_id, guild_id, user_id, problem, now=when, country=country)
        else:
            await self._bulk(when, problems)
        self.injected += n
        return n

    async def _bulk(self, when: datetime, problems: list[str]) -> None:
        """A busy moment through the crowd service's own bulk path (same rules as ``record``)."""
        reports = []
        for problem in problems:
            user_id, guild_id, country = self._user()
            reports.append((guild_id, user_id, problem, country))
        await self.crowd.record_many(self.service_id, reports, when)


def _spread(plan: dict[datetime, tuple[int, tuple[tuple[str, float], ...]]]) -> dict[datetime, tuple[int, tuple[tuple[str, float], ...]]]:
    """Each minute's reports split into ``SLICES`` parts through the minute (in time order)."""
    step = timedelta(minutes=1) / SLICES
    out: dict[datetime, tuple[int, tuple[tuple[str, float], ...]]] = {}
    for minute, (n, mix) in sorted(plan.items()):
        share, extra = divmod(n, SLICES)
        for k in range(SLICES):
            count = share + (1 if k < extra else 0)
            if count:
                out[minute + k * step] = (count, mix)
    return out


async def seed_history(service_id: str, until: datetime, per_minute: float, *, weeks: int = 3, seed: int = 11) -> int:
    """Ordinary report volume for the ``weeks`` before ``until`` (5-minute bucket totals only:
    raw reports would long have been purged). Returns the number of buckets written."""
    rng = random.Random(seed)
    end = bucket_start(until)
    t = end - timedelta(weeks=weeks)
    lam = per_minute * BUCKET.total_seconds() / 60
    rows: list[dict[str, object]] = []
    while t < end:
        count = poisson(rng, lam)
        if count:
            rows.append({"service_id": service_id, "bucket_start": t, "count": float(count)})
        t += BUCKET
    await insert_many(Tortoise.get_connection("default"), CrowdBucket, ("service_id", "bucket_start", "count"), rows)
    return len(rows)

