"""bot/sources/psn.py on PlayStation's region status document (provenance in
tests/fixtures/SOURCES.md). The only real capture is healthy: the troubled states are that
capture with status entries added in the test, in the shape the stts client decodes
(``{statusId, statusType}``, types Outage / Degraded / Maintenance / OK)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.sources import registry
from bot.sources.base import Observation
from bot.sources.psn import PAGE, parse
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCEA = FIXTURES / "psn" / "region_scea_2020-11_healthy_isitupbot.json"
AT = datetime(2020, 11, 14, 12, 0, tzinfo=timezone.utc)


def read(payload: bytes, **options: Any) -> Observation:
    return parse(payload, service_id="playstation", fetched_at=AT, **options)


def troubled(edit: Any) -> bytes:
    doc = json.loads(SCEA.read_bytes())
    edit(doc)
    return json.dumps(doc).encode()


def entry(kind: str) -> dict[str, str]:
    return {"statusId": "test", "statusType": kind}


def service(doc: dict[str, Any], country: str, name: str) -> dict[str, Any]:
    found = next(c for c in doc["countries"] if c["countryCode"] == country)
    return next(s for s in found["services"] if s["serviceName"] == name)


def test_the_healthy_region_is_operational_and_offers_its_services() -> None:
    obs = parse(SCEA.read_bytes(), service_id="playstation", fetched_at=AT, url="https://status.playstation.com/data/statuses/region/SCEA.json")
    assert obs.status is Status.OPERATIONAL and obs.error is None and obs.components == ()
    assert obs.url == PAGE  # alerts link the status page, not the JSON document
    assert obs.component_names == ("Account Management", "Gaming And Social", "PlayStation Now", "PlayStation Video",
                                   "PlayStation Store", "PlayStation Music", "PlayStation Direct")  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "status"),
    [("Outage", Status.MAJOR_OUTAGE), ("Degraded", Status.DEGRADED), ("Maintenance", Status.MAINTENANCE),
     ("OK", Status.OPERATIONAL), ("Unheard-of", Status.DEGRADED)],
)  # fmt: skip
def test_a_problem_of_the_whole_region_is_read_as_it_is(kind: str, status: Status) -> None:
    assert read(troubled(lambda d: d["status"].append(entry(kind)))).status is status


def test_a_problem_in_one_country_or_service_is_partial_and_names_the_service() -> None:
    def us_sign_in(doc: dict[str, Any]) -> None:
        service(doc, "US", "Account Management")["resources"][0]["status"].append(entry("Outage"))

    obs = read(troubled(us_sign_in))
    assert obs.status is Status.PARTIAL_OUTAGE
    assert [(c.name, c.status) for c in obs.components] == [("Account Management", Status.PARTIAL_OUTAGE)]
    store = read(troubled(lambda d: service(d, "BR", "PlayStation Store")["status"].append(entry("Degraded"))))
    assert store.status is Status.DEGRADED and [c.name for c in store.components] == ["PlayStation Store"]
    country = read(troubled(lambda d: d["countries"][0]["status"].append(entry("Outage"))))
    assert country.status is Status.PARTIAL_OUTAGE


def test_the_services_option_reads_only_those_services() -> None:
    def store_down(doc: dict[str, Any]) -> None:
        service(doc, "US", "PlayStation Store")["status"].append(entry("Outage"))

    payload = troubled(store_down)
    assert read(payload, services=["playstation store"]).status is Status.PARTIAL_OUTAGE
    assert read(payload, services=["Account Management"]).status is Status.OPERATIONAL
    # a problem of a whole country reaches the named services there
    mexico = troubled(lambda d: next(c for c in d["countries"] if c["countryCode"] == "MX")["status"].append(entry("Maintenance")))
    assert read(mexico, services=["Account Management"]).status is Status.MAINTENANCE
    # and so does an outage of the whole region
    region = read(troubled(lambda d: d["status"].append(entry("Outage"))), services=["PlayStation Store"])
    assert region.status is Status.MAJOR_OUTAGE and [c.name for c in region.components] == ["PlayStation Store"]


@pytest.mark.parametrize(
    "payload",
    [
        b"<html>Access Denied</html>",
        b'{"countries": []}',  # no regionName
        b'{"regionName": "x", "countries": []}',  # no country at all
        b'{"regionName": "SCEA", "status": [], "countries": {}}',
        b'{"regionName": "SCEA", "status": ["Outage"], "countries": []}',
        b'{"regionName": "SCEA", "status": [], "countries": [{"services": [{"status": "down"}]}]}',
        b"[]",
    ],
)
def test_anything_else_is_unknown_with_a_parse_error(payload: bytes) -> None:
    obs = read(payload)
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "parse"


def test_the_kind_is_registered_and_validates_its_option() -> None:
    kind = registry()["psn"]
    assert kind.validate_options({"services": ["PlayStation Store"]}) == []
    assert kind.validate_options({"services": "PlayStation Store"}) == ["services: must be a non-empty list of names"]
