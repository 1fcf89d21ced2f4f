"""The loopback fake Discord, proven with the real discord.py client (no mocks of discord.py).

Also covers ``bot/discord_api.py``: every client here reaches the fake only because
``configure_api_base`` and ``adopt_gateway_url`` pointed discord.py at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.discord.api_base import (
    adopt_gateway_url,
    configure_api_base,
    reset_discord_endpoints,
)
from tests.fake_discord import (
    ADMINISTRATOR,
    DEFAULT_BOT_PERMISSIONS,
    MANAGE_GUILD,
    MENTION_EVERYONE,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeDiscord,
    FakeGuild,
)

SAFETY_TIMEOUT = 5.0  # a safety net against hangs, never a timing assertion


def no_privileged_intents() -> discord.Intents:
    intents = discord.Intents.default()
    intents.members = False
    intents.presences = False
    intents.message_content = False
    return intents


class ProbeClient(discord.AutoShardedClient):
    """The smallest real client: a command tree and events the tests can await."""

    def __init__(self, intents: discord.Intents | None = None, **shards: Any) -> None:
        # guild_ready_timeout: how long discord.py waits for more GUILD_CREATEs before on_ready
        super().__init__(intents=intents or no_privileged_intents(), guild_ready_timeout=0.05, **shards)
        self.tree = app_commands.CommandTree(self)
        self.ready = asyncio.Event()
        self.resumed = asyncio.Event()
        self.gateway: Any = None

    async def setup_hook(self) -> None:
        self.gateway = await adopt_gateway_url(self.http)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before a re-IDENTIFY (Discord's identify rate limit); the fake has none."""

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_resumed(self) -> None:
        self.resumed.set()


@contextlib.asynccontextmanager
async def running(client: ProbeClient, token: str) -> AsyncIterator[ProbeClient]:
    """Start the client, wait for on_ready (or its failure), and always close it."""
    task = asyncio.create_task(client.start(token))
    ready = asyncio.create_task(client.ready.wait())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=SAFETY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises what start() raised
            raise AssertionError("client stopped before it was ready")
        assert ready in done, "client never became ready"
        yield client
    finally:
        ready.cancel()
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, SAFETY_TIMEOUT)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    saved_base, saved_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as f:
        f.add_guild("Outage Watchers", channels=("alerts", "general"))
        configure_api_base(f.api_base)
        try:
            yield f
        finally:
            reset_discord_endpoints()
    assert (saved_base, str(saved_gateway)) == (Route.BASE, str(DiscordWebSocket.DEFAULT_GATEWAY))


@pytest.fixture
def guild(fake: FakeDiscord) -> FakeGuild:
    return next(iter(fake.guilds.values()))


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[ProbeClient]:
    async with running(ProbeClient(), fake.token) as c:
        yield c


# ---------------------------------------------------------------- glue


def test_configure_api_base_rejects_relative_urls() -> None:
    with pytest.raises(ValueError):
        configure_api_base("/api/v10")


def test_configure_api_base_covers_rest_and_interaction_webhooks(fake: FakeDiscord) -> None:
    from discord.webhook import async_ as webhook_async

    assert Route("GET", "/users/@me").url == f"{fake.api_base}/users/@me"
    # the interaction adapter builds its routes from the same Route class
    assert webhook_async.Route is Route
    assert Route("POST", "/interactions/{webhook_id}/{webhook_token}/callback", webhook_id=1, webhook_token="t").url \
        .startswith(fake.api_base)


# ---------------------------------------------------------------- login and gateway


async def test_client_logs_in_through_gateway_bot_and_sees_the_guild(
    fake: FakeDiscord, guild: FakeGuild, client: ProbeClient
) -> None:
    assert str(client.gateway) == fake.gateway_url
    assert [r.key for r in fake.requests[:3]] == [
        "GET /users/@me", "GET /oauth2/applications/@me", "GET /gateway/bot"]
    assert fake.gateway_connections == [("/gateway", {"v": "10", "encoding": "json", "compress": "zlib-stream"})]
    identify = fake.gateway_ops(2)
    assert len(identify) == 1 and identify[0].data["shard"] == [0, 1]
    assert identify[0].data["intents"] == no_privileged_intents().value
    assert client.user is not None and client.user.id == fake.application_id
    assert client.application_id == fake.application_id
    g = client.get_guild(guild.id)
    assert g is not None and sorted(c.name for c in g.text_channels) == ["alerts", "general"]
    alerts = g.get_channel(guild.channel_by_name("alerts"))
    assert isinstance(alerts, discord.TextChannel)
    assert g.me is not None
    perms = alerts.permissions_for(g.me)
    assert perms.send_messages and perms.embed_links and not perms.mention_everyone


