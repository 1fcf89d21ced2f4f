"""Crowd reports on storage: record "down for me", count them, compare them with what is usual.

The arithmetic is pure and lives in ``bot.detect.crowd`` and ``bot.detect.baseline``; this
module is the I/O around it:

* ``record`` — one report: the user is kept only as a salted hash (the salt is generated once
  and kept in ``KeyValue``), accounts younger than a day weigh half, and a user's report counts
  once per service per 30 minutes. The raw report and its 5-minute ``CrowdBucket`` count are
  written in one transaction. A repeat is stored with ``counted=False`` (thanked, not counted).
* ``signal`` — the ``CrowdSignal`` the monitor fuses into the verdict. Anti-brigading needs
  per-guild counts, so it reads the raw reports of the last window (aggregated in SQL per
  bucket, guild and problem), never just the bucket totals.
* ``counts`` — reports in the last 30 minutes against the usual, for ``/status``, ``/isitdown``
  and the ``/report`` answer.
* ``purge`` — raw reports go after ``retention`` (7 days), bucket counts after
  ``bucket_retention`` (56 days, the baseline's 8 weeks of memory).

Baselines are cached in memory, relearned at most every ``relearn_every`` from the bucket
history (only the full hours not learned yet) and persisted in ``KeyValue`` with the hour they
are learned up to, so a restart neither forgets them nor learns an hour twice. A service's
history starts at its first bucket: the hours before anyone reported it are not learned as
zeros, which errs on the side of a higher baseline (fewer false alarms). Hours the bot was
stopped have no buckets and are learned as zeros, which the baseline's median absorbs.

The statements themselves are in ``bot.db.crowd``; the answers to ``/report`` and "Works for
me" in ``bot.services.replies``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from tortoise.transactions import in_transaction

from bot.clock import utcnow
from bot.catalog import Catalog, Service
from bot.db.crowd import add_to_bucket, aware, bucket_counts, insert_reports, last_counted, load_or_create_salt, lock_bucket
from bot.db.models import CrowdBucket, CrowdReport, KeyValue, WorksReport
from bot.ops.locks import KeyedLock
from bot.detect.baseline import BUCKET, Baseline, BaselineConfig, bucket_start
from bot.detect.crowd import (
    PROBLEMS,
    RATE_LIMIT_WINDOW,
    Bucket,
    BucketCounts,
    CrowdConfig,
    account_weigher,
    account_weight,
    assess,
    hash_user,
    user_hasher,
    should_count,
    weigh_works,
)
from bot.detect.model import CrowdLevel, CrowdSignal, IncidentEvent
from bot.notify.text import echo
from bot.notify.render.chart import BUCKET as CHART_BUCKET
from bot.notify.render.chart import SPAN as CHART_SPAN
from bot.notify.render.chart import ReportSeries, series_from_buckets, series_span, tells_reports
from bot.services.errors import UserError
from bot.i18n import in_arabic_script
from bot.services.subscriptions import ERR_UNKNOWN_SERVICE

__all__ = [
    "CrowdService",
    "CrowdServiceConfig",
    "PurgeResult",
    "RecordResult",
    "ReportCounts",
    "UnknownService",
]

log = logging.getLogger(__name__)
#: how often purging and baseline relearning run
UPKEEP_EVERY = timedelta(hours=1)
#: how often a process looks for reports other processes stored (several `run` processes)
CATCH_UP_EVERY = timedelta(seconds=5)
#: the overlap of those looks: a reporting process whose clock lags by less is still seen
CATCH_UP_SLACK = timedelta(seconds=30)

BASELINE_PREFIX = "crowd:baseline:"
_KEY_MAX = 64  # KeyValue.key max_length
COUNTS_WINDOW = timedelta(minutes=30)




class UnknownService(LookupError):
    """A report named a service that is not in the catalog."""

    def __init__(self, service_id: str) -> None:
        super().__init__(service_id)
        self.service_id = service_id


@dataclass(frozen=True, slots=True)
class CrowdServiceConfig:
    """Operator settings of the crowd reports (all have sensible defaults)."""

    retention: timedelta = timedelta(days=7)  # raw reports (with user hashes)
    bucket_retention: timedelta = timedelta(days=56)  # 5-minute totals for the baseline
    rate_window: timedelta = RATE_LIMIT_WINDOW  # one counted report per user per service
    relearn_every: timedelta = timedelta(hours=1)
    crowd: CrowdConfig = field(default_factory=CrowdConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)

    def __post_init__(self) -> None:
        if self.retention < self.rate_window:
            raise ValueError("retention must cover the rate-limit window")
        if self.bucket_retention < self.retention:
            raise ValueError("bucket counts must be kept at least as long as raw reports")


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What happened to one report: ``counted`` False means a repeat within the window."""

    counted: bool
    service_id: str
    problem: str
    weight: float
    at: datetime
    #: for a repeat, when this user's next report for the service will count again
    next_count_at: datetime | None = None


