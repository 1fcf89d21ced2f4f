"""The ``http`` probe kind: polled through the real HttpClient against loopback servers, and
its pure ``evaluate`` on hand-made fetch results."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import AsyncIterator

import pytest

from bot.net.client import HttpClient
from bot.sources.base import FetchResult, Observation, PollContext, SourceError, SourceRole, SourceSpec, get_kind
from bot.sources.http import HttpKind, ProbeOptions, evaluate, parse_expect_status, probe
from bot.status import Status
from tests.loopback import StubResolver, free_port, hang, redirect, respond, serve, stream

NOW = datetime(2024, 3, 5, 12, 51, tzinfo=timezone.utc)
ERROR_PAGE = "<html><body><h1>Something went wrong, but don’t worry — it’s not your fault.</h1></body></html>"


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    async with HttpClient(timeout=2.0, max_bytes=64 * 1024) as c:
        yield c


async def poll(client: HttpClient, url: str, previous: Observation | None = None, **options: object) -> Observation:
    spec = SourceSpec(kind="http", url=url, options=dict(options))
    return await HttpKind.poll(PollContext(service_id="x", spec=spec, fetcher=client, now=NOW, previous=previous))


def test_registered_as_probe() -> None:
    assert get_kind("http") is HttpKind
    assert HttpKind.role is SourceRole.PROBE


async def test_200_is_operational_with_status_and_latency(client: HttpClient) -> None:
    async with serve({"/": respond("<title>Home</title>")}) as server:
        obs = await poll(client, server.url("/"), forbid_text="Something went wrong")
    assert obs.status is Status.OPERATIONAL and obs.error is None
    assert obs.http_status == 200 and obs.latency_ms is not None
    assert obs.role is SourceRole.PROBE and obs.source_kind == "http" and obs.fetched_at == NOW
    assert obs.url == server.url("/")


async def test_503_is_major_outage(client: HttpClient) -> None:
    async with serve({"/": respond("Service Unavailable", 503)}) as server:
        obs = await poll(client, server.url("/"))
    assert obs.status is Status.MAJOR_OUTAGE
    assert obs.http_status == 503 and obs.error is not None and obs.error.kind == "http_status"


async def test_error_page_served_with_200_is_major_outage(client: HttpClient) -> None:
    async with serve({"/": respond(ERROR_PAGE)}) as server:
        obs = await poll(client, server.url("/"), forbid_text="something went wrong")
    assert obs.status is Status.MAJOR_OUTAGE
    assert obs.http_status == 200 and obs.error is not None and obs.error.kind == "error_page"


async def test_missing_required_text_is_major_outage(client: HttpClient) -> None:
    async with serve({"/": respond("<html>maintenance splash</html>")}) as server:
        obs = await poll(client, server.url("/"), require_text=["Sign in", "Home"])
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is not None and obs.error.kind == "missing_text"


async def test_timeout_is_major_outage(client: HttpClient) -> None:
    async with serve({"/": hang()}) as server:
        obs = await poll(client, server.url("/"), timeout=0.2)
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is not None and obs.error.kind == "timeout"


async def test_body_over_cap_is_unknown(client: HttpClient) -> None:
    async with serve({"/": stream(1024 * 1024)}) as server:
        obs = await poll(client, server.url("/"))
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "too_large"


async def test_connection_refused_is_major_outage(client: HttpClient) -> None:
    obs = await poll(client, f"http://127.0.0.1:{free_port()}/")
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is not None and obs.error.kind == "connection"
    assert obs.http_status is None


async def test_tls_failure_is_major_outage(client: HttpClient) -> None:
    async with serve({"/": respond()}) as server:
        obs = await poll(client, server.url("/").replace("http://", "https://"))
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is not None and obs.error.kind == "tls"


async def test_redirect_loop_is_major_outage(client: HttpClient) -> None:
    async with serve({"/a": redirect("/b"), "/b": redirect("/a")}) as server:
        obs = await poll(client, server.url("/a"))
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is not None and obs.error.kind == "redirects"


async def test_dns_failure_is_major_outage() -> None:
    async with HttpClient(resolver=StubResolver({})) as client:
        obs = await poll(client, "https://gone.example/")
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is not None and obs.error.kind == "dns"


async def test_expect_status_list(client: HttpClient) -> None:
    async with serve({"/204": respond("", 204), "/404": respond("", 404), "/403": respond("", 403)}) as server:
        ok = await poll(client, server.url("/204"), expect_status=[200, 204])
        missing = await poll(client, server.url("/404"), expect_status="200,204")
        blocked = await poll(client, server.url("/403"))
    assert ok.status is Status.OPERATIONAL
    assert missing.status is Status.PARTIAL_OUTAGE and missing.error is not None
    assert blocked.status is Status.UNKNOWN  # blocked from our side says nothing about them


async def test_rate_limited_skip_keeps_previous_reading() -> None:
    async with serve({"/": respond("busy", 429, {"Retry-After": "600"})}) as server:
        async with HttpClient() as client:
            first = await poll(client, server.url("/"))
            previous = dataclasses.replace(first, status=Status.MAJOR_OUTAGE)
            kept = await poll(client, server.url("/"), previous=previous)
            fresh = await poll(client, server.url("/"))
    assert first.status is Status.UNKNOWN and first.http_status == 429
    assert kept.status is Status.MAJOR_OUTAGE and kept.error is not None and kept.error.kind == "rate_limited"
    assert fresh.status is Status.UNKNOWN
    assert server.hits["/"] == 1


async def test_guarded_probe_refuses_private_target() -> None:
    async with serve({"/": respond()}) as server, HttpClient() as client:
        obs = await probe(client, server.url("/"), ProbeOptions(), service_id="", now=NOW, guard=True)
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "ssrf"
    assert server.hits["/"] == 0


async def test_bad_options_give_unknown_not_an_exception(client: HttpClient) -> None:
    obs = await poll(client, "http://127.0.0.1/", expect_status="two hundred")
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "config"


def test_validate_options() -> None:
    assert HttpKind.validate_options({"expect_status": "200-399", "forbid_text": "oops", "degraded_ms": 1500}) == []
    problems = HttpKind.validate_options({"expect_status": "600", "degraded_ms": -1})
    assert problems and problems[0].startswith("expect_status:")
    assert HttpKind.validate_options({"degraded_ms": 0}) == ["degraded_ms: must be a positive number"]
    assert HttpKind.validate_options({"colour": "red"}) == ["colour: unknown option for kind 'http'"]


def test_parse_expect_status() -> None:
    assert parse_expect_status("200-399") == ((200, 399),)
    assert parse_expect_status("200, 204") == ((200, 200), (204, 204))
    assert parse_expect_status([200, "300-308"]) == ((200, 200), (300, 308))
    assert parse_expect_status(204) == ((204, 204),)
    for bad in ("", "abc", "399-200", [True], 1000, {"a": 1}):
        with pytest.raises(ValueError):
            parse_expect_status(bad)


def _result(status: int | None = 200, latency: float | None = 100.0, body: bytes = b"ok",
            error: SourceError | None = None, headers: dict[str, str] | None = None) -> FetchResult:
    return FetchResult(url="https://x.example/", status=status, body=body, latency_ms=latency, error=error, headers=headers or {})


def test_slow_answer_is_degraded() -> None:
    options = ProbeOptions(degraded_ms=2000)
    slow = evaluate(_result(latency=2500), options, service_id="x", now=NOW)
    assert slow.status is Status.DEGRADED and slow.error is None
    assert slow.description == "answered in 2500 ms (threshold 2000 ms)"
    assert evaluate(_result(latency=1500), options, service_id="x", now=NOW).status is Status.OPERATIONAL


def test_body_is_decoded_with_declared_charset() -> None:
    options = ProbeOptions(forbid_text=("حدث خطأ",))
    body = "<p>حدث خطأ ما</p>".encode("cp1256")
    obs = evaluate(_result(body=body, headers={"content-type": "text/html; charset=windows-1256"}), options, service_id="x", now=NOW)
    assert obs.status is Status.MAJOR_OUTAGE and obs.error is not None and obs.error.kind == "error_page"


def test_ssrf_refusal_is_unknown() -> None:
    obs = evaluate(_result(status=None, error=SourceError("ssrf", "address 10.0.0.1 is not public")), ProbeOptions(),
                   service_id="x", now=NOW)
    assert obs.status is Status.UNKNOWN and obs.error is not None and obs.error.kind == "ssrf"


async def test_redirected_probe_reports_the_configured_url(client: HttpClient) -> None:
    async with serve({"/": redirect("/home"), "/home": respond("welcome")}) as server:
        obs = await poll(client, server.url("/"))
    assert obs.status is Status.OPERATIONAL and obs.url == server.url("/")
