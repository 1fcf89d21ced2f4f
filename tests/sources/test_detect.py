"""Detecting the format of a status page typed by a user (``bot.sources._toolkit.detect``):
where each kind would read a URL, and what one answer reads as — on real captured payloads."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

import bot.sources  # noqa: F401  (registers every kind)
from bot.sources._toolkit.detect import Candidate, candidates, custom_id, page_name, page_url, reading
from bot.sources.base import FetchResult, SourceError
from bot.status import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def ok(body: bytes, url: str = "https://status.example.com") -> FetchResult:
    return FetchResult(url=url, status=200, body=body)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("status.example.com", "https://status.example.com"),
        ("  https://Status.Example.com/ ", "https://status.example.com"),
        ("http://status.example.com/path/#frag", "http://status.example.com/path"),
        ("ftp://status.example.com", None),
        ("not a url", None),
        ("", None),
    ],
)
def test_page_url_is_what_the_user_meant(typed: str, expected: str | None) -> None:
    assert page_url(typed) == expected


def test_custom_id_is_a_stable_readable_slug_that_tells_pages_on_one_host_apart() -> None:
    a, b = custom_id("https://status.example.com"), custom_id("https://status.example.com/other")
    assert a == custom_id("https://status.example.com") and a != b
    assert a.startswith("u-status-example-com-") and len(a) <= 64
    assert len(custom_id("https://" + "a" * 200 + ".example")) <= 64


def test_a_page_url_is_tried_as_every_official_format_on_its_own_host() -> None:
    found = candidates("https://status.example.com")
    pairs = [(c.kind, c.endpoint) for c in found]
    assert pairs[0] == ("statuspage", "https://status.example.com/api/v2/summary.json")
    assert ("feed", "https://status.example.com/history.rss") in pairs
    assert ("feed", "https://status.example.com") in pairs
    # Slack's API lives on slack-status.com: never fetched for somebody else's page
    assert all(c.endpoint.startswith("https://status.example.com") for c in found)
    assert "slack" not in {c.kind for c in found}


def test_a_pages_query_is_not_carried_into_the_apis_beside_it() -> None:
    found = {(c.kind, c.endpoint) for c in candidates("https://status.example.com/?lang=en")}
    assert ("statuspage", "https://status.example.com/api/v2/summary.json") in found
    assert ("feed", "https://status.example.com/history.rss") in found
    assert ("cachet", "https://status.example.com/api/v1/components?per_page=100") in found
    assert ("feed", "https://status.example.com/?lang=en") in found  # the page itself, as typed
    assert not any("lang=en/" in endpoint for _, endpoint in found)


def test_a_url_naming_a_file_is_read_as_it_is() -> None:
    found = candidates("https://www.apple.com/support/systemstatus/data/system_status_en_US.js")
    assert {c.endpoint for c in found} == {"https://www.apple.com/support/systemstatus/data/system_status_en_US.js"}
    assert [c.kind for c in found] == ["apple", "feed", "psn", "xbox"]  # (the kinds whose API is a file of its own)


@pytest.mark.parametrize(
    "kind, fixture, status, name",
    [
        ("statuspage", "statuspage/github_major_outage.json", Status.MAJOR_OUTAGE, "GitHub"),
        ("statuspage", "statuspage/cloudamqp_maintenance.json", Status.MAINTENANCE, "CloudAMQP"),
        ("feed", "feed/statuspage_history_streamyard.rss", Status.OPERATIONAL, "StreamYard Status - Incident History"),
        ("apple", "apple/system_status_ru_2022-03-21_outage_ongoing_onflow.json", Status.MAJOR_OUTAGE, None),
        ("statuspal", "statuspal/v2_summary_maslak_2022-12_major_linuxfabrik.json", Status.MAJOR_OUTAGE, "Maslak API Platform"),
    ],
)
def test_the_right_kind_reads_a_real_page_and_names_it(kind: str, fixture: str, status: Status, name: str | None) -> None:
    body = (FIXTURES / fixture).read_bytes()
    candidate = Candidate(kind, "https://status.example.com/x", "https://status.example.com")
    obs = reading(candidate, ok(body), service_id="u-x", now=NOW)
    assert obs.error is None and obs.status is status
    assert page_name(candidate, body) == name


def test_a_statuspage_reading_lists_every_published_component() -> None:
    body = (FIXTURES / "statuspage/github_major_outage.json").read_bytes()
    obs = reading(Candidate("statuspage", "e", "u"), ok(body), service_id="u-x", now=NOW)
    assert "GitHub Pages" in obs.component_names and "GitHub Actions" in obs.component_names
    assert "GitHub Pages" not in {c.name for c in obs.components}  # operational: not affected


@pytest.mark.parametrize("kind", ["statuspage", "feed", "apple", "gcloud"])
@pytest.mark.parametrize("fixture", ["statuspage/malformed/nginx_502.html", "statuspage/malformed/json_array.json"])
def test_an_error_page_or_an_unknown_format_is_an_unknown_reading_saying_so(kind: str, fixture: str) -> None:
    obs = reading(Candidate(kind, "e", "u"), ok((FIXTURES / fixture).read_bytes()), service_id="u-x", now=NOW)
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "parse"


def test_the_wrong_format_reads_a_real_page_as_unknown() -> None:
    rss = (FIXTURES / "feed/statuspage_history_streamyard.rss").read_bytes()
    obs = reading(Candidate("statuspage", "e", "u"), ok(rss), service_id="u-x", now=NOW)
    assert obs.status is Status.UNKNOWN and obs.error is not None and "XML" in obs.error.message


@pytest.mark.parametrize("error", ["timeout", "too_large", "ssrf", "dns"])
def test_a_transport_failure_is_an_unknown_reading_carrying_it(error: str) -> None:
    result = FetchResult(url="e", status=None, error=SourceError(error, "why"))
    obs = reading(Candidate("statuspage", "e", "u"), result, service_id="u-x", now=NOW)
    assert obs.status is Status.UNKNOWN and obs.error == SourceError(error, "why")


def test_an_http_error_is_an_unknown_reading_naming_the_code() -> None:
    body = (FIXTURES / "statuspage/github_operational.json").read_bytes()
    obs = reading(Candidate("statuspage", "https://x/api", "u"), FetchResult("e", 404, body), service_id="u-x", now=NOW)
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "http_status"
    assert obs.http_status == 404
