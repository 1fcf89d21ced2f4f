"""The grouped alert: one message for a provider's outage and the services that fell with it,
in a channel that follows several of them ("Cloudflare outage — also affecting Discord, X,
ChatGPT"), edited as services join and recover, and its one recovery reply (pure).

Which incidents form a group, and which channels read them as one message, is decided in
``bot.detect.upstream``; the delivery worker builds a ``GroupView`` from the incidents' current
rows and calls these functions. Every line names its service, its state and since when (or
how long it lasted), so the message reads right whichever event edited it last.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.detect.model import Confidence, Evidence
from bot.detect.national import InternetContext
from bot.i18n import Text, Translator
from bot.notify.render.evidence import countries_phrase, crowd_line
from bot.notify.render.internet import context_line
from bot.notify.render.message import RenderedMessage, ServiceNames
from bot.notify.render.phrases import (
    DEFAULT_CROWD_WINDOW, at_phrase, capitalized, framed, safe_link, service_name, since_phrase, status_color,
)
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
    #: the user reports its latest event counted (crowd evidence), if any
    crowd: Evidence | None = None
    #: how sure its latest event is (words: ``status_word``); None once it recovered
    confidence: Confidence | None = None

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
    #: what IODA said of the reporting countries on the latest event that said something
    internet: InternetContext | None = None
    crowd_window: timedelta = DEFAULT_CROWD_WINDOW

    @property
    def countries(self) -> tuple[str, ...]:
        """Every country reporting any of the services still down, the most widely reporting first."""
        tally: Counter[str] = Counter()
        for line in self.lines:
            e = line.crowd
            if e is not None and not line.over and e.reports and (e.usual is None or e.reports > e.usual):  # above usual only
                tally.update(dict.fromkeys(e.countries, 1))
        return tuple(code for code, _ in sorted(tally.items(), key=lambda kv: (-kv[1], list(tally).index(kv[0]))))

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
        if view.countries:
            lines.append(Text(capitalized(countries_phrase(t, view.countries))))
        internet = context_line(t, view.internet, services, now)
        if internet:
            lines.append(internet)
        color = _worst_color(view)
    fields = [] if view.over else _reports_field(t, view)
    return framed(
        t, view.provider.names, (), title=title, description="\n".join(lines), color=color, fields=fields,
        url=safe_link(view.provider.names.status_url),
    )  # fmt: skip


def _reports_field(t: Translator, view: GroupView) -> list[tuple[str, str]]:
    """Each service's user reports, as its own alert would count them."""
    rows = []
    for line in view.lines:
        e = line.crowd
        if e is None or line.over or not e.reports:
            continue
        counted = crowd_line(t, e.reports, e.usual, view.crowd_window)
        # NOTE: one service's user reports in a grouped outage: "X: 1,240 reports in the last 15 minutes (usually 12)"
        rows.append(t.gettext("{service}: {reports}", service=service_name(line.names, t), reports=counted))
    return [(t.gettext("User reports"), "\n".join(rows))] if rows else []


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


def render_group_pointer(names: ServiceNames, provider: ServiceNames, link: str, *, t: Translator, now: datetime) -> RenderedMessage:
    """A service's own alert, posted before its provider's outage was known, once the grouped
    message carries it: edited to point there (``link``: Discord's link to that message)."""
    del now  # nothing here depends on the time
    service, upstream = service_name(names, t), service_name(provider, t)
    label = t.gettext("Go to that message")
    return framed(
        t, names, (), title=t.gettext("{service}: part of the {provider} outage", service=service, provider=upstream),
        description="\n".join([
            t.gettext("This alert continues in one message for every service hit by the {provider} outage.", provider=upstream),
            f"[{label}]({link})",  # the URL is hidden, so it needs no isolate
        ]),  # fmt: skip
        color=COLORS[Status.UNKNOWN], url=safe_link(names.status_url),
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
    return t.gettext("{service}: {status} {since}", service=service, status=status_word(t, line.status, line.confidence), since=since_phrase(t, line.started_at, now))


def _worst_color(view: GroupView) -> int:
    """The colour of the worst state among the services still down."""
    open_lines = [line.status for line in view.lines if not line.over]
    return status_color(Status.worst(*open_lines)) if open_lines else COLORS[Status.OPERATIONAL]
