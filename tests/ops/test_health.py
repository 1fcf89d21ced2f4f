"""``/healthz`` and ``/metrics`` over real HTTP on loopback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import AsyncIterator

import aiohttp
import pytest

from bot.ops import metrics
from bot.db.setup import close_db, init_db
from bot.ops.health import HealthChecks, start_health_server
from tests.conftest import TestDB


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Parts:
    """The bot's vital parts as the health server sees them, switchable by the test."""

    def __init__(self, clock: Clock) -> None:
        self.gateway_up = True
        self.last_poll: float | None = clock.now
        self.stopped: list[str] = []


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def parts(clock: Clock) -> Parts:
    return Parts(clock)


@pytest.fixture
async def health(sqlite_db: TestDB, clock: Clock, parts: Parts) -> AsyncIterator[str]:
    checks = HealthChecks(
        gateway=lambda: parts.gateway_up,
        last_poll=lambda: parts.last_poll,
        poll_interval=60,
        clock=clock,
        info={"vantage": lambda: {"state": "ok"}},
        stopped_tasks=lambda: parts.stopped,
    )
    runner = await start_health_server(0, checks, host="127.0.0.1")
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def _get(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return response.status, await response.json()


async def test_healthy_when_all_parts_work(health: str) -> None:
    status, body = await _get(health + "/healthz")
    assert status == 200
    assert body["status"] == "ok" and body["failing"] == []
    assert body["checks"] == {"gateway": {"ok": True}, "database": {"ok": True}, "scheduler": {"ok": True}, "background": {"ok": True}}
    assert body["info"] == {"vantage": {"state": "ok"}}


def _move_db(url: str, suffix_from: str, suffix_to: str) -> None:
    path = Path(url[len("sqlite://"):].split("?", 1)[0])
    for extra in ("", "-wal", "-shm"):
        src = Path(str(path) + extra + suffix_from)
        if src.exists():
            os.replace(src, Path(str(path) + extra + suffix_to))


def _drop_file(url: str) -> None:
    path = Path(url[len("sqlite://"):].split("?", 1)[0])
    for extra in ("", "-wal", "-shm"):
        Path(str(path) + extra).unlink(missing_ok=True)


async def test_database_going_away_turns_503_and_back(health: str, sqlite_db: TestDB) -> None:
    assert (await _get(health + "/healthz"))[0] == 200
    # the connection goes away
    await close_db()
    status, body = await _get(health + "/healthz")
    assert status == 503
    assert body["status"] == "failing" and body["failing"] == ["database"]
    assert body["checks"]["database"]["ok"] is False and body["checks"]["database"]["error"]
    assert body["checks"]["gateway"] == {"ok": True}
    await init_db(sqlite_db.url, apply_migrations=False)
    assert (await _get(health + "/healthz"))[0] == 200
    # the database is dropped: the same URL now opens an empty database without our tables
    await close_db()
    _move_db(sqlite_db.url, "", ".away")
    await init_db(sqlite_db.url, apply_migrations=False)
    status, body = await _get(health + "/healthz")
    assert status == 503 and body["failing"] == ["database"]
    assert "key_value" in body["checks"]["database"]["error"]
    # and restored
    await close_db()
    _drop_file(sqlite_db.url)
    _move_db(sqlite_db.url, ".away", "")
    await init_db(sqlite_db.url, apply_migrations=False)
    status, body = await _get(health + "/healthz")
    assert status == 200, body
    assert body["checks"]["database"] == {"ok": True}


async def test_a_background_task_that_died_turns_503(health: str, parts: Parts) -> None:
    """The delivery loop (or crowd upkeep) dying while the gateway and scheduler stay green is
    exactly what a supervisor must hear about."""
    parts.stopped = ["delivery"]
    status, body = await _get(health + "/healthz")
    assert status == 503 and body["failing"] == ["background"]
    assert body["checks"]["background"] == {"ok": False, "error": "stopped: delivery"}


async def test_gateway_down_is_named(health: str, parts: Parts) -> None:
    parts.gateway_up = False
    status, body = await _get(health + "/healthz")
    assert status == 503
    assert body["failing"] == ["gateway"]


async def test_stalled_scheduler_after_two_intervals(health: str, parts: Parts, clock: Clock) -> None:
    clock.now += 119
    assert (await _get(health + "/healthz"))[0] == 200
    clock.now += 2
    status, body = await _get(health + "/healthz")
    assert status == 503
    assert body["failing"] == ["scheduler"]
    assert "last poll 121s ago" in body["checks"]["scheduler"]["error"]
    parts.last_poll = clock.now
    assert (await _get(health + "/healthz"))[0] == 200


async def test_never_polled_gets_grace_then_fails(health: str, parts: Parts, clock: Clock) -> None:
    parts.last_poll = None
    assert (await _get(health + "/healthz"))[0] == 200
    clock.now += 121
    status, body = await _get(health + "/healthz")
    assert status == 503 and "no poll since start" in body["checks"]["scheduler"]["error"]


async def test_a_raising_check_is_a_503_not_a_500(sqlite_db: TestDB, clock: Clock) -> None:
    def broken() -> bool:
        raise RuntimeError("client closed")

    checks = HealthChecks(gateway=broken, last_poll=lambda: clock.now, poll_interval=60, clock=clock)
    runner = await start_health_server(0, checks, host="127.0.0.1")
    try:
        status, body = await _get(f"http://127.0.0.1:{runner.addresses[0][1]}/healthz")
    finally:
        await runner.cleanup()
    assert status == 503
    assert body["checks"]["gateway"] == {"ok": False, "error": "RuntimeError: client closed"}


async def test_metrics_are_exposed_and_move(health: str) -> None:
    async def scrape() -> tuple[str, str]:
        async with aiohttp.ClientSession() as session:
            async with session.get(health + "/metrics") as response:
                assert response.status == 200
                return response.headers["Content-Type"], await response.text()

    def sample(text: str, line_start: str) -> float:
        for line in text.splitlines():
            if line.startswith(line_start + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    content_type, before = await scrape()
    assert content_type.startswith("text/plain")
    for name in ("outage_bot_polls_total", "outage_bot_open_incidents", "outage_bot_deliveries_pending",
                 "outage_bot_gateway_latency_seconds", "outage_bot_command_latency_seconds"):
        assert f"# TYPE {name.removesuffix('_total')}" in before
    key = 'outage_bot_polls_total{kind="web-test",outcome="error"}'
    metrics.observe_poll("web-test", "timeout")
    metrics.open_incidents.set(4)
    _, after = await scrape()
    assert sample(after, key) == sample(before, key) + 1
    assert sample(after, 'outage_bot_poll_errors_total{error="timeout",kind="web-test"}') >= 1
    assert sample(after, "outage_bot_open_incidents") == 4


async def test_listens_on_loopback_unless_told_otherwise(clock: Clock, parts: Parts) -> None:
    """The endpoints are unauthenticated: without a host, the server binds 127.0.0.1 only
    (it used to bind 0.0.0.0, every interface)."""
    checks = HealthChecks(gateway=lambda: True, last_poll=lambda: None, poll_interval=60, database=lambda: None, clock=clock)
    runner = await start_health_server(0, checks)
    try:
        assert {address[0] for address in runner.addresses} == {"127.0.0.1"}
    finally:
        await runner.cleanup()
