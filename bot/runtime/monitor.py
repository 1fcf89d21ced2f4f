"""The detector at run time: observations in, verdicts and persisted incident events out.

One ``Monitor`` per process. It keeps, in memory, the latest observation of every source, the
"failing since" map, the incident state machine's state per service, the vantage state and
the current verdict per service — the cache ``/isitdown`` and ``/status`` answer from. The
database is the truth: ``load()`` rebuilds everything from ``DetectorState`` and
``SourceState.last_observation`` so a restart mid-outage neither re-opens nor re-announces it.

``ingest`` is where the pure parts (``fuse``, ``step``) meet the database. When the state
machine emits events, ONE transaction saves the detector state, creates or updates the
``Incident`` row, writes one ``IncidentEventRecord`` per event and creates its deliveries
(``bot.notify.outbox``): an event is never announced without its state change being saved,
and never saved without its deliveries (Gatus #679/#1111).

Multi-process note: the scheduler can share sources between workers, but this cache holds one
process's readings. Deployments with several workers run one detector worker (all sources) or
partition services between workers; sharing one service's sources across processes would need
the detector state read under a row lock on every ingest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import fields, replace
from operator import attrgetter
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from bot.db.models import DetectorState, Incident, IncidentEventRecord, KeyValue, SourceState
from bot.detect.fusion import DEFAULT_STALE_AFTER, fuse, track_acknowledged, track_first_failures
from bot.ops.locks import KeyedLock
from bot.detect.incident import IncidentConfig, IncidentState, step
from bot.detect.model import CrowdSignal, EventKind, IncidentEvent, Verdict
from bot.detect.national import InternetContext, context_to_extra, countries_of
from bot.detect.serialize import event_to_dict
from bot.db.records import past_incidents
from bot.detect.track_record import RECORD, WINDOW as RECORD_WINDOW, PastIncident, acknowledged_by, note_to_extra, record_note, track_record
from bot.detect.upstream import GROUP, UPSTREAM, OpenIncident, Upstreams, group_of, group_to_extra
from bot.detect.vantage import VantageChangeKind, VantageState, assess
from bot.notify.outbox import create_deliveries
from bot.sources.base import Observation, SourceRole
from bot.status import Status

try:  # metrics are optional: the monitor works without prometheus-client installed
    from bot.ops import metrics as _metrics
except ImportError:  # pragma: no cover
    _metrics = None  # type: ignore[assignment]

log = logging.getLogger("bot.runtime.monitor")

CrowdProvider = Callable[[str, datetime], Awaitable[CrowdSignal | None]]
EventsHook = Callable[[list[IncidentEvent]], Awaitable[None]]
#: the reporting countries and the time → what IODA says of them (``IodaPoller.context``)
InternetProvider = Callable[[Sequence[str], datetime], InternetContext | None]
#: the events whose message is the alert (the ones that carry the national-connectivity line)
_ALERT_KINDS = frozenset({EventKind.OPENED, EventKind.ESCALATED, EventKind.DEESCALATED, EventKind.UPDATED})
VANTAGE_KEY = "vantage"
#: long loops over every service yield to the event loop this often
YIELD_EVERY = 500
#: IncidentState keys that change at every step; the rest is saved whenever it changes
_VOLATILE = frozenset({"last_at", "last_probe_at", "rounds", "ok_streak"})


class Monitor:
    """Per-process detector: see the module docstring."""

    def __init__(
        self,
        *,
        crowd_provider: CrowdProvider | None = None,
        on_events: EventsHook | None = None,
        internet: InternetProvider | None = None,
        config: IncidentConfig = IncidentConfig(),
        stale_after: timedelta = DEFAULT_STALE_AFTER,
        quorum: float = 0.5,
        upstreams: Upstreams | None = None,
    ) -> None:
        self.crowd_provider = crowd_provider
        self.on_events = on_events
        self.internet = internet
        self.config = config
        self.stale_after = stale_after
        self.quorum = quorum
        #: the catalog's providers and documented links: an alert names the likely upstream
        self.upstreams = upstreams or Upstreams()
        self.last_poll_at: datetime | None = None
        self.vantage = VantageState()
        self._observations: dict[str, dict[str, Observation]] = {}
        self._first_failures: dict[str, dict[str, datetime]] = {}
        #: service → when its official page last reported a problem (bounds "unacknowledged since")
        self._acknowledged: dict[str, datetime | None] = {}
        self._states: dict[str, IncidentState] = {}
        #: the durable state last written, for the services whose state is not blank (20,000
        #: healthy services would otherwise keep 20,000 copies of the blank state)
        self._saved: dict[str, dict[str, Any]] = {}
        #: per source: the reading last written to ``SourceState.last_observation`` (or a later
        #: one that reads the same: the object ``_observations`` holds, not a copy) and when
        self._stored: dict[str, tuple[Observation, datetime]] = {}
        self._verdicts: dict[str, Verdict] = {}
        #: one ingest or refresh of a service at a time (a lock only while one runs or waits)
        self._locks = KeyedLock()

    # -- reading the cache -------------------------------------------------------------

    def verdict(self, service_id: str) -> Verdict | None:
        """The current verdict (None before any reading of the service)."""
        return self._verdicts.get(service_id)

    def observations(self, service_id: str) -> dict[str, Observation]:
        """Source key → latest observation of ``service_id``."""
        return dict(self._observations.get(service_id, {}))

    def first_failures(self, service_id: str, now: datetime) -> dict[str, datetime]:
        """Source key → since when it has been failing, for the sources whose last reading
        here is still fresh (``stale_after``): the failures a reading taken now continues, so
        a live ``/isitdown`` keeps their clock instead of starting one at now. (A clock exists
        only while the last usable reading failed; an unreadable one since keeps it, as the
        monitor's own verdict does.)"""
        readings = self._observations.get(service_id, {})
        return {
            key: at for key, at in self._first_failures.get(service_id, {}).items()
            if (obs := readings.get(key)) is not None and now - obs.fetched_at <= self.stale_after
        }

    def acknowledged_at(self, service_id: str) -> datetime | None:
        """The last time the service's official page reported a problem (``track_acknowledged``)."""
        return self._acknowledged.get(service_id)

    def state(self, service_id: str) -> IncidentState:
        return self._states.get(service_id) or IncidentState(service_id)

    def open_incidents(self) -> dict[str, str]:
        """Service id → key of its open incident."""
        return {sid: s.incident.key for sid, s in self._states.items() if s.incident is not None}

    @property
    def probes_blind(self) -> bool:
        return self.vantage.blind

    def health(self) -> dict[str, Any]:
        """For ``/healthz``: monitoring ok or degraded (probes blind), and the last poll."""
        v = self.vantage
        return {
            "monitoring": "degraded" if v.blind else "ok",
            "probes_blind": v.blind,
            "vantage_since": v.since.isoformat() if v.since else None,
            "vantage_checked_at": v.checked_at.isoformat() if v.checked_at else None,
            "canaries_failing": list(v.failing),
            "canaries_total": v.total,
            "last_poll_at": self.last_poll_at.isoformat() if self.last_poll_at else None,
            "services": len(self._observations),
            "open_incidents": len(self.open_incidents()),
        }

    # -- rebuilding from the database --------------------------------------------------

    async def load(self, now: datetime | None = None) -> None:
        """Rebuild the cache from the database; with ``now``, recompute the verdicts too (so
        ``/isitdown`` answers right after a restart; stale readings fuse to unknown)."""
        for i, row in enumerate(await DetectorState.all()):
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # thousands of services: the gateway and commands go on
            data = dict(row.state)
            self._states[row.service_id] = IncidentState.from_dict(data)
            self._remember_saved(row.service_id, _durable(data))
            firsts = data.get("first_failure_at") or {}
            self._set_first_failures(row.service_id, {k: datetime.fromisoformat(v) for k, v in firsts.items()})
            acknowledged = data.get("official_acknowledged_at")
            self._set_acknowledged(row.service_id, datetime.fromisoformat(acknowledged) if acknowledged else None)
        for i, src in enumerate(await SourceState.exclude(last_observation=None)):
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            try:
                obs = Observation.from_dict(src.last_observation)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("ignoring unreadable last observation of %s: %s", src.key, exc)
                continue
            self._observations.setdefault(src.service_id, {})[src.key] = obs
        kv = await KeyValue.get_or_none(key=VANTAGE_KEY)
        if kv is not None:
            self.vantage = VantageState.from_dict(kv.value)
        if now is not None:
            for i, service_id in enumerate(list(self._observations)):
                if i % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                self._verdicts[service_id] = await self._fuse(service_id, now)
        self._export_open_incidents()

    # -- ingesting ---------------------------------------------------------------------

    async def ingest(
        self,
        service_id: str,
        source_key: str,
        observation: Observation,
        now: datetime,
        *,
        persist_observation: bool = True,
    ) -> list[IncidentEvent]:
        """Take one new reading, re-fuse, step the state machine and persist (see module)."""
        self.last_poll_at = now if self.last_poll_at is None else max(self.last_poll_at, now)
        async with self._locks.hold(service_id):
            self._observations.setdefault(service_id, {})[source_key] = observation
            self._set_first_failures(service_id, track_first_failures(
                self._first_failures.get(service_id, {}), {source_key: observation}, probes_blind=self.probes_blind
            ))  # fmt: skip
            self._set_acknowledged(service_id, track_acknowledged(self._acknowledged.get(service_id), {source_key: observation}))
            events = await self._advance(service_id, now)
        if persist_observation:
            await self._store(source_key, service_id, observation, now)
        await self._notify(events)
        return events

    async def refresh(self, service_id: str, now: datetime) -> list[IncidentEvent]:
        """Re-fuse without a new reading (a crowd report arrived, or time passed)."""
        async with self._locks.hold(service_id):
            events = await self._advance(service_id, now)
        await self._notify(events)
        return events

    async def ingest_canaries(self, results: Mapping[str, bool], now: datetime) -> bool:
        """One round of vantage canaries (target → succeeded); returns whether probes are
        blind. Entering and leaving the blind state is logged once each, never announced."""
        previous = self.vantage
        self.vantage, change = assess(results, previous, now, self.quorum)
        if change is not None:
            if change.kind is VantageChangeKind.DEGRADED:
                log.warning(change.log_message())
            else:
                log.info(change.log_message())
        if change is not None or previous.total != self.vantage.total:
            await KeyValue.update_or_create(key=VANTAGE_KEY, defaults={"value": self.vantage.to_dict()})
        return self.vantage.blind

    # -- internals -----------------------------------------------------------------------

    async def _store(self, source_key: str, service_id: str, observation: Observation, now: datetime) -> None:
        """Write a source's reading when ``to_store`` says so."""
        if self.to_store(source_key, observation, now) is None:
            return
        try:
            await save_observation(source_key, service_id, observation, now)
        except Exception:
            self.forget_stored(source_key)
            raise

    def to_store(self, source_key: str, observation: Observation, now: datetime) -> dict[str, Any] | None:
        """The reading to write now (as stored), or None: a reading is written when it says
        something new, or at least every half ``stale_after`` (so the readings a restart or
        another process loads are never stale) — a page that reads the same all day costs no
        write per poll. Compared as dataclasses without the volatile fields, so an unchanged
        reading costs no serialisation either. The caller writes it (``forget_stored`` if the
        write failed)."""
        last = self._stored.get(source_key)
        if last is not None and timedelta(0) <= now - last[1] < self.stale_after / 2 and _same_reading(last[0], observation):
            self._stored[source_key] = (observation, last[1])  # (the new object: the old one can go)
            return None
        self._stored[source_key] = (observation, now)
        return observation.to_dict()

    def forget_stored(self, source_key: str) -> None:
        """The write ``to_store`` asked for failed: the next reading is written whatever it says."""
        self._stored.pop(source_key, None)

    def _remember_saved(self, service_id: str, durable: dict[str, Any]) -> None:
        if durable == self._blank(service_id):
            self._saved.pop(service_id, None)
        else:
            self._saved[service_id] = durable

    def _set_first_failures(self, service_id: str, firsts: dict[str, datetime]) -> None:
        if firsts:
            self._first_failures[service_id] = firsts
        else:
            self._first_failures.pop(service_id, None)

    def _set_acknowledged(self, service_id: str, at: datetime | None) -> None:
        if at is not None:
            self._acknowledged[service_id] = at
        else:
            self._acknowledged.pop(service_id, None)

    async def _fuse(self, service_id: str, now: datetime) -> Verdict:
        crowd = await self._crowd(service_id, now)
        return fuse(
            service_id,
            self._observations.get(service_id, {}),
            crowd,
            now,
            probes_blind=self.probes_blind,
            stale_after=self.stale_after,
            first_failure_at=self._first_failures.get(service_id, {}),
            acknowledged_at=self._acknowledged.get(service_id),
        )

    async def _crowd(self, service_id: str, now: datetime) -> CrowdSignal | None:
        if self.crowd_provider is None:
            return None
        try:
            return await self.crowd_provider(service_id, now)
        except Exception:  # crowd evidence is optional: never let it stop detection
            log.exception("crowd provider failed for %s", service_id)
            return None

    @staticmethod
    def _blank(service_id: str) -> dict[str, Any]:
        """What a service with no stored state is: a service that never left it needs no row
        (20,000 healthy services would otherwise cost 20,000 upserts in the first interval)."""
        data = IncidentState(service_id).to_dict()
        data["first_failure_at"] = {}
        data["official_acknowledged_at"] = None
        return _durable(data)

    async def _advance(self, service_id: str, now: datetime) -> list[IncidentEvent]:
        """Fuse, step and persist one service (caller holds its lock)."""
        verdict = await self._fuse(service_id, now)
        before = self.state(service_id)
        after, events = step(before, verdict, now, self.config)
        if events and self.internet is not None:
            events = [self._with_internet(event, verdict, now) for event in events]
        events = self._with_upstream(service_id, after, events)
        events = await self._with_record(service_id, events, now)
        data = after.to_dict()
        data["first_failure_at"] = {k: v.isoformat() for k, v in self._first_failures.get(service_id, {}).items()}
        acknowledged = self._acknowledged.get(service_id)
        data["official_acknowledged_at"] = acknowledged.isoformat() if acknowledged else None
        durable = _durable(data)
        if events:
            await self._persist_events(service_id, data, after, events)
        elif durable != (self._saved.get(service_id) or self._blank(service_id)):
            await DetectorState.update_or_create(service_id=service_id, defaults={"state": data})
        # the cache changes only after the database accepted the change
        self._remember_saved(service_id, durable)
        self._states[service_id] = after
        self._verdicts[service_id] = verdict
        if events:
            self._export_open_incidents()
        return events

    def _with_internet(self, event: IncidentEvent, verdict: Verdict, now: datetime) -> IncidentEvent:
        """The alert's event with what IODA says now of the reporting countries (a national
        outage there, or an international disruption), carried in ``extra`` so the alert, its
        edits and a restart all tell the same thing."""
        if event.kind not in _ALERT_KINDS or self.internet is None:
            return event
        countries = countries_of(e.countries for e in verdict.evidence if e.role is SourceRole.CROWD)
        try:
            extra = context_to_extra(self.internet(countries, now))
        except Exception:  # the national context is optional: never let it stop an alert
            log.exception("internet context failed for %s", event.service_id)
            return event
        return replace(event, extra={**event.extra, **extra}) if extra else event

    def watches_page(self, service_id: str) -> bool:
        """The service has an official source among its readings."""
        return any(obs.role is SourceRole.OFFICIAL for obs in self._observations.get(service_id, {}).values())

    async def _with_record(self, service_id: str, events: list[IncidentEvent], now: datetime) -> list[IncidentEvent]:
        """While the official page is silent on an open incident, say what its record is
        (``bot.detect.track_record``): the past 90 days of this service's incidents, one
        query, only when an alert is written."""
        silent = [e for e in events if e.kind in _ALERT_KINDS and e.unacknowledged]
        if not silent or not self.watches_page(service_id):
            return events
        try:
            rows = await past_incidents(service_id, now, RECORD_WINDOW)
        except Exception:  # the record is optional: never let it stop an alert
            log.exception("track record of %s failed", service_id)
            return events
        note = record_note(track_record((PastIncident(*row) for row in rows), now), acknowledged_now=False)
        if note is None:
            return events
        return [replace(e, extra={**e.extra, RECORD: note_to_extra(note)}) if e in silent else e for e in events]

    def _with_upstream(self, service_id: str, after: IncidentState, events: list[IncidentEvent]) -> list[IncidentEvent]:
        """Name, on the events of an open incident, the provider it most likely comes from (a
        documented upstream whose own incident began around the same time) and the group it
        belongs to — as a member or as the provider — so delivery can carry a channel's
        services of one upstream outage in one message (``bot.detect.upstream``)."""
        upstreams = self.upstreams
        if not events or after.incident is None or not (service_id in upstreams.depends_on or service_id in upstreams.providers):
            return events
        states = {**self._states, service_id: after}
        incidents = [
            OpenIncident(sid, state.incident.key, state.incident.started_at)
            for sid, state in states.items()
            if state.incident is not None
        ]
        group = group_of(service_id, upstreams.groups(incidents))
        if group is None:
            return events
        extra = {GROUP: group_to_extra(group)}
        if service_id != group.provider.service_id:
            extra[UPSTREAM] = group.provider.service_id
        return [replace(e, extra={**e.extra, **extra}) for e in events]

    async def _persist_events(
        self, service_id: str, data: dict[str, Any], state: IncidentState, events: list[IncidentEvent]
    ) -> None:
        async with in_transaction() as conn:
            await DetectorState.update_or_create(service_id=service_id, defaults={"state": data}, using_db=conn)
            for event in events:
                incident = await _upsert_incident(event, state, conn, page_watched=self.watches_page(service_id))
                record = await IncidentEventRecord.create(
                    incident=incident,
                    kind=event.kind.value,
                    at=event.at,
                    status=event.status.value,
                    payload=event_to_dict(event),
                    using_db=conn,
                )
                await create_deliveries(record, incident, event, using_db=conn)
        for event in events:
            log.info("incident %s %s: %s (%s)", event.incident_key, event.kind.value, event.service_id, event.status.value)

    async def _notify(self, events: list[IncidentEvent]) -> None:
        if not events or self.on_events is None:
            return
        try:
            await self.on_events(events)
        except Exception:  # the deliveries are already persisted; a worker will find them
            log.exception("on_events hook failed")

    def _export_open_incidents(self) -> None:
        if _metrics is not None:
            _metrics.open_incidents.set(len(self.open_incidents()))


async def save_observation(source_key: str, service_id: str, observation: Observation, now: datetime) -> None:
    """Store a source's last observation (creating its ``SourceState`` row when a caller
    ingests without the scheduler)."""
    updated = await SourceState.filter(key=source_key).update(last_observation=observation.to_dict())
    if not updated:
        await SourceState.get_or_create(
            key=source_key,
            defaults={
                "service_id": service_id,
                "kind": observation.source_kind,
                "next_due": now,
                "last_observation": observation.to_dict(),
            },
        )


async def _upsert_incident(event: IncidentEvent, state: IncidentState, conn: Any, *, page_watched: bool = False) -> Incident:
    """The ``Incident`` row of ``event``, created on its first event and kept current; the
    official page's first acknowledgment is kept for its track record."""
    acknowledged = event.at if acknowledged_by(event.evidence) else None
    open_incident = state.incident if state.incident is not None and state.incident.key == event.incident_key else None
    incident = await Incident.filter(key=event.incident_key).using_db(conn).select_for_update().first()
    peak = open_incident.peak_status if open_incident is not None else None
    if event.kind is EventKind.RESOLVED:
        peak_raw = event.extra.get("peak_status")
        peak = Status(peak_raw) if peak_raw else (event.previous_status or event.status)
    if incident is None:
        status = event.previous_status if event.kind is EventKind.RESOLVED and event.previous_status else event.status
        return await Incident.create(
            key=event.incident_key,
            service_id=event.service_id,
            status=status.value,
            peak_status=(peak or status).value,
            confidence=event.confidence.value if event.confidence else None,
            unacknowledged=event.unacknowledged,
            started_at=event.started_at,
            resolved_at=event.resolved_at,
            official_update=event.official_update,
            report_peak=event.report_peak,
            report_peak_at=event.report_peak_at,
            acknowledged_at=acknowledged,
            page_watched=page_watched,
            using_db=conn,
        )
    if event.kind is EventKind.RESOLVED:
        incident.resolved_at = event.resolved_at
    else:
        incident.status = event.status.value
        incident.confidence = event.confidence.value if event.confidence else None
        incident.unacknowledged = event.unacknowledged
    incident.peak_status = Status.worst(Status(incident.peak_status), peak or event.status).value
    incident.started_at = min(incident.started_at, event.started_at)
    incident.official_update = event.official_update or incident.official_update
    incident.acknowledged_at = incident.acknowledged_at or acknowledged
    incident.page_watched = incident.page_watched or page_watched
    if event.report_peak is not None and (incident.report_peak is None or event.report_peak > incident.report_peak):
        incident.report_peak, incident.report_peak_at = event.report_peak, event.report_peak_at
    await incident.save(using_db=conn)
    return incident


def _durable(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in _VOLATILE}


#: what a reading says: every field but when it was taken and how long that took
_SAYS = attrgetter(*(f.name for f in fields(Observation) if f.name not in ("fetched_at", "latency_ms")))


def _same_reading(a: Observation, b: Observation) -> bool:
    """Whether two readings say the same (compared field by field, without copying either)."""
    return a is b or _SAYS(a) == _SAYS(b)


__all__ = ["CrowdProvider", "EventsHook", "InternetProvider", "Monitor", "save_observation"]


#: a crowd report re-fuses its service at most this often (more reports add nothing new)
REFRESH_EVERY = timedelta(seconds=30)


class RefreshThrottle:
    """When a counted crowd report should make the monitor re-fuse its service: at once for
    the first, then at most every ``every`` per service, so a burst of reports costs one
    re-fusing, not thousands. ``/report`` and ``simulate`` both ask it."""

    def __init__(self, every: timedelta = REFRESH_EVERY) -> None:
        self.every = every
        self._last: dict[str, datetime] = {}

    def due(self, service_id: str, now: datetime) -> bool:
        """Whether a report on ``service_id`` at ``now`` should re-fuse it (and note that it did)."""
        last = self._last.get(service_id)
        if last is not None and timedelta(0) <= now - last < self.every:
            return False
        self._last[service_id] = now
        return True
