"""bot/sources/statuspal.py on Statuspal summaries captured from live pages (provenance in
tests/fixtures/SOURCES.md)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.sources import registry
from bot.sources._toolkit.detect import candidates
from bot.sources.base import Observation
from bot.sources.statuspal import StatuspalKind, api_url, parse
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statuspal"
MALFORMED = Path(__file__).resolve().parents[1] / "fixtures" / "statuspage" / "malformed"
UTC = timezone.utc
ASCENT_MAJOR = FIXTURES / "v2_summary_ascentlogistics_2022-04_major_linuxfabrik.json"
HOSTTECH_MINOR = FIXTURES / "v2_summary_hosttech_2023-09_minor_linuxfabrik.json"
EXOSCALE_PERFORMANCE = FIXTURES / "v2_summary_exoscale_2025-07_performance_linuxfabrik.json"
EXOSCALE_EMERGENCY = FIXTURES / "v2_summary_exoscale_2025-10_emergency_maintenance_linuxfabrik.json"
EXOSCALE_UPCOMING = FIXTURES / "v2_summary_exoscale_2023-09_upcoming_maintenance_linuxfabrik.json"
EXOSCALE_INFO = FIXTURES / "v2_summary_exoscale_2025-03_info_notice_linuxfabrik.json"
GLIDE_V1 = FIXTURES / "v1_status_glideapps_healthy_gooddesigns.json"


def read(path: Path, at: datetime, **options: Any) -> Observation:
    return parse(path.read_bytes(), service_id="s", fetched_at=at, url="https://example.statuspal.io", **options)


def test_two_open_major_incidents_are_a_major_outage_of_their_services() -> None:
    obs = read(ASCENT_MAJOR, datetime(2022, 4, 20, 19, 0, tzinfo=UTC))
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is None
    assert [i.id for i in obs.incidents] == ["82138", "82137"]
    first = obs.incidents[0]
    assert first.title == "Service PEAK - Customer API  Production seems to be down"
    assert first.url == "https://ascentlogistics.statuspal.io/incidents/82138" and first.status == "issue"
    assert first.latest_update is not None and first.latest_update.startswith("According to our monitoring system")
    assert first.started_at == datetime(2022, 4, 20, 18, 27, 16, tzinfo=UTC)
    # the tree's names (the double space of the page's own name folded), parent and children
    assert {c.name: c.status for c in obs.components} == {
        "PEAK": Status.MAJOR_OUTAGE, "PEAK - Customer API Integration": Status.MAJOR_OUTAGE,
        "PEAK - Customer API Production": Status.MAJOR_OUTAGE,
    }  # fmt: skip
    assert "APT Server 11" in obs.component_names and "Ascent Websites" in obs.component_names


def test_the_components_option_reads_one_branch_of_the_tree() -> None:
    at = datetime(2022, 4, 20, 19, 0, tzinfo=UTC)
    production = read(ASCENT_MAJOR, at, components=["PEAK - Customer API Production"])
    assert production.status is Status.MAJOR_OUTAGE
    assert [i.id for i in production.incidents] == ["82138"]  # the Integration incident names other services
    parent = read(ASCENT_MAJOR, at, components=["peak"])  # a parent brings its children
    assert len(parent.incidents) == 2 and len(parent.components) == 3
    elsewhere = read(ASCENT_MAJOR, at, components=["Vision"])
    assert elsewhere.status is Status.OPERATIONAL and elsewhere.incidents == () and elsewhere.components == ()


def test_a_minor_incident_is_a_partial_outage_in_the_pages_own_language() -> None:
    obs = read(HOSTTECH_MINOR, datetime(2023, 9, 13, 9, 0, tzinfo=UTC))
    assert obs.status is Status.PARTIAL_OUTAGE
    [incident] = obs.incidents
    assert incident.title == "Serverausfall" and incident.impact is Status.PARTIAL_OUTAGE
    assert [c.name for c in obs.components] == ["Webhosting & Reseller"]


def test_a_performance_incident_is_degraded_and_quotes_its_newest_update() -> None:
    obs = read(EXOSCALE_PERFORMANCE, datetime(2025, 7, 18, 12, 0, tzinfo=UTC))
    assert obs.status is Status.DEGRADED
    [incident] = obs.incidents
    updates = json.loads(EXOSCALE_PERFORMANCE.read_bytes())["incidents"][0]["updates"]
    newest = max(updates, key=lambda u: u["posted_at"])
    assert incident.status == newest["type"] and incident.latest_update == newest["description"].strip()


def test_an_emergency_maintenance_in_progress_is_maintenance_and_the_planned_one_waits() -> None:
    obs = read(EXOSCALE_EMERGENCY, datetime(2025, 10, 17, 13, 0, tzinfo=UTC))
    assert obs.status is Status.MAINTENANCE and obs.incidents == ()
    now, planned = obs.maintenances
    assert now.in_progress and now.title.startswith("[AT-VIE-2] Network Maintenance - Core Router Upgrade")
    assert not planned.in_progress and planned.title == "Datacenter power generator test"
    assert (planned.starts_at, planned.ends_at) == (datetime(2025, 11, 13, 21, 0, tzinfo=UTC), datetime(2025, 11, 14, 5, 0, tzinfo=UTC))
    assert {c.status for c in obs.components} == {Status.MAINTENANCE} and "Compute" in {c.name for c in obs.components}


def test_an_upcoming_maintenance_leaves_the_page_operational() -> None:
    obs = read(EXOSCALE_UPCOMING, datetime(2023, 9, 14, 12, 0, tzinfo=UTC))
    assert obs.status is Status.OPERATIONAL and obs.incidents == ()
    [planned] = obs.maintenances
    assert not planned.in_progress and planned.title == "Core Network Architecture - Internal routing update"


def test_an_info_notice_is_not_a_problem() -> None:
    # the page marks eight services "info" and lists an "info" incident: its own word for a notice
    obs = read(EXOSCALE_INFO, datetime(2025, 3, 8, 10, 0, tzinfo=UTC))
    assert obs.status is Status.OPERATIONAL and obs.incidents == () and obs.components == () and obs.error is None


def test_the_v1_status_answer_reads_the_same_way() -> None:
    obs = read(GLIDE_V1, datetime(2025, 1, 1, tzinfo=UTC))
    assert obs.status is Status.OPERATIONAL and obs.error is None and len(obs.component_names) == 14
    assert StatuspalKind.page_name(GLIDE_V1.read_bytes()) == "Glide"


def test_an_unknown_incident_type_counts_as_degraded() -> None:
    doc = json.loads(HOSTTECH_MINOR.read_bytes())
    doc["incidents"][0]["type"] = "partial-something"
    doc["services"][0]["current_incident_type"] = None
    doc["status_page"]["current_incident_type"] = None
    obs = parse(json.dumps(doc).encode(), service_id="s", fetched_at=datetime(2023, 9, 13, 9, 0, tzinfo=UTC))
    assert obs.status is Status.DEGRADED and len(obs.incidents) == 1


@pytest.mark.parametrize("name", ["truncated.json", "nginx_502.html", "statuspage_wrong_types.json", "json_array.json"])
def test_malformed_answers_are_unknown_with_a_parse_error(name: str) -> None:
    obs = parse((MALFORMED / name).read_bytes(), service_id="s", fetched_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "parse"


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.update(services="PEAK"),
        lambda d: d.update(status_page=None),
        lambda d: d["services"][4]["children"].append(7),
        lambda d: d.update(incidents={"id": 1}),
        lambda d: d.pop("services"),  # (then a bare {"status_page": {}} is no page either)
    ],
)
def test_wrong_types_in_a_real_capture_are_unknown(edit: Any) -> None:
    doc = json.loads(ASCENT_MAJOR.read_bytes())
    edit(doc)
    obs = parse(json.dumps(doc).encode(), service_id="s", fetched_at=datetime(2022, 4, 20, 19, 0, tzinfo=UTC))
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "parse"


def test_a_page_address_is_read_at_its_api_and_a_custom_domain_needs_the_api_url() -> None:
    assert api_url("https://ascentlogistics.statuspal.io/") == "https://statuspal.io/api/v2/status_pages/ascentlogistics/summary"
    assert api_url("https://exoscalestatus.statuspal.eu") == "https://statuspal.eu/api/v2/status_pages/exoscalestatus/summary"
    v1 = "https://statuspal.io/api/v1/status_pages/glideapps/status"
    assert api_url(v1) == v1
    for page in ("https://status.hosttech.eu", "https://statuspal.io", "https://www.statuspal.io", "https://a.b.statuspal.io"):
        with pytest.raises(ValueError, match="API URL"):
            api_url(page)
    # detection tries a typed <sub>.statuspal.io page at statuspal.io, and no other page there
    assert [c.endpoint for c in candidates("https://ascentlogistics.statuspal.io") if c.kind == "statuspal"] == [
        "https://statuspal.io/api/v2/status_pages/ascentlogistics/summary"]
    assert [c for c in candidates("https://status.hosttech.eu") if c.kind == "statuspal"] == []


def test_the_observation_links_the_page_people_read_not_the_api() -> None:
    body, at = HOSTTECH_MINOR.read_bytes(), datetime(2023, 9, 13, 9, 0, tzinfo=UTC)
    for url, page in [
        ("https://statuspal.io/api/v2/status_pages/hosttech/summary", "https://hosttech.statuspal.io"),
        ("https://statuspal.eu/api/v1/status_pages/exoscalestatus/status", "https://exoscalestatus.statuspal.eu"),
        ("https://hosttech.statuspal.io", "https://hosttech.statuspal.io"),
    ]:
        assert parse(body, service_id="s", fetched_at=at, url=url).url == page


def test_the_kind_is_registered_and_validates_its_option() -> None:
    kind = registry()["statuspal"]
    assert kind.validate_options({"components": ["Compute"]}) == []
    assert kind.validate_options({"components": "Compute"}) == ["components: must be a non-empty list of names"]
