"""``/settings [language] [timezone] [digits] [country]`` (thin: ``bot.services.guilds`` validates and
stores). Without options it shows the current settings. Needs Manage Server, checked by
Discord and again by the bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs import ui
from bot.i18n import DIGITS, LOCALES
from bot.notify.render import CHOICE_NAMES, COMMAND_DESCRIPTIONS, OPTION_DESCRIPTIONS
from bot.services import replies
from bot.services.guilds import suggest_countries, suggest_timezones
from bot.discord.tree import BoundedText, answer, require_manage_guild

if TYPE_CHECKING:
    from bot.discord.client import OutageBot, Runtime

LANGUAGE_CHOICES = [app_commands.Choice(name=ui(CHOICE_NAMES["language"], v), value=v) for v in LOCALES]
#: the longest time zone name we accept (the longest IANA name is 30 characters)
TIMEZONE_MAX = 64
DIGIT_CHOICES = [app_commands.Choice(name=ui(CHOICE_NAMES["digits"], v), value=v) for v in DIGITS]


class SettingsCog(commands.Cog):
    """How this server's alerts and answers are written."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime

    @app_commands.command(name="settings", description=ui(COMMAND_DESCRIPTIONS, "settings"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        language=ui(OPTION_DESCRIPTIONS, "language"),
        timezone=ui(OPTION_DESCRIPTIONS, "timezone"),
        digits=ui(OPTION_DESCRIPTIONS, "digits"),
        country=ui(OPTION_DESCRIPTIONS, "country"),
    )
    @app_commands.choices(language=LANGUAGE_CHOICES, digits=DIGIT_CHOICES)
    async def settings(
        self,
        interaction: discord.Interaction,
        language: app_commands.Choice[str] | None = None,
        timezone: app_commands.Transform[str, BoundedText(TIMEZONE_MAX)] | None = None,
        digits: app_commands.Choice[str] | None = None,
        country: app_commands.Transform[str, BoundedText(TIMEZONE_MAX)] | None = None,
    ) -> None:
        guild = require_manage_guild(interaction)
        guilds = self.runtime.guilds
        changing = language is not None or timezone is not None or digits is not None or country is not None
        if changing:
            prefs = await guilds.update(
                guild.id,
                language=language.value if language else None,
                timezone=timezone,
                digits=digits.value if digits else None,
                country=country,
            )
        else:
            prefs = await guilds.get(guild.id)
        # answered in the (new) language of the guild
        t = prefs.translator()
        await answer(interaction, replies.settings_summary(t, prefs, changed=changing), lang=t.lang, ephemeral=True)

    @settings.autocomplete("country")
    async def _country(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        prefs = await self.runtime.guilds.get(interaction.guild_id)
        return [app_commands.Choice(name=label, value=code) for code, label in suggest_countries(current, prefs.language)]

    @settings.autocomplete("timezone")
    async def _timezone(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=zone, value=zone) for zone in suggest_timezones(current[:TIMEZONE_MAX])]


async def setup(bot: "OutageBot") -> None:
    await bot.add_cog(SettingsCog(bot.runtime))
