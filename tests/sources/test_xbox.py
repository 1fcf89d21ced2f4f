"""bot/sources/xbox.py on Xbox's service status documents captured from the live endpoint
(provenance in tests/fixtures/SOURCES.md)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.sources import registry
from bot.sources.base import FetchResult, Observation, PollContext, SourceSpec
from bot.sources.xbox import PAGE, XboxKind, parse
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "xbox"
UTC = timezone.utc
DESTINY_2020_11_10 = FIXTURES / "servicestatusv5_2020-11-10_destiny2_impacted_isitupbot.json"
HEALTHY_2020_11_14 = FIXTURES / "servicestatusv5_2020-11-14_healthy_isitupbot.json"
HEALTHY_V6_2026_09_19 = FIXTURES / "servicestatusv6_2026-09-19_healthy_wakz.json"
AT = datetime(2020, 11, 10, 1, 0, tzinfo=UTC)  # the Destiny 2 incident began 2020-11-10 00:00 UTC


def read(payload: bytes, at: datetime = AT, **options: Any) -> Observation:
    return parse(payload, service_id="xbox", fetched_at=at, **options)


def edited(path: Path, edit: Any) -> bytes:
    doc = json.loads(path.read_bytes())
    edit(doc)
    return json.dumps(doc).encode()


def test_one_games_trouble_is_not_an_xbox_outage() -> None:
    # Destiny 2 impacted (Games → Xbox One) while Xbox's own services and overall state are fine
    obs = read(DESTINY_2020_11_10.read_bytes())
    assert obs.status is Status.OPERATIONAL and obs.error is None
    assert obs.incidents == () and obs.components == ()
    # every category and scenario the document lists is offered to /subscribe component:
    assert {"Xbox Live Core Services", "Social and Gaming", "Destiny 2", "Website"} <= set(obs.component_names)


def test_the_services_option_reads_that_game_with_its_open_incident() -> None:
    obs = read(DESTINY_2020_11_10.read_bytes(), services=["destiny 2"])
    assert obs.status is Status.PARTIAL_OUTAGE
    [incident] = obs.incidents
    assert incident.title == "Xbox One: Destiny 2" and incident.id == "2212" and incident.url == PAGE
    assert incident.latest_update is not None and incident.latest_update.startswith("We are seeing indications that we are on the path to recovery")
    assert incident.started_at == datetime(2020, 11, 10, 0, 0, tzinfo=UTC)  # Begin 2020-11-09T16:00-08:00
    assert {c.name: c.status for c in obs.components} == {"Destiny 2": Status.PARTIAL_OUTAGE, "Xbox One": Status.PARTIAL_OUTAGE}


def test_an_incident_whose_end_has_passed_is_over() -> None:
    def ended(doc: dict[str, Any]) -> None:
        doc["Games"][0]["Scenarios"][0]["Incidents"][0]["End"] = "2020-11-09T16:30:00.0000000-08:00"  # 00:30 UTC, before AT
        doc["Games"][0]["Status"] = {"Name": "None", "Id": 1}

    obs = read(edited(DESTINY_2020_11_10, ended), services=["Destiny 2"])
    assert obs.status is Status.OPERATIONAL and obs.incidents == ()


def test_the_healthy_document_is_operational_whatever_the_scope() -> None:
    for path, options in ((HEALTHY_2020_11_14, {}), (HEALTHY_2020_11_14, {"services": ["Xbox One"]}), (HEALTHY_V6_2026_09_19, {"services": ["Discord"]})):
        obs = read(path.read_bytes(), **options)
        assert obs.status is Status.OPERATIONAL and obs.incidents == () and obs.components == () and obs.error is None


def test_an_impacted_core_service_is_an_xbox_outage() -> None:
    # the same words on Xbox's own services (the capture's Games entry, moved): what the default scope reads
    def core(doc: dict[str, Any]) -> None:
        doc["CoreServices"][0]["Status"] = {"Name": "Impacted", "Id": 2}
        doc["CoreServices"][0]["Scenarios"] = doc["Games"][0]["Scenarios"]
        doc["Status"]["Overall"] = doc["Status"]["SelectedScenarios"]

    obs = read(edited(DESTINY_2020_11_10, core))
    assert obs.status is Status.PARTIAL_OUTAGE
    assert [i.title for i in obs.incidents] == ["Xbox Live Core Services: Destiny 2"]
    assert {c.name for c in obs.components} == {"Xbox Live Core Services", "Destiny 2"}


def test_todays_v6_document_reads_its_categories_and_scenarios() -> None:
    obs = read(HEALTHY_V6_2026_09_19.read_bytes(), datetime(2026, 9, 19, 4, 10, tzinfo=UTC))
    assert obs.status is Status.OPERATIONAL and obs.error is None and obs.incidents == () and obs.components == ()
    names = set(obs.component_names)
    assert {"Account & profile", "Sign-in", "Multiplayer gaming", "Games & gaming", "Game saves", "Apps & mobile"} <= names
    doc = json.loads(HEALTHY_V6_2026_09_19.read_bytes())
    listed = [c["Name"] for section in ("CoreServices", "Titles") for c in doc[section]]
    listed += [s["Name"] for section in ("CoreServices", "Titles") for c in doc[section] for s in c["Scenarios"]]
    assert len(listed) == 9 + 2 + 108 and sorted(obs.component_names) == sorted(set(listed))  # each name offered once


def test_a_v6_scenario_in_trouble_is_an_xbox_outage_with_its_incident() -> None:
    # v6's per-scenario status set to the word the captures use, with the v5 capture's open incident
    incident = json.loads(DESTINY_2020_11_10.read_bytes())["Games"][0]["Scenarios"][0]["Incidents"]

    def sign_in(doc: dict[str, Any]) -> None:
        account = doc["CoreServices"][0]
        account["Status"] = account["Scenarios"][0]["Status"] = {"Name": "Impacted", "Id": 2}
        account["Scenarios"][0]["Incidents"] = incident
        doc["Status"]["Overall"]["State"] = "Impacted"

    obs = read(edited(HEALTHY_V6_2026_09_19, sign_in))
    assert obs.status is Status.PARTIAL_OUTAGE
    assert [i.title for i in obs.incidents] == ["Account & profile: Sign-in"]
    assert {c.name for c in obs.components} == {"Account & profile", "Sign-in"}
    # a Titles feature in trouble is read when named, and is not an Xbox outage otherwise
    def saves(doc: dict[str, Any]) -> None:
        doc["Titles"][0]["Scenarios"][1]["Status"] = {"Name": "Impacted", "Id": 2}

    assert read(edited(HEALTHY_V6_2026_09_19, saves)).status is Status.OPERATIONAL
    assert read(edited(HEALTHY_V6_2026_09_19, saves), services=["Game saves"]).status is Status.PARTIAL_OUTAGE


def test_an_unknown_state_word_is_a_problem_of_unknown_size() -> None:
    def overall(doc: dict[str, Any]) -> None:
        doc["Status"]["Overall"]["State"] = "Limited"

    assert read(edited(HEALTHY_2020_11_14, overall)).status is Status.DEGRADED


@pytest.mark.parametrize(
    "payload",
    [
        b"<ServiceStatus><Status><Overall><State>None</State></Overall></Status></ServiceStatus>",  # the XML answer
        b'{"CoreServices": []}',  # no Status
        b'{"Status": {"Overall": {}}}',  # no overall state
        b'{"Status": {"Overall": {"State": "None"}}, "CoreServices": "none"}',
        b'{"Status": {"Overall": {"State": "None"}}, "Games": [{"Name": "Xbox One", "Scenarios": [42]}]}',
        b"[]",
    ],
)
def test_anything_else_is_unknown_with_a_parse_error(payload: bytes) -> None:
    obs = read(payload)
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "parse"


class _Recorder:
    """A fetcher that answers one capture and remembers the headers it was asked with."""

    def __init__(self, body: bytes) -> None:
        self.body, self.asked = body, []  # type: list[tuple[str, dict[str, str] | None]]

    async def get(self, url: str, *, headers: dict[str, str] | None = None, **_: Any) -> FetchResult:
        self.asked.append((url, headers))
        return FetchResult(url=url, status=200, body=self.body, headers={}, latency_ms=5.0)

    async def connect(self, host: str, port: int, *, timeout: float | None = None) -> Any:
        raise AssertionError("not a probe")


async def test_the_poll_asks_for_json_because_the_same_url_answers_xml_otherwise() -> None:
    url = "https://xnotify.xboxlive.com/servicestatusv6/US/en-US"
    fetcher = _Recorder(HEALTHY_2020_11_14.read_bytes())
    spec = SourceSpec(kind="xbox", url=url)
    obs = await XboxKind.poll(PollContext(service_id="xbox", spec=spec, fetcher=fetcher, now=AT))  # type: ignore[arg-type]
    assert obs.status is Status.OPERATIONAL and obs.url == PAGE  # alerts link the status page, not the XML/JSON
    assert fetcher.asked == [(url, {"Accept": "application/json"})]


def test_the_kind_is_registered_and_validates_its_option() -> None:
    kind = registry()["xbox"]
    assert kind.validate_options({"services": ["Sign-in"]}) == []
    assert kind.validate_options({"services": "Sign-in"}) == ["services: must be a non-empty list of names"]
