"""The one error path of the slash commands, and the one way commands answer.

* ``UserFacingError`` (a user's mistake: a gettext msgid and its values) → an ephemeral
  message in the guild's language.
* Anything unexpected → logged with the interaction's context (command, guild, channel, user,
  options) and a generic localized reply. Never silence: a user who typed a command always
  gets an answer, even when the answer is "something went wrong".
* ``answer`` picks ``response.send_message`` / ``edit_original_response`` (after a defer) /
  ``followup.send`` by ``interaction.response.is_done()`` (BallsDex's pattern), and never pings.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Sequence

import discord
from discord import app_commands

from bot.discord import embeds as discord_render
from bot.ops import metrics
from bot.i18n import Translator, is_rtl, orient, translations
from bot.notify.render import RenderedMessage
from bot.services import replies
from bot.services.errors import UserError
from bot.i18n import in_arabic_script

log = logging.getLogger(__name__)

TranslatorFor = Callable[[discord.Interaction, "str | None"], Awaitable[Translator]]
ANSWERED = "outage_bot.answered"  # interaction.extras key: the deferred original was replaced


class UserFacingError(app_commands.AppCommandError, UserError):
    """A user's mistake, raised anywhere in a command (or a check) and answered ephemerally in
    the guild's language: ``UserFacingError(N_("... {name} ..."), name=value)``."""

    def __init__(self, msgid: str | tuple[str, str], **kwargs: Any) -> None:
        UserError.__init__(self, msgid, **kwargs)


class BoundedText(app_commands.Transformer):
    """A string option whose length the bot enforces itself: Discord is told the range (so its
    client stops the user typing more), and a value that arrives longer anyway — a client that
    ignores the range, a changed limit — is refused with a localized error before the command
    runs, logs it, or looks it up. Use as ``app_commands.Transform[str, BoundedText(200)]``."""

    def __init__(self, max_length: int, min_length: int = 1) -> None:
        self.max_length = max_length
        self.min_length = min_length

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def min_value(self) -> int:
        return self.min_length

    @property
    def max_value(self) -> int:
        return self.max_length

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> str:
        text = value if isinstance(value, str) else str(value)
        if len(text) > self.max_length:
            lang = "ar" if in_arabic_script(text[: self.max_length]) else None
            raise UserFacingError(replies.ERR_TOO_LONG, n=self.max_length, _lang=lang)
        return text


async def english(_interaction: discord.Interaction, lang: str | None = None) -> Translator:
    return translations(lang or "en")


