"""Statuspage summary.json parser on real captures, and the poll flow through a fake fetcher."""

from __future__ import annotations

import json

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.sources.base import FetchResult, Observation, PollContext, SourceError, SourceSpec
from bot.sources.statuspage import StatuspageKind, endpoint_for, parse
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statuspage"
NOW = datetime(2020, 7, 16, 22, 0, tzinfo=timezone.utc)


def read(name: str, **options: object) -> Observation:
    return parse((FIXTURES / name).read_bytes(), service_id="svc", fetched_at=NOW, **options)


def test_github_operational() -> None:
    obs = read("github_operational.json")
    assert obs.status is Status.OPERATIONAL
    assert obs.components == () and obs.incidents == () and obs.maintenances == ()
    assert obs.description == "All Systems Operational"
    assert obs.url == "https://www.githubstatus.com"
    assert obs.error is None and obs.source_kind == "statuspage" and obs.fetched_at == NOW


def test_github_outage_is_worse_than_its_indicator() -> None:
    # indicator "major" (partial outage) but four components are major_outage
    obs = read("github_major_outage.json")
    assert obs.status is Status.MAJOR_OUTAGE
    assert [(c.name, c.status) for c in obs.components] == [
        ("Git Operations", Status.MAJOR_OUTAGE),
        ("API Requests", Status.MAJOR_OUTAGE),
        ("Webhooks", Status.MAJOR_OUTAGE),
        ("Issues, PRs, Projects", Status.MAJOR_OUTAGE),
        ("GitHub Actions", Status.PARTIAL_OUTAGE),
        ("GitHub Packages", Status.MAJOR_OUTAGE),
    ]
    (incident,) = obs.incidents
    assert incident.id == "80d0cs6kpsps"
    assert incident.title == "Incident on 2020-04-02 20:20 UTC"
    assert incident.impact is Status.PARTIAL_OUTAGE
    assert incident.status == "investigating"
    assert incident.url == "http://stspg.io/n0wskg2n6bvy"
    assert incident.latest_update == "We are investigating reports of service unavailability."
    assert incident.updated_at == datetime(2020, 4, 2, 20, 26, 36, 354000, tzinfo=timezone.utc)
    assert incident.started_at == datetime(2020, 4, 2, 20, 20, 54, 5000, tzinfo=timezone.utc)


def test_critical_incident_beats_major_indicator_and_maintenance_windows() -> None:
    obs = read("atlassian_docs_example.json")
    assert obs.status is Status.MAJOR_OUTAGE
    assert obs.incidents[0].impact is Status.MAJOR_OUTAGE
    assert obs.incidents[0].started_at == datetime(2014, 5, 14, 20, 22, 39, 441000, tzinfo=timezone.utc)
    upcoming, active = obs.maintenances
    assert (upcoming.id, upcoming.in_progress) == ("w1zdr745wmfy", False)
    assert upcoming.starts_at == datetime(2014, 5, 18, 4, 0, tzinfo=timezone.utc)
    assert upcoming.ends_at == datetime(2014, 5, 18, 5, 30, tzinfo=timezone.utc)
    assert (active.id, active.in_progress, active.title) == ("k7mf5z1gz05c", True, "Web Tier Recycle")


def test_cloudamqp_maintenance() -> None:
    obs = read("cloudamqp_maintenance.json")
    assert obs.status is Status.MAINTENANCE
    assert [(c.name, c.status) for c in obs.components] == [("Shared servers", Status.MAINTENANCE)]
    (m,) = obs.maintenances
    assert m.in_progress and m.url == "http://stspg.io/3crfld0dxr87"
    assert (m.starts_at, m.ends_at) == (
        datetime(2020, 7, 16, 21, 0, tzinfo=timezone.utc),
        datetime(2020, 7, 16, 23, 0, tzinfo=timezone.utc),
    )
    assert obs.incidents == ()


