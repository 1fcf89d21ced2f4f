"""One upstream, one message (issue 17 item 3), end to end: the real monitor with the shipped
catalog's providers and documented links, the outbox, the delivery worker and the real
discord.py client against the loopback fake Discord, a real database.

Cloudflare goes down, then Discord, X and ChatGPT (each documented as running on it) within
minutes; they recover in turn, Cloudflare last.

* A channel that follows Discord, X and ChatGPT reads ONE message: Discord's alert, edited into
  "Cloudflare outage — also affecting Discord, X and ChatGPT" as the others join, edited again
  as each recovers, and answered once when the last of its three is back.
* A channel that follows Cloudflare and Discord (in Arabic) has Cloudflare's alert taken over
  the same way, and its reply comes when Cloudflare, its last, recovers.
* A channel that follows X alone gets X's own alert naming the likely cause, and its own reply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import discord
import pytest

from bot.catalog import Catalog, load_catalog
from bot.db.models import AlertMessage, Delivery, Subscription
from bot.detect.model import EventKind, IncidentEvent
from bot.detect.upstream import Upstreams
from bot.runtime.monitor import Monitor
from bot.sources.base import Observation, SourceRole
from bot.status import Status
from tests.discord.test_delivery import worker_for
from tests.fake_discord import MSG_REPLY, FakeDiscord, FakeGuild, discord_py_on_fake, rest_client

T0 = datetime(2026, 11, 18, 11, 20, tzinfo=timezone.utc)
EN_SERVICES = ("discord", "x", "chatgpt")


def page(service_id: str, status: Status, at: datetime) -> Observation:
    return Observation(
        service_id=service_id, source_kind="statuspage", status=status, fetched_at=at,
        role=SourceRole.OFFICIAL, description=status.value,
    )  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_py_on_fake() as f:
        yield f


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    async with rest_client(fake) as c:
        yield c


class World:
    """The monitor reading official pages, the worker delivering what it wrote."""

    def __init__(self, monitor: Monitor, worker: Any) -> None:
        self.monitor, self.worker = monitor, worker

    async def page_says(self, service_id: str, status: Status, at: datetime) -> list[IncidentEvent]:
        """Feed readings until the monitor writes an event (a recovery needs a few), then deliver."""
        for step in range(30):
            now = at + timedelta(minutes=step)
            events = await self.monitor.ingest(service_id, f"{service_id}:0", page(service_id, status, now), now)
            if events:
                await self.worker.run_once(now)
                assert await Delivery.filter(state="pending").count() == 0
                return events
        raise AssertionError(f"{service_id} never moved to {status}")


async def test_a_channel_following_three_services_of_one_upstream_outage_reads_one_message(
    db: Any, fake: FakeDiscord, client: discord.Client, catalog: Catalog
) -> None:
    guild: FakeGuild = fake.add_guild("Watchers", channels=("three", "provider-ar", "just-x"))
    three, provider_ar, just_x = (guild.channel_by_name(n) for n in ("three", "provider-ar", "just-x"))
    for service in EN_SERVICES:
        await Subscription.create(guild_id=guild.id, channel_id=three, service_id=service, language="en")
    for service in ("cloudflare", "discord"):
        await Subscription.create(guild_id=guild.id, channel_id=provider_ar, service_id=service, language="ar")
    await Subscription.create(guild_id=guild.id, channel_id=just_x, service_id="x", language="en")
    worker, _ = worker_for(client, catalog, rate_per_s=None)
    world = World(Monitor(upstreams=Upstreams.of(catalog.services)), worker)

    # Cloudflare first: an ordinary alert where it is followed, nothing where it is not
    [opened] = await world.page_says("cloudflare", Status.MAJOR_OUTAGE, T0)
    assert opened.kind is EventKind.OPENED
    [cf_alert] = fake.messages(provider_ar)
    assert "كلاود فلير" in cf_alert["embeds"][0]["title"]
    assert fake.messages(three) == [] and fake.messages(just_x) == []

    # Discord 3 minutes later: alone in "three" (the only one of its services down yet), but
    # Cloudflare's alert in "provider-ar" becomes the grouped message
    await world.page_says("discord", Status.MAJOR_OUTAGE, T0 + timedelta(minutes=3))
    [discord_alert] = fake.messages(three)
    assert discord_alert["embeds"][0]["title"] == "Discord is down"
    assert "Likely cause: Cloudflare is down at the same time." in discord_alert["embeds"][0]["description"]
    [taken_over] = fake.messages(provider_ar)
    assert taken_over["id"] == cf_alert["id"]
    assert "يطال أيضًا" in taken_over["embeds"][0]["title"] and "ديسكورد" in taken_over["embeds"][0]["title"]

    # X and ChatGPT join: "three" still has ONE message, edited each time
    await world.page_says("x", Status.MAJOR_OUTAGE, T0 + timedelta(minutes=5))
    await world.page_says("chatgpt", Status.PARTIAL_OUTAGE, T0 + timedelta(minutes=6))
    [grouped] = fake.messages(three)
    assert grouped["id"] == discord_alert["id"]
    embed = grouped["embeds"][0]
    assert embed["title"] == "Cloudflare outage — also affecting Discord, X (Twitter), and ChatGPT"
    described = embed["description"].replace("\u202f", " ")
    assert "Discord: major outage since 11:23 AM" in described and "ChatGPT: partial outage since 11:26 AM" in described
    assert len(fake.edit_history(int(grouped["id"]))) == 2
    # elsewhere, per-service alerts naming the likely cause
    [x_alert] = fake.messages(just_x)
    assert x_alert["embeds"][0]["title"].startswith("X (Twitter) is down")
    assert "Likely cause: Cloudflare" in x_alert["embeds"][0]["description"]
    rows = await AlertMessage.filter(channel_id=three)
    assert {r.message_id for r in rows} == {int(grouped["id"])} and len(rows) == 3

    # recoveries: edits, until the last of the channel's services is back: then one reply
    await world.page_says("discord", Status.OPERATIONAL, T0 + timedelta(minutes=40))
    await world.page_says("x", Status.OPERATIONAL, T0 + timedelta(minutes=80))
    assert [m["id"] for m in fake.messages(three)] == [grouped["id"]]
    assert "Discord: back at" in fake.message(int(grouped["id"]))["embeds"][0]["description"]
    x_alert_then, x_reply = fake.messages(just_x)  # X's own channel: its own recovery reply
    assert x_reply["type"] == MSG_REPLY and x_reply["message_reference"]["message_id"] == x_alert["id"]

    await world.page_says("chatgpt", Status.OPERATIONAL, T0 + timedelta(minutes=95))
    alert, reply = fake.messages(three)
    assert alert["id"] == grouped["id"]
    assert reply["type"] == MSG_REPLY and reply["message_reference"]["message_id"] == grouped["id"]
    assert reply["embeds"][0]["title"] == "All services hit by the Cloudflare outage are back"
    assert fake.message(int(grouped["id"]))["embeds"][0]["title"].startswith("Resolved: the Cloudflare outage")
    assert len(fake.messages(provider_ar)) == 1  # Cloudflare, its other service, is still down

    await world.page_says("cloudflare", Status.OPERATIONAL, T0 + timedelta(minutes=120))
    assert len(fake.messages(three)) == 2  # nothing more where everything was already over
    assert len(worker._channel_locks) == 0  # each channel's turn was let go: no lock per channel kept
    cf_then, cf_reply = fake.messages(provider_ar)
    assert cf_then["id"] == cf_alert["id"]
    assert cf_reply["message_reference"]["message_id"] == cf_alert["id"]
    assert "عودة جميع الخدمات المتأثرة بانقطاع" in cf_reply["embeds"][0]["title"]
    assert await Delivery.exclude(state="sent").count() == 0
    assert fake.stats["invalid_requests"] == 0
