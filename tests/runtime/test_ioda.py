"""The IODA poller against a loopback IODA (real aiohttp, real HttpClient, real database)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.db.models import KeyValue
from bot.detect.national import Connectivity, ContextKind
from bot.net.client import HttpClient
from bot.runtime.ioda import STATE_KEY, IodaPoller
from tests.loopback import respond, serve

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ioda"
# the fixtures' window end: their ongoing events reach it
NOW = datetime(2024, 5, 31, 7, 30, tzinfo=timezone.utc)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class Countries:
    def __init__(self, *codes: str) -> None:
        self.codes = list(codes)
        self.asked: list[datetime] = []

    async def __call__(self, now: datetime) -> list[str]:
        self.asked.append(now)
        return self.codes


def recording(body: bytes, status: int = 200, seen: list[web.Request] | None = None):
    async def handler(request: web.Request) -> web.Response:
        if seen is not None:
            seen.append(request)
        return web.Response(body=body, status=status, content_type="application/json")

    return handler


async def test_a_poll_reads_the_countries_that_matter_and_keeps_the_state(db: Any) -> None:
    seen: list[web.Request] = []
    async with serve({"/v2/outages/events": recording(fixture("events_iq_ongoing_derived.json"), seen=seen)}) as server:
        client = HttpClient(allow_private=True)
        try:
            poller = IodaPoller(client, Countries("IQ", "US", "de"), api=server.url("/v2"))
            reading = await poller.poll_once(NOW)
        finally:
            await client.close()
    assert reading is not None and reading.error is None
    assert seen[0].query["entityType"] == "country" and seen[0].query["entityCode"] == "DE,IQ,US"
    assert seen[0].query["until"] == str(int(NOW.timestamp()))
    assert poller.outage("IQ", NOW) is not None and poller.outage("IQ", NOW).since == datetime(2024, 5, 31, 4, tzinfo=timezone.utc)
    assert poller.state.connectivity("US", NOW) is Connectivity.NORMAL
    assert poller.context(["US", "DE"], NOW).kind is ContextKind.INTERNATIONAL
    assert poller.context(["US", "IQ"], NOW).countries == ("IQ",)
    assert poller.health() == {
        "countries_read": 3, "last_read_at": NOW.isoformat(), "error": None,
        "national_outages": {"IQ": "2024-05-31T04:00:00+00:00"},
    }
    # saved, and a new poller (a restart) starts from it
    saved = await KeyValue.get(key=STATE_KEY)
    again = IodaPoller(HttpClient(), Countries())
    await again.load()
    assert again.state == poller.state and saved.value["outages"]["IQ"]["datasources"] == ["bgp", "ping-slash24"]


async def test_failures_keep_the_last_state_and_it_ages_into_unknown(db: Any) -> None:
    async with serve({"/v2/outages/events": recording(fixture("events_iq_ongoing_derived.json"))}) as good:
        client = HttpClient(allow_private=True)
        try:
            poller = IodaPoller(client, Countries("IQ", "US"), api=good.url("/v2"))
            await poller.poll_once(NOW)
        finally:
            await client.close()
    before = poller.state
    later = NOW + timedelta(minutes=10)
    bad_answers = [
        recording(b"<html>502 Bad Gateway</html>", status=502),
        recording(fixture("events_error_derived.json"), status=400),
        recording(fixture("truncated_derived.json")),
    ]
    errors = []
    for handler in bad_answers:
        async with serve({"/v2/outages/events": handler}) as server:
            client = HttpClient(allow_private=True)
            try:
                poller.fetcher, poller.api = client, server.url("/v2")
                reading = await poller.poll_once(later)
            finally:
                await client.close()
        assert reading is not None and reading.error is not None
        errors.append(reading.error.message)
        assert poller.state == before
    assert poller.health()["error"].startswith("parse: not JSON")
    assert errors[0] == "HTTP 502" and "limit must be greater than 0" in errors[1] and "not JSON" in errors[2]
    assert poller.state.connectivity("IQ", later) is Connectivity.DISRUPTED
    assert poller.state.connectivity("IQ", NOW + timedelta(hours=1)) is Connectivity.UNKNOWN


async def test_an_unreachable_ioda_is_an_error_not_a_crash(db: Any) -> None:
    client = HttpClient(allow_private=True, timeout=2)
    try:
        poller = IodaPoller(client, Countries("IQ"), api="http://127.0.0.1:9/v2")
        reading = await poller.poll_once(NOW)
    finally:
        await client.close()
    assert reading is not None and reading.error is not None and reading.error.kind == "connection"
    assert poller.state.connectivity("IQ", NOW) is Connectivity.UNKNOWN


async def test_the_ssrf_guard_applies_to_ioda(db: Any) -> None:
    async with serve({"/v2/outages/events": respond(fixture("events_iq_ongoing_derived.json"))}) as server:
        client = HttpClient(allow_private=False)
        try:
            poller = IodaPoller(client, Countries("IQ"), api=server.url("/v2"))
            reading = await poller.poll_once(NOW)
        finally:
            await client.close()
    assert reading is not None and reading.error is not None and reading.error.kind == "ssrf"
    assert server.hits["/v2/outages/events"] == 0


async def test_no_country_no_request_and_the_loop_stops(db: Any) -> None:
    calls: list[str] = []

    class Never:
        async def get(self, url: str, **_: Any) -> Any:
            calls.append(url)
            raise AssertionError("no request without a country")

    countries = Countries()
    poller = IodaPoller(Never(), countries, interval=3600)  # type: ignore[arg-type]
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    while not countries.asked:
        await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert calls == []


async def test_many_countries_are_read_in_several_requests(db: Any, monkeypatch: Any) -> None:
    import bot.runtime.ioda as ioda_module

    monkeypatch.setattr(ioda_module, "MAX_COUNTRIES", 2)
    seen: list[web.Request] = []
    async with serve({"/v2/outages/events": recording(fixture("events_iq_ongoing_derived.json"), seen=seen)}) as server:
        client = HttpClient(allow_private=True)
        try:
            poller = IodaPoller(client, Countries("US", "IQ", "DE", "FR", "EG"), api=server.url("/v2"))
            reading = await poller.poll_once(NOW)
        finally:
            await client.close()
    assert [r.query["entityCode"] for r in seen] == ["DE,EG", "FR,IQ", "US"]
    assert reading is not None and reading.known == {"US", "IQ", "DE", "FR", "EG"} and set(reading.outages) == {"IQ"}
    assert poller.state.connectivity("FR", NOW) is Connectivity.NORMAL
