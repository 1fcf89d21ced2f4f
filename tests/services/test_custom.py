"""Status pages typed by users (``bot.services.custom``) against a loopback server serving real
captured status payloads, through the real ``HttpClient`` and SSRF guard and a real database:
format detection, naming, sharing between guilds, the per-guild limit, release, and every kind
of bad input answered clearly with nothing stored."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any, AsyncIterator

import pytest
from aiohttp import web

import bot.net.client
import bot.net.ssrf
from bot.catalog import load_catalog, parse_catalog
from bot.db.models import CustomService, Subscription
from bot.i18n import translations
from bot.net.client import HttpClient
from bot.services import replies
from bot.sources._toolkit.detect import candidates
from bot.services.custom import ERR_CUSTOM_OFF, ERR_LIMIT, ERR_PRIVATE_PAGE, CustomServices, Unreadable
from bot.services.errors import UserError
from bot.services.subscriptions import ERR_COMPONENT_ALL, ERR_UNKNOWN_COMPONENT, SubscriptionService
from bot.status import Status
from tests.loopback import StubResolver, hang, redirect, respond, serve, stream

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
GUILD, OTHER_GUILD, ALERTS = 10, 20, 100


def fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def everywhere(handler: Any) -> dict[str, Any]:
    """``handler`` at the page and at every endpoint a format is tried at."""
    return {"/": handler} | {urlsplit(c.endpoint).path: handler for c in candidates("https://page.example")}


class Recorder:
    """A listener that records what the scheduler would be told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    async def service_added(self, service: Any) -> None:
        self.events.append(("added", service.id))

    async def service_removed(self, service_id: str) -> None:
        self.events.append(("removed", service_id))


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    async with HttpClient(allow_private=True, timeout=2.0) as client:
        yield client


def make(http: Any, **kw: Any) -> tuple[CustomServices, SubscriptionService, Recorder]:
    catalog = load_catalog()
    custom = CustomServices(catalog, http, allow_private=kw.pop("allow_private", True), **kw)
    recorder = Recorder()
    custom.listeners.append(recorder)
    return custom, SubscriptionService(catalog, custom), recorder


async def test_a_statuspage_url_is_detected_named_shared_and_released(db: Any, http: HttpClient) -> None:
    custom, subs, recorder = make(http)
    routes = {"/api/v2/summary.json": respond(fixture("statuspage/cloudamqp_maintenance.json"))}
    async with serve(routes) as server:
        url = server.url("/")
        sub, created = await subs.subscribe(GUILD, ALERTS, url, language="en", now=NOW)
        again, _ = await subs.subscribe(OTHER_GUILD, 999, url.rstrip("/"), language="ar", now=NOW)
    assert created and sub.service_id == again.service_id  # one page, shared by two guilds
    row = await CustomService.get(id=sub.service_id)
    assert (row.kind, row.name, row.source_url) == ("statuspage", "CloudAMQP", url.rstrip("/"))
    assert await CustomService.all().count() == 1
    assert server.hits["/api/v2/summary.json"] == 1  # the second guild reused the stored page
    service = custom.catalog.get(sub.service_id)
    assert service is not None and service.name == "CloudAMQP" and service.sources[0].guarded
    assert custom.catalog.resolve(url.rstrip("/")) is service  # /isitdown and /unsubscribe find it by URL
    assert recorder.events == [("added", sub.service_id)]

    await subs.unsubscribe(GUILD, ALERTS, "CloudAMQP")
    assert await CustomService.exists(id=sub.service_id)  # the other guild still uses it
    await subs.unsubscribe(OTHER_GUILD, 999, url)
    assert not await CustomService.exists(id=sub.service_id)
    assert custom.catalog.get(sub.service_id) is None
    assert recorder.events[-1] == ("removed", sub.service_id)


async def test_a_feed_is_found_beside_a_page_that_is_html(db: Any, http: HttpClient) -> None:
    custom, subs, _ = make(http)
    routes = {"/": respond(fixture("statuspage/malformed/nginx_502.html")),
              "/history.rss": respond(fixture("feed/statuspage_history_streamyard.rss"))}  # fmt: skip
    async with serve(routes) as server:
        sub, _ = await subs.subscribe(GUILD, ALERTS, server.url("/"), language="en", now=NOW)
    row = await CustomService.get(id=sub.service_id)
    assert (row.kind, row.name, row.source_url) == ("feed", "StreamYard Status - Incident History", server.url("/history.rss"))


