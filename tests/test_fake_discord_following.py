"""The fake's Channel Following, driven by the real discord.py (``TextChannel.follow``,
``Message.publish``, edits, deletes, webhooks): it answers as Discord documents
(tests/fake_discord/following.py names the sources)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from tests.fake_discord import (
    CHANNEL_ANNOUNCEMENT,
    DEFAULT_BOT_PERMISSIONS,
    FLAG_CROSSPOSTED,
    FLAG_IS_CROSSPOST,
    FLAG_SOURCE_MESSAGE_DELETED,
    MANAGE_WEBHOOKS,
    MSG_CHANNEL_FOLLOW_ADD,
    FakeDiscord,
    FakeGuild,
    discord_py_on_fake,
    rest_client,
)


class Clock:
    """The fake's clock, moved by hand: the hourly limits are tested without waiting an hour."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeDiscord]:
    async with discord_py_on_fake(clock=clock) as f:
        yield f


@pytest.fixture
def hub_guild(fake: FakeDiscord) -> FakeGuild:
    guild = fake.add_guild("Outage Hub", channels=())
    fake.add_channel(guild.id, "alerts-ar", type_=CHANNEL_ANNOUNCEMENT)
    fake.add_channel(guild.id, "chat")
    return guild


@pytest.fixture
def followers(fake: FakeDiscord) -> list[FakeGuild]:
    return [fake.add_guild(f"Follower {i}", channels=("news",), bot_permissions=DEFAULT_BOT_PERMISSIONS | MANAGE_WEBHOOKS)
            for i in range(3)]


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    # discord.py raises instead of sleeping through a long limit (the bot sets the same)
    async with rest_client(fake, max_ratelimit_timeout=30.0) as c:
        yield c


async def follow(client: discord.Client, hub: int, target: int) -> discord.Webhook:
    source = await client.fetch_channel(hub)
    destination = await client.fetch_channel(target)
    assert isinstance(source, discord.TextChannel) and isinstance(destination, discord.TextChannel)
    return await source.follow(destination=destination)


async def test_following_creates_a_follower_webhook_and_says_so_in_the_target(
    fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild], client: discord.Client
) -> None:
    hub, news = hub_guild.channel_by_name("alerts-ar"), followers[0].channel_by_name("news")
    webhook = await follow(client, hub, news)
    assert fake.followers(hub) == [news]
    stored = fake.webhooks[webhook.id]
    assert stored["type"] == 2 and stored["source_channel"] == {"id": str(hub), "name": "alerts-ar"}
    assert stored["source_guild"]["name"] == "Outage Hub" and stored["channel_id"] == str(news)
    [notice] = fake.messages(news)
    assert notice["type"] == MSG_CHANNEL_FOLLOW_ADD
    assert notice["message_reference"] == {"type": 0, "channel_id": str(hub), "guild_id": str(hub_guild.id)}
    assert [r.body for r in fake.requests if r.key == "POST /channels/{channel_id}/followers"] == [
        {"webhook_channel_id": str(news)}
    ]


async def test_following_needs_manage_webhooks_in_the_target_and_an_announcement_source(
    fake: FakeDiscord, hub_guild: FakeGuild, client: discord.Client
) -> None:
    plain = fake.add_guild("Plain", channels=("news",))  # the bot without Manage Webhooks
    with pytest.raises(discord.Forbidden) as refused:
        await follow(client, hub_guild.channel_by_name("alerts-ar"), plain.channel_by_name("news"))
    assert refused.value.code == 50013
    fake.set_bot_permissions(plain.id, DEFAULT_BOT_PERMISSIONS | MANAGE_WEBHOOKS)
    with pytest.raises(discord.HTTPException) as wrong:  # chat is not an announcement channel
        await client.http.follow_webhook(hub_guild.channel_by_name("chat"), plain.channel_by_name("news"))
    assert wrong.value.code == 50024
    assert fake.webhooks == {}


