"""Turn rendered messages (plain data from ``bot.notify.render``) into discord.py arguments.

Why one place: every message the bot posts — alerts, recovery notices, command replies — must
carry an ``allowed_mentions`` that admits at most the subscription's own role. Outside text is
already neutralised by ``bot.notify.text``; ``allowed_mentions`` is the second lock, so even a
mention that slipped through pings no one. Use::

    await channel.send(**to_send_kwargs(messages, role_id=sub.role_id), nonce=...)
    await message.edit(**to_edit_kwargs(messages))
    await interaction.response.send_message(**to_send_kwargs([msg], role_id=None))
"""

from __future__ import annotations

from typing import Any, Sequence

import discord

from bot.notify.render import RenderedMessage

#: Discord accepts at most 10 embeds in one message
MAX_EMBEDS = 10


def allowed_mentions(role_id: int | None) -> discord.AllowedMentions:
    """Only ``role_id`` may be pinged (nobody when None): never @everyone, @here, users or replies."""
    roles: list[discord.abc.Snowflake] | bool = [discord.Object(id=role_id)] if role_id else False
    return discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)


def embeds(messages: Sequence[RenderedMessage]) -> list[discord.Embed]:
    """One embed per rendered message (``both``: Arabic first, as ``render_for`` orders them)."""
    if not messages:
        raise ValueError("nothing to send: no rendered message")
    if len(messages) > MAX_EMBEDS:
        raise ValueError(f"a Discord message holds at most {MAX_EMBEDS} embeds, got {len(messages)}")
    return [discord.Embed.from_dict(m.to_embed_dict()) for m in messages]


def to_send_kwargs(messages: Sequence[RenderedMessage], *, role_id: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``Messageable.send`` / ``InteractionResponse.send_message``.

    With a role the content is just its mention (the embeds cannot ping); without one there is
    no content at all.
    """
    return {
        "content": f"<@&{int(role_id)}>" if role_id else None,
        "embeds": embeds(messages),
        "allowed_mentions": allowed_mentions(role_id),
    }


def to_edit_kwargs(messages: Sequence[RenderedMessage], *, role_id: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``Message.edit``: new embeds, content left as it was (Discord never
    pings on an edit); ``role_id`` keeps the role's mention highlighted, nothing else."""
    return {"embeds": embeds(messages), "allowed_mentions": allowed_mentions(role_id)}
