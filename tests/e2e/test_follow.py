"""Follow delivery end to end: the real ``OutageBot`` (slash commands over the gateway) and the
real ``DeliveryWorker`` against the loopback fake Discord, which implements Channel Following
as Discord documents it (tests/fake_discord/following.py).

A hub guild holds the operator's announcement channels (``FOLLOW_HUBS``); follower guilds
follow them with ``/subscribe … delivery:follow``. An alert is posted once per hub and
published; Discord (the fake) copies it into every follower channel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.catalog import load_catalog
from bot.db.leases import DatabaseLeases
from bot.db.models import Delivery, GuildSettings, Subscription
from bot.discord.client import Runtime
from bot.discord.delivery import DeliveryWorker
from bot.net.client import HttpClient
from bot.ops import metrics
from bot.services.crowd import CrowdService
from bot.settings import Settings, parse_follow_hubs
from tests.discord.test_delivery import persist
from tests.e2e.test_commands import ADMIN, SAFETY_TIMEOUT, E2EBot, arabic, data_of, is_ephemeral
from tests.fake_discord import (
    CHANNEL_ANNOUNCEMENT,
    DEFAULT_BOT_PERMISSIONS,
    FLAG_CROSSPOSTED,
    FLAG_IS_CROSSPOST,
    MANAGE_WEBHOOKS,
    MSG_REPLY,
    FakeDiscord,
    FakeGuild,
    discord_py_on_fake,
)
from tests.notify.samples import ALERT, RECOVERY, UPDATE

NOW = ALERT.at + timedelta(minutes=1)
FOLLOWER_PERMISSIONS = DEFAULT_BOT_PERMISSIONS | MANAGE_WEBHOOKS


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_py_on_fake() as f:
        yield f


@pytest.fixture
def hub_guild(fake: FakeDiscord) -> FakeGuild:
    guild = fake.add_guild("Outage Hub", channels=())
    for name in ("alerts-ar", "alerts-en", "major-en"):
        fake.add_channel(guild.id, name, type_=CHANNEL_ANNOUNCEMENT)
    return guild


@pytest.fixture
def followers(fake: FakeDiscord) -> list[FakeGuild]:
    return [fake.add_guild(f"Watchers {i}", channels=("alerts", "direct"), bot_permissions=FOLLOWER_PERMISSIONS)
            for i in range(3)]


@pytest.fixture
async def bot(db: Any, fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild]) -> AsyncIterator[E2EBot]:
    hubs = parse_follow_hubs(",".join(
        f"{key}={hub_guild.channel_by_name(name)}"
        for key, name in (("ar:all", "alerts-ar"), ("en:all", "alerts-en"), ("en:major", "major-en"))
    ))
    settings = Settings(discord_token=fake.token, discord_api_base=fake.api_base, follow_hubs=hubs)
    async with HttpClient(timeout=5.0) as fetcher:
        catalog = load_catalog()
        runtime = Runtime.build(settings, catalog, fetcher, crowd=CrowdService(catalog, clock=lambda: NOW), clock=lambda: NOW)
        await runtime.subscriptions.sync_hubs()  # as run_bot does at start
        bot = E2EBot(runtime)
        task = asyncio.create_task(bot.start(fake.token))
        try:
            await asyncio.wait_for(bot.connected.wait(), SAFETY_TIMEOUT)
            yield bot
        finally:
            await bot.close()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, SAFETY_TIMEOUT)


async def reply_of(inter: Any) -> dict[str, Any]:
    """The answer as the user sees it: the callback, or the message that replaced "thinking…"."""
    callback: dict[str, Any] = await inter.wait_response()
    if callback["type"] == 5:  # deferred: the answer edits the original response
        return {"type": 5, "data": await inter.wait_original()}
    return callback


async def follow(fake: FakeDiscord, guild: FakeGuild, channel: int, **options: str) -> dict[str, Any]:
    inter = await fake.invoke_command(
        guild.id, channel, "subscribe", {"service": "all", "delivery": "follow", **options}, permissions=ADMIN
    )
    return await reply_of(inter)


def worker(bot: E2EBot, **kw: Any) -> DeliveryWorker:
    return DeliveryWorker(bot, bot.runtime.catalog, rate_per_s=None, **kw)


def publishes(fake: FakeDiscord, hub: int) -> list[int]:
    return [r.status for r in fake.requests
            if r.key == "POST /channels/{channel_id}/messages/{message_id}/crosspost" and r.channel_id == hub]


# ------------------------------------------------------------------ following and unfollowing


async def test_follow_makes_the_channel_follow_the_hub_and_unsubscribe_removes_the_webhook(
    fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild], bot: E2EBot
) -> None:
    guild, alerts = followers[0], followers[0].channel_by_name("alerts")
    hub = hub_guild.channel_by_name("alerts-en")
    callback = await follow(fake, guild, alerts)
    content = data_of(callback)["content"]
    assert is_ephemeral(callback) and "now follows our announcement channel for all services in English" in content
    assert fake.followers(hub) == [alerts]
    [row] = await Subscription.filter(guild_id=guild.id)
    [webhook_id] = fake.webhooks
    assert (row.delivery, row.hub_channel_id, row.webhook_id, row.service_id) == ("follow", hub, webhook_id, "all")

    again = await follow(fake, guild, alerts)  # subscribing again does not follow twice
    assert "now follows" in data_of(again)["content"]
    assert fake.followers(hub) == [alerts] and list(fake.webhooks) == [webhook_id]

    listing = await fake.invoke_command(guild.id, alerts, "subscriptions")
    assert "by following our announcement channel" in data_of(await listing.wait_response())["embeds"][0]["description"]

    # switching the language follows the Arabic hub instead and removes the English follow
    await follow(fake, guild, alerts, language="ar")
    assert fake.followers(hub) == [] and fake.followers(hub_guild.channel_by_name("alerts-ar")) == [alerts]

    gone = await fake.invoke_command(guild.id, alerts, "unsubscribe", {"service": "all"}, permissions=ADMIN)
    assert "no longer get alerts for all services" in data_of(await reply_of(gone))["content"]
    assert fake.webhooks == {} and await Subscription.filter(guild_id=guild.id).count() == 0


async def test_follow_is_refused_clearly_without_manage_webhooks_in_arabic_too(
    fake: FakeDiscord, followers: list[FakeGuild], bot: E2EBot
) -> None:
    guild = fake.add_guild("No Webhooks", channels=("alerts",))  # the bot without Manage Webhooks
    alerts = guild.channel_by_name("alerts")
    callback = await follow(fake, guild, alerts)
    content = data_of(callback)["content"]
    assert is_ephemeral(callback) and "Manage Webhooks" in content and f"<#{alerts}>" in content
    assert "direct delivery" in content

    await GuildSettings.create(guild_id=guild.id, language="ar")
    content = data_of(await follow(fake, guild, alerts))["content"]
    assert arabic(content) and "إدارة الويب هوك" in content and "Manage Webhooks" in content
    assert fake.webhooks == {} and await Subscription.filter(guild_id=guild.id).count() == 0
    assert not [r for r in fake.requests if r.key == "POST /channels/{channel_id}/followers"]


async def test_follow_says_what_is_missing_when_no_hub_carries_the_request(
    fake: FakeDiscord, followers: list[FakeGuild], bot: E2EBot
) -> None:
    guild, alerts = followers[0], followers[0].channel_by_name("alerts")
    content = data_of(await follow(fake, guild, alerts, service="github"))["content"]
    assert "no announcement channel with alerts for GitHub in English" in content
    content = data_of(await follow(fake, guild, alerts, min_severity="partial_outage"))["content"]
    assert "every alert or major outages only" in content
    content = data_of(await follow(fake, guild, alerts, language="both"))["content"]
    assert "no announcement channel with alerts for all services in Arabic and English" in content
    assert fake.webhooks == {} and await Subscription.filter(guild_id=guild.id).count() == 0


# ------------------------------------------------------------------ publishing


async def test_an_alert_is_posted_once_per_hub_and_reaches_every_follower_edits_and_recovery_too(
    fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild], bot: E2EBot
) -> None:
    hub = hub_guild.channel_by_name("alerts-en")
    for guild in followers:
        await follow(fake, guild, guild.channel_by_name("alerts"))
    # direct delivery beside it, unchanged: its own message, a reply at recovery
    direct = followers[0].channel_by_name("direct")
    inter = await fake.invoke_command(followers[0].id, direct, "subscribe", {"service": "x"}, permissions=ADMIN)
    await inter.wait_response()
    w = worker(bot)

    await persist(ALERT)
    deliveries = await Delivery.all().prefetch_related("subscription")
    # one per hub (English, Arabic, English major outages: it is one), one direct; none for the followers
    assert sorted(d.subscription.delivery for d in deliveries) == ["direct", "hub", "hub", "hub"]
    assert await w.run_once(NOW) == 4
    [alert] = fake.messages(hub)
    assert fake.message(int(alert["id"]))["flags"] & FLAG_CROSSPOSTED
    assert "X (Twitter)" in alert["embeds"][0]["title"] and alert["content"] == ""
    assert publishes(fake, hub) == [200]
    copies = {}
    for guild in followers:
        notice, copy = fake.messages(guild.channel_by_name("alerts"))
        assert copy["flags"] & FLAG_IS_CROSSPOST and copy["message_reference"]["message_id"] == alert["id"]
        assert copy["embeds"] == alert["embeds"]
        copies[guild.id] = copy
    [direct_alert] = fake.messages(direct)
    assert "X (Twitter)" in direct_alert["embeds"][0]["title"]

    await persist(UPDATE)  # escalation: the hub's alert is edited, and so are the copies
    await w.run_once(UPDATE.at)
    assert [m["id"] for m in fake.messages(hub)] == [alert["id"]]
    edited = fake.message(int(alert["id"]))
    assert "Worsened from partial outage to major outage" in edited["embeds"][0]["description"]
    for copy in copies.values():
        assert fake.message(int(copy["id"]))["embeds"] == edited["embeds"]
    assert publishes(fake, hub) == [200]  # an edit is not a publish

    await persist(RECOVERY)  # recovery: a new message (not a reply), published; the alert says it is over
    await w.run_once(RECOVERY.at)
    first, recovery = fake.messages(hub)
    assert first["id"] == alert["id"] and recovery["type"] != MSG_REPLY
    assert publishes(fake, hub) == [200, 200]
    for guild in followers:
        assert [m["embeds"] for m in fake.messages(guild.channel_by_name("alerts"))[1:]] == [
            fake.message(int(alert["id"]))["embeds"], recovery["embeds"]
        ]
    direct_first, direct_reply = fake.messages(direct)  # direct delivery: still a reply
    assert direct_reply["type"] == MSG_REPLY and direct_reply["message_reference"]["message_id"] == direct_first["id"]
    assert await Delivery.exclude(state="sent").count() == 0


async def test_a_spent_publish_budget_queues_the_alert_and_loses_nothing(
    fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild], bot: E2EBot
) -> None:
    hub = hub_guild.channel_by_name("alerts-en")
    news = followers[0].channel_by_name("alerts")
    await follow(fake, followers[0], news)
    await Subscription.filter(delivery="hub").exclude(channel_id=hub).update(enabled=False)  # only the English hub
    waited_before = metrics.value("outage_bot_hub_publishes_total", {"outcome": "waited"})
    w = worker(bot, publish_limit=2)
    for i, service in enumerate(("x", "github", "discord")):
        await persist(replace(ALERT, service_id=service, incident_key=f"{service}-1", at=ALERT.at - timedelta(minutes=i)))
    await w.run_once(NOW)
    assert len(fake.messages(hub)) == 2 and publishes(fake, hub) == [200, 200]
    [waiting] = await Delivery.filter(state="pending")
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at >= NOW + timedelta(minutes=59)
    assert "publishes in the last hour" in (waiting.last_error or "")
    assert waiting.attempts == 0  # waiting for the budget uses no attempt
    assert metrics.value("outage_bot_hub_publishes_total", {"outcome": "waited"}) == waited_before + 1

    await w.run_once(NOW + timedelta(minutes=30))  # not yet: nothing posted, nothing refused
    assert len(fake.messages(hub)) == 2 and fake.stats["429_publish"] == 0

    await w.run_once(waiting.next_attempt_at)
    assert len(fake.messages(hub)) == 3 and publishes(fake, hub) == [200, 200, 200]
    assert len(fake.messages(news)) == 1 + 3  # the follow notice and the three alerts
    assert await Delivery.exclude(state="sent").count() == 0


async def test_a_refused_publish_is_retried_when_discord_says_without_posting_twice(
    fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild], bot: E2EBot
) -> None:
    hub = hub_guild.channel_by_name("alerts-en")
    news = followers[0].channel_by_name("alerts")
    await follow(fake, followers[0], news)
    await Subscription.filter(delivery="hub").exclude(channel_id=hub).update(enabled=False)
    fake.publish_limit = 0  # the hub's budget spent elsewhere (by hand, another process)
    w = worker(bot)
    await persist(ALERT)
    await w.run_once(NOW)
    [posted] = fake.messages(hub)
    [row] = await Delivery.filter(state="pending")
    assert row.message_id == int(posted["id"]) and row.published_at is None
    assert row.next_attempt_at is not None and row.next_attempt_at >= NOW + timedelta(minutes=59)
    assert fake.stats["invalid_requests"] == 0  # a shared-scope 429 does not count towards a ban

    fake.publish_limit = 10
    await w.run_once(row.next_attempt_at)
    assert [m["id"] for m in fake.messages(hub)] == [posted["id"]]  # published, not posted again
    assert fake.message(int(posted["id"]))["flags"] & FLAG_CROSSPOSTED
    assert len(fake.messages(news)) == 2
    assert (await Delivery.get(id=row.id)).state == "sent"


async def test_when_discord_refuses_an_edit_of_a_published_alert_an_escalation_goes_out_anew(
    fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild], bot: E2EBot
) -> None:
    hub = hub_guild.channel_by_name("alerts-en")
    news = followers[0].channel_by_name("alerts")
    await follow(fake, followers[0], news)
    await Subscription.filter(delivery="hub").exclude(channel_id=hub).update(enabled=False)
    w = worker(bot)
    await persist(ALERT)
    await w.run_once(NOW)
    fake.published_edit_limit = 0
    await persist(UPDATE)
    await w.run_once(UPDATE.at)
    alert, worse = fake.messages(hub)
    assert "Worsened from partial outage to major outage" in worse["embeds"][0]["description"]
    assert fake.message(int(worse["id"]))["flags"] & FLAG_CROSSPOSTED
    assert len(fake.messages(news)) == 3 and fake.stats["published_edit_refused"] == 1
    # the recovery still goes out and is published; the refused edit of the alert is skipped
    await persist(RECOVERY)
    await w.run_once(RECOVERY.at)
    assert len(fake.messages(hub)) == 3 and len(fake.messages(news)) == 4
    assert await Delivery.exclude(state="sent").count() == 0


async def test_when_discord_refuses_an_edit_of_a_published_alert_an_update_is_skipped_not_posted(
    fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild], bot: E2EBot
) -> None:
    from bot.detect.model import EventKind

    hub = hub_guild.channel_by_name("alerts-en")
    news = followers[0].channel_by_name("alerts")
    await follow(fake, followers[0], news)
    await Subscription.filter(delivery="hub").exclude(channel_id=hub).update(enabled=False)
    w = worker(bot)
    await persist(ALERT)
    await w.run_once(NOW)
    [alert] = fake.messages(hub)
    fake.published_edit_limit = 0
    update = replace(UPDATE, kind=EventKind.UPDATED, at=NOW)
    await persist(update)
    await w.run_once(NOW)
    assert [m["id"] for m in fake.messages(hub)] == [alert["id"]]  # no new publish spent on an update
    assert publishes(fake, hub) == [200]
    [skipped] = await Delivery.filter(state="dropped")
    assert "20022" in (skipped.last_error or "") and w.stats["hub_edit_skipped"] == 1
    assert fake.message(int(fake.copies_of(int(alert["id"]))[0]["id"]))["embeds"] == alert["embeds"]


async def test_the_hubs_are_checked_at_start_and_each_problem_named(
    fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild], bot: E2EBot
) -> None:
    from bot.discord.follow import check_hubs
    from tests.fake_discord import VIEW_CHANNEL

    hubs = [hub.channel_id for hub in bot.runtime.subscriptions.hubs]
    assert await check_hubs(bot, hubs) == []
    plain = followers[0].channel_by_name("alerts")  # a text channel, not an announcement channel
    muted = hub_guild.channel_by_name("major-en")
    updated = asyncio.create_task(bot.wait_for("guild_channel_update", check=lambda _b, a: a.id == muted, timeout=SAFETY_TIMEOUT))
    fake.set_bot_permissions(hub_guild.id, VIEW_CHANNEL, channel_id=muted)
    await updated
    problems = await check_hubs(bot, [*hubs, plain, 999999999999999999])
    assert len(problems) == 3
    assert f"{muted} (#major-en): the bot lacks send_messages, embed_links" in problems[0]
    assert f"{plain} is not an announcement channel" in problems[1]
    assert "999999999999999999 cannot be read by the bot" in problems[2]


async def test_when_discord_itself_refuses_the_follow_the_answer_is_the_same(
    fake: FakeDiscord, followers: list[FakeGuild], bot: E2EBot
) -> None:
    guild = followers[1]
    alerts, direct = guild.channel_by_name("alerts"), guild.channel_by_name("direct")
    # Manage Webhooks taken away without the bot hearing of it: its cache still says yes
    guild.roles[guild.bot_role_id]["permissions"] = str(DEFAULT_BOT_PERMISSIONS)
    inter = await fake.invoke_command(
        guild.id, direct, "subscribe", {"service": "all", "delivery": "follow", "channel": alerts}, permissions=ADMIN
    )
    content = data_of(await reply_of(inter))["content"]
    assert "Manage Webhooks" in content and f"<#{alerts}>" in content
    refused = [r for r in fake.requests if r.key == "POST /channels/{channel_id}/followers"]
    assert [r.status for r in refused] == [403]  # Discord was asked, and said no
    assert fake.webhooks == {} and await Subscription.filter(guild_id=guild.id).count() == 0


async def test_a_hub_another_process_is_writing_to_waits_its_turn_and_loses_nothing(
    fake: FakeDiscord, hub_guild: FakeGuild, bot: E2EBot, db: Any
) -> None:
    """Several ``run`` processes (issue 19): a hub's publish budget and a grouped alert are
    read and written by one delivery at a time across processes, through a short lease per
    channel. While another process holds the hub's turn, nothing is posted there and no
    attempt is used; once it lets go, the alert goes out once."""
    if not db.is_postgres:
        pytest.skip("SQLite serves a single process: a channel's turn is always ours there")
    hub = hub_guild.channel_by_name("alerts-en")
    leases = DatabaseLeases()
    assert await leases.claim(f"channel:{hub}", "another-process", 60)
    w = worker(bot, owner="this-process")
    await persist(ALERT)
    await w.run_once(NOW)
    waiting = await Delivery.filter(subscription__channel_id=hub).first()
    assert waiting is not None and (waiting.state, waiting.attempts) == ("pending", 0)
    assert waiting.last_error == "another process is writing to this channel"
    assert fake.messages(hub) == []
    await leases.release(f"channel:{hub}", "another-process")
    later = NOW + timedelta(seconds=2)
    while await w.run_once(later):
        pass
    assert len(fake.messages(hub)) == 1 and publishes(fake, hub) == [200]
    assert await leases.holder(f"channel:{hub}") is None  # our turn ended with the delivery
