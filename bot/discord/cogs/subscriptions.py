"""``/subscribe``, ``/unsubscribe``, ``/subscriptions`` (thin: ``bot.services.subscriptions``
does the work). Changing subscriptions needs Manage Server, checked twice: by Discord through
``default_permissions`` and by the bot from the interaction's own permissions, because a server
admin can open any command to anyone in the integration settings."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs import CHOICE_MAX, service_choices, ui
from bot.discord.follow import HubUnavailable, follow_hub, unfollow, webhook_alive
from bot.i18n import N_, Text
from bot.notify.render import CHOICE_NAMES, COMMAND_DESCRIPTIONS, OPTION_DESCRIPTIONS, ServiceNames
from bot.services import replies
from bot.services.custom import Unreadable
from bot.services.status import names_of
from bot.services.errors import UserError
from bot.services.subscriptions import DELIVERIES, DIRECT, ERR_FOLLOW_ROLE, FOLLOW, LANGUAGES, SEVERITIES, NoHubError
from bot.discord.tree import BoundedText, UserFacingError, answer, require_guild, require_manage_guild

if TYPE_CHECKING:
    from bot.discord.client import OutageBot, Runtime

log = logging.getLogger(__name__)

ERR_EVERYONE_ROLE = N_("Pick a role other than {everyone}: alerts never mention everyone.")

LANGUAGE_CHOICES = [app_commands.Choice(name=ui(CHOICE_NAMES["language"], v), value=v) for v in LANGUAGES]
SEVERITY_CHOICES = [app_commands.Choice(name=ui(CHOICE_NAMES["min_severity"], v), value=v) for v in SEVERITIES]
DELIVERY_CHOICES = [app_commands.Choice(name=ui(CHOICE_NAMES["delivery"], v), value=v) for v in DELIVERIES]
#: what a channel must allow the bot for an alert to arrive
NEEDED = ("view_channel", "send_messages", "embed_links")
#: what a channel must allow the bot to follow a hub there (Discord's follower webhook)
NEEDED_TO_FOLLOW = ("manage_webhooks",)


def missing_permissions(
    interaction: discord.Interaction, channel: discord.abc.GuildChannel, needed: Sequence[str] = NEEDED
) -> list[str]:
    """The permissions the bot lacks in ``channel``: Discord's own computation for the channel
    the command was typed in (``app_permissions``), the cached overwrites for another one."""
    if channel.id == interaction.channel_id:
        perms = interaction.app_permissions
    else:
        guild = channel.guild
        if guild.me is None:
            return []  # unknown: delivery disables the subscription if it cannot post
        perms = channel.permissions_for(guild.me)
    return [name for name in needed if not getattr(perms, name)]


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
        delivery=ui(OPTION_DESCRIPTIONS, "delivery"),
    )
    @app_commands.choices(language=LANGUAGE_CHOICES, min_severity=SEVERITY_CHOICES, delivery=DELIVERY_CHOICES)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        service: app_commands.Transform[str, BoundedText(300)],
        channel: discord.TextChannel | None = None,
        language: app_commands.Choice[str] | None = None,
        role: discord.Role | None = None,
        min_severity: app_commands.Choice[str] | None = None,
        component: app_commands.Transform[str, BoundedText(100)] | None = None,
        delivery: app_commands.Choice[str] | None = None,
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
        if (delivery.value if delivery else DIRECT) == FOLLOW:
            language_value = language.value if language else prefs.language
            severity = min_severity.value if min_severity else SEVERITIES[0]
            await self._follow(interaction, guild, target, service, language_value, role, severity)
            return
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
        if sub.replaced_webhook_id is not None:  # the channel followed a hub until now
            await unfollow(interaction.client, sub.replaced_webhook_id)
        await answer(interaction, replies.subscribed(t, sub, created=created, name_of=self._names), lang=t.lang, ephemeral=True)

    async def _follow(
        self,
        interaction: discord.Interaction,
        guild: discord.Guild,
        target: discord.abc.GuildChannel,
        service: str,
        language: str,
        role: discord.Role | None,
        min_severity: str,
    ) -> None:
        """``/subscribe … delivery:follow``: the channel follows the matching hub."""
        rt = self.runtime
        t = (await rt.guilds.get(guild.id)).translator()
        if role is not None:
            raise UserFacingError(ERR_FOLLOW_ROLE)
        try:
            service_id, hub = rt.subscriptions.hub_for(service, language=language, min_severity=min_severity)
        except NoHubError as exc:
            await answer(interaction, replies.no_hub(t, exc, name_of=self._names), lang=t.lang, ephemeral=True)
            return
        if not isinstance(target, discord.TextChannel) or target.is_news():
            raise UserFacingError(replies.ERR_BAD_CHANNEL)
        if missing_permissions(interaction, target, NEEDED_TO_FOLLOW):
            await answer(interaction, replies.follow_needs_webhooks(t, target.id), lang=t.lang, ephemeral=True)
            return
        # following takes a few of Discord's requests: say "thinking…" within the 3 s window
        await interaction.response.defer(ephemeral=True, thinking=True)
        existing = await rt.subscriptions.current(target.id, service_id)
        client = interaction.client
        if (
            existing is not None and existing.delivery == FOLLOW and existing.hub_channel_id == hub.channel_id
            and existing.webhook_id is not None and await webhook_alive(client, existing.webhook_id)
        ):
            webhook_id = existing.webhook_id  # following it already: a second follow would double every alert
        else:
            try:
                webhook_id = await follow_hub(client, hub.channel_id, target)
            except discord.Forbidden:  # Discord's own check of Manage Webhooks in the channel
                await answer(interaction, replies.follow_needs_webhooks(t, target.id), lang=t.lang, ephemeral=True)
                return
            except (HubUnavailable, discord.HTTPException) as exc:
                log.error("following hub %s (%s) into channel %s failed: %s", hub.channel_id, hub.key, target.id, exc)
                raise UserFacingError(replies.ERR_FOLLOW_FAILED) from exc
        try:
            sub, created = await rt.subscriptions.subscribe(
                guild.id, target.id, service_id, language=language, min_severity=min_severity,
                created_by=interaction.user.id, follow=(hub, webhook_id),
            )
        except UserError:
            if existing is None or existing.webhook_id != webhook_id:
                await unfollow(client, webhook_id)  # not recorded: leave nothing behind
            raise
        if sub.replaced_webhook_id is not None:
            await unfollow(client, sub.replaced_webhook_id)
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
        removed = await rt.subscriptions.remove(guild.id, channel_id, service, release=False)
        removed_ids = [sub.service_id for sub in removed]
        try:  # named while a typed page is still known, then let go of it if nothing else uses it
            text = replies.unsubscribed(t, channel_id, removed_ids, name_of=self._names)
        finally:
            await rt.subscriptions.release(removed_ids)
        left = [sub.webhook_id for sub in removed if sub.webhook_id is not None]
        if left:  # deleting follower webhooks takes Discord's requests: "thinking…" first
            await interaction.response.defer(ephemeral=True, thinking=True)
        for webhook_id in left:
            if not await unfollow(interaction.client, webhook_id):
                text = Text(f"{text}\n{replies.webhook_left(t, channel_id)}")
                break
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