async def test_two_processes_splitting_the_shards_each_get_their_own_ready_and_guilds(fake: FakeDiscord) -> None:
    """Several processes behind one token (SHARD_IDS): each session sees its own READY only
    (another shard's READY would restart discord.py's wait for its guilds: never ready), and a
    guild's events reach the session of its shard alone ((id >> 22) % shard count)."""
    gid = fake.snowflake()
    while (gid >> 22) % 2 != 1:
        gid = fake.snowflake() + (1 << 22)
    fake.add_guild("On shard one", channels=("alerts",), guild_id=gid)
    async with running(ProbeClient(shard_count=2, shard_ids=[0]), fake.token) as zero, \
            running(ProbeClient(shard_count=2, shard_ids=[1]), fake.token) as one:
        assert zero.is_ready() and one.is_ready()
        assert zero.get_guild(gid) is None and one.get_guild(gid) is not None
        assert sorted(s.shard for s in fake._sessions.values() if s.conn is not None) == [(0, 2), (1, 2)]
        assert await fake.dispatch("TYPING_START", {"guild_id": str(gid)}, gid) == 1
        assert await fake.dispatch("GUILD_ROLE_UPDATE", {"guild_id": "0"}, None) == 2  # no guild: every session


async def test_heartbeats_are_acknowledged(fake: FakeDiscord, client: ProbeClient) -> None:
    # discord.py heartbeats right after HELLO; an ACK sets a finite latency
    await fake.wait_for(lambda: len(fake.gateway_ops(1)) >= 1)
    await eventually(lambda: client.latency != float("inf"))
    assert 0 <= client.latency < SAFETY_TIMEOUT


async def test_privileged_intents_are_refused_like_discord(fake: FakeDiscord) -> None:
    intents = no_privileged_intents()
    intents.members = True
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with running(ProbeClient(intents), fake.token):
            pass


async def eventually(predicate: Any) -> None:
    """Yield to the loop until ``predicate()`` holds (state arriving over the gateway)."""
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), SAFETY_TIMEOUT)


