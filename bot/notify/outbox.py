"""The outbox: turn one persisted incident event into delivery rows, in the caller's transaction.

``Monitor`` calls ``create_deliveries`` inside the transaction that writes the event, so an
event and its deliveries exist together or not at all; delivery workers then only read
``Delivery`` rows (state ``pending``) and never have to re-derive who should hear what.

Who gets a delivery (one per channel at most):

* **Openers** — ``opened``, ``unstable`` (the flapping notice, which replaces an opening) and
  ``escalated`` — go to every enabled subscription for the service or ``all`` whose
  ``min_severity`` is at or below the event's status. ``escalated`` is an opener too: a
  channel that asked for major outages only hears about an incident first when it escalates
  to one.
* **Follow-ups** — ``updated``, ``deescalated``, ``resolved`` — go only to channels that
  already got a delivery for this incident. That is "match on the incident's peak severity"
  made exact: the channel that got the alert gets its recovery even when the last status was
  below its minimum, and a channel that never saw the alert (subscribed mid-incident, or its
  minimum was never reached) gets no orphan "resolved" reply. Escalations are delivered to
  already-alerted channels regardless of their minimum as well (their alert is edited).
* A channel subscribed both to the service and to ``all`` gets one message: the
  subscription that already served this incident in that channel wins, else the
  service-specific one (its language and role were chosen for that service), else ``all``.
* Disabled subscriptions get nothing.
* A **component subscription** (``component`` set: "GitHub Actions") hears an opener only when
  the official page lists that component as affected in the event's evidence
  (``component_wanted``; names match case-insensitively, as pages write them). Once it got the
  alert it hears the follow-ups like any other, so its recovery notice arrives even after
  the page has stopped listing the component. In a channel that also follows the whole
  service or ``all``, the component subscription is the more specific one and wins.

Truth table of ``wants`` (``served``: the channel already got this incident's alert)::

    enabled  service matches  served  opener  severity met  component wanted │ delivered
    no       -                -       -       -             -                │ no
    yes      no               -       -       -             -                │ no
    yes      yes              yes     -       -             -                │ yes
    yes      yes              no      no      -             -                │ no
    yes      yes              no      yes     no            -                │ no
    yes      yes              no      yes     yes           no               │ no
    yes      yes              no      yes     yes           yes              │ yes
* Disabled subscriptions get nothing, and neither do ``follow`` subscriptions: their channel
  gets Discord's copy of the message the bot publishes in the hub it follows (a ``hub``
  subscription, delivered like any channel).

Each delivery has a deterministic ``nonce`` (≤ 25 characters, from the event record id and the
subscription id): a retry after a crash sends the same nonce, and Discord (``enforce_nonce``)
returns the first message instead of posting a second. Creating deliveries twice for one
event is harmless: pairs that exist are skipped (and ``(event, subscription)`` is unique).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from datetime import datetime, timezone
from typing import Any, Iterable, NamedTuple, Protocol, TypeVar

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

from bot.catalog import ALL
from bot.db.batch import insert_many, marks
from bot.db.models import Delivery, Incident, IncidentEventRecord, Subscription
from bot.detect.model import EventKind, IncidentEvent
from bot.detect.serialize import event_from_dict, event_to_dict
from bot.sources.base import SourceRole
from bot.status import Status

OPENERS = frozenset({EventKind.OPENED, EventKind.UNSTABLE, EventKind.ESCALATED})
FOLLOW_UPS = frozenset({EventKind.UPDATED, EventKind.DEESCALATED, EventKind.RESOLVED})
#: Subscription.delivery of a channel that follows a hub announcement channel
FOLLOW = "follow"
NONCE_MAX = 25  # Discord's limit for a message nonce string
#: delivery rows written per statement: the loop runs other tasks between two (``insert_many``)
FANOUT_CHUNK = 2000
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(n: int) -> str:
    if n < 0:
        raise ValueError("negative id")
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _DIGITS[r] + out
        if n == 0:
            return out


def delivery_nonce(event_record_id: int, subscription_id: int) -> str:
    """``o<event>-<subscription>`` in base 36 (a hash of them if that ever exceeds 25 chars)."""
    nonce = f"o{base36(event_record_id)}-{base36(subscription_id)}"
    if len(nonce) <= NONCE_MAX:
        return nonce
    digest = hashlib.blake2b(nonce.encode(), digest_size=12).hexdigest()
    return "h" + digest[: NONCE_MAX - 1]


def meets(status: Status, min_severity: str) -> bool:
    """``status`` is at or above a subscription's minimum severity (an unknown minimum counts
    as ``degraded``, the default; maintenance and unknown never meet one)."""
    return status.severity is not None and status.severity >= _floor(min_severity)


@functools.lru_cache(maxsize=64)
def _floor(min_severity: str) -> int:
    """The lowest severity a minimum lets through (cached: a fan-out asks it once per
    subscription, of a handful of distinct minimums)."""
    try:
        minimum = Status(min_severity)
    except ValueError:
        minimum = Status.DEGRADED
    return minimum.severity if minimum.severity and minimum.severity > 0 else 1


def affected_components(event: IncidentEvent) -> frozenset[str]:
    """The case-folded names of the components the event's official evidence lists as affected."""
    return frozenset(
        name.strip().casefold() for ev in event.evidence if ev.role is SourceRole.OFFICIAL for name in ev.components
    )


def component_wanted(component: str | None, affected: frozenset[str]) -> bool:
    """A subscription without a component wants every event; one with a component only those
    whose official page lists it as affected."""
    return component is None or component.strip().casefold() in affected


def wants(
    *, enabled: bool, service_matches: bool, served: bool, opener: bool, severity_met: bool, component_ok: bool
) -> bool:
    """Whether one subscription receives one event (the truth table in the module docstring)."""
    if not enabled or not service_matches:
        return False
    if served:
        return True
    return opener and severity_met and component_ok