async def test_an_apple_status_file_is_read_as_apple(db: Any, http: HttpClient) -> None:
    custom, _, _ = make(http)
    routes = {"/data/system_status_ru_RU.js": respond(fixture("apple/system_status_ru_2022-03-21_outage_ongoing_onflow.json"))}
    async with serve(routes) as server:
        service = await custom.obtain(GUILD, server.url("/data/system_status_ru_RU.js"), NOW)
    row = await CustomService.get(id=service.id)
    assert row.kind == "apple" and row.name == "127.0.0.1"  # Apple's file names nothing: the host


async def test_an_instatus_page_is_detected_and_named_from_itself(db: Any, http: HttpClient) -> None:
    """The Statuspage endpoint answers 404 there, so the next format is tried: Instatus."""
    custom, subs, _ = make(http)
    routes = {"/summary.json": respond(fixture("instatus/manychat_incident.json"))}
    async with serve(routes) as server:
        sub, created = await subs.subscribe(GUILD, ALERTS, server.url("/"), language="en", now=NOW)
    row = await CustomService.get(id=sub.service_id)
    assert created and (row.kind, row.name, row.source_url) == ("instatus", "Manychat", server.url("/").rstrip("/"))


async def test_a_better_stack_page_is_detected_named_and_offers_its_resources(db: Any, http: HttpClient) -> None:
    custom, subs, _ = make(http)
    routes = {"/index.json": respond(fixture("betterstack/huggingface_operational.json"))}
    async with serve(routes) as server:
        sub, created = await subs.subscribe(GUILD, ALERTS, server.url("/"), language="en", now=NOW)
    row = await CustomService.get(id=sub.service_id)
    assert created and (row.kind, row.name, row.source_url) == ("betterstack", "Hugging Face", server.url("/").rstrip("/"))
    names = custom.published(sub.service_id)  # its resources, for /subscribe component:
    assert list(names)[:2] == ["Huggingface Hub", "Git Hosting and Serving"] and len(names) == 8


async def test_a_statuspal_page_typed_as_its_api_is_read_as_statuspal_not_as_a_lookalike(db: Any, http: HttpClient) -> None:
    # Statuspage's and Apple's parsers would each take this answer for theirs: Statuspal is tried first
    custom, subs, _ = make(http)
    path = "/api/v2/status_pages/ascentlogistics/summary"
    routes = {path: respond(fixture("statuspal/v2_summary_ascentlogistics_2022-04_major_linuxfabrik.json"))}
    async with serve(routes) as server:
        sub, created = await subs.subscribe(GUILD, ALERTS, server.url(path), language="en", now=NOW)
    row = await CustomService.get(id=sub.service_id)
    assert created and (row.kind, row.name, row.source_url) == ("statuspal", "Ascent Global Logistics", server.url(path))
    assert server.hits[path] == 2  # the formats reading this URL as it is share one fetch; Xbox's asks for JSON
    assert "PEAK - Customer API Production" in custom.published(sub.service_id)


async def test_a_typed_xbox_status_url_is_asked_for_json_as_the_endpoint_needs(db: Any, http: HttpClient) -> None:
    # the endpoint answers XML unless asked for JSON (as the live one does): only the Xbox attempt asks
    json_body = fixture("xbox/servicestatusv6_2026-09-19_healthy_wakz.json")

    async def negotiated(request: web.Request) -> web.StreamResponse:
        if "application/json" in request.headers.get("Accept", ""):
            return web.Response(body=json_body, content_type="application/json")
        return web.Response(text="<ServiceStatus><Status/></ServiceStatus>", content_type="text/xml")

    custom, subs, _ = make(http)
    path = "/servicestatusv6/SA/ar-SA"
    async with serve({path: negotiated}) as server:
        sub, created = await subs.subscribe(GUILD, ALERTS, server.url(path), language="en", now=NOW)
    row = await CustomService.get(id=sub.service_id)
    assert created and row.kind == "xbox"
    assert "Sign-in" in custom.published(sub.service_id)


async def test_the_per_guild_limit_counts_distinct_pages(db: Any, http: HttpClient) -> None:
    custom, subs, _ = make(http, per_guild=1)
    routes = {"/a/api/v2/summary.json": respond(fixture("statuspage/cloudamqp_maintenance.json")),
              "/b/api/v2/summary.json": respond(fixture("statuspage/twilio_degraded.json"))}  # fmt: skip
    async with serve(routes) as server:
        await subs.subscribe(GUILD, ALERTS, server.url("/a"), language="en", now=NOW)
        await subs.subscribe(GUILD, ALERTS + 1, server.url("/a"), language="en", now=NOW)  # the same page again: fine
        with pytest.raises(UserError) as caught:
            await subs.subscribe(GUILD, ALERTS, server.url("/b"), language="en", now=NOW)
        await subs.subscribe(OTHER_GUILD, ALERTS, server.url("/b"), language="en", now=NOW)  # another guild's own count
    assert caught.value.msgid == ERR_LIMIT and caught.value.kwargs["n"] == 1
    assert server.hits["/b/api/v2/summary.json"] == 1  # refused before reading the page
    assert await CustomService.all().count() == 2


