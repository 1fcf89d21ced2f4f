"""``python -m bot simulate``: every bundled scenario through the real pipeline, at full speed.

Each scenario test asserts what the bot concluded (incident event kinds and counts, the peak)
and what the subscribed channels received, in Arabic and English (key phrases rendered through
the same catalogs the bot uses, plus the numbers of the story).
"""

from __future__ import annotations

import dataclasses
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
from bot.simulate.crowd import ReportInjector
from bot.simulate.loopback import Servers, start_servers
from bot.simulate.runner import SimulationResult, _on_loopback, run, shipped_service
from bot.simulate.scenarios import ScenarioWorld
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
    catalog = load_catalog()
    for r in result.received:
        render = render_resolved_alert if r.action == "edit-resolved" else render_event
        names = names_of(catalog.get(r.event.service_id))  # type: ignore[arg-type]
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


def _assert_one_alert_per_channel(result: SimulationResult) -> None:
    """In each channel the incident is one alert, edited in place as it changes, then a reply
    to it with the recovery and an edit of it to say it is over (the delivery worker's rules)."""
    for language in ("ar", "en", "both"):
        got = result.for_channel(language)
        actions = [r.action for r in got]
        assert actions[0] == "new" and actions[-2:] == ["reply", "edit-resolved"], actions
        assert set(actions[1:-2]) == {"edit"}, actions
        alert = got[0].message_id
        assert all(r.message_id == alert for r in got if r.action in ("edit", "edit-resolved"))
        assert got[-2].message_id != alert  # the recovery is a message of its own


def _peak_line(t: object, peak: int, at: datetime) -> str:
    tr = AR if t is AR else EN
    return tr.ngettext(
        "{n} report in {window}, {at}", "{n} reports in {window}, {at}", peak,
        window=tr.duration(timedelta(minutes=15)), at=tr.gettext("at {time}", time=tr.time(at)),
    )  # fmt: skip


async def test_x_outage_tells_the_story_in_both_languages(tmp_path: Path) -> None:
    result, text = await _play("x-outage", charts=tmp_path)
    kinds = result.kinds()
    assert kinds[0] is EventKind.OPENED and kinds[-1] is EventKind.RESOLVED
    assert kinds.count(EventKind.OPENED) == 1 and kinds.count(EventKind.RESOLVED) == 1
    assert kinds.count(EventKind.UPDATED) >= 3  # the alert is updated as reports climb
    assert EventKind.UNSTABLE not in kinds
    opened, resolved = result.events[0], result.events[-1]
    # the shipped catalog's probe of X's API sees the failure that x.com's own page hides
    assert opened.status is Status.MAJOR_OUTAGE and not opened.unacknowledged  # X publishes no status page
    assert opened.at - datetime(2025, 6, 12, 11, 51, tzinfo=timezone.utc) <= timedelta(minutes=2)  # a poll interval + re-checks
    # the peak is what the crowd signal counted, near the press figure (25,800 at 12:51)
    assert resolved.report_peak is not None and abs(resolved.report_peak - 25_800) <= 0.05 * 25_800
    assert resolved.report_peak_at is not None
    assert abs(resolved.report_peak_at - datetime(2025, 6, 12, 12, 51, tzinfo=timezone.utc)) <= timedelta(minutes=5)
    assert resolved.duration is not None and resolved.duration > timedelta(hours=3)
    updates = [e for e in result.events if e.kind is EventKind.UPDATED]
    assert [e.report_peak for e in updates] == sorted(e.report_peak or 0 for e in updates)
    _assert_channels_agree(result)
    _assert_one_alert_per_channel(result)

    peak, peak_at = resolved.report_peak, resolved.report_peak_at
    # English
    for phrase in ("X (Twitter) is down", "HTTP 503 error.", "X (Twitter) is back", _peak_line(EN, peak, peak_at)):
        assert phrase in text, phrase
    assert "The outage lasted 4 hours" in text
    assert "Says all systems are operational" not in text  # there is no page to say so
    # Arabic, through the bot's own catalogs
    for phrase in (
        AR.gettext("{service} is down", service="إكس"),
        AR.gettext("{service} is back", service="إكس"),
        AR.gettext("{http} error.", http="HTTP 503"),
        _peak_line(AR, peak, peak_at),
    ):
        assert phrase.strip("\u200f") in text, phrase
    # the summary prints the pipeline's figure
    assert f"peak of user reports: {peak:,} at {peak_at:%H:%M} UTC" in text
    # --charts: the picture each message of the shown channel carries, in each of its languages
    charted = [r for r in result.for_channel("both") if r.action != "edit-resolved"]
    pictures = sorted(tmp_path.glob("*.png"))
    assert len(pictures) == 2 * len(charted) and charted
    assert {p.name.rsplit("-", 1)[1] for p in pictures} == {"ar.png", "en.png"}
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pictures)
    assert text.count("[chart: ") == len(pictures)


