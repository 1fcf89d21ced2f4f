"""The ``/isitdown`` answer: the verdict, then the evidence from each source (pure). Pass
``crowd`` to show report counts against the usual even when they are quiet.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.detect.model import CrowdSignal, Verdict
from bot.detect.track_record import WINDOW, TrackRecord
from bot.i18n import Text, Translator
from bot.notify.render import phrases as say
from bot.notify.render.evidence import evidence_fields, update_field
from bot.notify.render.internet import national_outage_line
from bot.notify.render.message import RenderedMessage, ServiceNames
from bot.sources.base import SourceRole
from bot.sources.ioda import CountryOutage
from bot.status import Status


def render_verdict(
    verdict: Verdict,
    names: ServiceNames,
    *,
    t: Translator,
    now: datetime,
    crowd: CrowdSignal | None = None,
    crowd_window: timedelta = say.DEFAULT_CROWD_WINDOW,
    national: CountryOutage | None = None,
    record: TrackRecord | None = None,
) -> RenderedMessage:
    """The ``/isitdown`` answer: the verdict, then the evidence from each source — after, when
    the asking guild's country is under a national internet outage (``national``), that first."""
    service = say.service_name(names, t)
    status = verdict.status
    lines: list[str] = []
    if national is not None:
        lines.append(national_outage_line(t, national, service, now))
    if status is Status.OPERATIONAL:
        lines.append(t.gettext("No problems right now."))
    elif status is Status.UNKNOWN:
        lines.append(t.gettext("None of our sources could be read just now."))
    else:
        lines.append(say.state_line(t, status, verdict.since, now, verdict.confidence))
        confidence = say.confidence_line(t, status, verdict.confidence, verdict.evidence)
        if confidence:
            lines.append(confidence)
    lines.append(t.gettext("Checked {at}.", at=say.at_phrase(t, verdict.at, now)))
    fields = evidence_fields(t, verdict, names, now=now, crowd_window=crowd_window, crowd=crowd)
    update = next((e.official_update for e in say.by_role(verdict.evidence, SourceRole.OFFICIAL) if e.official_update), None)
    if status.is_outage or status is Status.MAINTENANCE:
        extra = update_field(t, update)
        if extra:
            fields.append(extra)
    graded = record_field(t, record)
    if graded:
        fields.append(graded)
    title = say.headline(t, service, status, verdict.confidence)
    return say.framed(t, names, verdict.evidence, title=title, description="\n".join(lines), color=say.status_color(status), fields=fields)


def record_field(t: Translator, record: TrackRecord | None) -> tuple[str, str] | None:
    """The official page's grade and what it rests on (``bot.detect.track_record``): only once
    there are enough past incidents to grade."""
    if record is None or record.grade is None:
        return None
    if record.acknowledged:
        value = t.ngettext(
            "Grade {grade}: acknowledged {acknowledged} of {n} outage in the last {span}.",
            "Grade {grade}: acknowledged {acknowledged} of {n} outages in the last {span}.",
            record.incidents, grade=record.grade.value, acknowledged=record.acknowledged, span=t.duration(WINDOW),
        )  # fmt: skip
    else:  # ("acknowledged 0 of 12" reads as a sum, not a verdict)
        value = t.ngettext(
            "Grade {grade}: acknowledged none of its {n} outage in the last {span}.",
            "Grade {grade}: acknowledged none of its {n} outages in the last {span}.",
            record.incidents, grade=record.grade.value, span=t.duration(WINDOW),
        )  # fmt: skip
    if record.typical is not None:
        # NOTE: the median delay between users' first reports and the status page's acknowledgment
        value = Text(f"{value} " + t.gettext("Typically {duration} after users noticed.", duration=t.duration(record.typical)))
    return t.gettext("Status page track record"), value