async def test_custom_pages_can_be_turned_off(db: Any, http: HttpClient) -> None:
    _, subs, _ = make(http, per_guild=0)
    with pytest.raises(UserError) as caught:
        await subs.subscribe(GUILD, ALERTS, "https://status.example.com", language="en", now=NOW)
    assert caught.value.msgid == ERR_CUSTOM_OFF


async def test_the_official_page_of_a_catalog_service_is_that_service(db: Any, http: HttpClient) -> None:
    _, subs, recorder = make(http)
    sub, _ = await subs.subscribe(GUILD, ALERTS, "https://www.githubstatus.com/", language="en", now=NOW)
    assert sub.service_id == "github" and recorder.events == []
    assert await CustomService.all().count() == 0


def test_a_catalog_page_is_matched_by_page_or_endpoint_never_by_a_shared_host() -> None:
    catalog = parse_catalog({"services": [
        {"id": "docker", "name": "Docker", "name_ar": "دوكر",
         "sources": [{"kind": "statusio", "url": "https://api.status.io/1.0/status/533c6539221ae15e3f000031"}]},
        {"id": "github", "name": "GitHub", "name_ar": "جيت هب", "sources": [{"kind": "statuspage", "url": "https://www.githubstatus.com"}]},
    ]})  # fmt: skip
    custom = CustomServices(catalog, HttpClient())
    assert custom.catalog_service_for("http://githubstatus.com") is catalog.get("github")
    assert custom.catalog_service_for("https://www.githubstatus.com/api/v2/summary.json") is catalog.get("github")
    assert custom.catalog_service_for("https://api.status.io/1.0/status/533c6539221ae15e3f000031") is catalog.get("docker")
    assert custom.catalog_service_for("https://api.status.io/1.0/status/5ac3a9b7f2ae11a2c6000058") is None
    assert custom.catalog_service_for("https://www.githubstatus.com/incidents/xyz") is None


# --- bad input: a clear unknown reading per attempt, a clear answer, nothing stored ----------------


async def unreadable(subs: SubscriptionService, url: str) -> Unreadable:
    with pytest.raises(Unreadable) as caught:
        await subs.subscribe(GUILD, ALERTS, url, language="en", now=NOW)
    assert await CustomService.all().count() == 0 and await Subscription.all().count() == 0
    for attempt in caught.value.detection.attempts:
        assert attempt.observation.status is Status.UNKNOWN and attempt.observation.error is not None
    return caught.value


async def test_an_html_error_page_everywhere_names_every_format_tried(db: Any, http: HttpClient) -> None:
    _, subs, _ = make(http)
    page = respond(fixture("statuspage/malformed/nginx_502.html"))
    async with serve({"/": page, "/api/v2/summary.json": page, "/incidents.json": page, "/history.rss": page}) as server:
        failed = await unreadable(subs, server.url("/"))
    kinds = {a.candidate.kind for a in failed.detection.attempts}
    assert {"statuspage", "feed", "apple", "gcloud"} <= kinds
    text = replies.unreadable_page(translations("en"), failed.detection)
    assert "We couldn't read" in text and "Statuspage (a web page, not status data)" in text and "RSS/Atom feed" in text
    ar = replies.unreadable_page(translations("ar"), failed.detection)
    assert "جرّبنا" in ar and "Statuspage" in ar


async def test_an_unknown_format_and_missing_endpoints_are_told_apart(db: Any, http: HttpClient) -> None:
    _, subs, _ = make(http)
    async with serve({"/api/v2/summary.json": respond(fixture("statuspage/malformed/json_array.json"))}) as server:
        failed = await unreadable(subs, server.url("/"))
    errors = {(a.candidate.kind, a.candidate.endpoint.rsplit("/", 1)[-1]): a.observation.error.kind for a in failed.detection.attempts if a.observation.error}
    assert errors[("statuspage", "summary.json")] == "parse"
    assert errors[("feed", "history.rss")] == "http_status"
    text = replies.unreadable_page(translations("en"), failed.detection)
    assert "Statuspage (not in this format)" in text and "answered HTTP 404" in text