async def test_silent_page_tells_that_the_status_page_says_nothing() -> None:
    result, text = await _play("silent-page", show="both")
    kinds = result.kinds()
    assert kinds[0] is EventKind.OPENED and kinds[-1] is EventKind.RESOLVED and EventKind.UNSTABLE not in kinds
    assert all(e.unacknowledged for e in result.events if e.kind is not EventKind.RESOLVED)
    _assert_channels_agree(result)
    _assert_one_alert_per_channel(result)
    assert "Says all systems are operational." in text
    assert "Still says all systems are operational: no word of the problem" in text
    assert AR.gettext("Says all systems are operational.").strip("\u200f") in text


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
    peak = result.events[-1].report_peak
    assert peak is not None and 300 <= peak <= 600  # what the crowd signal counted of ~40 reports a minute
    _assert_channels_agree(result)
    _assert_one_alert_per_channel(result)
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
    flips = sum(1 for _, mode in dict(scenarios.get("flapping").probes)[scenarios.DISCORD_SITE].changes() if mode == "503")
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


async def test_upstream_outage_tells_one_story_per_channel_in_both_languages() -> None:
    """Cloudflare takes Discord, X and ChatGPT down (issue 17 item 6): each channel reads one
    grouped message, edited as services join and recover, with the countries reporting and
    Iraq's national shutdown (IODA, read from a loopback IODA by the real poller), and one
    reply when the last service is back; alerts posted before Cloudflare's own outage was
    seen point at the grouped message."""
    result, text = await _play("upstream-outage", show="both")
    kinds = result.kinds()
    for service in ("cloudflare", "discord", "x", "chatgpt"):
        mine = [e.kind for e in result.events if e.service_id == service]
        assert mine[0] is EventKind.OPENED and mine[-1] is EventKind.RESOLVED and mine.count(EventKind.OPENED) == 1, service
    assert EventKind.UNSTABLE not in kinds
    _assert_channels_agree(result)
    en_title = "Cloudflare outage \u2014 also affecting "
    for language in ("ar", "en", "both"):
        got = result.for_channel(language)
        grouped = {r.message_id for r in got if any(m.title.strip("\u200f").startswith(
            (en_title, AR.gettext("{provider} outage — also affecting {services}", provider="كلاود فلير", services="").strip("\u200f ")))
            for m in r.messages)}
        assert len(grouped) == 1, language  # ONE grouped message in the channel
        [anchor] = grouped
        first_grouped = next(i for i, r in enumerate(got) if r.message_id == anchor and r.action == "edit")
        later = got[first_grouped + 1 :]
        # from then on: edits of the grouped message, the earlier alerts pointed at it, one reply
        assert [r.action for r in later if r.action in ("new", "reply")] == ["reply"], language
        pointed = {r.message_id for r in later if r.message_id != anchor and r.action == "edit"}
        posted_before = {r.message_id for r in got[:first_grouped] if r.action == "new"} - {anchor}
        assert posted_before <= pointed, language
        reply = next(r for r in later if r.action == "reply")
        assert reply.event.service_id in ("cloudflare", "discord", "x", "chatgpt") and reply.event.kind is EventKind.RESOLVED
        assert got[-1].action == "edit-resolved" and got[-1].message_id == anchor
    # what the English grouped message said along the way
    english = "\n".join(r.text() for r in result.for_channel("en")).replace("\u202f", " ")
    for phrase in (
        "These services rely on Cloudflare, which is down at the same time",
        "Reports from 8 countries: ",
        "Internet connectivity in Iraq is disrupted nationwide since 10:30 AM (IODA)",
        "The disruption is international, not a national internet outage",
        "All services hit by the Cloudflare outage are back",
        "Resolved: the Cloudflare outage that also affected ",
        "Discord: part of the Cloudflare outage", "[Go to that message](https://discord.com/channels/",
    ):
        assert phrase in english, phrase
    arabic = "\n".join(r.text() for r in result.for_channel("ar"))
    for phrase in ("يطال أيضًا", "العراق", "عودة جميع الخدمات المتأثرة بانقطاع كلاود فلير", "ضمن انقطاع كلاود فلير"):
        assert phrase in arabic, phrase


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


def test_a_spike_describes_arrivals_rising_to_its_rate_then_decaying() -> None:
    day = "2025-01-01"
    spike = scenarios.Spike(onset=scenarios.at(day, "10:00"), top=scenarios.at(day, "10:20"), rate=600, tau=10.0, end=scenarios.at(day, "11:30"))
    counts = spike.per_minute()
    minutes = sorted(counts)
    peak = max(counts, key=counts.__getitem__)
    assert peak == spike.top and counts[peak] == 600
    rising = [counts[m] for m in minutes if m <= spike.top]
    falling = [counts[m] for m in minutes if m >= spike.top]
    assert rising == sorted(rising) and falling == sorted(falling, reverse=True)
    assert max(minutes) < spike.end


