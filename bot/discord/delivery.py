"""The delivery worker: sends the outbox's pending deliveries to Discord, exactly once.

Why it works this way:

- **Claim with a lease.** A due pending delivery (``next_attempt_at`` null or past) is claimed
  by bumping ``attempts`` and pushing ``next_attempt_at`` one lease ahead *before* anything is
  sent, inside one transaction (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
  processes share the outbox). A worker that dies mid-send leaves the row pending; it is
  claimed again when the lease runs out, and the delivery's nonce (``enforce_nonce``) makes
  Discord return the first message instead of posting a second one.
- **One alert per incident per channel.** OPENED (and UNSTABLE when nothing was posted yet) is
  a new message, recorded as the ``AlertMessage``; ESCALATED, DEESCALATED, UPDATED edit it in
  place; RESOLVED replies to it with the recovery notice and edits it to say it is over. With no
  alert in that channel (or a deleted one), a fresh message is posted instead. Deliveries of one
  incident to one channel go strictly in event order: a later one waits while an earlier one
  is still pending.
- **Errors.** discord.py retries 429s itself but gives up after 5 tries, so the outbox owns the
  retry: a 429 that reaches us reschedules without using up an attempt. 5xx, timeouts and
  connection errors retry with exponential backoff and jitter, then fail. 403 Missing Access /
  Missing Permissions and 404 Unknown Channel disable the channel's subscriptions at once and
  drop their pending deliveries: Discord bans bots that make 10,000 invalid requests in 10
  minutes, so they are never retried. Other 4xx answers fail at once (retrying cannot help).
- **Pace, don't collide.** Sends are paced by a token bucket under Discord's global limit
  (50 requests/s) instead of learning it from 429s; concurrency is bounded by a semaphore;
  each (event, language, time zone, digits) is rendered once per run.
- **A global limit stops everything.** Before taking a paced slot a send waits on the
  process's ``GlobalLimit`` (``bot/discord/ratelimit.py``), which every global 429 holds —
  whether discord.py retried it (its HTTP session carries the same gate) or gave up and the
  429 reached us — and so does a Cloudflare ban (a 429 without ``Via``).

- **Follow delivery: once per hub, then published.** A ``hub`` subscription (an announcement
  channel from ``FOLLOW_HUBS``) is delivered like a channel, in UTC, without role or reply,
  and every new message there is then published (crossposted) so Discord copies it into every
  channel that follows the hub. The message id is stored before the publish, so a retry only
  publishes. Discord publishes at most ``publish_limit`` messages per hub per hour: a post
  waits (rescheduled, no attempt used) until the hub's budget has room — nothing is dropped,
  alerts queue in order — and a publish Discord still refuses (a shared-scope 429) is retried
  when it says. A published message can be edited only a few times an hour (20022): an
  escalation then goes out as a new message, other updates are skipped (the next edit or the
  recovery carries the state); the recovery is a new message, not a reply (a copy's message
  reference points at its source, so followers could not see a reply's link).

- **Stop without a scar.** When ``run_forever``'s ``stop`` is set (SIGTERM) the worker claims
  nothing more; sends already on the wire get ``drain_timeout`` seconds to finish and are
  recorded; every claimed delivery not yet on the wire (waiting for a sender, a paced slot or
  the global limit) goes back to the outbox as it was — its attempt given back, due as before —
  without a log line each. ``run_bot`` closes discord.py's HTTP session only after this.

``python -m bot run`` builds one worker and runs ``run_forever``; the monitor calls ``wake()``
after writing new deliveries. The statements on the rows are in ``bot.db.deliveries``, the
token bucket in ``bot.discord.pacing``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence

import aiohttp
import discord

from bot.clock import utcnow
from bot.ops import metrics
from bot.ops.locks import KeyedLock
from bot.catalog import Catalog
from bot.db.leases import DatabaseLeases, LeaseStore
from bot.db import deliveries
from bot.db.deliveries import DROPPED, FAILED, SENT
from bot.db.models import Delivery, GuildSettings, IncidentEventRecord, Subscription
from bot.discord.pacing import Pacer
from bot.detect.model import EventKind, IncidentEvent
from bot.detect.upstream import GROUP, UPSTREAM
from bot.detect.serialize import event_from_dict
from bot.discord.embeds import draw_charts
from bot.discord.group_alerts import ChannelGroup, channel_group, record_group
from bot.discord.transport import DiscordTransport, Outgoing, Publisher, Transport
from bot.discord.ratelimit import GlobalLimit, LocalGlobalLimit, global_retry_after
from bot.notify.render import RenderedMessage, ServiceNames, render_event, render_for, render_resolved_alert
from bot.notify.render.group import render_group_alert, render_group_pointer, render_group_recovery
from bot.notify.render.chart import ReportSeries

log = logging.getLogger(__name__)


#: Discord error codes that mean "this channel is gone for us": disable, never retry
DISABLING_CODES: dict[int, str] = {
    50001: "missing_access",
    50013: "missing_permissions",
    10003: "unknown_channel",
    10004: "unknown_guild",
}
UNKNOWN_MESSAGE = 10008
#: "This message has already been crossposted"
ALREADY_CROSSPOSTED = 40033
#: "This message cannot be edited due to announcement rate limits"
ANNOUNCEMENT_EDIT_LIMIT = 20022
#: Subscription.delivery of an operator's hub announcement channel
HUB = "hub"
#: Discord publishes at most 10 messages per announcement channel per hour (README, "Follow delivery")
PUBLISH_LIMIT, PUBLISH_WINDOW = 10, timedelta(hours=1)
#: kinds that edit the incident's alert in place when one exists
EDIT_KINDS = frozenset({EventKind.OPENED, EventKind.ESCALATED, EventKind.DEESCALATED, EventKind.UPDATED, EventKind.UNSTABLE})
#: how long one delivery may hold a channel's turn (a dead process's turn runs out after it)
CHANNEL_TURN_S = 90.0
#: how long to hold off everything after a 429 without Discord's JSON (a Cloudflare ban)
BAN_PAUSE_S = 60.0


#: the report chart's data for an event at a time (``CrowdService.event_series``)
ChartSource = Callable[[IncidentEvent, datetime], Awaitable["ReportSeries | None"]]


# --- the worker ----------------------------------------------------------------------------------


class _Released(Exception):
    """The worker is stopping and this delivery was not on the wire yet: give it back."""


class _Retry(Exception):
    """Try again at ``delay`` seconds from now; ``counts`` says whether it used up an attempt."""

    def __init__(self, reason: str, delay: float, *, counts: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay
        self.counts = counts


@dataclass
class _Batch:
    """What one run needs besides the claimed rows, loaded once per run."""

    events: dict[int, IncidentEventRecord]
    subscriptions: dict[int, Subscription]
    settings: dict[int, GuildSettings]
    alerts: dict[tuple[int, int], int]  # (incident id, channel id) -> message id
    grouped: set[tuple[int, int]] = field(default_factory=set)  # (incident id, channel id) read in a grouped alert
    group_events: dict[str, dict[int, IncidentEvent]] = field(default_factory=dict)  # group key -> incident id -> latest event
    dead_channels: set[int] = field(default_factory=set)
    decoded: dict[int, IncidentEvent] = field(default_factory=dict)
    rendered: dict[tuple[Any, ...], list[RenderedMessage]] = field(default_factory=dict)
    series: dict[int, ReportSeries | None] = field(default_factory=dict)
    charted: dict[tuple[Any, ...], tuple[list[RenderedMessage], list[tuple[str, bytes]]]] = field(default_factory=dict)

    def zone_and_digits(self, guild_id: int) -> tuple[str, str]:
        """The guild's time zone and digits for rendering; a guild without settings gets the defaults."""
        guild = self.settings.get(guild_id)
        return (guild.timezone, guild.digits) if guild else ("UTC", "latn")


