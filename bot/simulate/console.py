"""The simulation's "Discord": a console sink that consumes pending deliveries and prints them.

It plays the delivery worker's part with the same rules (``bot.discord.delivery``): an opener
posts a new message that becomes the incident's alert in that channel; escalations,
de-escalations and updates edit that alert; the recovery is a reply to it, and the alert is
edited to say it is over. Rendering is the worker's: ``render_for(language, render_event, …)``
on the event stored in the delivery's ``IncidentEventRecord``, in the guild's time zone and
digits. Each delivery is marked sent, so nothing is printed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, TextIO

from tortoise.expressions import Q

from bot.ops import metrics
from bot.db.models import AlertMessage, Delivery, IncidentEventRecord
from bot.detect.model import EventKind, IncidentEvent
from bot.notify.outbox import OPENERS, record_event
from bot.notify.render import RenderedMessage, ServiceNames, render_event, render_for, render_resolved_alert

RULE = "\u2500" * 72


@dataclass(frozen=True, slots=True)
class Channel:
    """A simulated subscribed channel."""

    id: int
    name: str
    language: str  # ar | en | both
    guild_id: int
    tz: str = "UTC"
    digits: str = "latn"


@dataclass(frozen=True, slots=True)
class Received:
    """One thing a channel received: a new message, an edit of the alert, or a reply."""

    at: datetime
    channel: Channel
    kind: EventKind
    action: str  # new | edit | reply | edit-resolved
    messages: tuple[RenderedMessage, ...]
    event: IncidentEvent

    def text(self) -> str:
        return "\n\n".join(m.as_text() for m in self.messages)


ACTION_WORDS = {
    "new": "new message",
    "edit": "edits the alert",
    "reply": "reply to the alert",
    "edit-resolved": "edits the alert",
}
KIND_WORDS = {
    EventKind.OPENED: "alert",
    EventKind.ESCALATED: "escalation",
    EventKind.DEESCALATED: "de-escalation",
    EventKind.UPDATED: "update",
    EventKind.RESOLVED: "recovery",
    EventKind.UNSTABLE: "unstable notice",
}


class ConsoleSink:
    """Delivers pending ``Delivery`` rows to the console (see the module docstring)."""

    def __init__(
        self,
        names: Callable[[str], ServiceNames],
        channels: dict[int, Channel],
        *,
        show: set[int],
        out: TextIO,
    ) -> None:
        self.names = names
        self.channels = channels
        self.show = show
        self.out = out
        self.received: list[Received] = []
        self._next_message_id = 1
        self._last: dict[tuple[int, str], list[str]] = {}

    async def drain(self, now: datetime) -> list[Received]:
        """Deliver every pending delivery due at ``now``, in order."""
        due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        rows = await Delivery.filter(due, state="pending").order_by("id")
        if not rows:
            return []
        records = {r.id: r for r in await IncidentEventRecord.filter(id__in={d.event_id for d in rows})}  # type: ignore[attr-defined]
        done: list[Received] = []
        for d in rows:
            record = records[d.event_id]  # type: ignore[attr-defined]
            channel = self.channels.get(d.channel_id)
            if channel is None:
                continue
            done += await self._deliver(d, record, channel, now)
        for item in done:
            self.received.append(item)
            if item.channel.id in self.show:
                self._print(item)
        return done

    async def _deliver(self, d: Delivery, record: IncidentEventRecord, channel: Channel, now: datetime) -> list[Received]:
        event = record_event(record)
        names = self.names(event.service_id)
        incident_id: int = record.incident_id  # type: ignore[attr-defined]
        alert = await AlertMessage.filter(incident_id=incident_id, channel_id=d.channel_id).first()

        def render(fn: Callable[..., RenderedMessage]) -> tuple[RenderedMessage, ...]:
            return tuple(render_for(d.language, fn, event, names, tz=channel.tz, digits=channel.digits, now=now))

        out: list[Received] = []
        if event.kind is EventKind.RESOLVED:
            message_id = self._new_id()
            out.append(Received(now, channel, event.kind, "reply", render(render_event), event))
            if alert is not None:
                out.append(Received(now, channel, event.kind, "edit-resolved", render(render_resolved_alert), event))
        elif alert is not None and event.kind not in (EventKind.OPENED,):
            message_id = alert.message_id
            out.append(Received(now, channel, event.kind, "edit", render(render_event), event))
        else:
            message_id = self._new_id()
            out.append(Received(now, channel, event.kind, "new", render(render_event), event))
            if event.kind in OPENERS:
                if alert is None:
                    await AlertMessage.create(incident_id=incident_id, channel_id=d.channel_id, message_id=message_id)
                else:
                    await AlertMessage.filter(id=alert.id).update(message_id=message_id)
        await Delivery.filter(id=d.id).update(state="sent", sent_at=now, message_id=message_id, attempts=d.attempts + 1, next_attempt_at=None)
        metrics.deliveries.labels(outcome="sent").inc()
        return out

    def _new_id(self) -> int:
        self._next_message_id += 1
        return self._next_message_id

    def _print(self, item: Received) -> None:
        stamp = item.at.strftime("%H:%M:%S UTC")
        head = f"{stamp} \u00b7 {item.channel.name} ({item.channel.language}) \u00b7 {ACTION_WORDS[item.action]}"
        if item.action == "edit-resolved":
            head += " to show it is over"
        else:
            head += f" \u2014 {KIND_WORDS[item.kind]}"
        key = (item.channel.id, item.event.incident_key)
        texts = [m.as_text() for m in item.messages]
        shown = texts
        if item.action == "edit" and key in self._last:
            # an edit replaces the alert: show what changed, not the whole message again
            shown = [_changed(old, new) for old, new in zip(self._last[key], texts)]
            head += " (changed lines)"
        if item.action in ("new", "edit"):
            self._last[key] = texts
        print(f"\n{RULE}\n{head}\n{RULE}", file=self.out)
        print("\n\n\u00b7 \u00b7 \u00b7\n\n".join(_indent(t) for t in shown), file=self.out, flush=True)


def _changed(old: str, new: str) -> str:
    """The lines of ``new`` that ``old`` did not have, under the heading they belong to."""
    before = set(old.splitlines())
    out: list[str] = []
    heading: str | None = None
    for line in new.splitlines():
        if line.startswith("#"):
            heading = line
            if line not in before:
                out.append(line)
                heading = None
            continue
        if line and line not in before:
            if heading is not None:
                out.append(heading)
                heading = None
            out.append(line)
    return "\n".join(out) or "(no visible change)"


def _indent(text: str) -> str:
    return "\n".join(("  " + line) if line else "" for line in text.splitlines())