def test_twilio_degraded() -> None:
    obs = read("twilio_degraded.json")
    assert obs.status is Status.DEGRADED
    assert {c.name for c in obs.components} == {
        "PROGRAMMABLE MESSAGING",
        "SMS Short Code, North America",
        "MMS Short Code, North America",
        "CARRIER NETWORK",
    }
    assert [(i.id, i.impact, i.status) for i in obs.incidents] == [
        ("4dtnnnnxnhn9", Status.DEGRADED, "investigating"),
        ("r0f0vdz8vrgm", Status.DEGRADED, "monitoring"),
    ]
    assert obs.incidents[1].latest_update.startswith("We have started seeing recovery")
    (m,) = obs.maintenances
    assert m.id == "9szb6ydlg10w" and not m.in_progress


def test_maintenance_does_not_mask_an_outage() -> None:
    obs = read("github_major_outage.json")
    assert obs.status is Status.MAJOR_OUTAGE  # sanity: same page with an outage
    payload = (FIXTURES / "cloudamqp_maintenance.json").read_text().replace(
        '"name": "Backend", "status": "operational"', '"name": "Backend", "status": "partial_outage"'
    )
    mixed = parse(payload.encode(), service_id="svc", fetched_at=NOW)
    assert mixed.status is Status.PARTIAL_OUTAGE
    assert len(mixed.maintenances) == 1


def test_components_option_restricts_the_reading() -> None:
    only_pages = read("github_major_outage.json", components=["GitHub Pages"])
    assert only_pages.status is Status.OPERATIONAL
    assert only_pages.incidents == ()  # the incident names no selected component
    only_git = read("github_major_outage.json", components=["git operations"])
    assert only_git.status is Status.MAJOR_OUTAGE
    assert [c.name for c in only_git.components] == ["Git Operations"]
    missing = read("github_major_outage.json", components=["No Such Thing"])
    assert missing.status is Status.UNKNOWN and missing.error.kind == "parse"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("malformed/truncated.json", "invalid JSON"),
        ("malformed/nginx_502.html", "HTML"),
        ("malformed/statuspage_wrong_types.json", "status must be an object, got list"),
        ("malformed/json_array.json", "must be an object"),
    ],
)
def test_malformed_payloads_are_unknown_with_a_clear_error(name: str, fragment: str) -> None:
    obs = read(name)
    assert obs.status is Status.UNKNOWN
    assert obs.error is not None and obs.error.kind == "parse"
    assert fragment in obs.error.message


@pytest.mark.parametrize(
    "payload",
    [b"", b"{}", b'{"status": {"indicator": "purple"}}', b'{"incidents": [42]}', b"\xff\xfe"],
)
def test_odd_payloads_never_raise(payload: bytes) -> None:
    obs = parse(payload, service_id="svc", fetched_at=NOW)
    assert obs.status is Status.UNKNOWN and obs.error.kind == "parse"


def test_components_of_the_wrong_type_are_a_clear_error() -> None:
    payload = json.dumps({"page": {"id": "x"}, "status": {"indicator": "none"}, "components": "operational"}).encode()
    obs = parse(payload, service_id="svc", fetched_at=NOW)
    assert obs.status is Status.UNKNOWN and obs.error is not None and "components must be a list" in obs.error.message


@pytest.mark.parametrize("fixture", ["slack/ok.json", "psn/region_scea_2020-11_healthy_isitupbot.json"])
def test_another_formats_status_is_not_a_statuspage_indicator(fixture: str) -> None:
    # Slack's and PlayStation's answers carry a "status" of another shape: not a healthy Statuspage page
    obs = parse((FIXTURES.parent / fixture).read_bytes(), service_id="svc", fetched_at=NOW)
    assert obs.status is Status.UNKNOWN and obs.error is not None and "status must be an object" in obs.error.message


