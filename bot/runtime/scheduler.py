"""Which source is polled when: intervals with stable jitter, fast re-checks, backoff, leases.

Why it looks like this:

* **Isolation.** Every poll runs in its own ``try``: a source kind that raises (they should
  not) becomes an ``unknown`` observation with an ``exception`` error, and one source can
  never stop the others. No ``discord.ext.tasks`` (a loop that ends for good on most
  exceptions).
* **Testable time.** Time comes from an injected ``bot.clock.Clock`` (``now()``, ``sleep_until()``).
  ``run_due(now)`` polls everything due at ``now`` and returns when those polls are done:
  tests drive it with a ``ManualClock``, ``simulate`` with its ``VirtualClock``; neither
  sleeps. ``run()`` is the production loop around the same steps.
* **Schedule.** A source's first poll is offset by ``bot.net.jitter(interval, key)`` so
  sources sharing an interval spread over it, deterministically (same slot after a restart).
  Then every ``interval`` (the source's own or ``POLL_INTERVAL``), keeping its phase.
  A probe that fails is re-checked every 10 s up to 3 times (``bot.detect.confirm``), so a
  probe-only outage is confirmed in about 20 s. A source whose readings keep *erroring*
  (unknown status with an error: an unreadable page, a probe that could not tell) backs off
  exponentially — 1×, 2×, 4× … its interval, capped at ``max_backoff``× — to stop hammering
  a broken endpoint. A probe that *fails* (timeout, 5xx → an outage status) is evidence, not
  an error: it is re-checked faster, never backed off.
* **Vantage.** Canary targets (``CANARY_TARGETS``: http(s) URLs, ``dns://name``,
  ``host:port``) are checked on the same interval and, whenever a probe is in a confirmation
  burst, again before that re-check, so a network outage on our side makes probes blind
  (``Monitor.ingest_canaries``) before enough failing rounds could open an incident.
  Canaries live in memory only: blindness is a property of this process's network.
* **Ownership.** ``SourceState`` rows hold ``next_due`` and a lease (``owner``,
  ``lease_until``). A round claims due, unleased rows in a transaction and leases them; on
  PostgreSQL the claim uses ``SELECT … FOR UPDATE SKIP LOCKED``, so several worker processes
  share the sources and never poll one twice. SQLite has no row locks (``select_for_update``
  is a no-op there): run a single scheduler process per SQLite file (``sync`` then clears
  leases a crashed predecessor left; on PostgreSQL they expire after ``lease``).
* **The database going away.** A round that cannot reach the database is retried after
  ``idle`` seconds. A poll whose result cannot be written leaves its lease behind; the process
  takes its own leases back at once (only polls in flight are excluded), so a source whose
  outage began while the database was away is polled — and alerted — at its next due time
  after the database returns, not when the lease runs out.
* **Writes in batches.** A finished poll's bookkeeping (next due time, errors, lease released,
  the reading when it changed) waits in memory and is written with the others in one
  ``executemany`` (``flush``): at the start of every round, or ``round_gap`` after a poll that
  ends while the loop sleeps. One ORM UPDATE per poll was a quarter of the process's busy
  time at 20,000 sources.
* **Bounded concurrency.** A semaphore (200 by default) caps polls in flight.
* **Few rounds.** A round (one claim transaction, one ``next_due`` query) runs at the next due
  time but at least ``round_gap`` (0.25 s) after the last, so sources falling due together are
  claimed in one transaction; a finished poll wakes the loop only when its re-check is due
  before the round already planned (waking on every poll made a claim transaction per poll).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise import Tortoise

from bot.catalog import Catalog
from bot.clock import Clock, SystemClock
from bot.db.batch import update_many
from bot.db.schedule import claim_due, earliest_due
from bot.db.models import SourceState, Subscription
from bot.detect.confirm import ConfirmConfig, count_failures, next_check
from bot.detect.upstream import ALL
from bot.detect.vantage import canary_spec
from bot.runtime.monitor import Monitor
from bot.net.client import jitter
from bot.sources.base import Fetcher, Observation, PollContext, SourceError, SourceKind, SourceRole, SourceSpec, get_kind
from bot.status import Status

try:  # metrics are optional
    from bot.ops import metrics as _metrics
except ImportError:  # pragma: no cover
    _metrics = None  # type: ignore[assignment]

log = logging.getLogger("bot.runtime.scheduler")

PollHook = Callable[[str, bool], None]
#: long loops over every source yield to the event loop this often (start-up never stalls it)
YIELD_EVERY = 500


def default_owner() -> str:
    """This process's name in ``SourceState.owner`` (host, pid and a random tail)."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    poll_interval: float = 60.0
    #: the probes of services someone subscribed to are polled this often (None: like the rest)
    probe_interval: float | None = None
    #: how often the subscribed services are read again (one query)
    watch_every: timedelta = timedelta(minutes=1)
    canary_targets: tuple[str, ...] = ()
    concurrency: int = 200
    max_backoff: float = 10.0  # × the interval
    lease: timedelta = timedelta(minutes=2)  # longer than any poll's timeout
    owner: str = field(default_factory=default_owner)
    claim_batch: int = 500
    recheck_every: timedelta = timedelta(seconds=10)
    max_rechecks: int = 3
    idle: float = 5.0  # ``run()`` looks at the database at least this often (seconds)
    #: at least this long between two rounds (seconds): sources falling due meanwhile are
    #: claimed together, one transaction for many, not one per source
    round_gap: float = 0.25

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> SchedulerConfig:
        """From ``bot.settings.Settings`` (POLL_INTERVAL, CANARY_TARGETS)."""
        values: dict[str, Any] = {
            "poll_interval": float(settings.poll_interval),
            "probe_interval": float(settings.probe_interval),
            "canary_targets": tuple(settings.canary_targets),
        }
        values.update(overrides)
        return cls(**values)


