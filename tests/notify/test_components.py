"""Component subscriptions: who hears an event (the pure decision, as a truth table), and the
whole path from a real captured status page through the real ``Monitor`` to delivery rows and
the alert's text."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.db.models import Delivery, IncidentEventRecord, Subscription
from bot.detect.model import EventKind, Evidence, IncidentEvent
from bot.i18n import translations
from bot.notify.outbox import affected_components, choose, component_wanted, record_event, wants
from bot.notify.render import ServiceNames, render_event
from bot.runtime.monitor import Monitor
from bot.sources.base import SourceRole
from bot.sources.statuspage import parse
from bot.status import Status
from tests.conftest import TestDB

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statuspage"
AT = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)


# --- the decision -------------------------------------------------------------------------------

FLAGS = ("enabled", "service_matches", "served", "opener", "severity_met", "component_ok")


@pytest.mark.parametrize("row", list(itertools.product((False, True), repeat=len(FLAGS))))
def test_wants_truth_table(row: tuple[bool, ...]) -> None:
    """All 64 rows: delivered iff enabled and for this service, and either the channel already
    got the alert, or it is an opener meeting the minimum and the component (if any) is hit."""
    flags = dict(zip(FLAGS, row))
    expected = flags["enabled"] and flags["service_matches"] and (
        flags["served"] or (flags["opener"] and flags["severity_met"] and flags["component_ok"])
    )
    assert wants(**flags) is expected


@pytest.mark.parametrize(
    "component, affected, expected",
    [
        (None, frozenset(), True),
        (None, frozenset({"git operations"}), True),
        ("Git Operations", frozenset({"git operations"}), True),
        ("  git OPERATIONS ", frozenset({"git operations"}), True),
        ("GitHub Pages", frozenset({"git operations"}), False),
        ("GitHub Pages", frozenset(), False),
    ],
)
def test_component_wanted(component: str | None, affected: frozenset[str], expected: bool) -> None:
    assert component_wanted(component, affected) is expected


def event(kind: EventKind, components: tuple[str, ...], role: SourceRole = SourceRole.OFFICIAL) -> IncidentEvent:
    evidence = (Evidence(role=role, source_kind="statuspage", status=Status.MAJOR_OUTAGE, components=components),)
    return IncidentEvent(kind=kind, service_id="github", incident_key="github-1", at=AT, status=Status.MAJOR_OUTAGE,
                         confidence=None, started_at=AT, evidence=evidence)  # fmt: skip


def sub(id: int, channel: int, service: str = "github", component: str | None = None) -> Subscription:
    return Subscription(id=id, guild_id=1, channel_id=channel, service_id=service, component=component,
                        min_severity="degraded", enabled=True, language="en")  # fmt: skip


def test_only_official_evidence_names_affected_components() -> None:
    assert affected_components(event(EventKind.OPENED, ("Git Operations",))) == {"git operations"}
    assert affected_components(event(EventKind.OPENED, ("Git Operations",), role=SourceRole.PROBE)) == frozenset()


def test_choose_alerts_a_component_subscription_only_for_its_component() -> None:
    subs = [sub(1, 10, component="Git Operations"), sub(2, 11, component="GitHub Pages"), sub(3, 12)]
    opened = event(EventKind.OPENED, ("Git Operations", "Webhooks"))
    assert [s.id for s in choose(opened, subs, served={})] == [1, 3]
    # a follow-up reaches the channels that got the alert, even once the page stops listing it
    resolved = event(EventKind.RESOLVED, ())
    assert [s.id for s in choose(resolved, subs, served={10: {1}, 12: {3}})] == [1, 3]
    # escalation is an opener: the Pages channel hears of the incident once Pages is hit
    escalated = event(EventKind.ESCALATED, ("Git Operations", "GitHub Pages"))
    assert [s.id for s in choose(escalated, subs, served={10: {1}, 12: {3}})] == [1, 2, 3]


def test_in_one_channel_the_component_subscription_is_the_most_specific() -> None:
    subs = [sub(1, 10, "all"), sub(2, 10, component="Git Operations")]
    assert [s.id for s in choose(event(EventKind.OPENED, ("Git Operations",)), subs, served={})] == [2]
    # its component is not hit: the channel still hears it through "all"
    assert [s.id for s in choose(event(EventKind.OPENED, ("Webhooks",)), subs, served={})] == [1]


# --- the whole path, on real pages --------------------------------------------------------------


async def test_a_real_outage_reaches_only_the_component_subscriptions_it_hits(db: TestDB) -> None:
    """githubstatus.com 2020-04-02: "GitHub Actions" partial outage, "GitHub Pages" operational."""
    actions = await Subscription.create(guild_id=1, channel_id=10, service_id="github", component="GitHub Actions")
    pages = await Subscription.create(guild_id=1, channel_id=11, service_id="github", component="GitHub Pages")
    whole = await Subscription.create(guild_id=1, channel_id=12, service_id="github")
    monitor = Monitor()
    down = parse((FIXTURES / "github_major_outage.json").read_bytes(), service_id="github", fetched_at=AT)
    events = await monitor.ingest("github", "github:0", down, AT)
    assert [e.kind for e in events] == [EventKind.OPENED]
    opened = await Delivery.filter(event__kind="opened").values_list("subscription_id", flat=True)
    assert sorted(opened) == sorted([actions.id, whole.id])

    # the alert names the components the page lists as affected, the subscribed one among them
    record = await IncidentEventRecord.get(kind="opened")
    names = ServiceNames("github", "GitHub", "جيت هب")
    for lang in ("en", "ar"):
        rendered = render_event(record_event(record), names, t=translations(lang), now=AT)
        label = translations(lang).gettext("Affected components")
        (value,) = [v for k, v in rendered.fields if label in k]  # Arabic names carry direction marks
        assert "GitHub Actions" in value and "Git Operations" in value and "GitHub Pages" not in value

    up = parse((FIXTURES / "github_operational.json").read_bytes(), service_id="github", fetched_at=AT)
    for minutes in (1, 2, 3):
        later = AT + timedelta(minutes=minutes)
        await monitor.ingest("github", "github:0", replace(up, fetched_at=later), later)
    resolved = await Delivery.filter(event__kind="resolved").values_list("subscription_id", flat=True)
    assert sorted(resolved) == sorted([actions.id, whole.id]) and pages.id not in resolved