def test_a_minutes_reports_arrive_through_the_minute() -> None:
    start = scenarios.at("2025-01-01", "10:00")
    plan = {start: (10, (("app", 1.0),)), start + timedelta(minutes=1): (2, (("app", 1.0),))}
    injector = ReportInjector(None, "x", plan)  # type: ignore[arg-type]
    spread = {at: n for at, (n, _) in injector.plan.items()}
    assert sum(spread.values()) == 12
    assert spread == {start: 3, start + timedelta(seconds=15): 3, start + timedelta(seconds=30): 2, start + timedelta(seconds=45): 2,
                      start + timedelta(minutes=1): 1, start + timedelta(minutes=1, seconds=15): 1}
    assert injector.next_at() == start and injector.next_at(start + timedelta(seconds=50)) == start + timedelta(minutes=1)


@pytest.mark.parametrize("name", scenarios.names())
def test_scenarios_watch_the_shipped_catalog_entry(name: str) -> None:
    """Every scenario plays the shipped catalog's sources and options for every service it
    involves; only the URLs (and a hanging probe's wall-time cost) change."""
    scenario = scenarios.get(name)
    for part in scenario.parts:
        shipped = load_catalog().get(part.service_id)
        assert shipped is not None and shipped_service(scenario, part) == shipped
        probes = {spec.url: f"http://127.0.0.1:1/probe/{n}" for n, spec in enumerate(shipped.sources) if spec.kind == "http"}
        tcp = {spec.url: f"tcp://127.0.0.1:{n + 3}" for n, spec in enumerate(shipped.sources) if spec.kind == "tcp"}
        servers = Servers(status_page="http://127.0.0.1:2" if part.page else None, probes=probes, canaries=(), runners=(), hits={}, tcp=tcp)
        watched = _on_loopback(shipped, servers).get(shipped.id)
        assert watched is not None and len(watched.sources) == len(shipped.sources)
        for mine, theirs in zip(watched.sources, shipped.sources):
            assert (mine.kind, mine.interval) == (theirs.kind, theirs.interval)
            assert {k: v for k, v in mine.options.items() if k != "timeout"} == {k: v for k, v in theirs.options.items() if k != "timeout"}
            assert mine.url.startswith(("http://127.0.0.1:", "tcp://127.0.0.1:"))


def test_a_scenario_that_touches_what_the_catalog_does_not_probe_is_refused() -> None:
    scenario = dataclasses.replace(scenarios.get("x-outage"), probes=(("https://x.com/", scenarios.Timeline(((scenarios.ALWAYS, "503"),))),))
    with pytest.raises(ValueError, match="does not probe"):
        shipped_service(scenario)
    with pytest.raises(ValueError, match="status page"):
        shipped_service(dataclasses.replace(scenarios.get("official-incident"), page=None))


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


async def test_a_paced_clock_keeps_the_pace_without_sleeping_at_every_small_jump(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.simulate import clock as clock_module

    real = [1000.0]  # a fake monotonic clock that only sleeping moves (no real time in this test)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        real[0] += seconds

    monkeypatch.setattr(clock_module, "monotonic", lambda: real[0])
    monkeypatch.setattr(clock_module, "sleep", sleep)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    clock = VirtualClock(start, speed=60)  # a virtual minute per real second
    for step in range(1, 121):  # 120 jumps of half a virtual second: 1/120 s of real time each
        await clock.advance_to(start + timedelta(seconds=step / 2))
    assert clock() == start + timedelta(minutes=1)
    assert len(slept) <= 120 // 2 and all(s >= clock_module.MIN_SLEEP for s in slept)
    assert 1.0 - clock_module.MIN_SLEEP <= sum(slept) <= 1.0  # one real second for one virtual minute


async def test_loopback_probes_follow_virtual_time() -> None:
    scenario = scenarios.get("silent-page")
    clock = VirtualClock(scenarios.at("2025-06-10", "06:30"))
    servers = await start_servers(ScenarioWorld(scenario), clock, service_name="ChatGPT", probes=[scenarios.CHATGPT_SITE])
    try:
        async with HttpClient(allow_private=True, timeout=2) as client:
            before = await client.get(servers.probes[scenarios.CHATGPT_SITE])
            await clock.advance_to(scenarios.at("2025-06-10", "06:40"))
            during = await client.get(servers.probes[scenarios.CHATGPT_SITE])
            assert servers.status_page is not None
            summary = await client.get(servers.status_page + "/api/v2/summary.json")
    finally:
        await servers.close()
    assert before.status == 200 and during.status == 503
    assert json.loads(summary.body)["status"]["description"] == "All Systems Operational"


class _World:
    """A world whose probe mode and network the test sets directly."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.up = True

    def network_up(self, at: datetime) -> bool:
        return self.up

    def probe(self, url: str, at: datetime) -> str:
        return self.mode

    def status_summary(self, at: datetime) -> dict:  # type: ignore[type-arg]
        return scenarios.get("silent-page").status_summary(at)


async def test_probe_modes_read_as_the_http_probe_reads_them() -> None:
    world = _World()
    clock = VirtualClock(datetime(2025, 1, 1, tzinfo=timezone.utc))
    url = "https://example.com/api"
    servers = await start_servers(world, clock, service_name="Example", probes=[url], required={url: "author_name"})
    spec = SourceSpec(kind="http", url=servers.probes[url], options={"forbid_text": "Something went wrong", "require_text": "author_name", "timeout": 0.3})
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
