"""``python -m bot simulate``: every bundled scenario through the real pipeline, at full speed.

Each scenario test asserts what the bot concluded (incident event kinds and counts, the peak)
and what the subscribed channels received, in Arabic and English (key phrases rendered through
the same catalogs the bot uses, plus the numbers of the story).
"""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.detect.incident import IncidentConfig
from bot.detect.model import Confidence, EventKind
from bot.catalog import load_catalog
from bot.i18n import translations
from bot.notify.render import render_event, render_for, render_resolved_alert
from bot.services.status import names_of
from bot.net.client import HttpClient
from bot.sources.base import PollContext, SourceSpec
from bot.sources.http import HttpKind
from bot.sources.statuspage import parse as parse_statuspage
from bot.simulate import scenarios
from bot.simulate.clock import VirtualClock
from bot.simulate.loopback import ERROR_PAGE_TEXT, start_servers
from bot.simulate.runner import SimulationResult, run
from bot.simulate.scenarios import ScenarioWorld, window_count
from bot.status import Status
from tests.bidi import lines_of, misreadings

AR = translations("ar", "UTC", "latn")
EN = translations("en", "UTC", "latn")


async def _play(name: str, show: str = "both", charts: Path | None = None) -> tuple[SimulationResult, str]:
    out = io.StringIO()
    result = await run(scenarios.get(name), show=show, speed=0, out=out, charts=charts)
    _assert_arabic_reads_in_every_layout(result)
    return result, out.getvalue()


def _assert_arabic_reads_in_every_layout(result: SimulationResult) -> None:
    """Every Arabic message the scenario posted, and each event rendered again with Eastern
    Arabic digits, reads the same laid out left-to-right, right-to-left and first-strong
    (issue 11: the scenarios run here anyway, so their layout is checked here)."""
    messages = [m for r in result.received for m in r.messages if m.lang == "ar"]
    names = names_of(load_catalog().get(result.scenario.service_id))  # type: ignore[arg-type]
    for r in result.received:
        render = render_resolved_alert if r.action == "edit-resolved" else render_event
        messages += render_for("ar", render, r.event, names, tz="Asia/Riyadh", digits="arab", now=r.at)
    problems = misreadings(line for m in messages for _, line in lines_of(m))
    assert not problems, "\n".join(problems)


def _languages(result: SimulationResult) -> dict[str, set[tuple[str, ...]]]:
    by_channel: dict[str, set[tuple[str, ...]]] = {}
    for r in result.received:
        by_channel.setdefault(r.channel.language, set()).add(tuple(m.lang for m in r.messages))
    return by_channel


def _assert_channels_agree(result: SimulationResult) -> None:
    """The ar, en and both channels got the same messages, each in its own language(s)."""
    assert _languages(result) == {"ar": {("ar",)}, "en": {("en",)}, "both": {("ar", "en")}}
    counts = {lang: [(r.kind, r.action) for r in result.for_channel(lang)] for lang in ("ar", "en", "both")}
    assert counts["ar"] == counts["en"] == counts["both"]


# --- the scenarios ---------------------------------------------------------------------------


async def test_x_outage_tells_the_story_in_both_languages(tmp_path: Path) -> None:
    result, text = await _play("x-outage", charts=tmp_path)
    kinds = result.kinds()
    assert kinds[0] is EventKind.OPENED and kinds[-1] is EventKind.RESOLVED
    assert kinds.count(EventKind.OPENED) == 1 and kinds.count(EventKind.RESOLVED) == 1
    assert kinds.count(EventKind.UPDATED) >= 3  # the alert is updated as reports climb
    assert EventKind.UNSTABLE not in kinds
    opened, resolved = result.events[0], result.events[-1]
    assert opened.status is Status.MAJOR_OUTAGE and opened.unacknowledged
    assert resolved.report_peak == 25_800
    assert resolved.report_peak_at == datetime(2025, 6, 12, 12, 51, tzinfo=timezone.utc)
    assert resolved.duration is not None and resolved.duration > timedelta(hours=3)
    assert all(e.unacknowledged for e in result.events if e.kind is not EventKind.RESOLVED)
    updates = [e for e in result.events if e.kind is EventKind.UPDATED]
    assert [e.report_peak for e in updates] == sorted(e.report_peak or 0 for e in updates)
    _assert_channels_agree(result)

    # English
    for phrase in (
        "X (Twitter) is down",
        "Says all systems are operational",  # not acknowledged by the official status page
        "Still says all systems are operational: no word of the problem",
        "Serves an error page (HTTP 200)",
        "X (Twitter) is back",
        f"25,800 reports in 15 minutes, at {EN.time(resolved.report_peak_at)}",  # 12:51 PM (babel's narrow space)
    ):
        assert phrase in text, phrase
    assert "The outage lasted 4 hours" in text
    # Arabic, through the bot's own catalogs
    for phrase in (
        AR.gettext("{service} is down", service="إكس"),
        AR.gettext("Says all systems are operational."),
        AR.gettext("{service} is back", service="إكس"),
        AR.gettext("Serves an error page ({http}).", http="HTTP 200"),
        AR.ngettext(
            "{n} report in {window}, {at}", "{n} reports in {window}, {at}", 25_800,
            window=AR.duration(timedelta(minutes=15)), at=AR.gettext("at {time}", time=AR.time(resolved.report_peak_at)),
        ),  # fmt: skip
    ):
        assert phrase in text, phrase
    assert "reports are under 650" in text
    assert "peak of user reports: 25,800 at 12:51 UTC" in text
    # --charts: the picture each message of the shown channel carries, in each of its languages
    charted = [r for r in result.for_channel("both") if r.action != "edit-resolved"]
    pictures = sorted(tmp_path.glob("*.png"))
    assert len(pictures) == 2 * len(charted) and charted
    assert {p.name.rsplit("-", 1)[1] for p in pictures} == {"ar.png", "en.png"}
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pictures)
    assert text.count("[chart: ") == len(pictures)


