"""``/report`` and the "down for me too" button end to end: the real discord.py client, the
reports cog loaded as an extension, the loopback fake Discord and a real database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.catalog import load_catalog
from bot.services.crowd import CrowdService
from bot.db.models import CrowdBucket, CrowdReport, GuildSettings
from bot.discord.api_base import adopt_gateway_url
from bot.i18n import translations
from bot.discord.tree import OutageTree
from tests.conftest import TestDB
from tests.fake_discord import discord_py_on_fake, FakeDiscord, FakeGuild

SAFETY_TIMEOUT = 5.0  # a safety net against hangs, never a timing assertion
EPHEMERAL = 64
OLD_ACCOUNT = datetime(2020, 1, 1, tzinfo=timezone.utc)


def snowflake(created: datetime, low: int) -> int:
    return ((int(created.timestamp() * 1000) - 1420070400000) << 22) | low


class RecordingMonitor:
    """Stands in for ``bot.runtime.monitor.Monitor``: remembers which services were re-fused."""

    def __init__(self) -> None:
        self.refreshed: list[str] = []
        self.called = asyncio.Event()

    async def refresh(self, service_id: str, now: datetime) -> list[Any]:
        self.refreshed.append(service_id)
        self.called.set()
        return []


class ReportsBot(commands.AutoShardedBot):
    """The smallest bot that loads the reports cog the way the app does (as an extension)."""

    def __init__(self, runtime: SimpleNamespace, guild_id: int) -> None:
        intents = discord.Intents.default()
        intents.members = intents.presences = intents.message_content = False
        super().__init__(
            command_prefix=commands.when_mentioned, intents=intents, guild_ready_timeout=0.05, tree_cls=OutageTree
        )
        self.runtime = runtime
        self.guild_id = guild_id
        self.ready = asyncio.Event()

    async def setup_hook(self) -> None:
        await adopt_gateway_url(self.http)
        await self.load_extension("bot.discord.cogs.reports")
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No identify rate limit in the fake."""

    async def on_ready(self) -> None:
        self.ready.set()


@contextlib.asynccontextmanager
async def running(bot: ReportsBot, token: str) -> AsyncIterator[ReportsBot]:
    task = asyncio.create_task(bot.start(token))
    ready = asyncio.create_task(bot.ready.wait())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=SAFETY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
            raise AssertionError("bot stopped before it was ready")
        assert ready in done, "bot never became ready"
        yield bot
    finally:
        ready.cancel()
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, SAFETY_TIMEOUT)


async def ephemeral_reply(inter: Any) -> dict[str, Any]:
    """The ephemeral answer to a click (before it, a click's original is the clicked message)."""
    return await inter.wait_original(timeout=SAFETY_TIMEOUT, predicate=lambda m: bool(m["flags"] & EPHEMERAL))


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with discord_py_on_fake(("Outage Watchers", ("general",))) as f:
        yield f
    assert Route.BASE == "https://discord.com/api/v10"
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


@pytest.fixture
def guild(fake: FakeDiscord) -> FakeGuild:
    return next(iter(fake.guilds.values()))


@pytest.fixture
def runtime() -> SimpleNamespace:
    return SimpleNamespace(
        crowd=CrowdService(load_catalog()), monitor=RecordingMonitor()
    )


@pytest.fixture
async def bot(db: TestDB, fake: FakeDiscord, guild: FakeGuild, runtime: SimpleNamespace) -> AsyncIterator[ReportsBot]:
    async with running(ReportsBot(runtime, guild.id), fake.token) as b:
        yield b


