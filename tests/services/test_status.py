"""The /isitdown answer logic and the /status overview, without Discord or a database:
loopback servers for live probes, a stub monitor and crowd for the current verdicts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import Catalog, load_catalog, parse_catalog
from bot.detect.model import Confidence, CrowdLevel, CrowdSignal, Verdict
from bot.i18n import in_arabic_script
from bot.net.client import HttpClient
from bot.services.errors import UserError
from bot.services.status import (
    ERR_BAD_URL,
    ERR_PRIVATE,
    ERR_UNKNOWN,
    StatusService,
)
from bot.sources.base import SourceRole
from bot.status import Status
from tests.loopback import StubResolver, respond, serve

NOW = datetime(2025, 3, 5, 12, 51, tzinfo=timezone.utc)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statuspage"


class StubMonitor:
    """Answers ``verdict`` from a dict (the Monitor's read side)."""

    def __init__(self, verdicts: dict[str, Verdict]) -> None:
        self.verdicts = verdicts

    def verdict(self, service_id: str) -> Verdict | None:
        return self.verdicts.get(service_id)


class StubCrowd:
    def __init__(self, signal: CrowdSignal | None) -> None:
        self.value = signal
        self.asked: list[tuple[str, datetime]] = []

    async def signal(self, service_id: str, now: datetime) -> CrowdSignal | None:
        self.asked.append((service_id, now))
        return self.value


def verdict(service_id: str, status: Status, at: datetime = NOW, since: datetime | None = None) -> Verdict:
    confidence = Confidence.CONFIRMED if status.is_outage else None
    return Verdict(service_id, status, confidence, at, since=since)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def service_for(catalog: Catalog, **kwargs: Any) -> StatusService:
    return StatusService(catalog, HttpClient(), **kwargs)


# ------------------------------------------------------------------ what was asked


def test_in_arabic_script() -> None:
    assert in_arabic_script("واتساب") and in_arabic_script("gh جيت")
    assert not in_arabic_script("github") and not in_arabic_script("https://x.com")
    assert not in_arabic_script("\ufeffgithub")  # a byte-order mark pasted in front is no Arabic
    assert in_arabic_script("\ufefb") and in_arabic_script("\ufdf2")  # presentation forms (lam-alef, Allah) are


def test_target_resolves_services_in_both_scripts(catalog: Catalog) -> None:
    status = service_for(catalog)
    t = status.target("gh")
    assert t.service is not None and t.service.id == "github" and t.lang is None and t.url is None
    assert t.names.name == "GitHub" and t.names.name_ar == "غيت هاب" and t.names.status_url == "https://www.githubstatus.com"
    t = status.target("واتساب")
    assert t.service is not None and t.service.id == "whatsapp" and t.lang == "ar"


def test_a_url_on_a_service_site_is_that_service(catalog: Catalog) -> None:
    status = service_for(catalog)
    for typed in ("https://github.com/torvalds/linux", "https://www.github.com", "github.com"):
        t = status.target(typed)
        assert t.service is not None and t.service.id == "github", typed


def test_other_urls_and_bare_hosts_are_probed(catalog: Catalog) -> None:
    status = service_for(catalog)
    t = status.target("https://example.org/health")
    assert t.service is None and t.url == "https://example.org/health" and t.names.name == "example.org"
    assert status.target("example.org").url == "https://example.org"


@pytest.mark.parametrize(
    ("typed", "msgid"),
    [
        ("myspace", ERR_UNKNOWN),
        ("ماي سبيس", ERR_UNKNOWN),
        ("http://127.0.0.1/", ERR_PRIVATE),
        ("http://127.0.0.1:8080/admin", ERR_PRIVATE),
        ("http://169.254.169.254/latest/meta-data", ERR_PRIVATE),
        ("http://localhost:9000/", ERR_PRIVATE),
        ("http://2130706433/", ERR_PRIVATE),
        ("ftp://example.org/file", ERR_BAD_URL),
        ("https://user:pw@example.org/", ERR_BAD_URL),
        ("https://example.org:8443/", ERR_BAD_URL),
    ],
)
def test_what_cannot_be_asked_is_a_user_error(catalog: Catalog, typed: str, msgid: str) -> None:
    with pytest.raises(UserError) as caught:
        service_for(catalog).target(typed)
    assert caught.value.msgid == msgid
    assert caught.value.lang == ("ar" if in_arabic_script(typed) else None)


def test_allow_private_lifts_the_address_rule(catalog: Catalog) -> None:
    t = service_for(catalog, allow_private=True).target("http://127.0.0.1:8080/")
    assert t.url == "http://127.0.0.1:8080/"


# ------------------------------------------------------------------ current answers


async def test_a_fresh_verdict_is_answered_at_once_with_the_crowd(catalog: Catalog) -> None:
    crowd = StubCrowd(CrowdSignal(CrowdLevel.PROBLEMS, recent=240, usual=3.0))
    monitor = StubMonitor({"github": verdict("github", Status.MAJOR_OUTAGE, at=NOW - timedelta(minutes=2))})
    status = service_for(catalog, monitor=monitor, crowd=crowd, stale_after=timedelta(minutes=3))
    target = status.target("github")
    assert not status.needs_live(target, NOW)
    answer = await status.current(target, NOW)
    assert answer is not None and not answer.live
    assert answer.verdict.status is Status.MAJOR_OUTAGE and answer.crowd is crowd.value
    assert crowd.asked == [("github", NOW)]


async def test_stale_missing_or_url_needs_a_live_probe(catalog: Catalog) -> None:
    monitor = StubMonitor({"github": verdict("github", Status.OPERATIONAL, at=NOW - timedelta(minutes=4))})
    status = service_for(catalog, monitor=monitor, stale_after=timedelta(minutes=3))
    assert status.needs_live(status.target("github"), NOW)
    assert status.needs_live(status.target("discord"), NOW)  # never read
    assert status.needs_live(status.target("example.org"), NOW)
    assert await status.current(status.target("github"), NOW) is None
    assert service_for(catalog).needs_live(status.target("github"), NOW)  # no monitor (the CLI)


async def test_a_failing_crowd_service_does_not_sink_the_answer(catalog: Catalog) -> None:
    class Broken:
        async def signal(self, service_id: str, now: datetime) -> CrowdSignal | None:
            raise RuntimeError("database is down")

    monitor = StubMonitor({"github": verdict("github", Status.OPERATIONAL)})
    answer = await service_for(catalog, monitor=monitor, crowd=Broken()).current(service_for(catalog).target("github"), NOW)
    assert answer is not None and answer.crowd is None and answer.verdict.status is Status.OPERATIONAL


# ------------------------------------------------------------------ live answers


@pytest.mark.parametrize(("code", "expected"), [(200, Status.OPERATIONAL), (503, Status.MAJOR_OUTAGE)])
async def test_a_url_is_probed_live(catalog: Catalog, code: int, expected: Status) -> None:
    async with serve({"/": respond("hi", status=code)}) as server, HttpClient(allow_private=True) as fetcher:
        status = StatusService(catalog, fetcher, allow_private=True)
        answer = await status.live(status.target(server.url("/")), NOW)
    assert answer.live and answer.crowd is None
    assert answer.verdict.status is expected
    [probe] = answer.verdict.evidence
    assert probe.role is SourceRole.PROBE and probe.http_status == code
    assert server.hits["/"] == 1


async def test_a_name_resolving_to_a_private_address_is_refused_after_the_lookup(catalog: Catalog) -> None:
    resolver = StubResolver({"intranet.example.org": ["10.0.0.7"]})
    async with HttpClient(resolver=resolver) as fetcher:
        status = StatusService(catalog, fetcher)
        target = status.target("https://intranet.example.org/")
        with pytest.raises(UserError) as caught:
            await status.live(target, NOW)
    assert caught.value.msgid == ERR_PRIVATE and resolver.calls["intranet.example.org"] == 1


async def test_a_service_is_probed_through_its_own_sources(tmp_path: Path) -> None:
    summary = (FIXTURES / "github_major_outage.json").read_bytes()
    async with serve({"/api/v2/summary.json": respond(summary), "/": respond("<html>ok</html>")}) as server:
        catalog = parse_catalog({"services": [{
            "id": "octo", "name": "Octo", "name_ar": "أوكتو", "aliases": ["اوكتو"],
            "sources": [{"kind": "statuspage", "url": server.url("/")}, {"kind": "http", "url": server.url("/")}],
        }]})
        crowd = StubCrowd(None)
        async with HttpClient() as fetcher:  # catalog sources are trusted: no guard
            status = StatusService(catalog, fetcher, crowd=crowd)
            answer = await status.live(status.target("اوكتو"), NOW)
    assert answer.live and answer.target.lang == "ar"
    assert answer.verdict.status is Status.MAJOR_OUTAGE and answer.verdict.confidence is Confidence.CONFIRMED
    roles = sorted(e.role.value for e in answer.verdict.evidence)
    assert roles == ["official", "probe"]
    assert server.hits["/api/v2/summary.json"] == 1 and server.hits["/"] == 1
    assert crowd.asked == [("octo", NOW)]


# ------------------------------------------------------------------ /status


def test_overview_lists_troubled_services_worst_first(catalog: Catalog) -> None:
    monitor = StubMonitor({
        "github": verdict("github", Status.DEGRADED, since=NOW - timedelta(minutes=5)),
        "discord": verdict("discord", Status.MAJOR_OUTAGE, since=NOW - timedelta(minutes=1)),
        "x": verdict("x", Status.MAJOR_OUTAGE, since=NOW - timedelta(minutes=30)),
        "youtube": verdict("youtube", Status.OPERATIONAL),
        "slack": verdict("slack", Status.MAINTENANCE),
    })
    overview = service_for(catalog, monitor=monitor).overview()
    assert [n.id for n, _ in overview.troubled] == ["x", "discord", "github", "slack"]
    assert overview.known == 5 and overview.total == len(catalog)
    empty = service_for(catalog).overview()
    assert empty.troubled == () and empty.known == 0


def test_what_the_user_typed_is_quoted_back_inert() -> None:
    """Issue 14 sweep: the unknown query went into the reply raw (a masked link, markdown,
    a mention); it is cleaned like outside text now."""
    from bot.notify.text import ZWSP

    status = StatusService(load_catalog(), fetcher=None)  # type: ignore[arg-type]
    with pytest.raises(UserError) as info:
        status.target("[free nitro](https://evil.example) **@everyone**")
    query = info.value.kwargs["query"]
    assert "](" not in query and f"@{ZWSP}everyone" in query and "\\*\\*" in query


def test_overview_leaves_out_status_pages_typed_by_users() -> None:
    from bot.catalog import Service, load_catalog
    from bot.sources.base import SourceSpec

    catalog = load_catalog()
    total = len(catalog)
    page = Service("u-status-acme-example-1a2b3c", "Acme Cloud", "Acme Cloud",
                   sources=(SourceSpec("statuspage", "https://status.acme.example", guarded=True),))  # fmt: skip
    catalog.add(page)
    monitor = StubMonitor({page.id: verdict(page.id, Status.MAJOR_OUTAGE), "github": verdict("github", Status.DEGRADED)})
    overview = service_for(catalog, monitor=monitor).overview()
    assert [n.id for n, _ in overview.troubled] == ["github"] and overview.total == total


# -- the official page's track record -------------------------------------------------------


async def test_the_track_record_is_read_from_the_services_past_incidents(db: Any, catalog: Catalog) -> None:
    from bot.db.models import Incident

    async def incident(key: str, service: str, started_hours_ago: float, ack_after_min: float | None, *, watched: bool = True) -> None:
        started = NOW - timedelta(hours=started_hours_ago)
        await Incident.create(
            key=key, service_id=service, status="major_outage", peak_status="major_outage", started_at=started,
            resolved_at=started + timedelta(hours=1), page_watched=watched,
            acknowledged_at=None if ack_after_min is None else started + timedelta(minutes=ack_after_min),
        )  # fmt: skip

    await incident("gh-1", "github", 24, 10)
    await incident("gh-2", "github", 48, 20)
    await incident("gh-3", "github", 72, None)  # never acknowledged: counts 4 hours
    await incident("gh-old", "github", 24 * 100, 0)  # outside the 90 days
    await incident("gh-blind", "github", 30, 0, watched=False)  # no page was watched then
    await incident("other", "discord", 24, 0)
    status = StatusService(catalog, HttpClient())
    record = await status.track_record(status.target("github"), NOW)
    assert record is not None
    assert (record.incidents, record.acknowledged) == (3, 2)
    assert record.typical == timedelta(minutes=15) and record.grade is not None and record.grade.value == "C"
    # a service without an official page, and a URL, have no record
    assert await status.track_record(status.target("x"), NOW) is None
    assert await status.track_record(status.target("https://example.com"), NOW) is None
