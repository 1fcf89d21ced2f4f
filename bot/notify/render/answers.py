"""The ``/isitdown`` answer: the verdict, then the evidence from each source (pure). Pass
``crowd`` to show report counts against the usual even when they are quiet.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.detect.model import CrowdSignal, Verdict
from bot.i18n import Translator
from bot.notify.render.evidence import evidence_fields, update_field
from bot.notify.render.message import RenderedMessage, ServiceNames
from bot.notify.render.phrases import (
    DEFAULT_CROWD_WINDOW,
    at_phrase,
    by_role,
    confidence_line,
    footer_line,
    headline,
    service_name,
    state_line,
    status_color,
    status_page_url,
)
from bot.sources.base import SourceRole
from bot.status import Status

def render_verdict(
    verdict: Verdict,
    names: ServiceNames,
    *,
    t: Translator,
    now: datetime,
    crowd: CrowdSignal | None = None,
    crowd_window: timedelta = DEFAULT_CROWD_WINDOW,
) -> RenderedMessage:
    """The ``/isitdown`` answer: the verdict, then the evidence from each source."""
    service = service_name(names, t)
    status = verdict.status
    lines: list[str] = []
    if status is Status.OPERATIONAL:
        lines.append(t.gettext("No problems right now."))
    elif status is Status.UNKNOWN:
        lines.append(t.gettext("None of our sources could be read just now."))
    else:
        lines.append(state_line(t, status, verdict.since, now))
        confidence = confidence_line(t, status, verdict.confidence, verdict.evidence)
        if confidence:
            lines.append(confidence)
    lines.append(t.gettext("Checked {at}.", at=at_phrase(t, verdict.at, now)))
    fields = evidence_fields(
        t,
        verdict.evidence,
        names,
        now=now,
        unacknowledged=verdict.unacknowledged,
        unacknowledged_since=verdict.unacknowledged_since,
        crowd_window=crowd_window,
        crowd=crowd,
    )
    update = next((e.official_update for e in by_role(verdict.evidence, SourceRole.OFFICIAL) if e.official_update), None)
    if status.is_outage or status is Status.MAINTENANCE:
        extra = update_field(t, update)
        if extra:
            fields.append(extra)
    return RenderedMessage(
        title=headline(t, service, status, verdict.confidence),
        description="\n".join(lines),
        color=status_color(status),
        fields=tuple(fields),
        footer=footer_line(t),
        url=status_page_url(verdict.evidence, names),
        lang=t.lang,
    ).fit()