class DeliveryWorker:
    """Claims due deliveries and sends them (see the module docstring)."""

    def __init__(
        self,
        transport: Transport | discord.Client,
        catalog: Catalog,
        *,
        concurrency: int = 16,
        rate_per_s: float | None = 48.0,
        batch_size: int = 200,
        max_attempts: int = 8,
        lease: timedelta = timedelta(seconds=60),
        request_timeout: float = 30.0,
        backoff_base: float = 5.0,
        backoff_cap: float = 900.0,
        poll_interval: float = 5.0,
        drain_timeout: float = 8.0,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        pacer: Pacer | None = None,
        global_limit: GlobalLimit | None = None,
        charts: ChartSource | None = None,
        publish_limit: int = PUBLISH_LIMIT,
        publish_window: timedelta = PUBLISH_WINDOW,
        leases: LeaseStore | None = None,
        owner: str | None = None,
    ) -> None:
        #: where messages go; a discord.Client is reached through ``DiscordTransport``
        self.transport: Transport = DiscordTransport(transport) if isinstance(transport, discord.Client) else transport
        self.catalog = catalog
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.lease = lease
        self.request_timeout = request_timeout
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.poll_interval = poll_interval
        self.drain_timeout = drain_timeout
        self.clock = clock
        self.rng = rng or random.Random()
        self.pacer = pacer or Pacer(rate_per_s)
        self.global_limit: GlobalLimit = global_limit or LocalGlobalLimit()
        #: the report chart's data for an event (None: the message carries no chart)
        self.charts = charts
        #: a hub's publish budget: ``publish_limit`` per ``publish_window``
        self.publish_limit = publish_limit
        self.publish_window = publish_window
        #: grouped alerts and hub publishes of one channel go one delivery at a time
        self._channel_locks = KeyedLock()
        self.leases: LeaseStore = leases or DatabaseLeases()
        self.owner = owner or f"delivery-{uuid.uuid4().hex[:12]}"
        #: what each grouped message shows now, so an event that changes none of it edits nothing
        self._group_shown: dict[tuple[int, int], str] = {}
        self.stats: Counter[str] = Counter()
        self._semaphore = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()  # run_forever's; never set for run_once
        self._due_before: dict[int, datetime | None] = {}  # claimed id -> next_attempt_at before the claim

    # ------------------------------------------------------------------ loop

    def wake(self) -> None:
        """New deliveries were written: run now instead of at the next poll."""
        self._wake.set()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; pending deliveries (from before a restart) go first.

        Pipelined: the next deliveries are claimed when half of the current ones are done, so
        the pace never stalls on a batch's slowest send."""
        self._stop = stop
        inflight: set[asyncio.Task[None]] = set()
        low_water = max(1, self.batch_size // 2)
        try:
            while not stop.is_set():
                self._wake.clear()
                started = 0
                if len(inflight) < low_water:
                    try:
                        started = await self._start(self.clock(), inflight, self.batch_size - len(inflight))
                        await self._update_pending_gauge()
                    except Exception:  # never let the loop die; the rows are still in the database
                        log.exception("delivery run failed")
                if started and len(inflight) < low_water:
                    continue  # a small batch: more may be due right away
                timeout = None if inflight else await self._idle_timeout()
                wake = asyncio.ensure_future(self._wake.wait())
                stopped = asyncio.ensure_future(stop.wait())
                try:
                    await asyncio.wait({wake, stopped, *inflight}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    wake.cancel()
                    stopped.cancel()
        finally:
            await self._drain(inflight)

    async def _drain(self, inflight: set[asyncio.Task[None]]) -> None:
        """Stopping: sends on the wire finish (up to ``drain_timeout``), the rest are released
        by their own tasks as soon as they see ``stop``. A send still unanswered at the end is
        cancelled: its row keeps its lease and is sent again, with its nonce, after it."""
        if not inflight:
            return
        before = Counter(self.stats)
        _, late = await asyncio.wait(set(inflight), timeout=self.drain_timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
        done = self.stats - before
        log.info(
            "delivery worker stopped: %d finished, %d released for the next start, %d cut off",
            done[SENT] + done[FAILED] + done[DROPPED] + done["retried"], done["released"], len(late),
        )

    async def _start(self, now: datetime, inflight: set[asyncio.Task[None]], limit: int) -> int:
        """Claim up to ``limit`` due deliveries and start sending them; returns how many."""
        claimed = await self._claim(now, limit)
        if claimed:
            batch = await self._load(claimed)
            for d in claimed:
                task = asyncio.create_task(self._process(d, batch, now))
                inflight.add(task)
                task.add_done_callback(inflight.discard)
        return len(claimed)

    async def _idle_timeout(self) -> float:
        """Sleep until the next retry falls due, at most ``poll_interval`` (rows already due but
        not claimed wait behind an earlier delivery: polling faster would not help them)."""
        now = self.clock()
        try:
            soonest = await deliveries.next_retry_at(now)
        except Exception:  # the database is away: try again at the usual pace
            log.exception("could not read the outbox")
            return self.poll_interval
        if soonest is None:
            return self.poll_interval
        wait = (soonest - now).total_seconds()
        return min(self.poll_interval, max(0.05, wait))

    async def _update_pending_gauge(self) -> None:
        metrics.deliveries_pending.set(await deliveries.pending_count())

    async def run_once(self, now: datetime | None = None) -> int:
        """Claim the due deliveries (at most ``batch_size``), send them, record the outcome.
        Returns how many were claimed."""
        now = now or self.clock()
        claimed = await self._claim(now, self.batch_size)
        if not claimed:
            return 0
        batch = await self._load(claimed)
        await asyncio.gather(*(self._process(d, batch, now) for d in claimed))
        return len(claimed)

    # ------------------------------------------------------------------ claiming

    async def _claim(self, now: datetime, limit: int | None = None) -> list[Delivery]:
        """Lease the due deliveries (at most ``limit``, default ``batch_size``) that are first in
        line for their (incident, channel)."""
        lease_end = now + self.lease
        heads = await deliveries.claim_heads(now, limit or self.batch_size, lease_end)
        for r in heads:
            self._due_before[r.id] = r.next_attempt_at
            r.attempts += 1
            r.next_attempt_at = lease_end
        return heads

    async def _load(self, claimed: list[Delivery]) -> _Batch:
        events, subs, settings, rows = await deliveries.context_of(claimed)
        alerts = {(a.incident_id, a.channel_id): a.message_id for a in rows}  # type: ignore[attr-defined]
        grouped = {(a.incident_id, a.channel_id) for a in rows if a.group_key}  # type: ignore[attr-defined]
        return _Batch(events, subs, settings, alerts, grouped)

    # ------------------------------------------------------------------ one delivery

    async def _process(self, delivery: Delivery, batch: _Batch, now: datetime) -> None:
        try:
            async with self._semaphore:
                if self._stop.is_set():
                    await self._release(delivery)
                    return
                await self._process_one(delivery, batch, now)
        finally:
            self._due_before.pop(delivery.id, None)

    async def _process_one(self, delivery: Delivery, batch: _Batch, now: datetime) -> None:
        sub = batch.subscriptions.get(delivery.subscription_id)  # type: ignore[attr-defined]
        if sub is None or not sub.enabled or delivery.channel_id in batch.dead_channels:
            reason = sub.disabled_reason if sub is not None and sub.disabled_reason else "subscription disabled"
            await self._finish(delivery, DROPPED, error=reason)
            return
        try:
            await asyncio.wait_for(self._deliver(delivery, sub, batch, now), self.request_timeout * 3)
        except _Released:
            await self._release(delivery)
        except _Retry as retry:
            await self._retry(delivery, now, retry)
        except discord.HTTPException as exc:
            await self._http_error(delivery, batch, exc, now)
        except discord.RateLimited as exc:
            await self._retry(delivery, now, await self._rate_limited(exc.retry_after, "rate limited (discord.py gave up)"))
        except (asyncio.TimeoutError, aiohttp.ClientError, OSError) as exc:
            await self._retry(delivery, now, _Retry(f"{type(exc).__name__}: {exc}", self._backoff(delivery), counts=True))
        except Exception as exc:  # a bug or a database hiccup: retry, bounded, and say so loudly
            if self.transport.is_closed():  # shut down under our feet: not this delivery's fault
                await self._release(delivery)
                return
            log.exception("delivery %s failed unexpectedly", delivery.id)
            await self._retry(delivery, now, _Retry(f"{type(exc).__name__}: {exc}", self._backoff(delivery), counts=True))

    async def _deliver(self, d: Delivery, sub: Subscription, batch: _Batch, now: datetime) -> None:
        record = batch.events[d.event_id]  # type: ignore[attr-defined]
        event = batch.decoded.get(record.id)
        if event is None:
            event = batch.decoded[record.id] = event_from_dict(record.payload)
        incident_id: int = record.incident_id  # type: ignore[attr-defined]
        alert_id = batch.alerts.get((incident_id, d.channel_id))
        if sub.delivery == HUB:
            async with self._channel_turn(d.channel_id):  # one hub's budget is counted one delivery at a time
                await self._deliver_hub(d, sub, batch, now, record.id, event, incident_id, alert_id)
            return

        if GROUP in event.extra or (incident_id, d.channel_id) in batch.grouped:
            async with self._channel_turn(d.channel_id):  # a channel's grouped alert is built one delivery at a time
                group = await channel_group(d.channel_id, d.language, incident_id, event)
                if group is not None:
                    await self._deliver_grouped(d, sub, batch, now, event, incident_id, group)
                    return
        await self._deliver_alone(d, sub, batch, now, record.id, event, incident_id, alert_id)

    @contextlib.asynccontextmanager
    async def _channel_turn(self, channel_id: int) -> AsyncIterator[None]:
        """This channel's turn, in this process (a lock) and among processes (a short lease in
        the database): a grouped alert or a hub's publish budget is read and written by one
        delivery at a time. Another process's turn: retry in a second, no attempt used."""
        async with self._channel_locks.hold(channel_id):
            name = f"channel:{channel_id}"
            if not await self.leases.claim(name, self.owner, CHANNEL_TURN_S):
                raise _Retry("another process is writing to this channel", 1.0, counts=False)
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    await self.leases.release(name, self.owner)

    async def _deliver_alone(
        self, d: Delivery, sub: Subscription, batch: _Batch, now: datetime,
        record_id: int, event: IncidentEvent, incident_id: int, alert_id: int | None,
    ) -> None:  # fmt: skip
        """One incident's alert in one channel: posted, edited, answered by its recovery."""
        if event.kind is EventKind.RESOLVED:
            if d.message_id is None:  # the reply was not sent by an earlier attempt
                messages, files = await self._charted(batch, record_id, event, d, sub, now)
                reply = await self._send(d, event, messages, sub.role_id, reply_to=alert_id, files=files)
                d.message_id = reply
                await deliveries.note_message(d.id, reply)
            if alert_id is not None:
                resolved = self._render(batch, event, d, sub, render_resolved_alert, now)
                try:
                    await self._edit(d, event, alert_id, resolved, sub.role_id, over=True)
                except discord.NotFound as exc:
                    if exc.code != UNKNOWN_MESSAGE:
                        raise
                    # the alert was deleted by someone: the reply already tells the story
            self.stats["replied"] += 1
            await self._finish(d, SENT, message_id=d.message_id, now=now)
            return

        messages, files = await self._charted(batch, record_id, event, d, sub, now)
        if alert_id is not None and event.kind in EDIT_KINDS:
            try:
                await self._edit(d, event, alert_id, messages, sub.role_id, files=files)
            except discord.NotFound as exc:
                if exc.code != UNKNOWN_MESSAGE:
                    raise
            else:
                self.stats["edited"] += 1
                await self._finish(d, SENT, message_id=alert_id, now=now)
                return
        # a new alert carries "Down for me too" / "Works for me" for its service
        message_id = await self._send(d, event, messages, sub.role_id, files=files, buttons=event.service_id, language=d.language)
        batch.alerts[(incident_id, d.channel_id)] = message_id
        self.stats["posted"] += 1
        await self._finish(d, SENT, message_id=message_id, now=now, alert=(incident_id, d.channel_id))

    async def _deliver_grouped(
        self, d: Delivery, sub: Subscription, batch: _Batch, now: datetime,
        event: IncidentEvent, incident_id: int, group: ChannelGroup,
    ) -> None:  # fmt: skip
        """One message for the channel's incidents of an upstream outage (``group_alerts``):
        posted or taken over from an earlier alert, edited on every event of any of them, and
        answered once when the last of them recovers. The channel's other alerts of those
        incidents, posted before the group formed, are edited once to point at it."""
        tz, digits = batch.zone_and_digits(sub.guild_id)
        latest = batch.group_events.get(group.key)
        if latest is None:  # once per group and run: every channel's message shows the same events
            latest = batch.group_events[group.key] = await group.latest_events()
        view = group.view(self._names, latest)
        render = lambda fn, *a: render_for(d.language, fn, *a, tz=tz, digits=digits, now=now)  # noqa: E731
        if group.last_to_recover(incident_id) and group.anchor is not None:
            if d.message_id is None:  # the reply was not sent by an earlier attempt
                reply = await self._send(d, event, render(render_group_recovery, view), sub.role_id, reply_to=group.anchor)
                d.message_id = reply
                await deliveries.note_message(d.id, reply)
            await self._edit_group(d, event, group.anchor, render(render_group_alert, view), sub.role_id, over=True)
            self.stats["replied"] += 1
            await self._finish(d, SENT, message_id=d.message_id, now=now)
            return
        messages = render(render_group_alert, view)
        message_id = group.anchor
        edited = message_id is not None and await self._edit_group(d, event, message_id, messages, sub.role_id)
        if message_id is None or not edited:
            message_id = await self._send(d, event, messages, sub.role_id)
            self._group_shown[(d.channel_id, message_id)] = _digest(messages)
            self.stats["posted"] += 1
        for stale, service_id in group.absorbed(message_id):  # earlier alerts of the group: point them at it
            link = f"https://discord.com/channels/{sub.guild_id}/{d.channel_id}/{message_id}"
            pointer = render(render_group_pointer, self._names(service_id), view.provider.names, link)
            await self._edit_or_none(d, event, stale, pointer, None)
        await record_group(d.channel_id, group, message_id)
        for incident in group.incidents:
            batch.alerts[(incident.id, d.channel_id)] = message_id
            batch.grouped.add((incident.id, d.channel_id))
        await self._finish(d, SENT, message_id=message_id, now=now)

    async def _edit_group(
        self, d: Delivery, event: IncidentEvent, message_id: int, messages: list[RenderedMessage], role_id: int | None,
        *, over: bool = False,
    ) -> bool:  # fmt: skip
        """Edit the grouped message unless it already shows exactly this (most events of its
        services change nothing it shows: edits cost rate limit); False when it is gone."""
        digest = _digest(messages)
        key = (d.channel_id, message_id)
        if self._group_shown.get(key) == digest:
            self.stats["unchanged"] += 1
            return True
        if not await self._edit_or_none(d, event, message_id, messages, role_id, over=over):
            return False
        self._group_shown[key] = digest
        self.stats["edited"] += 1
        return True

    async def _edit_or_none(
        self, d: Delivery, event: IncidentEvent, message_id: int, messages: list[RenderedMessage], role_id: int | None,
        *, over: bool = False,
    ) -> bool:  # fmt: skip
        """Edit a message someone may have deleted: False when it is gone."""
        try:
            await self._edit(d, event, message_id, messages, role_id, over=over)
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_MESSAGE:
                raise
            return False
        return True

    async def _deliver_hub(
        self, d: Delivery, sub: Subscription, batch: _Batch, now: datetime,
        record_id: int, event: IncidentEvent, incident_id: int, alert_id: int | None,
    ) -> None:  # fmt: skip
        """A hub delivery (see the module docstring): post once, then publish."""
        if d.message_id is not None:  # posted by an earlier attempt: only the publish is left
            await self._publish(d, d.message_id, now)
            await self._resolve_hub_alert(d, sub, batch, event, alert_id, now)
            await self._finish_hub_post(d, event, incident_id, now)
            return
        if event.kind is not EventKind.RESOLVED and alert_id is not None and event.kind in EDIT_KINDS:
            messages, files = await self._charted(batch, record_id, event, d, sub, now)
            try:
                await self._edit(d, event, alert_id, messages, None, files=files)
            except discord.HTTPException as exc:
                if exc.code == ANNOUNCEMENT_EDIT_LIMIT and event.kind is not EventKind.ESCALATED:
                    self.stats["hub_edit_skipped"] += 1
                    await self._finish(d, DROPPED, error=f"{exc.status} {exc.code} {exc.text} (the next edit or the recovery carries it)")
                    return
                if exc.code not in (ANNOUNCEMENT_EDIT_LIMIT, UNKNOWN_MESSAGE):
                    raise
                # a worse outage the followers' copy cannot show, or a deleted alert: a new message
            else:
                self.stats["edited"] += 1
                await self._finish(d, SENT, message_id=alert_id, now=now)
                return
        await self._wait_for_budget(d, now)
        messages, files = await self._charted(batch, record_id, event, d, sub, now)
        message_id = await self._send(d, event, messages, None, files=files)
        d.message_id = message_id
        await deliveries.note_message(d.id, message_id)
        if event.kind is not EventKind.RESOLVED:
            batch.alerts[(incident_id, d.channel_id)] = message_id
        await self._publish(d, message_id, now)
        await self._resolve_hub_alert(d, sub, batch, event, alert_id, now)
        await self._finish_hub_post(d, event, incident_id, now)

    async def _resolve_hub_alert(
        self, d: Delivery, sub: Subscription, batch: _Batch, event: IncidentEvent, alert_id: int | None, now: datetime
    ) -> None:
        """After a hub's recovery notice went out: its alert says it is over, when Discord lets
        us edit it (the recovery notice already tells the story when it does not)."""
        if event.kind is not EventKind.RESOLVED or alert_id is None:
            return
        resolved = self._render(batch, event, d, sub, render_resolved_alert, now)
        try:
            await self._edit(d, event, alert_id, resolved, None)
        except discord.HTTPException as exc:
            if exc.code not in (ANNOUNCEMENT_EDIT_LIMIT, UNKNOWN_MESSAGE):
                raise
            self.stats["hub_edit_skipped"] += 1

    async def _finish_hub_post(self, d: Delivery, event: IncidentEvent, incident_id: int, now: datetime) -> None:
        assert d.message_id is not None
        self.stats["replied" if event.kind is EventKind.RESOLVED else "posted"] += 1
        alert = None if event.kind is EventKind.RESOLVED else (incident_id, d.channel_id)
        await self._finish(d, SENT, message_id=d.message_id, now=now, alert=alert)

    async def _wait_for_budget(self, d: Delivery, now: datetime) -> None:
        """Hold a hub's new message back (no attempt used) while its hourly publish budget is
        spent, until the oldest publish in the window leaves it."""
        since = now - self.publish_window
        published = await deliveries.published_since(d.channel_id, since)
        if len(published) < self.publish_limit:
            return
        oldest = published[len(published) - self.publish_limit]
        wait = max(1.0, (oldest + self.publish_window - now).total_seconds())
        self.stats["hub_budget_waits"] += 1
        metrics.hub_publishes.labels(outcome="waited").inc()
        log.warning(
            "hub %s has published %d alerts in the last hour (Discord allows %d): delivery %s waits %.0f s",
            d.channel_id, len(published), self.publish_limit, d.id, wait,
        )
        raise _Retry(f"hub {d.channel_id}: {len(published)} publishes in the last hour (Discord allows {self.publish_limit})", wait, counts=False)

    async def _publish(self, d: Delivery, message_id: int, now: datetime) -> None:
        """Publish a hub message to its followers (a transport that cannot: nothing to do)."""
        if not isinstance(self.transport, Publisher):
            return
        await self._before_the_wire()
        try:
            await asyncio.wait_for(self.transport.crosspost(d.channel_id, message_id), self.request_timeout)
        except discord.RateLimited as exc:  # the hub's hourly budget, spent by someone else too
            self.stats["hub_publish_limited"] += 1
            raise _Retry(f"publish limited for {exc.retry_after:.0f} s", max(1.0, exc.retry_after), counts=False) from None
        except discord.HTTPException as exc:
            if exc.code != ALREADY_CROSSPOSTED:
                raise
        else:
            self.stats["requests"] += 1
        self.stats["published"] += 1
        metrics.hub_publishes.labels(outcome="published").inc()
        await deliveries.note_published(d.id, now)

    def _render(
        self,
        batch: _Batch,
        event: IncidentEvent,
        d: Delivery,
        sub: Subscription,
        render: Callable[..., RenderedMessage],
        now: datetime,
    ) -> list[RenderedMessage]:
        """Render once per (event, what, language, time zone, digits) within a run."""
        tz, digits = batch.zone_and_digits(sub.guild_id)
        key = (d.event_id, render.__name__, d.language, tz, digits)  # type: ignore[attr-defined]
        cached = batch.rendered.get(key)
        if cached is None:
            names = self._names(event.service_id, event.extra.get(UPSTREAM))
            cached = batch.rendered[key] = render_for(d.language, render, event, names, tz=tz, digits=digits, now=now)
        return cached

    async def _charted(
        self, batch: _Batch, event_id: int, event: IncidentEvent, d: Delivery, sub: Subscription, now: datetime
    ) -> tuple[list[RenderedMessage], list[tuple[str, bytes]]]:
        """The event's messages for this channel and the report charts they show: the data once
        per event, each picture once per (language, time zone, digits) within a run."""
        messages = self._render(batch, event, d, sub, render_event, now)
        if self.charts is None:
            return messages, []
        if event_id not in batch.series:
            try:
                batch.series[event_id] = await self.charts(event, now)
            except Exception:  # noqa: BLE001 - the alert goes out without its picture
                log.exception("chart data for event %s failed", event_id)
                batch.series[event_id] = None
        series = batch.series[event_id]
        if series is None:
            return messages, []
        tz, digits = batch.zone_and_digits(sub.guild_id)
        key = (event_id, d.language, tz, digits)
        if key not in batch.charted:
            batch.charted[key] = await draw_charts(messages, series, self._names(event.service_id), tz=tz, digits=digits, now=now)
        return batch.charted[key]

    def _names(self, service_id: str, upstream: str | None = None) -> ServiceNames:
        """The service's names, and its likely upstream's when the event names one."""
        service = self.catalog.get(service_id)
        if service is None:  # removed from the catalog since the incident began
            return ServiceNames(service_id, service_id)
        return ServiceNames.of(service, upstream=self.catalog.get(upstream) if upstream else None)

    async def _send(
        self,
        d: Delivery,
        event: IncidentEvent,
        messages: list[RenderedMessage],
        role_id: int | None,
        *,
        reply_to: int | None = None,
        files: Sequence[tuple[str, bytes]] = (),
        buttons: str | None = None,
        language: str = "en",
    ) -> int:
        """Post a new message with the delivery's nonce (a retry returns the first message)."""
        out = Outgoing(
            d.channel_id, messages, event, nonce=d.nonce, role_id=role_id, reply_to=reply_to, files=files,
            buttons=buttons, language=language,
        )  # fmt: skip
        await self._before_the_wire()
        if files:
            try:
                message_id = await asyncio.wait_for(self.transport.send(out), self.request_timeout)
            except discord.Forbidden as exc:  # no Attach Files there: the alert matters, not its picture
                log.warning("channel %s refused the chart (%s); sending the alert without it", d.channel_id, exc.text)
                out = replace(out, messages=_without_images(messages), files=())
            else:
                self.stats["requests"] += 1
                return message_id
            await self._before_the_wire()
        message_id = await asyncio.wait_for(self.transport.send(out), self.request_timeout)
        self.stats["requests"] += 1
        return message_id

    async def _edit(
        self, d: Delivery, event: IncidentEvent, message_id: int, messages: list[RenderedMessage], role_id: int | None,
        *, files: Sequence[tuple[str, bytes]] = (), over: bool = False,
    ) -> None:  # fmt: skip
        """Edit the alert in place; new charts replace the old ones (no charts: left as they are)."""
        out = Outgoing(d.channel_id, messages, event, role_id=role_id, files=files, over=over)
        await self._before_the_wire()
        if files:
            try:
                await asyncio.wait_for(self.transport.edit(out, message_id), self.request_timeout)
            except discord.Forbidden as exc:  # no Attach Files there: edit the words alone
                log.warning("channel %s refused the chart (%s); editing the alert without it", d.channel_id, exc.text)
                out = replace(out, messages=_without_images(messages), files=())
                await self._before_the_wire()
            else:
                self.stats["requests"] += 1
                return
        await asyncio.wait_for(self.transport.edit(out, message_id), self.request_timeout)
        self.stats["requests"] += 1

    async def _before_the_wire(self) -> None:
        """Wait out a global limit, then for a paced slot; a stop meanwhile (or already)
        releases the delivery."""
        await self._unless_stopped(self.global_limit.wait())
        await self._unless_stopped(self.pacer.acquire())
        if self._stop.is_set():
            raise _Released

    async def _unless_stopped(self, waiting: Awaitable[Any]) -> None:
        if self._stop.is_set():
            raise _Released
        task = asyncio.ensure_future(waiting)
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not task.done():
            task.cancel()
            raise _Released
        task.result()

    # ------------------------------------------------------------------ outcomes

    async def _release(self, d: Delivery) -> None:
        """Give a claimed delivery back untouched: its attempt returned, due as it was."""
        await deliveries.release(d.id, max(0, d.attempts - 1), self._due_before.get(d.id))
        self.stats["released"] += 1

    async def _finish(
        self,
        d: Delivery,
        state: str,
        *,
        message_id: int | None = None,
        error: str | None = None,
        now: datetime | None = None,
        alert: tuple[int, int] | None = None,
    ) -> None:
        """Record a final state (and the alert message of a new post) in one transaction."""
        changed = await deliveries.finish(d.id, state, message_id=message_id, error=error, now=now, alert=alert)
        if changed:
            self.stats[state] += 1
            metrics.deliveries.labels(outcome=state).inc()

    async def _http_error(self, d: Delivery, batch: _Batch, exc: discord.HTTPException, now: datetime) -> None:
        reason = DISABLING_CODES.get(exc.code)
        if reason is not None and exc.status in (403, 404):
            batch.dead_channels.add(d.channel_id)
            await self._disable_channel(d, reason, f"{exc.status} {exc.code} {exc.text}")
        elif exc.status == 429:
            headers = getattr(exc.response, "headers", None)
            if headers is not None and not headers.get("Via"):
                log.error("Discord answered 429 without Via (a Cloudflare ban?): holding sends for %.0f s", BAN_PAUSE_S)
                await self.global_limit.hold(BAN_PAUSE_S)
                await self._retry(d, now, _Retry("429 without Via (Cloudflare ban)", BAN_PAUSE_S, counts=False))
            else:
                is_global = headers is not None and global_retry_after(429, headers, None) is not None
                retry = await self._rate_limited(_retry_after(exc), "429 (discord.py gave up after 5 tries)", is_global=is_global)
                await self._retry(d, now, retry)
        elif exc.status >= 500:
            await self._retry(d, now, _Retry(f"{exc.status} {exc.text}", self._backoff(d), counts=True))
        else:  # any other 4xx: our request is wrong, repeating it only counts towards a ban
            log.error("delivery %s refused by Discord: %s %s %s", d.id, exc.status, exc.code, exc.text)
            await self._finish(d, FAILED, error=f"{exc.status} {exc.code} {exc.text}")

    async def _rate_limited(self, retry_after: float | None, reason: str, *, is_global: bool = False) -> _Retry:
        """Reschedule after a 429 that discord.py gave up on; a global one holds every send."""
        wait = max(1.0, retry_after or 1.0)
        if is_global:
            await self.global_limit.hold(wait)
        self.stats["rate_limited"] += 1
        metrics.discord_429s.labels(handler="outbox").inc()
        return _Retry(reason, wait * (1.0 + 0.5 * self.rng.random()), counts=False)

    def _backoff(self, d: Delivery) -> float:
        """Exponential backoff with jitter: about base, 2×base, 4×base … up to the cap."""
        exp = min(self.backoff_cap, self.backoff_base * 2 ** max(0, d.attempts - 1))
        return exp * (0.5 + self.rng.random())

    async def _retry(self, d: Delivery, now: datetime, retry: _Retry) -> None:
        attempts = d.attempts if retry.counts else max(0, d.attempts - 1)
        if retry.counts and attempts >= self.max_attempts:
            log.warning("delivery %s failed after %d attempts: %s", d.id, attempts, retry.reason)
            await self._finish(d, FAILED, error=retry.reason)
            return
        self.stats["retried"] += 1
        await deliveries.reschedule(d.id, attempts, now + timedelta(seconds=retry.delay), retry.reason)

    async def _disable_channel(self, d: Delivery, reason: str, detail: str) -> None:
        """The channel is gone or closed to us: disable every subscription in it and drop their
        pending deliveries, so not one more invalid request goes there."""
        log.warning("disabling subscriptions in channel %s: %s (%s)", d.channel_id, reason, detail)
        disabled, dropped = await deliveries.disable_channel(d.channel_id, reason, detail)
        self.stats["disabled"] += disabled
        self.stats[DROPPED] += dropped
        metrics.deliveries.labels(outcome=DROPPED).inc(dropped)


def _digest(messages: Sequence[RenderedMessage]) -> str:
    return repr([m.to_embed_dict() for m in messages])


def _without_images(messages: Sequence[RenderedMessage]) -> list[RenderedMessage]:
    """The messages without a picture to show (the chart could not be attached)."""
    return [replace(m, image=None) for m in messages]


def _retry_after(exc: discord.HTTPException) -> float | None:
    """The ``Retry-After`` header of a 429 (discord.py keeps no body field for it)."""
    headers = getattr(exc.response, "headers", None)
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
