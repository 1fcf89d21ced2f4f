"""``/subscribe``, ``/unsubscribe``, ``/subscriptions`` (thin: ``bot.services.subscriptions``
does the work). Changing subscriptions needs Manage Server, checked twice: by Discord through
``default_permissions`` and by the bot from the interaction's own permissions, because a server
admin can open any command to anyone in the integration settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs import CHOICE_MAX, service_choices, ui
from bot.i18n import N_
from bot.notify.render import CHOICE_NAMES, COMMAND_DESCRIPTIONS, OPTION_DESCRIPTIONS, ServiceNames
from bot.services import replies
from bot.services.custom import Unreadable
from bot.services.status import names_of
from bot.services.subscriptions import LANGUAGES, SEVERITIES
from bot.discord.tree import BoundedText, UserFacingError, answer, require_guild, require_manage_guild

if TYPE_CHECKING:
    from bot.discord.client import OutageBot, Runtime

ERR_EVERYONE_ROLE = N_("Pick a role other than {everyone}: alerts never mention everyone.")

LANGUAGE_CHOICES = [app_commands.Choice(name=ui(CHOICE_NAMES["language"], v), value=v) for v in LANGUAGES]
SEVERITY_CHOICES = [app_commands.Choice(name=ui(CHOICE_NAMES["min_severity"], v), value=v) for v in SEVERITIES]
#: what a channel must allow the bot for an alert to arrive
NEEDED = ("view_channel", "send_messages", "embed_links")


def missing_permissions(interaction: discord.Interaction, channel: discord.abc.GuildChannel) -> list[str]:
    """The permissions the bot lacks in ``channel``: Discord's own computation for the channel
    the command was typed in (``app_permissions``), the cached overwrites for another one."""
    if channel.id == interaction.channel_id:
        perms = interaction.app_permissions
    else:
        guild = channel.guild
        if guild.me is None:
            return []  # unknown: delivery disables the subscription if it cannot post
        perms = channel.permissions_for(guild.me)
    return [name for name in NEEDED if not getattr(perms, name)]


class SubscriptionsCog(commands.Cog):
    """Which channels get which alerts."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime

    def _names(self, service_id: str) -> ServiceNames | None:
        service = self.runtime.catalog.get(service_id)
        return names_of(service) if service is not None else None

    @app_commands.command(name="subscribe", description=ui(COMMAND_DESCRIPTIONS, "subscribe"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        service=ui(OPTION_DESCRIPTIONS, "service_or_page"),
        channel=ui(OPTION_DESCRIPTIONS, "channel"),
        language=ui(OPTION_DESCRIPTIONS, "language"),
        role=ui(OPTION_DESCRIPTIONS, "role"),
        min_severity=ui(OPTION_DESCRIPTIONS, "min_severity"),
        component=ui(OPTION_DESCRIPTIONS, "component"),
    )
    @app_commands.choices(language=LANGUAGE_CHOICES, min_severity=SEVERITY_CHOICES)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        service: app_commands.Transform[str, BoundedText(300)],
        channel: discord.TextChannel | None = None,
        language: app_commands.Choice[str] | None = None,
        role: discord.Role | None = None,
        min_severity: app_commands.Choice[str] | None = None,
        component: app_commands.Transform[str, BoundedText(100)] | None = None,
    ) -> None:
        guild = require_manage_guild(interaction)
        rt = self.runtime
        prefs = await rt.guilds.get(guild.id)
        t = prefs.translator()
        target = channel or interaction.channel
        if not isinstance(target, discord.abc.GuildChannel) or not isinstance(target, discord.abc.Messageable):
            raise UserFacingError(replies.ERR_BAD_CHANNEL)
        if role is not None and role.is_default():
            raise UserFacingError(ERR_EVERYONE_ROLE, everyone="@everyone")
        missing = missing_permissions(interaction, target)
        if missing:
            await answer(interaction, replies.cannot_post(t, target.id, missing), lang=t.lang, ephemeral=True)
            return
        if rt.subscriptions.needs_lookup(service):  # a status page address: reading it takes a moment
            await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            sub, created = await rt.subscriptions.subscribe(
                guild.id,
                target.id,
                service,
                language=language.value if language else prefs.language,
                role_id=role.id if role else None,
                min_severity=min_severity.value if min_severity else SEVERITIES[0],
                created_by=interaction.user.id,
                component=component,
                now=rt.clock(),
            )
        except Unreadable as exc:
            await answer(interaction, replies.unreadable_page(t, exc.detection), lang=t.lang, ephemeral=True)
            return
        await answer(interaction, replies.subscribed(t, sub, created=created, name_of=self._names), lang=t.lang, ephemeral=True)

    @subscribe.autocomplete("service")
    async def _subscribe_service(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        own = await self.runtime.subscriptions.services_of(interaction.guild_id)
        return service_choices(self.runtime.catalog, current, with_all=True, own_pages=own)

    @subscribe.autocomplete("component")
    async def _subscribe_component(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """The components the chosen service's page publishes (its latest reading)."""
        typed = getattr(interaction.namespace, "service", None)
        names = self.runtime.subscriptions.component_choices(str(typed or ""), current)
        return [app_commands.Choice(name=n[:CHOICE_MAX], value=n[:CHOICE_MAX]) for n in names]

    @app_commands.command(name="unsubscribe", description=ui(COMMAND_DESCRIPTIONS, "unsubscribe"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        service=ui(OPTION_DESCRIPTIONS, "service_or_all"),
        channel=ui(OPTION_DESCRIPTIONS, "channel"),
    )
    async def unsubscribe(
        self,
        interaction: discord.Interaction,
        service: app_commands.Transform[str, BoundedText(100)],
        channel: discord.TextChannel | None = None,
    ) -> None:
        guild = require_manage_guild(interaction)
        rt = self.runtime
        t = (await rt.guilds.get(guild.id)).translator()
        channel_id = channel.id if channel is not None else interaction.channel_id
        assert channel_id is not None
        removed = await rt.subscriptions.unsubscribe(guild.id, channel_id, service, release=False)
        try:  # named while a typed page is still known, then let go of it if nothing else uses it
            text = replies.unsubscribed(t, channel_id, removed, name_of=self._names)
        finally:
            await rt.subscriptions.release(removed)
        await answer(interaction, text, lang=t.lang, ephemeral=True)

    @unsubscribe.autocomplete("service")
    async def _unsubscribe_service(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        own = await self.runtime.subscriptions.services_of(interaction.guild_id)
        return service_choices(self.runtime.catalog, current, with_all=True, own_pages=own)

    @app_commands.command(name="subscriptions", description=ui(COMMAND_DESCRIPTIONS, "subscriptions"))
    @app_commands.guild_only()
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        guild = require_guild(interaction)
        rt = self.runtime
        t = (await rt.guilds.get(guild.id)).translator()
        subs = await rt.subscriptions.list(guild.id)
        await answer(interaction, messages=[replies.subscription_list(t, subs, name_of=self._names)], ephemeral=True)


async def setup(bot: "OutageBot") -> None:
    await bot.add_cog(SubscriptionsCog(bot.runtime))

