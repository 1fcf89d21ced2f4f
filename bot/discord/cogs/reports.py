"""``/report service [problem]`` and the "down for me too" button: crowd reports from users.

Thin: resolve what was typed, ``CrowdService.report`` (record + counts), answer ephemerally in
the guild's language with ``report_reply``. The button is a ``DynamicItem`` matched on its
``custom_id`` (``report:<service_id>``), so a button posted before a restart still works: no
view has to be re-registered per message. Anyone building the ``/isitdown`` answer adds it
with ``report_button(service_id, t)``.

A counted report nudges the monitor (``runtime.monitor.refresh``, at most every
``REFRESH_EVERY`` per service, ``RefreshThrottle``) so a crowd spike shows in the verdict without waiting for the
next probe. Purging and relearning baselines is ``CrowdService.run_upkeep``, a background task
of ``bot.discord.client.run_bot``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs import service_choices, ui
from bot.services.crowd import CrowdService
from bot.detect.crowd import PROBLEMS
from bot.i18n import Translator, translations
from bot.notify.render import CHOICE_NAMES, COMMAND_DESCRIPTIONS, DOWN_FOR_ME_TOO, OPTION_DESCRIPTIONS, WORKS_FOR_ME
from bot.services import replies
from bot.services.errors import UserError
from bot.services.guilds import GuildService
from bot.i18n import in_arabic_script
from bot.discord.tree import BoundedText, answer
from bot.runtime.monitor import RefreshThrottle

log = logging.getLogger(__name__)

CUSTOM_ID_PREFIX = "report:"
WORKS_PREFIX = "works:"
COG_NAME = "Reports"


class ReportButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"report:(?P<service_id>[a-z0-9][a-z0-9-]{0,62})",
):
    """The "down for me too" button under an ``/isitdown`` answer (persistent across restarts)."""

    def __init__(self, service_id: str, label: str = DOWN_FOR_ME_TOO) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.danger,
                label=label[:80],
                custom_id=f"{CUSTOM_ID_PREFIX}{service_id}",
            )
        )
        self.service_id = service_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> "ReportButton":
        label = getattr(item, "label", None) or DOWN_FOR_ME_TOO
        return cls(match["service_id"], label)

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        # looked up by name, not class: a reloaded extension (or a view built before the
        # extension was loaded) holds another copy of this module's classes
        get_cog = getattr(interaction.client, "get_cog", None)
        click = getattr(get_cog(COG_NAME) if get_cog else None, "click", None)
        if click is None:
            log.error("report button clicked but the reports cog is not loaded")
            return
        await click(interaction, self.service_id)


class WorksButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"works:(?P<service_id>[a-z0-9][a-z0-9-]{0,62})",
):
    """The "works for me" button beside "down for me too" (persistent across restarts)."""

    def __init__(self, service_id: str, label: str = WORKS_FOR_ME) -> None:
        super().__init__(
            discord.ui.Button(style=discord.ButtonStyle.success, label=label[:80], custom_id=f"{WORKS_PREFIX}{service_id}")
        )
        self.service_id = service_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> "WorksButton":
        return cls(match["service_id"], getattr(item, "label", None) or WORKS_FOR_ME)

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        get_cog = getattr(interaction.client, "get_cog", None)
        works = getattr(get_cog(COG_NAME) if get_cog else None, "works", None)
        if works is None:
            log.error("works-for-me button clicked but the reports cog is not loaded")
            return
        await works(interaction, self.service_id)


def report_button(service_id: str, t: Translator) -> ReportButton:
    """The localized button for ``service_id`` (add it to any view)."""
    return ReportButton(service_id, t.gettext(DOWN_FOR_ME_TOO))


def report_view(service_id: str, t: Translator) -> discord.ui.View:
    """"Down for me too" and "Works for me" (no timeout: the buttons are dynamic)."""
    view = discord.ui.View(timeout=None)
    view.add_item(report_button(service_id, t))
    view.add_item(WorksButton(service_id, t.gettext(WORKS_FOR_ME)))
    return view


PROBLEM_CHOICES = [app_commands.Choice(name=ui(CHOICE_NAMES["problem"], key), value=key) for key in PROBLEMS]


class Reports(commands.Cog, name=COG_NAME):
    """Crowd reports: the ``/report`` command and the report button."""

    def __init__(
        self,
        bot: commands.Bot,
        crowd: CrowdService,
        *,
        guilds: GuildService | None = None,
        monitor: Any = None,
    ) -> None:
        self.bot = bot
        self.crowd = crowd
        self.guilds = guilds or GuildService()
        self.monitor = monitor
        self._refresh = RefreshThrottle()
        self._tasks: set[asyncio.Task[None]] = set()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ReportButton, WorksButton)
        await self.crowd.start()

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ReportButton, WorksButton)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- /report ----------------------------------------------------------------------------

    @app_commands.command(name="report", description=ui(COMMAND_DESCRIPTIONS, "report"))
    @app_commands.describe(
        service=ui(OPTION_DESCRIPTIONS, "service"),
        problem=ui(OPTION_DESCRIPTIONS, "problem"),
    )
    @app_commands.choices(problem=PROBLEM_CHOICES)
    @app_commands.guild_only()
    async def report(
        self,
        interaction: discord.Interaction,
        service: app_commands.Transform[str, BoundedText(100)],
        problem: app_commands.Choice[str] | None = None,
    ) -> None:
        """Record the user's report and tell them where the count stands."""
        found = self.crowd.resolve(service)  # UserError → the tree's error path
        lang = "ar" if in_arabic_script(service) else None
        await self._record(interaction, found.id, problem.value if problem else "other", lang)

    @report.autocomplete("service")
    async def report_service(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """Names and aliases in both scripts; the matched label is the value (DESIGN.md)."""
        return service_choices(self.crowd.catalog, current)

    # --- the button -------------------------------------------------------------------------

    async def click(self, interaction: discord.Interaction, service_id: str) -> None:
        """A click on ``report:<service_id>``: the same as ``/report`` without a problem."""
        try:
            await self._record(interaction, service_id, "other", None)
        except UserError as exc:
            await self._answer_error(interaction, exc.msgid, exc.kwargs, exc.lang)
        except Exception:  # noqa: BLE001 - a click always gets an answer
            log.exception("report button %s failed: guild=%s user=%s", service_id, interaction.guild_id, interaction.user.id)
            await self._answer_error(interaction, replies.GENERIC_ERROR, {}, None)

    async def works(self, interaction: discord.Interaction, service_id: str) -> None:
        """A click on ``works:<service_id>``: noted once per user per crowd window; it weighs
        against a crowd-only alert (``bot.detect.crowd.weigh_works``)."""
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            now = self.crowd.clock()
            counted = await self.crowd.works_for_me(service_id, interaction.guild_id, interaction.user.id, now)
            t = await self._translator(interaction, None)
            service = self.crowd.catalog.get(service_id)
            name = service.display_name(t.lang) if service is not None else service_id
            await answer(interaction, replies.works_reply(t, name, counted), lang=t.lang, ephemeral=True)
            if counted:
                self._nudge_monitor(service_id, now)
        except UserError as exc:
            await self._answer_error(interaction, exc.msgid, exc.kwargs, exc.lang)
        except Exception:  # noqa: BLE001 - a click always gets an answer
            log.exception("works button %s failed: guild=%s user=%s", service_id, interaction.guild_id, interaction.user.id)
            await self._answer_error(interaction, replies.GENERIC_ERROR, {}, None)

    # --- shared -----------------------------------------------------------------------------

    async def _record(self, interaction: discord.Interaction, service_id: str, problem: str, lang: str | None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.crowd.clock()
        prefs = await self.guilds.get(interaction.guild_id)
        result, counts = await self.crowd.report(
            service_id, interaction.guild_id, interaction.user.id, problem, now, country=prefs.country
        )
        t = await self._translator(interaction, lang)
        service = self.crowd.catalog.get(service_id)
        name = service.display_name(t.lang) if service is not None else service_id
        await answer(interaction, replies.report_reply(t, name, result, counts, self.crowd.config.rate_window), lang=t.lang, ephemeral=True)
        if result.counted:
            self._nudge_monitor(service_id, now)

    async def _translator(self, interaction: discord.Interaction, lang: str | None) -> Translator:
        prefs = await self.guilds.get(interaction.guild_id)
        return prefs.translator(lang)

    async def _answer_error(self, interaction: discord.Interaction, msgid: str | tuple[str, str], kwargs: dict[str, Any], lang: str | None) -> None:
        try:
            t = await self._translator(interaction, lang)
        except Exception:  # noqa: BLE001 - the database may be what failed
            t = translations(lang or "en")
        try:
            await answer(interaction, t.message(msgid, **kwargs), lang=t.lang, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not answer a report click: %s", exc)

    def _nudge_monitor(self, service_id: str, now: datetime) -> None:
        """Let the monitor re-fuse with the new crowd count (throttled per service)."""
        refresh = getattr(self.monitor, "refresh", None)
        if refresh is None:
            return
        if not self._refresh.due(service_id, now):
            return

        async def run() -> None:
            try:
                await refresh(service_id, now)
            except Exception:  # noqa: BLE001 - detection goes on at the next poll
                log.exception("monitor refresh after a report on %s failed", service_id)

        task = asyncio.create_task(run(), name=f"crowd-refresh-{service_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: needs ``bot.runtime.crowd`` (a ``CrowdService``); uses
    ``bot.runtime.guilds`` and ``bot.runtime.monitor`` when present."""
    runtime = getattr(bot, "runtime", None)
    crowd = getattr(runtime, "crowd", None)
    if not isinstance(crowd, CrowdService):
        raise RuntimeError("bot.discord.cogs.reports needs bot.runtime.crowd (a CrowdService)")
    await bot.add_cog(
        Reports(
            bot,
            crowd,
            guilds=getattr(runtime, "guilds", None),
            monitor=getattr(runtime, "monitor", None),
        )
    )
