"""``/isitdown`` and ``/status`` (thin: ``bot.services.status`` decides, render words it)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs import service_choices, ui
from bot.discord.cogs.reports import report_view
from bot.discord.embeds import draw_charts, embeds, files_of
from bot.notify.render import COMMAND_DESCRIPTIONS, OPTION_DESCRIPTIONS, RenderedMessage, render_verdict
from bot.services.guilds import GuildPrefs
from bot.services import replies
from bot.services.status import Answer, describe
from bot.discord.tree import BoundedText, answer

if TYPE_CHECKING:
    from bot.discord.client import OutageBot, Runtime

log = logging.getLogger(__name__)


class StatusCog(commands.Cog):
    """Is it down? What is down?"""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime

    @app_commands.command(name="isitdown", description=ui(COMMAND_DESCRIPTIONS, "isitdown"))
    @app_commands.describe(service=ui(OPTION_DESCRIPTIONS, "service_or_url"))
    async def isitdown(self, interaction: discord.Interaction, service: app_commands.Transform[str, BoundedText(200)]) -> None:
        """A good answer is public, a refusal private. What can be refused without the network
        (a bad URL, a private address written out) is refused by ``target`` before anything is
        sent. A URL can still be refused after its name is looked up or it redirects, so its
        live check is deferred privately; a good answer then leaves a private note in the
        deferred message and is posted for everyone as a follow-up (Discord keeps a deferred
        reply's visibility, so the note must come first). A catalog service is never refused:
        its live check is deferred publicly."""
        rt = self.runtime
        target = rt.status.target(service)
        prefs = await rt.guilds.get(interaction.guild_id)
        t = prefs.translator(target.lang)
        result = await rt.status.current(target, rt.clock())
        refusable = target.service is None
        if result is None:
            await interaction.response.defer(thinking=True, ephemeral=refusable)
            result = await rt.status.live(target, rt.clock())
            if refusable:
                await answer(interaction, t.gettext(replies.ANSWER_POSTED), lang=t.lang, ephemeral=True)
        log.info("isitdown %r → %s", service, describe(result))
        # a national internet outage in the guild's country (IODA) is told first
        national = rt.status.national_outage(prefs.country, rt.clock())
        record = await rt.status.track_record(result.target, rt.clock())  # the official page's grade
        message = render_verdict(  # a read page names itself
            result.verdict, result.target.names, t=t, now=rt.clock(), crowd=result.crowd, national=national, record=record
        )
        # the "down for me too" button: a persistent item the reports cog handles by custom_id
        view = report_view(target.service.id, t) if target.service is not None else None
        await answer(interaction, messages=[message], view=view)
        await self._add_chart(interaction, result, message, prefs)

    async def _add_chart(self, interaction: discord.Interaction, result: Answer, message: RenderedMessage, prefs: GuildPrefs) -> None:
        """The answer first, then its report chart added to it (an edit within the interaction's
        15 minutes); without reports, or if drawing or the edit fails, the answer stands."""
        rt = self.runtime
        series = await rt.status.chart_series(result, rt.clock())
        if series is None:
            return
        shown, files = await draw_charts([message], series, result.target.names, tz=prefs.timezone, digits=prefs.digits, now=rt.clock())
        if not files:
            return
        try:
            await interaction.edit_original_response(embeds=embeds(shown), attachments=files_of(files))
        except discord.HTTPException as exc:
            log.warning("could not add the chart to /isitdown: %s", exc)

    @isitdown.autocomplete("service")
    async def _isitdown_service(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        own = await self.runtime.subscriptions.services_of(interaction.guild_id)
        return service_choices(self.runtime.catalog, current, own_pages=own)

    @app_commands.command(name="status", description=ui(COMMAND_DESCRIPTIONS, "status"))
    async def status(self, interaction: discord.Interaction) -> None:
        rt = self.runtime
        prefs = await rt.guilds.get(interaction.guild_id)
        message = replies.status_overview(prefs.translator(), rt.status.overview(), now=rt.clock())
        await answer(interaction, messages=[message])


async def setup(bot: "OutageBot") -> None:
    await bot.add_cog(StatusCog(bot.runtime))
