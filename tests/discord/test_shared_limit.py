"""Discord's global limit and the send pace shared through the real Redis at 127.0.0.1:6379.

Each "process" is its own Redis client and its own limit objects, as in separate ``run``
processes; every test uses its own namespace and removes its keys."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.discord.shared_limit import RedisGlobalLimit, RedisPacer, SharedLimits, connect_shared_limits, redis_client
from tests.shared_redis import REDIS_URL as REDIS, redis_up

if not redis_up():
    pytest.skip("Redis not reachable at 127.0.0.1:6379: the shared-limit tests need it", allow_module_level=True)


@contextlib.asynccontextmanager
async def processes(n: int, *, rate: float | None = 50.0, namespace: str | None = None) -> AsyncIterator[list[SharedLimits]]:
    ns = namespace or f"test-{uuid.uuid4().hex[:10]}"
    made = [await connect_shared_limits(REDIS, namespace=ns, rate=rate) for _ in range(n)]
    try:
        yield made
    finally:
        keys = [k async for k in made[0].client.scan_iter(f"outage-bot:{ns}:*")]
        if keys:
            await made[0].client.delete(*keys)
        for m in made:
            await m.aclose()


async def test_a_global_limit_one_process_hears_of_holds_every_process() -> None:
    async with processes(2) as (a, b):
        started = time.monotonic()
        await b.global_limit.wait()  # no limit in force: at once
        assert time.monotonic() - started < 0.2
        await a.global_limit.hold(0.6)
        await a.global_limit.hold(0.1)  # a shorter limit does not shorten the longer one
        started = time.monotonic()
        await b.global_limit.wait()
        assert time.monotonic() - started >= 0.45  # b waited out a's limit


async def test_three_processes_share_one_pace_under_the_limit() -> None:
    """150 sends from three processes at a shared 50 a second: never more than 50 (+1 at the
    window's edge) in any second, so about three seconds in all. Each send is stamped with the
    slot the shared schedule granted it (when its wait was handed out, plus the wait), not when
    its coroutine woke: a busy machine wakes sleepers late and bunched, the schedule does not."""
    namespace = f"test-{uuid.uuid4().hex[:10]}"
    async with processes(3, namespace=namespace) as procs:
        stamps: list[float] = []

        async def sender(limits: SharedLimits) -> None:
            granted: list[float] = []

            async def sleep(seconds: float) -> None:
                granted.append(time.monotonic() + seconds)
                await asyncio.sleep(seconds)

            pacer = RedisPacer(limits.client, f"outage-bot:{namespace}:pace", 50.0, sleep=sleep)
            for _ in range(50):
                asked = time.monotonic()
                await pacer.acquire()
                stamps.append(granted.pop() if granted else asked)  # (no wait: its slot was free at once)

        await asyncio.gather(*(sender(p) for p in procs))
    stamps.sort()
    busiest = max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps)
    assert len(stamps) == 150 and busiest <= 51
    assert stamps[-1] - stamps[0] >= 2.5


async def test_two_bots_do_not_share_a_pace() -> None:
    async with processes(1) as (one,), processes(1) as (other,):
        stamps: list[float] = []

        async def sender(limits: SharedLimits) -> None:
            for _ in range(25):
                await limits.pacer.acquire()
                stamps.append(time.monotonic())

        started = time.monotonic()
        await asyncio.gather(sender(one), sender(other))
    # each bot has its own 50 a second: 25 each take half a second, not one
    assert stamps[-1] - started < 0.9


async def test_redis_going_away_leaves_each_process_its_own_limits(caplog: pytest.LogCaptureFixture) -> None:
    gone = redis_client("redis://127.0.0.1:1/0")  # Redis went away after start
    limit, pacer = RedisGlobalLimit(gone, "outage-bot:t:global"), RedisPacer(gone, "outage-bot:t:pace", 50.0)
    caplog.set_level(logging.WARNING)
    await limit.hold(0.3)
    started = time.monotonic()
    await limit.wait()  # the local limit still holds this process back
    assert time.monotonic() - started >= 0.2
    for _ in range(3):
        await pacer.acquire()
    await gone.aclose()
    warnings = [r.getMessage() for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(warnings) == 2  # once for the limit, once for the pace: not once per send


async def test_an_unreachable_redis_is_refused_at_start_without_its_password() -> None:
    with pytest.raises(ConnectionError) as info:
        await connect_shared_limits("redis://:hunter2@127.0.0.1:1/0", namespace="x", rate=50)
    assert "REDIS_URL=redis://:***@127.0.0.1:1/0" in str(info.value) and "hunter2" not in str(info.value)