class _Chooseable(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def channel_id(self) -> int: ...
    @property
    def service_id(self) -> str: ...
    @property
    def min_severity(self) -> str: ...
    @property
    def component(self) -> str | None: ...
    @property
    def enabled(self) -> bool: ...


#: a ``Subscription`` or a ``SubscriptionRow``
_Sub = TypeVar("_Sub", bound=_Chooseable)


def choose(
    event: IncidentEvent,
    subscriptions: Iterable[_Sub],
    served: dict[int, set[int]],
) -> list[_Sub]:
    """The subscriptions to deliver ``event`` to (see the module docstring); pure.

    ``served`` maps a channel id to the ids of the subscriptions that already got a delivery
    for this incident in that channel.
    """
    by_channel: dict[int, list[_Sub]] = {}
    affected = affected_components(event)
    opener = event.kind in OPENERS
    for sub in subscriptions:
        component = sub.component
        if wants(
            enabled=sub.enabled,
            service_matches=sub.service_id in (event.service_id, ALL),
            served=sub.channel_id in served,
            opener=opener,
            severity_met=meets(event.status, sub.min_severity),
            component_ok=component_wanted(component, affected),
        ):
            by_channel.setdefault(sub.channel_id, []).append(sub)

    def rank(sub: _Sub) -> tuple[int, int, int]:
        earlier = sub.id in served.get(sub.channel_id, set())
        specific = 0 if sub.component else 1 if sub.service_id != ALL else 2
        return (0 if earlier else 1, specific, sub.id)

    return [min(subs, key=rank) for _, subs in sorted(by_channel.items())]


class SubscriptionRow(NamedTuple):
    """What ``choose`` reads of a subscription, read as plain values: an alert to 20,000
    channels built a model object per subscription and per delivery (1.8 s of CPU with the
    loop stopped, inside the detector's transaction)."""

    id: int
    channel_id: int
    service_id: str
    language: str
    min_severity: str
    component: str | None
    enabled: bool


class NewDelivery(NamedTuple):
    """A delivery row ``create_deliveries`` wrote."""

    channel_id: int
    subscription_id: int
    language: str


_DELIVERY_COLUMNS = (
    "event_id", "subscription_id", "channel_id", "language", "nonce", "state", "attempts", "next_attempt_at", "created_at",
)  # fmt: skip


async def create_deliveries(
    record: IncidentEventRecord,
    incident: Incident,
    event: IncidentEvent,
    *,
    using_db: BaseDBAsyncClient | None = None,
) -> list[NewDelivery]:
    """Write the pending deliveries of ``record`` (idempotent); returns the ones created now.
    Plain values, no model object per row, ``FANOUT_CHUNK`` rows a statement: its first message
    waits for the detector's transaction to commit, and the loop must not wait meanwhile."""
    conn = using_db or Tortoise.get_connection("default")
    subscriptions = await _subscriptions(conn, event.service_id)
    earlier = await (
        Delivery.filter(event__incident_id=incident.id)
        .using_db(using_db)
        .values_list("channel_id", "subscription_id")
    )
    served: dict[int, set[int]] = {}
    for channel_id, subscription_id in earlier:
        served.setdefault(int(channel_id), set()).add(int(subscription_id))
    existing = set(
        await Delivery.filter(event_id=record.id).using_db(using_db).values_list("subscription_id", flat=True)
    )
    created = [NewDelivery(sub.channel_id, sub.id, sub.language) for sub in choose(event, subscriptions, served) if sub.id not in existing]
    await asyncio.sleep(0)  # reading and choosing 20,000 subscriptions is enough for one turn of the loop
    written = datetime.now(timezone.utc)
    rows = (
        {"event_id": record.id, "subscription_id": d.subscription_id, "channel_id": d.channel_id, "language": d.language,
         "nonce": delivery_nonce(record.id, d.subscription_id), "state": "pending", "attempts": 0,
         "next_attempt_at": event.at, "created_at": written}
        for d in created
    )  # fmt: skip
    await insert_many(conn, Delivery, _DELIVERY_COLUMNS, rows, chunk=FANOUT_CHUNK)
    return created


async def _subscriptions(conn: BaseDBAsyncClient, service_id: str) -> list[SubscriptionRow]:
    """The enabled subscriptions to ``service_id`` or ``all`` that are delivered to directly
    (Discord copies a hub's message into a ``follow`` channel), as plain values in one
    hand-written query: the ORM's ``values_list`` passes each of 20,000 rows' values through
    its field, 35 ms of the loop's time for the values the driver already returns."""
    table, columns = Subscription._meta.db_table, ", ".join(f'"{name}"' for name in SubscriptionRow._fields)
    service, everything, follow = marks(conn, 3)
    sql = (f'SELECT {columns} FROM "{table}" WHERE "enabled" AND "service_id" IN ({service}, {everything}) '
           f'AND "delivery" <> {follow}')
    _, rows = await conn.execute_query(sql, [service_id, ALL, FOLLOW])
    return [SubscriptionRow(*row) for row in rows]


def record_event(record: IncidentEventRecord) -> IncidentEvent:
    """The ``IncidentEvent`` a record stores (for the delivery worker's rendering)."""
    payload: Any = record.payload
    return event_from_dict(payload)


__all__ = [
    "FOLLOW_UPS",
    "OPENERS",
    "affected_components",
    "component_wanted",
    "wants",
    "base36",
    "choose",
    "NewDelivery",
    "SubscriptionRow",
    "create_deliveries",
    "delivery_nonce",
    "event_from_dict",
    "event_to_dict",
    "meets",
    "record_event",
]