async def test_official_incident_follows_the_status_page() -> None:
    result, text = await _play("official-incident", show="both")
    kinds = result.kinds()
    assert kinds[0] is EventKind.OPENED and kinds[-1] is EventKind.RESOLVED
    assert kinds.count(EventKind.ESCALATED) == 1
    assert EventKind.UNSTABLE not in kinds and EventKind.DEESCALATED not in kinds
    opened = result.events[0]
    assert opened.confidence is Confidence.CONFIRMED and not opened.unacknowledged
    assert opened.status is Status.DEGRADED
    assert opened.at - datetime(2025, 6, 17, 14, 10, tzinfo=timezone.utc) <= timedelta(minutes=1)  # acted on at the poll that saw it
    escalated = next(e for e in result.events if e.kind is EventKind.ESCALATED)
    assert escalated.status is Status.PARTIAL_OUTAGE
    assert any(e.kind is EventKind.UPDATED and e.official_update and e.official_update.startswith("A fix has been deployed") for e in result.events)
    assert result.events[-1].report_peak == 420
    _assert_channels_agree(result)
    for phrase in ("GitHub is having problems", "GitHub is partially down", "GitHub is back", "Incident with Git Operations", "A fix has been deployed"):
        assert phrase in text, phrase
    for phrase in (
        AR.gettext("{service} is partially down", service="غيت هاب"),
        AR.gettext("{service} is back", service="غيت هاب"),
        AR.gettext("Latest official update"),
    ):
        assert phrase in text, phrase


async def test_flapping_gives_one_unstable_notice_not_a_storm() -> None:
    result, text = await _play("flapping", show="en")
    kinds = result.kinds()
    config = IncidentConfig()
    assert kinds.count(EventKind.UNSTABLE) == 1
    assert kinds.count(EventKind.OPENED) <= config.flap_count
    after = kinds[kinds.index(EventKind.UNSTABLE) + 1 :]
    assert after == [EventKind.RESOLVED]  # quiet while it flaps, one recovery once it settles
    flips = sum(1 for _, mode in scenarios.get("flapping").front_door.changes() if mode == "503")
    posts = [r for r in result.for_channel("en") if r.action in ("new", "reply")]
    assert flips == 8 and len(posts) < 2 * flips
    _assert_channels_agree(result)
    assert EN.gettext("{service} is unstable", service="Discord") in text
    assert "Discord keeps going down and coming back." in text
    arabic = "\n".join(r.text() for r in result.for_channel("ar"))
    assert AR.gettext("{service} is unstable", service="ديسكورد") in arabic


async def test_monitor_offline_sends_nothing() -> None:
    result, text = await _play("monitor-offline")
    assert result.events == [] and result.received == []
    assert len(result.blind_periods) == 1
    began, ended = result.blind_periods[0]
    assert began >= datetime(2025, 6, 23, 10, 0, 40, tzinfo=timezone.utc)
    assert ended is not None and ended >= datetime(2025, 6, 23, 10, 22, tzinfo=timezone.utc)
    assert "monitoring degraded" in text and "0 new messages" in text
    assert result.polls > 50  # the sources really were polled all along


def test_cli_runs_a_scenario_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.__main__ import main

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        code = main(["simulate", "monitor-offline", "--speed", "0", "--lang", "ar"])
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    out = capsys.readouterr().out
    assert code == 0
    assert "simulate monitor-offline" in out and "showing #alerts-ar" in out