async def test_resume_replays_and_delivers_later_events(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    [session_id] = list(fake._sessions)
    await fake.reconnect_gateway(resume=True)
    await asyncio.wait_for(client.resumed.wait(), SAFETY_TIMEOUT)
    [resume] = fake.gateway_ops(6)
    assert resume.data["session_id"] == session_id
    assert len(fake.gateway_ops(2)) == 1  # resumed, not re-identified
    assert fake.gateway_connections[-1][0] == "/gateway-resume"  # READY's resume_gateway_url
    created = client.wait_for("guild_channel_create", timeout=SAFETY_TIMEOUT)
    cid = fake.add_channel(guild.id, "after-resume")
    channel = await created
    assert channel.id == cid and channel.name == "after-resume"


async def test_invalid_session_makes_the_client_identify_again(
    fake: FakeDiscord, guild: FakeGuild, client: ProbeClient
) -> None:
    await fake.reconnect_gateway(resume=False)
    await fake.wait_for(lambda: len(fake.gateway_ops(2)) == 2 and fake.connected)
    assert client.get_guild(guild.id) is not None


# ---------------------------------------------------------------- messages


async def test_send_message_is_recorded(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    cid = guild.channel_by_name("alerts")
    channel = client.get_channel(cid)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("GitHub is down", embed=discord.Embed(title="GitHub", description="major outage"))
    [stored] = fake.messages(cid)
    assert stored["id"] == str(sent.id) and stored["content"] == "GitHub is down"
    assert stored["embeds"][0]["title"] == "GitHub"
    assert sent.author.id == fake.application_id and sent.embeds[0].description == "major outage"
    edited = await sent.edit(content="GitHub is back")
    assert edited.content == "GitHub is back" and fake.message(sent.id)["edited_timestamp"] is not None
    assert [e["content"] for e in fake.edit_history(sent.id)] == ["GitHub is back"]
    reply = await channel.send("recovered after 42 min", reference=sent)
    assert fake.message(reply.id)["type"] == 19
    assert fake.message(reply.id)["message_reference"]["message_id"] == str(sent.id)


async def test_attachments_are_uploaded_kept_replaced_and_capped_as_discord_does(
    fake: FakeDiscord, guild: FakeGuild, client: ProbeClient
) -> None:
    import io

    from tests.fake_discord.attachments import UPLOAD_LIMIT

    cid = guild.channel_by_name("alerts")
    channel = client.get_channel(cid)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("chart", files=[discord.File(io.BytesIO(b"\x89PNG one"), filename="chart-en.png")])
    [attachment] = fake.message(sent.id)["attachments"]
    assert attachment["filename"] == "chart-en.png" and attachment["size"] == len(b"\x89PNG one") and attachment["content_type"] == "image/png"
    assert fake.attachment_data[int(attachment["id"])] == b"\x89PNG one"
    assert sent.attachments[0].filename == "chart-en.png"  # discord.py reads the attachment object

    edited = await sent.edit(content="no word on files")  # an edit without attachments keeps them
    assert [a["id"] for a in fake.message(sent.id)["attachments"]] == [attachment["id"]]
    await edited.edit(attachments=[discord.File(io.BytesIO(b"\x89PNG two"), filename="chart-en.png")])
    [replaced] = fake.message(sent.id)["attachments"]  # the new list is the whole list
    assert replaced["id"] != attachment["id"] and fake.attachment_data[int(replaced["id"])] == b"\x89PNG two"

    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(files=[discord.File(io.BytesIO(b"x" * (UPLOAD_LIMIT + 1)), filename="big.png")])
    assert caught.value.status == 413 and caught.value.code == 40005


async def test_same_nonce_twice_creates_one_message(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    cid = guild.channel_by_name("alerts")
    channel = client.get_channel(cid)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("alert", nonce="dlv-42")
    second = await channel.send("alert", nonce="dlv-42")
    third = await channel.send("alert", nonce="dlv-43")
    assert first.id == second.id != third.id
    assert [m["nonce"] for m in fake.messages(cid)] == ["dlv-42", "dlv-43"]
    assert fake.stats["nonce_deduplicated"] == 1


async def test_nonce_longer_than_25_is_a_form_error(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    channel = client.get_channel(guild.channel_by_name("alerts"))
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as err:
        await channel.send("x", nonce="n" * 26)
    assert err.value.status == 400 and err.value.code == 50035


async def test_queued_429_is_retried_by_discord_py(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    cid = guild.channel_by_name("alerts")
    fake.inject_429("POST /channels/{channel_id}/messages", retry_after=0.01)
    channel = client.get_channel(cid)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("after a 429")
    statuses = [r.status for r in fake.requests if r.key == "POST /channels/{channel_id}/messages"]
    assert statuses == [429, 200]
    assert [m["content"] for m in fake.messages(cid)] == ["after a 429"]


async def test_429_without_via_is_a_cloudflare_ban_to_discord_py(
    fake: FakeDiscord, guild: FakeGuild, client: ProbeClient
) -> None:
    cid = guild.channel_by_name("alerts")
    fake.inject_429(f"POST /channels/{cid}/messages", retry_after=0.01, via=False)
    channel = client.get_channel(cid)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as err:
        await channel.send("banned")
    assert err.value.status == 429 and fake.messages(cid) == []


async def test_errors_surface_as_discord_exceptions(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    alerts, general = guild.channel_by_name("alerts"), guild.channel_by_name("general")
    fake.inject_error(f"POST /channels/{general}/messages", "missing_access")
    general_ch = client.get_channel(general)
    alerts_ch = client.get_channel(alerts)
    assert isinstance(general_ch, discord.TextChannel) and isinstance(alerts_ch, discord.TextChannel)
    with pytest.raises(discord.Forbidden) as forbidden:
        await general_ch.send("x")
    assert forbidden.value.code == 50001
    fake.delete_channel(alerts)
    with pytest.raises(discord.NotFound) as missing:
        await alerts_ch.send("x")
    assert missing.value.code == 10003 and missing.value.text == "Unknown Channel"
    assert fake.stats["invalid_requests"] == 1  # 403 counts toward Discord's ban budget, 404 does not


async def test_bot_permissions_are_enforced_and_pushed_to_the_client(
    fake: FakeDiscord, guild: FakeGuild, client: ProbeClient
) -> None:
    cid = guild.channel_by_name("alerts")
    updated = client.wait_for("guild_channel_update", timeout=SAFETY_TIMEOUT)
    fake.set_bot_permissions(guild.id, VIEW_CHANNEL, channel_id=cid)
    _before, channel = await updated  # CHANNEL_UPDATE arrived over the gateway
    assert isinstance(channel, discord.TextChannel)
    g = client.get_guild(guild.id)
    assert g is not None and g.me is not None
    assert channel.permissions_for(g.me).view_channel and not channel.permissions_for(g.me).send_messages
    with pytest.raises(discord.Forbidden) as err:
        await channel.send("x")
    assert err.value.code == 50013


async def test_mentions_follow_allowed_mentions(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    fake.set_bot_permissions(guild.id, DEFAULT_BOT_PERMISSIONS | MENTION_EVERYONE)
    cid = guild.channel_by_name("alerts")
    channel = client.get_channel(cid)
    assert isinstance(channel, discord.TextChannel)
    role = str(guild.bot_role_id)
    quiet = await channel.send(f"@everyone <@&{role}> <@123>", allowed_mentions=discord.AllowedMentions.none())
    loud = await channel.send(f"@everyone <@&{role}>")
    assert fake.message(quiet.id)["mention_everyone"] is False
    assert fake.message(quiet.id)["mention_roles"] == [] and fake.message(quiet.id)["mentions"] == []
    only_role = await channel.send(
        f"@here <@&{role}>",
        allowed_mentions=discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(int(role))]))
    assert fake.message(only_role.id)["mention_roles"] == [role] and not fake.message(only_role.id)["mention_everyone"]
    assert fake.message(loud.id)["mention_everyone"] is True


async def test_embed_limits_are_enforced(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    channel = client.get_channel(guild.channel_by_name("alerts"))
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as err:
        await channel.send(embed=discord.Embed(description="x" * 4097))
    assert err.value.code == 50035 and "4096" in err.value.text


async def test_rate_limiter_headers_let_discord_py_pace_itself(
    fake: FakeDiscord, guild: FakeGuild, client: ProbeClient
) -> None:
    fake.set_rate_limits(channel_limit=2, channel_window=0.15)
    cid = guild.channel_by_name("alerts")
    channel = client.get_channel(cid)
    assert isinstance(channel, discord.TextChannel)
    for i in range(5):
        await channel.send(f"m{i}")
    assert [m["content"] for m in fake.messages(cid)] == [f"m{i}" for i in range(5)]
    ok = [r for r in fake.requests if r.key == "POST /channels/{channel_id}/messages" and r.status == 200]
    assert len(ok) == 5


async def test_global_rate_limit_answers_global_429s(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    fake.set_rate_limits(global_limit=3, global_window=0.1)
    cid = guild.channel_by_name("alerts")
    channel = client.get_channel(cid)
    assert isinstance(channel, discord.TextChannel)
    await asyncio.gather(*(channel.send(f"g{i}", nonce=f"g{i}") for i in range(8)))
    assert sorted(m["content"] for m in fake.messages(cid)) == sorted(f"g{i}" for i in range(8))
    assert fake.stats["429_global"] >= 1


# ---------------------------------------------------------------- application commands


SERVICES = ["github", "discord", "جيت هب", "x"]


def add_isitdown(client: ProbeClient, guild_id: int, answers: list[str]) -> None:
    @client.tree.command(name="isitdown", description="Is a service down? هل الخدمة متوقفة؟",
                         guild=discord.Object(guild_id))
    @app_commands.describe(service="service name / اسم الخدمة")
    async def isitdown(interaction: discord.Interaction, service: str) -> None:
        answers.append(service)
        await interaction.response.send_message(f"{service}: operational ({interaction.locale.value})")

    @isitdown.autocomplete("service")
    async def complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=s, value=s) for s in SERVICES if current in s][:25]

    @client.tree.command(name="status", description="Deferred, then edited", guild=discord.Object(guild_id))
    @app_commands.default_permissions(manage_guild=True)
    async def status(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        allowed = interaction.permissions.manage_guild
        await interaction.edit_original_response(content=f"all systems checked (manage_guild={allowed})")
        await interaction.followup.send("follow-up", ephemeral=True)

    @client.tree.command(name="late", description="Deferred privately, then a public follow-up", guild=discord.Object(guild_id))
    async def late(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("for everyone?", ephemeral=False)


async def test_the_first_follow_up_after_a_defer_replaces_it_and_keeps_its_visibility(
    fake: FakeDiscord, guild: FakeGuild, client: ProbeClient
) -> None:
    """Discord's documented rule: while the "thinking…" message of a deferred response is still
    loading, the first follow-up replaces it — keeping the defer's visibility, whatever the
    follow-up asks. (A private defer cannot be turned public by a follow-up.)"""
    add_isitdown(client, guild.id, [])
    await client.tree.sync(guild=discord.Object(guild.id))
    cid = guild.channel_by_name("general")
    inter = await fake.invoke_command(guild.id, cid, "late")
    final = await inter.wait_original(SAFETY_TIMEOUT)
    assert final["content"] == "for everyone?" and final["flags"] & 64  # still ephemeral
    assert inter.followups == [] and fake.stats["followup_replaced_defer"] == 1
    assert fake.messages(cid, include_interaction_responses=True) == []


async def test_command_sync_autocomplete_and_invoke(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    answers: list[str] = []
    add_isitdown(client, guild.id, answers)
    synced = await client.tree.sync(guild=discord.Object(guild.id))
    assert {c.name for c in synced} == {"isitdown", "status", "late"}
    stored = fake.command("isitdown", guild.id)
    [option] = stored["options"]
    assert (option["name"], option["type"], option["required"], option["autocomplete"]) == ("service", 3, True, True)
    assert fake.command("status", guild.id)["default_member_permissions"] == str(MANAGE_GUILD)

    cid = guild.channel_by_name("general")
    auto = await fake.autocomplete(guild.id, cid, "isitdown", {"service": "جيت"}, focused="service")
    reply = await auto.wait_response(SAFETY_TIMEOUT)
    assert reply["type"] == 8 and auto.choices == [{"name": "جيت هب", "value": "جيت هب"}]

    inter = await fake.invoke_command(guild.id, cid, "isitdown", {"service": "github"}, locale="de")
    callback = await inter.wait_response(SAFETY_TIMEOUT)
    assert callback["type"] == 4 and callback["data"]["content"] == "github: operational (de)"
    assert answers == ["github"]
    original = await inter.wait_original(SAFETY_TIMEOUT)
    assert original["content"] == "github: operational (de)" and original["type"] == 20
    assert fake.messages(cid) == []  # interaction answers are kept apart from bot posts…
    assert fake.messages(cid, include_interaction_responses=True) == [original]  # …unless asked
    assert inter.response_delay is not None and inter.response_delay < fake.interaction_window


async def test_deferred_command_edits_original_and_follows_up(
    fake: FakeDiscord, guild: FakeGuild, client: ProbeClient
) -> None:
    add_isitdown(client, guild.id, [])
    await client.tree.sync(guild=discord.Object(guild.id))
    cid = guild.channel_by_name("general")
    with pytest.raises(PermissionError):  # Discord hides the command from a plain member
        await fake.invoke_command(guild.id, cid, "status")
    inter = await fake.invoke_command(guild.id, cid, "status", permissions=ADMINISTRATOR)
    assert (await inter.wait_response(SAFETY_TIMEOUT)) == {"type": 5, "data": {"flags": 64}}
    final = await inter.wait_original(SAFETY_TIMEOUT)
    assert final["content"] == "all systems checked (manage_guild=True)" and final["flags"] & 64
    [follow] = await inter.wait_followups(1, SAFETY_TIMEOUT)
    assert follow["content"] == "follow-up" and follow["flags"] & 64
    assert fake.messages(cid, include_interaction_responses=True) == []  # ephemeral: never in the channel
    bypass = await fake.invoke_command(guild.id, cid, "status", permissions=SEND_MESSAGES | VIEW_CHANNEL,
                                       ignore_default_permissions=True)
    assert (await bypass.wait_original(SAFETY_TIMEOUT))["content"].endswith("(manage_guild=False)")


async def test_button_click_reaches_the_view(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    clicked: list[int] = []

    class DownForMe(discord.ui.View):
        @discord.ui.button(label="down for me too", custom_id="down:github")
        async def down(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
            clicked.append(interaction.user.id)
            await interaction.response.send_message("noted", ephemeral=True)

    cid = guild.channel_by_name("alerts")
    channel = client.get_channel(cid)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("GitHub may be down", view=DownForMe(timeout=None))
    user = fake.add_user("reporter")
    inter = await fake.click(sent.id, "down:github", user_id=user)
    callback = await inter.wait_response(SAFETY_TIMEOUT)
    assert callback["type"] == 4 and callback["data"]["content"] == "noted"
    assert clicked == [user]


async def test_second_acknowledgement_is_refused(fake: FakeDiscord, guild: FakeGuild, client: ProbeClient) -> None:
    @client.tree.command(name="ping", description="answers once", guild=discord.Object(guild.id))
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    await client.tree.sync(guild=discord.Object(guild.id))
    inter = await fake.invoke_command(guild.id, guild.channel_by_name("general"), "ping")
    await inter.wait_response(SAFETY_TIMEOUT)
    url = f"{fake.api_base}/interactions/{inter.id}/{inter.token}/callback"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
            assert resp.status == 400 and resp.headers["Content-Type"] == "application/json"
            assert (await resp.json())["code"] == 40060
        async with session.post(f"{fake.api_base}/interactions/1/nope/callback", json={"type": 1}) as resp:
            assert resp.status == 404 and (await resp.json())["code"] == 10062


# ---------------------------------------------------------------- clean shutdown


async def test_client_closes_cleanly(fake: FakeDiscord, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with running(ProbeClient(), fake.token) as c:
        channel = c.get_channel(next(iter(fake.guilds.values())).channel_by_name("alerts"))
        assert isinstance(channel, discord.TextChannel)
        await channel.send("bye")
    assert c.is_closed()
    await asyncio.sleep(0)  # let cancelled tasks finish unwinding
    gc.collect()
    pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()
               and "discord" in repr(t.get_coro())]
    assert pending == []
    assert not [r for r in caplog.records if "Unclosed" in r.getMessage()]
    await fake.wait_for(lambda: not fake.connected)


async def test_5xx_is_retried_by_discord_py_and_a_drop_is_an_aiohttp_error(
    fake: FakeDiscord, guild: FakeGuild, client: ProbeClient
) -> None:
    cid = guild.channel_by_name("alerts")
    channel = client.get_channel(cid)
    assert isinstance(channel, discord.TextChannel)
    # Cloudflare-style 502 with an HTML body: discord.py sleeps 1 s and retries on its own
    fake.inject(f"POST /channels/{cid}/messages", 502, "<html>502 Bad Gateway</html>")
    await channel.send("after a 502")
    assert [r.status for r in fake.requests if r.path == f"/channels/{cid}/messages"] == [502, 200]
    fake.inject(f"POST /channels/{cid}/messages", 0)  # connection dropped without an answer
    with pytest.raises(aiohttp.ClientError):
        await channel.send("lost")
    assert [m["content"] for m in fake.messages(cid)] == ["after a 502"]


async def test_too_many_invalid_requests_get_the_bot_banned(
    fake: FakeDiscord, guild: FakeGuild, client: ProbeClient
) -> None:
    fake.set_rate_limits(invalid_limit=2)
    general = guild.channel_by_name("general")
    channel = client.get_channel(general)
    assert isinstance(channel, discord.TextChannel)
    fake.inject_error(f"POST /channels/{general}/messages", "missing_access", times=2)
    for _ in range(2):
        with pytest.raises(discord.Forbidden):
            await channel.send("x")
    with pytest.raises(discord.HTTPException) as err:  # banned: a 429 without Via is not retried
        await channel.send("x")
    assert err.value.status == 429 and fake.stats["banned"] == 1 and fake.messages(general) == []


async def test_channel_role_and_choice_options_resolve_in_discord_py(
    fake: FakeDiscord, guild: FakeGuild, client: ProbeClient
) -> None:
    seen: list[tuple[str, int, int, str]] = []

    @client.tree.command(name="subscribe", description="Follow a service", guild=discord.Object(guild.id))
    @app_commands.choices(language=[app_commands.Choice(name=n, value=n) for n in ("ar", "en", "both")])
    async def subscribe(interaction: discord.Interaction, service: str, channel: discord.TextChannel,
                        language: app_commands.Choice[str], role: discord.Role) -> None:
        seen.append((service, channel.id, role.id, language.value))
        await interaction.response.send_message("ok", ephemeral=True)

    await client.tree.sync(guild=discord.Object(guild.id))
    assert [o["type"] for o in fake.command("subscribe", guild.id)["options"]] == [3, 7, 3, 8]
    alerts = guild.channel_by_name("alerts")
    inter = await fake.invoke_command(
        guild.id, guild.channel_by_name("general"), "subscribe",
        {"service": "github", "channel": alerts, "language": "ar", "role": guild.bot_role_id})
    assert (await inter.wait_response(SAFETY_TIMEOUT))["data"]["flags"] == 64
    assert seen == [("github", alerts, guild.bot_role_id, "ar")]
