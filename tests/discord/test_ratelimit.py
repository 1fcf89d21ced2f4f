"""Discord's global rate limit and the invalid-request count: the gate every request of the
process passes (``discord_http_trace`` on discord.py's own session, the outbox's wait), against
the loopback fake Discord, which keeps an announced global limit in force and counts every
request sent inside it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.catalog import Catalog, load_catalog
from bot.db.models import Delivery
from bot.discord.ratelimit import BAN_THRESHOLD, InvalidRequests, LocalGlobalLimit, discord_http_trace, is_invalid
from bot.ops import metrics
from tests.discord.test_delivery import NOW, persist, subscribe, worker_for
from tests.fake_discord import FakeDiscord, FakeGuild, discord_py_on_fake, rest_client
from tests.notify.samples import ALERT

INVALID = "outage_bot_discord_invalid_requests_total"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class AdvancingSleep:
    """Stands in for ``asyncio.sleep``: time jumps by the wait, and a hook runs meanwhile."""

    def __init__(self, clock: Clock, during: Any = None) -> None:
        self.clock, self.during, self.waits = clock, during, []  # type: list[float]

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.during is not None:
            await self.during()
            self.during = None
        self.clock.t += seconds


# ---------------------------------------------------------------- the limit itself (no I/O)


async def test_the_global_limit_holds_until_its_end_and_a_longer_one_announced_meanwhile_extends_it() -> None:
    clock = Clock()
    limit = LocalGlobalLimit(clock=clock)
    await limit.wait()  # nothing in force: at once
    await limit.hold(2.0)
    await limit.hold(0.5)  # a shorter one does not cut the first short
    assert limit.remaining() == 2.0

    async def longer_announced() -> None:
        await limit.hold(5.0)  # at t+0: until t+5

    sleep = AdvancingSleep(clock, during=longer_announced)
    limit._sleep = sleep
    start = clock.t
    await limit.wait()
    assert clock.t - start == 5.0 and sleep.waits == [2.0, 3.0]
    assert limit.remaining() == 0


def test_invalid_requests_are_what_discord_counts() -> None:
    assert is_invalid(401, {}) and is_invalid(403, {})
    assert is_invalid(429, {"X-RateLimit-Scope": "user"}) and is_invalid(429, {"X-RateLimit-Scope": "global"})
    assert not is_invalid(429, {"X-RateLimit-Scope": "shared"})  # a shared resource's limit
    assert not is_invalid(404, {}) and not is_invalid(500, {}) and not is_invalid(200, {})


def test_invalid_requests_warn_at_a_tenth_of_the_ban_and_again_at_each_further_tenth(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    watch = InvalidRequests(clock=clock)
    before = metrics.value(INVALID, {"status": "403"})
    with caplog.at_level(logging.WARNING, logger="bot.discord.ratelimit"):
        for _ in range(BAN_THRESHOLD // 10 - 1):
            watch.observe(403, {})
            watch.observe(429, {"X-RateLimit-Scope": "shared"})  # never counted
        assert caplog.records == []
        watch.observe(403, {})
        assert len(caplog.records) == 1 and "1000 invalid Discord requests" in caplog.text
        for _ in range(10):
            watch.observe(403, {})
        assert len(caplog.records) == 1  # once per tenth, not once per request
        clock.t += 601  # the window moves on
        assert len(watch) == 0 and metrics.value("outage_bot_discord_invalid_requests_10m") == 0
    assert metrics.value(INVALID, {"status": "403"}) - before == BAN_THRESHOLD // 10 + 10


# ---------------------------------------------------------------- through discord.py and the fake


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_py_on_fake() as f:
        yield f


@pytest.fixture
def guild(fake: FakeDiscord) -> FakeGuild:
    return fake.add_guild("Watchers", channels=("alerts-en", "alerts-ar"))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.mark.parametrize("announced", ["body and headers", "headers only"])
async def test_a_global_429_stops_every_send_of_the_process_until_it_ends(
    db: Any, fake: FakeDiscord, guild: FakeGuild, catalog: Catalog, announced: str
) -> None:
    """One channel's send is answered with a global 429 while another channel's first send is
    still on the wire; that one then gets a per-route 429 with a short ``retry_after``, which
    discord.py retries by itself — inside the global limit unless every request of the process
    waits on it. Discord answers every request sent inside a global limit with another 429."""
    en, ar = guild.channel_by_name("alerts-en"), guild.channel_by_name("alerts-ar")
    await subscribe(guild, en)
    await subscribe(guild, ar)
    await persist(ALERT)
    fake.inject_429(f"POST /channels/{ar}/messages", retry_after=0.5, is_global=True, delay=0.1,
                    global_in_body=announced == "body and headers")
    fake.inject_429(f"POST /channels/{en}/messages", retry_after=0.05, delay=0.2)
    limit = LocalGlobalLimit()
    invalid_before = metrics.value(INVALID, {"status": "429"})

    async with rest_client(fake, http_trace=discord_http_trace(limit, InvalidRequests())) as client:
        worker, _ = worker_for(client, catalog, global_limit=limit)
        assert await worker.run_once(NOW) == 2

    assert fake.stats["429_inside_global"] == 0  # not one self-inflicted 429
    assert fake.stats["429"] == 2  # the two injected ones, nothing else
    assert [len(fake.messages(c)) for c in (en, ar)] == [1, 1]
    assert await Delivery.filter(state="sent").count() == 2
    assert metrics.value(INVALID, {"status": "429"}) - invalid_before == 2


async def test_interaction_answers_are_not_held_by_the_global_limit(fake: FakeDiscord) -> None:
    """Discord: interaction endpoints are not bound to the bot's global rate limit."""
    from bot.discord.ratelimit import _exempt
    from yarl import URL

    assert _exempt(URL(fake.api_base + "/interactions/1/tok/callback"))
    assert _exempt(URL(fake.api_base + "/webhooks/1/tok/messages/@original"))
    assert not _exempt(URL(fake.api_base + "/channels/1/messages"))