async def test_report_command_records_a_hashed_report_and_answers_ephemerally(
    fake: FakeDiscord, guild: FakeGuild, bot: ReportsBot, runtime: SimpleNamespace
) -> None:
    cid = guild.channel_by_name("general")
    uid = fake.add_user("reporter", snowflake(OLD_ACCOUNT, 1))
    inter = await fake.invoke_command(guild.id, cid, "report", {"service": "twitter", "problem": "login"}, user_id=uid)
    original = await inter.wait_original(timeout=SAFETY_TIMEOUT)
    assert original["flags"] & EPHEMERAL
    assert original["content"].startswith("Thanks! Your report about X (Twitter) was counted.\n1 report in the last 30 minutes")
    assert fake.messages(cid, include_interaction_responses=True) == []  # nobody else sees it

    [row] = await CrowdReport.all()
    assert (row.service_id, row.guild_id, row.problem, row.counted, row.weight) == ("x", guild.id, "login", True, 1.0)
    assert row.user_hash == runtime.crowd.user_hash(uid) and str(uid) not in row.user_hash
    assert (await CrowdBucket.get(service_id="x")).count == 1.0

    await asyncio.wait_for(runtime.monitor.called.wait(), SAFETY_TIMEOUT)
    assert runtime.monitor.refreshed == ["x"]

    again = await fake.invoke_command(guild.id, cid, "report", {"service": "x"}, user_id=uid)
    repeat = await again.wait_original(timeout=SAFETY_TIMEOUT)
    assert "already reported X (Twitter) in the last 30 minutes" in repeat["content"]
    assert "not counted again" in repeat["content"] and "\n1 report in the last 30 minutes" in repeat["content"]
    rows = await CrowdReport.all().order_by("id")
    assert [(r.counted, r.problem) for r in rows] == [(True, "login"), (False, "other")]
    assert runtime.monitor.refreshed == ["x"]  # a repeat changes no count


async def test_report_answers_in_the_guilds_language(fake: FakeDiscord, guild: FakeGuild, bot: ReportsBot) -> None:
    await GuildSettings.create(guild_id=guild.id, language="ar", digits="arab")
    cid = guild.channel_by_name("general")
    young = fake.add_user("new", snowflake(datetime.now(timezone.utc) - timedelta(hours=2), 2))
    inter = await fake.invoke_command(guild.id, cid, "report", {"service": "github", "problem": "website"}, user_id=young)
    content = (await inter.wait_original(timeout=SAFETY_TIMEOUT))["content"]
    t = translations("ar", digits="arab")
    assert content.startswith(t.orient(t.gettext("Thanks! Your report about {service} was counted.", service="غيت هاب")))
    assert "بلاغ واحد" in content and "٣٠" in content  # "one report in the last 30 minutes"
    assert not any(ch in content for ch in "0123456789")  # the guild chose Eastern Arabic digits
    assert (await CrowdReport.get()).weight == 0.5  # a day-old account weighs half


async def test_unknown_service_gets_a_clear_localized_error(fake: FakeDiscord, guild: FakeGuild, bot: ReportsBot) -> None:
    cid = guild.channel_by_name("general")
    inter = await fake.invoke_command(guild.id, cid, "report", {"service": "myspace"})
    original = await inter.wait_original(timeout=SAFETY_TIMEOUT)
    assert original["flags"] & EPHEMERAL
    assert original["content"] == "We don't know a service called myspace. Pick one from the suggestions."
    arabic = await fake.invoke_command(guild.id, cid, "report", {"service": "ماي سبيس"})
    text = (await arabic.wait_original(timeout=SAFETY_TIMEOUT))["content"]
    ar = translations("ar")
    assert text == ar.orient(ar.gettext("We don't know a service called {query}. Pick one from the suggestions.", query="ماي سبيس"))
    assert await CrowdReport.all().count() == 0


async def test_service_autocomplete_keeps_the_typed_script(fake: FakeDiscord, guild: FakeGuild, bot: ReportsBot) -> None:
    cid = guild.channel_by_name("general")
    inter = await fake.autocomplete(guild.id, cid, "report", {"service": "تويت"}, focused="service")
    await inter.wait_response(timeout=SAFETY_TIMEOUT)
    assert {"name": "تويتر (إكس)", "value": "تويتر"} in inter.choices
    latin = await fake.autocomplete(guild.id, cid, "report", {"service": "git"}, focused="service")
    await latin.wait_response(timeout=SAFETY_TIMEOUT)
    assert latin.choices[0]["value"] == "GitHub"
    command = fake.command("report", guild.id)
    problem = next(o for o in command["options"] if o["name"] == "problem")
    assert [c["value"] for c in problem["choices"]] == ["login", "app", "website", "messages", "posting", "connection", "other"]
    assert problem["choices"][0]["name"] == "Logging in · " + translations("ar").gettext("Logging in")


