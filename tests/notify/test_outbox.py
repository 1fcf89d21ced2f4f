"""Who gets a delivery for an incident event, and the nonce that makes a retry harmless."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from bot.db.models import Delivery, Incident, IncidentEventRecord, Subscription
from bot.detect.model import EventKind, IncidentEvent
from bot.detect.serialize import event_to_dict
from bot.notify.outbox import base36, choose, create_deliveries, delivery_nonce, meets, record_event
from bot.status import Status
from tests.conftest import TestDB

AT = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
OPENED = IncidentEvent(
    kind=EventKind.OPENED, service_id="github", incident_key="github-1", at=AT, status=Status.PARTIAL_OUTAGE,
    confidence=None, started_at=AT,
)


def sub(id: int, channel: int, service: str = "github", min_severity: str = "degraded", enabled: bool = True) -> Subscription:
    return Subscription(id=id, guild_id=1, channel_id=channel, service_id=service, min_severity=min_severity,
                        enabled=enabled, language="en")


@pytest.mark.parametrize(
    ("status", "minimum", "expected"),
    [
        (Status.DEGRADED, "degraded", True),
        (Status.DEGRADED, "partial_outage", False),
        (Status.PARTIAL_OUTAGE, "partial_outage", True),
        (Status.MAJOR_OUTAGE, "partial_outage", True),
        (Status.PARTIAL_OUTAGE, "major_outage", False),
        (Status.MAINTENANCE, "degraded", False),
        (Status.OPERATIONAL, "degraded", False),
        (Status.DEGRADED, "nonsense", True),  # an unreadable minimum falls back to the default
    ],
)
def test_meets(status: Status, minimum: str, expected: bool) -> None:
    assert meets(status, minimum) is expected


def test_openers_go_to_matching_enabled_subscriptions_once_per_channel() -> None:
    subs = [
        sub(1, 10, "all"),
        sub(2, 11, min_severity="major_outage"),
        sub(3, 12, enabled=False),
        sub(4, 13, "discord"),
        sub(5, 14, "all"),
        sub(6, 14, "github"),  # same channel as 5: the service-specific one wins
    ]
    chosen = choose(OPENED, subs, served={})
    assert [s.id for s in chosen] == [1, 6]


def test_follow_ups_go_only_to_channels_that_got_the_alert() -> None:
    subs = [sub(1, 10, "all"), sub(2, 11, min_severity="major_outage"), sub(7, 15)]
    resolved = replace(OPENED, kind=EventKind.RESOLVED, status=Status.OPERATIONAL)
    served = {10: {1}, 11: {2}}
    assert [s.id for s in choose(resolved, subs, served)] == [1, 2]
    updated = replace(OPENED, kind=EventKind.UPDATED, status=Status.DEGRADED)
    assert [s.id for s in choose(updated, subs, served)] == [1, 2]  # below 11's minimum: still its thread


def test_escalation_reaches_channels_whose_minimum_it_now_meets() -> None:
    subs = [sub(1, 10), sub(2, 11, min_severity="major_outage"), sub(3, 12, min_severity="major_outage")]
    escalated = replace(OPENED, kind=EventKind.ESCALATED, status=Status.MAJOR_OUTAGE)
    assert [s.id for s in choose(escalated, subs, served={10: {1}})] == [1, 2, 3]
    deescalated = replace(OPENED, kind=EventKind.DEESCALATED, status=Status.DEGRADED)
    assert [s.id for s in choose(deescalated, subs, served={10: {1}, 11: {2}})] == [1, 2]


def test_a_channel_keeps_the_subscription_that_served_the_alert() -> None:
    subs = [sub(5, 14, "all"), sub(6, 14, "github")]
    update = replace(OPENED, kind=EventKind.UPDATED)
    assert [s.id for s in choose(update, subs, served={14: {5}})] == [5]


def test_nonce_is_short_deterministic_and_distinct() -> None:
    assert base36(0) == "0" and base36(35) == "z" and base36(36) == "10"
    assert delivery_nonce(1, 2) == delivery_nonce(1, 2) == "o1-2"
    biggest = delivery_nonce(2**31 - 1, 2**31 - 1)
    assert len(biggest) <= 25
    huge = delivery_nonce(2**80, 2**80)
    assert len(huge) <= 25 and huge != delivery_nonce(2**80, 2**80 + 1)
    nonces = {delivery_nonce(e, s) for e in range(1, 40) for s in range(1, 40)}
    assert len(nonces) == 39 * 39


async def test_create_deliveries_is_idempotent(db: TestDB) -> None:
    a = await Subscription.create(guild_id=1, channel_id=10, service_id="all")
    b = await Subscription.create(guild_id=1, channel_id=11, service_id="github", language="ar")
    await Subscription.create(guild_id=1, channel_id=12, service_id="github", enabled=False)
    await Subscription.create(guild_id=1, channel_id=13, service_id="github", delivery="follow")  # Discord copies the hub's
    await Subscription.create(guild_id=1, channel_id=14, service_id="gitlab")
    incident = await Incident.create(key="github-1", service_id="github", status="partial_outage",
                                     peak_status="partial_outage", started_at=AT)
    record = await IncidentEventRecord.create(incident=incident, kind="opened", at=AT, status="partial_outage",
                                              payload=event_to_dict(OPENED))
    first = await create_deliveries(record, incident, OPENED)
    assert sorted((d.channel_id, d.subscription_id, d.language) for d in first) == [(10, a.id, "en"), (11, b.id, "ar")]
    assert await create_deliveries(record, incident, OPENED) == []
    rows = await Delivery.filter(event=record)
    assert len(rows) == 2
    assert {d.nonce for d in rows} == {delivery_nonce(record.id, a.id), delivery_nonce(record.id, b.id)}
    assert all(d.state == "pending" and d.next_attempt_at == AT for d in rows)
    assert all(d.attempts == 0 and d.created_at is not None and d.sent_at is None and d.message_id is None for d in rows)
    assert record_event(record) == OPENED


async def test_a_fan_out_larger_than_a_chunk_is_written_whole_in_the_detectors_transaction(
    db: TestDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deliveries are written a chunk per statement (the loop runs between two): every
    channel gets exactly one, and a transaction that fails after them leaves none."""
    from tortoise.transactions import in_transaction

    import bot.notify.outbox as outbox

    monkeypatch.setattr(outbox, "FANOUT_CHUNK", 4)
    await Subscription.bulk_create(
        [Subscription(guild_id=1, channel_id=100 + i, service_id=("github", "all")[i % 2], language="ar") for i in range(11)]
    )
    incident = await Incident.create(key="github-1", service_id="github", status="partial_outage",
                                     peak_status="partial_outage", started_at=AT)

    async def event_record() -> IncidentEventRecord:
        return await IncidentEventRecord.create(incident=incident, kind="opened", at=AT, status="partial_outage",
                                                payload=event_to_dict(OPENED))

    with pytest.raises(RuntimeError):
        async with in_transaction() as conn:
            record = await event_record()
            assert len(await create_deliveries(record, incident, OPENED, using_db=conn)) == 11
            raise RuntimeError("the detector's transaction fails after its deliveries")
    assert await Delivery.all().count() == 0

    async with in_transaction() as conn:
        record = await event_record()
        created = await create_deliveries(record, incident, OPENED, using_db=conn)
    rows = await Delivery.filter(event=record).order_by("channel_id").values_list("channel_id", "subscription_id", "nonce")
    ids = sorted((s.channel_id, s.id) for s in await Subscription.all())
    assert [(c, s) for c, s, _ in rows] == ids and len(created) == len(ids) == 11
    assert [n for _, _, n in rows] == [delivery_nonce(record.id, s) for _, s in ids]
