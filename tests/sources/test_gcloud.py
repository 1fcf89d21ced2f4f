"""Google Cloud incidents.json parser on real captures."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from bot.sources.base import FetchResult, Observation, PollContext, SourceSpec
from bot.sources.gcloud import GcloudKind, parse
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gcloud"
NOW = datetime(2021, 7, 27, 23, 30, tzinfo=timezone.utc)


def read(name: str, **options: object) -> Observation:
    return parse((FIXTURES / name).read_bytes(), service_id="gcp", fetched_at=NOW, **options)


def test_open_high_severity_incident_is_major_and_closed_one_ignored() -> None:
    obs = read("gcs_disruption_2021-07-27.json")
    assert obs.status is Status.MAJOR_OUTAGE
    (inc,) = obs.incidents
    assert inc.id == "MfiGCW4E26MPGRnCJ8by"
    assert inc.title == "us-central1: GCS is returning stale version of object for bucket"
    assert inc.status == "service_disruption"
    assert inc.url == "https://status.cloud.google.com/incidents/MfiGCW4E26MPGRnCJ8by"
    assert inc.latest_update.startswith("The issue with Google Cloud Storage is believed")
    assert inc.started_at == datetime(2021, 7, 27, 17, 35, 27, tzinfo=timezone.utc)
    assert inc.updated_at == datetime(2021, 7, 27, 23, 15, 28, tzinfo=timezone.utc)
    assert [(c.name, c.status) for c in obs.components] == [("Google Cloud Storage", Status.MAJOR_OUTAGE)]


def test_low_severity_is_degraded() -> None:
    obs = read("gce_cooling_low_2022-07-19.json")
    assert obs.status is Status.DEGRADED
    assert obs.components[0].name == "Google Compute Engine"


def test_only_resolved_is_operational() -> None:
    obs = read("resolved_only_derived.json")
    assert obs.status is Status.OPERATIONAL and obs.incidents == ()


def test_products_filter() -> None:
    assert read("gcs_disruption_2021-07-27.json", products=["Google Cloud Scheduler"]).status is Status.OPERATIONAL
    assert read("gcs_disruption_2021-07-27.json", products=["google cloud storage"]).status is Status.MAJOR_OUTAGE


def test_malformed() -> None:
    for payload in (b'[{"id": "x"', b"<!DOCTYPE html><html></html>", b'{"incidents": []}', b"[1, 2]"):
        obs = parse(payload, service_id="gcp", fetched_at=NOW)
        assert obs.status is Status.UNKNOWN and obs.error.kind == "parse", payload


async def test_poll_endpoint() -> None:
    urls: list[str] = []

    class One:
        async def get(self, url: str, **_: object) -> FetchResult:
            urls.append(url)
            return FetchResult(url=url, status=200, body=b"[]")

    spec = SourceSpec(kind="gcloud", url="https://status.cloud.google.com/")
    obs = await GcloudKind.poll(PollContext(service_id="gcp", spec=spec, fetcher=One(), now=NOW))  # type: ignore[arg-type]
    assert urls == ["https://status.cloud.google.com/incidents.json"] and obs.status is Status.OPERATIONAL
