"""Instatus parser on real captures (Recraft healthy, Manychat with an open incident), its
malformed variants, and the format detection of a typed Instatus page."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.sources._toolkit.detect import candidates
from bot.sources.base import Observation
from bot.sources.instatus import InstatusKind, parse
from bot.sources.statuspage import parse as parse_statuspage
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "instatus"
MALFORMED = Path(__file__).resolve().parents[1] / "fixtures" / "statuspage" / "malformed"
NOW = datetime(2026, 5, 6, 16, 0, tzinfo=timezone.utc)


def read(name: str) -> Observation:
    return parse((FIXTURES / name).read_bytes(), service_id="svc", fetched_at=NOW, url="https://typed.example")


def test_a_healthy_page_omits_its_incident_lists() -> None:
    obs = read("recraft_operational.json")
    assert obs.status is Status.OPERATIONAL and obs.error is None
    assert obs.incidents == () and obs.maintenances == ()
    assert obs.url == "https://recraft.instatus.com"  # the page's own address wins
    assert InstatusKind.page_name((FIXTURES / "recraft_operational.json").read_bytes()) == "Recraft"


def test_an_open_incident_outranks_a_page_status_that_still_says_up() -> None:
    obs = read("manychat_incident.json")
    assert obs.status is Status.DEGRADED  # page.status "UP", incident impact DEGRADEDPERFORMANCE
    (inc,) = obs.incidents
    assert inc.title == "Delays in Instagram automation" and inc.status == "identified"
    assert inc.impact is Status.DEGRADED
    assert inc.url == "https://status.manychat.com/cmmxljn3s01ntuud42lsa7zud"
    assert inc.started_at == datetime(2026, 3, 17, 3, 0, tzinfo=timezone.utc)
    assert inc.updated_at == datetime(2026, 5, 6, 15, 19, 52, 73000, tzinfo=timezone.utc)


@pytest.mark.parametrize("name", ["truncated.json", "nginx_502.html", "json_array.json", "statuspage_wrong_types.json"])
def test_malformed_answers_are_unknown(name: str) -> None:
    obs = parse((MALFORMED / name).read_bytes(), service_id="svc", fetched_at=NOW)
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "parse"


@pytest.mark.parametrize(
    "payload",
    [b'{"page": {"name": "X", "status": "SOMETIMES"}}', b'{"page": {"name": "X", "status": "UP"}, "activeIncidents": "none"}',
     b'{"page": "UP"}'],
)  # fmt: skip
def test_wrong_words_and_types_are_unknown(payload: bytes) -> None:
    obs = parse(payload, service_id="svc", fetched_at=NOW)
    assert obs.status is Status.UNKNOWN and obs.error is not None


def test_the_two_formats_never_read_each_other() -> None:
    """A Statuspage summary is no Instatus summary and the other way round, so format
    detection of a typed page cannot take one for the other."""
    atlassian = (Path(__file__).resolve().parents[1] / "fixtures" / "statuspage" / "github_operational.json").read_bytes()
    assert parse(atlassian, service_id="s", fetched_at=NOW).error is not None
    assert parse_statuspage((FIXTURES / "manychat_incident.json").read_bytes(), service_id="s", fetched_at=NOW).error is not None


def test_a_typed_instatus_page_is_tried_at_its_summary() -> None:
    endpoints = {c.kind: c.endpoint for c in candidates("https://status.manychat.com")}
    assert endpoints["instatus"] == "https://status.manychat.com/summary.json"
    assert InstatusKind.endpoint("https://status.manychat.com/summary.json", {}) == "https://status.manychat.com/summary.json"
