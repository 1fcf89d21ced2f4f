"""Slack status API v2.0.0 parser on real captures."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.sources.base import FetchResult, Observation, PollContext, SourceSpec
from bot.sources.slack import SlackKind, parse
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
NOW = datetime(2020, 7, 30, 23, 0, tzinfo=timezone.utc)


def read(name: str, **options: object) -> Observation:
    return parse((FIXTURES / name).read_bytes(), service_id="slack", fetched_at=NOW, **options)


def test_ok() -> None:
    obs = read("ok.json")
    assert obs.status is Status.OPERATIONAL and obs.incidents == () and obs.error is None


def test_active_incidents() -> None:
    obs = read("incident.json")
    assert obs.status is Status.PARTIAL_OUTAGE
    assert [(i.id, i.impact) for i in obs.incidents] == [("878", Status.PARTIAL_OUTAGE), ("879", Status.PARTIAL_OUTAGE)]
    first = obs.incidents[0]
    assert first.title == "We are investigating an issue with notification settings"
    assert first.url == "https://status.slack.com/2020-07/ea58a170d343b2ad"
    assert first.latest_update.startswith("Some users might notice")
    assert first.started_at == datetime(2020, 7, 30, 15, 12, 34, tzinfo=timezone(timedelta(hours=-7)))
    assert [(c.name, c.status) for c in obs.components] == [
        ("Notifications", Status.PARTIAL_OUTAGE),
        ("Apps/Integrations/APIs", Status.PARTIAL_OUTAGE),
    ]


def test_outage_and_notice_types() -> None:
    obs = read("outage_derived.json")
    assert obs.status is Status.MAJOR_OUTAGE
    assert [i.impact for i in obs.incidents] == [Status.MAJOR_OUTAGE, Status.DEGRADED]


def test_services_filter() -> None:
    assert read("incident.json", services=["Calls"]).status is Status.OPERATIONAL
    only = read("outage_derived.json", services=["Apps/Integrations/APIs"])
    assert only.status is Status.DEGRADED and len(only.incidents) == 1


def test_active_without_incidents_is_unknown() -> None:
    obs = parse(b'{"status":"active","active_incidents":[]}', service_id="slack", fetched_at=NOW)
    assert obs.status is Status.UNKNOWN and "no active incidents" in obs.error.message


def test_malformed() -> None:
    for payload in (b'{"status":"ok"', b"<html></html>", b'{"status":"active","active_incidents":{"a":1}}', b'{"nope":1}'):
        obs = parse(payload, service_id="slack", fetched_at=NOW)
        assert obs.status is Status.UNKNOWN and obs.error.kind == "parse", payload


async def test_poll_endpoint() -> None:
    class One:
        urls: list[str] = []

        async def get(self, url: str, **_: object) -> FetchResult:
            self.urls.append(url)
            return FetchResult(url=url, status=200, body=(FIXTURES / "ok.json").read_bytes())

    fetcher = One()
    spec = SourceSpec(kind="slack", url="https://slack-status.com")
    obs = await SlackKind.poll(PollContext(service_id="slack", spec=spec, fetcher=fetcher, now=NOW))  # type: ignore[arg-type]
    assert fetcher.urls == ["https://slack-status.com/api/v2.0.0/current"] and obs.status is Status.OPERATIONAL
