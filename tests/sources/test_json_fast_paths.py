"""Fast paths added for benchmarks/poll.py keep the exact behaviour of the plain code:
``load_json``'s direct scanner call, the single-pass latest incident update, ``with_fetch``,
the fetch fields on a guarded parse, and ``HttpClient``'s slot gate (released on every path)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime, timezone

import pytest
from aiohttp import web

import bot.sources._toolkit.payload as json_helpers
from bot.net.client import HttpClient
from bot.sources._toolkit import PayloadError, load_json, with_fetch
from bot.sources.statuspage import parse
from bot.status import Status
from tests.loopback import serve

NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(params=["msgspec", "stdlib"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both quick ways: with msgspec when it is installed, and the stdlib scanner without."""
    if request.param == "msgspec":
        if json_helpers._msgspec_decode is None:
            pytest.skip("msgspec is not installed")
    else:
        monkeypatch.setattr(json_helpers, "_msgspec_decode", None)
    return request.param


def _stdlib(payload: bytes) -> tuple[str, object]:
    try:
        return "ok", json.loads(payload)
    except (ValueError, RecursionError) as exc:
        return "error", type(exc).__name__


@pytest.mark.parametrize(
    "payload",
    [
        b'{"a": 1}',
        b'{"a": 1}  \r\n\t',
        b'{"a": 1} x',  # extra data
        b'{"a": 1}\x0c',  # not JSON whitespace
        b'{"a": NaN, "b": -Infinity}',  # accepted by the stdlib, so by us
        b'{"a": "\\ud800"}',  # lone surrogate escape
        '{"a": "\ud800"}'.encode("utf-8", "surrogatepass"),  # encoded surrogate: surrogatepass
        b'{"a": 123456789012345678901234567890, "b": -9223372036854775809, "c": 1e400, "d": -0, "e": 0.1}',
        b'{"a":',  # truncated
        '{"a": 1}'.encode("utf-16-le"),  # NUL second byte: not the fast path
        '{"a": 1}'.encode("utf-8-sig"),
        b'{"a": "\xff"}',  # not UTF-8
        b'{"a":' * 3000 + b"1" + b"}" * 3000,  # deeper than the recursion limit
    ],
)
def test_load_json_agrees_with_the_stdlib(payload: bytes, decoder: str) -> None:
    expected = _stdlib(payload)
    for given in (payload, bytearray(payload)):
        try:
            got: tuple[str, object] = ("ok", load_json(given))
        except PayloadError as exc:
            got = ("error", str(exc))
        assert got[0] == expected[0]
        if got[0] == "ok":
            assert repr(got[1]) == repr(expected[1])
        else:
            assert got[1]  # a message a human can act on


def _page(updates: list[object]) -> bytes:
    incident = {"id": "i1", "name": "Down", "status": "investigating", "impact": "major", "incident_updates": updates}
    return json.dumps({"status": {"indicator": "major"}, "components": [], "incidents": [incident]}).encode()


@pytest.mark.parametrize(
    ("updates", "body", "when"),
    [
        # out of order: the latest dated one wins; display_at before created_at
        ([{"body": "old", "display_at": "2024-01-01T10:00:00Z"},
          {"body": "new", "display_at": "2024-01-01T12:00:00+02:00", "created_at": "2024-01-01T09:00:00Z"},
          {"body": "mid", "created_at": "2024-01-01T10:30:00Z"}], "mid", datetime(2024, 1, 1, 10, 30, tzinfo=timezone.utc)),
        # a tie keeps the first one listed
        ([{"body": "first", "display_at": "2024-01-01T10:00:00Z"},
          {"body": "second", "display_at": "2024-01-01T10:00:00Z"}], "first", datetime(2024, 1, 1, 10, tzinfo=timezone.utc)),
        # nothing dated: the first dict, no time
        (["junk", {"body": "a"}, {"body": "b", "display_at": "nonsense"}], "a", None),
        ([], None, None),
    ],
)
def test_latest_incident_update(updates: list[object], body: str | None, when: datetime | None) -> None:
    (incident,) = parse(_page(updates), service_id="s", fetched_at=NOW).incidents
    assert incident.latest_update == body
    assert incident.updated_at == when


def test_with_fetch_is_dataclasses_replace() -> None:
    obs = parse(_page([{"body": "x", "display_at": "2024-01-01T10:00:00Z"}]), service_id="s", fetched_at=NOW)
    later = datetime(2024, 1, 2, tzinfo=timezone.utc)
    assert with_fetch(obs, latency_ms=12.5, http_status=200) == dataclasses.replace(obs, latency_ms=12.5, http_status=200)
    assert with_fetch(obs, latency_ms=None, http_status=304, fetched_at=later) == dataclasses.replace(
        obs, latency_ms=None, http_status=304, fetched_at=later
    )


def test_guarded_parse_puts_fetch_fields_on_success_and_on_error() -> None:
    ok = parse(_page([]), service_id="s", fetched_at=NOW, latency_ms=3.0, http_status=200)
    assert (ok.status, ok.latency_ms, ok.http_status) == (Status.PARTIAL_OUTAGE, 3.0, 200)
    bad = parse(b"<html>", service_id="s", fetched_at=NOW, latency_ms=4.0, http_status=200)
    assert bad.status is Status.UNKNOWN and bad.error is not None and bad.error.kind == "parse"
    assert (bad.latency_ms, bad.http_status) == (4.0, 200)


async def test_global_cap_and_every_slot_given_back() -> None:
    release = asyncio.Event()
    in_flight = peak = 0

    async def gated(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await release.wait()
        in_flight -= 1
        return web.Response(text="ok")

    async with serve({"/": gated}) as a, serve({"/": gated}) as b, HttpClient(per_host=4, max_connections=3) as client:
        tasks = [asyncio.create_task(client.get(s.url("/"))) for s in (a, b) for _ in range(4)]
        for _ in range(200):
            await asyncio.sleep(0)
            if in_flight == 3:
                break
        for _ in range(50):
            await asyncio.sleep(0)
        assert in_flight == 3  # two hosts, four per host allowed, three in all
        tasks[-1].cancel()  # a waiter that gives up must not keep a slot
        release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert peak == 3
        assert sum(getattr(r, "status", None) == 200 for r in results) == 7
        assert len(client._gate) == 0  # nothing left registered once all are done
