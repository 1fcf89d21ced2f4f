"""IODA's outage events, read from fixtures derived from its documented answer format."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.sources.ioda import events_url, parse_events

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ioda"
UNTIL = datetime(2024, 5, 31, 7, 30, tzinfo=timezone.utc)  # the fixtures' window end (1717140600)
ASKED = ("IQ", "US", "DE")


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def read(payload: bytes, countries=ASKED, until=UNTIL):
    return parse_events(payload, countries=countries, until=until, fetched_at=until)


def edited(name: str, edit) -> bytes:
    doc = json.loads(raw(name))
    edit(doc)
    return json.dumps(doc).encode()


def test_an_ongoing_probing_and_bgp_drop_is_a_national_outage_since_its_first_start():
    reading = read(raw("events_iq_ongoing_derived.json"))
    assert reading.error is None
    assert reading.known == {"IQ", "US", "DE"}
    assert set(reading.outages) == {"IQ"}
    iq = reading.outages["IQ"]
    assert iq.since == datetime(2024, 5, 31, 4, 0, tzinfo=timezone.utc)
    assert iq.datasources == ("bgp", "ping-slash24")
    assert iq.name == "Iraq"


def test_a_finished_event_is_no_outage_now():
    # Germany's telescope event ended at 03:40, before the window's end
    assert "DE" not in read(raw("events_iq_ongoing_derived.json")).outages


def test_the_observed_live_event_capped_at_fourteen_days_is_ongoing():
    reading = read(raw("events_cf_observed_derived.json"), countries=["CF"], until=datetime(2024, 2, 2, tzinfo=timezone.utc))
    assert reading.outages["CF"].since == datetime(2024, 1, 31, 9, 10, tzinfo=timezone.utc)
    assert reading.outages["CF"].datasources == ("bgp",)


def test_the_window_end_is_the_one_iodas_answer_echoes():
    # asked until a minute later than the answer says: the answer's own "until" decides
    reading = read(raw("events_iq_ongoing_derived.json"), until=datetime(2024, 5, 31, 7, 31, tzinfo=timezone.utc))
    assert set(reading.outages) == {"IQ"}


def test_no_events_means_every_asked_country_is_known_and_normal():
    reading = read(raw("events_quiet_derived.json"))
    assert reading.error is None and reading.known == set(ASKED) and reading.outages == {}


def test_countries_not_asked_are_ignored():
    reading = read(raw("events_iq_ongoing_derived.json"), countries=["US"])
    assert reading.known == {"US"} and reading.outages == {}


@pytest.mark.parametrize(
    "datasources, national",
    [
        (["ping-slash24"], True),
        (["bgp"], True),
        (["merit-nt"], False),  # a telescope drop alone is noise
        (["gtr"], False),
        (["merit-nt", "gtr"], True),  # two weak signals agreeing
        (["merit-nt", "merit-nt"], False),  # the same one twice is still one
    ],
)
def test_which_signals_make_a_national_outage(datasources, national):
    def edit(doc):
        template = doc["data"][1]
        doc["data"] = [dict(template, datasource=ds) for ds in datasources]

    assert ("IQ" in read(edited("events_iq_ongoing_derived.json", edit)).outages) is national


def test_an_ioda_error_envelope_is_an_error_and_nothing_is_known():
    reading = read(raw("events_error_derived.json"))
    assert reading.error is not None and reading.error.kind == "parse"
    assert "limit must be greater than 0" in reading.error.message
    assert reading.known == frozenset() and reading.outages == {}


@pytest.mark.parametrize("name", ["truncated_derived.json", "nginx_502.html"])
def test_unreadable_answers_are_errors(name):
    reading = read(raw(name))
    assert reading.error is not None and reading.known == frozenset()


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.update(data={"IQ": 1}),
        lambda d: d["data"].append("country/IQ"),
        lambda d: d["data"].append({"location": "planet/earth", "start": 1, "duration": 1, "datasource": "bgp"}),
        lambda d: d["data"].append({"start": 1, "duration": 1, "datasource": "bgp"}),
    ],
)
def test_a_shape_it_cannot_read_makes_the_whole_reading_unknown(edit):
    reading = read(edited("events_iq_ongoing_derived.json", edit))
    assert reading.error is not None and reading.known == frozenset()


@pytest.mark.parametrize("bad", [None, "04:00", -5, float("nan"), True, 1e300])
def test_an_event_with_unreadable_times_makes_its_country_unknown_only(bad):
    def edit(doc):
        doc["data"][1]["start"] = bad

    reading = read(edited("events_iq_ongoing_derived.json", edit))
    assert reading.error is None
    assert reading.known == {"US", "DE"}
    assert "IQ" not in reading.outages


def test_the_request_names_the_countries_and_the_window():
    url = events_url(["iq", "DE", "IQ"], UNTIL, api="https://api.example/v2/")
    parts = urlsplit(url)
    assert parts.path == "/v2/outages/events"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q == {"entityType": "country", "entityCode": "DE,IQ", "from": str(1717140600 - 6 * 3600), "until": "1717140600", "format": "codf"}
