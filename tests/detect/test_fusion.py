"""Fusion truth table (bot/detect/fusion.py): one row per rule, plus evidence and 'since'."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.detect.fusion import fuse, probe_target, source_key, track_acknowledged, track_first_failures
from bot.detect.model import Confidence, CrowdLevel, CrowdSignal
from bot.sources.base import IncidentInfo, Maintenance, Observation, SourceError, SourceRole
from bot.status import Status

NOW = datetime(2024, 3, 5, 12, 51, tzinfo=timezone.utc)
OK, DEG, PART, MAJOR, MAINT, UNK = (
    Status.OPERATIONAL,
    Status.DEGRADED,
    Status.PARTIAL_OUTAGE,
    Status.MAJOR_OUTAGE,
    Status.MAINTENANCE,
    Status.UNKNOWN,
)


def official(status: Status, *, at: datetime = NOW, **kw: object) -> Observation:
    return Observation("x", "statuspage", status, at, role=SourceRole.OFFICIAL, url="https://status.x.com", **kw)  # type: ignore[arg-type]


def probe(status: Status, *, url: str = "https://x.com/", at: datetime = NOW, **kw: object) -> Observation:
    return Observation("x", "http", status, at, role=SourceRole.PROBE, url=url, **kw)  # type: ignore[arg-type]


def crowd(level: CrowdLevel, recent: int = 0, since: datetime | None = None) -> CrowdSignal:
    return CrowdSignal(level=level, recent=recent, usual=12.0, top_problem="login", top_problem_share=0.6, since=since)


MAINT_NOW = Maintenance("m1", "Database upgrade", NOW - timedelta(minutes=20), NOW + timedelta(hours=1), True)

# (official obs statuses, probe statuses, crowd level) → (status, confidence, unacknowledged)
TABLE = [
    # official non-operational → that status, confirmed (alone or with agreement)
    ("official major alone", [MAJOR], [], None, MAJOR, Confidence.CONFIRMED, False),
    ("official partial, probes fail too", [PART], [MAJOR], CrowdLevel.PROBLEMS, PART, Confidence.CONFIRMED, False),
    ("official degraded, probes fine", [DEG], [OK], CrowdLevel.NONE, DEG, Confidence.CONFIRMED, False),
    ("worst of two official sources", [OK, MAJOR], [], None, MAJOR, Confidence.CONFIRMED, False),
    # official OK but others disagree → not acknowledged
    ("official ok, probes + crowd", [OK], [MAJOR], CrowdLevel.PROBLEMS, MAJOR, Confidence.CONFIRMED, True),
    ("official ok, probes alone", [OK], [MAJOR], CrowdLevel.NONE, MAJOR, Confidence.LIKELY, True),
    ("official ok, crowd problems alone", [OK], [OK], CrowdLevel.PROBLEMS, DEG, Confidence.UNCONFIRMED, True),
    ("official ok, crowd possible only", [OK], [OK], CrowdLevel.POSSIBLE, DEG, Confidence.UNCONFIRMED, False),
    ("official ok, probes majority fail", [OK], [MAJOR, PART, OK], None, MAJOR, Confidence.LIKELY, True),
    ("official ok, probes minority fail", [OK], [MAJOR, OK, OK], None, OK, None, False),
    ("official ok, one of two probes fails", [OK], [MAJOR, OK], None, OK, None, False),
    # no official source
    ("probes alone", [], [MAJOR], None, MAJOR, Confidence.LIKELY, False),
    ("probes + crowd possible", [], [PART], CrowdLevel.POSSIBLE, PART, Confidence.CONFIRMED, False),
    ("crowd spike alone", [], [], CrowdLevel.PROBLEMS, DEG, Confidence.UNCONFIRMED, False),
    ("crowd spike, probes fine", [], [OK], CrowdLevel.PROBLEMS, DEG, Confidence.UNCONFIRMED, False),
    # quiet
    ("all quiet", [OK], [OK], CrowdLevel.NONE, OK, None, False),
    ("probes only, fine", [], [OK], None, OK, None, False),
    ("nothing usable", [], [], CrowdLevel.NONE, UNK, None, False),
    ("nothing at all", [], [], None, UNK, None, False),
    ("official maintenance status", [MAINT], [MAJOR], CrowdLevel.PROBLEMS, MAINT, Confidence.CONFIRMED, False),
]


@pytest.mark.parametrize(
    "name,officials,probes,level,status,confidence,unack", TABLE, ids=[row[0] for row in TABLE]
)
def test_truth_table(
    name: str,
    officials: list[Status],
    probes: list[Status],
    level: CrowdLevel | None,
    status: Status,
    confidence: Confidence | None,
    unack: bool,
) -> None:
    obs = [Observation("x", f"official{i}", s, NOW, url=f"https://s{i}") for i, s in enumerate(officials)]
    obs += [probe(s, url=f"https://x.com/{i}") for i, s in enumerate(probes)]
    verdict = fuse("x", obs, crowd(level, 500) if level is not None else None, NOW)
    assert (verdict.status, verdict.confidence, verdict.unacknowledged) == (status, confidence, unack)
    assert (verdict.unacknowledged_since is not None) == unack
    assert verdict.official_status == (Status.worst(*officials) if officials else None)


def test_unacknowledged_since_is_the_earliest_failing_evidence() -> None:
    started = NOW - timedelta(minutes=25)
    p = probe(MAJOR, http_status=503)
    firsts = {source_key(p): NOW - timedelta(minutes=7)}
    verdict = fuse("x", [official(OK), p], crowd(CrowdLevel.PROBLEMS, 25800, since=started), NOW, first_failure_at=firsts)
    assert verdict.unacknowledged and verdict.unacknowledged_since == started
    assert verdict.since == started
    without_crowd = fuse("x", [official(OK), p], None, NOW, first_failure_at=firsts)
    assert without_crowd.unacknowledged_since == NOW - timedelta(minutes=7)


MIN = timedelta(minutes=1)
# "unacknowledged since" when the official page last reported a problem at ``acked`` (minutes
# before NOW; None = never): (name, official, probes, crowd level, acked, expected unack. since)
ACK_TABLE = [
    ("page never reported it", OK, [OK], CrowdLevel.PROBLEMS, None, NOW - 57 * MIN),
    ("page resolved its incident, reports linger", OK, [OK], CrowdLevel.PROBLEMS, 4, NOW - 4 * MIN),
    ("page resolved its incident, probes still fail", OK, [MAJOR], None, 2, NOW - 2 * MIN),
    ("page spoke before this problem began", OK, [OK], CrowdLevel.PROBLEMS, 90, NOW - 57 * MIN),
    ("page still reports it", MAJOR, [MAJOR], CrowdLevel.PROBLEMS, 0, None),
]


@pytest.mark.parametrize("name,page,probes,level,acked,expected", ACK_TABLE, ids=[row[0] for row in ACK_TABLE])
def test_unacknowledged_since_restarts_when_the_page_stops_reporting(
    name: str, page: Status, probes: list[Status], level: CrowdLevel | None, acked: int | None, expected: datetime | None
) -> None:
    """The page had an incident open until ``acked``: it has been silent since then, not
    since the reports began (57 minutes ago) — and never since before the problem began."""
    began = NOW - 57 * MIN
    obs = [official(page), *(probe(st, url=f"https://x.com/{i}") for i, st in enumerate(probes))]
    firsts = {source_key(o): began for o in obs[1:] if o.status.is_outage}
    signal = crowd(level, 400, since=began) if level is not None else None
    acknowledged_at = NOW - acked * MIN if acked is not None else None
    verdict = fuse("x", obs, signal, NOW, first_failure_at=firsts, acknowledged_at=acknowledged_at)
    assert verdict.unacknowledged == (expected is not None)
    assert verdict.unacknowledged_since == expected
    if verdict.status.is_outage:
        assert verdict.since == began  # the incident itself still began with the first evidence


def test_track_acknowledged_keeps_the_last_time_the_page_reported_a_problem() -> None:
    t0, t1, t2 = NOW, NOW + MIN, NOW + 2 * MIN
    assert track_acknowledged(None, [official(OK, at=t0)]) is None
    acked = track_acknowledged(None, [official(MAJOR, at=t0)])
    assert acked == t0
    acked = track_acknowledged(acked, [official(PART, at=t1)])
    assert acked == t1
    assert track_acknowledged(acked, [official(OK, at=t2)]) == t1  # stopped reporting: kept
    unreadable = Observation("x", "statuspage", MAJOR, t2, error=SourceError("parse", "bad"), url="https://s")
    assert track_acknowledged(acked, [unreadable]) == t1  # an unreadable page says nothing
    assert track_acknowledged(acked, [probe(MAJOR, at=t2)]) == t1  # probes are not the page
    assert track_acknowledged(None, [official(OK, at=t2, maintenances=(MAINT_NOW,))]) == t2
    assert track_acknowledged(None, [official(MAINT, at=t2)]) == t2


def test_in_progress_maintenance_covers_probe_and_crowd_failures() -> None:
    verdict = fuse("x", [official(OK, maintenances=(MAINT_NOW,)), probe(MAJOR)], crowd(CrowdLevel.PROBLEMS), NOW)
    assert verdict.status is MAINT and not verdict.unacknowledged
    assert verdict.since == MAINT_NOW.starts_at
    line = verdict.evidence[0]
    assert (line.status, line.official_title, line.since) == (MAINT, "Database upgrade", MAINT_NOW.starts_at)


def test_scheduled_maintenance_window_covers_even_before_the_flag_flips() -> None:
    upcoming = Maintenance("m2", "Planned", NOW - timedelta(minutes=1), NOW + timedelta(minutes=30), False)
    verdict = fuse("x", [official(OK, at=NOW - timedelta(minutes=2), maintenances=(upcoming,)), probe(MAJOR)], None, NOW)
    assert verdict.status is MAINT


def test_future_maintenance_does_not_cover() -> None:
    later = Maintenance("m3", "Later", NOW + timedelta(hours=1), NOW + timedelta(hours=2), False)
    verdict = fuse("x", [official(OK, maintenances=(later,)), probe(MAJOR)], None, NOW)
    assert verdict.status is MAJOR and verdict.unacknowledged


def test_official_outage_wins_over_a_maintenance_in_progress() -> None:
    verdict = fuse("x", [official(MAJOR, maintenances=(MAINT_NOW,))], None, NOW)
    assert verdict.status is MAJOR


def test_stale_and_erroring_sources_are_ignored() -> None:
    stale = official(MAJOR, at=NOW - timedelta(minutes=11))
    erroring = Observation("x", "rss", UNK, NOW, error=SourceError("timeout", "timed out"), url="https://feed")
    erroring_but_says_major = Observation("x", "rss2", MAJOR, NOW, error=SourceError("parse", "bad"), url="https://f2")
    verdict = fuse("x", [stale, erroring, erroring_but_says_major, probe(OK)], None, NOW)
    assert verdict.status is OK and verdict.official_status is None
    kinds = {e.source_kind: e for e in verdict.evidence}
    assert "statuspage" not in kinds  # stale: not evidence of now
    assert kinds["rss"].status is UNK and kinds["rss"].error_kind == "timeout"
    assert fuse("x", [stale, erroring], None, NOW).status is UNK
    assert fuse("x", [stale], None, NOW, stale_after=timedelta(minutes=15)).status is MAJOR


def test_blind_probes_count_as_unknown_but_official_and_crowd_still_count() -> None:
    failing = [probe(MAJOR, url="https://a"), probe(MAJOR, url="https://b")]
    assert fuse("x", failing, None, NOW, probes_blind=True).status is UNK
    blind_ok_page = fuse("x", [official(OK), *failing], None, NOW, probes_blind=True)
    assert blind_ok_page.status is OK and not blind_ok_page.unacknowledged and blind_ok_page.probe_at is None
    assert all(e.status is UNK for e in blind_ok_page.evidence if e.role is SourceRole.PROBE)
    assert fuse("x", [official(PART), *failing], None, NOW, probes_blind=True).status is PART
    crowd_only = fuse("x", failing, crowd(CrowdLevel.PROBLEMS, 300), NOW, probes_blind=True)
    assert (crowd_only.status, crowd_only.confidence) == (DEG, Confidence.UNCONFIRMED)


def test_official_evidence_quotes_the_most_severe_incident_and_its_start() -> None:
    started = NOW - timedelta(hours=1)
    minor = IncidentInfo("i1", "Slow search", DEG, "monitoring", updated_at=NOW)
    major = IncidentInfo(
        "i2", "Login failures", MAJOR, "identified", url="https://status.x.com/i2",
        latest_update="We identified the cause", updated_at=NOW - timedelta(minutes=5), started_at=started,
    )
    page = official(MAJOR, incidents=(minor, major))
    verdict = fuse("x", [page], None, NOW, first_failure_at={source_key(page): NOW - timedelta(minutes=10)})
    line = verdict.evidence[0]
    assert (line.official_title, line.official_update, line.official_url) == (
        "Login failures", "We identified the cause", "https://status.x.com/i2"
    )
    assert line.since == started and verdict.since == started


def test_probe_and_crowd_evidence_lines() -> None:
    p = probe(MAJOR, http_status=503, latency_ms=812.5, error=SourceError("http_status", "503"))
    c = CrowdSignal(CrowdLevel.PROBLEMS, 25800, 40.0, top_problem="login", top_problem_share=0.71, since=NOW)
    verdict = fuse("x", [official(OK), p], c, NOW)
    roles = [e.role for e in verdict.evidence]
    assert roles == [SourceRole.OFFICIAL, SourceRole.PROBE, SourceRole.CROWD]
    _, pl, cl = verdict.evidence
    assert (pl.http_status, pl.latency_ms, pl.error_kind, pl.since) == (503, 812.5, "http_status", NOW)
    assert (cl.reports, cl.usual, cl.top_problem, cl.top_problem_share) == (25800, 40.0, "login", 0.71)
    assert verdict.probe_at == NOW


def test_only_the_latest_reading_per_source_counts() -> None:
    old = probe(MAJOR, at=NOW - timedelta(seconds=60))
    new = probe(OK, at=NOW)
    assert fuse("x", [new, old], None, NOW).status is OK


def test_track_first_failures_keeps_the_first_time_and_forgets_on_recovery() -> None:
    t0, t1, t2 = NOW, NOW + timedelta(seconds=10), NOW + timedelta(seconds=20)
    firsts = track_first_failures({}, [probe(MAJOR, at=t0)])
    firsts = track_first_failures(firsts, [probe(MAJOR, at=t1)])
    key = source_key(probe(MAJOR))
    assert firsts == {key: t0}
    unreadable = track_first_failures(firsts, [probe(UNK, at=t1)])
    assert unreadable == {key: t0}  # one unreadable poll does not restart the clock
    assert track_first_failures(firsts, [probe(OK, at=t2)]) == {}
    assert track_first_failures({}, [probe(MAJOR)], probes_blind=True) == {}


def test_readings_keyed_by_the_caller_keep_url_less_probes_apart() -> None:
    tcp = Observation("x", "tcp", MAJOR, NOW, role=SourceRole.PROBE)
    tcp_ok = Observation("x", "tcp", OK, NOW, role=SourceRole.PROBE)
    # as a sequence two url-less tcp probes share one key and collapse into one reading
    assert len(fuse("x", [tcp, tcp_ok], None, NOW).evidence) == 1
    keyed = {"src-0": tcp, "src-1": tcp, "src-2": tcp_ok}
    verdict = fuse("x", keyed, None, NOW, first_failure_at={"src-0": NOW - timedelta(minutes=3)})
    assert verdict.status is MAJOR and len(verdict.evidence) == 3
    assert verdict.since == NOW - timedelta(minutes=3)
    assert track_first_failures({}, keyed) == {"src-0": NOW, "src-1": NOW}


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("https://discord.com/", "discord.com"),
        ("https://discord.com/api/v10/gateway", "discord.com/api/v10/gateway"),
        ("https://www.youtube.com/oembed?url=http%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3DiwGFalTRHDA&format=json", "youtube.com/oembed"),
        ("https://web.whatsapp.com/", "web.whatsapp.com"),
        (None, None),
        ("not a url", None),
    ],
)
def test_a_probe_is_named_by_what_it_checked(url: str | None, target: str | None) -> None:
    assert probe_target(url) == target
