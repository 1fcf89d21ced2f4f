"""The command tree's one error path and the answer helper, with a minimal real client
(discord.py against the loopback fake) and commands made to fail in each way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator

import discord
import pytest
from discord import app_commands

from bot.discord.api_base import adopt_gateway_url, configure_api_base, reset_discord_endpoints
from bot.i18n import N_, Translator, translations
from bot.services import replies
from bot.services.errors import UserError
from bot.discord.tree import OutageTree, UserFacingError, answer
from tests.fake_discord import FLAG_EPHEMERAL, FakeDiscord, FakeGuild

SAFETY_TIMEOUT = 10.0
NOT_ALLOWED = N_("You can't use this command here.")


class TreeClient(discord.AutoShardedClient):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = intents.presences = intents.message_content = False
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.tree = OutageTree(self, translator_for=self.translator_for)
        self.ready = asyncio.Event()
        self.language = "en"

    async def translator_for(self, interaction: discord.Interaction, lang: str | None = None) -> Translator:
        return translations(lang or self.language)

    async def setup_hook(self) -> None:
        await adopt_gateway_url(self.http)
        self._add_commands()
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    async def on_ready(self) -> None:
        self.ready.set()

    def _add_commands(self) -> None:
        async def refuse(interaction: discord.Interaction) -> bool:
            raise UserFacingError(NOT_ALLOWED)

        @self.tree.command(name="checked", description="a check that refuses")
        @app_commands.check(refuse)
        async def checked(interaction: discord.Interaction) -> None:
            await answer(interaction, "never", lang="en")

        @self.tree.command(name="mistake", description="a user error in the body")
        async def mistake(interaction: discord.Interaction, word: str) -> None:
            raise UserError(N_("We don't know a service called {query}. Pick one from the suggestions."), query=word, _lang="ar")

        @self.tree.command(name="slow", description="defers, then fails")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            raise KeyError("boom")

        @self.tree.command(name="twice", description="answers, then follows up")
        async def twice(interaction: discord.Interaction) -> None:
            await answer(interaction, "first", lang="en")
            await answer(interaction, "second", lang="en", ephemeral=True)


@pytest.fixture
async def world() -> AsyncIterator[tuple[FakeDiscord, FakeGuild, TreeClient]]:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("G", channels=("general",))
        configure_api_base(fake.api_base)
        client = TreeClient()
        task = asyncio.create_task(client.start(fake.token))
        try:
            async with asyncio.timeout(SAFETY_TIMEOUT):
                await client.ready.wait()
            yield fake, guild, client
        finally:
            await client.close()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, SAFETY_TIMEOUT)
            reset_discord_endpoints()


def flags(callback: dict[str, Any]) -> int:
    return int((callback.get("data") or {}).get("flags") or 0)


async def test_a_user_facing_error_from_a_check_is_an_ephemeral_localized_reply(world: Any) -> None:
    fake, guild, client = world
    client.language = "ar"
    inter = await fake.invoke_command(guild.id, guild.channel_by_name("general"), "checked")
    callback = await inter.wait_response()
    assert flags(callback) & FLAG_EPHEMERAL
    ar = translations("ar")
    assert callback["data"]["content"] == ar.orient(ar.gettext(NOT_ALLOWED)) != NOT_ALLOWED


async def test_a_user_error_in_the_body_answers_in_its_own_language(world: Any) -> None:
    fake, guild, _client = world
    inter = await fake.invoke_command(guild.id, guild.channel_by_name("general"), "mistake", {"word": "ماي سبيس"})
    content = (await inter.wait_response())["data"]["content"]
    assert "ماي سبيس" in content and content.startswith("\u200fلا نعرف")  # held right-to-left


async def test_an_unexpected_error_after_a_defer_replaces_the_thinking_message(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake, guild, _client = world
    with caplog.at_level(logging.ERROR, logger="bot.discord.tree"):
        inter = await fake.invoke_command(guild.id, guild.channel_by_name("general"), "slow")
        assert (await inter.wait_response())["type"] == 5
        original = await inter.wait_original(timeout=SAFETY_TIMEOUT)
    assert original["content"] == translations("en").gettext(replies.GENERIC_ERROR)
    assert inter.followups == []
    assert any("/slow failed" in r.getMessage() and "boom" in repr(r.exc_info[1]) for r in caplog.records)


async def test_answer_follows_up_once_the_response_is_done(world: Any) -> None:
    fake, guild, _client = world
    inter = await fake.invoke_command(guild.id, guild.channel_by_name("general"), "twice")
    assert (await inter.wait_response())["data"]["content"] == "first"
    [followup] = await inter.wait_followups(1)
    assert followup["content"] == "second" and followup["flags"] & FLAG_EPHEMERAL


def test_user_facing_error_is_both_kinds() -> None:
    err = UserFacingError(N_("Saved."), _lang="ar")
    assert isinstance(err, app_commands.AppCommandError) and isinstance(err, UserError)
    assert (err.msgid, err.kwargs, err.lang) == ("Saved.", {}, "ar")
