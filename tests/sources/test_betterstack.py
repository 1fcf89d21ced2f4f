"""Better Stack parser on a real capture (Hugging Face's page, healthy, its history full of
resolved incidents and maintenances), on two variants derived from that capture by its own
history (the Hub down, the Hub in maintenance: no real capture of a page in either state was
found, see tests/fixtures/SOURCES.md), on malformed answers, and the format detection of a
typed Better Stack page."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.sources._toolkit.detect import candidates
from bot.sources.base import Component, Observation
from bot.sources.betterstack import BetterStackKind, parse
from bot.sources.instatus import parse as parse_instatus
from bot.sources.statuspage import parse as parse_statuspage
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "betterstack"
MALFORMED = Path(__file__).resolve().parents[1] / "fixtures" / "statuspage" / "malformed"
CAPTURED = datetime(2026, 9, 19, 3, 30, tzinfo=timezone.utc)
HUB_DOWN = datetime(2026, 7, 16, 8, 35, tzinfo=timezone.utc)
IN_WINDOW = datetime(2026, 9, 16, 7, 30, tzinfo=timezone.utc)
RESOURCES = ("Huggingface Hub", "Git Hosting and Serving", "Inference Endpoints UI", "Inference Endpoints API",
             "Spaces Proxy", "AWS CDN", "Google cloud CDN", "Jobs")  # fmt: skip


def read(name: str, now: datetime = CAPTURED, **options: Any) -> Observation:
    return parse((FIXTURES / name).read_bytes(), service_id="hf", fetched_at=now, url="https://typed.example", **options)


def doc(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_bytes())


def test_a_healthy_page_with_only_resolved_reports_is_operational_and_lists_its_resources() -> None:
    obs = read("huggingface_operational.json")
    assert obs.status is Status.OPERATIONAL and obs.error is None
    assert obs.incidents == () and obs.maintenances == () and obs.components == ()  # 8 reports, all resolved: history
    assert obs.component_names == RESOURCES
    assert obs.url == "https://status.huggingface.co"  # the page's own domain wins over the typed URL
    assert BetterStackKind.page_name((FIXTURES / "huggingface_operational.json").read_bytes()) == "Hugging Face"


def test_the_hub_down_on_three_of_eight_resources_is_a_partial_outage_quoting_the_report() -> None:
    obs = read("huggingface_hub_down_derived.json", HUB_DOWN)
    assert obs.status is Status.PARTIAL_OUTAGE  # "downtime", but five resources stayed up
    assert set(obs.components) == {Component(name, Status.MAJOR_OUTAGE) for name in RESOURCES[:3]}
    (inc,) = obs.incidents
    assert (inc.id, inc.title, inc.impact, inc.status) == ("965809", "Hub unavailable", Status.PARTIAL_OUTAGE, "downtime")
    assert inc.started_at == datetime(2026, 7, 16, 8, 30, tzinfo=timezone.utc) == inc.updated_at
    assert inc.latest_update is not None and inc.latest_update.startswith("Hugging Face platform is unavailable")


def test_a_component_reading_of_a_down_resource_is_a_major_outage_of_that_component() -> None:
    hub = read("huggingface_hub_down_derived.json", HUB_DOWN, components=["huggingface hub"])
    assert hub.status is Status.MAJOR_OUTAGE and [i.title for i in hub.incidents] == ["Hub unavailable"]
    spaces = read("huggingface_hub_down_derived.json", HUB_DOWN, components=["Spaces Proxy"])
    assert spaces.status is Status.OPERATIONAL and spaces.incidents == ()  # the page's own "downtime" is not Spaces'
    missing = read("huggingface_operational.json", components=["Nonexistent"])
    assert missing.status is Status.UNKNOWN and missing.error is not None and "none of the configured" in missing.error.message


def test_a_running_maintenance_window_is_maintenance_and_a_future_one_only_announced() -> None:
    obs = read("huggingface_hub_maintenance_derived.json", IN_WINDOW)
    assert obs.status is Status.MAINTENANCE and obs.incidents == ()
    (window,) = obs.maintenances
    assert (window.title, window.in_progress) == ("Scheduled maintenance: Hub", True)
    assert (window.starts_at, window.ends_at) == (datetime(2026, 9, 16, 7, 0, 20, tzinfo=timezone.utc), datetime(2026, 9, 16, 9, 0, 20, tzinfo=timezone.utc))
    before = read("huggingface_hub_maintenance_derived.json", datetime(2026, 9, 16, 6, 0, tzinfo=timezone.utc), components=["Spaces Proxy"])
    assert before.maintenances == () and before.status is Status.OPERATIONAL  # another resource's window


def test_an_open_incident_whose_effect_cannot_be_read_is_still_an_incident() -> None:
    page = doc("huggingface_operational.json")
    report = next(i for i in page["included"] if i["id"] == "1004901")  # "Elevated error rate - AWS CDN (Singapore)"
    report["attributes"]["aggregate_state"] = "degraded"
    report["attributes"]["affected_resources"] = []
    obs = parse(json.dumps(page).encode(), service_id="hf", fetched_at=CAPTURED)
    assert obs.status is Status.DEGRADED and [i.impact for i in obs.incidents] == [Status.DEGRADED]


@pytest.mark.parametrize("name", ["truncated.json", "nginx_502.html", "json_array.json", "statuspage_wrong_types.json"])
def test_malformed_answers_are_unknown(name: str) -> None:
    obs = parse((MALFORMED / name).read_bytes(), service_id="hf", fetched_at=CAPTURED)
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "parse"


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["data"]["attributes"].update(aggregate_state="sometimes"),
        lambda d: d["data"]["attributes"].pop("aggregate_state"),
        lambda d: d["data"].update(type="monitor"),
        lambda d: d.update(included="none"),
        lambda d: d["included"].append("resource"),
        lambda d: next(i for i in d["included"] if i["type"] == "status_report")["attributes"].update(aggregate_state="degraded", affected_resources="all"),
        # a resource without a status word, or with one the format does not have (found by the property test)
        lambda d: next(i for i in d["included"] if i["type"] == "status_page_resource")["attributes"].update(status=None),
        lambda d: next(i for i in d["included"] if i["type"] == "status_page_resource")["attributes"].update(status="sometimes"),
    ],
)
def test_wrong_words_and_types_in_a_real_page_are_unknown(change: Any) -> None:
    page = doc("huggingface_operational.json")
    change(page)
    obs = parse(json.dumps(page).encode(), service_id="hf", fetched_at=CAPTURED)
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "parse"


def test_other_formats_never_read_a_better_stack_page_nor_it_theirs() -> None:
    body = (FIXTURES / "huggingface_operational.json").read_bytes()
    assert parse_statuspage(body, service_id="s", fetched_at=CAPTURED).error is not None
    assert parse_instatus(body, service_id="s", fetched_at=CAPTURED).error is not None
    for other in ("statuspage/github_operational.json", "instatus/manychat_incident.json"):
        assert parse((FIXTURES.parent / other).read_bytes(), service_id="s", fetched_at=CAPTURED).error is not None


def test_a_typed_better_stack_page_is_tried_at_its_index() -> None:
    endpoints = {c.kind: c.endpoint for c in candidates("https://status.huggingface.co")}
    assert endpoints["betterstack"] == "https://status.huggingface.co/index.json"
    assert BetterStackKind.endpoint("https://status.huggingface.co/index.json", {}) == "https://status.huggingface.co/index.json"
