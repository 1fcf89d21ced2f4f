"""Incident state machine (bot/detect/incident.py): the truth table row by row, then stories."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from bot.detect.fusion import fuse, source_key, track_first_failures
from bot.detect.incident import IncidentConfig, IncidentState, OpenIncident, Round, step
from bot.detect.model import Confidence, CrowdLevel, CrowdSignal, EventKind, Evidence, IncidentEvent, Verdict
from bot.sources.base import IncidentInfo, Observation, SourceRole
from bot.status import Status

T0 = datetime(2024, 3, 5, 12, 0, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)
OK, DEG, PART, MAJOR, MAINT, UNK = (
    Status.OPERATIONAL,
    Status.DEGRADED,
    Status.PARTIAL_OUTAGE,
    Status.MAJOR_OUTAGE,
    Status.MAINTENANCE,
    Status.UNKNOWN,
)
E = EventKind
NEW_PROBE = T0  # a probe reading newer than any in the states below → a round
OLD_PROBE = T0 - MIN  # the reading the states below last counted → not a round


def verdict(
    status: Status,
    *,
    official: Status | None = OK,
    probe: Status | None = None,
    probe_at: datetime | None = NEW_PROBE,
    reports: int | None = None,
    update: str | None = None,
) -> Verdict:
    """A verdict with evidence lines for the kinds given (probe defaults to the verdict's)."""
    probe = status if probe is None and probe_at is not None else probe
    ev: list[Evidence] = []
    if official is not None:
        ev.append(Evidence(SourceRole.OFFICIAL, "statuspage", official, official_update=update))
    if probe is not None:
        ev.append(Evidence(SourceRole.PROBE, "http", probe))
    if reports is not None:
        ev.append(Evidence(SourceRole.CROWD, "crowd", DEG if reports > 50 else OK, reports=reports))
    conf = None if not status.is_outage else (Confidence.CONFIRMED if official and official.is_outage else Confidence.LIKELY)
    return Verdict("x", status, conf, T0, tuple(ev), official_status=official, probe_at=probe_at)


def open_incident(**kw: object) -> OpenIncident:
    base = OpenIncident(
        key="x-20240305114500",
        started_at=T0 - timedelta(minutes=15),
        status=PART,
        peak_status=PART,
        confidence=Confidence.LIKELY,
        roles=("probe",),
        official_update="Investigating",
        report_peak=100,
        report_peak_at=T0 - timedelta(minutes=5),
        announced_peak=100,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


FAIL3 = tuple(Round(T0 - timedelta(minutes=m), True) for m in (3, 2, 1))
UP = IncidentState("x", rounds=(Round(T0 - 2 * MIN, False), Round(T0 - MIN, False)), ok_streak=5, last_at=T0 - MIN, last_probe_at=OLD_PROBE)
UP_2FAIL = replace(UP, rounds=(Round(T0 - 3 * MIN, False), *FAIL3[1:]), ok_streak=0)
UP_3OPENS = replace(UP, opens=(T0 - 25 * MIN, T0 - 15 * MIN, T0 - 5 * MIN))
DOWN = IncidentState("x", rounds=FAIL3, down=True, incident=open_incident(), last_at=T0 - MIN, last_probe_at=OLD_PROBE, opens=(T0 - 15 * MIN,))
DOWN_1OK = replace(DOWN, rounds=FAIL3 + (Round(T0 - MIN, False),), ok_streak=1)
DOWN_OFFICIAL = replace(DOWN_1OK, official_down=True, incident=open_incident(roles=("official", "probe")))
DOWN_GAP = replace(DOWN, last_at=T0 - timedelta(hours=2), last_probe_at=T0 - timedelta(hours=2))
UNSTABLE_DOWN = replace(DOWN_1OK, unstable=True, last_flip_at=T0 - 5 * MIN)
UNSTABLE_UP = replace(UP, unstable=True, incident=open_incident(), last_flip_at=T0 - 5 * MIN)
UNSTABLE_UP_QUIET = replace(UNSTABLE_UP, last_flip_at=T0 - 31 * MIN)
UNSTABLE_DOWN_QUIET = replace(UNSTABLE_DOWN, last_flip_at=T0 - 31 * MIN)


def mode(s: IncidentState) -> str:
    return ("unstable-" if s.unstable else "") + ("down" if s.down else "up")


# (row, state, verdict, next mode, events) — rows of the table in bot/detect/incident.py
TABLE: list[tuple[str, IncidentState, Verdict, str, list[EventKind]]] = [
    ("1 first failing round", UP, verdict(PART), "up", []),
    ("1 failing recomputation is not a round", UP_2FAIL, verdict(PART, probe_at=OLD_PROBE), "up", []),
    ("2 third failing of four rounds", UP_2FAIL, verdict(PART), "down", [E.OPENED]),
    ("2 official down opens at once", UP, verdict(MAJOR, official=MAJOR, probe=OK, probe_at=OLD_PROBE), "down", [E.OPENED]),
    ("2 official-only service", UP, verdict(MAJOR, official=MAJOR, probe_at=None), "down", [E.OPENED]),
    ("3 one open too many", UP_3OPENS, verdict(MAJOR, official=MAJOR), "unstable-down", [E.UNSTABLE]),
    ("4 ok", UP, verdict(OK), "up", []),
    ("4 unknown", UP_2FAIL, verdict(UNK, official=None, probe_at=None), "up", []),
    ("4 maintenance", UP_2FAIL, verdict(MAINT, official=MAINT), "up", []),
    ("5 worse", DOWN, verdict(MAJOR), "down", [E.ESCALATED]),
    ("6 milder", DOWN, verdict(DEG), "down", [E.DEESCALATED]),
    ("7 new official text", DOWN, verdict(PART, update="Fix deployed"), "down", [E.UPDATED]),
    ("7 peak grew 1.5x", DOWN, verdict(PART, reports=150), "down", [E.UPDATED]),
    ("7 page now acknowledges it", replace(DOWN, incident=open_incident(unacknowledged=True)),
     verdict(PART, official=PART), "down", [E.UPDATED]),
    ("8 peak grew too little", DOWN, verdict(PART, reports=149), "down", []),
    ("8 same text, same status", DOWN, verdict(PART, update="Investigating"), "down", []),
    ("9 first ok round", DOWN, verdict(OK), "down", []),
    ("9 ok recomputation is not a round", DOWN_1OK, verdict(OK, probe_at=OLD_PROBE), "down", []),
    ("10 second ok round", DOWN_1OK, verdict(OK), "up", [E.RESOLVED]),
    ("11 page unreadable, last said down", DOWN_OFFICIAL, verdict(OK, official=None), "down", []),
    ("10 page readable and ok", DOWN_OFFICIAL, verdict(OK), "up", [E.RESOLVED]),
    ("12 unknown", DOWN_1OK, verdict(UNK, official=None, probe_at=None), "down", []),
    ("13 after a gap, still failing", DOWN_GAP, verdict(PART), "down", []),
    ("14 after a gap, probes read ok", DOWN_GAP, verdict(OK), "up", [E.RESOLVED]),
    ("14 after a gap, only the page read", DOWN_GAP, verdict(OK, probe_at=None), "down", []),
    ("15 unstable, would resolve", UNSTABLE_DOWN, verdict(OK), "unstable-up", []),
    ("15 unstable, would open", UNSTABLE_UP, verdict(MAJOR, official=MAJOR), "unstable-down", []),
    ("15 unstable, escalation held", UNSTABLE_DOWN, verdict(MAJOR), "unstable-down", []),
    ("16 quiet for W, up", UNSTABLE_UP_QUIET, verdict(OK), "up", [E.RESOLVED]),
    ("17 quiet for W, down", UNSTABLE_DOWN_QUIET, verdict(PART), "down", []),
]


@pytest.mark.parametrize("row,state,v,expected_mode,expected", TABLE, ids=[r[0] for r in TABLE])
def test_truth_table(row: str, state: IncidentState, v: Verdict, expected_mode: str, expected: list[EventKind]) -> None:
    new, events = step(state, v, T0)
    assert [e.kind for e in events] == expected
    assert mode(new) == expected_mode
    assert (new.incident is not None) == (new.down or new.unstable)


def test_opened_event_carries_the_story() -> None:
    v = replace(
        verdict(MAJOR, reports=25800),
        unacknowledged=True,
        unacknowledged_since=T0 - 9 * MIN,
        since=T0 - 9 * MIN,
    )
    state, events = step(UP_2FAIL, v, T0)
    (opened,) = events
    assert opened.started_at == T0 - 9 * MIN  # the earliest evidence, before the rounds
    assert opened.incident_key == "x-20240305115100"
    assert (opened.unacknowledged, opened.unacknowledged_since) == (True, T0 - 9 * MIN)
    assert (opened.report_peak, opened.report_peak_at) == (25800, T0)
    assert state.incident is not None and state.incident.roles == ("crowd", "probe")


def test_acknowledgement_is_told_once() -> None:
    state = replace(DOWN, incident=open_incident(unacknowledged=True))
    state, (ev,) = step(state, verdict(PART, official=PART), T0)
    assert ev.extra == {"acknowledged": "true", "peak_status": "partial_outage"} and not ev.unacknowledged
    _, events = step(state, verdict(PART, official=PART), T0 + MIN)
    assert events == []


def test_escalation_carries_previous_status_and_resolution_its_duration() -> None:
    state, (esc,) = step(DOWN, verdict(MAJOR), T0)
    assert (esc.previous_status, esc.status) == (PART, MAJOR)
    state, _ = step(state, verdict(OK, probe_at=T0 + MIN), T0 + MIN)
    state, (res,) = step(state, verdict(OK, probe_at=T0 + 2 * MIN), T0 + 2 * MIN)
    assert res.kind is E.RESOLVED and res.previous_status is MAJOR and res.extra["peak_status"] == "major_outage"
    assert res.duration == timedelta(minutes=17)


def test_a_change_of_status_carries_how_sure_the_alert_was_of_the_old_one() -> None:
    """A major outage our probes alone saw is worded «انقطاع», not «انقطاع واسع»: its easing
    must know that the alert was only LIKELY to word what it left the same way."""
    state = replace(DOWN, incident=open_incident(status=MAJOR, peak_status=MAJOR, confidence=Confidence.LIKELY))
    state, (eased,) = step(state, verdict(PART), T0)
    assert eased.kind is E.DEESCALATED and (eased.previous_status, eased.previous_confidence) == (MAJOR, Confidence.LIKELY)
    state, (worse,) = step(state, verdict(MAJOR, official=MAJOR, probe_at=T0 + MIN), T0 + MIN)
    assert worse.kind is E.ESCALATED and (worse.previous_status, worse.previous_confidence) == (PART, Confidence.LIKELY)
    assert worse.confidence is Confidence.CONFIRMED
    state, (eased_again,) = step(state, verdict(PART, official=PART, probe_at=T0 + 2 * MIN), T0 + 2 * MIN)
    assert eased_again.previous_confidence is Confidence.CONFIRMED
    assert replace(eased_again, extra={}).previous_confidence is None  # an event stored before it was kept


def test_report_peak_updates_only_on_significant_growth() -> None:
    state, kinds = DOWN, []
    for i, reports in enumerate([120, 149, 150, 200, 224, 225, 300, 40]):
        state, events = step(state, verdict(PART, reports=reports), T0 + i * 11 * MIN)
        kinds.append((reports, [e.kind for e in events]))
    assert [r for r, k in kinds if k == [E.UPDATED]] == [150, 225]
    assert state.incident is not None and state.incident.report_peak == 300


def test_a_growing_report_count_edits_the_alert_at_most_every_ten_minutes() -> None:
    """Each edit is one request per subscribed channel: a climb must not become an edit storm."""
    state, updated_at = DOWN, []
    for minute in range(0, 60):
        reports = 100 * 2 ** (minute // 2)  # doubles every two minutes
        state, events = step(state, verdict(PART, reports=reports), T0 + minute * MIN)
        updated_at += [minute for e in events if e.kind is E.UPDATED]
    assert updated_at and all(b - a >= 10 for a, b in zip(updated_at, updated_at[1:]))
    assert len(updated_at) <= 6
    restored = type(state).from_dict(state.to_dict())
    assert restored.incident is not None and restored.incident.announced_at == state.incident.announced_at


# --- stories driven through fusion, with a simulated clock -----------------------------------


def page(status: Status, at: datetime, incident: IncidentInfo | None = None) -> Observation:
    return Observation("x", "statuspage", status, at, incidents=(incident,) if incident else (), url="https://status.x.com")


def http(status: Status, at: datetime) -> Observation:
    return Observation("x", "http", status, at, role=SourceRole.PROBE, url="https://x.com/")


class Detector:
    """A tiny stand-in for the lead's detector: latest readings + first failures + state."""

    def __init__(self, state: IncidentState | None = None, config: IncidentConfig = IncidentConfig()) -> None:
        self.state = state or IncidentState("x")
        self.latest: dict[str, Observation] = {}
        self.firsts: dict[str, datetime] = {}
        self.config = config
        self.events: list[IncidentEvent] = []

    def poll(
        self, now: datetime, *obs: Observation, crowd: CrowdSignal | None = None, blind: bool = False
    ) -> list[EventKind]:
        for o in obs:
            self.latest[source_key(o)] = o
        self.firsts = track_first_failures(self.firsts, obs, probes_blind=blind)
        v = fuse("x", list(self.latest.values()), crowd, now, probes_blind=blind, first_failure_at=self.firsts)
        self.state, events = step(self.state, v, now, self.config)
        self.events += events
        return [e.kind for e in events]

    def restart(self) -> None:
        """Only what the database keeps survives: the state as JSON (readings are lost)."""
        self.state = IncidentState.from_dict(json.loads(json.dumps(self.state.to_dict())))
        self.latest, self.firsts = {}, {}


def test_official_only_flip_opens_at_the_poll_that_sees_it_and_resolves_once() -> None:
    d = Detector()
    incident = IncidentInfo("i1", "Elevated errors", MAJOR, "investigating", started_at=T0 + 4 * MIN + timedelta(seconds=20))
    seen: dict[int, list[EventKind]] = {}
    for i in range(15):
        down = 5 <= i < 10
        seen[i] = d.poll(T0 + i * MIN, page(MAJOR if down else OK, T0 + i * MIN, incident if down else None))
    assert {i: k for i, k in seen.items() if k} == {5: [E.OPENED], 11: [E.RESOLVED]}
    opened, resolved = d.events
    assert opened.started_at == incident.started_at  # the official start, earlier than our poll
    assert resolved.duration == T0 + 11 * MIN - incident.started_at


def test_official_says_ok_but_probes_and_users_disagree() -> None:
    d = Detector()
    spike = CrowdSignal(CrowdLevel.PROBLEMS, 25800, 40.0, top_problem="login", top_problem_share=0.7, since=T0)
    kinds = []
    for i in range(4):
        t = T0 + i * timedelta(seconds=10)
        kinds.append(d.poll(t, page(OK, T0), http(MAJOR, t), crowd=spike))
    assert kinds == [[], [], [E.OPENED], []]
    opened = d.events[0]
    assert opened.unacknowledged and opened.unacknowledged_since == T0
    assert opened.confidence is Confidence.CONFIRMED and opened.status is MAJOR


def test_flapping_twenty_cycles_make_one_unstable_notice_and_no_storm() -> None:
    d = Detector()
    t = T0
    for _ in range(20):  # 1 minute down, 2 minutes up, each change seen by the official page
        for status in (MAJOR, OK, OK):
            d.poll(t, page(status, t))
            t += MIN
    kinds = [e.kind for e in d.events]
    assert kinds.count(E.UNSTABLE) == 1
    assert kinds == [E.OPENED, E.RESOLVED] * 3 + [E.UNSTABLE]
    for _ in range(31):  # stable for the flap window
        d.poll(t, page(OK, t))
        t += MIN
    kinds = [e.kind for e in d.events]
    assert kinds == [E.OPENED, E.RESOLVED] * 3 + [E.UNSTABLE, E.RESOLVED]
    unstable, last = d.events[-2:]
    assert last.incident_key == unstable.incident_key
    assert last.resolved_at is not None and last.resolved_at < last.at  # when it came back, not when we spoke
    assert not d.state.unstable and d.state.incident is None


def test_flapping_that_settles_down_keeps_the_unstable_incident_open() -> None:
    d = Detector()
    t = T0
    for _ in range(5):
        for status in (MAJOR, OK, OK):
            d.poll(t, page(status, t))
            t += MIN
    for _ in range(40):
        d.poll(t, page(MAJOR, t))
        t += MIN
    assert [e.kind for e in d.events] == [E.OPENED, E.RESOLVED] * 3 + [E.UNSTABLE]
    assert d.state.down and not d.state.unstable
    d.poll(t, page(OK, t))
    d.poll(t + MIN, page(OK, t + MIN))
    assert d.events[-1].kind is E.RESOLVED and d.events[-1].incident_key == d.events[-2].incident_key


@pytest.mark.parametrize("downtime", [timedelta(seconds=30), timedelta(hours=3)])
def test_restart_mid_incident_neither_reopens_nor_reannounces(downtime: timedelta) -> None:
    d = Detector()
    t = T0
    for i in range(4):
        d.poll(t, page(OK, t), http(MAJOR, t))
        t += timedelta(seconds=10)
    assert [e.kind for e in d.events] == [E.OPENED]
    key = d.events[0].incident_key
    d.restart()
    t += downtime
    for i in range(5):
        d.poll(t, page(OK, t), http(MAJOR, t))
        t += MIN
    assert [e.kind for e in d.events] == [E.OPENED]
    for i in range(2):
        d.poll(t, page(OK, t), http(OK, t))
        t += MIN
    assert [e.kind for e in d.events] == [E.OPENED, E.RESOLVED]
    assert d.events[1].incident_key == key


def test_outage_that_ended_while_stopped_resolves_on_the_first_poll() -> None:
    d = Detector()
    t = T0
    for i in range(4):
        d.poll(t, page(OK, t), http(MAJOR, t))
        t += timedelta(seconds=10)
    d.restart()
    t += timedelta(hours=2)
    assert d.poll(t, page(OK, t)) == []  # the page never acknowledged it: not proof
    assert d.poll(t + timedelta(seconds=1), http(OK, t + timedelta(seconds=1))) == [E.RESOLVED]


def test_official_outage_that_ended_while_stopped_resolves_on_the_first_poll() -> None:
    d = Detector()
    d.poll(T0, page(MAJOR, T0))
    d.restart()
    t = T0 + timedelta(hours=1)
    assert d.poll(t, page(OK, t)) == [E.RESOLVED]


def test_blind_probes_open_nothing() -> None:
    d = Detector()
    t = T0
    for i in range(30):
        d.poll(t, page(OK, t), http(MAJOR, t), blind=True)
        t += timedelta(seconds=10)
    assert d.events == [] and not d.state.down


def test_first_failure_spike_is_not_enough_and_recomputations_do_not_double_count() -> None:
    d = Detector()
    probe_reading = http(MAJOR, T0)
    kinds = [d.poll(T0 + i * timedelta(seconds=5), probe_reading) for i in range(6)]
    assert kinds == [[]] * 6  # the same probe reading six times is one round
    assert sum(r.failing for r in d.state.rounds) == 1


def test_state_round_trips_through_json() -> None:
    state = replace(
        UNSTABLE_DOWN,
        official_down=True,
        last_key="x-1",
        after_gap=True,
        incident=open_incident(unacknowledged=True, confidence=None, report_peak=None, report_peak_at=None),
    )
    again = IncidentState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state
    assert IncidentState.from_dict(IncidentState("y").to_dict()) == IncidentState("y")


def test_same_start_second_gets_a_distinct_key() -> None:
    state = replace(UP, last_key="x-20240305120000")
    _, (ev,) = step(state, verdict(MAJOR, official=MAJOR), T0)
    assert ev.incident_key == "x-20240305120000-2"


def test_config_is_validated() -> None:
    with pytest.raises(ValueError):
        IncidentConfig(open_after=5, open_window=4)
    with pytest.raises(ValueError):
        IncidentConfig(resolve_after=0)


def test_a_new_incident_needs_n_fresh_failures_even_when_the_window_is_longer() -> None:
    """With 3 failing of the last 5 rounds to open and 2 ok rounds to resolve, the failures of
    the last incident would still be in the window after it resolved: one new failure must not
    reopen it (the rounds are forgotten on resolve), three must."""
    config = IncidentConfig(open_after=3, open_window=5, resolve_after=2)
    state, kinds = IncidentState("x"), []
    script = [PART, PART, PART, OK, OK, PART, PART, PART]
    for i, status in enumerate(script):
        state, events = step(state, verdict(status, official=OK, probe_at=T0 + i * MIN), T0 + i * MIN, config)
        kinds.append([e.kind for e in events])
    assert kinds == [[], [], [E.OPENED], [], [E.RESOLVED], [], [], [E.OPENED]]