async def test_a_publish_reaches_every_follower_once_pinging_nobody(
    fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild], client: discord.Client
) -> None:
    hub = hub_guild.channel_by_name("alerts-ar")
    for guild in followers:
        await follow(client, hub, guild.channel_by_name("news"))
    channel = await client.fetch_channel(hub)
    assert isinstance(channel, discord.TextChannel)
    role = hub_guild.bot_role_id
    sent = await channel.send(f"<@&{role}>", embed=discord.Embed(title="X is down"),
                              allowed_mentions=discord.AllowedMentions(roles=True))
    await sent.publish()
    assert fake.message(sent.id)["flags"] & FLAG_CROSSPOSTED
    for guild in followers:
        notice, copy = fake.messages(guild.channel_by_name("news"))
        assert copy["embeds"][0]["title"] == "X is down" and copy["content"] == f"<@&{role}>"
        assert copy["flags"] & FLAG_IS_CROSSPOST and copy["webhook_id"]
        assert copy["message_reference"]["message_id"] == str(sent.id)
        assert copy["mention_roles"] == [] and not copy["mention_everyone"]
    with pytest.raises(discord.HTTPException) as again:
        await sent.publish()
    assert again.value.code == 40033
    assert len(fake.copies_of(sent.id)) == 3


async def test_the_eleventh_publish_in_an_hour_is_a_shared_429_that_costs_nothing(
    fake: FakeDiscord, hub_guild: FakeGuild, client: discord.Client, clock: Clock
) -> None:
    channel = await client.fetch_channel(hub_guild.channel_by_name("alerts-ar"))
    assert isinstance(channel, discord.TextChannel)
    for i in range(10):
        await (await channel.send(f"alert {i}")).publish()
        clock.now += 60
    eleventh = await channel.send("alert 10")
    with pytest.raises(discord.RateLimited) as limited:
        await eleventh.publish()
    assert limited.value.retry_after == pytest.approx(3600 - 600, abs=1)
    refused = [r for r in fake.requests if r.status == 429]
    assert len(refused) == 1 and fake.stats["429_publish"] == 1
    assert fake.stats["invalid_requests"] == 0  # shared scope: not counted towards the ban
    clock.now += limited.value.retry_after
    await eleventh.publish()
    assert fake.message(eleventh.id)["flags"] & FLAG_CROSSPOSTED


async def test_edits_reach_the_copies_until_the_edit_limit_and_a_deletion_is_flagged(
    fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild], client: discord.Client, clock: Clock
) -> None:
    hub = hub_guild.channel_by_name("alerts-ar")
    news = followers[0].channel_by_name("news")
    await follow(client, hub, news)
    channel = await client.fetch_channel(hub)
    assert isinstance(channel, discord.TextChannel)
    unpublished = await channel.send("draft")
    for i in range(5):  # an unpublished message is edited freely
        await unpublished.edit(content=f"draft {i}")
    sent = await channel.send(embed=discord.Embed(title="X is down"))
    await sent.publish()
    [copy] = fake.copies_of(sent.id)
    for i in range(3):
        await sent.edit(embed=discord.Embed(title=f"X is down (update {i})"))
    assert fake.message(int(copy["id"]))["embeds"][0]["title"] == "X is down (update 2)"
    with pytest.raises(discord.HTTPException) as limited:
        await sent.edit(embed=discord.Embed(title="X is back"))
    assert limited.value.code == 20022
    assert fake.message(int(copy["id"]))["embeds"][0]["title"] == "X is down (update 2)"
    clock.now += 3600
    await sent.edit(embed=discord.Embed(title="X is back"))
    assert fake.message(int(copy["id"]))["embeds"][0]["title"] == "X is back"

    await sent.delete()
    assert fake.message(int(copy["id"]))["flags"] & FLAG_SOURCE_MESSAGE_DELETED
    assert int(copy["id"]) in [int(m["id"]) for m in fake.messages(news)]  # the copy stays


async def test_deleting_the_follower_webhook_ends_the_follow(
    fake: FakeDiscord, hub_guild: FakeGuild, followers: list[FakeGuild], client: discord.Client
) -> None:
    hub = hub_guild.channel_by_name("alerts-ar")
    news = followers[0].channel_by_name("news")
    webhook = await follow(client, hub, news)
    fetched = await client.fetch_webhook(webhook.id)
    assert fetched.type is discord.WebhookType.channel_follower and fetched.source_channel is not None
    await fetched.delete()
    assert fake.followers(hub) == []
    with pytest.raises(discord.NotFound) as gone:
        await fetched.delete()
    assert gone.value.code == 10015
    channel = await client.fetch_channel(hub)
    assert isinstance(channel, discord.TextChannel)
    await (await channel.send("after")).publish()
    assert [m["type"] for m in fake.messages(news)] == [MSG_CHANNEL_FOLLOW_ADD]