async def test_the_button_records_a_report_even_after_a_restart(
    db: TestDB, fake: FakeDiscord, guild: FakeGuild, runtime: SimpleNamespace
) -> None:
    from bot.discord.cogs.reports import report_view

    cid = guild.channel_by_name("general")
    first, second = snowflake(OLD_ACCOUNT, 3), snowflake(OLD_ACCOUNT, 4)
    async with running(ReportsBot(runtime, guild.id), fake.token) as bot:
        channel = bot.get_channel(cid)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("X may be down", view=report_view("x", translations("en")))
        button, works = fake.message(sent.id)["components"][0]["components"]
        assert (button["custom_id"], button["label"]) == ("report:x", "Down for me too")
        assert (works["custom_id"], works["label"]) == ("works:x", "Works for me")
        inter = await fake.click(sent.id, "report:x", user_id=first)
        original = await ephemeral_reply(inter)
        assert original["flags"] & EPHEMERAL and original["content"].startswith("Thanks! Your report about X (Twitter) was counted.")

    # a new process: nothing re-registers the message's view, the dynamic button still answers
    restarted = SimpleNamespace(crowd=CrowdService(load_catalog()), monitor=None)
    async with running(ReportsBot(restarted, guild.id), fake.token):
        inter = await fake.click(sent.id, "report:x", user_id=second)
        content = (await ephemeral_reply(inter))["content"]
        assert content.startswith("Thanks! Your report about X (Twitter) was counted.\n2 reports in the last 30 minutes")
        repeat = await fake.click(sent.id, "report:x", user_id=first)
        assert "not counted again" in (await ephemeral_reply(repeat))["content"]

    rows = await CrowdReport.all().order_by("id")
    assert [(r.problem, r.counted) for r in rows] == [("other", True), ("other", True), ("other", False)]
    hashes = {restarted.crowd.user_hash(first), restarted.crowd.user_hash(second)}
    assert {r.user_hash for r in rows} == hashes  # the same salt after the restart


async def test_a_button_for_a_service_that_left_the_catalog_explains_itself(
    fake: FakeDiscord, guild: FakeGuild, bot: ReportsBot
) -> None:
    from bot.discord.cogs.reports import report_view

    channel = bot.get_channel(guild.channel_by_name("general"))
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("old answer", view=report_view("myspace", translations("en")))
    inter = await fake.click(sent.id, "report:myspace", user_id=snowflake(OLD_ACCOUNT, 5))
    original = await ephemeral_reply(inter)
    assert original["content"] == "We don't know a service called myspace. Pick one from the suggestions."
    assert await CrowdReport.all().count() == 0


async def test_works_for_me_is_counted_once_per_user_and_weighs_against_the_crowd(
    db: TestDB, fake: FakeDiscord, guild: FakeGuild, runtime: SimpleNamespace
) -> None:
    """"Works for me" beside "down for me too" (issue 17 item 5): a click is noted once per
    user and window, survives a restart, and shows in the crowd signal."""
    from bot.db.models import WorksReport
    from bot.discord.cogs.reports import report_view

    cid = guild.channel_by_name("general")
    users = [snowflake(OLD_ACCOUNT, 10 + n) for n in range(3)]
    async with running(ReportsBot(runtime, guild.id), fake.token) as bot:
        channel = bot.get_channel(cid)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("X may be down", view=report_view("x", translations("ar")))
        works = fake.message(sent.id)["components"][0]["components"][1]
        assert works["label"] == translations("ar").gettext("Works for me")
        reply = await ephemeral_reply(await fake.click(sent.id, "works:x", user_id=users[0]))
        assert reply["flags"] & EPHEMERAL and reply["content"].startswith("Thanks: noted that X (Twitter) works for you.")
        again = await ephemeral_reply(await fake.click(sent.id, "works:x", user_id=users[0]))
        assert again["content"].startswith("You already said X (Twitter) works for you")
    restarted = SimpleNamespace(crowd=CrowdService(load_catalog()), monitor=None)
    async with running(ReportsBot(restarted, guild.id), fake.token):
        for user_id in users:
            await ephemeral_reply(await fake.click(sent.id, "works:x", user_id=user_id))
    assert await WorksReport.filter(service_id="x").count() == 3  # the repeat after the restart was not stored again
    signal = await restarted.crowd.signal("x")
    assert signal is not None and signal.works == 3
