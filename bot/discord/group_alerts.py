"""Where a channel reads a provider's outage and the services that fell with it as one message
(``bot.detect.upstream``): which incidents that message carries, which message it is, and
what it shows. The delivery worker sends and edits; this module only reads and records rows.

How it holds together:

- The monitor puts the group on every event of an open incident that belongs to one
  (``extra["group"]``). A delivery of such an event joins the grouped message when its channel
  follows at least two of the group's services in the delivery's language (whole-service
  subscriptions, delivered directly; ``all`` counts as every service).
- The grouped message is the channel's existing alert for any of those incidents (the
  provider's alert, say, posted before anything else failed) edited into the grouped form, or
  a new message. Every incident it carries gets an ``AlertMessage`` row pointing at it, with
  the group's key: from then on every event of those incidents — recoveries too, which carry
  no group — edits that one message.
- The recovery reply goes out once, with the event of the last of the channel's incidents to
  recover.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from tortoise.transactions import in_transaction

from bot.db.models import AlertMessage, Incident, IncidentEventRecord, Subscription
from bot.detect.model import EventKind, IncidentEvent
from bot.detect.national import context_from_extra, merge_contexts
from bot.detect.serialize import event_from_dict
from bot.sources.base import SourceRole
from bot.detect.upstream import GROUP, followed_together, group_from_extra
from bot.notify.render.group import GroupLine, GroupView
from bot.notify.render.message import ServiceNames
from bot.status import Status

#: the prefix of a group's key before its provider's incident key (``upstream.Group.key``)
_KEY_PREFIX = "group:"


@dataclass(frozen=True, slots=True)
class ChannelGroup:
    """A group as one channel reads it: its key, the provider's incident, the channel's
    incidents of the group (this delivery's among them) and the message that carries them."""

    key: str
    provider: Incident | None
    incidents: tuple[Incident, ...]
    anchor: int | None
    #: the channel's alerts of the group's incidents, as they were before this delivery: message id → service
    alerts: tuple[tuple[int, str], ...] = ()

    def absorbed(self, message_id: int) -> list[tuple[int, str]]:
        """The channel's earlier alerts of the group's incidents that are not the grouped
        message: each is edited once to point at it (their rows then point at the group)."""
        return [(m, service) for m, service in self.alerts if m != message_id]

    @property
    def over(self) -> bool:
        return all(i.resolved_at is not None for i in self.incidents)

    def last_to_recover(self, incident_id: int) -> bool:
        """Whether ``incident_id``'s recovery is the one that ended the channel's group."""
        if not self.over:
            return False
        last = max(self.incidents, key=lambda i: (i.resolved_at, i.id))
        return last.id == incident_id

    def view(self, names: Callable[[str], ServiceNames], latest: Mapping[int, IncidentEvent]) -> GroupView:
        """What the message shows: each incident's state from its row, its user reports from
        its latest event (``latest``: incident id → event), and IODA's word on the countries of
        every incident still open, merged (``merge_contexts``)."""
        provider = self.provider or min(self.incidents, key=lambda i: (i.started_at, i.id))
        members = sorted((i for i in self.incidents if i.id != provider.id), key=lambda i: (i.started_at, i.service_id))
        open_ids = {i.id for i in (provider, *members) if i.resolved_at is None}
        said = sorted((e for i, e in latest.items() if i in open_ids), key=lambda e: e.at)
        internet = merge_contexts(ctx for ctx in (context_from_extra(e.extra) for e in said) if ctx is not None)
        return GroupView(
            _line(provider, names, latest.get(provider.id)), tuple(_line(i, names, latest.get(i.id)) for i in members),
            over=self.over, internet=internet,
        )  # fmt: skip

    async def latest_events(self) -> dict[int, IncidentEvent]:
        """The latest event of each incident shown (the provider's too), in one query."""
        ids = {i.id for i in self.incidents} | ({self.provider.id} if self.provider is not None else set())
        out: dict[int, IncidentEvent] = {}
        for record in await IncidentEventRecord.filter(incident_id__in=ids).order_by("-id"):
            out.setdefault(record.incident_id, event_from_dict(record.payload))  # type: ignore[attr-defined]
        return out


async def channel_group(channel_id: int, language: str, incident_id: int, event: IncidentEvent) -> ChannelGroup | None:
    """The group this delivery's event is read in, in its channel, or None for a per-service
    alert."""
    row = await AlertMessage.get_or_none(incident_id=incident_id, channel_id=channel_id)
    if row is not None and row.group_key:
        rows = await AlertMessage.filter(channel_id=channel_id, group_key=row.group_key)
        incidents = await Incident.filter(id__in={r.incident_id for r in rows} | {incident_id})  # type: ignore[attr-defined]
        return ChannelGroup(row.group_key, await _provider(row.group_key), tuple(incidents), row.message_id)
    ref = group_from_extra(event.extra.get(GROUP))
    if ref is None or event.kind is EventKind.RESOLVED:
        return None
    subscribed: list[str] = await Subscription.filter(  # type: ignore[assignment]
        channel_id=channel_id, language=language, enabled=True, delivery="direct", component=None
    ).values_list("service_id", flat=True)
    followed = followed_together(ref.services, set(subscribed))
    if event.service_id not in followed:
        return None
    incidents = await Incident.filter(key__in=[ref.incidents[s] for s in followed])
    rows = await AlertMessage.filter(channel_id=channel_id, incident_id__in=[i.id for i in incidents]).order_by("id")
    anchor = next((r for r in rows if r.group_key == ref.key), rows[0] if rows else None)
    services = {i.id: i.service_id for i in incidents}
    alone = tuple(dict.fromkeys((r.message_id, services[r.incident_id]) for r in rows if r.group_key != ref.key))  # type: ignore[attr-defined]
    return ChannelGroup(ref.key, await _provider(ref.key), tuple(incidents), anchor.message_id if anchor else None, alone)


async def record_group(channel_id: int, group: ChannelGroup, message_id: int) -> None:
    """Point every incident of the channel's group at the grouped message."""
    async with in_transaction() as conn:
        for incident in group.incidents:
            updated = await AlertMessage.filter(incident_id=incident.id, channel_id=channel_id).using_db(conn).update(
                message_id=message_id, group_key=group.key
            )
            if not updated:
                await AlertMessage.create(
                    incident_id=incident.id, channel_id=channel_id, message_id=message_id, group_key=group.key, using_db=conn
                )


async def _provider(key: str) -> Incident | None:
    return await Incident.get_or_none(key=key.removeprefix(_KEY_PREFIX)) if key.startswith(_KEY_PREFIX) else None


def _line(incident: Incident, names: Callable[[str], ServiceNames], latest: IncidentEvent | None) -> GroupLine:
    resolved = incident.resolved_at is not None
    status = Status(incident.peak_status if resolved else incident.status)
    crowd = next((e for e in latest.evidence if e.role is SourceRole.CROWD), None) if latest is not None else None
    confidence = latest.confidence if latest is not None and not resolved else None
    return GroupLine(names(incident.service_id), status, incident.started_at, incident.resolved_at, crowd, confidence)


__all__ = ["ChannelGroup", "channel_group", "record_group"]
