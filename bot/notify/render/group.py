"""The grouped alert: one message for a provider's outage and the services that fell with it,
in a channel that follows several of them ("Cloudflare outage — also affecting Discord, X,
ChatGPT"), edited as services join and recover, and its one recovery reply (pure).

Which incidents form a group, and which channels read them as one message, is decided in
``bot.detect.upstream``; the delivery worker builds a ``GroupView`` from the incidents' current
rows and calls these functions. Every line names its service, its state and since when (or
how long it lasted), so the message reads right whichever event edited it last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.i18n import Text, Translator
from bot.notify.render.message import RenderedMessage, ServiceNames
from bot.notify.render.phrases import at_phrase, framed, safe_link, service_name, since_phrase, status_color
from bot.notify.render.words import COLORS, status_word
from bot.status import Status


@dataclass(frozen=True, slots=True)
class GroupLine:
    """One service of the group as the message shows it: its state now (its worst state once
    it recovered) and its incident's times."""

    names: ServiceNames
    status: Status
    started_at: datetime
    resolved_at: datetime | None = None

    @property
    def over(self) -> bool:
        return self.resolved_at is not None


@dataclass(frozen=True, slots=True)
class GroupView:
    """What one channel reads of a group: the provider (always shown: it is the cause) and the
    channel's other services of the group, in order of start. ``over`` when every incident the
    channel follows has recovered."""

    provider: GroupLine
    members: tuple[GroupLine, ...]
    over: bool

    @property
    def lines(self) -> tuple[GroupLine, ...]:
        return (self.provider, *self.members)

    @property
    def started_at(self) -> datetime:
        return min(line.started_at for line in self.lines)

    @property
    def resolved_at(self) -> datetime:
        """When the last of them recovered (only meaningful once ``over``)."""
        return max((line.resolved_at for line in self.lines if line.resolved_at is not None), default=self.started_at)


def render_group_alert(view: GroupView, *, t: Translator, now: datetime) -> RenderedMessage:
    """The grouped alert, and the same message as services join, change and recover; once
    ``over``, the message edited to say so (the reply tells the rest)."""
    provider = service_name(view.provider.names, t)
    services = t.list([service_name(m.names, t) for m in view.members])
    lines = [_line(t, line, now) for line in view.lines]
    if view.over:
        title = t.gettext("Resolved: the {provider} outage that also affected {services}", provider=provider, services=services)
        color = COLORS[Status.OPERATIONAL]
    else:
        title = t.gettext("{provider} outage — also affecting {services}", provider=provider, services=services)
        # NOTE: {provider} is an infrastructure provider (Cloudflare, AWS…); the services that follow depend on it
        lines.insert(0, t.gettext("These services rely on {provider}, which is down at the same time: most likely one outage, not several.", provider=provider))
        color = _worst_color(view)
    return framed(t, view.provider.names, (), title=title, description="\n".join(lines), color=color, url=safe_link(view.provider.names.status_url))


def render_group_recovery(view: GroupView, *, t: Translator, now: datetime) -> RenderedMessage:
    """The one recovery reply, when every service of the group that the channel follows is back."""
    provider = service_name(view.provider.names, t)
    lines = [
        t.gettext(
            "The outage lasted {duration}, from {start} to {end}.",
            duration=t.span(view.started_at, view.resolved_at),
            start=t.when(view.started_at, now),
            end=t.when(view.resolved_at, now),
        )
    ]
    lines.extend(_line(t, line, now) for line in view.lines)
    title = t.gettext("All services hit by the {provider} outage are back", provider=provider)
    return framed(
        t, view.provider.names, (), title=title, description="\n".join(lines), color=COLORS[Status.OPERATIONAL],
        url=safe_link(view.provider.names.status_url),
    )  # fmt: skip


def _line(t: Translator, line: GroupLine, now: datetime) -> Text:
    service = service_name(line.names, t)
    if line.resolved_at is not None:
        # NOTE: one service of a grouped outage that recovered; {at} is "at 2:03 PM"
        return t.gettext(
            "{service}: back {at}, after {duration}",
            service=service, at=at_phrase(t, line.resolved_at, now), duration=t.span(line.started_at, line.resolved_at),
        )  # fmt: skip
    # NOTE: one service of a grouped outage: "Discord: major outage since 12:51 PM"
    return t.gettext("{service}: {status} {since}", service=service, status=status_word(t, line.status), since=since_phrase(t, line.started_at, now))


def _worst_color(view: GroupView) -> int:
    """The colour of the worst state among the services still down."""
    open_lines = [line.status for line in view.lines if not line.over]
    return status_color(Status.worst(*open_lines)) if open_lines else COLORS[Status.OPERATIONAL]