@dataclass(slots=True)
class Slot:
    """One catalog source as the scheduler knows it."""

    key: str  # "<service_id>:<index in the catalog>"
    service_id: str
    spec: SourceSpec
    kind: type[SourceKind]
    interval: float
    previous: Observation | None = None
    failures: int = 0  # consecutive failed probe readings (fast confirmation)

    @property
    def is_probe(self) -> bool:
        return self.kind.role is SourceRole.PROBE


def is_source_error(obs: Observation) -> bool:
    """The reading says nothing about the service (unreadable page, probe could not tell)."""
    return obs.error is not None and obs.status is Status.UNKNOWN


def backoff_delay(interval: float, errors: int, cap: float) -> float:
    """Seconds until the next poll after ``errors`` consecutive erroring readings."""
    if errors <= 0:
        return interval
    return min(interval * 2 ** (errors - 1), interval * cap)


class Scheduler:
    """Polls the catalog's sources into a ``Monitor`` (see the module docstring)."""

    def __init__(
        self,
        catalog: Catalog,
        monitor: Monitor,
        fetcher: Fetcher,
        config: SchedulerConfig = SchedulerConfig(),
        clock: Clock | None = None,
        *,
        on_poll: PollHook | None = None,
        gate: Callable[[], bool] | None = None,
    ) -> None:
        self.catalog = catalog
        #: may this process poll now? (``Leadership.leading`` when several processes run)
        self.gate = gate
        self.monitor = monitor
        self.fetcher = fetcher
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.on_poll = on_poll
        self.stats: Counter[str] = Counter()
        self.confirm = ConfirmConfig(
            recheck_every=config.recheck_every,
            max_rechecks=config.max_rechecks,
            interval=timedelta(seconds=config.poll_interval),
        )
        self._slots: dict[str, Slot] = {}
        self._canaries = {t: canary_spec(t) for t in config.canary_targets}
        self._canary_due: datetime | None = None
        self._canary_at: datetime | None = None
        self._semaphore = asyncio.Semaphore(config.concurrency)
        #: sources whose poll result could not be written: leased by us, not in flight
        self._orphaned: set[str] = set()
        #: finished polls' bookkeeping (next due, errors, lease released, the reading when it
        #: changed) not yet written: one ``executemany`` for all of them, not an UPDATE each
        self._pending: dict[str, dict[str, Any]] = {}
        self._flush_lock = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._synced = False
        #: when the sleeping ``run()`` will look again (None while a round runs): a finished
        #: poll wakes it only for a re-check due sooner than that
        self._next_round: datetime | None = None
        #: services with an enabled subscription (``all`` among them: every one), read at
        #: ``sync`` and every ``watch_every``; their probes are polled at ``probe_interval``
        self._watched: frozenset[str] = frozenset()
        self._watched_at: datetime | None = None

    @property
    def synced(self) -> bool:
        """The slots are built and agree with the database (``sync`` ran)."""
        return self._synced

    @property
    def slots(self) -> dict[str, Slot]:
        return dict(self._slots)

    def _interval(self, service_id: str, spec: SourceSpec, kind: type[SourceKind]) -> float:
        """A source's own interval, else PROBE_INTERVAL for a probe of a service someone
        follows (an outage only our probes see is then alerted within about 45 s whatever
        its phase: one interval plus the three 10-second re-checks), else POLL_INTERVAL.
        Official pages keep POLL_INTERVAL: polite to the providers' pages."""
        if spec.interval:
            return float(spec.interval)
        probe_interval = self.config.probe_interval
        if probe_interval and kind.role is SourceRole.PROBE and (ALL in self._watched or service_id in self._watched):
            return min(probe_interval, self.config.poll_interval)
        return self.config.poll_interval

    async def _read_watched(self) -> frozenset[str]:
        """The services someone follows (one query), as the catalog's own id strings: at
        100,000 subscriptions a fresh copy of every id would stay in memory for nothing."""
        rows = await Subscription.filter(enabled=True).distinct().values_list("service_id", flat=True)
        ids = (str(r) for r in rows)
        return frozenset(service.id if (service := self.catalog.get(sid)) is not None else sid for sid in ids)

    async def refresh_watched(self, now: datetime) -> None:
        """Read which services are followed (one query) and give their probe slots the
        interval that goes with it; a slot that becomes faster is due no later than one new
        interval from now."""
        if self.config.probe_interval is None:
            return
        self._watched_at = now
        watched = await self._read_watched()
        if watched == self._watched:
            return
        self._watched = watched
        sooner: dict[str, datetime] = {}
        for slot in self._slots.values():
            interval = self._interval(slot.service_id, slot.spec, slot.kind)
            if interval < slot.interval:
                sooner[slot.key] = now + timedelta(seconds=jitter(interval, slot.key))
            slot.interval = interval
        for key, due in sooner.items():
            await SourceState.filter(key=key, next_due__gt=due).update(next_due=due)
        if sooner:
            self._wake.set()

    # -- set-up ------------------------------------------------------------------------

    async def take_over(self) -> None:
        """This process was just elected the poller: every source lease left in the database is
        a predecessor's (only the poller polls), so they are cleared and the slots rebuilt from
        the rows it wrote; the next round polls whatever is due."""
        await SourceState.exclude(owner=None).update(owner=None, lease_until=None)
        self._synced = False
        self._wake.set()

    def _may_poll(self) -> bool:
        return self.gate is None or self.gate()

    async def sync(self, now: datetime) -> None:
        """Build the slots from the catalog and make their ``SourceState`` rows agree: new
        sources get a row due at ``now + jitter``; rows of sources no longer in the catalog
        are deleted; a row whose kind changed forgets its last observation."""
        if self.config.probe_interval is not None:
            self._watched_at = now
            self._watched = await self._read_watched()
        slots: dict[str, Slot] = {}
        for n, service in enumerate(self.catalog.services):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            for index, spec in enumerate(service.sources):
                try:
                    kind = get_kind(spec.kind)
                except KeyError as exc:
                    log.error("skipping source %s:%d: %s", service.id, index, exc)
                    continue
                key = service.source_key(index)
                slots[key] = Slot(key, service.id, spec, kind, self._interval(service.id, spec, kind))
        rows = {row.key: row for row in await SourceState.all()}
        new_rows = []
        for i, (key, slot) in enumerate(slots.items()):
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # thousands of sources: let the gateway and commands run
            row = rows.get(key)
            if row is None:
                due = now + timedelta(seconds=jitter(slot.interval, key))
                new_rows.append(SourceState(key=key, service_id=slot.service_id, kind=slot.spec.kind, next_due=due))
            elif row.kind != slot.spec.kind or row.service_id != slot.service_id:
                await SourceState.filter(key=key).update(
                    kind=slot.spec.kind, service_id=slot.service_id, last_observation=None, consecutive_errors=0
                )
            elif row.last_observation:
                try:
                    slot.previous = Observation.from_dict(row.last_observation)
                except (KeyError, TypeError, ValueError):
                    slot.previous = None
        if new_rows:
            await SourceState.bulk_create(new_rows, ignore_conflicts=True, batch_size=500)
        if single_owner():  # leases left by a crashed predecessor would delay the first polls
            await SourceState.exclude(owner=None).update(owner=None, lease_until=None)
        gone = [key for key in rows if key not in slots]
        if gone:
            await SourceState.filter(key__in=gone).delete()
        self._slots = slots
        if self._canary_due is None:
            self._canary_due = now
        self._synced = True

    # -- services added and removed at run time (status pages typed by users) -----------

    async def service_added(self, service: Any) -> None:
        """Start polling a service added after ``sync`` (``bot.services.custom``): its slots
        join the set and its ``SourceState`` rows are due at once, so the page is read at the
        next round. The catalog already holds it, so a later ``sync`` keeps it."""
        now = self.clock.now()
        for index, spec in enumerate(service.sources):
            try:
                kind = get_kind(spec.kind)
            except KeyError as exc:
                log.error("skipping source %s:%d: %s", service.id, index, exc)
                continue
            key = service.source_key(index)
            self._slots[key] = Slot(key, service.id, spec, kind, self._interval(service.id, spec, kind))
            await SourceState.bulk_create(
                [SourceState(key=key, service_id=service.id, kind=spec.kind, next_due=now)], ignore_conflicts=True
            )
        self._wake.set()

    async def service_removed(self, service_id: str) -> None:
        """Stop polling a service no subscription uses any more and forget its rows."""
        for key in [k for k, slot in self._slots.items() if slot.service_id == service_id]:
            del self._slots[key]
        await SourceState.filter(service_id=service_id).delete()

    # -- one round -----------------------------------------------------------------------

    async def run_due(self, now: datetime) -> int:
        """Poll every source due at ``now`` (canaries first when due) and wait for them;
        returns the number of sources polled (canaries not counted)."""
        if not self._synced:
            await self.sync(now)
        await self._maybe_refresh_watched(now)
        claimed = await self._claim(now)
        await self._maybe_canaries(now, claimed)
        await asyncio.gather(*(self._poll_guarded(slot, errors, due, now) for slot, errors, due in claimed))
        await self.flush()
        return len(claimed)

    # -- writing what the polls found -----------------------------------------------------

    async def flush(self) -> None:
        """Write every finished poll's bookkeeping in one batch. A batch that cannot be written
        (the database went away) leaves those leases behind: the sources are taken back at
        their due time (``_orphaned``) and their readings written again later. A process
        deposed meanwhile writes nothing: the new poller owns the state."""
        async with self._flush_lock:
            batch, self._pending = self._pending, {}
            if not batch:
                return
            if not self._may_poll():
                self.stats["dropped_deposed"] += len(batch)
                return
            try:
                await update_many(Tortoise.get_connection("default"), SourceState, batch)
            except Exception:
                log.exception("could not write the results of %d polls", len(batch))
                self.stats["scheduler_errors"] += len(batch)
                for key in batch:
                    self.monitor.forget_stored(key)
                    self._orphaned.add(key)
                self._wake.set()

    def _flush_soon(self) -> None:
        """Write the pending bookkeeping ``round_gap`` from now (with whatever finishes
        meanwhile), unless a write is already planned; a round writes it first anyway."""
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later(), name="scheduler flush")

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.config.round_gap)
        try:
            await self.flush()
        except Exception:  # (flush logs its own failures; this is a bug guard)
            log.exception("scheduler flush failed")

    async def _maybe_refresh_watched(self, now: datetime) -> None:
        if self.config.probe_interval is not None and (self._watched_at is None or now - self._watched_at >= self.config.watch_every):
            await self.refresh_watched(now)

    async def _claim(self, now: datetime) -> list[tuple[Slot, int, datetime]]:
        """Lease every due, unleased row (SKIP LOCKED on PostgreSQL): (slot, errors, due)."""
        claimed: list[tuple[Slot, int, datetime]] = []
        conn = Tortoise.get_connection("default")
        while True:
            rows = await claim_due(
                conn, now, owner=self.config.owner, lease_until=now + self.config.lease,
                limit=self.config.claim_batch, orphaned=self._orphaned,
            )  # fmt: skip
            if not rows:
                return claimed
            unknown = []
            for key, errors, due in rows:
                slot = self._slots.get(key)
                if slot is None:
                    unknown.append(key)
                    continue
                self._orphaned.discard(key)
                claimed.append((slot, errors, due))
            if unknown:  # another worker's catalog: hand them back untouched, later
                later = now + timedelta(seconds=self.config.poll_interval)
                await SourceState.filter(key__in=unknown).update(owner=None, lease_until=None, next_due=later)
            if len(rows) < self.config.claim_batch:
                return claimed

    # A row is claimable (``bot.db.schedule``) when unleased, its lease ran out, or it is one
    # of ours whose result could not be written (``_orphaned``: the database went away
    # mid-poll): waiting for that lease to expire would hold the source back a whole ``lease``
    # (two minutes) after the database returns; taking it back polls it at its due time. Polls
    # in flight keep their lease, so they are never claimed twice — without excluding them by
    # key (at 20,000 sources a ``NOT IN`` of the thousands in flight, built twice per round,
    # was the process's hottest code).

    async def _poll_guarded(self, slot: Slot, errors: int, due: datetime, now: datetime) -> None:
        """Poll, ingest and reschedule one source; nothing escapes (one source never stops
        the others). Its row is written by the next ``flush``, which also releases the lease."""
        try:
            async with self._semaphore:
                obs = await self._poll(slot, now)
                errors = errors + 1 if is_source_error(obs) else 0
                if slot.is_probe:
                    slot.failures = count_failures(slot.failures, obs)
                slot.previous = obs
                self._count(slot.spec.kind, obs)
                if not self._may_poll():  # deposed while polling: the new poller owns the state
                    self.stats["dropped_deposed"] += 1
                    return
                try:
                    await self.monitor.ingest(slot.service_id, slot.key, obs, self.clock.now(), persist_observation=False)
                except Exception:
                    log.exception("detector failed on %s", slot.key)
                    self.stats["ingest_errors"] += 1
                next_due = self._next_due(slot, obs, errors, due, now)
                changes: dict[str, Any] = {"next_due": next_due, "consecutive_errors": errors, "owner": None, "lease_until": None}
                stored = self.monitor.to_store(slot.key, obs, self.clock.now())
                if stored is not None:  # (a reading that says nothing new is not written every poll)
                    changes["last_observation"] = stored
                self._pending[slot.key] = changes  # written with the others (``flush``)
                if self._next_round is None or next_due < self._next_round:
                    self._wake.set()  # (a re-check sooner than the round already planned)
                else:
                    self._flush_soon()
        except Exception:
            log.exception("poll of %s failed outside the source", slot.key)
            self.stats["scheduler_errors"] += 1
            self._orphaned.add(slot.key)  # still leased by us: taken back at its due time
            self._wake.set()

    async def _poll(self, slot: Slot, now: datetime) -> Observation:
        return await poll_once(slot.service_id, slot.spec, slot.kind, self.fetcher, now, slot.previous)

    def _next_due(self, slot: Slot, obs: Observation, errors: int, due: datetime, now: datetime) -> datetime:
        if errors > 0:
            return now + timedelta(seconds=backoff_delay(slot.interval, errors, self.config.max_backoff))
        interval = timedelta(seconds=slot.interval)
        if slot.is_probe and 1 <= slot.failures <= self.confirm.max_rechecks:
            return next_check(slot.failures, now, self.confirm, interval=interval)
        base = due if timedelta(0) <= now - due < interval else now  # keep the jittered phase
        return base + interval

    def _count(self, kind: str, obs: Observation) -> None:
        self.stats["polls"] += 1
        ok = obs.error is None
        if not ok:
            self.stats["poll_errors"] += 1
        if self.on_poll is not None:
            try:
                self.on_poll(kind, ok)
            except Exception:
                log.exception("on_poll hook failed")
        if _metrics is not None:
            _metrics.observe_poll(
                kind,
                obs.error.kind if obs.error is not None else None,
                not_modified=obs.http_status == 304,
                at=obs.fetched_at.timestamp(),
            )

    # -- canaries ------------------------------------------------------------------------

    async def _maybe_canaries(self, now: datetime, claimed: Iterable[tuple[Slot, int, datetime]]) -> None:
        """Check the canaries when due, or before a probe's re-check if they are older than
        one re-check period (a failure burst may be our own network)."""
        if not self._canaries:
            return
        due = self._canary_due is None or self._canary_due <= now
        confirming = any(slot.is_probe and slot.failures > 0 for slot, _, _ in claimed)
        stale = self._canary_at is None or now - self._canary_at >= self.confirm.recheck_every
        if due or (confirming and stale):
            await self.check_canaries(now)

    async def check_canaries(self, now: datetime) -> dict[str, bool]:
        """Poll every canary once; a canary is fine when it reads operational or degraded."""
        self._canary_at = now
        self._canary_due = now + timedelta(seconds=self.config.poll_interval)

        async def one(target: str, spec: SourceSpec) -> tuple[str, bool]:
            async with self._semaphore:
                try:
                    kind = get_kind(spec.kind)
                except KeyError:
                    return target, False
                obs = await poll_once("_canary", spec, kind, self.fetcher, now, None)
                return target, obs.status in (Status.OPERATIONAL, Status.DEGRADED)

        results = dict(await asyncio.gather(*(one(t, s) for t, s in self._canaries.items())))
        try:
            await self.monitor.ingest_canaries(results, now)
        except Exception:
            log.exception("vantage self-check could not be recorded")
        return results

    # -- the production loop -------------------------------------------------------------

    async def run(self) -> None:
        """Poll forever (until ``stop()``): each round claims what is due and starts those
        polls without waiting for the slow ones, then sleeps until the next due time.
        Syncs with the catalog first unless ``sync`` already ran — inside the round's error
        handling, so a database that is away at start delays the first round instead of ending
        the scheduler for good."""
        while not self._stop.is_set():
            now = self.clock.now()
            self._wake.clear()
            if not self._may_poll():  # another process is the poller: wait to be elected
                await self._sleep(now + timedelta(seconds=self.config.idle))
                continue
            try:
                if not self._synced:
                    await self.sync(now)
                await self.flush()  # (so the claim and the next due time see the finished polls)
                await self._maybe_refresh_watched(now)
                claimed = await self._claim(now)
                await self._maybe_canaries(now, claimed)
                for slot, errors, due in claimed:
                    task = asyncio.create_task(self._poll_guarded(slot, errors, due, now), name=f"poll {slot.key}")
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                wake = await self.next_wakeup(now)
            except Exception:  # e.g. the database is briefly unreachable: try again soon
                log.exception("scheduler round failed")
                wake = now + timedelta(seconds=self.config.idle)
            self._next_round = wake
            await self._sleep(wake)
            self._next_round = None
        await self._drain()

    async def next_due(self, now: datetime) -> datetime | None:
        """The earliest time something (an unleased source or the canaries) is due."""
        due = await earliest_due(Tortoise.get_connection("default"), now, owner=self.config.owner, orphaned=self._orphaned)
        candidates = [due] if due is not None else []
        if self._canaries and self._canary_due is not None:
            candidates.append(self._canary_due)
        return min(candidates) if candidates else None

    async def next_wakeup(self, now: datetime) -> datetime:
        """When ``run()`` should look again: the next due time, at most ``idle`` away."""
        due = await self.next_due(now)
        latest = now + timedelta(seconds=self.config.idle)
        return max(min(due or latest, latest), now + timedelta(seconds=self.config.round_gap))

    async def _sleep(self, until: datetime) -> None:
        waiters = [
            asyncio.ensure_future(self.clock.sleep_until(until)),
            asyncio.ensure_future(self._stop.wait()),
            asyncio.ensure_future(self._wake.wait()),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def stop(self) -> None:
        self._stop.set()

    async def _drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        try:
            await self.flush()
        except Exception:
            log.exception("scheduler flush failed")
        if self._flusher is not None:
            self._flusher.cancel()  # (nothing left for it: the flush above waited for its write)


def single_owner() -> bool:
    """SQLite: one scheduler process per database file, so any lease found at start is stale.
    (On PostgreSQL a lease may belong to a live worker: it expires after ``lease`` instead.)"""
    return Tortoise.get_connection("default").capabilities.dialect == "sqlite"


async def poll_once(
    service_id: str,
    spec: SourceSpec,
    kind: type[SourceKind],
    fetcher: Fetcher,
    now: datetime,
    previous: Observation | None,
) -> Observation:
    """``kind.poll`` that cannot raise: an exception becomes an ``unknown`` reading."""
    try:
        obs = await kind.poll(PollContext(service_id=service_id, spec=spec, fetcher=fetcher, now=now, previous=previous))
        if not isinstance(obs, Observation):
            raise TypeError(f"{kind.__name__}.poll returned {type(obs).__name__}, not an Observation")
        return obs
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("source kind %s raised on %s", spec.kind, spec.url)
        return Observation(
            service_id=service_id,
            source_kind=spec.kind,
            status=Status.UNKNOWN,
            fetched_at=now,
            role=kind.role,
            error=SourceError("exception", f"{type(exc).__name__}: {exc}"[:300]),
            url=spec.url,
        )


__all__ = [
    "Scheduler",
    "SchedulerConfig",
    "Slot",
    "backoff_delay",
    "canary_spec",
    "is_source_error",
    "poll_once",
]
