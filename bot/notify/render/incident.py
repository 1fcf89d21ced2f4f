"""The messages of an incident: the alert (OPENED, edited in place as it escalates, eases or
the official page posts an update), the recovery reply (RESOLVED), the alert edited once it is
over, and the one notice for a flapping service (UNSTABLE) (pure).

* An incident that was worse and now rests on user reports alone is "X is having problems — our
  checks find nothing wrong now, but user reports are still above normal", not "possible
  problems … not confirmed" (``phrases.is_eased``).
* The recovery notice shows the peak of user reports, per crowd window, only when it stood out:
  at least 5 and twice the usual (``_peak_worth_telling``).
* Durations are counted between the clock times shown beside them (``Translator.span``).
* The resolved alert says "was disrupted", "was partially down" or "was down" by the incident's
  peak status (``extra["peak_status"]`` of the RESOLVED event).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.detect.crowd import CrowdConfig
from bot.detect.model import EventKind, IncidentEvent
from bot.detect.track_record import RECORD, NoteKind, note_from_extra
from bot.detect.upstream import UPSTREAM
from bot.i18n import Text, Translator
from bot.notify.render.evidence import components_field, evidence_fields, update_field
from bot.notify.render.internet import event_context_line
from bot.notify.render.message import RenderedMessage, ServiceNames
from bot.notify.render.phrases import (
    DEFAULT_CROWD_WINDOW,
    at_phrase,
    by_role,
    confidence_line,
    framed,
    headline,
    is_eased,
    link_line,
    service_name,
    state_line,
    status_color,
    status_or_none,
    status_page_url,
)
from bot.notify.render.words import COLORS, UNSTABLE_COLOR, status_word
from bot.sources.base import SourceRole
from bot.status import Status

#: a recovery notice shows the peak of user reports only from this many, and this many times
#: the usual: the crowd detector's "possible problems" by count (see ``_peak_worth_telling``)
PEAK_MIN_REPORTS = CrowdConfig().possible_min_count


PEAK_MIN_MULTIPLE = CrowdConfig().possible_multiple


def render_alert(
    event: IncidentEvent,
    names: ServiceNames,
    *,
    t: Translator,
    now: datetime,
    crowd_window: timedelta = DEFAULT_CROWD_WINDOW,
) -> RenderedMessage:
    """The outage alert (OPENED), and the same message as the incident escalates, eases or the
    official page posts an update (ESCALATED, DEESCALATED, UPDATED)."""
    service = service_name(names, t)
    lines: list[str] = [state_line(t, event.status, event.started_at, now, event.confidence)]
    eased = is_eased(event)
    confidence = confidence_line(t, event.status, event.confidence, event.evidence, eased=eased)
    if confidence:
        lines.append(confidence)
    upstream = _upstream_line(t, event, names)
    if upstream:
        lines.append(upstream)
    record = _record_line(t, event, service)
    if record:
        lines.append(record)
    change = _change_line(t, event, now)
    if change:
        lines.append(change)
    internet = event_context_line(t, event.extra, service, now)
    if internet:
        lines.append(internet)
    fields = evidence_fields(t, event, names, now=now, crowd_window=crowd_window)
    components = components_field(t, event.evidence)
    if components:
        fields.append(components)
    update = update_field(t, event.official_update)
    if update:
        fields.append(update)
    title = headline(t, service, event.status, event.confidence, eased=eased)
    return framed(t, names, event.evidence, title=title, description="\n".join(lines), color=status_color(event.status), fields=fields)


def _upstream_line(t: Translator, event: IncidentEvent, names: ServiceNames) -> Text | None:
    """The provider this incident most likely comes from (``bot.detect.upstream``)."""
    upstream = names.upstream
    if upstream is None or event.extra.get(UPSTREAM) != upstream.id:
        return None
    # NOTE: {upstream} is an infrastructure provider (Cloudflare, AWS…) with an outage of its own
    return t.gettext("Likely cause: {upstream} is down at the same time.", upstream=service_name(upstream, t))


def _record_line(t: Translator, event: IncidentEvent, service: str) -> Text | None:
    """While the official page is silent, how it usually answers (``bot.detect.track_record``)."""
    note = note_from_extra(event.extra.get(RECORD))
    if note is None or not event.unacknowledged:
        return None
    if note.kind is NoteKind.NEVER:
        return t.ngettext(
            "{service}'s status page did not acknowledge its last outage.",
            "{service}'s status page acknowledged none of its last {n} outages.",
            note.count, service=service,
        )  # fmt: skip
    return t.gettext(
        "{service}'s status page usually confirms an outage about {duration} after users notice.",
        service=service, duration=t.duration(timedelta(minutes=note.count)),
    )  # fmt: skip


def _change_line(t: Translator, event: IncidentEvent, now: datetime) -> Text | None:
    at = at_phrase(t, event.at, now)
    old = status_word(t, event.previous_status, event.previous_confidence) if event.previous_status else None
    new = status_word(t, event.status, event.confidence)
    if event.kind is EventKind.ESCALATED and old:
        return t.gettext("Worsened from {old} to {new} {at}.", old=old, new=new, at=at)
    if event.kind is EventKind.DEESCALATED and old:
        return t.gettext("Eased from {old} to {new} {at}.", old=old, new=new, at=at)
    if event.kind in (EventKind.ESCALATED, EventKind.DEESCALATED, EventKind.UPDATED):
        return t.gettext("Alert updated {at}.", at=at)
    return None


def render_recovery(
    event: IncidentEvent,
    names: ServiceNames,
    *,
    t: Translator,
    now: datetime,
    crowd_window: timedelta = DEFAULT_CROWD_WINDOW,
) -> RenderedMessage:
    """The recovery notice (RESOLVED), posted as a reply to the alert. The peak of user
    reports is a count per ``crowd_window``, and says so."""
    service = service_name(names, t)
    resolved_at = event.resolved_at or event.at
    duration = t.span(event.started_at, resolved_at)
    if _was_disruption(event):
        description = t.gettext("{service} is working normally again. The disruption lasted {duration}.", service=service, duration=duration)
    else:
        description = t.gettext("{service} is working again. The outage lasted {duration}.", service=service, duration=duration)
    fields: list[tuple[str, str]] = [
        (t.gettext("When"), t.gettext("From {start} to {end}", start=t.when(event.started_at, now), end=t.when(resolved_at, now)))
    ]
    if event.report_peak and _peak_worth_telling(event):
        window = t.duration(crowd_window)
        value = t.ngettext("{n} report in {window}", "{n} reports in {window}", event.report_peak, window=window)
        if event.report_peak_at is not None:
            value = t.ngettext(
                "{n} report in {window}, {at}", "{n} reports in {window}, {at}",
                event.report_peak, window=window, at=at_phrase(t, event.report_peak_at, now),
            )  # fmt: skip
        fields.append((t.gettext("Peak user reports"), value))
    update = update_field(t, event.official_update)
    if update:
        fields.append(update)
    url = status_page_url(event.evidence, names)
    if url:
        fields.append((t.gettext("Official status page"), link_line(t, url)))
    title = t.gettext("{service} is back", service=service)
    return framed(t, names, event.evidence, title=title, description=description, color=COLORS[Status.OPERATIONAL], fields=fields)


def _peak_status(event: IncidentEvent) -> Status | None:
    """The worst status of a resolved incident (``extra["peak_status"]``, else the last one)."""
    return status_or_none(event.extra.get("peak_status")) or event.previous_status


def _was_disruption(event: IncidentEvent) -> bool:
    """True when the incident never went beyond degraded (so "outage" would overstate it)."""
    return _peak_status(event) is Status.DEGRADED


def _peak_worth_telling(event: IncidentEvent) -> bool:
    """Whether the recovery notice shows the incident's peak of user reports.

    Only a peak that stood out from the everyday background is news: it must reach what the
    crowd detector needs for "possible problems" by count — at least ``PEAK_MIN_REPORTS`` (5)
    and ``PEAK_MIN_MULTIPLE`` (2) times the usual. The usual is the crowd evidence's at
    recovery, standing in for the one at the peak (the baseline moves slowly next to an
    incident); without crowd evidence only the minimum applies. So a probe-found outage
    during which a handful of people reported as usual shows no "peak" of that handful."""
    if not event.report_peak:
        return False
    usual = max((e.usual for e in by_role(event.evidence, SourceRole.CROWD) if e.usual is not None), default=0.0)
    return event.report_peak >= max(PEAK_MIN_REPORTS, PEAK_MIN_MULTIPLE * usual)


def render_resolved_alert(
    event: IncidentEvent,
    names: ServiceNames,
    *,
    t: Translator,
    now: datetime,
) -> RenderedMessage:
    """The original alert, edited once the incident is resolved (the reply tells the rest)."""
    service = service_name(names, t)
    resolved_at = event.resolved_at or event.at
    peak = _peak_status(event)
    if peak is Status.DEGRADED:
        title = t.gettext("Resolved: {service} was disrupted", service=service)
    elif peak is Status.PARTIAL_OUTAGE:
        title = t.gettext("Resolved: {service} was partially down", service=service)
    else:
        title = t.gettext("Resolved: {service} was down", service=service)
    description = t.gettext(
        "Lasted {duration}, from {start} to {end}.",
        duration=t.span(event.started_at, resolved_at),
        start=t.when(event.started_at, now),
        end=t.when(resolved_at, now),
    )
    return framed(t, names, event.evidence, title=title, description=description, color=COLORS[Status.OPERATIONAL])


def render_unstable(
    event: IncidentEvent,
    names: ServiceNames,
    *,
    t: Translator,
    now: datetime,
    crowd_window: timedelta = DEFAULT_CROWD_WINDOW,
) -> RenderedMessage:
    """The one notice for a flapping service (then quiet until it settles)."""
    service = service_name(names, t)
    description = "\n".join(
        [
            t.gettext("{service} keeps going down and coming back.", service=service),
            t.gettext("We will post again when it settles, or if it goes down for good."),
        ]
    )
    fields = evidence_fields(t, event, names, now=now, crowd_window=crowd_window)
    title = t.gettext("{service} is unstable", service=service)
    return framed(t, names, event.evidence, title=title, description=description, color=UNSTABLE_COLOR, fields=fields)


def render_event(event: IncidentEvent, names: ServiceNames, *, t: Translator, now: datetime, **kw: Any) -> RenderedMessage:
    """The message for any incident event (see the module docstring)."""
    if event.kind is EventKind.RESOLVED:
        return render_recovery(event, names, t=t, now=now, **kw)
    if event.kind is EventKind.UNSTABLE:
        return render_unstable(event, names, t=t, now=now, **kw)
    return render_alert(event, names, t=t, now=now, **kw)