class ReportCounts(NamedTuple):
    """Weighted reports in a recent window and the usual number for the same window."""

    recent: int
    usual: float
    window: timedelta = COUNTS_WINDOW


@dataclass(frozen=True, slots=True)
class PurgeResult:
    reports: int
    buckets: int


@dataclass(slots=True)
class _BaselineEntry:
    baseline: Baseline
    learned_until: datetime | None  # hours before this are learned
    checked_at: datetime | None = None  # last relearn attempt (memory only)


def _hour_floor(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def baseline_key(service_id: str) -> str:
    """The ``KeyValue`` key of a service's baseline (hashed when the id would not fit)."""
    key = BASELINE_PREFIX + service_id
    if len(key) <= _KEY_MAX:
        return key
    return BASELINE_PREFIX + "#" + hashlib.sha256(service_id.encode()).hexdigest()[:40]


@dataclass(slots=True)
class _Recent:
    """A service's counted reports in memory, complete from ``since`` on."""

    counts: BucketCounts
    since: datetime


@dataclass(slots=True)
class _Counted:
    """When each user last had a report of a service counted, complete after ``since``, oldest
    first (a re-count moves the user to the end)."""

    last: dict[str, datetime]
    since: datetime


class CrowdService:
    """Crowd reports for every catalog service: record, signal, counts, purge."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        clock: Callable[[], datetime] = utcnow,
        config: CrowdServiceConfig | None = None,
        salt: bytes | None = None,
    ) -> None:
        self.catalog = catalog
        self.clock = clock
        self.config = config or CrowdServiceConfig()
        self._salt = salt
        self._salt_lock = asyncio.Lock()
        self._baselines: dict[str, _BaselineEntry] = {}
        self._relearning = KeyedLock()  # one relearning of a service's baseline at a time
        self._previous: dict[str, tuple[datetime, CrowdSignal]] = {}
        #: the counted reports of the crowd window and its lookback, per service, kept in memory
        #: (read once from the database, then grown by ``record``): a signal per poll costs no
        #: database round trip. One detecting process sees the reports it records itself.
        self._recent: dict[str, _Recent] = {}
        #: "works for me" answers of the crowd window per service, (when, user) — read once from
        #: the database, then grown by ``works_for_me``
        self._works: dict[str, list[tuple[datetime, str]]] = {}
        #: when ``catch_up`` last looked for what other processes stored
        self._caught_up_at: datetime | None = None
        #: on SQLite (this process is the only writer): who had a report counted within the rate
        #: window, per service — read once, then kept by ``record``/``record_many``
        self._counted: dict[str, _Counted] = {}

    # --- the salt ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load (or create, on the very first start) the salt; call once after ``init_db``."""
        await self._salt_bytes()

    async def _salt_bytes(self) -> bytes:
        if self._salt is not None:
            return self._salt
        async with self._salt_lock:
            if self._salt is None:
                self._salt = await load_or_create_salt()
        return self._salt

    def user_hash(self, user_id: int) -> str:
        """The stored pseudonym of ``user_id`` (after ``start``)."""
        if self._salt is None:
            raise RuntimeError("CrowdService.start() has not loaded the salt yet")
        return hash_user(user_id, self._salt)

    # --- reporting -----------------------------------------------------------------------------

    def resolve(self, query: str) -> Service:
        """The catalog service a user typed (id, name or alias, either script); raises
        ``UserError`` (answered in Arabic when typed in Arabic script)."""
        text = query.strip()
        service = self.catalog.resolve(text) if text else None
        if service is None:
            raise UserError(ERR_UNKNOWN_SERVICE, query=echo(text), _lang="ar" if in_arabic_script(text) else None)
        return service

    async def report(
        self, service_id: str, guild_id: int | None, user_id: int, problem: str = "other", now: datetime | None = None,
        *, country: str | None = None,
    ) -> tuple[RecordResult, ReportCounts]:
        """``record`` then ``counts``: what the ``/report`` answer and the button need.
        Raises ``UserError`` for a service that left the catalog."""
        now = now or self.clock()
        try:
            result = await self.record(service_id, guild_id, user_id, problem, now, country=country)
        except UnknownService:
            raise UserError(ERR_UNKNOWN_SERVICE, query=echo(service_id)) from None
        return result, await self.counts(service_id, now)

    async def record(
        self,
        service_id: str,
        guild_id: int | None,
        user_id: int,
        problem: str = "other",
        now: datetime | None = None,
        *,
        country: str | None = None,
    ) -> RecordResult:
        """Store one report (from a guild in ``country``, when it has one); it counts unless
        this user had one counted for the service within ``rate_window``. Raises
        ``UnknownService`` and ``ValueError`` (bad problem)."""
        if self.catalog.get(service_id) is None:
            raise UnknownService(service_id)
        if problem not in PROBLEMS:
            raise ValueError(f"unknown problem category: {problem!r}")
        now = now or self.clock()
        user_hash = hash_user(user_id, await self._salt_bytes())
        weight = account_weight(user_id, now)
        start = bucket_start(now)
        try:
            async with in_transaction() as conn:
                # Locking the bucket row serializes reports of one service in one bucket, so two
                # quick clicks of one user cannot both count.
                await lock_bucket(conn, service_id, start)
                last_at = (await self._last_counted(conn, service_id, {user_hash}, now)).get(user_hash)
                counted = should_count(last_at, now, self.config.rate_window)
                await CrowdReport.create(
                    service_id=service_id,
                    guild_id=guild_id,
                    user_hash=user_hash,
                    problem=problem,
                    weight=weight,
                    counted=counted,
                    at=now,
                    country=country,
                    using_db=conn,
                )
                if counted:
                    await add_to_bucket(conn, service_id, start, weight)
                    self._note_counted(service_id, [user_hash], now)
        except BaseException:
            self._counted.pop(service_id, None)  # what memory noted may not have been stored
            raise
        if counted:
            self._remember(service_id, [(guild_id, user_hash, problem, weight, country)], now)
        next_at = None if counted or last_at is None else last_at + self.config.rate_window
        return RecordResult(counted, service_id, problem, weight, now, next_at)

    async def record_many(
        self, service_id: str, reports: Sequence[tuple[int | None, int, str, str | None]], now: datetime
    ) -> int:
        """Store many reports of one instant at once — ``(guild_id, user_id, problem, country)`` each —
        with ``record``'s rules (one counted report per user within ``rate_window``, account
        weights, the 5-minute bucket) in one transaction and one bulk insert: for a burst of
        thousands a minute, where a transaction per report would not keep up. Returns how many
        counted. Raises ``UnknownService`` and ``ValueError`` (bad problem)."""
        if self.catalog.get(service_id) is None:
            raise UnknownService(service_id)
        if any(problem not in PROBLEMS for _, _, problem, _ in reports):
            raise ValueError("unknown problem category in a batch of reports")
        salt = await self._salt_bytes()
        start = bucket_start(now)
        rows: list[dict[str, object]] = []
        added: list[tuple[int | None, str, str, float, str | None]] = []
        try:
            async with in_transaction() as conn:
                await lock_bucket(conn, service_id, start)  # (as in ``record``)
                pseudonym = user_hasher(salt)
                hashes = [pseudonym(user_id) for _, user_id, _, _ in reports]
                seen = set(await self._last_counted(conn, service_id, set(hashes), now))
                weigh = account_weigher(now)
                for (guild_id, user_id, problem, country), user_hash in zip(reports, hashes):
                    counted = user_hash not in seen
                    seen.add(user_hash)
                    weight = weigh(user_id)
                    rows.append({"service_id": service_id, "guild_id": guild_id, "user_hash": user_hash, "problem": problem,
                                 "weight": weight, "counted": counted, "at": now, "country": country})  # fmt: skip
                    if counted:
                        added.append((guild_id, user_hash, problem, weight, country))
                await insert_reports(conn, rows)
                total = sum(weight for _, _, _, weight, _ in added)
                if total:
                    await add_to_bucket(conn, service_id, start, total)
                self._note_counted(service_id, [user_hash for _, user_hash, _, _, _ in added], now)
        except BaseException:
            self._counted.pop(service_id, None)  # what memory noted may not have been stored
            raise
        self._remember(service_id, added, now)
        return len(added)

    def _remember(self, service_id: str, counted: Sequence[tuple[int | None, str, str, float, str | None]], at: datetime) -> None:
        """Counted reports, once stored, join the in-memory window (when it is loaded)."""
        recent = self._recent.get(service_id)
        if recent is None or not counted:
            return
        start = bucket_start(at)  # (one instant: one bucket for the whole batch)
        bucket = recent.counts.buckets.get(start)
        if bucket is None:
            bucket = recent.counts.buckets[start] = Bucket()
        for guild_id, _user_hash, problem, weight, country in counted:
            bucket.add(int(guild_id or 0), problem, weight, country)

    async def _last_counted(self, conn: Any, service_id: str, user_hashes: set[str], now: datetime) -> dict[str, datetime]:
        """When each of ``user_hashes`` last had a report counted within the rate window before
        ``now`` (absent: not within it). On PostgreSQL other processes may have counted one: the
        database is asked. On SQLite this process is the only writer, so the window is read
        once per service and then kept in memory — a burst of reports costs no query per
        batch (the query was a sixth of ``record_many``'s database time)."""
        since = now - self.config.rate_window
        if conn.capabilities.dialect != "sqlite":
            return await last_counted(conn, service_id, user_hashes, since)
        window = self._counted.get(service_id)
        if window is None or window.since > since:
            window = self._counted[service_id] = _Counted(await last_counted(conn, service_id, None, since), since)
        else:
            stale = []
            for user_hash, at in window.last.items():  # (oldest first: stop at the first recent one)
                if at > since:
                    break
                stale.append(user_hash)
            for user_hash in stale:
                del window.last[user_hash]
            window.since = since
        return {h: last for h in user_hashes if (last := window.last.get(h)) is not None and last > since}

    def _forget_quiet_windows(self, now: datetime) -> None:
        """Drop the kept rate windows in which nobody counts any more (their newest report is
        older than the window): a burst's users would otherwise stay in memory until the
        service's next report. A later report reads the window again (one query)."""
        since = now - self.config.rate_window
        for service_id in [sid for sid, w in self._counted.items() if not w.last or next(reversed(w.last.values())) <= since]:
            del self._counted[service_id]

    def _note_counted(self, service_id: str, user_hashes: Sequence[str], at: datetime) -> None:
        """Counted reports join the kept window (SQLite; while the transaction writes them: a
        failure forgets the window)."""
        window = self._counted.get(service_id)
        if window is None:
            return
        for user_hash in user_hashes:
            window.last.pop(user_hash, None)  # (to the end: the order stays oldest first)
            window.last[user_hash] = at

    # --- start-up ------------------------------------------------------------------------------

    async def preload(self, now: datetime | None = None) -> None:
        """Read every service's crowd window, "works" answers and baseline in four bulk queries,
        so the first poll of each service (and the first relearning) costs no query of its own:
        a catalog of 20,000 services would otherwise cost some 80,000 small queries in its first
        interval. A service that never had a report has nothing to relearn."""
        now = now or self.clock()
        cfg = self.config.crowd
        horizon = bucket_start(now) - cfg.window_buckets * BUCKET - cfg.lookback
        recent: dict[str, BucketCounts] = {}
        rows = await CrowdReport.filter(counted=True, at__gte=horizon, at__lte=now).values_list(
            "service_id", "guild_id", "problem", "weight", "at", "country")
        for service_id, guild_id, problem, weight, at, country in rows:
            if weight:
                counts = recent.setdefault(str(service_id), BucketCounts())
                counts.buckets.setdefault(bucket_start(aware(at)), Bucket()).add(
                    int(guild_id or 0), problem, float(weight), country)
        since = now - cfg.window_buckets * BUCKET
        works: dict[str, list[tuple[datetime, str]]] = {}
        for service_id, at, who in await WorksReport.filter(at__gt=since).values_list("service_id", "at", "user_hash"):
            works.setdefault(str(service_id), []).append((aware(at), str(who)))
        stored = {str(row.key): row.value for row in await KeyValue.filter(key__startswith=BASELINE_PREFIX)}
        bucketed = set(await CrowdBucket.all().distinct().values_list("service_id", flat=True))
        for i, service in enumerate(self.catalog):
            if i % 500 == 0:
                await asyncio.sleep(0)  # thousands of services: the loop goes on meanwhile
            sid = service.id
            self._recent.setdefault(sid, _Recent(recent.get(sid, BucketCounts()), horizon))
            self._works.setdefault(sid, works.get(sid, []))
            if sid not in self._baselines:
                entry = self._baseline_entry(sid, stored.get(baseline_key(sid)))
                if sid not in bucketed:
                    entry.checked_at = now  # never reported: nothing to learn until it is
                self._baselines[sid] = entry

    # --- several processes -----------------------------------------------------------------

    async def catch_up(self, now: datetime | None = None) -> set[str]:
        """What other ``run`` processes stored (a ``/report`` or "works for me" taken by another
        shard's process): the services with a report or answer stored since the last look are
        read again from the database at their next signal. Two small queries; ``follow_others``
        runs it every few seconds. ``CATCH_UP_SLACK`` of overlap covers a reporting process whose
        clock lags (re-reading a service twice costs one query; missing a report costs an alert)."""
        now = now or self.clock()
        since = (self._caught_up_at or now) - CATCH_UP_SLACK
        self._caught_up_at = now
        reports = set(await CrowdReport.filter(at__gt=since).distinct().values_list("service_id", flat=True))
        works = set(await WorksReport.filter(at__gt=since).distinct().values_list("service_id", flat=True))
        for service_id in reports:
            self._recent.pop(str(service_id), None)
        for service_id in works:
            self._works.pop(str(service_id), None)
        return {str(s) for s in reports | works}

    async def follow_others(self, stop: asyncio.Event, every: timedelta = CATCH_UP_EVERY) -> None:
        """``catch_up`` every ``every`` until ``stop`` (several processes on one database)."""
        while not stop.is_set():
            try:
                await self.catch_up()
            except Exception:  # noqa: BLE001 - the database is away: next time
                log.exception("could not read the reports other processes stored")
            try:
                await asyncio.wait_for(stop.wait(), every.total_seconds())
            except asyncio.TimeoutError:
                pass

    # --- reading -------------------------------------------------------------------------------

    async def signal(self, service_id: str, now: datetime | None = None) -> CrowdSignal | None:
        """The crowd signal of ``service_id`` at ``now`` (None for a service not in the catalog).

        ``since`` carries over from the last signal when that one is recent; after a restart
        (or a long pause) the history of the lookback period is read to find the onset.
        """
        if self.catalog.get(service_id) is None:
            return None
        now = now or self.clock()
        cfg = self.config.crowd
        baseline = await self.baseline(service_id, now)
        counts = await self._recent_counts(service_id, now)
        previous = self._fresh_previous(service_id, now)
        if previous is None:
            quiet = CrowdSignal(level=CrowdLevel.NONE, recent=0, usual=0.0)
            sig = assess(counts, baseline, now, cfg, previous=quiet)
            if sig.level is not CrowdLevel.NONE:  # find the onset in the history
                sig = assess(counts, baseline, now, cfg, previous=None)
        else:
            sig = assess(counts, baseline, now, cfg, previous=previous)
        self._previous[service_id] = (now, sig)  # the hysteresis runs on the reports alone
        return weigh_works(sig, await self._works_in_window(service_id, now))

    # --- "works for me" ------------------------------------------------------------------------

    async def works_for_me(self, service_id: str, guild_id: int | None, user_id: int, now: datetime | None = None) -> bool:
        """Record that the service works for this user; False when they already said so in
        the crowd window (one answer per user counts). Raises ``UserError`` for a service that
        left the catalog."""
        if self.catalog.get(service_id) is None:
            raise UserError(ERR_UNKNOWN_SERVICE, query=echo(service_id))
        now = now or self.clock()
        user_hash = hash_user(user_id, await self._salt_bytes())
        answers = await self._works_answers(service_id, now)
        if any(who == user_hash for _, who in answers):
            return False
        await WorksReport.create(service_id=service_id, guild_id=guild_id, user_hash=user_hash, at=now)
        answers.append((now, user_hash))
        return True

    async def _works_answers(self, service_id: str, now: datetime) -> list[tuple[datetime, str]]:
        """The service's answers within the crowd window before ``now`` (one query the first time)."""
        since = now - self.config.crowd.window_buckets * BUCKET
        answers = self._works.get(service_id)
        if answers is None:
            rows = await WorksReport.filter(service_id=service_id, at__gt=since).values_list("at", "user_hash")
            answers = self._works[service_id] = [(aware(at), who) for at, who in rows]  # type: ignore[misc]
        if answers and any(at <= since for at, _ in answers):  # (most services have none: no new list per poll)
            answers[:] = [(at, who) for at, who in answers if at > since]
        return answers

    async def _works_in_window(self, service_id: str, now: datetime) -> int:
        return sum(1 for at, _ in await self._works_answers(service_id, now) if at <= now)

    async def _recent_counts(self, service_id: str, now: datetime) -> BucketCounts:
        """The counted reports from the lookback before the crowd window up to ``now``, per
        bucket: read from the database the first time (one query), from memory after."""
        cfg = self.config.crowd
        horizon = bucket_start(now) - cfg.window_buckets * BUCKET - cfg.lookback
        recent = self._recent.get(service_id)
        if recent is None or recent.since > horizon:
            recent = self._recent[service_id] = _Recent(await bucket_counts(service_id, horizon, now), horizon)
        elif recent.since < horizon:  # forget what fell out of the lookback
            for start in [t for t in recent.counts.buckets if t < horizon]:
                del recent.counts.buckets[start]
            recent.since = horizon
        return recent.counts

    def _fresh_previous(self, service_id: str, now: datetime) -> CrowdSignal | None:
        """The last signal if it was assessed shortly before ``now`` (else its ``since`` may
        span a quiet period nobody looked at)."""
        entry = self._previous.get(service_id)
        if entry is None:
            return None
        at, sig = entry
        if timedelta(0) <= now - at <= 2 * BUCKET:
            return sig
        return None

    async def counts(
        self, service_id: str, now: datetime | None = None, window: timedelta = COUNTS_WINDOW
    ) -> ReportCounts:
        """Counted reports in ``(now - window, now]`` and the usual number for it.

        These are plain report counts for people to read: every counted report is one (a young
        account's half weight and the anti-brigading cap are detection matters, applied by
        ``signal``), so a user never sees "0 reports" right after reporting. Raises
        ``UnknownService``.
        """
        if self.catalog.get(service_id) is None:
            raise UnknownService(service_id)
        now = now or self.clock()
        baseline = await self.baseline(service_id, now)
        recent = await CrowdReport.filter(
            service_id=service_id, counted=True, at__gt=now - window, at__lte=now
        ).count()
        return ReportCounts(recent, baseline.expected_between(now - window, now), window)

    async def series(
        self,
        service_id: str,
        now: datetime | None = None,
        *,
        incident: tuple[datetime, datetime | None] | None = None,
        peak: int | None = None,
        peak_at: datetime | None = None,
    ) -> ReportSeries:
        """The last 24 hours of reports for ``report_chart``, with the usual level the detector
        uses: one query over the 5-minute buckets. Raises ``UnknownService``."""
        if self.catalog.get(service_id) is None:
            raise UnknownService(service_id)
        now = now or self.clock()
        baseline = await self.baseline(service_id, now)
        rows = await CrowdBucket.filter(
            service_id=service_id, bucket_start__gte=now - CHART_SPAN - CHART_BUCKET, bucket_start__lte=now
        ).values_list("bucket_start", "count")
        buckets = {aware(at): count for at, count in rows}
        return series_from_buckets(buckets, baseline.expected_between, now, incident=incident, peak=peak, peak_at=peak_at)

    async def event_series(self, event: IncidentEvent, now: datetime) -> ReportSeries | None:
        """The chart a message about ``event`` carries (None when reports are not part of its
        story): the last 24 hours, the incident shaded, its peak as the detector counted it."""
        if not tells_reports(event) or self.catalog.get(event.service_id) is None:
            return None
        return await self.series(
            event.service_id, now, incident=series_span(event), peak=event.report_peak, peak_at=event.report_peak_at
        )

    # --- baselines -----------------------------------------------------------------------------

    async def baseline(self, service_id: str, now: datetime | None = None) -> Baseline:
        """The service's baseline, relearned from new full hours at most every ``relearn_every``."""
        now = now or self.clock()
        entry = self._baselines.get(service_id)
        if entry is None:
            entry = self._baselines.setdefault(service_id, await self._load_baseline(service_id))
        if entry.checked_at is None or not timedelta(0) <= now - entry.checked_at < self.config.relearn_every:
            async with self._relearning.hold(service_id):
                if entry.checked_at is None or not timedelta(0) <= now - entry.checked_at < self.config.relearn_every:
                    await self._relearn(service_id, entry, now)
        return entry.baseline

    async def relearn_all(self, now: datetime | None = None) -> None:
        """Bring every catalog service's baseline up to date (periodic maintenance)."""
        now = now or self.clock()
        for i, service in enumerate(list(self.catalog)):
            if i % 500 == 0:
                await asyncio.sleep(0)
            await self.baseline(service.id, now)

    async def _load_baseline(self, service_id: str) -> _BaselineEntry:
        row = await KeyValue.get_or_none(key=baseline_key(service_id))
        return self._baseline_entry(service_id, row.value if row is not None else None)

    def _baseline_entry(self, service_id: str, value: Any) -> _BaselineEntry:
        """A stored baseline (``KeyValue`` value) read back; unreadable or absent: empty."""
        if isinstance(value, dict) and value.get("service_id") == service_id:
            try:
                baseline = Baseline.from_dict(value["baseline"], self.config.baseline)
                until = value.get("learned_until")
                return _BaselineEntry(baseline, datetime.fromisoformat(until) if until else None)
            except (KeyError, TypeError, ValueError):
                log.warning("stored crowd baseline of %s is unreadable; relearning it", service_id)
        return _BaselineEntry(Baseline(config=self.config.baseline), None)

    async def _relearn(self, service_id: str, entry: _BaselineEntry, now: datetime) -> None:
        end = _hour_floor(now)  # only full hours
        start = entry.learned_until
        if start is None:
            first = await CrowdBucket.filter(service_id=service_id).order_by("bucket_start").first()
            start = _hour_floor(first.bucket_start) if first is not None else None
        if start is not None:
            start = max(start, end - self.config.bucket_retention)
        if start is not None and start < end:
            rows = await (
                CrowdBucket.filter(service_id=service_id, bucket_start__gte=start, bucket_start__lt=end)
                .values_list("bucket_start", "count")
            )
            entry.baseline.learn({at: float(count) for at, count in rows}, start, end)
            entry.learned_until = end
            await KeyValue.update_or_create(
                key=baseline_key(service_id),
                defaults={
                    "value": {
                        "service_id": service_id,
                        "learned_until": end.isoformat(),
                        "baseline": entry.baseline.to_dict(),
                    }
                },
            )
        entry.checked_at = now

    # --- retention -----------------------------------------------------------------------------

    async def purge(self, now: datetime | None = None) -> PurgeResult:
        """Delete raw reports older than ``retention`` and bucket counts older than
        ``bucket_retention``; forget the kept rate windows gone quiet."""
        now = now or self.clock()
        self._forget_quiet_windows(now)
        reports = await CrowdReport.filter(at__lt=now - self.config.retention).delete()
        await WorksReport.filter(at__lt=now - self.config.retention).delete()
        buckets = await CrowdBucket.filter(bucket_start__lt=now - self.config.bucket_retention).delete()
        if reports or buckets:
            log.info("purged %d crowd reports and %d bucket counts", reports, buckets)
        return PurgeResult(reports, buckets)

    async def maintain(self, now: datetime | None = None) -> PurgeResult:
        """Periodic upkeep: purge, then relearn every baseline."""
        now = now or self.clock()
        result = await self.purge(now)
        await self.relearn_all(now)
        return result

    async def run_upkeep(
        self, stop: asyncio.Event, every: timedelta = UPKEEP_EVERY, *, gate: Callable[[], bool] | None = None
    ) -> None:
        """``maintain`` now and every ``every`` until ``stop``; a failure is logged and tried
        again next time (a bare ``tasks.loop`` would stop for good). With ``gate``, only while
        it says yes (the elected poller, when several processes run)."""
        while not stop.is_set():
            try:
                if gate is None or gate():
                    await self.maintain(self.clock())
            except Exception:  # noqa: BLE001 - upkeep must outlive one bad run
                log.exception("crowd upkeep failed; retrying in %s", every)
            try:
                await asyncio.wait_for(stop.wait(), every.total_seconds())
            except asyncio.TimeoutError:
                pass