@pytest.mark.parametrize("fixture", sorted(p.name for p in (FIXTURES.parent / "statuspal").glob("*.json")))
def test_a_statuspal_answer_is_not_read_as_a_statuspage_page(fixture: str) -> None:
    # Statuspal's summary has "incidents" too: read as this format, a healthy page was degraded
    obs = parse((FIXTURES.parent / "statuspal" / fixture).read_bytes(), service_id="svc", fetched_at=NOW)
    assert obs.status is Status.UNKNOWN and obs.error is not None and "Statuspal" in obs.error.message


def test_endpoint_for() -> None:
    assert endpoint_for("https://www.githubstatus.com") == "https://www.githubstatus.com/api/v2/summary.json"
    assert endpoint_for("https://status.openai.com/") == "https://status.openai.com/api/v2/summary.json"
    assert endpoint_for("https://x.test/api/v2/summary.json") == "https://x.test/api/v2/summary.json"


def test_validate_options() -> None:
    assert StatuspageKind.validate_options({"components": ["API"]}) == []
    assert StatuspageKind.validate_options({"components": "API"}) == ["components: must be a non-empty list of names"]
    assert StatuspageKind.validate_options({"colour": 1}) == ["colour: unknown option for kind 'statuspage'"]


# -- poll through our own Fetcher protocol ---------------------------------------------------


@dataclass
class FakeFetcher:
    """Answers every GET with ``result`` and records what was asked."""

    result: FetchResult
    calls: list[tuple[str, bool]] = field(default_factory=list)

    async def get(self, url: str, *, conditional: bool = False, **_: object) -> FetchResult:
        self.calls.append((url, conditional))
        return self.result


def ctx(fetcher: FakeFetcher, previous: Observation | None = None, **options: object) -> PollContext:
    spec = SourceSpec(kind="statuspage", url="https://www.githubstatus.com", options=dict(options))
    return PollContext(service_id="github", spec=spec, fetcher=fetcher, now=NOW, previous=previous)  # type: ignore[arg-type]


async def test_poll_parses_and_fills_latency_and_status() -> None:
    body = (FIXTURES / "github_major_outage.json").read_bytes()
    fetcher = FakeFetcher(FetchResult(url="u", status=200, body=body, latency_ms=12.5))
    obs = await StatuspageKind.poll(ctx(fetcher))
    assert fetcher.calls == [("https://www.githubstatus.com/api/v2/summary.json", True)]
    assert obs.status is Status.MAJOR_OUTAGE
    assert (obs.latency_ms, obs.http_status, obs.service_id, obs.fetched_at) == (12.5, 200, "github", NOW)


async def test_poll_passes_options_to_the_parser() -> None:
    body = (FIXTURES / "github_major_outage.json").read_bytes()
    fetcher = FakeFetcher(FetchResult(url="u", status=200, body=body))
    obs = await StatuspageKind.poll(ctx(fetcher, components=["GitHub Pages"]))
    assert obs.status is Status.OPERATIONAL


async def test_poll_304_reuses_previous_with_new_time() -> None:
    earlier = datetime(2020, 7, 16, 21, 59, tzinfo=timezone.utc)
    previous = read("github_major_outage.json")
    previous = dataclasses.replace(previous, fetched_at=earlier)
    fetcher = FakeFetcher(FetchResult(url="u", status=304, not_modified=True, latency_ms=3.0))
    obs = await StatuspageKind.poll(ctx(fetcher, previous=previous))
    assert obs.fetched_at == NOW
    assert obs.status is Status.MAJOR_OUTAGE and obs.incidents == previous.incidents
    assert (obs.http_status, obs.latency_ms) == (304, 3.0)


async def test_poll_304_without_previous_is_unknown() -> None:
    fetcher = FakeFetcher(FetchResult(url="u", status=304, not_modified=True))
    obs = await StatuspageKind.poll(ctx(fetcher))
    assert obs.status is Status.UNKNOWN and obs.error.kind == "not_modified"