# --- the parts --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", scenarios.names())
def test_crowd_plan_peaks_exactly_where_the_story_says(name: str) -> None:
    scenario = scenarios.get(name)
    counts = {m: n for m, (n, _) in scenario.crowd.plan(scenario.start, scenario.end).items()}
    for spike in scenario.crowd.spikes:
        values = []
        m = scenario.start
        while m <= scenario.end:
            values.append((round(window_count(counts, m)), m))
            m += timedelta(minutes=1)
        top = max(v for v, _ in values)
        assert top == spike.peak
        assert min(m for v, m in values if v == top) == spike.peak_at  # the first time it is reached


def test_status_page_summary_reads_as_the_real_parser_sees_it() -> None:
    scenario = scenarios.get("official-incident")
    day = scenario.start.date().isoformat()

    def observe(hhmm: str):  # type: ignore[no-untyped-def]
        when = scenarios.at(day, hhmm)
        payload = json.dumps(scenario.status_summary(when)).encode()
        return parse_statuspage(payload, service_id="github", fetched_at=when, url="http://127.0.0.1/")

    assert observe("14:05").status is Status.OPERATIONAL
    minor = observe("14:12")
    assert minor.status is Status.DEGRADED and minor.incidents[0].title == "Incident with Git Operations"
    assert minor.incidents[0].latest_update and minor.incidents[0].latest_update.startswith("We are investigating")
    major = observe("14:30")
    assert major.status is Status.PARTIAL_OUTAGE and major.incidents[0].status == "identified"
    assert observe("15:10").status is Status.OPERATIONAL


async def test_virtual_clock_jumps_forward_only() -> None:
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    clock = VirtualClock(start, speed=0)
    await clock.advance_to(start + timedelta(minutes=5))
    await clock.advance_to(start + timedelta(minutes=1))
    assert clock() == clock.now() == start + timedelta(minutes=5)
    assert clock.elapsed == timedelta(minutes=5)
    with pytest.raises(ValueError):
        VirtualClock(datetime(2025, 1, 1))


async def test_loopback_front_door_follows_virtual_time() -> None:
    scenario = scenarios.get("x-outage")
    clock = VirtualClock(scenarios.at("2025-06-12", "11:50"))
    servers = await start_servers(ScenarioWorld(scenario), clock, service_name="x")
    try:
        async with HttpClient(allow_private=True, timeout=2) as client:
            before = await client.get(servers.front_door)
            await clock.advance_to(scenarios.at("2025-06-12", "12:00"))
            during = await client.get(servers.front_door)
            summary = await client.get(servers.status_page + "/api/v2/summary.json")
    finally:
        await servers.close()
    assert before.status == 200 and b"Something went wrong" not in before.body
    assert during.status == 200 and ERROR_PAGE_TEXT.encode() in during.body
    assert json.loads(summary.body)["status"]["description"] == "All Systems Operational"


class _World:
    """A world whose front door mode and network the test sets directly."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.up = True

    def network_up(self, at: datetime) -> bool:
        return self.up

    def front_door(self, at: datetime) -> str:
        return self.mode

    def status_summary(self, at: datetime) -> dict:  # type: ignore[type-arg]
        return scenarios.get("x-outage").status_summary(at)


async def test_front_door_modes_read_as_the_http_probe_reads_them() -> None:
    world = _World()
    clock = VirtualClock(datetime(2025, 1, 1, tzinfo=timezone.utc))
    servers = await start_servers(world, clock, service_name="x")
    spec = SourceSpec(kind="http", url=servers.front_door, options={"forbid_text": "Something went wrong", "timeout": 0.3})
    seen: dict[str, tuple[Status, str | None]] = {}
    try:
        async with HttpClient(allow_private=True, timeout=0.3) as client:
            for mode in ("ok", "error_page", "503", "drop", "hang", "network-down"):
                world.mode, world.up = ("ok", False) if mode == "network-down" else (mode, True)
                obs = await HttpKind.poll(PollContext(service_id="x", spec=spec, fetcher=client, now=clock()))
                seen[mode] = (obs.status, obs.error.kind if obs.error else None)
    finally:
        await servers.close()
    assert seen["ok"] == (Status.OPERATIONAL, None)
    assert seen["error_page"][0] is Status.MAJOR_OUTAGE
    assert seen["503"] == (Status.MAJOR_OUTAGE, "http_status")
    assert seen["drop"] == (Status.MAJOR_OUTAGE, "connection")
    assert seen["hang"] == (Status.MAJOR_OUTAGE, "timeout")
    assert seen["network-down"] == (Status.MAJOR_OUTAGE, "connection")
