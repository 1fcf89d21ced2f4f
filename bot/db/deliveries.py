"""The delivery worker's statements on the outbox (``deliveries``) and the alert messages.

``bot.discord.delivery.DeliveryWorker`` decides (what to send, when to retry, when to give a
channel up); these read and write what it decided, each a statement or one transaction, so the
worker's module is about Discord and this one about rows. The states: ``pending`` until a
final ``sent``, ``failed`` or ``dropped``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from bot.db.models import AlertMessage, Delivery, GuildSettings, IncidentEventRecord, Subscription

PENDING, SENT, FAILED, DROPPED = "pending", "sent", "failed", "dropped"
#: how much of an error a row keeps
ERROR_MAX = 300


async def claim_heads(now: datetime, limit: int, lease_end: datetime) -> list[Delivery]:
    """Lease up to ``limit`` due pending deliveries (oldest first; ``SKIP LOCKED`` on
    PostgreSQL, so processes share the outbox) that are first in line for their (incident,
    channel): an attempt is counted and ``next_attempt_at`` pushed to ``lease_end`` before
    anything is sent. The rows come back as they were before the lease."""
    async with in_transaction() as conn:
        due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        rows = await Delivery.filter(due, state=PENDING).order_by("id").limit(limit).select_for_update(skip_locked=True).using_db(conn)
        if not rows:
            return []
        incident_of: dict[int, int] = dict(
            await IncidentEventRecord.filter(id__in={r.event_id for r in rows})  # type: ignore[attr-defined]
            .using_db(conn)
            .values_list("id", "incident_id")
        )
        earlier = await (
            Delivery.filter(
                state=PENDING,
                channel_id__in={r.channel_id for r in rows},
                event__incident_id__in=set(incident_of.values()),
            )
            .using_db(conn)
            .values_list("channel_id", "event__incident_id", "event_id")
        )
        first: dict[tuple[int, int], int] = {}
        for channel_id, incident_id, event_id in earlier:
            key = (channel_id, incident_id)
            first[key] = min(first.get(key, event_id), event_id)
        heads = [r for r in rows if first.get((r.channel_id, incident_of[r.event_id]), r.event_id) >= r.event_id]  # type: ignore[attr-defined]
        if heads:
            await Delivery.filter(id__in=[r.id for r in heads]).using_db(conn).update(
                attempts=F("attempts") + 1, next_attempt_at=lease_end
            )
    return heads


async def next_retry_at(now: datetime) -> datetime | None:
    """When the soonest pending delivery not yet due falls due (None: none is waiting)."""
    soonest = await Delivery.filter(state=PENDING, next_attempt_at__gt=now).order_by("next_attempt_at").first()
    return soonest.next_attempt_at if soonest is not None else None


async def pending_count() -> int:
    return await Delivery.filter(state=PENDING).count()


async def context_of(claimed: list[Delivery]) -> tuple[
    dict[int, IncidentEventRecord], dict[int, Subscription], dict[int, GuildSettings], list[AlertMessage]
]:  # fmt: skip
    """What sending ``claimed`` needs besides the rows: their events, subscriptions, guild
    settings and the alert messages already posted for those incidents in those channels."""
    events = {e.id: e for e in await IncidentEventRecord.filter(id__in={d.event_id for d in claimed})}  # type: ignore[attr-defined]
    subs = {s.id: s for s in await Subscription.filter(id__in={d.subscription_id for d in claimed})}  # type: ignore[attr-defined]
    settings = {g.guild_id: g for g in await GuildSettings.filter(guild_id__in={s.guild_id for s in subs.values()})}
    incidents = {e.incident_id for e in events.values()}  # type: ignore[attr-defined]
    alerts = await AlertMessage.filter(incident_id__in=incidents, channel_id__in={d.channel_id for d in claimed})
    return events, subs, settings, alerts


async def release(delivery_id: int, attempts: int, due: datetime | None) -> None:
    """Give a claimed delivery back untouched: ``attempts`` and ``due`` as before the claim."""
    await Delivery.filter(id=delivery_id, state=PENDING).update(attempts=attempts, next_attempt_at=due)


async def reschedule(delivery_id: int, attempts: int, at: datetime, reason: str) -> None:
    await Delivery.filter(id=delivery_id, state=PENDING).update(attempts=attempts, next_attempt_at=at, last_error=reason[:ERROR_MAX])


async def note_message(delivery_id: int, message_id: int) -> None:
    """The message a delivery posted, kept before its next step (a retry then only edits or
    publishes)."""
    await Delivery.filter(id=delivery_id).update(message_id=message_id)


async def note_published(delivery_id: int, at: datetime) -> None:
    await Delivery.filter(id=delivery_id).update(published_at=at)


async def published_since(channel_id: int, since: datetime) -> list[datetime]:
    """When the channel's deliveries were published after ``since``, oldest first."""
    rows = await Delivery.filter(channel_id=channel_id, published_at__gt=since).order_by("published_at").values_list("published_at", flat=True)
    return list(rows)  # type: ignore[arg-type]


async def finish(
    delivery_id: int,
    state: str,
    *,
    message_id: int | None = None,
    error: str | None = None,
    now: datetime | None = None,
    alert: tuple[int, int] | None = None,
) -> bool:
    """Record a final state (and the alert message of a new post: ``alert`` = (incident,
    channel)) in one transaction. Only a pending row changes — one finished elsewhere (dropped
    with its channel) stays as it is; returns whether it changed."""
    values: dict[str, Any] = {"state": state, "next_attempt_at": None}
    if message_id is not None:
        values["message_id"] = message_id
    if error is not None:
        values["last_error"] = error[:ERROR_MAX]
    if state == SENT:
        values["sent_at"] = now
    async with in_transaction() as conn:
        changed = await Delivery.filter(id=delivery_id, state=PENDING).using_db(conn).update(**values)
        if alert is not None and message_id is not None:
            incident_id, channel_id = alert
            updated = await AlertMessage.filter(incident_id=incident_id, channel_id=channel_id).using_db(conn).update(message_id=message_id)
            if not updated:
                await AlertMessage.create(incident_id=incident_id, channel_id=channel_id, message_id=message_id, using_db=conn)
    return bool(changed)


async def disable_channel(channel_id: int, reason: str, detail: str) -> tuple[int, int]:
    """Disable every subscription in the channel and drop their pending deliveries, in one
    transaction; returns (subscriptions disabled, deliveries dropped)."""
    async with in_transaction() as conn:
        sub_ids = await Subscription.filter(channel_id=channel_id).using_db(conn).values_list("id", flat=True)
        await Subscription.filter(id__in=sub_ids).using_db(conn).update(enabled=False, disabled_reason=reason)
        dropped = await Delivery.filter(subscription_id__in=sub_ids, state=PENDING).using_db(conn).update(
            state=DROPPED, next_attempt_at=None, last_error=f"{reason}: {detail}"[:ERROR_MAX]
        )
    return len(sub_ids), dropped


__all__ = [
    "DROPPED", "FAILED", "PENDING", "SENT", "claim_heads", "context_of", "disable_channel", "finish", "next_retry_at",
    "note_message", "note_published", "pending_count", "published_since", "release", "reschedule",
]  # fmt: skip