async def test_poll_fetch_error_is_unknown_with_that_error() -> None:
    error = SourceError("timeout", "no answer within 10 s")
    fetcher = FakeFetcher(FetchResult(url="u", status=None, error=error, latency_ms=10000.0))
    obs = await StatuspageKind.poll(ctx(fetcher))
    assert obs.status is Status.UNKNOWN
    assert obs.error == error and obs.http_status is None and obs.latency_ms == 10000.0


async def test_poll_http_500_is_unknown_with_http_status() -> None:
    fetcher = FakeFetcher(FetchResult(url="u", status=500, body=b"<html>oops</html>"))
    obs = await StatuspageKind.poll(ctx(fetcher))
    assert obs.status is Status.UNKNOWN
    assert obs.http_status == 500
    assert obs.error.kind == "http_status" and "500" in obs.error.message


async def test_poll_200_with_html_body_is_a_parse_error() -> None:
    body = (FIXTURES / "malformed" / "nginx_502.html").read_bytes()
    fetcher = FakeFetcher(FetchResult(url="u", status=200, body=body))
    obs = await StatuspageKind.poll(ctx(fetcher))
    assert obs.status is Status.UNKNOWN and obs.error.kind == "parse" and obs.http_status == 200


async def test_poll_survives_a_fetcher_that_raises() -> None:
    class Broken:
        async def get(self, url: str, **_: object) -> FetchResult:
            raise RuntimeError("boom")

    spec = SourceSpec(kind="statuspage", url="https://www.githubstatus.com")
    obs = await StatuspageKind.poll(PollContext(service_id="github", spec=spec, fetcher=Broken(), now=NOW))  # type: ignore[arg-type]
    assert obs.status is Status.UNKNOWN and "boom" in obs.error.message



# -- the other endpoints of a Statuspage (a catalog entry may point at one) --------------------


def test_the_unresolved_incidents_endpoint_reads_alone() -> None:
    """``incidents/unresolved.json`` holds only ``page`` and ``incidents``."""
    obs = read("github_unresolved_incidents_derived.json")
    assert obs.error is None and obs.status is Status.PARTIAL_OUTAGE
    assert [i.status for i in obs.incidents] == ["investigating"]


def test_the_active_maintenances_endpoint_reads_alone() -> None:
    """``scheduled-maintenances/active.json`` holds only ``page`` and ``scheduled_maintenances``."""
    obs = read("cloudamqp_active_maintenances_derived.json")
    assert obs.error is None and obs.status is Status.MAINTENANCE
    assert [m.in_progress for m in obs.maintenances] == [True]


def test_a_configured_endpoint_is_fetched_as_it_is() -> None:
    from bot.sources.statuspage import endpoint_for

    for path in ("/api/v2/incidents/unresolved.json", "/api/v2/scheduled-maintenances/active.json", "/api/v2/components.json"):
        assert endpoint_for("https://www.githubstatus.com" + path) == "https://www.githubstatus.com" + path


def test_an_incident_io_page_through_its_statuspage_compatible_summary() -> None:
    """status.openai.com (hosted on incident.io) captured 2026-09-29 while degraded: its
    ``/api/v2/summary.json`` reads like an Atlassian page — 22 of 25 components degraded, the
    ChatGPT/Codex/API incident of impact minor, and a "none"-impact support-chat notice that
    must not read as an outage."""
    obs = read("openai_incidentio_degraded.json")
    assert obs.status is Status.DEGRADED and obs.description == "Partial System Degradation"
    assert len(obs.components) == 22 and {c.status for c in obs.components} == {Status.DEGRADED}
    assert {"Ads API", "Decisions"} <= set(obs.component_names) - {c.name for c in obs.components}
    assert [(i.title.split(" ")[0], i.impact, i.status) for i in obs.incidents] == [
        ("Elevated", Status.DEGRADED, "investigating"),
        ("Support", Status.OPERATIONAL, "investigating"),
    ]
    assert obs.incidents[0].latest_update is not None and "ChatGPT" in obs.incidents[0].latest_update
    assert obs.maintenances == ()