class OutageTree(app_commands.CommandTree):
    """The command tree: every command error lands in ``on_error``."""

    def __init__(self, client: discord.Client, *, translator_for: TranslatorFor | None = None, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        #: the guild's translator for an interaction (``OutageBot`` sets it; English otherwise)
        self.translator_for: TranslatorFor = translator_for or english

    async def _call(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        """Time every slash command into the command latency histogram (also when it fails)."""
        data: dict[str, Any] = dict(interaction.data or {})
        name = str(data.get("name", "unknown"))
        with metrics.time_command(name):
            await super()._call(interaction)

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:  # type: ignore[override]
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        if isinstance(original, UserError):
            msgid, kwargs, lang = original.msgid, original.kwargs, original.lang
        elif isinstance(original, app_commands.TransformerError) and original.type is discord.AppCommandOptionType.channel:
            msgid, kwargs, lang = replies.ERR_BAD_CHANNEL, {}, None  # e.g. a channel the bot cannot see
        elif isinstance(original, app_commands.NoPrivateMessage):
            msgid, kwargs, lang = replies.ERR_GUILD_ONLY, {}, None
        elif isinstance(original, app_commands.MissingPermissions):
            msgid, kwargs, lang = replies.ERR_MANAGE_GUILD, {}, None
        elif isinstance(original, app_commands.CheckFailure):
            msgid, kwargs, lang = replies.ERR_CHECK_FAILED, {}, None
        else:
            log.error(
                "command %s failed: guild=%s channel=%s user=%s options=%r",
                _command_name(interaction),
                interaction.guild_id,
                interaction.channel_id,
                interaction.user.id if interaction.user else None,
                options_of(interaction),
                exc_info=original,
            )
            msgid, kwargs, lang = replies.GENERIC_ERROR, {}, None
        t = await self._translator(interaction, lang)
        try:
            await answer(interaction, t.message(msgid, **kwargs), lang=t.lang, ephemeral=True)
        except discord.HTTPException as exc:  # the interaction expired or was answered elsewhere
            log.warning("could not send the error reply for %s: %s", _command_name(interaction), exc)

    async def _translator(self, interaction: discord.Interaction, lang: str | None) -> Translator:
        try:
            return await self.translator_for(interaction, lang)
        except Exception:  # noqa: BLE001 - the database may be what failed; still answer
            log.exception("could not read the guild's language; answering in English")
            return translations(lang or "en")


def _command_name(interaction: discord.Interaction) -> str:
    command = interaction.command
    if command is not None:
        return f"/{command.qualified_name}"
    data: dict[str, Any] = dict(interaction.data or {})
    return f"/{data.get('name', '?')}"


def options_of(interaction: discord.Interaction) -> dict[str, Any]:
    """The options the user gave (ids for channels and roles), for logs."""
    out: dict[str, Any] = {}
    try:
        items = dict(interaction.namespace)
    except Exception:  # noqa: BLE001 - best effort, this is for a log line
        items = {}
    for name, value in items.items():
        out[name] = value.id if hasattr(value, "id") else value
    return out


# --- answering -------------------------------------------------------------------------------


def send_kwargs(content: str | None = None, messages: Sequence[RenderedMessage] = (), *, lang: str | None = None) -> dict[str, Any]:
    """Keyword arguments for send/edit: the text laid out for its language's direction
    (``lang`` is required with ``content``; embeds orient themselves), the embeds
    (``bot.discord.embeds``), and no pings at all (a command reply never mentions anyone)."""
    kwargs: dict[str, Any] = {"allowed_mentions": discord_render.allowed_mentions(None)}
    if content is not None:
        if lang is None:
            raise TypeError("a text reply needs its language (lang=t.lang) to be laid out right")
        kwargs["content"] = orient(content, is_rtl(lang))
    if messages:
        kwargs["embeds"] = discord_render.embeds(messages)
    return kwargs


async def answer(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    messages: Sequence[RenderedMessage] = (),
    lang: str | None = None,
    ephemeral: bool = False,
    view: discord.ui.View | None = None,
) -> None:
    """Answer an interaction whatever state it is in: the first answer, the answer that
    replaces a "thinking…" defer, or a follow-up. ``content`` is a finished reply in ``lang``."""
    kwargs = send_kwargs(content, messages, lang=lang)
    if view is not None:
        kwargs["view"] = view
    response = interaction.response
    if not response.is_done():
        await response.send_message(ephemeral=ephemeral, **kwargs)
    elif response.type is discord.InteractionResponseType.deferred_channel_message and not interaction.extras.get(ANSWERED):
        interaction.extras[ANSWERED] = True
        if "embeds" not in kwargs:
            kwargs["embeds"] = []
        if "content" not in kwargs:
            kwargs["content"] = None
        await interaction.edit_original_response(**kwargs)
    else:
        await interaction.followup.send(ephemeral=ephemeral, **kwargs)


# --- checks (raised inside commands so they share the error path) -----------------------------


def require_guild(interaction: discord.Interaction) -> discord.Guild:
    guild = interaction.guild
    if guild is None or interaction.guild_id is None:
        raise UserFacingError(replies.ERR_GUILD_ONLY)
    return guild


def require_manage_guild(interaction: discord.Interaction) -> discord.Guild:
    """The bot's own check (an admin may lift ``default_permissions`` for anyone)."""
    guild = require_guild(interaction)
    if not interaction.permissions.manage_guild:
        raise UserFacingError(replies.ERR_MANAGE_GUILD)
    return guild
