"""bot/sources/cachet.py on Cachet ``/api/v1/components`` answers from real pages (provenance in
tests/fixtures/SOURCES.md). No real answer of a page in trouble was found: the troubled states
are the real Yoti answer with a status changed, to Cachet's own numbers
(``resources/lang/en/cachet.php``: 1 Operational … 4 Major Outage, 0 Unknown)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.sources import registry
from bot.sources._toolkit.detect import candidates
from bot.sources.base import Observation
from bot.sources.cachet import parse
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cachet"
MALFORMED = Path(__file__).resolve().parents[1] / "fixtures" / "statuspage" / "malformed"
YOTI = FIXTURES / "components_yoti_healthy_devdocs.json"
OLD_STRINGS = FIXTURES / "components_string_status_wwwcachet.json"
AT = datetime(2020, 10, 12, 13, 0, tzinfo=timezone.utc)


def read(payload: bytes, **options: Any) -> Observation:
    return parse(payload, service_id="yoti", fetched_at=AT, url="https://status.yoti.com", **options)


def with_status(**codes: Any) -> bytes:
    """The real Yoti answer with some components' ``status`` changed (by id)."""
    doc = json.loads(YOTI.read_bytes())
    for item in doc["data"]:
        if f"c{item['id']}" in codes:
            item["status"] = codes[f"c{item['id']}"]
    return json.dumps(doc).encode()


def test_a_healthy_page_is_operational_and_offers_each_component_once() -> None:
    obs = read(YOTI.read_bytes())
    assert obs.status is Status.OPERATIONAL and obs.error is None and obs.components == ()
    # seven components, two of them named "Yoti Doc Scan" (in two groups): offered once
    assert obs.component_names == ("Yoti Website", "Yoti Age Scan", "Yoti App", "Yoti Doc Scan", "Yoti Sign", "Yoti Hub")


def test_an_old_cachet_sending_numbers_as_strings_is_read_the_same() -> None:
    obs = read(OLD_STRINGS.read_bytes())
    assert obs.status is Status.OPERATIONAL and obs.error is None and obs.component_names == ("Test Component",)


@pytest.mark.parametrize(
    ("code", "status"),
    [(2, Status.DEGRADED), (3, Status.PARTIAL_OUTAGE), (4, Status.MAJOR_OUTAGE), ("4", Status.MAJOR_OUTAGE), (7, Status.DEGRADED)],
)
def test_cachets_numbers_are_its_four_states(code: Any, status: Status) -> None:
    obs = read(with_status(c3=code))
    assert obs.status is status and [(c.name, c.status) for c in obs.components] == [("Yoti App", status)]


def test_the_worst_component_is_the_page_and_unknown_counts_for_nothing() -> None:
    obs = read(with_status(c1=2, c2=4, c5=0))
    assert obs.status is Status.MAJOR_OUTAGE
    assert [c.name for c in obs.components] == ["Yoti Website", "Yoti Age Scan"]
    assert read(with_status(c1=0)).status is Status.OPERATIONAL


def test_the_components_option_and_disabled_components() -> None:
    troubled = with_status(c1=3, c2=4)
    assert read(troubled, components=["yoti website"]).status is Status.PARTIAL_OUTAGE
    assert read(troubled, components=["Yoti Hub"]).status is Status.OPERATIONAL
    doc = json.loads(troubled)
    doc["data"][1]["enabled"] = False  # (the public API hides disabled ones; an old one may not)
    obs = read(json.dumps(doc).encode())
    assert obs.status is Status.PARTIAL_OUTAGE and "Yoti Age Scan" not in obs.component_names


def test_two_components_of_one_name_are_one_entry_and_a_disabled_one_is_not_read() -> None:
    both = read(with_status(c6=3, c9=4))  # the two "Yoti Doc Scan" components
    assert [(c.name, c.status) for c in both.components] == [("Yoti Doc Scan", Status.MAJOR_OUTAGE)]
    doc = json.loads(YOTI.read_bytes())
    doc["data"][0].update(enabled=False, status="junk")
    assert read(json.dumps(doc).encode()).status is Status.OPERATIONAL


@pytest.mark.parametrize(
    "payload",
    [
        (MALFORMED / "truncated.json").read_bytes(),
        (MALFORMED / "nginx_502.html").read_bytes(),
        (MALFORMED / "json_array.json").read_bytes(),
        b'{"data": []}',  # no meta: not Cachet's answer
        b'{"meta": {}, "data": []}',  # a JSON:API-style answer without Cachet's pagination
        b'{"meta": {"pagination": {}}, "data": {"id": 1}}',
        b'{"meta": {"pagination": {}}, "data": [{"id": 1, "status": 1}]}',  # no name
        b'{"meta": {"pagination": {}}, "data": [{"name": "API", "status": "down"}]}',
        b'{"meta": {"pagination": {}}, "data": [{"name": "API", "status": true}]}',
    ],
)
def test_anything_else_is_unknown_with_a_parse_error(payload: bytes) -> None:
    obs = read(payload)
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "parse"


def test_the_observation_links_the_page_not_its_api() -> None:
    api = parse(YOTI.read_bytes(), service_id="yoti", fetched_at=AT, url="https://status.yoti.com/api/v1/components?per_page=100")
    assert api.url == "https://status.yoti.com"
    assert read(YOTI.read_bytes()).url == "https://status.yoti.com"


def test_a_typed_page_is_tried_at_its_components_api() -> None:
    found = [c.endpoint for c in candidates("https://status.yoti.com") if c.kind == "cachet"]
    assert found == ["https://status.yoti.com/api/v1/components?per_page=100"]
    kind = registry()["cachet"]
    api = "https://status.yoti.com/api/v1/components"
    assert kind.endpoint(api, {}) == api + "?per_page=100"  # typed as its API: still 100 a page
    assert kind.endpoint(api + "?per_page=50", {}) == api + "?per_page=50"
    assert kind.endpoint(api + "?sort=id", {}) == api + "?sort=id&per_page=100"
    assert kind.validate_options({"components": ["Yoti App"]}) == []
    assert kind.validate_options({"components": "Yoti App"}) == ["components: must be a non-empty list of names"]