async def test_a_page_that_times_out_is_answered_as_such(db: Any) -> None:
    async with HttpClient(allow_private=True, timeout=0.3) as http:
        _, subs, _ = make(http, timeout=0.3)
        async with serve(everywhere(hang())) as server:
            failed = await unreadable(subs, server.url("/"))
    assert {a.observation.error.kind for a in failed.detection.attempts if a.observation.error} == {"timeout"}
    assert replies.unreadable_page(translations("en"), failed.detection).endswith(": no answer in time.")


async def test_a_huge_page_is_refused_past_the_cap(db: Any, http: HttpClient) -> None:
    _, subs, _ = make(http, max_bytes=64 * 1024)
    big = stream(1024 * 1024)
    async with serve(everywhere(big)) as server:
        failed = await unreadable(subs, server.url("/"))
    assert {a.observation.error.kind for a in failed.detection.attempts if a.observation.error} == {"too_large"}
    assert "too large" in replies.unreadable_page(translations("en"), failed.detection)


@pytest.fixture
def simulated_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 on any port stands in for a public host; every other address keeps the rule."""

    class AnyPort(frozenset):
        def __contains__(self, item: object) -> bool:
            return True

    monkeypatch.setattr(bot.net.ssrf, "ALLOWED_PORTS", AnyPort())
    real = bot.net.ssrf.vet_addresses

    def vet(addresses: list[str], *, allow_private: bool = False) -> list[str]:
        return addresses if addresses == ["127.0.0.1"] else real(addresses, allow_private=allow_private)

    monkeypatch.setattr(bot.net.client, "vet_addresses", vet)


async def test_a_redirect_to_a_private_address_is_refused(db: Any, simulated_internet: None) -> None:
    resolver = StubResolver({"status.public.example": ["127.0.0.1"]})
    to_metadata = redirect("http://169.254.169.254/latest/meta-data/")
    async with HttpClient(resolver=resolver, timeout=2.0) as http:
        _, subs, _ = make(http, allow_private=False)
        async with serve(everywhere(to_metadata)) as server:
            failed = await unreadable(subs, server.url("/", "status.public.example"))
    assert {a.observation.error.kind for a in failed.detection.attempts if a.observation.error} == {"ssrf"}
    assert "private or local address" in replies.unreadable_page(translations("en"), failed.detection)


async def test_a_private_address_typed_outright_is_refused_before_any_request(db: Any, http: HttpClient) -> None:
    _, subs, _ = make(http, allow_private=False)
    async with serve({"/api/v2/summary.json": respond(fixture("statuspage/github_operational.json"))}) as server:
        with pytest.raises(UserError) as caught:
            await subs.subscribe(GUILD, ALERTS, server.url("/"), language="en", now=NOW)
    assert caught.value.msgid == ERR_PRIVATE_PAGE and sum(server.hits.values()) == 0


async def test_a_component_is_stored_as_the_page_writes_it_and_never_for_all(db: Any) -> None:
    catalog = load_catalog()
    subs = SubscriptionService(catalog, components_of=lambda sid: ["Git Operations", "GitHub Actions"] if sid == "github" else [])
    sub, _ = await subs.subscribe(GUILD, ALERTS, "github", language="en", component=" github   ACTIONS ", now=NOW)
    assert sub.component == "GitHub Actions"
    again, created = await subs.subscribe(GUILD, ALERTS, "github", language="en", now=NOW)  # the whole service again
    assert not created and again.component is None
    with pytest.raises(UserError) as caught:
        await subs.subscribe(GUILD, ALERTS, "github", language="en", component="Copilot", now=NOW)
    assert caught.value.msgid == ERR_UNKNOWN_COMPONENT
    with pytest.raises(UserError) as caught:
        await subs.subscribe(GUILD, ALERTS, "all", language="en", component="Git Operations", now=NOW)
    assert caught.value.msgid == ERR_COMPONENT_ALL
    # a page never read yet: kept as typed, matched case-insensitively when alerts come
    later, _ = await subs.subscribe(GUILD, ALERTS, "discord", language="en", component="Voice", now=NOW)
    assert later.component == "Voice"


async def test_two_guilds_adding_one_page_at_once_read_it_once(db: Any, http: HttpClient) -> None:
    custom, _, recorder = make(http)
    routes = {"/api/v2/summary.json": respond(fixture("statuspage/twilio_degraded.json"))}
    async with serve(routes) as server:
        first, second = await asyncio.gather(
            custom.obtain(GUILD, server.url("/"), NOW), custom.obtain(OTHER_GUILD, server.url("/"), NOW)
        )
    assert first is second and first.name == "Twilio"
    assert server.hits["/api/v2/summary.json"] == 1 and await CustomService.all().count() == 1
    assert recorder.events == [("added", first.id)]
