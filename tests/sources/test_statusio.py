"""status.io parser on real captures (Docker, GitLab) and its poll endpoint."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.sources.base import FetchResult, Observation, PollContext, SourceSpec
from bot.sources.statusio import StatusioKind, endpoint_for, parse
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statusio"
MALFORMED = Path(__file__).resolve().parents[1] / "fixtures" / "statuspage" / "malformed"
NOW = datetime(2020, 9, 5, 10, 0, tzinfo=timezone.utc)


def read(name: str, **options: object) -> Observation:
    return parse((FIXTURES / name).read_bytes(), service_id="svc", fetched_at=NOW, url="https://status.example", **options)


def test_docker_partial_disruption() -> None:
    obs = read("docker_partial.json")
    assert obs.status is Status.PARTIAL_OUTAGE
    assert obs.description == "Partial Service Disruption"
    assert [(c.name, c.status) for c in obs.components] == [("Docker Hub Automated Builds", Status.PARTIAL_OUTAGE)]
    (inc,) = obs.incidents
    assert inc.id == "5f108cc06e9c9104c0553a46"
    assert inc.title == "Docker Hub automated builds issue"
    assert inc.status == "investigating" and inc.impact is Status.PARTIAL_OUTAGE
    assert inc.latest_update == "We are investigating reports of automated builds getting stuck or not getting triggered."
    assert inc.started_at == datetime(2020, 7, 16, 17, 22, 8, 325000, tzinfo=timezone.utc)


def test_docker_operational_derived() -> None:
    obs = read("docker_operational_derived.json")
    assert obs.status is Status.OPERATIONAL
    assert obs.components == () and obs.incidents == ()


def test_gitlab_maintenance_with_open_incident_takes_the_worse() -> None:
    obs = read("gitlab_maintenance.json")
    # overall says "Planned Maintenance" (200) but an open incident's latest message says 400
    assert obs.status is Status.PARTIAL_OUTAGE
    (inc,) = obs.incidents
    assert inc.status == "identified"
    assert inc.latest_update.startswith("We've determined that the error")
    assert inc.updated_at == datetime(2020, 9, 5, 9, 23, 23, 591000, tzinfo=timezone.utc)
    (m,) = obs.maintenances
    assert m.in_progress and m.title == "Maintenance on dashboards.gitlab.com"
    assert m.starts_at == datetime(2020, 9, 2, 17, 55, tzinfo=timezone.utc)
    assert m.ends_at == datetime(2020, 9, 7, 17, 55, tzinfo=timezone.utc)


def test_gitlab_maintenance_only_derived() -> None:
    obs = read("gitlab_maintenance_only_derived.json")
    assert obs.status is Status.MAINTENANCE
    assert [(c.name, c.status) for c in obs.components] == [("dashboards.gitlab.com", Status.MAINTENANCE)]


def test_gitlab_security_event_is_degraded() -> None:
    obs = read("gitlab_security.json")
    assert obs.status is Status.DEGRADED
    assert [c.name for c in obs.components] == ["Website", "API", "CI/CD"]
    assert obs.incidents[0].impact is Status.DEGRADED


def test_components_filter() -> None:
    assert read("docker_partial.json", components=["Docker Hub Web"]).status is Status.OPERATIONAL
    assert read("docker_partial.json", components=["docker hub automated builds"]).status is Status.PARTIAL_OUTAGE


@pytest.mark.parametrize("name", ["truncated.json", "nginx_502.html", "json_array.json"])
def test_malformed(name: str) -> None:
    obs = parse((MALFORMED / name).read_bytes(), service_id="svc", fetched_at=NOW)
    assert obs.status is Status.UNKNOWN and obs.error.kind == "parse"


def test_wrong_types() -> None:
    obs = parse(b'{"result": {"status_overall": {"status_code": 100}, "status": "Operational"}}', service_id="s", fetched_at=NOW)
    assert obs.status is Status.UNKNOWN and "status must be a list" in obs.error.message


def test_endpoint_for() -> None:
    assert endpoint_for("https://status.gitlab.com", {"page_id": "5b36dc6502d06804c0834a06"}) == (
        "https://api.status.io/1.0/status/5b36dc6502d06804c0834a06"
    )
    assert endpoint_for("https://api.status.io/1.0/status/abc", {}) == "https://api.status.io/1.0/status/abc"
    with pytest.raises(ValueError, match="page_id"):
        endpoint_for("https://status.gitlab.com", {})
    assert StatusioKind.validate_options({"page_id": "../x"}) != []


class OneAnswer:
    def __init__(self, result: FetchResult) -> None:
        self.result, self.urls = result, []

    async def get(self, url: str, **_: object) -> FetchResult:
        self.urls.append(url)
        return self.result


async def test_poll_uses_page_id_and_reports_missing_config() -> None:
    fetcher = OneAnswer(FetchResult(url="u", status=200, body=(FIXTURES / "docker_partial.json").read_bytes()))
    spec = SourceSpec(kind="statusio", url="https://status.docker.com", options={"page_id": "533c6539221ae15e3f000031"})
    obs = await StatusioKind.poll(PollContext(service_id="docker", spec=spec, fetcher=fetcher, now=NOW))  # type: ignore[arg-type]
    assert fetcher.urls == ["https://api.status.io/1.0/status/533c6539221ae15e3f000031"]
    assert obs.status is Status.PARTIAL_OUTAGE and obs.url == "https://status.docker.com"
    bare = SourceSpec(kind="statusio", url="https://status.docker.com")
    obs = await StatusioKind.poll(PollContext(service_id="docker", spec=bare, fetcher=fetcher, now=NOW))  # type: ignore[arg-type]
    assert obs.status is Status.UNKNOWN and obs.error.kind == "config"
