"""The status page's track record: grades and the note, as truth tables."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.detect.track_record import (
    NEVER_PENALTY,
    WINDOW,
    Grade,
    NoteKind,
    PastIncident,
    RecordNote,
    grade_for,
    record_note,
    track_record,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
NEVER = None


def incidents(*delays_min: float | None, every: timedelta = timedelta(days=3)) -> list[PastIncident]:
    """Past incidents, oldest first, each acknowledged ``delay`` minutes after it started
    (None: never; negative: the page was first)."""
    out = []
    for k, d in enumerate(delays_min):
        start = NOW - every * (len(delays_min) - k)
        ack = None if d is None else start + timedelta(minutes=d)
        out.append(PastIncident(start, ack, start + timedelta(hours=1)))
    return out


@pytest.mark.parametrize(
    "average, grade",
    [
        (timedelta(0), Grade.A), (timedelta(minutes=14, seconds=59), Grade.A), (timedelta(minutes=15), Grade.B),
        (timedelta(minutes=29), Grade.B), (timedelta(minutes=30), Grade.C), (timedelta(hours=2) - timedelta(seconds=1), Grade.C),
        (timedelta(hours=2), Grade.D), (timedelta(hours=4) - timedelta(seconds=1), Grade.D), (NEVER_PENALTY, Grade.F),
        (timedelta(hours=9), Grade.F),
    ],
)  # fmt: skip
def test_grade_bounds_follow_statusgator(average, grade):
    assert grade_for(average) is grade


# delays (minutes, oldest first), acknowledged now?, expected grade, expected note
TABLE = [
    ((), False, None, None),  # no history
    ((30, 40), False, None, None),  # too few to say "usually"
    ((2, 3, 1, 4), False, Grade.A, None),  # a prompt page: nothing to add
    ((12, 10, 14, 30), False, Grade.B, RecordNote(NoteKind.USUALLY_LATE, 13)),  # average 16.5, median 13
    ((12, 10, 14, 30), True, Grade.B, None),  # it acknowledged this one: nothing to add
    ((-5, -1, 0), False, Grade.A, None),  # the page first every time counts 0
    ((NEVER, NEVER, NEVER), False, Grade.F, RecordNote(NoteKind.NEVER, 3)),
    ((5, NEVER, NEVER, NEVER, NEVER, NEVER), False, Grade.D, RecordNote(NoteKind.NEVER, 5)),  # the last 5; (5+5*240)/6 min
    ((NEVER, 20, NEVER, NEVER), False, Grade.D, RecordNote(NoteKind.USUALLY_LATE, 20)),  # (240*3+20)/4 = 185 min
    ((NEVER, 3, 2, 4), False, Grade.C, None),  # one never weighs on the grade, not on "usually"
    ((60, 90, 120), False, Grade.C, RecordNote(NoteKind.USUALLY_LATE, 90)),
]


@pytest.mark.parametrize("delays, acknowledged_now, grade, note", TABLE)
def test_track_record_truth_table(delays, acknowledged_now, grade, note):
    record = track_record(incidents(*delays), NOW)
    assert record.incidents == len(delays)
    assert record.grade is grade
    assert record_note(record, acknowledged_now=acknowledged_now) == note


def test_the_average_counts_never_as_four_hours_and_early_pages_as_zero():
    record = track_record(incidents(NEVER, -10, 20), NOW)
    assert record.average == (NEVER_PENALTY + timedelta(0) + timedelta(minutes=20)) / 3
    assert record.acknowledged == 2 and record.typical == timedelta(minutes=10)


def test_only_finished_incidents_inside_the_window_count():
    old = PastIncident(NOW - WINDOW - timedelta(days=1), None, NOW - WINDOW)
    future = PastIncident(NOW + timedelta(hours=1), None, NOW + timedelta(hours=2))
    ongoing = PastIncident(NOW - timedelta(hours=1), None, None)
    record = track_record([old, future, ongoing, *incidents(10, 10, 10)], NOW)
    assert record.incidents == 3 and record.recent_never == 0
    assert record_note(record, acknowledged_now=False) == RecordNote(NoteKind.USUALLY_LATE, 10)


def test_the_latest_incidents_decide_never_whatever_the_order_given():
    history = incidents(1, 1, 1, NEVER, NEVER, NEVER, NEVER, NEVER)
    record = track_record(list(reversed(history)), NOW)
    assert (record.recent, record.recent_never) == (5, 5)
    assert record_note(record, acknowledged_now=False) == RecordNote(NoteKind.NEVER, 5)
