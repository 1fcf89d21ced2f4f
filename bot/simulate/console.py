"""The simulation's "Discord": a console transport for the real delivery worker.

``python -m bot simulate`` runs ``bot.discord.delivery.DeliveryWorker`` — its claims, event
order, alert/edit/reply rules, retries, rendering in the guild's time zone and digits, charts —
with this ``Transport`` in place of Discord's REST API. Each message the worker sends, edits or
replies with is recorded as a ``Received`` and, for the channel being shown, printed (an edit
shows only the lines that changed). Like Discord with ``enforce_nonce``, a post repeated with
the same nonce returns the first message.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence, TextIO

from bot.detect.model import EventKind, IncidentEvent
from bot.discord.transport import Outgoing
from bot.notify.render import RenderedMessage

RULE = "\u2500" * 72


@dataclass(frozen=True, slots=True)
class Channel:
    """A simulated subscribed channel."""

    id: int
    name: str
    language: str  # ar | en | both
    guild_id: int


@dataclass(frozen=True, slots=True)
class Received:
    """One thing a channel received: a new message, an edit of the alert, or a reply."""

    at: datetime
    channel: Channel
    kind: EventKind
    action: str  # new | edit | reply | edit-resolved
    messages: tuple[RenderedMessage, ...]
    event: IncidentEvent
    message_id: int

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


class ConsoleTransport:
    """Records and prints what the delivery worker sends (see the module docstring); with
    ``charts``, writes the PNG charts the shown channel's messages carry into that folder."""

    def __init__(
        self,
        channels: dict[int, Channel],
        *,
        show: set[int],
        out: TextIO,
        clock: Callable[[], datetime],
        charts: Path | None = None,
    ) -> None:
        self.channels = channels
        self.show = show
        self.out = out
        self.clock = clock
        self.charts = charts
        self.received: list[Received] = []
        self._ids = itertools.count(1)
        self._by_nonce: dict[str, int] = {}
        self._last: dict[tuple[int, int], list[str]] = {}

    def is_closed(self) -> bool:
        return False

    async def send(self, out: Outgoing) -> int:
        if out.nonce is not None and out.nonce in self._by_nonce:
            return self._by_nonce[out.nonce]
        message_id = next(self._ids)
        if out.nonce is not None:
            self._by_nonce[out.nonce] = message_id
        self._record(out, "reply" if out.reply_to is not None else "new", message_id)
        return message_id

    async def edit(self, out: Outgoing, message_id: int) -> None:
        self._record(out, "edit-resolved" if out.over else "edit", message_id)

    def _record(self, out: Outgoing, action: str, message_id: int) -> None:
        channel = self.channels[out.channel_id]
        item = Received(self.clock(), channel, out.event.kind, action, tuple(out.messages), out.event, message_id)
        self.received.append(item)
        if channel.id in self.show:
            self._print(item)
            if self.charts is not None and out.files:
                self._write_charts(item, out.files)

    def _write_charts(self, item: Received, files: Sequence[tuple[str, bytes]]) -> None:
        assert self.charts is not None
        self.charts.mkdir(parents=True, exist_ok=True)
        for name, png in files:
            path = self.charts / f"{item.at:%H%M%S}-{item.kind.value}-{name}"
            path.write_bytes(png)
            print(f"  [chart: {path}]", file=self.out)

    def _print(self, item: Received) -> None:
        stamp = item.at.strftime("%H:%M:%S UTC")
        head = f"{stamp} \u00b7 {item.channel.name} ({item.channel.language}) \u00b7 {ACTION_WORDS[item.action]}"
        if item.action == "edit-resolved":
            head += " to show it is over"
        else:
            head += f" \u2014 {KIND_WORDS[item.kind]}"
        key = (item.channel.id, item.message_id)
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
