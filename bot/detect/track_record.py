"""The official status page's track record: how late it admits outages (pure).

For each past incident of a service we know when our first evidence came (users' reports, our
checks) and when — if ever — the official page acknowledged it. StatusGator grades every page
the same way (its "status page accuracy grade", 90 days, the average delay: under 15 minutes
A, 15–30 B, 30 minutes–2 hours C, 2–4 hours D, more F; an incident the page announced first
counts 0, one it never acknowledged counts 4 hours). This module computes that grade and
decides the one sentence an alert or ``/isitdown`` adds while the page has not acknowledged
the current outage yet:

==========================================  ===============================================
the past incidents                           the note
==========================================  ===============================================
fewer than ``MIN_INCIDENTS`` in the window   nothing (too few to say "usually")
the page acknowledged the current one        nothing (it matters only while it is silent)
none of the last ``LAST`` acknowledged       NEVER: "X's status page acknowledged none of its
                                             last 5 outages"
the typical delay is ``NOTABLE`` or more     USUALLY_LATE: "X's status page usually confirms
                                             an outage about 12 minutes after users notice"
the page is usually prompt                   nothing
==========================================  ===============================================

"Typical" is the median of the acknowledged incidents' delays, so one very late or very early
incident does not make the sentence; the grade, like StatusGator's, is the average with the
4-hour penalty, so never acknowledging weighs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from statistics import median
from typing import Iterable

from bot.detect.model import Evidence
from bot.sources.base import SourceRole

#: how far back incidents count (StatusGator's window)
WINDOW = timedelta(days=90)
#: what an incident the page never acknowledged counts as
NEVER_PENALTY = timedelta(hours=4)
#: incidents needed before the record says anything
MIN_INCIDENTS = 3
#: how many of the latest incidents "none of its last N" looks at
LAST = 5
#: a typical delay from which "usually confirms … after users notice" is worth saying
NOTABLE = timedelta(minutes=5)
#: (upper bound, grade): the average delay below the bound earns the grade
GRADE_BOUNDS: tuple[tuple[timedelta, str], ...] = (
    (timedelta(minutes=15), "A"),
    (timedelta(minutes=30), "B"),
    (timedelta(hours=2), "C"),
    (timedelta(hours=4), "D"),
)


class Grade(str, Enum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    F = "F"


@dataclass(frozen=True, slots=True)
class PastIncident:
    """One incident: our first evidence, the official acknowledgment (None: never), its end."""

    started_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None  # None: still open, so it is not yet part of the record

    @property
    def delay(self) -> timedelta | None:
        """How long after our first evidence the page acknowledged it (0 when the page was
        first); None when it never did."""
        if self.acknowledged_at is None:
            return None
        return max(timedelta(0), self.acknowledged_at - self.started_at)


@dataclass(frozen=True, slots=True)
class TrackRecord:
    incidents: int
    acknowledged: int
    #: the average delay, never-acknowledged incidents counting ``NEVER_PENALTY`` (None: no incident)
    average: timedelta | None
    #: the median delay of the acknowledged incidents (None: none acknowledged)
    typical: timedelta | None
    #: how many of the latest ``LAST`` incidents were never acknowledged, and how many there were
    recent_never: int
    recent: int
    grade: Grade | None  # None with fewer than MIN_INCIDENTS incidents


def grade_for(average: timedelta) -> Grade:
    for bound, grade in GRADE_BOUNDS:
        if average < bound:
            return Grade(grade)
    return Grade.F


def track_record(incidents: Iterable[PastIncident], now: datetime, window: timedelta = WINDOW) -> TrackRecord:
    """The record of the incidents that started within ``window`` before ``now`` and are over."""
    done = sorted(
        (i for i in incidents if i.resolved_at is not None and timedelta(0) <= now - i.started_at <= window),
        key=lambda i: i.started_at,
    )
    delays = [i.delay for i in done]
    acknowledged = [d for d in delays if d is not None]
    counted = [d if d is not None else NEVER_PENALTY for d in delays]
    average = sum(counted, timedelta(0)) / len(counted) if counted else None
    typical = timedelta(seconds=median(d.total_seconds() for d in acknowledged)) if acknowledged else None
    latest = delays[-LAST:]
    return TrackRecord(
        incidents=len(done),
        acknowledged=len(acknowledged),
        average=average,
        typical=typical,
        recent_never=sum(1 for d in latest if d is None),
        recent=len(latest),
        grade=grade_for(average) if average is not None and len(done) >= MIN_INCIDENTS else None,
    )


class NoteKind(str, Enum):
    NEVER = "never"  # none of the last N outages acknowledged
    USUALLY_LATE = "usually_late"  # usually confirms about M minutes after users notice


@dataclass(frozen=True, slots=True)
class RecordNote:
    kind: NoteKind
    #: NEVER: how many recent outages went unacknowledged; USUALLY_LATE: the typical delay in minutes
    count: int


def record_note(record: TrackRecord, *, acknowledged_now: bool) -> RecordNote | None:
    """The sentence to add about the page's record (see the module's table), or None."""
    if record.grade is None or acknowledged_now:
        return None
    if record.recent >= MIN_INCIDENTS and record.recent_never == record.recent:
        return RecordNote(NoteKind.NEVER, record.recent)
    if record.typical is not None and record.typical >= NOTABLE:
        return RecordNote(NoteKind.USUALLY_LATE, round(record.typical / timedelta(minutes=1)))
    return None


#: ``IncidentEvent.extra`` key: the record note, ``"<kind>:<count>"`` (``note_to_extra``)
RECORD = "page_record"


def acknowledged_by(evidence: Iterable[Evidence]) -> bool:
    """The official page reports the problem itself (an outage status on an official source)."""
    return any(e.role is SourceRole.OFFICIAL and e.status.is_outage for e in evidence)


def note_to_extra(note: RecordNote) -> str:
    return f"{note.kind.value}:{note.count}"


def note_from_extra(value: str | None) -> RecordNote | None:
    """The note an event carries, or None (also for a value this version cannot read)."""
    if not value:
        return None
    kind, _, count = value.partition(":")
    try:
        return RecordNote(NoteKind(kind), int(count))
    except ValueError:
        return None
